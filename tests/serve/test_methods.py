"""Every served thread/* method over every backend; each reply and notification is schema-checked."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rollout import events as ev

from ..store.conftest import meta, turn

EXAMPLE = next((Path(__file__).resolve().parents[2] / "examples").glob("rollout-*.jsonl"))
MESSAGE = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "injected"}]}


async def settle(server) -> None:
    """Let the store's callbacks run, then wait for the notifications they caused."""
    await asyncio.sleep(0)
    await server.notified()


async def two_turns(store) -> str:
    info = await store.start_thread(meta())
    await store.append(info.id, turn("t1", "first question") + turn("t2", "second question"))
    return info.id


async def test_start_creates_the_thread_and_announces_it_to_every_client(server, connect):
    """thread/start writes session_meta (no model), loads the thread, and every client hears thread/started."""
    a, b = await connect(name="alice"), await connect()
    started = await a.call("thread/start", {"cwd": "/src/app"})
    thread = started["thread"]
    assert thread["status"] == {"type": "idle"} and thread["cwd"] == "/src/app"
    assert thread["environments"] == [{"environmentId": "local", "cwd": "/src/app", "runtimeWorkspaceRoots": ["/src/app"]}]
    assert thread["canAcceptDirectInput"] is True
    assert thread["turns"] == []
    lines = await server.store.read_lines(thread["id"])
    assert [type(line).__name__ for line in lines] == ["SessionMetaLine"]
    assert lines[0].payload.originator == "alice" and lines[0].payload.source == "vscode"
    await settle(server)
    assert b.methods() == ["thread/started"] and b.notifications[0]["params"]["thread"]["id"] == thread["id"]
    assert (await a.call("thread/loaded/list"))["data"] == [thread["id"]]


async def test_read_returns_turns_only_when_asked(server, connect):
    """includeTurns false gives turns: [], true gives the replayed turns; the thread is notLoaded."""
    thread_id = await two_turns(server.store)
    client = await connect()
    bare = (await client.call("thread/read", {"threadId": thread_id}))["thread"]
    full = (await client.call("thread/read", {"threadId": thread_id, "includeTurns": True}))["thread"]
    assert bare["turns"] == [] and [t["id"] for t in full["turns"]] == ["t1", "t2"]
    assert full["status"] == {"type": "notLoaded"} and full["environments"] is None
    assert full["canAcceptDirectInput"] is None
    assert list(full)[:4] == ["id", "environments", "extra", "sessionId"] and list(full)[-1] == "turns"


async def test_turn_pages_walk_both_ways_and_match_read(server, connect):
    """thread/turns/list pages (newest first by default) cover read's turns once, and cursors go back."""
    thread_id = await two_turns(server.store)
    await server.store.append(thread_id, turn("t3", "third"))
    client = await connect()
    seen, cursor = [], None
    while True:
        page = await client.call("thread/turns/list", {"threadId": thread_id, "limit": 1, "cursor": cursor})
        seen += [t["id"] for t in page["data"]]
        if page["nextCursor"] is None:
            break
        cursor = page["nextCursor"]
    assert seen == ["t3", "t2", "t1"]
    back = await client.call("thread/turns/list", {"threadId": thread_id, "sortDirection": "asc",
                                                   "cursor": page["backwardsCursor"]})
    assert [t["id"] for t in back["data"]] == ["t1", "t2", "t3"]


async def test_item_pages_list_every_item_once_in_order(server, connect):
    """thread/items/list pages flatten the turns' items, ascending by default; turnId narrows to one turn."""
    thread_id = await two_turns(server.store)
    client = await connect()
    turns = (await client.call("thread/read", {"threadId": thread_id, "includeTurns": True}))["thread"]["turns"]
    expected = [(t["id"], item["id"]) for t in turns for item in t["items"]]
    seen, cursor = [], None
    while True:
        page = await client.call("thread/items/list", {"threadId": thread_id, "limit": 2, "cursor": cursor})
        seen += [(entry["turnId"], entry["item"]["id"]) for entry in page["data"]]
        if (cursor := page["nextCursor"]) is None:
            break
    assert seen == expected
    one = await client.call("thread/items/list", {"threadId": thread_id, "turnId": "t2"})
    assert {entry["turnId"] for entry in one["data"]} == {"t2"}


