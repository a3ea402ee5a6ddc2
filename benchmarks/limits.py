"""The machine's limits for this workload: what no thread store on this disk and CPU can beat.

* append bound: raw ``sqlite3`` ``executemany`` of the thread's lines as ``(thread_id, seq, bytes)``
  rows in ONE transaction (WAL, synchronous=FULL), on the benchmark's filesystem;
* durable single-append bound: the disk's ``fsync`` rate (small ``os.write`` + ``os.fsync`` loop),
  and a SQLite WAL commit of one small row, the floor of "one durable append per turn";
* read bound: raw ``msgspec.json.decode`` of the same stored bytes, line by line.

``python -m benchmarks.limits [--quick] [--json] [--dir DIR]``. Standard library + msgspec only.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import msgspec

from benchmarks.workload import Thread, generate_thread


@dataclass
class Limits:
    """Measured bounds; rates are per second."""

    executemany_rows: float     # rows/s, one transaction
    executemany_mb: float       # MB/s of line bytes, same run
    fsync: float                # os.fsync/s after a small write
    sqlite_commit: float        # durable single-row commits/s (WAL, synchronous=FULL)
    decode_lines: float         # msgspec.json.decode lines/s
    decode_mb: float            # MB/s, same run
    lines: int                  # size of the sample they were measured on
    nbytes: int


def executemany(lines: list[bytes], folder: Path, repeat: int = 3) -> tuple[float, float]:
    """Best of ``repeat`` runs of one-transaction ``executemany``; returns (rows/s, MB/s)."""
    rows = [("thread", seq, line) for seq, line in enumerate(lines)]
    size = sum(map(len, lines))
    best = float("inf")
    for attempt in range(repeat):
        path = folder / f"limit-{attempt}.sqlite"
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE lines (thread_id TEXT, seq INTEGER, data BLOB, PRIMARY KEY (thread_id, seq))")
        start = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO lines VALUES (?, ?, ?)", rows)
        conn.execute("COMMIT")
        best = min(best, time.perf_counter() - start)
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return len(rows) / best, size / best / 1e6


def fsync_rate(folder: Path, seconds: float = 1.0) -> float:
    """Small appends, each followed by ``os.fsync``, for about ``seconds``; returns fsyncs/s."""
    path = folder / "fsync.probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    count, start = 0, time.perf_counter()
    try:
        while time.perf_counter() - start < seconds:
            os.write(fd, b'{"timestamp":"2026-01-01T00:00:00.000Z","type":"probe"}\n')
            os.fsync(fd)
            count += 1
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    return count / (time.perf_counter() - start)


def sqlite_commit_rate(folder: Path, seconds: float = 1.0) -> float:
    """One small INSERT per transaction (WAL, synchronous=FULL) for about ``seconds``; commits/s."""
    path = folder / "commit.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, data BLOB)")
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        conn.execute("INSERT INTO t VALUES (?, ?)", (count, b"x" * 200))
        count += 1
    rate = count / (time.perf_counter() - start)
    conn.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return rate


def decode_rate(lines: list[bytes], repeat: int = 3) -> tuple[float, float]:
    """Best of ``repeat`` passes of ``msgspec.json.decode`` over every line; (lines/s, MB/s)."""
    decoder = msgspec.json.Decoder()
    size = sum(map(len, lines))
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for line in lines:
            decoder.decode(line)
        best = min(best, time.perf_counter() - start)
    return len(lines) / best, size / best / 1e6


def measure(thread: Thread, folder: Path, *, quick: bool = False) -> Limits:
    """All bounds, on ``thread``'s lines and in ``folder`` (the filesystem the benchmark uses)."""
    lines = thread.lines
    seconds = 0.5 if quick else 2.0
    rows, rows_mb = executemany(lines, folder)
    lines_s, decode_mb = decode_rate(lines)
    return Limits(executemany_rows=rows, executemany_mb=rows_mb, fsync=fsync_rate(folder, seconds),
                  sqlite_commit=sqlite_commit_rate(folder, seconds), decode_lines=lines_s,
                  decode_mb=decode_mb, lines=len(lines), nbytes=sum(map(len, lines)))


def best(first: Limits, second: Limits) -> Limits:
    """Per bound, the better of two measurements (a noisy neighbour only ever lowers a bound)."""
    rates = {k: max(getattr(first, k), getattr(second, k)) for k in
             ("executemany_rows", "executemany_mb", "fsync", "sqlite_commit", "decode_lines", "decode_mb")}
    return Limits(**rates, lines=first.lines, nbytes=first.nbytes)


def render(limits: Limits) -> str:
    """Plain-text summary."""
    return "\n".join([
        f"sample: {limits.lines} lines, {limits.nbytes / 1e6:.1f} MB",
        f"append bound   sqlite3 executemany, 1 transaction: {limits.executemany_rows:,.0f} rows/s "
        f"({limits.executemany_mb:,.0f} MB/s)",
        f"durable bound  os.fsync after a small write:        {limits.fsync:,.0f} /s",
        f"               sqlite WAL commit of one row:        {limits.sqlite_commit:,.0f} /s",
        f"read bound     msgspec.json.decode per line:        {limits.decode_lines:,.0f} lines/s "
        f"({limits.decode_mb:,.0f} MB/s)",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.limits", description=__doc__.splitlines()[0],
                                     epilog="example: python -m benchmarks.limits --quick")
    parser.add_argument("--quick", action="store_true", help="shorter fsync/commit probes")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--dir", type=Path, default=None, help="directory on the filesystem to probe")
    parser.add_argument("--turns", type=int, default=200, help="turns of the sample thread (default 200)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="rollout-limits-") as tmp:
        limits = measure(generate_thread(7, args.turns), Path(tmp), quick=args.quick)
    print(json.dumps(asdict(limits)) if args.json else render(limits))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
