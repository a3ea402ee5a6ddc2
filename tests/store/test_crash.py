"""SIGKILL a writing process at random moments: acknowledged appends survive, the file stays sound."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from store import SqliteStore

from .crash_writer import THREADS, TUNING

ROOT = Path(__file__).resolve().parents[2]


def _kill_once(path: Path, rng: random.Random) -> dict[str, int]:
    """Run the writer, SIGKILL it after a random delay; returns the highest acknowledged seq per thread."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.store.crash_writer", str(path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        ready = child.stdout.readline()
        assert ready == b"ready\n", child.stderr.read().decode()
        time.sleep(rng.uniform(0.0, 0.25))  # a random moment, not a timed assertion
    finally:
        os.kill(child.pid, signal.SIGKILL)
        out, err = child.communicate()
    assert child.returncode == -signal.SIGKILL, err.decode()
    acked: dict[str, int] = {}
    for line in out.decode().splitlines():
        thread_id, seq = line.split()
        acked[thread_id] = max(acked.get(thread_id, 0), int(seq))
    return acked


async def _check(path: Path, acked: dict[str, int]) -> None:
    async with SqliteStore.open(path, tuning=TUNING) as store:
        for thread_id in THREADS:
            if thread_id not in acked:
                continue
            lines = await store.read_lines(thread_id)
            assert len(lines) >= acked[thread_id], f"{thread_id}: acknowledged lines lost"
            for seq, line in enumerate(lines[1:], 2):
                assert line.payload.message.split(" pad")[0] == f"{thread_id} {seq}"


def _crash_loop(tmp_path: Path, kills: int, seed: int) -> None:
    path = tmp_path / "crash.db"
    rng = random.Random(seed)
    best: dict[str, int] = {}
    for _ in range(kills):
        acked = _kill_once(path, rng)
        for thread_id, seq in acked.items():
            best[thread_id] = max(best.get(thread_id, 0), seq)
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        finally:
            conn.close()
        asyncio.run(_check(path, best))
    assert best, "the writer never acknowledged an append"


def test_acknowledged_appends_survive_sigkill(tmp_path):
    """Five SIGKILLs at random moments lose no acknowledged append and keep the database sound."""
    _crash_loop(tmp_path, kills=5, seed=5)


@pytest.mark.slow
def test_acknowledged_appends_survive_fifty_sigkills(request, tmp_path):
    """Fifty SIGKILLs at random moments lose no acknowledged append and keep the database sound."""
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("slow: run with -m slow")
    _crash_loop(tmp_path, kills=50, seed=50)