async def test_fork_loads_the_child_and_keeps_turns_through_last_turn_id(server, connect):
    """thread/fork with lastTurnId keeps the turns through it; the child is loaded and announced."""
    thread_id = await two_turns(server.store)
    a, b = await connect(), await connect()
    child = (await a.call("thread/fork", {"threadId": thread_id, "lastTurnId": "t1"}))["thread"]
    assert child["forkedFromId"] == thread_id and [t["id"] for t in child["turns"]] == ["t1"]
    assert child["status"] == {"type": "idle"}
    source = await server.store.info(thread_id)
    assert (child["source"], child["cliVersion"], child["originator"]) == ("vscode", server.version, source.originator)
    await settle(server)
    assert "thread/started" in b.methods()


async def test_name_archive_unarchive_delete_notify_every_client(server, connect):
    """Writes by one client are announced to the others, with Codex's params."""
    thread_id = await two_turns(server.store)
    await settle(server)  # the store's own feed announces the seeding writes: before anyone connects
    a, b = await connect(), await connect()
    await a.call("thread/name/set", {"threadId": thread_id, "name": "parser work"})
    await a.call("thread/archive", {"threadId": thread_id})
    unarchived = await a.call("thread/unarchive", {"threadId": thread_id})
    assert unarchived["thread"]["name"] == "parser work"
    await a.call("thread/delete", {"threadId": thread_id})
    await settle(server)
    names = [n for n in b.notifications if n["method"] == "thread/name/updated"]
    assert names == [] or names[0]["params"] == {"threadId": thread_id, "threadName": "parser work"}
    assert [m for m in b.methods() if m != "thread/name/updated"] == [
        "thread/archived", "thread/unarchived", "thread/deleted"]
    assert (await a.request("thread/read", {"threadId": thread_id}))["error"]["message"] == (
        f"thread not loaded: {thread_id}")


async def test_name_update_is_announced_with_the_new_name(server, connect):
    """thread/name/updated carries the name once the write is committed."""
    thread_id = await two_turns(server.store)
    a, b = await connect(), await connect()
    await a.call("thread/name/set", {"threadId": thread_id, "name": "  spaced  "})
    await settle(server)
    assert b.notifications[-1]["method"] == "thread/name/updated"
    assert b.notifications[-1]["params"]["threadName"] == "spaced"


async def test_archiving_a_loaded_thread_unloads_it(server, connect):
    """A loaded thread that is archived goes notLoaded, is closed, then archived."""
    thread_id = await two_turns(server.store)
    await settle(server)  # the store's own feed announces the seeding writes: before anyone connects
    a, b = await connect(), await connect()
    await a.call("thread/resume", {"threadId": thread_id})
    assert [n["params"]["status"] for n in b.notifications] == [{"type": "idle"}]
    await a.call("thread/archive", {"threadId": thread_id})
    await settle(server)
    assert b.methods()[1:] == ["thread/status/changed", "thread/closed", "thread/archived"]
    assert (await a.call("thread/loaded/list"))["data"] == []


async def test_inject_items_needs_a_loaded_thread_and_appends_response_items(server, connect):
    """As in Codex: inject_items on a thread nobody loaded is 'thread not found'; after resume it appends."""
    thread_id = await two_turns(server.store)
    client = await connect()
    refused = await client.request("thread/inject_items", {"threadId": thread_id, "items": [MESSAGE]})
    assert refused["error"] == {"code": -32600, "message": f"thread not found: {thread_id}"}
    before = (await server.store.info(thread_id)).last_seq
    await client.call("thread/resume", {"threadId": thread_id, "excludeTurns": True})
    assert await client.call("thread/inject_items", {"threadId": thread_id, "items": [MESSAGE, MESSAGE]}) == {}
    lines = await server.store.read_lines(thread_id, after_seq=before)
    assert [type(line.payload).__name__ for line in lines] == ["Message", "Message"]
    bad = await client.request("thread/inject_items", {"threadId": thread_id, "items": [{"bogus": 1}]})
    assert bad["error"]["message"] == "items[0] is not a valid response item: missing field `type`"


