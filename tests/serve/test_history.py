"""Turn and item pages walk exactly the thread's turns and items, in both directions, with any page size."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rollout import events as ev
from serve.history import item_page, turn_page
from serve.rpc import RpcError
from store import MemoryStore

from ..store.conftest import event, meta

shapes = st.lists(st.integers(0, 5), max_size=8)


async def _thread(store: Any, counts: list[int]) -> str:
    """A thread whose turn ``i`` holds ``counts[i]`` agent messages (its only items)."""
    info = await store.start_thread(meta())
    lines: list[ev.Line] = []
    for i, count in enumerate(counts):
        lines.append(event(ev.TaskStartedEvent(turn_id=f"t{i}")))
        lines += [event(ev.AgentMessageEvent(message=f"m{i}.{j}")) for j in range(count)]
        lines.append(event(ev.TaskCompleteEvent(turn_id=f"t{i}")))
    if lines:
        await store.append(info.id, lines)
    return info.id


def _run(counts: list[int], walk: Any) -> Any:
    async def main() -> Any:
        async with MemoryStore.open() as store:
            return await walk(store, await _thread(store, counts))

    return asyncio.run(main())


@settings(max_examples=60, deadline=None)
@given(shapes, st.integers(1, 6), st.booleans())
# turns without items count like any other turn (turn pages never look at items)
@example(counts=[1, 0, 0, 0, 1], limit=1, descending=False)
@example(counts=[1, 0, 0, 0, 1], limit=1, descending=True)
@example(counts=[0, 0, 0, 0, 0, 0], limit=4, descending=False)
@example(counts=[0, 0, 0, 0, 0, 0], limit=4, descending=True)
def test_turn_pages_cover_every_turn_once(counts, limit, descending):
    """Following nextCursor visits every turn once, in order; backwardsCursor re-includes the page's first."""

    async def walk(store: Any, thread_id: str) -> list[str]:
        seen, cursor = [], None
        while True:
            page = await turn_page(store, thread_id, cursor=cursor, limit=limit, descending=descending,
                                   items_view="notLoaded")
            ids = [turn["id"] for turn in msgspec.json.decode(page["data"])]
            seen += ids
            if ids:
                back = await turn_page(store, thread_id, cursor=page["backwardsCursor"], limit=1,
                                       descending=not descending, items_view="notLoaded")
                assert msgspec.json.decode(back["data"])[0]["id"] == ids[0]
            if (cursor := page["nextCursor"]) is None:
                return seen

    expected = [f"t{i}" for i in range(len(counts))]
    assert _run(counts, walk) == (expected[::-1] if descending else expected)


@settings(max_examples=60, deadline=None)
@given(shapes, st.integers(1, 6), st.booleans(), st.none() | st.integers(0, 7))
# a page that ends before a run of empty turns longer than a read batch (4 turns): the
# next page walks past them into a later batch (CI found it ascending; descending mirrors it)
@example(counts=[1, 0, 0, 0, 1], limit=1, descending=False, which=None)
@example(counts=[1, 0, 0, 0, 1], limit=1, descending=True, which=None)
@example(counts=[2, 0, 0, 0, 0, 0, 0, 0, 0, 3], limit=2, descending=False, which=None)
@example(counts=[2, 0, 0, 0, 0, 0, 0, 0, 0, 3], limit=2, descending=True, which=None)
def test_item_pages_cover_every_item_once(counts, limit, descending, which):
    """Item pages, over the thread or one turn, visit each item once in order; no page is empty but the last."""
    turn_id = f"t{which % len(counts)}" if which is not None and counts else None

    async def walk(store: Any, thread_id: str) -> list[tuple[str, str]]:
        seen, cursor = [], None
        while True:
            page = await item_page(store, thread_id, turn_id=turn_id, cursor=cursor, limit=limit,
                                   descending=descending)
            seen += [(entry["turnId"], entry["item"].text) for entry in page["data"]]
            if (cursor := page["nextCursor"]) is None:
                return seen
            assert page["data"]

    expected = [(f"t{i}", f"m{i}.{j}") for i, count in enumerate(counts) if turn_id in (None, f"t{i}")
                for j in range(count)]
    assert _run(counts, walk) == (expected[::-1] if descending else expected)


@pytest.mark.parametrize("cursor", ['{"turnId": "nope"}', "garbage", '{"turnId": 5}'])
async def test_a_turn_cursor_naming_no_turn_is_refused(cursor):
    """A cursor that is not Codex's form, or names no turn of the thread: invalid cursor."""
    async with MemoryStore.open() as store:
        thread_id = await _thread(store, [1, 2])
        with pytest.raises(RpcError, match="invalid cursor"):
            await turn_page(store, thread_id, cursor=cursor, limit=2, descending=True, items_view="full")


@pytest.mark.parametrize("cursor", ['{"turn": 9, "item": 0}', '{"turn": 0, "item": 7}', "[1]", '{"turn": -1, "item": 0}'])
async def test_an_item_cursor_naming_no_item_is_refused(cursor):
    """An item position outside the thread is an invalid cursor, either way."""
    async with MemoryStore.open() as store:
        thread_id = await _thread(store, [1, 2])
        for descending in (False, True):
            with pytest.raises(RpcError, match="invalid cursor"):
                await item_page(store, thread_id, turn_id=None, cursor=cursor, limit=2, descending=descending)


@pytest.mark.parametrize("descending", [False, True])
async def test_pages_over_empty_turns_walk_every_backend(server, connect, descending):
    """Over each backend's turn index, turns without items neither stop nor repeat a walk (turns and items)."""
    thread_id = await _thread(server.store, [1, 0, 0, 0, 0, 0, 1, 0])
    client = await connect()
    direction = "desc" if descending else "asc"
    walked: dict[str, list[str]] = {}
    for method, key in (("thread/turns/list", "id"), ("thread/items/list", "turnId")):
        seen, cursor = [], None
        while True:
            page = await client.call(method, {"threadId": thread_id, "limit": 1, "cursor": cursor,
                                              "sortDirection": direction})
            seen += [entry[key] for entry in page["data"]]
            if (cursor := page["nextCursor"]) is None:
                break
        walked[method] = seen
    turns = [f"t{i}" for i in range(8)]
    assert walked["thread/turns/list"] == (turns[::-1] if descending else turns)
    assert walked["thread/items/list"] == (["t6", "t0"] if descending else ["t0", "t6"])
