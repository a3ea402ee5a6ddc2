"""A thread's history as Codex serves it: whole (``thread/read``) and in pages
(``thread/turns/list``, ``thread/items/list``).

Turns are rebuilt under replay's ``limited`` policy, exactly what Codex 0.171.0's
``thread/read`` shows. A page asks the store for the turns it shows and no other
(``Store.turns``), so it costs O(page) once the store's turn index is written; a whole
read is encoded once and kept (:class:`Whole`, keyed by the thread's last seq and update
time, so any write makes a new entry).

Turn cursors use Codex's own form, ``{"turnId": ..., "includeAnchor": ...}``. Item cursors
are ``{"turn": i, "item": j}`` positions (Codex 0.171.0 serves ``thread/items/list`` only
for its paginated history, so there is no form to copy).

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import msgspec

from rollout.errors import InvalidInput

from .rpc import RpcError
from .shape import encode_turns

__all__ = ["POLICY", "Whole", "item_page", "turn_page"]

#: the replay policy of everything served: Codex's own view
POLICY = "limited"

_CURSOR = msgspec.json.Decoder(dict[str, Any])


class Whole:
    """Whole threads read most recently (LRU): their turns as JSON, and the ``threadSource``
    a read with turns reports (the rest of the info is looked up each time: names change)."""

    def __init__(self, store: Any, size: int = 8) -> None:
        self._store = store
        self._size = size
        self._entries: OrderedDict[tuple[str, int, int], tuple[msgspec.Raw, str | None]] = OrderedDict()

    async def get(self, thread_id: str) -> tuple[Any, msgspec.Raw]:
        """The thread's info and every turn (raises the store's ThreadNotFound)."""
        info = await self._store.info(thread_id)
        key = (thread_id, info.last_seq, info.updated_at)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return msgspec.structs.replace(info, thread_source=found[1]), found[0]
        thread = await self._store.read(thread_id, policy=POLICY)
        raw = encode_turns(thread.turns)
        self._entries[(thread_id, thread.last_seq, thread.updated_at)] = (raw, thread.thread_source)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return thread, raw


async def _turns(store: Any, thread_id: str, cursor: str | None = None, **window: Any) -> Any:
    try:
        return await store.turns(thread_id, policy=POLICY, **window)
    except InvalidInput as exc:  # an anchor that names no turn of the thread
        raise RpcError.invalid(f"invalid cursor: {cursor}") from exc


def _turn_anchor(cursor: str) -> tuple[str, bool]:
    try:
        value = _CURSOR.decode(cursor)
        turn_id, include = value["turnId"], value.get("includeAnchor", False)
    except (msgspec.DecodeError, KeyError, TypeError):
        raise RpcError.invalid(f"invalid cursor: {cursor}") from None
    if not isinstance(turn_id, str) or not isinstance(include, bool):
        raise RpcError.invalid(f"invalid cursor: {cursor}")
    return turn_id, include


def _turn_cursor(turn_id: str, include: bool) -> str:
    return msgspec.json.encode({"turnId": turn_id, "includeAnchor": include}).decode()


async def turn_page(
    store: Any, thread_id: str, *, cursor: str | None, limit: int, descending: bool, items_view: str
) -> dict[str, Any]:
    """One page of ``thread/turns/list`` (turns encoded); reads only the page's turns."""
    if cursor is None:
        window: dict[str, Any] = {"start": -limit} if descending else {"start": 0, "stop": limit}
    else:
        anchor, include = _turn_anchor(cursor)
        if descending:
            window = {"anchor": anchor, "start": -limit + include, "stop": int(include)}
        else:
            window = {"anchor": anchor, "start": 1 - include, "stop": 1 - include + limit}
    found = await _turns(store, thread_id, cursor, items_view=items_view, **window)
    page = found.turns[::-1] if descending else found.turns
    more = found.start > 0 if descending else found.start + len(page) < found.total
    return {
        "data": encode_turns(page),
        "nextCursor": _turn_cursor(page[-1].id, False) if more and page else None,
        "backwardsCursor": _turn_cursor(page[0].id, True) if page else None,
    }


def _position(cursor: Any) -> tuple[int, int]:
    try:
        value = msgspec.json.decode(cursor) if isinstance(cursor, str) else {}
        turn, item = value["turn"], value["item"]
    except (msgspec.DecodeError, KeyError, TypeError):
        raise RpcError.invalid(f"invalid cursor: {cursor}") from None
    if not (isinstance(turn, int) and isinstance(item, int) and turn >= 0 and item >= 0):
        raise RpcError.invalid(f"invalid cursor: {cursor}")
    return turn, item


