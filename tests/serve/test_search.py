"""thread/search, thread/search/stream and their cancels over every backend; replies and
notifications are schema-checked by the client (the experimental schemas)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from serve.search import index_query
from store import SqliteStore

from ..store.conftest import meta, turn
from .test_transport import INIT, lines, rollout_serve

SEARCH_METHODS = ["thread/search", "thread/search/stream", "thread/search/cancel", "thread/search/stream/cancel"]


async def threads(store: Any, *texts: tuple[str, str], **fields: Any) -> list[str]:
    """One thread per (prompt, answer), started a second apart so created_at orders them."""
    ids = []
    for second, (prompt, answer) in enumerate(texts):
        info = await store.start_thread(meta(timestamp=f"2026-06-01T10:00:{second:02d}.000Z", **fields))
        await store.append(info.id, turn("t1", prompt, answer))
        ids.append(info.id)
    return ids


def found(result: dict[str, Any]) -> list[tuple[str, str]]:
    return [(entry["thread"]["id"], entry["snippet"]) for entry in result["data"]]


async def test_search_lists_matching_threads_newest_first_with_their_first_match(server, connect):
    """Threads whose prompts or answers hold the words, as thread/list sorts them; a fork holds its source's hits."""
    a, b, c = await threads(server.store, ("parsing the log", "done"), ("unrelated", "the parser crashed"),
                            ("nothing here", "nor here"))
    child = (await server.store.fork(a)).id
    client = await connect(experimental=True)
    result = await client.call("thread/search", {"searchTerm": "PARS"})
    assert sorted(found(result)) == sorted([(a, "parsing the log"), (child, "parsing the log"),
                                            (b, "the parser crashed")])
    assert [t for t, _ in found(result)][-2:] == [b, a]  # created_at descending (the fork is newest)
    asc = await client.call("thread/search", {"searchTerm": "parser", "sortDirection": "asc"})
    assert found(asc) == [(b, "the parser crashed")]
    assert (await client.call("thread/search", {"searchTerm": "zebra"})) == {
        "data": [], "nextCursor": None, "backwardsCursor": None}
    assert found(await client.call("thread/search", {"searchTerm": "here"})) == [(c, "nothing here")]


@pytest.mark.parametrize(("term", "query"), [
    ("pars", "pars*"), ("first q", "first* q*"), ("Café", "Café*"), ('"third answer"', '"third answer"'),
    ("parser -test", "parser* -test"), ("os.path join", "os.path join*"), ("migrat*", "migrat*"),
])
def test_plain_words_become_prefixes_and_the_query_language_stays(term, query):
    """Codex's substring match, approximated at word starts; quotes, exclusions and punctuated words keep their meaning."""
    assert index_query(term) == query


async def test_search_filters_archived_and_source_kinds_like_thread_list(server, connect):
    """archived: true lists only archived matches; sourceKinds widens past the interactive kinds."""
    (live,) = await threads(server.store, ("needle one", "ok"))
    (gone,) = await threads(server.store, ("needle two", "ok"))
    (batch,) = await threads(server.store, ("needle three", "ok"), source="exec")
    await server.store.archive(gone)
    client = await connect(experimental=True)
    ids = lambda result: {t for t, _ in found(result)}  # noqa: E731
    assert ids(await client.call("thread/search", {"searchTerm": "needle"})) == {live}
    assert ids(await client.call("thread/search", {"searchTerm": "needle", "archived": True})) == {gone}
    assert ids(await client.call("thread/search", {"searchTerm": "needle", "sourceKinds": ["exec"]})) == {batch}


