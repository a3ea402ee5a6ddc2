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

from collections import OrderedDict
from typing import Any

import msgspec

from .rpc import RpcError
from .shape import encode_turns

__all__ = ["Rebuilt", "TurnCache", "item_page", "turn_page"]

_TURN_CURSOR = msgspec.json.Decoder(dict[str, Any])


class Rebuilt:
    """One thread's rebuilt turns, with the info they were read with and their JSON (made once)."""

    __slots__ = ("_raw", "info", "turns")

    def __init__(self, info: Any, turns: list[Any]) -> None:
        self.info = info
        self.turns = turns
        self._raw: msgspec.Raw | None = None

    @property
    def raw(self) -> msgspec.Raw:
        if self._raw is None:
            self._raw = encode_turns(self.turns)
        return self._raw


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

    async def turns(self, thread_id: str, items_view: str) -> list[Any]:
        """Every turn of the thread, oldest first."""
        return (await self.get(thread_id, items_view)).turns


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


def turn_page(turns: list[Any], *, cursor: str | None, limit: int, descending: bool) -> dict[str, Any]:
    """One page of turns, as ``thread/turns/list`` returns it (turns not yet encoded)."""
    ordered = list(reversed(turns)) if descending else turns
    start = 0
    if cursor is not None:
        anchor, include = _turn_anchor(cursor)
        ids = [t.id for t in ordered]
        if anchor not in ids:
            raise RpcError.invalid(f"invalid cursor: {cursor}")
        start = ids.index(anchor) + (0 if include else 1)
    page = ordered[start : start + limit]
    more = start + len(page) < len(ordered)
    return {
        "data": page,
        "nextCursor": _turn_cursor(page[-1].id, False) if more and page else None,
        "backwardsCursor": _turn_cursor(page[0].id, True) if page else None,
    }


def _item_position(cursor: Any, turns: list[Any], turn_id: str | None) -> tuple[int, int]:
    """(turn index, item index) of an item cursor or anchor; exclusive."""
    if isinstance(cursor, dict) and cursor.get("type") == "item" and isinstance(cursor.get("itemId"), str):
        if not turn_id:
            raise RpcError.invalid("an item anchor requires a non-empty turnId")
        for ti, turn in enumerate(turns):
            if turn.id == turn_id:
                for ii, item in enumerate(turn.items):
                    if item.id == cursor["itemId"]:
                        return ti, ii
        raise RpcError.invalid(f"no item {cursor['itemId']} in turn {turn_id}")
    try:
        value = msgspec.json.decode(cursor) if isinstance(cursor, str) else {}
        return int(value["turn"]), int(value["item"])
    except (msgspec.DecodeError, KeyError, TypeError, ValueError):
        raise RpcError.invalid(f"invalid cursor: {cursor}") from None


def item_page(
    turns: list[Any], *, turn_id: str | None, cursor: Any, limit: int, descending: bool
) -> dict[str, Any]:
    """One page of ``thread/items/list`` entries (``{turnId, item, startedAtMs, completedAtMs}``)."""
    if turn_id and not any(t.id == turn_id for t in turns):
        raise RpcError.invalid(f"no turn {turn_id} in this thread")
    flat = [
        (ti, ii, turn, item)
        for ti, turn in enumerate(turns)
        if not turn_id or turn.id == turn_id
        for ii, item in enumerate(turn.items)
    ]
    if descending:
        flat.reverse()
    start = 0
    if cursor is not None:
        pos = _item_position(cursor, turns, turn_id)
        keys = [(ti, ii) for ti, ii, _, _ in flat]
        start = keys.index(pos) + 1 if pos in keys else len(keys)
    page = flat[start : start + limit]
    more = start + len(page) < len(flat)

    def at(entry: tuple[int, int, Any, Any]) -> str:
        return msgspec.json.encode({"turn": entry[0], "item": entry[1]}).decode()

    return {
        "data": [
            {
                "turnId": turn.id,
                "item": item,
                "startedAtMs": getattr(item, "started_at_ms", None),
                "completedAtMs": getattr(item, "completed_at_ms", None),
            }
            for _, _, turn, item in page
        ],
        "nextCursor": at(page[-1]) if more and page else None,
        "backwardsCursor": at(page[0]) if page else None,
    }