async def test_rollback_drops_turns_and_returns_the_thread(server, connect):
    """thread/rollback (the engine keeps it) hides the last turns and answers {thread}."""
    thread_id = await two_turns(server.store)
    client = await connect()
    read = {"threadId": thread_id, "includeTurns": True}
    assert len((await client.call("thread/read", read))["thread"]["turns"]) == 2  # rebuilt turns now cached
    rolled = await client.call("thread/rollback", {"threadId": thread_id, "numTurns": 1})
    assert [t["id"] for t in rolled["thread"]["turns"]] == ["t1"]
    assert [t["id"] for t in (await client.call("thread/read", read))["thread"]["turns"]] == ["t1"]
    zero = await client.request("thread/rollback", {"threadId": thread_id, "numTurns": 0})
    assert zero["error"]["code"] == -32600


async def test_metadata_update_patches_git_fields(server, connect):
    """gitInfo fields: absent ones stay, null clears, a string replaces."""
    info = await server.store.start_thread(meta(git=ev.GitInfo(commit_hash="abc", branch="dev")))
    client = await connect()
    updated = await client.call("thread/metadata/update", {"threadId": info.id,
                                                           "gitInfo": {"branch": "main", "sha": None}})
    assert updated["thread"]["gitInfo"] == {"sha": None, "branch": "main", "originUrl": None}
    assert (await server.store.info(info.id)).last_seq == 1  # edited in place: no line written
    empty = await client.request("thread/metadata/update", {"threadId": info.id})
    assert empty["error"]["message"] == "thread metadata update must include at least one field"


async def test_unsubscribe_statuses_follow_codex(server, connect):
    """notLoaded, then unsubscribed, then notSubscribed; the thread stays loaded as in Codex 0.171.0."""
    thread_id = await two_turns(server.store)
    client = await connect()
    assert (await client.call("thread/unsubscribe", {"threadId": thread_id}))["status"] == "notLoaded"
    await client.call("thread/resume", {"threadId": thread_id, "excludeTurns": True})
    assert (await client.call("thread/unsubscribe", {"threadId": thread_id}))["status"] == "unsubscribed"
    assert (await client.call("thread/unsubscribe", {"threadId": thread_id}))["status"] == "notSubscribed"
    assert (await client.call("thread/loaded/list", {"limit": 1}))["data"] == [thread_id]


@pytest.mark.parametrize(("method", "params", "message"), [
    ("thread/read", {}, "thread not loaded: {id}"),
    ("thread/turns/list", {}, "thread not loaded: {id}"),
    ("thread/archive", {}, "no rollout found for thread id {id}"),
    ("thread/unarchive", {}, "no archived rollout found for thread id {id}"),
    ("thread/delete", {}, "no rollout found for thread id {id}"),
    ("thread/name/set", {"name": "x"}, "no rollout found for thread id {id}"),
    ("thread/fork", {}, "no rollout found for thread id {id}"),
    ("thread/resume", {}, "no rollout found for thread id {id}"),
    ("thread/inject_items", {"items": []}, "thread not found: {id}"),
])
async def test_unknown_thread_gets_codex_error(connect, method, params, message):
    """An unknown thread id gets the message the real Codex gives for that method (code -32600)."""
    unknown = "019e2a5c-0000-7000-8000-00000000dead"
    client = await connect()
    reply = await client.request(method, {"threadId": unknown, **params})
    assert reply["error"] == {"code": -32600, "message": message.format(id=unknown)}
