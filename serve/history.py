"""Pages of one thread's history: ``thread/turns/list`` and ``thread/items/list``.

The store's public API rebuilds a thread's turns whole (``Store.read``). To keep
paging a long thread O(page) after the first page (and a repeated ``thread/read``
cheap on a store that replays on every read), :class:`TurnCache` keeps the rebuilt
turns of the few threads read last, keyed by ``(thread id, last seq, update time,
items view)``: any append (an injected item, a rollback marker) changes the last
seq, so a stale entry is never served. ``TurnCache.turns`` is the one place to
switch to a store primitive that reads a range of turns (asked of issue 12).

Turn cursors use Codex's own form, ``{"turnId": ..., "includeAnchor": ...}``.
Item cursors are ``{"turn": i, "item": j}`` positions (Codex 0.171.0 serves
``thread/items/list`` only for its paginated history, so there is no form to copy).

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import bisect
import itertools
from collections import OrderedDict
from typing import Any

import msgspec

from .rpc import RpcError
from .shape import encode_turns

__all__ = ["Rebuilt", "TurnCache", "item_page", "turn_page"]

_TURN_CURSOR = msgspec.json.Decoder(dict[str, Any])


class Rebuilt:
    """One thread's rebuilt turns, with the info they were read with; indexes built once, on demand."""

    __slots__ = ("_ids", "_offsets", "_raw", "info", "turns")

    def __init__(self, info: Any, turns: list[Any]) -> None:
        self.info = info
        self.turns = turns
        self._raw: msgspec.Raw | None = None
        self._ids: dict[str, int] | None = None
        self._offsets: list[int] | None = None

    @property
    def raw(self) -> msgspec.Raw:
        """The turns as JSON."""
        if self._raw is None:
            self._raw = encode_turns(self.turns)
        return self._raw

    def index(self, turn_id: str) -> int | None:
        """Position of the (first) turn with this id."""
        if self._ids is None:
            self._ids = {}
            for i, turn in enumerate(self.turns):
                self._ids.setdefault(turn.id, i)
        return self._ids.get(turn_id)

    @property
    def offsets(self) -> list[int]:
        """``offsets[i]``: how many items the turns before turn ``i`` hold (one more entry: the total)."""
        if self._offsets is None:
            self._offsets = [0, *itertools.accumulate(len(t.items) for t in self.turns)]
        return self._offsets


class TurnCache:
    """The rebuilt turns of the threads read most recently (LRU), keyed by what changes with them."""

    def __init__(self, store: Any, size: int = 8) -> None:
        self._store = store
        self._size = size
        self._entries: OrderedDict[tuple[str, int, int, str], Rebuilt] = OrderedDict()

    async def get(self, thread_id: str, items_view: str = "full") -> Rebuilt:
        """The thread's info and every turn, oldest first (raises the store's ThreadNotFound).

        The key holds the last seq and the update time: an append (or, for a Codex home,
        a file changed behind the store's back) makes a new entry.
        """
        info = await self._store.info(thread_id)
        key = (thread_id, info.last_seq, info.updated_at, items_view)
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            return Rebuilt(info, entry.turns) if entry.info != info else entry
        thread = await self._store.read(thread_id, items_view=items_view)
        entry = Rebuilt(thread, thread.turns)
        self._entries[(thread_id, thread.last_seq, thread.updated_at, items_view)] = entry
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return entry

def _turn_anchor(cursor: str) -> tuple[str, bool]:
    try:
        value = _TURN_CURSOR.decode(cursor)
        turn_id, include = value["turnId"], value.get("includeAnchor", False)
    except (msgspec.DecodeError, msgspec.ValidationError, KeyError, TypeError):
        raise RpcError.invalid(f"invalid cursor: {cursor}") from None
    if not isinstance(turn_id, str) or not isinstance(include, bool):
        raise RpcError.invalid(f"invalid cursor: {cursor}")
    return turn_id, include


def _turn_cursor(turn_id: str, include: bool) -> str:
    return msgspec.json.encode({"turnId": turn_id, "includeAnchor": include}).decode()