def _entry(turn: Any, ti: int, ii: int) -> dict[str, Any]:
    item = turn.items[ii]
    return {"turnId": turn.id, "item": item, "startedAtMs": getattr(item, "started_at_ms", None),
            "completedAtMs": getattr(item, "completed_at_ms", None), "_at": (ti, ii)}


def _page(entries: list[dict[str, Any]], more: bool) -> dict[str, Any]:
    def at(entry: dict[str, Any]) -> str:
        return msgspec.json.encode({"turn": entry["_at"][0], "item": entry["_at"][1]}).decode()

    cursors = (at(entries[-1]) if more and entries else None, at(entries[0]) if entries else None)
    for entry in entries:
        del entry["_at"]
    return {"data": entries, "nextCursor": cursors[0], "backwardsCursor": cursors[1]}


async def item_page(
    store: Any, thread_id: str, *, turn_id: str | None, cursor: Any, limit: int, descending: bool
) -> dict[str, Any]:
    """One page of ``thread/items/list`` entries (``{turnId, item, startedAtMs, completedAtMs}``).

    Over one turn (``turn_id``) that turn is read; over the thread, only the turns the page
    spans (up to the next item, to know whether more follow).
    """
    if turn_id:
        return await _items_of_turn(store, thread_id, turn_id, cursor, limit, descending)
    step = -1 if descending else 1
    at: tuple[int, int] | None = None if cursor is None else _position(cursor)
    ti: int | None = at[0] if at else None if descending else 0
    ii: int | None = at[1] + step if at else None if descending else 0
    entries: list[dict[str, Any]] = []
    batch = max(limit, 4)
    first = True
    while True:
        if ti is None:  # the newest turns, wherever they end
            window = {"start": -batch}
        else:
            window = {"start": max(ti - batch + 1, 0), "stop": ti + 1} if descending else {"start": ti, "stop": ti + batch}
        found = await _turns(store, thread_id, cursor, **window)
        if ti is None:
            ti = found.start + len(found.turns) - 1
        # only the first batch holds the cursor's turn: a later batch may follow turns
        # without items, so "no entry yet" does not mean "still at the cursor"
        if first and at is not None and not _valid(found, *at):
            raise RpcError.invalid(f"invalid cursor: {cursor}")
        first = False
        for turn in found.turns[::-1] if descending else found.turns:
            items = turn.items
            ii = len(items) - 1 if ii is None else ii
            while 0 <= ii < len(items):
                if len(entries) == limit:
                    return _page(entries, True)
                entries.append(_entry(turn, ti, ii))
                ii += step
            ti, ii = ti + step, None if descending else 0
        if not found.turns or ti < 0 or ti >= found.total:
            return _page(entries, False)


def _valid(found: Any, ti: int, ii: int) -> bool:
    """Whether position ``(ti, ii)`` is an item of the thread (checked on the first batch)."""
    local = ti - found.start
    return 0 <= local < len(found.turns) and 0 <= ii < len(found.turns[local].items)


async def _items_of_turn(
    store: Any, thread_id: str, turn_id: str, cursor: Any, limit: int, descending: bool
) -> dict[str, Any]:
    try:
        found = await store.turns(thread_id, anchor=turn_id, start=0, stop=1, policy=POLICY)
    except InvalidInput:
        raise RpcError.invalid(f"no turn {turn_id} in this thread") from None
    turn, ti = found.turns[0], found.start
    count = len(turn.items)
    if cursor is None:
        start = 0
    elif isinstance(cursor, dict) and cursor.get("type") == "item" and isinstance(cursor.get("itemId"), str):
        at = next((i for i, item in enumerate(turn.items) if item.id == cursor["itemId"]), None)
        if at is None:
            raise RpcError.invalid(f"no item {cursor['itemId']} in turn {turn_id}")
        start = (count - 1 - at if descending else at) + 1
    else:
        cti, cii = _position(cursor)
        if cti != ti or cii >= count:
            raise RpcError.invalid(f"invalid cursor: {cursor}")
        start = (count - 1 - cii if descending else cii) + 1
    positions = list(range(count))[::-1] if descending else list(range(count))
    chosen = positions[start : start + limit]
    entries = [_entry(turn, ti, ii) for ii in chosen]
    return _page(entries, start + len(chosen) < count)
