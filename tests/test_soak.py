"""The crash soak (benchmarks.soak) in miniature: a few SIGKILLs per backend, and proof its checks can fail."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.soak import ATOMIC_APPENDS, BACKENDS, DSN, THREADS, _Log, check, forget, line_for, soak

from .store import pg


@pytest.fixture(autouse=True)
def _postgres_schema(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
    """The postgres soak needs a server (skips saying why without one); its schema is dropped after."""
    backend = getattr(getattr(request.node, "callspec", None), "params", {}).get("backend")
    if backend == "postgres":
        reason = pg.unavailable() if DSN == pg.DSN else None
        if reason is not None:
            pytest.skip(reason)
    yield
    if backend == "postgres":
        forget("postgres", tmp_path / "postgres")


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_a_few_sigkills_lose_no_acknowledged_append(backend, tmp_path):
    """Three kills at random moments: every acknowledged append survives and the store stays sound.

    (A Codex home may keep the first lines of an append cut by a kill: about one kill in a thousand.)
    """
    report = soak(backend, 3, tmp_path, seed=3)
    assert (report.kills, report.survived, report.losses, report.corruptions) == (3, 3, 0, 0), report.errors
    assert report.passed and report.appends_checked > 0 and report.lines_checked > 0
    if backend in ATOMIC_APPENDS:
        assert report.partial_appends == 0 and report.errors == []


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_the_checks_see_a_lost_append(backend, tmp_path):
    """An acknowledgement for a seq the store does not hold is a loss."""
    soak(backend, 1, tmp_path, seed=1)
    with open(tmp_path / f"{backend}.acks", "a") as acks:
        acks.write(f"try {THREADS[0]} 1000000000\nack {THREADS[0]} 1000000000\n")
    report = check(backend, tmp_path)
    assert (report.losses, report.partial_appends) == (1, 0) and not report.passed
    assert "acknowledged seq 1000000000" in report.errors[0]


async def _append_unannounced(backend: str, path, thread_id: str, acks) -> int:
    """Append lines no writer noted, ending on a seq no noted append ends at; returns that seq.

    (A kill can land after the writer noted an append it never made: ending one line later
    could then match that noted end by chance.)
    """
    log = _Log()
    log.read(acks)
    ends = log.ends.get(thread_id, {1})
    async with BACKENDS[backend](path) as store:
        last = (await store.info(thread_id)).last_seq
        count = next(n for n in range(1, 10_000) if last + n not in ends)
        lines = [line_for(thread_id, last + n) for n in range(1, count + 1)]
        return await store.append(thread_id, lines, expected_seq=last)


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_the_checks_see_half_an_append(backend, tmp_path):
    """A store ending on a seq no append was to end at kept part of an append (here: one line nobody announced)."""
    soak(backend, 1, tmp_path, seed=1)
    last = asyncio.run(_append_unannounced(backend, tmp_path / backend, THREADS[2], tmp_path / f"{backend}.acks"))
    report = check(backend, tmp_path)
    assert (report.losses, report.partial_appends, report.corruptions) == (0, 1, 0)
    assert report.passed == (backend not in ATOMIC_APPENDS)
    assert f"stored last_seq {last} ends inside an append" in report.errors[0]


def test_the_checks_see_a_line_that_no_writer_wrote(tmp_path):
    """In a Codex home, a line that is neither whole nor the start of the next line is corruption."""
    soak("files", 1, tmp_path, seed=1)
    victim = next((tmp_path / "files" / "codex").rglob(f"rollout-*{THREADS[1]}.jsonl"))
    with open(victim, "ab") as file:
        file.write(b"not a line anyone wrote\n")
    report = check("files", tmp_path)
    assert report.corruptions == 1 and victim.name in report.errors[0]