def _window(lo: int, hi: int, start: int, limit: int, descending: bool) -> tuple[list[int], bool]:
    """Positions ``start .. start+limit`` of the range ``lo..hi`` walked up or down, and whether more follow."""
    count = max(0, min(limit, hi - lo - start))
    if descending:
        positions = list(range(hi - 1 - start, hi - 1 - start - count, -1))
    else:
        positions = list(range(lo + start, lo + start + count))
    return positions, start + count < hi - lo


def turn_page(rebuilt: Rebuilt, *, cursor: str | None, limit: int, descending: bool) -> dict[str, Any]:
    """One page of turns, as ``thread/turns/list`` returns it (turns not yet encoded); O(page)."""
    turns, start = rebuilt.turns, 0
    if cursor is not None:
        anchor, include = _turn_anchor(cursor)
        at = rebuilt.index(anchor)
        if at is None:
            raise RpcError.invalid(f"invalid cursor: {cursor}")
        start = (len(turns) - 1 - at if descending else at) + (0 if include else 1)
    positions, more = _window(0, len(turns), start, limit, descending)
    page = [turns[i] for i in positions]
    return {
        "data": page,
        "nextCursor": _turn_cursor(page[-1].id, False) if more and page else None,
        "backwardsCursor": _turn_cursor(page[0].id, True) if page else None,
    }


def _item_flat(cursor: Any, rebuilt: Rebuilt, turn_id: str | None) -> int:
    """The flat position (over every item of the thread) of an item cursor or anchor."""
    if isinstance(cursor, dict) and cursor.get("type") == "item" and isinstance(cursor.get("itemId"), str):
        ti = rebuilt.index(turn_id) if turn_id else None
        if ti is None:
            raise RpcError.invalid("an item anchor requires the non-empty turnId of a turn of this thread")
        for ii, item in enumerate(rebuilt.turns[ti].items):
            if item.id == cursor["itemId"]:
                return rebuilt.offsets[ti] + ii
        raise RpcError.invalid(f"no item {cursor['itemId']} in turn {turn_id}")
    try:
        value = msgspec.json.decode(cursor) if isinstance(cursor, str) else {}
        ti, ii = int(value["turn"]), int(value["item"])
    except (msgspec.DecodeError, KeyError, TypeError, ValueError):
        raise RpcError.invalid(f"invalid cursor: {cursor}") from None
    if not (0 <= ti < len(rebuilt.turns) and 0 <= ii < len(rebuilt.turns[ti].items)):
        raise RpcError.invalid(f"invalid cursor: {cursor}")
    return rebuilt.offsets[ti] + ii


def item_page(
    rebuilt: Rebuilt, *, turn_id: str | None, cursor: Any, limit: int, descending: bool
) -> dict[str, Any]:
    """One page of ``thread/items/list`` entries (``{turnId, item, startedAtMs, completedAtMs}``); O(page)."""
    offsets = rebuilt.offsets
    lo, hi = 0, offsets[-1]
    if turn_id:
        ti = rebuilt.index(turn_id)
        if ti is None:
            raise RpcError.invalid(f"no turn {turn_id} in this thread")
        lo, hi = offsets[ti], offsets[ti + 1]
    start = 0
    if cursor is not None:
        flat = min(max(_item_flat(cursor, rebuilt, turn_id), lo - 1), hi)
        start = (hi - 1 - flat if descending else flat - lo) + 1
    positions, more = _window(lo, hi, max(start, 0), limit, descending)
    entries = []
    for flat in positions:
        ti = bisect.bisect_right(offsets, flat) - 1
        turn = rebuilt.turns[ti]
        item = turn.items[flat - offsets[ti]]
        entries.append({"turnId": turn.id, "item": item, "startedAtMs": getattr(item, "started_at_ms", None),
                        "completedAtMs": getattr(item, "completed_at_ms", None), "_at": (ti, flat - offsets[ti])})

    def at(entry: dict[str, Any]) -> str:
        return msgspec.json.encode({"turn": entry["_at"][0], "item": entry["_at"][1]}).decode()

    cursors = (at(entries[-1]) if more and entries else None, at(entries[0]) if entries else None)
    for entry in entries:
        del entry["_at"]
    return {"data": entries, "nextCursor": cursors[0], "backwardsCursor": cursors[1]}
