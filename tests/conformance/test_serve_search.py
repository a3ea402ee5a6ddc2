"""`thread/search` of `rollout serve --codex-home H` against the real `codex app-server` over the same home.

The home holds the project's own scenario threads (``fixtures/scenarios/*.legacy.*.jsonl``,
recorded by driving Codex with the scripted model; no corpus file). Codex finds a term as a
literal, case-insensitive substring of a visible message; the engine asks its full-text
index for words, each plain word as a prefix (docs/serve.md says where that differs). The
terms below are words found at word starts, where both must agree: the same threads, in
the same order, the same snippet, equal thread objects (normalisations 1 and 5), and the
same cursors present or absent (the engine's cursors are its ``thread/list`` cursors).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .codex import AppServer, require_codex
from .engine import engine_server
from .home import make_home, place
from .normalise import relative_path, resolved_cwd

SCENARIOS = Path(__file__).parent / "fixtures" / "scenarios"
TERMS = ["first", "question", "answer", "FIRST", "third answer", "fail", "helper", "echo", "Word", "nothing-like-this"]


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppServer, AppServer, Path, Path]]:
    """One home of the scenario threads, twice; both servers opted in to the experimental API."""
    require_codex()
    base = tmp_path_factory.mktemp("search")
    codex_home = make_home(base / "codex")
    for source in sorted(SCENARIOS.glob("*.legacy.*.jsonl")):
        place(codex_home, source)
    engine_home = base / "engine"
    shutil.copytree(codex_home, engine_home, copy_function=shutil.copy2)
    with AppServer(codex_home, experimental=True) as codex, engine_server(engine_home, experimental=True) as engine:
        yield codex, engine, codex_home, engine_home


def ask(homes: Any, method: str, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    codex, engine, codex_home, engine_home = homes
    replies = []
    for server, home in ((codex, codex_home), (engine, engine_home)):
        reply = resolved_cwd(relative_path(server.request(method, params), home), home)
        reply.pop("id")
        result = reply.get("result")
        if isinstance(result, dict):  # cursors are opaque: compared present or absent
            reply["result"] = {k: (v is not None if k.endswith("ursor") else v) for k, v in result.items()}
        replies.append(reply)
    return replies[0], replies[1]


@pytest.mark.parametrize("method", ["thread/search", "thread/search/stream"])
@pytest.mark.parametrize("params", [{}, {"limit": 2}, {"sortDirection": "asc"}, {"sortKey": "updated_at"},
                                    {"archived": True}, {"sourceKinds": ["exec"]}])
def test_search_results_equal_codex(homes, method, params):
    """Same threads, order, snippets and thread objects for terms both match alike."""
    different = []
    for term in TERMS:
        codex, engine = ask(homes, method, {"searchTerm": term, **params})
        if codex != engine:
            different.append(f"{term!r}:\n  codex:  {json.dumps(codex)[:600]}\n  engine: {json.dumps(engine)[:600]}")
    assert not different, "\n".join(different)


def test_search_errors_equal_codex(homes):
    """An empty term, an over-long stream term, a bad cursor, limit or sort key, missing params: Codex's errors."""
    probes = [
        ("thread/search", {"searchTerm": "   "}), ("thread/search", {}),
        ("thread/search/stream", {"searchTerm": "x" * 70_000}), ("thread/search", {"searchTerm": "x", "cursor": "bad"}),
        ("thread/search/cancel", {"requestId": 12345}), ("thread/search/stream/cancel", {"requestId": "nope"}),
        ("thread/search/cancel", {}), ("thread/search", {"searchTerm": "x", "limit": -1}),
        ("thread/search", {"searchTerm": "x", "sortKey": "nope"}), ("thread/search", {"searchTerm": "x", "sortDirection": "up"}),
        ("thread/list", {"sourceKinds": ["cli", "bad"]}),
    ]
    different = [f"{m} {json.dumps(p)[:80]}: {c} / {e}" for m, p in probes for c, e in [ask(homes, m, p)] if c != e]
    assert not different, "\n".join(different)
