"""`rollout serve --codex-home H` against the real `codex app-server` over the same home, same client script.

Compared after the written normalisations (:mod:`tests.conformance.normalise`: ``path``
relative to the home; mtime fields are equal because both homes carry the same fixed
mtimes; a ``cwd`` Codex joined to its working directory; the pre-envelope files only the
engine reads; the order of threads sharing a sort key; the live-session fields of a fork
child) and two of this test's own: the reply's ``id`` (each client counts its own
requests) is dropped, and the ``readStates`` map is compared in sorted key order (Codex
sends a hash map, whose order varies from run to run). Key order is compared everywhere
else: ``thread/list``, ``thread/read`` (includeTurns), ``thread/turns/list``, and
``thread/fork`` then ``thread/read`` of the child (whose new id, times and path are
normalised too). Each test reports every differing field path.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..corpus import corpus_files
from .codex import AppServer, require_codex
from .engine import engine_server
from .home import make_home, place
from .normalise import codex_cannot_read, live_session, relative_path, resolved_cwd, sort_groups

ALL_SOURCES = ["cli", "vscode", "exec", "appServer", "subAgent", "subAgentReview", "subAgentCompact",
               "subAgentThreadSpawn", "subAgentOther", "unknown"]
EVERYTHING = {"modelProviders": [], "sourceKinds": ALL_SOURCES, "limit": 100}


def diff(left: Any, right: Any, path: str = "") -> Iterator[str]:
    """Field paths (list indices as []) where two documents differ, key order included."""
    if isinstance(left, dict) and isinstance(right, dict):
        if list(left) != list(right) and set(left) == set(right):
            yield f"{path}{{key order}}"
        for key in sorted(set(left) | set(right)):
            if key not in left or key not in right:
                yield f"{path}.{key} ({'codex only' if key in left else 'engine only'})"
            else:
                yield from diff(left[key], right[key], f"{path}.{key}")
    elif isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            yield f"{path}[] (length {len(left)} vs {len(right)})"
        for a, b in zip(left, right):
            yield from diff(a, b, f"{path}[]")
    elif left != right or type(left) is not type(right):
        yield path


def report(differences: Counter[str]) -> str:
    return "\n".join(f"{count:5d}  {where}" for where, count in differences.most_common(40))


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppServer, AppServer, Path, Path]]:
    """One Codex home of every corpus file, copied twice: one for Codex, one for the engine."""
    require_codex()
    files = corpus_files()
    if not files:
        pytest.skip("the corpus is not there (../shared/corpus/codex-real)")
    base = tmp_path_factory.mktemp("differential")
    codex_home = make_home(base / "codex")
    for source in files:
        place(codex_home, source)
    engine_home = base / "engine"
    shutil.copytree(codex_home, engine_home, copy_function=shutil.copy2)
    with AppServer(codex_home) as codex, engine_server(engine_home) as engine:
        yield codex, engine, codex_home, engine_home


def both(homes, method: str, params: dict[str, Any]) -> tuple[Any, Any]:
    """Both servers' replies to the same request, normalised (see the module docstring)."""
    codex, engine, codex_home, engine_home = homes
    replies = []
    for server, home in ((codex, codex_home), (engine, engine_home)):
        reply = resolved_cwd(relative_path(server.request(method, params), home), home)
        reply.pop("id")
        result = reply.get("result")
        if isinstance(result, dict) and isinstance(result.get("readStates"), dict):
            result["readStates"] = dict(sorted(result["readStates"].items()))
        replies.append(reply)
    return replies[0], replies[1]


def listed_ids(homes) -> list[str]:
    codex = homes[0]
    ids = []
    for archived in (False, True):
        ids += [t["id"] for t in codex.request("thread/list", {**EVERYTHING, "archived": archived})["result"]["data"]]
    return ids


def compare(homes, method: str, params_list: list[dict[str, Any]], strip=lambda doc: doc) -> None:
    differences: Counter[str] = Counter()
    for params in params_list:
        left, right = both(homes, method, params)
        differences.update(set(diff(strip(left), strip(right))))
    assert not differences, f"{method}: fields that differ (documents affected, path):\n{report(differences)}"


def by_id(reply: dict[str, Any], home: Path | None = None) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """A list reply as (entries in order, entries by id, the rest with cursors as present/absent).

    With ``home`` (the engine's), the files Codex cannot read are left out (normalisation 6).
    """
    result = reply.get("result")
    if result is None:
        return [], {}, reply
    data = [t for t in result["data"] if home is None or not codex_cannot_read(home / t["path"].removeprefix("<home>/"))]
    kept = {t["id"] for t in data}
    rest = {k: (bool(v) if k.endswith("ursor") else v) for k, v in result.items() if k != "data"}
    rest["readStates"] = {k: v for k, v in rest.get("readStates", {}).items() if k in kept}
    return data, {t["id"]: t for t in data}, rest


