"""The crash soak (benchmarks.soak) in miniature: a few SIGKILLs per backend, and proof its checks can fail."""

from __future__ import annotations

import pytest

from benchmarks.soak import BACKENDS, THREADS, soak


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_a_few_sigkills_lose_no_acknowledged_append(backend, tmp_path):
    """Three kills at random moments: every acknowledged append survives and the store stays sound."""
    report = soak(backend, 3, tmp_path, seed=3)
    assert report.errors == []
    assert (report.kills, report.survived, report.losses, report.corruptions) == (3, 3, 0, 0)
    assert report.appends_checked > 0 and report.lines_checked > 0


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_the_soak_reports_an_acknowledged_append_that_is_missing(backend, tmp_path):
    """An acknowledgement for a seq never written is a loss."""
    soak(backend, 1, tmp_path, seed=1)
    with open(tmp_path / f"{backend}.acks", "a") as acks:
        acks.write(f"{THREADS[0]} 1000000000\n")
    report = soak(backend, 1, tmp_path, seed=2)
    assert report.losses == 1 and report.survived == 0
    assert "acknowledged seq 1000000000" in report.errors[0]


def test_the_soak_reports_a_line_that_no_writer_wrote(tmp_path):
    """In a Codex home, a line that is neither whole nor the start of the next line is corruption."""
    soak("files", 1, tmp_path, seed=1)
    victim = next((tmp_path / "files" / "codex").rglob(f"rollout-*{THREADS[1]}.jsonl"))
    with open(victim, "ab") as file:
        file.write(b"not a line anyone wrote\n")
    report = soak("files", 1, tmp_path, seed=2)
    assert report.corruptions >= 1 and report.survived == 0
    assert any(victim.name in error for error in report.errors)
