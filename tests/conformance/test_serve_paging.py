"""Paging as the real Codex pages: `rollout serve` and `codex app-server` over one generated home.

The home holds a generated 130-turn thread and 40 one-turn threads (benchmarks.workload,
no corpus content), every file with the same mtime. Thread ids, turn ids, page sizes and
turn cursors must be equal; list cursors are compared as present or absent (each server's
own opaque form). Normalisations: none beyond those of test_serve_differential.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.bench_serve import place
from benchmarks.workload import generate_thread, tiny_thread

from .codex import AppServer, require_codex
from .engine import engine_server
from .home import make_home


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppServer, AppServer, str]]:
    require_codex()
    base = tmp_path_factory.mktemp("paging")
    home = make_home(base / "codex")
    long = generate_thread(3, 130)
    place(home, long)
    for seed in range(40):
        place(home, tiny_thread(900 + seed))
    shutil.copytree(home, base / "engine", copy_function=shutil.copy2)
    with AppServer(home) as codex, engine_server(base / "engine") as engine:
        yield codex, engine, long.thread_id


def walk(server: AppServer, method: str, params: dict[str, Any], *, exact_cursors: bool) -> list[Any]:
    """Every page of a walk: (ids, next cursor or its presence)."""
    pages, cursor = [], None
    for _ in range(200):
        result = server.request(method, {**params, "cursor": cursor})["result"]
        nxt = result["nextCursor"]
        pages.append(([t["id"] for t in result["data"]], nxt if exact_cursors else nxt is not None))
        if nxt is None:
            return pages
        cursor = nxt
    raise AssertionError("no last page after 200 pages")


@pytest.mark.parametrize("params", [{}, {"limit": 7}, {"limit": 1000}, {"limit": 0, "sortDirection": "asc"},
                                    {"sortKey": "updated_at", "limit": 9}])
def test_thread_list_pages_equal_codex(servers, params):
    """thread/list walks give the same threads page by page (default page 25, at most 100)."""
    codex, engine, _ = servers
    assert walk(engine, "thread/list", params, exact_cursors=False) == walk(
        codex, "thread/list", params, exact_cursors=False)


@pytest.mark.parametrize("params", [{}, {"limit": 7}, {"limit": 1000}, {"limit": 0},
                                    {"sortDirection": "asc", "limit": 11}])
def test_turn_pages_and_cursors_equal_codex(servers, params):
    """thread/turns/list walks: same turn ids per page and the same cursors, byte for byte."""
    codex, engine, thread_id = servers
    params = {"threadId": thread_id, **params}
    if params.get("limit") == 0:  # a 130-page walk is slow on Codex; one page says enough
        left, right = (s.request("thread/turns/list", params)["result"] for s in (codex, engine))
        assert ([t["id"] for t in right["data"]], right["nextCursor"], right["backwardsCursor"]) == (
            [t["id"] for t in left["data"]], left["nextCursor"], left["backwardsCursor"])
        return
    assert walk(engine, "thread/turns/list", params, exact_cursors=True) == walk(
        codex, "thread/turns/list", params, exact_cursors=True)


def test_backwards_turn_cursor_equals_codex(servers):
    """The backwardsCursor of a page, used with the other direction, gives Codex's page."""
    codex, engine, thread_id = servers
    replies = []
    for server in (codex, engine):
        page = server.request("thread/turns/list", {"threadId": thread_id, "limit": 5})["result"]
        back = server.request("thread/turns/list", {"threadId": thread_id, "limit": 5, "sortDirection": "asc",
                                                    "cursor": page["backwardsCursor"]})["result"]
        replies.append(([t["id"] for t in back["data"]], back["nextCursor"], back["backwardsCursor"]))
    assert replies[0] == replies[1]
