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
listing (:mod:`store.listing`), thread metadata (:func:`store.state.thread_info`), the
turn index (:mod:`store.turns`) and the change feed (:mod:`store.feed`: every committed
command is reported once, by :meth:`Store._commit`). Its reads are in
:mod:`store.reading`, rollout import and export in :mod:`store.porting`. A backend
implements the primitives of :class:`store.backend.Backend` (``_start``/``_stop``,
``_write`` one command atomically, ``_state``, ``_lines``, ``_raw``, ``_page``, and
optionally the derived data of a turn index) and may override its derived reads.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Generator
from typing import Any, Generic, TypeVar

from rollout import events as ev
from rollout.errors import InvalidInput, StoreError, ThreadArchived

from .clock import new_thread_id, now_ms, thread_key
from .feed import Change, Feed
from .line import (
    check_fork_meta,
    check_git_patch,
    check_kept,
    check_name,
    check_seq,
    encode_all,
    encode_checked,
    rollback_line,
    start_line,
)
from .porting import Porting
from .reading import Reading
from .search.projection import Searchable
from .segmented import fork_copy
from .state import facts, initial_state, thread_info
from .thread import ThreadInfo
from .write import (
    Append,
    Appended,
    Command,
    Delete,
    Fork,
    Import,
    SetArchived,
    SetMetadata,
    SetName,
    Start,
    change_of,
)

__all__ = ["Opening", "Store"]

S = TypeVar("S", bound="Store")
T = TypeVar("T")
log = logging.getLogger("store")


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


