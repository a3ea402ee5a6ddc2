"""``MemoryStore``: the reference backend, plain Python objects in one process.

It is the oracle the contract and stateful tests compare every other backend
against, so it stays simple rather than fast: a fork copies the list of line
bytes, ``read`` replays the whole thread, ``list`` sorts every thread. Lines are
kept as their encoded bytes and decoded on every read, as a durable backend does.
Every method runs without awaiting, so each call is atomic on the event loop.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from msgspec.structs import replace

from replay import build_turns, turn_boundaries
from rollout import events as ev
from rollout.codec import decode_line
from rollout.errors import Conflict, InvalidInput, StoreError, ThreadArchived, ThreadNotFound

from .api import Page, Thread, ThreadInfo, with_turns
from .base import Store
from .line import (
    aborted_line,
    check_items_view,
    check_name,
    check_seq,
    check_thread_id,
    check_turn,
    encode_all,
    encode_checked,
    fork_meta_line,
    start_line,
)
from .listing import encode_cursor, list_query, matches, sort_ms
from .state import (
    Clock,
    ThreadState,
    absorb,
    facts,
    fork_span,
    fork_state,
    new_thread_id,
    open_turn_after,
    start_state,
    thread_info,
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
        self._threads: dict[str, _Thread] = {}
        self._closed = False
        self._clock = Clock()

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls) -> AsyncIterator[MemoryStore]:
        """``async with MemoryStore.open() as store``."""
        store = cls()
        try:
            yield store
        finally:
            await store.close()

    async def close(self) -> None:
        self._closed = True

    def _get(self, thread_id: str) -> _Thread:
        if self._closed:
            raise StoreError("store is closed")
        thread = self._threads.get(check_thread_id(thread_id))
        if thread is None:
            raise ThreadNotFound(thread_id)
        return thread

    def _writable(self, thread_id: str) -> _Thread:
        thread = self._get(thread_id)
        if thread.state.archived:
            raise ThreadArchived(thread_id)
        return thread

    # ------------------------------------------------------------------ writes

    async def start_thread(self, meta: ev.SessionMeta | ev.SessionMetaLine) -> ThreadInfo:
        now = self._clock.tick()
        line = start_line(meta, now)
        raw = encode_checked(line, 0)
        if self._closed:
            raise StoreError("store is closed")
        if line.payload.id in self._threads:
            raise InvalidInput(f"thread {line.payload.id} already exists")
        state = start_state(line, now)
        self._threads[state.id] = _Thread(state, [raw])
        return thread_info(state)

    async def append(self, thread_id, lines, *, expected_seq=None, idempotency_key=None) -> int:
        items, raw = encode_all(lines)
        check_seq("expected_seq", expected_seq)
        if idempotency_key is not None and not isinstance(idempotency_key, str):
            raise InvalidInput("idempotency_key must be a string")
        thread = self._writable(thread_id)
        if idempotency_key is not None and idempotency_key in thread.keys:
            return thread.keys[idempotency_key]
        state = thread.state
        if expected_seq is not None and expected_seq != state.last_seq:
            raise Conflict(thread_id, expected_seq, state.last_seq)
        if raw:
            thread.state = absorb(state, facts(items), state.last_seq + 1, len(raw), self._clock.tick())
            thread.raw.extend(raw)
        if idempotency_key is not None:
            thread.keys[idempotency_key] = thread.state.last_seq
        return thread.state.last_seq

    async def fork(self, thread_id: str, *, at_turn: int | str | None = None) -> ThreadInfo:
        source = self._writable(thread_id)
        upto = len(source.raw)
        open_turn = source.state.open_turn
        if at_turn is not None:
            lines = self._decoded(source.raw)
            span = fork_span(turn_boundaries(lines), check_turn(at_turn))
            upto, open_turn = span.end, open_turn_after(lines[span.start : span.end])
        now = self._clock.tick()
        child_id = _fresh_id(self._threads)
        meta = fork_meta_line(self._full_meta(source), child_id, thread_id, now)
        tail = [] if open_turn is None else [aborted_line(open_turn, now)]
        raw = [encode_checked(meta, 0), *source.raw[:upto], *(encode_checked(l, 0) for l in tail)]
        state = fork_state(source.state, meta, upto, tail, now)
        self._threads[child_id] = _Thread(state, raw)
        return thread_info(state)

    async def set_name(self, thread_id: str, name: str) -> ThreadInfo:
        name = check_name(name)
        thread = self._get(thread_id)
        thread.state = replace(thread.state, name=name)
        return thread_info(thread.state)

    async def archive(self, thread_id: str) -> ThreadInfo:
        thread = self._get(thread_id)
        thread.state = replace(thread.state, archived=True)
        return thread_info(thread.state)

    async def unarchive(self, thread_id: str) -> ThreadInfo:
        thread = self._get(thread_id)
        state = thread.state
        thread.state = replace(state, archived=False, updated_ms=max(self._clock.tick(), state.updated_ms))
        return thread_info(thread.state)

    async def delete(self, thread_id: str) -> None:
        self._get(thread_id)
        del self._threads[thread_id]

    async def _import(self, state: ThreadState, raw: list[bytes]) -> None:
        if self._closed:
            raise StoreError("store is closed")
        if state.id in self._threads:
            raise InvalidInput(f"thread {state.id} already exists")
        self._threads[state.id] = _Thread(state, list(raw))

    # ------------------------------------------------------------------ reads

    async def info(self, thread_id: str) -> ThreadInfo:
        return thread_info(self._get(thread_id).state)

    async def read_lines(self, thread_id, *, after_seq=None, upto_seq=None) -> list[ev.Line]:
        start = check_seq("after_seq", after_seq) or 0
        end = check_seq("upto_seq", upto_seq)
        raw = self._get(thread_id).raw
        return self._decoded(raw[start:end])

    async def read(self, thread_id: str, *, items_view: str = "full") -> Thread:
        check_items_view(items_view)
        thread = self._get(thread_id)
        turns = build_turns(self._decoded(thread.raw), items_view=items_view)
        return with_turns(thread_info(thread.state), turns)

    async def list(
        self,
        *,
        limit=50,
        cursor=None,
        sort="created_at",
        archived=False,
        source=None,
        model_provider=None,
        cwd=None,
        search=None,
    ) -> Page:
        query = list_query(
            limit=limit, cursor=cursor, sort=sort, archived=archived, source=source,
            model_provider=model_provider, cwd=cwd, search=search,
        )
        if self._closed:
            raise StoreError("store is closed")
        keyed = [((sort_ms(t.state, sort), t.state.id), t.state) for t in self._threads.values()]
        keyed = [(key, s) for key, s in keyed if matches(query, s) and (query.after is None or key < query.after)]
        keyed.sort(key=lambda pair: pair[0], reverse=True)
        page = keyed[: query.limit]
        more = len(keyed) > query.limit
        next_cursor = encode_cursor(sort, *page[-1][0]) if more else None
        return Page(data=[thread_info(s) for _, s in page], next_cursor=next_cursor)

    async def _raw_lines(self, thread_id: str) -> list[bytes]:
        return list(self._get(thread_id).raw)

    @staticmethod
    def _full_meta(thread: _Thread) -> ev.SessionMeta | None:
        seq = thread.state.meta_seq
        return decode_line(thread.raw[seq - 1]).payload if seq else None  # type: ignore[union-attr]

    @staticmethod
    def _decoded(raw: list[bytes]) -> list[ev.Line]:
        return [decode_line(line) for line in raw]


def _fresh_id(taken: dict[str, object]) -> str:
    while (thread_id := new_thread_id()) in taken:
        pass
    return thread_id

