"""Every command on the real corpus: structure only (exit codes, counts, shapes), never its text."""

from __future__ import annotations

import json

import msgspec
import pytest

import replay
import rollout
from rollout.compat import upcast
from tests.corpus import corpus_files, corpus_params


def _records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize("path", corpus_params())
def test_inspect_counts_agree_with_the_library(cli, path):
    """The summary's counts are those of rollout.read_rollout and replay.build_turns."""
    result = rollout.read_rollout(path)
    turns = replay.build_turns(upcast(result.lines))
    run = cli("inspect", path, "--json")
    assert (run.code, run.err) == (0, "")
    [summary] = _records(run.out)
    assert summary["thread"]["id"] == result.thread_id
    assert summary["lines"] == len(result.lines) == sum(t["lines"] for t in summary["lineTypes"])
    assert summary["turns"] == len(turns) == sum(summary["turnStatuses"].values())
    assert summary["items"] == {k: v for k, v in summary["items"].items() if v > 0}
    assert sum(summary["items"].values()) == sum(len(t.items) for t in turns)
    assert sum(summary["problems"].values()) == len(result.problems)


@pytest.mark.parametrize("path", corpus_params())
def test_every_view_runs_and_lines_round_trip(cli, path):
    """Each human view exits 0; --lines --json gives the decoded lines' bytes back, in order."""
    for view in ([], ["--turns"], ["--lines"], ["--context"]):
        assert cli("inspect", path, *view).code == 0, view
    out = cli("inspect", path, "--lines", "--json").out.encode()
    lines = rollout.read_rollout(path).lines
    assert out == b"".join(rollout.encode_line(line) + b"\n" for line in lines)
    turns = _records(cli("inspect", path, "--turns", "--json").out)
    assert turns == [json.loads(msgspec.json.encode(t)) for t in replay.build_turns(upcast(lines))]


@pytest.mark.parametrize("path", corpus_params())
def test_validate_exit_code_matches_the_reader(cli, path):
    """validate fails exactly when the reader found a lost line or no session_meta."""
    result = rollout.read_rollout(path)
    broken = any(not p.kept for p in result.problems) or result.thread_id is None
    run = cli("validate", path, "--json")
    [report] = _records(run.out)
    assert run.code == int(broken) == int(not report["ok"])
    assert report["lines"] == len(result.lines)


def test_import_then_export_round_trips_the_corpus(cli, tmp_path):
    """Importing the corpus folder stores every thread once; export returns each file's lines."""
    files = corpus_files()
    if not files:
        pytest.skip("corpus not found")
    db = tmp_path / "corpus.db"
    run = cli("import", files[0].parent, "--db", db, "--json")
    records = _records(run.out)
    imported = {r["threadId"]: r["path"] for r in records if r["status"] == "imported"}
    assert run.code == int(any(r["status"] in ("failed", "diverged") for r in records))
    listed = _records(cli("ls", "--db", db, "--all", "--source", "all", "--provider", "all", "--limit", "100",
                          "--json").out)
    assert {info["id"] for info in listed} == set(imported)
    for thread_id, path in imported.items():
        lines = rollout.read_rollout(path).lines
        expected = b"".join(rollout.encode_line(line) + b"\n" for line in lines)
        assert cli("export", thread_id, "--db", db).out.encode() == expected