class Store(Searchable, Reading, Porting):
    """Async thread storage: start, append, read, resume, fork, rollback, list, archive, delete.

    Open a backend with ``async with Backend.open(...) as store`` or ``store = await
    Backend.open(...)`` (then ``await store.close()``).
    """

    def __init__(self) -> None:
        self._status = "new"
        self._feed = Feed()
        self._background: set[asyncio.Task[None]] = set()
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
                while self._background:  # cache saves under way finish first
                    await asyncio.gather(*self._background)
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

    async def _commit(self, command: Command) -> Any:
        """Run a write command; once it has committed, tell the change feed what it did."""
        result = await self._write(command)
        change = change_of(command, result)
        if change is not None:
            if self._feed.active:
                await self._caught_up()
            self._feed.emit(change)
        return result

    def _lines_written(self, thread_id: str, first_seq: int, lines: list[ev.Line], raw: list[bytes]) -> None:
        """After a commit: ``lines`` (as given) and ``raw`` (their stored bytes) are the thread's
        lines from ``first_seq`` on.

        A backend that keeps replay state current as lines are written feeds it here
        (without delaying the caller); the default keeps none.
        """

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        if self._status != "open":
            work.close()
            return
        task = asyncio.get_running_loop().create_task(_quietly(work))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

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
        raw = encode_checked(line, 0)
        state = await self._commit(Start(initial_state(line, [line], now), raw))
        self._lines_written(state.id, 1, [line], [raw])
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
        done: Appended = await self._commit(Append(key, raw, facts(items), expected_seq, idempotency_key))
        if done.written == len(items):
            self._lines_written(key, done.last_seq - done.written + 1, items, raw)
        return done.last_seq

    async def fork(
        self, thread_id: str, *, at_turn: int | str | None = None, meta: dict[str, Any] | None = None
    ) -> ThreadInfo:
        """Start a new thread that continues a copy of ``thread_id``.

        The child's lines are its own ``session_meta`` (``forked_from_id`` set), then the
        source's lines (all of them, or those of the turns kept), then a
        ``turn_aborted{reason: "interrupted"}`` if that copy ends inside a turn (Codex's
        rule: an explicit turn still in progress; for a whole legacy thread, also a last
        user message nothing completed). The child inherits the name the source is shown with.

        Args:
            thread_id: the source thread.
            at_turn: None for the whole thread; else the number of turns to keep (the
                first ``at_turn``; negative: all but the last ``-at_turn``), or the id of
                the last turn to keep.
            meta: ``session_meta`` fields the child has instead of its source's, e.g.
                ``{"source": "vscode", "originator": ..., "cli_version": ...}`` for the
                client that forks (a Codex fork is a new session of that client).

        Returns:
            The child's info.

        Raises:
            ThreadNotFound, ThreadArchived, InvalidInput (no such turn, too few turns, a
            ``meta`` field that is not a ``session_meta`` field of that type, or one the
            store sets: ``id``, ``forked_from_id``, ``timestamp``).
        """
        self._check()
        key = thread_key(thread_id)
        kept, fields = check_kept(at_turn), check_fork_meta(meta)
        if (await self._state(key)).segment_starts:
            return await self._fork_copy(key, kept, fields)
        upto, open_turn = await self._fork_point(key, kept)
        return thread_info(await self._commit(Fork(key, upto, open_turn, fields)))

    async def _fork_copy(self, key: str, kept: int | str | None, fields: tuple[tuple[str, Any], ...]) -> ThreadInfo:
        """A fork of a thread kept in segments: a plain thread holding a copy of its resolved history."""
        history = await self._history(key)
        command: Import = await self._compute(fork_copy, history, kept, new_thread_id(), now_ms(), fields)
        state = await self._commit(command)
        if state.name:
            state = await self._commit(SetName(state.id, state.name))
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
        raw = encode_checked(line, 0)
        done: Appended = await self._commit(Append(key, [raw], facts([line]), kind="rolled_back"))
        if done.written == 1:
            self._lines_written(key, done.last_seq, [line], [raw])
        return thread_info(done.state)

    async def set_name(self, thread_id: str, name: str) -> ThreadInfo:
        """Name a thread (trimmed; names need not be unique).

        Raises:
            InvalidInput (empty, too long, or with a control character), ThreadNotFound.
        """
        self._check()
        key, name = thread_key(thread_id), check_name(name)
        return thread_info(await self._commit(SetName(key, name)))

    async def update_metadata(self, thread_id: str, *, git: dict[str, str | None]) -> ThreadInfo:
        """Edit a thread's git metadata in place (Codex's ``thread/metadata/update``).

        Args:
            git: the fields to change among ``sha``, ``branch`` and ``origin_url``; a
                field left out stays, a None value clears it. The lines are not touched:
                the edit is kept beside them (as Codex keeps it in its state database)
                and wins over the git they record; forks inherit it.

        Returns:
            The thread's info after the edit.

        Raises:
            InvalidInput (no field, an unknown field or a non-string value), ThreadNotFound.
        """
        self._check()
        key, patch = thread_key(thread_id), check_git_patch(git)
        return thread_info(await self._commit(SetMetadata(key, patch)))

    async def archive(self, thread_id: str) -> ThreadInfo:
        """Archive a thread (idempotent). Raises ThreadNotFound."""
        return await self._set_archived(thread_id, True)

    async def unarchive(self, thread_id: str) -> ThreadInfo:
        """Unarchive a thread; it counts as updated now. Raises ThreadNotFound."""
        return await self._set_archived(thread_id, False)

    async def _set_archived(self, thread_id: str, archived: bool) -> ThreadInfo:
        self._check()
        return thread_info(await self._commit(SetArchived(thread_key(thread_id), archived)))

    async def delete(self, thread_id: str) -> None:
        """Delete a thread; forks of it stay readable. Raises ThreadNotFound."""
        self._check()
        await self._commit(Delete(thread_key(thread_id)))


async def _quietly(work: Coroutine[Any, Any, None]) -> None:
    """Await a cache save; a failure is logged, never raised (a cache only costs a replay)."""
    try:
        await work
    except Exception as exc:  # noqa: BLE001 -- a lost cache entry is harmless
        log.debug("a background cache save failed: %s", exc)
