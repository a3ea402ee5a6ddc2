"""The reducer's per-turn working state, its public rendering and its persisted form.

:class:`TurnState` is the mutable turn the reducer appends to (items plus an id ->
position index for O(1) upserts). :func:`present` renders it as the public
:class:`~replay.items.Turn`, caching the rendering until the turn changes so a
snapshot of a long thread costs little more than one list. :class:`BuilderState`
is the msgpack form :meth:`replay.HistoryBuilder.dump` writes.

Must not import: store, replay.history, anything doing I/O.
"""

from __future__ import annotations

import functools
from typing import Any

import msgspec
from msgspec.structs import replace

from . import items as it

__all__ = [
    "STATE_VERSION",
    "BuilderState",
    "MidTurn",
    "TurnRecord",
    "TurnSpan",
    "TurnState",
    "present",
    "state_decoder",
    "with_items_view",
]


class TurnSpan(msgspec.Struct, frozen=True, kw_only=True):
    """Which input lines a turn covers: ``lines[start:end]`` (0-based, end exclusive).

    Spans tile the file in turn order: a turn ends where the next turn opened (or at
    the last line fed), so ``lines[:span.end]`` is "the thread up to and including
    this turn", and ``lines[span.start:]`` is what rolling it (and every later
    turn) back hides.
    """

    turn_id: str
    start: int
    end: int


class MidTurn(msgspec.Struct, frozen=True):
    """Where a copy of the lines fed so far (a fork) ends: inside a turn, which Codex closes
    with ``turn_aborted{turn_id, reason: "interrupted"}``.

    Attributes:
        turn_id: the explicit turn still in progress, or None for a legacy history whose
            last user message no turn completion or abort followed.
    """

    turn_id: str | None = None


class TurnState:
    """One turn while the reducer works on it."""

    __slots__ = (
        "cache",
        "completed_at",
        "duration_ms",
        "end",
        "error",
        "explicit",
        "id",
        "items",
        "positions",
        "root_turn_id",
        "saw_compaction",
        "start",
        "started_at",
        "status",
    )

    def __init__(self, turn_id: str, *, start: int, explicit: bool) -> None:
        self.id = turn_id
        self.root_turn_id: str | None = None
        self.items: list[it.ThreadItem] = []
        self.positions: dict[str, int] = {}
        self.status: it.TurnStatus = "inProgress" if explicit else "completed"
        self.error: it.TurnError | None = None
        self.started_at: int | None = None
        self.completed_at: int | None = None
        self.duration_ms: int | None = None
        self.explicit = explicit
        self.saw_compaction = False
        self.start = start
        self.end: int | None = None
        self.cache: it.Turn | None = None

    def kept(self) -> bool:
        """Whether finishing keeps this turn (implicit turns need an item or a compaction)."""
        return bool(self.items) or self.explicit or self.saw_compaction

    def push(self, item: Any) -> None:
        # An id already present keeps resolving to its first position, as in Codex.
        self.positions.setdefault(item.id, len(self.items))
        self.items.append(item)
        self.cache = None

    def upsert(self, item: Any) -> bool:
        """Replace the item with the same id, or append it; ``True`` when appended."""
        position = self.positions.get(item.id)
        if position is None:
            self.push(item)
            return True
        self.items[position] = item
        self.cache = None
        return False

    def replace_last(self, item: Any) -> None:
        self.items[-1] = item
        self.cache = None

    def set_finished(self, completed_at: int | None, duration_ms: int | None) -> None:
        self.completed_at, self.duration_ms = completed_at, duration_ms
        self.cache = None


def _summary(items: list[Any]) -> list[Any]:
    first_user = next((item for item in items if isinstance(item, it.UserMessage)), None)
    last_agent = next((item for item in reversed(items) if isinstance(item, it.AgentMessage)), None)
    return [item for item in (first_user, last_agent) if item is not None]


def present(turn: TurnState, running: bool, items_view: it.ItemsView) -> it.Turn:
    """Render ``turn`` as a public Turn (spec 8.1 steps 4 and 6)."""
    base = turn.cache
    if base is None:
        base = turn.cache = it.Turn(
            id=turn.id,
            root_turn_id=turn.root_turn_id,
            items=list(turn.items),
            status=turn.status,
            error=turn.error,
            started_at=turn.started_at,
            completed_at=turn.completed_at,
            duration_ms=turn.duration_ms,
        )
    if not running and base.status == "inProgress":
        base = replace(base, status="interrupted")
    return with_items_view(base, items_view)


def with_items_view(turn: it.Turn, items_view: it.ItemsView) -> it.Turn:
    """A full-view ``turn`` in ``items_view``: ``summary`` keeps the first userMessage and the
    last agentMessage, ``notLoaded`` no item (spec 8.1 step 6)."""
    if items_view == "full":
        return turn
    items = _summary(turn.items) if items_view == "summary" else []
    return replace(turn, items=items, items_view=items_view)


# --------------------------------------------------------------------------- persisted form


class TurnRecord(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    root_turn_id: str | None = None
    items: list[it.ThreadItem] = []
    status: str = "completed"
    error: it.TurnError | None = None
    started_at: int | None = None
    completed_at: int | None = None
    duration_ms: int | None = None
    explicit: bool = False
    saw_compaction: bool = False
    start: int = 0
    end: int | None = None

    @classmethod
    def of(cls, turn: TurnState) -> TurnRecord:
        return cls(**{name: getattr(turn, name) for name in cls.__struct_fields__})

    def restore(self) -> TurnState:
        turn = TurnState(self.id, start=self.start, explicit=self.explicit)
        for name in self.__struct_fields__:
            if name not in ("id", "items"):
                setattr(turn, name, getattr(self, name))
        for item in self.items:
            turn.push(item)
        return turn


#: format of :class:`BuilderState`; a dump of another version is refused (the store rebuilds it)
STATE_VERSION = 3  # 3: user_marks, last_close (the mid-turn rule of forks)


class BuilderState(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Everything a HistoryBuilder needs to continue feeding (format :data:`STATE_VERSION`)."""

    version: int = 1
    policy: str = "extended"
    mode: str | None = None
    turns: list[TurnRecord] = []
    current: TurnRecord | None = None
    next_item: int = 1
    finished_items: int = 0
    seen: int = 0
    kept: int = 0
    prelude_start: int | None = None
    anchor: int = -1
    user_marks: list[int] = []
    last_close: int = -1
    pending_calls: list[it.ThreadItem] = []


STATE_ENCODER = msgspec.msgpack.Encoder()


@functools.cache
def state_decoder() -> msgspec.msgpack.Decoder[BuilderState]:
    """The :class:`BuilderState` decoder, built on first use.

    Building it resolves every ThreadItem type: milliseconds that a process which never
    loads a dump (``rollout inspect``) need not spend.
    """
    return msgspec.msgpack.Decoder(BuilderState)
