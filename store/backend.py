"""The primitives a backend implements under :class:`store.core.Store`, and the reads derived from them.

A backend implements ``_start``/``_stop``, ``_write`` (run one command of
:mod:`store.write` atomically), ``_state`` (look up), ``_lines`` and ``_raw`` (read
rows) and ``_page`` (list by key, either way); and, to be searchable, the four ``_index_*``
primitives of the search projection (:mod:`store.search.projection`). The derived reads here
(``_turns``, ``_turn_slice``, ``_resumed``, ``_spans``, ``_open_turn``, ``_fork_point``) rebuild
from the whole thread with ``replay``; a backend with a replay cache overrides them.

Optional: a backend that can keep **derived data** (a cache beside each thread, gone with
it) sets ``_keeps_derived`` and implements ``_derived`` and ``_save_derived``; the reads of
turns then keep and use a turn index (:mod:`store.turns`), so a range of turns costs
O(range) once the index is written. Without them every read replays the thread.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

import replay
from replay import MidTurn, ResumeContext, Turn, TurnSpan
from rollout import events as ev
from rollout.errors import StoreError, ThreadArchived, ThreadNotFound

from .listing import ListQuery
from .plan import kept_end
from .search.hits import Hit, Mark, Update
from .search.query import SearchQuery
from .state import ThreadState
from .turns import CHUNK, HEADER, Header, Window, cut, decode_chunk, decode_header, index_parts, kind
from .write import Command

__all__ = ["Backend"]

T = TypeVar("T")
log = logging.getLogger("store")


class Backend(ABC):
    """What :class:`store.core.Store` asks of a backend."""

    @abstractmethod
    async def _start(self) -> None:
        """Acquire resources (connections, threads, the index)."""

    @abstractmethod
    async def _stop(self) -> None:
        """Finish pending writes and release every resource (also after a failed ``_start``)."""

    @abstractmethod
    async def _write(self, command: Command) -> Any:
        """Run one command atomically, applying its rules (:mod:`store.write`).

        Returns:
            ``Appended`` for ``Append``; None for ``Delete``; the thread's new
            ``ThreadState`` for every other command (the child's for ``Fork``).
        """

    @abstractmethod
    async def _state(self, thread_id: str) -> ThreadState:
        """The thread's state (name, archive flag and path included). Raises ThreadNotFound."""

    async def _exists(self, thread_id: str) -> bool:
        """Whether a thread with this id is stored (a cheaper check may override this)."""
        try:
            await self._state(thread_id)
        except ThreadNotFound:
            return False
        return True

    @abstractmethod
    async def _lines(self, thread_id: str, after: int, upto: int | None) -> list[ev.Line]:
        """Decoded lines with ``after < seq <= upto`` (None: to the end). Raises ThreadNotFound, CorruptLog."""

    @abstractmethod
    async def _raw(self, thread_id: str) -> list[bytes]:
        """Every stored line's bytes, in seq order. Raises ThreadNotFound, CorruptLog."""

    @abstractmethod
    async def _page(self, query: ListQuery) -> list[ThreadState]:
        """Up to ``query.limit + 1`` threads matching ``query``, after its cursor, in its order
        (:attr:`ListQuery.order`: newest first, or oldest first when ``query.ascending``)."""

    # ------------------------------------------------------------------ derived data (optional)

    #: whether ``_derived``/``_save_derived`` keep anything (else turn reads skip the index)
    _keeps_derived = False

    async def _derived(self, thread_id: str, name: str, parts: Sequence[int] | None) -> tuple[ThreadState, dict[int, bytes]]:
        """The thread's state and the stored ``parts`` (None: all) of its derived data ``name``,
        read together (one transaction); a part not stored is left out.

        Raises ThreadNotFound. Default: nothing is kept.
        """
        return await self._state(thread_id), {}

    async def _save_derived(self, thread_id: str, name: str, parts: dict[int, bytes], count: int) -> None:
        """Store ``parts`` of derived data ``name`` (replacing those with the same numbers) and
        drop its parts numbered ``count`` and up (part -1, the header, stays).

        A cache: it goes when the thread is deleted, may be lost, and a save that fails or
        finds the thread gone does nothing. Default: nothing is kept.
        """
        return None

    async def _caught_up(self) -> None:
        """Called before the store tells subscribers of its own write: a backend that hears of
        other processes' changes hands on those committed earlier first. Default: none."""
        return None

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` (a cache save) in the background; the store waits for it when closing."""
        raise NotImplementedError  # provided by store.core.Store

    # ------------------------------------------------------------------ the search index (store.search)

    async def _index_stale(self) -> list[str]:
        """Threads whose index watermark is not their ``last_seq`` (deleted ones included)."""
        raise StoreError(f"{type(self).__name__} keeps no search index")

    async def _index_current(self) -> bool:
        """Whether the index is known complete: nothing was written, by any process, since the last
        :meth:`_index_seal` that found no stale thread. Default: False (never known; always scan)."""
        return False

    async def _index_seal(self) -> None:
        """After a catch-up: atomically with respect to every writer, if no thread is stale, remember
        the store's write generation, so :meth:`_index_current` is true until the next write or
        projection. Default: nothing (a backend without a write generation scans before each search)."""
        return None

    async def _index_mark(self, thread_id: str) -> Mark | None:
        """The thread's watermark in the index, or None when it is not indexed."""
        raise StoreError(f"{type(self).__name__} keeps no search index")

    async def _index_write(self, thread_id: str, update: Update | None) -> None:
        """Apply one thread's projection atomically (None: drop the thread's rows)."""
        raise StoreError(f"{type(self).__name__} keeps no search index")

    async def _index_query(self, query: SearchQuery) -> list[Hit]:
        """Up to ``query.limit + 1`` hits from ``query.offset``, best first."""
        raise StoreError(f"{type(self).__name__} keeps no search index")

    # ------------------------------------------------------------------ derived reads (backends may do better)

    async def _compute(self, fn: Callable[..., T], *args: Any) -> T:
        """Run CPU-bound work; backends may move it off the event loop."""
        return fn(*args)

    async def _whole(self, thread_id: str) -> tuple[ThreadState, list[ev.Line]]:
        """The state and every line, read consistently."""
        state = await self._state(thread_id)
        return state, await self._lines(thread_id, 0, state.last_seq)

    async def _turns(self, thread_id: str, items_view: str, policy: str = "extended") -> tuple[ThreadState, list[Turn]]:
        """The state and every turn, from the turn index when it is fresh, else by replay."""
        if self._keeps_derived:
            state, _, _, turns = await self._turn_slice(thread_id, Window(), items_view, policy)
            return state, turns
        state, lines = await self._whole(thread_id)
        return state, await self._compute(_build, lines, items_view, policy)

    async def _turn_slice(
        self, thread_id: str, window: Window, items_view: str, policy: str
    ) -> tuple[ThreadState, int, int, list[Turn]]:
        """``(state, position of the first turn, how many turns, the turns)`` of a window."""
        header = None
        if self._keeps_derived:
            state, parts = await self._derived(thread_id, kind(policy), [HEADER])
            header = decode_header(parts.get(HEADER))
            if header is not None and header.fresh(state):
                found = await self._indexed(thread_id, policy, header, window, items_view)
                if found is not None:
                    return found
            state, turns = await self._rebuild(thread_id, policy, header)
        else:
            state, turns = await self._turns(thread_id, "full", policy)
        lo, hi = window.resolve([turn.id for turn in turns])
        return state, lo, len(turns), cut(turns, lo, hi, items_view)

    async def _indexed(
        self, thread_id: str, policy: str, header: Header, window: Window, items_view: str
    ) -> tuple[ThreadState, int, int, list[Turn]] | None:
        """A window read from a fresh index: only the chunks it spans. None if the index changed meanwhile."""
        lo, hi = window.resolve(header.ids)
        numbers = list(range(lo // CHUNK, (hi - 1) // CHUNK + 1)) if hi > lo else []
        state, parts = await self._derived(thread_id, kind(policy), numbers)
        chunks = [decode_chunk(header, n, parts.get(n)) for n in numbers]
        if not header.fresh(state) or any(chunk is None for chunk in chunks):
            return None
        turns = [turn for chunk in chunks for turn in chunk or ()]
        base = numbers[0] * CHUNK if numbers else lo
        return state, lo, len(header.ids), cut(turns, lo - base, hi - base, items_view)

    async def _rebuild(self, thread_id: str, policy: str, old: Header | None) -> tuple[ThreadState, list[Turn]]:
        """Replay the thread (full view); its turn index is encoded and saved in the background."""
        state, lines = await self._whole(thread_id)
        turns = await self._compute(_build, lines, "full", policy)
        self._later(self._save_index(thread_id, policy, state, turns, old))
        return state, turns

    async def _save_index(self, thread_id: str, policy: str, state: ThreadState, turns: list[Turn],
                          old: Header | None) -> None:
        parts, count = await self._compute(index_parts, state, turns, old)
        await self._save_derived(thread_id, kind(policy), parts, count)

    async def _resumed(self, thread_id: str) -> tuple[ThreadState, list[Turn], ResumeContext]:
        state, lines = await self._whole(thread_id)
        if state.archived:
            raise ThreadArchived(thread_id)
        turns, context = await self._compute(_resume, lines)
        return state, turns, context

    async def _spans(self, thread_id: str) -> tuple[ThreadState, list[TurnSpan], MidTurn | None]:
        """The state, the turn spans and the turn a fork of the whole thread ends inside (``HistoryBuilder.mid_turn``)."""
        state, lines = await self._whole(thread_id)
        spans, open_turn = await self._compute(_spans_of, lines)
        return state, spans, open_turn

    async def _open_turn(self, thread_id: str) -> tuple[ThreadState, MidTurn | None]:
        """The state and the turn a fork of the whole thread ends inside (``HistoryBuilder.mid_turn``)."""
        state, _, open_turn = await self._spans(thread_id)
        return state, open_turn

    async def _fork_point(self, thread_id: str, kept: int | str | None) -> tuple[int, MidTurn | None]:
        """``(lines kept, the turn they end inside)`` of a fork; only a partial fork reads lines.

        A whole-thread fork follows Codex's mid-turn rule (``HistoryBuilder.mid_turn``); the
        kept turns of a partial fork end inside a turn only when it is an explicit one still
        in progress (``replay.open_turn``).
        """
        if kept is None:
            state, open_turn = await self._open_turn(thread_id)
            spans: list[TurnSpan] = []
        else:
            state, spans, open_turn = await self._spans(thread_id)
        if state.archived:
            raise ThreadArchived(thread_id)
        if kept is None:
            return state.last_seq, open_turn
        end = kept_end(spans, kept)
        turn_id = await self._compute(replay.open_turn, await self._lines(thread_id, 0, end))
        return end, None if turn_id is None else MidTurn(turn_id)


def _build(lines: list[ev.Line], items_view: Any, policy: Any = "extended") -> list[Turn]:
    return replay.build_turns(lines, items_view=items_view, policy=policy)


def _resume(lines: list[ev.Line]) -> tuple[list[Turn], ResumeContext]:
    return replay.build_turns(lines), replay.resume_context(lines)


def _spans_of(lines: list[ev.Line]) -> tuple[list[TurnSpan], MidTurn | None]:
    builder = replay.HistoryBuilder().feed_many(lines)
    return builder.spans(), builder.mid_turn
