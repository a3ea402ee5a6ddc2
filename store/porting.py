"""Rollout files in and out of a store: ``import_rollout`` and ``export_rollout``.

The part of the engine API (:class:`store.core.Store` inherits it) that reads and writes
whole rollouts: an import is planned once (:mod:`store.plan`), stored as a new thread or
appended to the stored one, and reported; an export gives back every stored line's bytes.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from .backend import Backend
from .clock import thread_key
from .plan import ImportPlan, compare, import_plan
from .state import facts
from .thread import ImportResult
from .write import Append, Appended, Command, Import, ThreadExists

__all__ = ["Porting"]


class Porting(Backend):
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
            try:
                state = await self._commit(Import(plan.state, plan.raw))
            except ThreadExists:
                if existing == "refuse":
                    raise
                if existing == "skip":
                    return ImportResult(thread_id=key, status="unchanged", source=plan.source)
            else:
                return ImportResult(thread_id=key, status="new", lines_added=len(plan.raw),
                                    last_seq=state.last_seq, source=plan.source)
        return await self._reimport(plan)

    async def _reimport(self, plan: ImportPlan) -> ImportResult:
        key = plan.state.id
        stored = await self._raw(key)
        result = ImportResult(thread_id=key, status="unchanged", last_seq=len(stored), source=plan.source)
        differs = compare(plan, stored)
        if differs is not None:
            return ImportResult(thread_id=key, status="diverged", last_seq=len(stored), source=plan.source,
                                detail=differs)
        if len(stored) == len(plan.raw):
            return result
        done: Appended = await self._commit(Append(
            key, plan.raw[len(stored):], facts(plan.lines[len(stored):]), expected_seq=len(stored),
            written_at=plan.state.updated_ms, archived_ok=True,
        ))
        return ImportResult(thread_id=key, status="appended", lines_added=done.written, last_seq=done.last_seq,
                            source=plan.source)

    async def export_rollout(self, thread_id: str) -> bytes:
        """The thread as rollout JSONL bytes (one ``\\n``-terminated line per seq).

        Raises:
            ThreadNotFound, CorruptLog.
        """
        self._check()
        return b"".join(line + b"\n" for line in await self._raw(thread_key(thread_id)))

