"""Rollout files in and out of a store: ``import_rollout`` and ``export_rollout``.

The part of the engine API (:class:`store.core.Store` inherits it) that reads and writes
whole rollouts: an import is planned once (:mod:`store.plan`), stored as a new thread or
appended to the stored one, and reported; an export gives back every stored line's bytes.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from rollout import events as ev
from rollout.reader import read_rollout

from .clock import thread_key
from .line import encode_checked
from .plan import ImportPlan, import_plan
from .segmented import Lineage, SegmentReads, continues_itself, joined_rollout, place, segment_id
from .state import facts
from .thread import ImportResult
from .write import Append, Appended, Command, Import, ThreadExists

__all__ = ["Porting"]


class Porting(SegmentReads):
    """``import_rollout``/``export_rollout``, over the core's checks and commits."""

    def _check(self) -> None:
        raise NotImplementedError  # provided by store.core.Store

    async def _commit(self, command: Command) -> Any:
        raise NotImplementedError  # provided by store.core.Store

    async def import_rollout(self, source: str | os.PathLike[str] | bytes) -> ImportResult:
        """Store a rollout (a path, bytes, or a ``.jsonl.zst``) as a thread, or bring a stored one up to date.

        Undecodable lines are skipped as Codex's reader skips them; every other line is kept
        byte for byte, so :meth:`export_rollout` gives them back. When the thread is already
        stored, the rollout's new lines are appended if the stored lines are a prefix of it;
        if they are not, nothing changes and the result says where they differ.

        Returns:
            What happened (``new``, ``appended``, ``unchanged`` or ``diverged``).

        Raises:
            InvalidInput: unreadable or empty source, no ``session_meta``, or an id that
                is not a UUID.
        """
        self._check()
        plan: ImportPlan = await self._compute(import_plan, source)
        return await self._import_plan(plan, existing="update")

    async def _import_plan(self, plan: ImportPlan, *, existing: Literal["update", "skip", "refuse"]) -> ImportResult:
        """Store a read rollout; a stored thread is brought up to date, left alone, or refused."""
        key = plan.state.id
        # A re-import is expected ("update"): look first rather than pack a thread only to refuse it.
        if existing != "update" or not await self._exists(key):
            segment = segment_id(plan.source) if continues_itself(plan.state) else None
            try:
                state = await self._commit(Import(plan.state, plan.raw, segment))
            except ThreadExists:
                if existing == "refuse":
                    raise
                if existing == "skip":
                    return ImportResult(thread_id=key, status="unchanged", source=plan.source)
            else:
                gap = (await self.lineage(key)).gap if state.segment_starts else None
                return ImportResult(thread_id=key, status="new", lines_added=len(plan.raw),
                                    last_seq=state.last_seq, source=plan.source, gap=gap)
        return await self._reimport(plan)

    async def _reimport(self, plan: ImportPlan) -> ImportResult:
        key = plan.state.id
        stored = await self._raw(key)
        where = place(plan, await self._state(key), stored)
        if where.action in ("unchanged", "diverged"):
            return ImportResult(thread_id=key, status=where.action, last_seq=len(stored), source=plan.source,
                                detail=where.detail)
        new_segment = segment_id(plan.source) if where.action == "segment" else None
        done: Appended = await self._commit(Append(
            key, plan.raw[where.first:], facts(plan.lines[where.first:]), expected_seq=len(stored),
            written_at=plan.state.updated_ms, archived_ok=True, new_segment=new_segment,
        ))
        return ImportResult(thread_id=key, status="appended", lines_added=done.written, last_seq=done.last_seq,
                            source=plan.source)

    async def import_tail(self, thread_id: str, data: bytes, *, expected_seq: int,
                          written_at: int | None = None) -> ImportResult:
        """Append the lines a rollout file gained since it was imported (``rollout sync``'s fast path).

        Args:
            thread_id: the thread the file holds.
            data: the file's bytes after the last line already stored (complete lines only).
            expected_seq: the thread's last seq when the file was last imported.
            written_at: the file's mtime (unix ms); None: now.

        Returns:
            ``appended`` (or ``unchanged`` for no decodable line).

        Raises:
            Conflict: the thread changed since (fall back to :meth:`import_rollout`).
            ThreadNotFound.
        """
        self._check()
        key = thread_key(thread_id)
        lines = [] if not data.strip() else await self._compute(_tail_lines, data)
        if not lines:
            return ImportResult(thread_id=key, status="unchanged", last_seq=expected_seq)
        raw = [encode_checked(line, index) for index, line in enumerate(lines)]
        done: Appended = await self._commit(Append(key, raw, facts(lines), expected_seq=expected_seq,
                                                   written_at=written_at, archived_ok=True))
        return ImportResult(thread_id=key, status="appended", lines_added=done.written, last_seq=done.last_seq)

    async def export_rollout(self, thread_id: str) -> bytes:
        """The thread as rollout JSONL bytes (one ``\\n``-terminated line per seq).

        A paginated thread stored in segments exports as one file of its resolved history
        (:func:`store.segmented.joined_rollout`): its own ``session_meta`` first, no
        ``history_base`` left, so the file reads alone.

        Raises:
            ThreadNotFound, CorruptLog.
        """
        self._check()
        key = thread_key(thread_id)
        if (await self._state(key)).segment_starts:
            lines = joined_rollout(await self._history(key))
            return b"".join(encode_checked(line, i) + b"\n" for i, line in enumerate(lines))
        return b"".join(line + b"\n" for line in await self._raw(key))

    async def lineage(self, thread_id: str) -> Lineage:
        """The segments a paginated thread's history is read from, and the gap before them if a base
        is missing (an empty lineage for a thread read straight from its own lines).

        Raises:
            ThreadNotFound, CorruptLog.
        """
        self._check()
        return (await self._history(thread_key(thread_id))).lineage


def _tail_lines(data: bytes) -> list[ev.Line]:
    """The decodable lines of a file's new tail (undecodable ones skipped, as Codex's reader does)."""
    return read_rollout(data).lines