def test_thread_list_pages_equal_codex(homes):
    """thread/list: the default page and full listings: same threads, same order, equal entries."""
    differences: Counter[str] = Counter()
    for params in ({}, EVERYTHING, {**EVERYTHING, "archived": True}, {**EVERYTHING, "sortKey": "updated_at"}):
        key = "updatedAt" if params.get("sortKey") == "updated_at" else "createdAt"
        codex_reply, engine_reply = both(homes, "thread/list", params)
        (left_list, left, left_rest), (right_list, right, right_rest) = by_id(codex_reply), by_id(engine_reply, homes[3])
        differences.update(set(diff(left_rest, right_rest, "result")))
        differences.update(f"thread listed by {side} only: {i}" for side, ids, other in (
            ("codex", left, right), ("engine", right, left)) for i in ids if i not in other)
        common = [[t for t in side if t["id"] in left and t["id"] in right] for side in (left_list, right_list)]
        if sort_groups(common[0], key) != sort_groups(common[1], key):
            differences[f"order of the common threads ({json.dumps(params)[:40]})"] += 1
        for thread_id in set(left) & set(right):
            differences.update(set(diff(left[thread_id], right[thread_id], "entry")))
    assert not differences, f"thread/list: what differs (count, where):\n{report(differences)}"


def test_thread_read_equals_codex(homes):
    """thread/read with includeTurns of every thread Codex lists."""
    compare(homes, "thread/read", [{"threadId": i, "includeTurns": True} for i in listed_ids(homes)])


def test_thread_turns_list_equals_codex(homes):
    """thread/turns/list (default: summary view, newest first) of every thread Codex lists."""

    def strip(reply):
        result = reply.get("result", {})
        return {**reply, "result": {"data": result.get("data"), "nextCursor": bool(result.get("nextCursor"))}}

    compare(homes, "thread/turns/list", [{"threadId": i} for i in listed_ids(homes)], strip)


def test_fork_then_read_of_the_child_equals_codex(homes):
    """thread/fork of each listed thread, then thread/read of the child: equal apart from new id, times, path
    and the live session's fields (normalisation 8)."""
    fresh = ("id", "sessionId", "createdAt", "updatedAt", "recencyAt", "path")
    differences: Counter[str] = Counter()
    for thread_id in listed_ids(homes)[:10]:
        left, right = both(homes, "thread/fork", {"threadId": thread_id})
        if "error" in left or "error" in right:
            differences.update(set(diff(left, right)))
            continue
        children = []
        for server, reply, home in ((homes[0], left, homes[2]), (homes[1], right, homes[3])):
            child = reply["result"]["thread"]["id"]
            read = relative_path(server.request("thread/read", {"threadId": child, "includeTurns": True}), home)
            thread = live_session(resolved_cwd(read["result"]["thread"], home))
            children.append({k: ("<new>" if k in fresh else v) for k, v in thread.items()})
        differences.update(set(diff(*children)))
    assert not differences, f"fork children differ:\n{report(differences)}"


def test_error_replies_equal_codex(homes):
    """The same bad requests get the same error replies from both servers."""
    unknown = "019e2a5c-0000-7000-8000-00000000dead"
    probes = [
        ("thread/read", {"threadId": unknown}), ("thread/read", {}), ("thread/read", {"threadId": 5}),
        ("thread/read", {"threadId": "not-a-uuid"}), ("thread/list", {"limit": -1}),
        ("thread/list", {"cursor": "garbage"}), ("thread/list", {"sortKey": "section_position"}),
        ("thread/list", {"originators": ["x"]}), ("nope/nope", {}), ("thread/archive", {"threadId": unknown}),
        ("thread/unarchive", {"threadId": unknown}), ("thread/delete", {"threadId": unknown}),
        ("thread/name/set", {"threadId": unknown, "name": "x"}), ("thread/fork", {"threadId": unknown}),
        ("thread/resume", {"threadId": unknown}), ("thread/inject_items", {"threadId": unknown, "items": []}),
        ("thread/unsubscribe", {"threadId": unknown}), ("thread/metadata/update", {"threadId": unknown}),
        ("thread/inject_items", {"threadId": unknown, "items": 5}), ("thread/search", {"searchTerm": "x"}),
    ]
    mismatched = []
    for method, params in probes:
        left, right = both(homes, method, params)
        if left != right:
            mismatched.append(f"{method} {json.dumps(params)}:\n  codex:  {left}\n  engine: {right}")
    assert not mismatched, "\n".join(mismatched)
