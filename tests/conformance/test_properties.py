"""Property-based compatibility: generated rollouts read the same in the real Codex and in the engine.

Hypothesis draws a batch of threads (legacy history with the shapes Codex 0.153+ writes or
refuses, and paginated history), writes each into one Codex home under a fresh UUID, and
asks one app-server for ``thread/read`` (paginated threads are ``thread/resume``d first,
which is how Codex projects them). Codex's turns must equal the engine's ``limited`` view,
after the written normalisations (``normalise.py``). The examples this suite shrank to are
kept as regression fixtures (``fixtures/regressions/``, checked without the binary by
``test_regressions.py``). A few batches run by default, many more under ``-m slow``.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollout.codec import encode_line
from rollout.reader import read_rollout
from tests.strategies import codex_threads, paginated_threads

from .codex import AppServer, require_codex
from .engine import canonical, first_difference, turns_json
from .home import make_home
from .normalise import minted_ids

threads = st.one_of(codex_threads().map(lambda lines: (lines, False)), paginated_threads().map(lambda lines: (lines, True)))
batches = st.lists(threads, min_size=1, max_size=6)


def rollout_bytes(lines: list[Any], thread_id: str, *, paginated: bool) -> bytes:
    """The file for ``lines``: the session_meta gets ``thread_id``; paginated lines get ordinals."""
    out = []
    for ordinal, line in enumerate(lines):
        record = json.loads(encode_line(line))
        payload = record.get("payload")
        if record.get("type") == "session_meta":
            payload["id"] = thread_id
        elif isinstance(payload, dict) and payload.get("thread_id") == "thread-1":
            payload["thread_id"] = thread_id  # the strategies' placeholder for "this thread"
        if paginated:
            record = {"timestamp": record["timestamp"], "ordinal": ordinal,
                      **{key: value for key, value in record.items() if key != "timestamp"}}
        out.append(json.dumps(record).encode() + b"\n")
    return b"".join(out)


def write_thread(home: Path, lines: list[Any], *, paginated: bool) -> tuple[str, Path]:
    thread_id = str(uuid.uuid4())
    path = home / "sessions" / "2026" / "06" / "01" / f"rollout-2026-06-01T10-00-00-{thread_id}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(rollout_bytes(lines, thread_id, paginated=paginated))
    return thread_id, path


def codex_turns(codex: AppServer, thread_id: str, *, paginated: bool) -> list[Any]:
    if paginated:
        resumed = codex.request("thread/resume", {"threadId": thread_id})
        assert "error" not in resumed, resumed
    read = codex.request("thread/read", {"threadId": thread_id, "includeTurns": True})
    assert "error" not in read, read
    return read["result"]["thread"]["turns"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_codex()
    home = make_home(tmp_path_factory.mktemp("properties") / "home")
    with AppServer(home, env={"OPENAI_API_KEY": "unused"}) as codex:
        yield home, codex


def check_batch(server: tuple[Path, AppServer], batch: list[tuple[list[Any], bool]]) -> None:
    home, codex = server
    for lines, paginated in batch:
        thread_id, path = write_thread(home, lines, paginated=paginated)
        theirs = codex_turns(codex, thread_id, paginated=paginated)
        ours = turns_json(read_rollout(path).lines)
        theirs, ours = minted_ids(theirs, ours)
        assert first_difference(theirs, ours) is None, (path, first_difference(theirs, ours))
        assert canonical(theirs) == canonical(ours)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=batches)
def test_generated_threads_read_as_codex_reads_them(server, batch):
    """A few batches of generated threads: Codex's thread/read equals the engine's limited view."""
    check_batch(server, batch)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=batches)
def test_many_generated_threads_read_as_codex_reads_them(server, batch):
    """Many batches of generated threads: Codex's thread/read equals the engine's limited view."""
    check_batch(server, batch)
