"""What a thread hop costs, and why the SQLite store does not use aiosqlite.

Run: ``python -m benchmarks.bench_hop [--json]``

A read of one thread's metadata is a row lookup plus a chunk lookup. ``SqliteStore`` runs
the whole read as one job on a reader thread: one hop to the thread and one back.
aiosqlite runs each ``execute`` and each ``fetchone`` as its own hop, so the same read
costs four. Measured here on the same database, best of 5 runs of 2,000 reads:

* ``hop_us``: a no-op ``run_in_executor`` round trip on a one-thread pool;
* ``lane_read_us``: the two statements in one job (the store's way);
* ``aiosqlite_read_us``: the same two statements through aiosqlite (skipped when it is
  not installed; it is not a dependency).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

READS = 2000
_ROW = "SELECT tkey, state FROM threads WHERE id = ?"
_CHUNK = "SELECT seq, data FROM chunks WHERE tkey = ? AND seq <= ? ORDER BY seq DESC LIMIT 1"


def _database(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE threads (tkey INTEGER PRIMARY KEY, id TEXT UNIQUE, state BLOB)")
        conn.execute("CREATE TABLE chunks (tkey INTEGER, seq INTEGER, data BLOB, PRIMARY KEY (tkey, seq))")
        conn.executemany("INSERT INTO threads VALUES (?, ?, ?)", [(i, f"t{i}", b"x" * 200) for i in range(1000)])
        conn.executemany("INSERT INTO chunks VALUES (?, 1, ?)", [(i, b"y" * 500) for i in range(1000)])


def _best(runs: list[float]) -> float:
    return round(min(runs) / READS * 1e6, 2)


async def _hops() -> float:
    pool = ThreadPoolExecutor(1)
    loop = asyncio.get_running_loop()
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(READS):
            await loop.run_in_executor(pool, int)
        runs.append(time.perf_counter() - start)
    pool.shutdown()
    return _best(runs)


async def _lane(path: Path) -> float:
    pool = ThreadPoolExecutor(1)
    conn = sqlite3.connect(path, check_same_thread=False)

    def read(key: str) -> Any:
        tkey, _ = conn.execute(_ROW, (key,)).fetchone()
        return conn.execute(_CHUNK, (tkey, 1)).fetchone()

    loop = asyncio.get_running_loop()
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for i in range(READS):
            await loop.run_in_executor(pool, read, f"t{i % 1000}")
        runs.append(time.perf_counter() - start)
    conn.close()
    pool.shutdown()
    return _best(runs)


async def _aiosqlite(path: Path) -> float | str:
    try:
        import aiosqlite
    except ImportError:
        return "not installed"
    runs = []
    async with aiosqlite.connect(path) as db:
        for _ in range(5):
            start = time.perf_counter()
            for i in range(READS):
                cursor = await db.execute(_ROW, (f"t{i % 1000}",))
                tkey, _ = await cursor.fetchone()
                cursor = await db.execute(_CHUNK, (tkey, 1))
                await cursor.fetchone()
            runs.append(time.perf_counter() - start)
    return _best(runs)


async def measure() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hop.db"
        _database(path)
        return {"hop_us": await _hops(), "lane_read_us": await _lane(path), "aiosqlite_read_us": await _aiosqlite(path)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    results = asyncio.run(measure())
    if args.json:
        print(json.dumps(results))
        return
    for key, value in results.items():
        print(f"{key:20} {value}")


if __name__ == "__main__":
    main()
