"""Ours against the machine's own bounds, and resume as threads grow (issue 15's figures).

``python -m benchmarks.bounds [--quick] [--json]`` measures, each side in the same run and
interleaved (so a noisy neighbour slows both):

* **one producer**: SqliteStore durable append of the long thread, one ``append`` per turn,
  against raw ``sqlite3`` doing the least a durable store can: per turn, ``executemany``
  of the turn's lines as ``(thread, seq, bytes)`` rows and one COMMIT (WAL, synchronous=FULL);
* **64 producers**: 64 threads appended concurrently, turn by turn, against ``executemany``
  of all their lines in one transaction (lines/s);
* **FileStore**: durable append of the long thread into a Codex home against plain JSONL:
  one write of the turn's lines and one ``fsync`` per turn;
* **scaling**: SqliteStore resume of threads of 50, 200, 1,000 and 5,000 turns on a freshly
  reopened store, cold (nothing replayed before) and snapshot-backed (a resume earlier, then
  reopen), as total and per-turn milliseconds.

Every time is the median of the repeats. Imports ``benchmarks.*``, ``store`` and ``rollout``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.limits import executemany
from benchmarks.workload import Thread, generate_thread
from rollout.codec import decode_line
from store import FileStore, SqliteStore, Store

SCALE_TURNS = (50, 200, 1000, 5000)


def _turns(thread: Thread) -> list[list[Any]]:
    return [[decode_line(line) for line in turn] for turn in thread.turns]


async def _append(store: Store, turns: list[list[Any]]) -> str:
    first, *rest = turns[0]
    thread_id = (await store.start_thread(first)).id
    if rest:
        await store.append(thread_id, rest)
    for lines in turns[1:]:
        await store.append(thread_id, lines)
    return thread_id


async def _timed_append(opening: Any, turns: list[list[Any]]) -> float:
    async with opening as store:
        start = time.perf_counter()
        await _append(store, turns)
        return time.perf_counter() - start


def raw_sqlite_per_turn(thread: Thread, path: Path) -> float:
    """Seconds for raw sqlite3 to store ``thread`` durably, one transaction per turn."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE lines(thread TEXT, seq INTEGER, data BLOB, PRIMARY KEY(thread, seq))")
    seq = 0
    start = time.perf_counter()
    for turn in thread.turns:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO lines VALUES (?, ?, ?)", [(thread.thread_id, seq + i, b) for i, b in enumerate(turn)])
        conn.execute("COMMIT")
        seq += len(turn)
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def jsonl_fsync_per_turn(thread: Thread, path: Path) -> float:
    """Seconds to write ``thread`` as JSONL, one write and one fsync per turn."""
    start = time.perf_counter()
    with open(path, "ab", buffering=0) as out:
        for turn in thread.turns:
            out.write(b"".join(line + b"\n" for line in turn))
            os.fsync(out.fileno())
    return time.perf_counter() - start


async def _interleaved(thread: Thread, repeat: int, bound: Callable[[int], float],
                       opening: Callable[[int], Any]) -> dict[str, Any]:
    """``repeat`` pairs of the bound's seconds and ours (appending ``thread`` turn by turn), alternated."""
    turns = _turns(thread)
    ours, bounds = [], []
    for n in range(repeat):
        bounds.append(bound(n))
        ours.append(await _timed_append(opening(n), turns))
    o, b = statistics.median(ours), statistics.median(bounds)
    return {"ours_s": o, "bound_s": b, "ratio": b / o, "ours_all": ours, "bound_all": bounds}


async def one_producer(thread: Thread, folder: Path, repeat: int) -> dict[str, Any]:
    return await _interleaved(thread, repeat, lambda n: raw_sqlite_per_turn(thread, folder / f"raw-{n}.db"),
                              lambda n: SqliteStore.open(folder / f"ours-{n}.db"))


async def files_append(thread: Thread, folder: Path, repeat: int) -> dict[str, Any]:
    return await _interleaved(thread, repeat, lambda n: jsonl_fsync_per_turn(thread, folder / f"plain-{n}.jsonl"),
                              lambda n: FileStore.open(folder / f"home-{n}"))