async def test_search_pages_cover_every_match_once_and_cursors_go_back(server, connect):
    """limit pages through every matching thread once; backwardsCursor with the other direction re-reads the page."""
    ids = await threads(server.store, *[(f"needle {i}", "ok") for i in range(7)])
    client = await connect(experimental=True)
    seen, cursor, pages = [], None, []
    while True:
        page = await client.call("thread/search", {"searchTerm": "needle", "limit": 3, "cursor": cursor})
        pages.append(page)
        seen += [t for t, _ in found(page)]
        if (cursor := page["nextCursor"]) is None:
            break
    assert seen == ids[::-1] and [len(p["data"]) for p in pages] == [3, 3, 1]
    back = await client.call("thread/search", {"searchTerm": "needle", "limit": 3, "sortDirection": "asc",
                                               "cursor": pages[1]["backwardsCursor"]})
    assert [t for t, _ in found(back)] == ids[3:6]  # back from the page's first thread (included), oldest first
    bad = await client.request("thread/search", {"searchTerm": "needle", "cursor": "garbage"})
    assert bad["error"] == {"code": -32600, "message": "invalid cursor: garbage"}


async def test_stream_sends_partial_rows_then_the_authoritative_reply(server, connect):
    """thread/search/stream: thread/search/partial notifications naming the request, rows from the final answer."""
    await threads(server.store, *[(f"needle {i}", "ok") for i in range(3)])
    client = await connect(experimental=True)
    reply = await client.request("thread/search/stream", {"searchTerm": "needle"}, id="s-1")
    partial = [n for n in client.notifications if n["method"] == "thread/search/partial"]
    assert partial and all(n["params"]["requestId"] == "s-1" for n in partial)
    rows = [(r["thread"]["id"], r["snippet"]) for n in partial for r in n["params"]["data"]]
    assert len(set(rows)) == len(rows) and set(rows) <= set(found(reply["result"]))
    plain = await connect(experimental=True)
    await plain.call("thread/search", {"searchTerm": "needle"})
    assert [n for n in plain.notifications if n["method"] == "thread/search/partial"] == []  # only the stream sends partials, as in Codex


async def test_bad_terms_get_codex_errors(connect):
    """An empty term, a stream term over 65,536 bytes, a missing term: Codex's errors; a term of no words finds nothing."""
    client = await connect(experimental=True)
    assert (await client.request("thread/search", {"searchTerm": "  "}))["error"] == {
        "code": -32600, "message": "thread/search requires a non-empty searchTerm"}
    assert (await client.request("thread/search/stream", {"searchTerm": "x" * 65_537}))["error"] == {
        "code": -32602, "message": "thread/search/stream searchTerm exceeds 65536 UTF-8 bytes"}
    assert (await client.request("thread/search", {}))["error"]["message"] == "Invalid request: missing field `searchTerm`"
    assert (await client.call("thread/search", {"searchTerm": "!!!"}))["data"] == []


@pytest.mark.parametrize("method", [*SEARCH_METHODS, "thread/searchOccurrences"])
async def test_search_methods_need_the_experimental_opt_in(connect, method):
    """Without capabilities.experimentalApi every search method gets Codex's capability error."""
    params = {"requestId": 1} if method.endswith("cancel") else {"searchTerm": "x", "threadId": "x"}
    error = (await (await connect()).request(method, params))["error"]
    assert error == {"code": -32600, "message": f"{method} requires experimentalApi capability"}


async def test_a_store_without_an_index_answers_not_served(server, connect, monkeypatch):
    """A backend that keeps no search index (a third-party one): -32601 naming the store, not an internal error."""
    monkeypatch.setattr(type(server.store), "searchable", property(lambda self: False))
    error = (await (await connect(experimental=True)).request("thread/search", {"searchTerm": "x"}))["error"]
    assert error["code"] == -32601 and "keeps no full-text index" in error["message"]


async def test_every_backend_here_keeps_a_search_index(server):
    """The stores of this package all answer thread/search."""
    assert server.store.searchable


async def test_a_client_that_may_search_has_the_index_brought_up_to_date_in_the_background(server, connect):
    """Only an experimentalApi client starts it; the threads are indexed before any search, and later writes too."""
    store = server.store
    await threads(store, ("plum jam", "ok"), ("fig tart", "ok"))
    await connect()
    assert server._search_catch_up is None and len(await store._index_stale()) == 2
    await connect(experimental=True)
    await server._search_catch_up
    assert await store._index_stale() == []
    await threads(store, ("quince", "ok"))
    for _ in range(200):  # the written thread is projected right after its commit, with no search
        if not await store._index_stale():
            break
        await asyncio.sleep(0.01)
    assert await store._index_stale() == []


