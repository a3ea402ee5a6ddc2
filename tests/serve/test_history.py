"""Turn and item pages walk exactly the thread's turns and items, in both directions, with any page size."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from serve.history import Rebuilt, item_page, turn_page


def rebuilt(counts: list[int]) -> Rebuilt:
    turns = [SimpleNamespace(id=f"t{i}", items=[SimpleNamespace(id=f"i{j}") for j in range(n)])
             for i, n in enumerate(counts)]
    return Rebuilt(None, turns)


shapes = st.lists(st.integers(0, 5), max_size=8)


@given(shapes, st.integers(1, 6), st.booleans())
def test_turn_pages_cover_every_turn_once(counts, limit, descending):
    """Following nextCursor visits every turn once, in order; backwardsCursor re-includes the page's first."""
    thread = rebuilt(counts)
    seen, cursor = [], None
    while True:
        page = turn_page(thread, cursor=cursor, limit=limit, descending=descending)
        seen += [t.id for t in page["data"]]
        if page["data"]:
            back = turn_page(thread, cursor=page["backwardsCursor"], limit=1, descending=not descending)
            assert back["data"][0].id == page["data"][0].id
        if (cursor := page["nextCursor"]) is None:
            break
    expected = [f"t{i}" for i in range(len(counts))]
    assert seen == (expected[::-1] if descending else expected)


@given(shapes, st.integers(1, 6), st.booleans(), st.data())
def test_item_pages_cover_every_item_once(counts, limit, descending, data):
    """Item pages, over the thread or one turn, visit each item once in order."""
    thread = rebuilt(counts)
    turn_id = data.draw(st.none() | st.sampled_from([t.id for t in thread.turns])) if counts else None
    seen, cursor = [], None
    while True:
        page = item_page(thread, turn_id=turn_id, cursor=cursor, limit=limit, descending=descending)
        seen += [(e["turnId"], e["item"].id) for e in page["data"]]
        if (cursor := page["nextCursor"]) is None:
            break
    expected = [(t.id, i.id) for t in thread.turns if turn_id in (None, t.id) for i in t.items]
    assert seen == (expected[::-1] if descending else expected)