async def many_producers(threads: list[Thread], folder: Path, repeat: int) -> dict[str, Any]:
    prepared = [_turns(t) for t in threads]
    lines = sum(len(t.lines) for t in threads)
    rates = []
    for n in range(repeat):
        async with SqliteStore.open(folder / f"many-{n}.db") as store:
            start = time.perf_counter()
            await asyncio.gather(*(_append(store, turns) for turns in prepared))
            rates.append(lines / (time.perf_counter() - start))
    every = [line for t in threads for line in t.lines]
    bound_rows, _ = executemany(every, folder, repeat)
    ours = statistics.median(rates)
    return {"producers": len(threads), "lines": lines, "ours_lines_s": ours, "bound_rows_s": bound_rows,
            "ratio": ours / bound_rows, "ours_all": rates}


async def _resume_once(path: Path, thread_id: str) -> float:
    async with SqliteStore.open(path) as store:
        start = time.perf_counter()
        await store.resume(thread_id)
        return time.perf_counter() - start


async def scaling(folder: Path, repeat: int, sizes: tuple[int, ...] = SCALE_TURNS,
                  warm_repeat: int = 5) -> list[dict[str, Any]]:
    """Cold and snapshot-backed resume per thread length (the store holds that one thread).

    Cold: the first resume after importing (nothing replayed before), once per store built
    (``repeat``). Snapshot-backed: ``warm_repeat`` more resumes, each on a freshly reopened
    store, so a single slow sample does not decide the per-turn verdict (median).
    """
    rows = []
    for turns in sizes:
        thread = generate_thread(9_001 + turns, turns)
        cold, warm = [], []
        for n in range(repeat):
            path = folder / f"scale-{turns}-{n}.db"
            async with SqliteStore.open(path) as store:
                result = await store.import_rollout(b"".join(line + b"\n" for line in thread.lines))
            cold.append(await _resume_once(path, result.thread_id))  # no snapshot yet: replays every line
            for _ in range(warm_repeat):  # from the snapshot the first one saved
                warm.append(await _resume_once(path, result.thread_id))
        c, w = statistics.median(cold), statistics.median(warm)
        rows.append({"turns": turns, "lines": len(thread.lines), "bytes": thread.nbytes, "cold_ms": c * 1e3,
                     "cold_per_turn_ms": c * 1e3 / turns, "snapshot_ms": w * 1e3,
                     "snapshot_per_turn_ms": w * 1e3 / turns, "snapshot_all_ms": [x * 1e3 for x in warm]})
    return rows


async def measure(thread: Thread, folder: Path, *, quick: bool = False,
                  log: Any = lambda message: None) -> dict[str, Any]:
    """Every figure of this module, as plain data."""
    repeat = 1 if quick else 3
    out: dict[str, Any] = {}
    log("bounds: one producer vs raw sqlite commit per turn ...")
    out["one_producer"] = await one_producer(thread, folder, repeat)
    log("bounds: 64 producers vs executemany ...")
    many = [generate_thread(31_337 + i, 10 if quick else 20) for i in range(64)]
    out["many_producers"] = await many_producers(many, folder, repeat)
    log("bounds: FileStore vs JSONL + fsync per turn ...")
    out["files"] = await files_append(thread, folder, repeat)
    log("bounds: resume at 50 .. 5,000 turns ...")
    out["scaling"] = await scaling(folder, 1, SCALE_TURNS[:3] if quick else SCALE_TURNS)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bounds", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, no 5,000-turn thread")
    parser.add_argument("--json", action="store_true", help="print JSON (the default is JSON too, indented)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rollout-bounds-") as tmp:
        result = asyncio.run(measure(generate_thread(7 * 101, 200), Path(tmp), quick=args.quick,
                                     log=lambda m: print(m, file=sys.stderr, flush=True)))
    print(json.dumps(result, indent=None if args.json else 2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
