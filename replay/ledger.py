"""The reducer's bookkeeping: finished turns, the open turn, item ids, line spans.

:class:`TurnLedger` is the half of :class:`replay.HistoryBuilder` that knows
nothing about event shapes: it opens, finishes, completes, interrupts, fails and
rolls back turns, hands out ``item-N`` ids, routes items to a turn by id (O(1),
through a dict) and renders snapshots, reusing the rendering of every finished
turn that has not changed. The builder subclasses it and maps events onto it.

Must not import: store, replay.history, anything doing I/O.
"""

from __future__ import annotations

from typing import get_args

from rollout.errors import InvalidInput

from . import items as it
from .turn_state import TurnSpan, TurnState, present

__all__ = ["TurnLedger"]

_VIEWS = frozenset(get_args(it.ItemsView))


class TurnLedger:
    """Turns under construction and the counters Codex's reducer keeps."""

    def __init__(self) -> None:
        self._turns: list[TurnState] = []
        self._by_id: dict[str, TurnState] = {}
        self._current: TurnState | None = None
        self._last_opened: TurnState | None = None
        self._next_item = 1
        self._finished_items = 0
        self._seen = 0  # lines fed, filtered or not
        self._kept = 0  # lines the reducer saw: the ``rollout-<n>`` numbering
        self._line = 0
        self._rollout = 0
        # A legacy implicit turn starts at the response items just before its
        # user_message (its "prelude"); the prelude never reaches back past the
        # anchor, the last line that opened a turn or added an item to one.
        self._prelude_start: int | None = None
        self._anchor = -1
        # Rendered finished turns per (running, items_view); cleared when any finished turn changes.
        self._rendered: dict[tuple[bool, str], list[it.Turn]] = {}

    def snapshot(self, *, running: bool = False, items_view: it.ItemsView = "full") -> list[it.Turn]:
        """The turns so far, as ``thread/read`` would return them.

        Args:
            running: ``False`` (the thread is not running) reports every
                ``inProgress`` turn as ``interrupted``, as the app-server does.
            items_view: ``"full"``, ``"summary"`` (first userMessage and last
                agentMessage) or ``"notLoaded"`` (no items).

        Returns:
            New list; finished turns that did not change are the same objects as before.

        Raises:
            InvalidInput: ``items_view`` is not a known view.
        """
        if items_view not in _VIEWS:
            raise InvalidInput(f"unknown items view: {items_view!r}")
        key = (running, items_view)
        finished = self._rendered.get(key)
        if finished is None:
            finished = self._rendered[key] = [present(turn, running, items_view) for turn in self._turns]
        turns = list(finished)
        current = self._current
        if current is not None and current.kept():
            turns.append(present(current, running, items_view))
        return turns

    def spans(self) -> list[TurnSpan]:
        """Line spans of the turns :meth:`snapshot` returns, in the same order."""
        listed = list(self._turns)
        if self._current is not None and self._current.kept():
            listed.append(self._current)
        return [
            TurnSpan(turn_id=turn.id, start=turn.start, end=self._seen if turn.end is None else turn.end)
            for turn in listed
        ]

    @property
    def lines_seen(self) -> int:
        """How many lines were fed (filtered ones included)."""
        return self._seen

    @property
    def current_turn_id(self) -> str | None:
        """Id of the open turn, if any (the one a live thread is running)."""
        return None if self._current is None else self._current.id

    @property
    def open_turn_id(self) -> str | None:
        """Id of the explicit turn still in progress, if any: the turn a fork of every line
        fed so far ends inside (it would read as ``interrupted`` once the thread stops)."""
        current = self._current
        return current.id if current is not None and current.status == "inProgress" else None

    def _next_id(self) -> str:
        item_id = f"item-{self._next_item}"
        self._next_item += 1
        return item_id

    def _push_current(self, item: it.ThreadItem) -> None:
        self._ensure_turn().push(item)

    def _upsert_current(self, item: it.ThreadItem) -> None:
        self._ensure_turn().upsert(item)

    def _upsert_in(self, turn_id: str, item: it.ThreadItem) -> None:
        """Upsert into the turn with ``turn_id``; an unknown turn drops the item."""
        current = self._current
        if current is not None and current.id == turn_id:
            current.upsert(item)
            return
        turn = self._by_id.get(turn_id)
        if turn is None:
            return
        self._rendered.clear()
        if turn.upsert(item):
            self._finished_items += 1

    def _route(self, turn_id: str, item: it.ThreadItem) -> None:
        if turn_id:
            self._upsert_in(turn_id, item)
        else:
            self._upsert_current(item)

    def _open(self, turn_id: str | None, *, explicit: bool) -> TurnState:
        start = self._line
        if not explicit and self._prelude_start is not None:
            start = self._prelude_start  # the response items that precede a legacy user_message
        turn = TurnState(turn_id or f"rollout-{self._rollout}", start=start, explicit=explicit)
        previous = self._last_opened
        if previous is not None and previous.end is None:
            previous.end = start
        self._last_opened = self._current = turn
        self._prelude_start, self._anchor = None, self._line
        return turn

    def _ensure_turn(self) -> TurnState:
        return self._current if self._current is not None else self._open(None, explicit=False)

    def _finish(self) -> None:
        turn, self._current = self._current, None
        if turn is None or not turn.kept():
            return
        self._turns.append(turn)
        self._rendered.clear()
        self._by_id.setdefault(turn.id, turn)
        self._finished_items += len(turn.items)

    def _find(self, turn_id: str | None) -> TurnState | None:
        current = self._current
        if current is not None and current.id == turn_id:
            return current
        return None if turn_id is None else self._by_id.get(turn_id)

    def _start_turn(self, turn_id: str, started_at: int | None, root_turn_id: str | None = None) -> None:
        """``task_started``: close the current turn and open an explicit one."""
        self._finish()
        turn = self._open(turn_id, explicit=True)
        turn.status, turn.started_at, turn.root_turn_id = "inProgress", started_at, root_turn_id

    def _complete_turn(
        self, turn_id: str, completed_at: int | None, duration_ms: int | None, error: it.TurnError | None = None
    ) -> TurnState | None:
        """``task_complete``: the named turn, else the current one; only the current one closes.

        A completion carrying an ``error`` (Codex 0.153+) fails the turn with it.

        Returns:
            The turn completed, if any.
        """
        turn = self._find(turn_id) or self._current
        if turn is None:
            return None
        if error is not None:
            turn.status, turn.error = "failed", error
        elif turn.status in ("completed", "inProgress"):
            turn.status = "completed"  # a failed or interrupted turn keeps its status
        turn.set_finished(completed_at, duration_ms)
        if turn is self._current:
            self._finish()
        else:
            self._rendered.clear()
        return turn

    def _interrupt_turn(self, turn_id: str | None, completed_at: int | None, duration_ms: int | None) -> TurnState | None:
        """``turn_aborted``: the named turn becomes interrupted; the current one closes.

        An id naming no known turn falls back to the current turn only when that turn is
        implicit (or the id is null): an explicit turn is not aborted by another turn's id.
        """
        turn = self._find(turn_id)
        current = self._current
        if turn is None and current is not None and (turn_id is None or not current.explicit):
            turn = current
        if turn is None:
            return None
        turn.status = "interrupted"
        turn.set_finished(completed_at, duration_ms)
        if turn is self._current:
            self._finish()
        else:
            self._rendered.clear()
        return turn

    def _restamp(self, turn: TurnState | None, started_at: int | None) -> None:
        """Paginated history: a turn's end record also rewrites its start time (Codex 0.171's projection)."""
        if turn is not None:
            turn.started_at, turn.cache = started_at, None
            self._rendered.clear()

    def _fail_turn(self, error: it.TurnError) -> None:
        """A turn-affecting ``error``: the current turn (if any) fails with it."""
        turn = self._current
        if turn is not None:
            turn.status, turn.error = "failed", error
            turn.cache = None

    def _rollback(self, num_turns: int) -> None:
        """``thread_rolled_back``: drop the last turns and restart ids after the surviving items."""
        self._finish()
        keep = max(len(self._turns) - max(num_turns, 0), 0)
        for turn in self._turns[keep:]:
            if self._by_id.get(turn.id) is turn:
                del self._by_id[turn.id]
            self._finished_items -= len(turn.items)
        del self._turns[keep:]
        self._rendered.clear()
        self._next_item = self._finished_items + 1
