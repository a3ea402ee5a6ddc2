"""``Store``: the engine API, written once; backends supply a few primitives.

A store keeps threads as append-only logs of rollout lines numbered 1, 2, ... (the
*seq*). Nothing is ever rewritten: rollback appends a marker, names and the archive flag
live beside the log, a fork records lineage. Every method is a coroutine and raises only
:class:`rollout.errors.RolloutError` subclasses:

* ``ThreadNotFound`` for an unknown (or deleted) thread id;
* ``ThreadArchived`` when appending to, rolling back, forking or resuming an archived
  thread (reading it is fine);
* ``InvalidInput`` for bad arguments or lines, raised before anything is written;
* ``Conflict`` when ``expected_seq`` is not the thread's last seq;
* ``CorruptLog`` when stored data does not decode; ``StoreError`` otherwise (also for a
  store used before it was opened or after it was closed).

This class owns every rule: argument checks, the lines a store writes itself, the write
commands (:mod:`store.write`), fork points and import planning (:mod:`store.plan`),
listing (:mod:`store.listing`), thread metadata (:func:`store.state.thread_info`) and
the change feed (:mod:`store.feed`). A backend implements the primitives of
:class:`store.backend.Backend` (``_start``/``_stop``, ``_write`` one command atomically,
``_state``, ``_lines``, ``_raw``, ``_page``) and may override its derived reads.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Generator
from typing import Any, Generic, Literal, TypeVar

from rollout import events as ev
from rollout.errors import InvalidInput, StoreError, ThreadArchived
from rollout.reader import read_rollout

from .clock import new_thread_id, now_ms, thread_key
from .feed import Change, ChangeKind, Feed
from .line import (
    check_items_view,
    check_kept,
    check_name,
    check_seq,
    encode_all,
    encode_checked,
    rollback_line,
    start_line,
)
from .listing import encode_cursor, list_query, sort_ms
from .plan import ImportPlan, import_plan
from .search.projection import Searchable
from .segmented import Lineage, continues_itself, fork_copy, joined_rollout, place, segment_id
from .state import facts, initial_state, thread_info
from .thread import ImportResult, Page, ResumedThread, Thread, ThreadInfo
from .write import Append, Appended, Delete, Fork, Import, SetArchived, SetName, Start, ThreadExists

__all__ = ["Opening", "Store"]

S = TypeVar("S", bound="Store")
T = TypeVar("T")


class Opening(Generic[S]):
    """What ``Backend.open(...)`` returns: await it for a store to close yourself, or use it
    as ``async with`` to close the store on exit."""

    def __init__(self, store: S) -> None:
        self.store = store

    def __await__(self) -> Generator[Any, None, S]:
        return self._opened().__await__()

    async def _opened(self) -> S:
        await self.store._open()
        return self.store

    async def __aenter__(self) -> S:
        return await self._opened()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.store.close()


class Store(Searchable):
    """Async thread storage: start, append, read, resume, fork, rollback, list, archive, delete.

    Open a backend with ``async with Backend.open(...) as store`` or ``store = await
    Backend.open(...)`` (then ``await store.close()``).
    """

    def __init__(self) -> None:
        self._status = "new"
        self._feed = Feed()
        self._dirty: set[str] = set()
        self._projecting: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def _open(self) -> None:
        if self._status != "new":
            raise StoreError(f"{type(self).__name__} was already opened")
        try:
            await self._start()
        except BaseException:
            self._status = "closed"
            await self._stop()
            raise
        self._status = "open"

    async def __aenter__(self: S) -> S:
        self._check()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Finish pending writes and release every resource. Idempotent."""
        if self._status == "open":
            self._status = "closing"
            try:
                await self._finish_projection()
                await self._stop()
            finally:
                self._status = "closed"
        elif self._status == "new":
            self._status = "closed"

    def _check(self) -> None:
        if self._status in ("open", "closing"):
            return
        name = type(self).__name__
        if self._status == "new":
            raise StoreError(f"{name} is not open: use `await {name}.open(...)` or `async with {name}.open(...)`")
        raise StoreError(f"{name} is closed")

    def subscribe(self, callback: Callable[[Change], None]) -> Callable[[], None]:
        """Call ``callback(change)`` on the event loop after every committed write.

        Returns:
            A function that unsubscribes ``callback``.
        """
        return self._feed.subscribe(callback)

    def _emit(self, kind: ChangeKind, thread_id: str, last_seq: int | None, source_id: str | None = None) -> None:
        self._feed.emit(Change(kind=kind, thread_id=thread_id, last_seq=last_seq, source_id=source_id))

    # ------------------------------------------------------------------ writes

    async def start_thread(self, meta: ev.SessionMeta | ev.SessionMetaLine) -> ThreadInfo:
        """Create a thread whose first line (seq 1) is its ``session_meta``.

        Args:
            meta: the session metadata; an empty ``id`` gets a new UUIDv7, an empty
                ``timestamp`` the current time and a missing ``source`` ``"unknown"``.
                A complete decoded ``SessionMetaLine`` is stored byte for byte.

        Returns:
            The new thread's info (``last_seq == 1``).

        Raises:
            InvalidInput: ``meta`` is not session metadata, its id is not a UUID, or it is taken.
        """
        self._check()
        now = now_ms()
        line = start_line(meta, now)
        state = await self._write(Start(initial_state(line, [line], now), encode_checked(line, 0)))
        self._emit("started", state.id, state.last_seq)
        return thread_info(state)

    async def append(
        self,
        thread_id: str,
        lines: list[ev.Line],
        *,
        expected_seq: int | None = None,
        idempotency_key: str | None = None,
    ) -> int:
        """Append lines durably; returns only once they are committed.

        Args:
            thread_id: the thread.
            lines: rollout line objects with RFC 3339 timestamps, stored as
                ``rollout.codec.encode_line`` gives them.
            expected_seq: if given, the append happens only if this is the thread's
                last seq (optimistic concurrency).
            idempotency_key: a repeated key returns the first call's result and writes nothing.

        Returns:
            The seq of the last line of the thread after the append.

        Raises:
            ThreadNotFound, ThreadArchived, InvalidInput (nothing written; names the
            bad line's index), Conflict (``expected_seq`` mismatch; nothing written).
        """
        self._check()
        key = thread_key(thread_id)
        items, raw = encode_all(lines)
        check_seq("expected_seq", expected_seq)
        if idempotency_key is not None and not isinstance(idempotency_key, str):
            raise InvalidInput("idempotency_key must be a string")
        done: Appended = await self._write(Append(key, raw, facts(items), expected_seq, idempotency_key))
        if done.written:
            self._emit("appended", key, done.last_seq)
        return done.last_seq

    async def fork(self, thread_id: str, *, at_turn: int | str | None = None) -> ThreadInfo:
        """Start a new thread that continues a copy of ``thread_id``.

        The child's lines are its own ``session_meta`` (``forked_from_id`` set), then the
        source's lines (all of them, or those of the turns kept), then a
        ``turn_aborted{reason: "interrupted"}`` if that copy ends inside a turn still in
        progress. The child inherits the source's name.

        Args:
            thread_id: the source thread.
            at_turn: None for the whole thread; else the number of turns to keep (the
                first ``at_turn``; negative: all but the last ``-at_turn``), or the id of
                the last turn to keep.

        Returns:
            The child's info.

        Raises:
            ThreadNotFound, ThreadArchived, InvalidInput (no such turn, too few turns).
        """
        self._check()
        key = thread_key(thread_id)
        kept = check_kept(at_turn)
        if (await self._state(key)).segment_starts:
            return await self._fork_copy(key, kept)
        upto, open_turn = await self._fork_point(key, kept)
        state = await self._write(Fork(key, upto, open_turn))
        self._emit("forked", state.id, state.last_seq, key)
        return thread_info(state)

    async def _fork_copy(self, key: str, kept: int | str | None) -> ThreadInfo:
        history = await self._history(key)
        command: Import = await self._compute(fork_copy, history, kept, new_thread_id(), now_ms())
        state = await self._write(command)
        if state.name:
            await self._write(SetName(state.id, state.name))
        self._emit("forked", state.id, state.last_seq, key)
        return thread_info(state)

    async def rollback(self, thread_id: str, num_turns: int) -> ThreadInfo:
        """Hide the last ``num_turns`` turns by appending ``thread_rolled_back``.

        A thread with fewer turns loses all of them, and the marker records how many
        were dropped.

        Returns:
            The thread's info after the rollback.

        Raises:
            InvalidInput (``num_turns`` < 1, or the thread has no turns), ThreadNotFound,
            ThreadArchived.
        """
        self._check()
        key = thread_key(thread_id)
        if isinstance(num_turns, bool) or not isinstance(num_turns, int) or not 1 <= num_turns < 1 << 32:
            raise InvalidInput(f"num_turns must be an int >= 1 (u32), not {num_turns!r}")
        state, spans, _ = await self._history_spans(key)
        if state.archived:
            raise ThreadArchived(key)
        if not spans:
            raise InvalidInput(f"thread {key} has no turns to roll back")
        line = rollback_line(min(num_turns, len(spans)), now_ms())
        done: Appended = await self._write(Append(key, [encode_checked(line, 0)], facts([line])))
        self._emit("rolled_back", key, done.last_seq)
        return thread_info(done.state)

    async def set_name(self, thread_id: str, name: str) -> ThreadInfo:
        """Name a thread (trimmed; names need not be unique).

        Raises:
            InvalidInput (empty, too long, or with a control character), ThreadNotFound.
        """
        self._check()
        key, name = thread_key(thread_id), check_name(name)
        state = await self._write(SetName(key, name))
        self._emit("named", key, state.last_seq)
        return thread_info(state)

    async def archive(self, thread_id: str) -> ThreadInfo:
        """Archive a thread (idempotent). Raises ThreadNotFound."""
        return await self._set_archived(thread_id, True)

    async def unarchive(self, thread_id: str) -> ThreadInfo:
        """Unarchive a thread; it counts as updated now. Raises ThreadNotFound."""
        return await self._set_archived(thread_id, False)

    async def _set_archived(self, thread_id: str, archived: bool) -> ThreadInfo:
        self._check()
        key = thread_key(thread_id)
        state = await self._write(SetArchived(key, archived))
        self._emit("archived" if archived else "unarchived", key, state.last_seq)
        return thread_info(state)

    async def delete(self, thread_id: str) -> None:
        """Delete a thread; forks of it stay readable. Raises ThreadNotFound."""
        self._check()
        key = thread_key(thread_id)
        await self._write(Delete(key))
        self._emit("deleted", key, None)

    # ------------------------------------------------------------------ reads

    async def info(self, thread_id: str) -> ThreadInfo:
        """The thread's metadata without turns. Raises ThreadNotFound."""
        self._check()
        return thread_info(await self._state(thread_key(thread_id)))

    async def read_lines(
        self, thread_id: str, *, after_seq: int | None = None, upto_seq: int | None = None
    ) -> list[ev.Line]:
        """Lines with ``after_seq < seq <= upto_seq`` (defaults: from the start, to the end).

        Raises:
            ThreadNotFound, InvalidInput (negative bounds), CorruptLog.
        """
        self._check()
        key = thread_key(thread_id)
        start = check_seq("after_seq", after_seq) or 0
        return await self._lines(key, start, check_seq("upto_seq", upto_seq))

    async def iter_lines(
        self,
        thread_id: str,
        *,
        after_seq: int | None = None,
        upto_seq: int | None = None,
        page_size: int = 1024,
    ) -> AsyncIterator[ev.Line]:
        """Like :meth:`read_lines`, fetched ``page_size`` lines at a time."""
        self._check()
        key = thread_key(thread_id)
        start = check_seq("after_seq", after_seq) or 0
        last = (await self._state(key)).last_seq
        bound = check_seq("upto_seq", upto_seq)
        end = last if bound is None else min(last, bound)
        while start < end:
            stop = min(start + max(page_size, 1), end)
            for line in await self._lines(key, start, stop):
                yield line
            start = stop

    async def read(self, thread_id: str, *, items_view: str = "full") -> Thread:
        """The thread with its turns (``replay.build_turns`` of its lines, not running).

        Args:
            items_view: ``"full"``, ``"summary"`` or ``"notLoaded"``.

        Raises:
            ThreadNotFound, InvalidInput (bad ``items_view``), CorruptLog.
        """
        self._check()
        view = check_items_view(items_view)
        state, turns = await self._history_turns(thread_key(thread_id), view)
        return thread_info(state, turns=turns)

    async def resume(self, thread_id: str) -> ResumedThread:
        """The thread with its turns and the model context to continue it (``replay.resume_context``).

        Raises:
            ThreadNotFound, ThreadArchived (unarchive it first, as Codex requires).
        """
        self._check()
        state, turns, context = await self._history_resumed(thread_key(thread_id))
        return ResumedThread(thread=thread_info(state, turns=turns), context=context)

    # ------------------------------------------------------------------ files

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
                state = await self._write(Import(plan.state, plan.raw, segment))
            except ThreadExists:
                if existing == "refuse":
                    raise
                if existing == "skip":
                    return ImportResult(thread_id=key, status="unchanged", source=plan.source)
            else:
                self._emit("started", key, state.last_seq)
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
        done: Appended = await self._write(Append(
            key, plan.raw[where.first:], facts(plan.lines[where.first:]), expected_seq=len(stored),
            written_at=plan.state.updated_ms, archived_ok=True, new_segment=new_segment,
        ))
        self._emit("appended", key, done.last_seq)
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
        done: Appended = await self._write(Append(key, raw, facts(lines), expected_seq=expected_seq,
                                                  written_at=written_at, archived_ok=True))
        self._emit("appended", key, done.last_seq)
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

    # ------------------------------------------------------------------ listing (last: it shadows ``list``)

    async def list(
        self,
        *,
        limit: int = 50,
        cursor: str | None = None,
        sort: str = "created_at",
        archived: bool | None = False,
        source: str | list[str] | None = None,
        model_provider: str | list[str] | None = None,
        cwd: str | list[str] | None = None,
        search: str | None = None,
    ) -> Page:
        """One page of threads, newest first by ``sort``, filtered as Codex's ``thread/list``.

        By default only active threads of interactive sources (``cli``, ``vscode``) and the
        default provider (``openai``) are listed, as Codex lists them; pass ``source=[]``
        and ``model_provider=[]`` for every thread (see :mod:`store.listing`). Entries are
        Codex's list entries: ``forked_from_id`` and ``thread_source`` are None in them
        (:meth:`info` has them).

        Raises:
            InvalidInput: bad limit, sort, cursor or filter.
        """
        self._check()
        query = list_query(limit=limit, cursor=cursor, sort=sort, archived=archived, source=source,
                           model_provider=model_provider, cwd=cwd, search=search)
        states = await self._page(query)
        page = states[: query.limit]
        more = len(states) > query.limit and bool(page)
        next_cursor = encode_cursor(query.sort, sort_ms(page[-1], query.sort), page[-1].id) if more else None
        return Page(data=[thread_info(state, listed=True) for state in page], next_cursor=next_cursor)


def _tail_lines(data: bytes) -> list[ev.Line]:
    """The decodable lines of a file's new tail (undecodable ones skipped, as Codex's reader does)."""
    return read_rollout(data).lines
