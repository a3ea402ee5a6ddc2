"""The PostgreSQL limits benchmark runs end to end on a tiny workload and cleans up after itself."""

from __future__ import annotations

import asyncio

import pytest

from benchmarks import postgres_limits

from .conftest import admin


def test_producers_are_spread_over_at_most_the_given_processes():
    """1, 16 and 64 producers over 4 processes: as even as possible, never an empty process."""
    assert postgres_limits._split(1, 4) == [1]
    assert postgres_limits._split(16, 4) == [4, 4, 4, 4]
    assert postgres_limits._split(6, 4) == [2, 2, 1, 1]


@pytest.mark.parametrize("mode", ["copy", "writer", "store"])
def test_a_tiny_run_counts_every_row_and_drops_its_schema(dsn, mode, monkeypatch):
    """Two producers in two processes write every line of their 2-turn threads; no schema is left."""
    monkeypatch.setattr(postgres_limits, "DSN", dsn)
    monkeypatch.setenv("ROLLOUT_BENCH_DSN", dsn)
    rate = postgres_limits.measure(mode, 2, 2, 2)
    assert (rate.producers, rate.processes) == (2, 2)
    assert rate.rows == 2 * len(postgres_limits.generate_thread(7, 2).lines) and rate.seconds > 0
    left = asyncio.run(admin(dsn, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench_limit_%'"))
    assert left == []