class Gate:
    """Wraps ``store.search`` so searches wait until released (a search that is still running)."""

    def __init__(self, store: Any) -> None:
        self.inner, self.entered, self.release = store.search, asyncio.Event(), asyncio.Event()

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.entered.set()
        await self.release.wait()
        return await self.inner(*args, **kwargs)


async def test_cancel_stops_a_running_search_which_gets_its_error(server, connect, monkeypatch):
    """The cancel answers {}; the search answers -32600 "thread search cancelled"; only its own method's cancel
    and only its own connection reach it; cancelling again, or an unknown id, still answers {}."""
    await threads(server.store, ("needle", "ok"))
    gate = Gate(server.store)
    monkeypatch.setattr(server.store, "search", gate)
    client, other = await connect(experimental=True), await connect(experimental=True)
    search = asyncio.create_task(client.request("thread/search", {"searchTerm": "needle"}, id=7))
    await gate.entered.wait()
    assert await client.call("thread/search/stream/cancel", {"requestId": 7}) == {}  # the stream's cancel: not this
    assert await other.call("thread/search/cancel", {"requestId": 7}) == {}  # another connection's id 7
    assert await client.call("thread/search/cancel", {"requestId": "7"}) == {}  # a string id is another id
    assert not search.done()
    assert await client.call("thread/search/cancel", {"requestId": 7}) == {}
    reply = await asyncio.wait_for(search, 10)
    assert reply == {"error": {"code": -32600, "message": "thread search cancelled"}, "id": 7}
    assert await client.call("thread/search/cancel", {"requestId": 7}) == {}
    assert client.conn.searches == {}
    gate.release.set()
    result = await client.call("thread/search", {"searchTerm": "needle"})  # the connection serves on
    assert len(result["data"]) == 1


async def test_cancelled_stream_gets_its_error_and_no_later_partials(server, connect, monkeypatch):
    """thread/search/stream/cancel stops a running stream; no partial follows its error."""
    await threads(server.store, ("needle", "ok"))
    gate = Gate(server.store)
    monkeypatch.setattr(server.store, "search", gate)
    client = await connect(experimental=True)
    stream = asyncio.create_task(client.request("thread/search/stream", {"searchTerm": "needle"}, id="s"))
    await gate.entered.wait()
    assert await client.call("thread/search/stream/cancel", {"requestId": "s"}) == {}
    assert (await asyncio.wait_for(stream, 10))["error"]["message"] == "thread search cancelled"
    gate.release.set()
    await asyncio.sleep(0.05)
    assert [n for n in client.notifications if n["method"] == "thread/search/partial"] == []


def test_search_over_stdio(tmp_path: Path):
    """`rollout serve --db` over stdio: the opted-in client's search finds the thread, the other is refused."""

    async def seed() -> str:
        async with SqliteStore.open(tmp_path / "t.db") as store:
            return (await threads(store, ("where is the needle", "found it")))[0]

    thread_id = asyncio.run(seed())
    init = {**INIT, "params": {**INIT["params"], "capabilities": {"experimentalApi": True}}}
    for opted, first in ((True, init), (False, INIT)):
        proc = rollout_serve("--db", str(tmp_path / "t.db"))
        out, err = proc.communicate(lines(first, {"method": "initialized"},
                                          {"id": 1, "method": "thread/search", "params": {"searchTerm": "needle"}},
                                          {"id": 2, "method": "thread/search/cancel", "params": {"requestId": 99}}),
                                    timeout=60)
        assert proc.returncode == 0, err
        replies = {r["id"]: r for r in map(json.loads, out.splitlines()) if "id" in r}
        if opted:
            assert [(d["thread"]["id"], d["snippet"]) for d in replies[1]["result"]["data"]] == [
                (thread_id, "where is the needle")]
            assert replies[2] == {"id": 2, "result": {}}
        else:
            assert replies[1]["error"]["message"] == "thread/search requires experimentalApi capability"
