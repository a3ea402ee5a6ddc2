"""``MemoryStore``: the reference backend, plain Python objects in one process.

It is the oracle the contract and stateful tests compare every other backend against,
so it stays simple rather than fast: a fork copies the list of line bytes, reads replay
the whole thread, ``list`` sorts every thread. Lines are kept as their encoded bytes and
decoded on every read, as a durable backend does. Every primitive runs without
awaiting, so each command is atomic on the event loop. Its search index is SQLite FTS5
in an in-memory database, the same statements as the durable backends'.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from rollout import events as ev
from rollout.codec import decode_line
from rollout.errors import ThreadArchived, ThreadNotFound

from .clock import Clock, new_thread_id
from .core import Opening, Store
from .listing import ListQuery, matches, sort_ms
from .search.fts5 import Fts5Index
from .search.hits import Hit, Mark, Update
from .search.query import SearchQuery
from .state import ThreadState
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
    ThreadExists,
)

__all__ = ["MemoryStore"]


class _Thread:
    __slots__ = ("keys", "raw", "state")

    def __init__(self, state: ThreadState, raw: list[bytes]) -> None:
        self.state = state
        self.raw = raw
        self.keys: dict[str, int] = {}


class MemoryStore(Store):
    """Threads in a dict; nothing survives the process."""

    def __init__(self) -> None:
        super().__init__()
        self._threads: dict[str, _Thread] = {}
        self._clock = Clock()
        self._search = Fts5Index(sqlite3.connect(":memory:", isolation_level=None))

    @classmethod
    def open(cls) -> Opening[MemoryStore]:
        """``async with MemoryStore.open() as store``, or ``store = await MemoryStore.open()``."""
        return Opening(cls())

    async def _start(self) -> None:
        self._search.create()

    async def _stop(self) -> None:
        self._search.conn.close()

    def _get(self, thread_id: str, *, writable: bool = False) -> _Thread:
        thread = self._threads.get(thread_id)
        if thread is None:
            raise ThreadNotFound(thread_id)
        if writable and thread.state.archived:
            raise ThreadArchived(thread_id)
        return thread

    # ------------------------------------------------------------------ writes

    async def _write(self, command: Command) -> Any:
        match command:
            case Start():
                return self._new(command.stamped(self._clock.tick()), [command.raw])
            case Import(state=state, raw=raw):
                return self._new(state, list(raw))
            case Append():
                return self._append(command)
            case Fork():
                return self._fork(command)
            case SetName() | SetMetadata():
                thread = self._get(command.thread_id)
                thread.state = command.apply(thread.state)
                return thread.state
            case SetArchived():
                thread = self._get(command.thread_id)
                thread.state = command.apply(thread.state, self._clock.tick())
                return thread.state
            case Delete():
                self._get(command.thread_id)
                del self._threads[command.thread_id]
                return None

    def _new(self, state: ThreadState, raw: list[bytes]) -> ThreadState:
        if state.id in self._threads:
            raise ThreadExists(state.id)
        self._threads[state.id] = _Thread(state, raw)
        return state

    def _append(self, command: Append) -> Appended:
        thread = self._get(command.thread_id, writable=not command.archived_ok)
        key_seq = None if command.key is None else thread.keys.get(command.key)
        plan = command.plan(thread.state, key_seq, self._clock.tick())
        if plan.repeat:
            return Appended(plan.last_seq, 0, thread.state)
        thread.raw.extend(command.raw)
        thread.state = plan.state
        if command.key is not None:
            thread.keys[command.key] = plan.last_seq
        return Appended(plan.last_seq, len(command.raw), plan.state)

    def _fork(self, command: Fork) -> ThreadState:
        source = self._get(command.thread_id, writable=True)
        while (child_id := new_thread_id()) in self._threads:
            pass
        seq = source.state.meta_seq
        own = decode_line(source.raw[seq - 1]) if seq else None
        full = own.payload if isinstance(own, ev.SessionMetaLine) else None
        plan = command.plan(source.state, full, child_id, self._clock.tick())
        return self._new(plan.state, [plan.meta_raw, *source.raw[: plan.upto], *plan.tail_raw])

    # ------------------------------------------------------------------ reads

    async def _state(self, thread_id: str) -> ThreadState:
        return self._get(thread_id).state

    async def _lines(self, thread_id: str, after: int, upto: int | None) -> list[ev.Line]:
        return [decode_line(raw) for raw in self._get(thread_id).raw[after:upto]]

    async def _raw(self, thread_id: str) -> list[bytes]:
        return list(self._get(thread_id).raw)

    async def _page(self, query: ListQuery) -> list[ThreadState]:
        states = [t.state for t in self._threads.values() if matches(query, t.state) and query.after_key(t.state)]
        states.sort(key=lambda s: (sort_ms(s, query.sort), s.id), reverse=not query.ascending)
        return states[: query.limit + 1]

    # ------------------------------------------------------------------ search (an in-memory FTS5 index)

    async def _index_stale(self) -> list[str]:
        marks = self._search.watermarks()
        stale = [key for key, thread in self._threads.items() if marks.get(key) != thread.state.last_seq]
        return stale + [key for key in marks if key not in self._threads]

    async def _index_mark(self, thread_id: str) -> Mark | None:
        return self._search.mark(thread_id)

    async def _index_write(self, thread_id: str, update: Update | None) -> None:
        self._search.write_now(thread_id, update)

    async def _index_query(self, query: SearchQuery) -> list[Hit]:
        return self._search.query(query)
