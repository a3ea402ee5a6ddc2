"""The primitives a backend implements under :class:`store.core.Store`, and the reads derived from them.

A backend implements ``_start``/``_stop``, ``_write`` (run one command of
:mod:`store.write` atomically), ``_state`` (look up), ``_lines`` and ``_raw`` (read
rows) and ``_page`` (list by key); and, to be searchable, the four ``_index_*``
primitives of the search projection (:mod:`store.search.projection`). The derived reads here (``_turns``, ``_resumed``,
``_spans``, ``_open_turn``, ``_fork_point``) rebuild from the whole thread with
``replay``; a backend with a replay cache overrides them.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar

import replay
from replay import ResumeContext, Turn, TurnSpan
from rollout import events as ev
from rollout.errors import StoreError, ThreadArchived, ThreadNotFound

from .listing import ListQuery
from .plan import kept_end
from .search.hits import Hit, Mark, Update
from .search.query import SearchQuery
from .state import ThreadState
from .write import Command

__all__ = ["Backend"]

T = TypeVar("T")


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
        """Up to ``query.limit + 1`` threads matching ``query``, after its cursor, newest first."""

    # ------------------------------------------------------------------ the search index (store.search)

    async def _index_stale(self) -> list[str]:
        """Threads whose index watermark is not their ``last_seq`` (deleted ones included)."""
        raise StoreError(f"{type(self).__name__} keeps no search index")

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

    async def _turns(self, thread_id: str, items_view: str) -> tuple[ThreadState, list[Turn]]:
        state, lines = await self._whole(thread_id)
        return state, await self._compute(_build, lines, items_view)

    async def _resumed(self, thread_id: str) -> tuple[ThreadState, list[Turn], ResumeContext]:
        state, lines = await self._whole(thread_id)
        if state.archived:
            raise ThreadArchived(thread_id)
        turns, context = await self._compute(_resume, lines)
        return state, turns, context

    async def _spans(self, thread_id: str) -> tuple[ThreadState, list[TurnSpan], str | None]:
        """The state, the turn spans and the open turn of the whole thread."""
        state, lines = await self._whole(thread_id)
        spans, open_turn = await self._compute(_spans_of, lines)
        return state, spans, open_turn

    async def _open_turn(self, thread_id: str) -> tuple[ThreadState, str | None]:
        """The state and the open turn of the whole thread (replay's rule)."""
        state, _, open_turn = await self._spans(thread_id)
        return state, open_turn

    async def _fork_point(self, thread_id: str, kept: int | str | None) -> tuple[int, str | None]:
        """``(lines kept, the turn they end inside)`` of a fork; only a partial fork reads lines."""
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
        return end, await self._compute(replay.open_turn, await self._lines(thread_id, 0, end))


def _build(lines: list[ev.Line], items_view: Any) -> list[Turn]:
    return replay.build_turns(lines, items_view=items_view)


def _resume(lines: list[ev.Line]) -> tuple[list[Turn], ResumeContext]:
    return replay.build_turns(lines), replay.resume_context(lines)


def _spans_of(lines: list[ev.Line]) -> tuple[list[TurnSpan], str | None]:
    builder = replay.HistoryBuilder().feed_many(lines)
    return builder.spans(), builder.open_turn_id
