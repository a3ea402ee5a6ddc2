"""Listing a Codex home with FileStore vs the plain scan Codex falls back to; import throughput.

Run: ``python -m benchmarks.bench_files [--threads 10000] [--limit 50] [--repeat 5] [--dir DIR] [--json]``

A Codex home of ``--threads`` generated one-turn threads (``benchmarks.workload.tiny_thread``,
spread over 60 days, files placed and dated as Codex places them) is built once (kept in
``--dir`` when given). Then, for the first page of ``--limit`` threads, newest first:

* **scan**: walk ``sessions/YYYY/MM/DD``, open every rollout and decode its first line
  (the filesystem fallback with no index), sort, take the page;
* **FileStore warm**: ``list()`` on an open store (the default 1 s refresh interval,
  and ``refresh_interval=0``, which re-checks every directory's mtime on each call);
* **FileStore cold-ish**: a fresh ``FileStore.open`` on the existing sidecar index plus the
  first ``list()`` (new connection, no in-process cache; the OS page cache stays warm);
* **index rebuild**: ``FileStore.open`` with no sidecar (reads every file once) + ``list()``.

The figure is scan time / FileStore time (target >= 50x for warm and cold-ish). Also
printed: import throughput (MB/s of rollout bytes) of the whole home into a fresh
``SqliteStore`` through ``store.copy_threads``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import msgspec

from benchmarks.timing import best_of
from benchmarks.workload import tiny_thread
from rollout.codex_home import CodexHome
from store.files import FileStore

_first_line = msgspec.json.Decoder()


def build_home(root: Path, count: int) -> int:
    """Write ``count`` generated threads into a Codex home; returns the bytes written."""
    home = CodexHome(root)
    total = 0
    for seed in range(count):
        thread = tiny_thread(seed)
        lines = thread.lines
        meta = _first_line.decode(lines[0])["payload"]
        created = datetime.fromisoformat(meta["timestamp"].replace("Z", "+00:00"))
        path = home.active_path(thread.thread_id, created)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = b"".join(line + b"\n" for line in lines)
        path.write_bytes(data)
        last = datetime.fromisoformat(_first_line.decode(lines[-1])["timestamp"].replace("Z", "+00:00"))
        stamp = int(last.timestamp() * 1e9)
        os.utime(path, ns=(stamp, stamp))
        total += len(data)
    return total


def scan_first_lines(root: Path, limit: int) -> list[str]:
    """The no-index baseline: read every rollout's first line, sort newest first, page."""
    found = []
    sessions = root / "sessions"
    for year in sorted(os.scandir(sessions), key=lambda e: e.name, reverse=True):
        for month in sorted(os.scandir(year.path), key=lambda e: e.name, reverse=True):
            for day in sorted(os.scandir(month.path), key=lambda e: e.name, reverse=True):
                for entry in os.scandir(day.path):
                    if not entry.name.startswith("rollout-"):
                        continue
                    with open(entry.path, "rb") as file:
                        payload = _first_line.decode(file.readline())["payload"]
                    found.append((payload["timestamp"], payload["id"]))
    found.sort(reverse=True)
    return [thread_id for _, thread_id in found[:limit]]



async def _abest(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        await fn()
        best = min(best, time.perf_counter() - start)
    return best


async def measure(root: Path, limit: int, repeat: int) -> dict:
    sidecar = root / ".rollout-engine"
    shutil.rmtree(sidecar, ignore_errors=True)
    start = time.perf_counter()
    async with FileStore.open(root) as store:
        first = await store.list(limit=limit)
    rebuild = time.perf_counter() - start
    scan_ids = scan_first_lines(root, limit)
    assert [t.id for t in first.data] == scan_ids, "FileStore and the scan disagree on the first page"
    scan = best_of(lambda: scan_first_lines(root, limit), repeat)

    async def cold():
        async with FileStore.open(root) as fresh:
            await fresh.list(limit=limit)

    cold_ish = await _abest(cold, repeat)
    async with FileStore.open(root) as store:
        warm = await _abest(lambda: store.list(limit=limit), repeat * 20)
    async with FileStore.open(root, refresh_interval=0) as store:
        warm_checked = await _abest(lambda: store.list(limit=limit), repeat * 20)
    return {
        "scan_ms": round(scan * 1e3, 2),
        "warm_ms": round(warm * 1e3, 3),
        "warm_dir_check_ms": round(warm_checked * 1e3, 3),
        "cold_ish_ms": round(cold_ish * 1e3, 2),
        "rebuild_ms": round(rebuild * 1e3, 1),
        "warm_speedup": round(scan / warm, 1),
        "warm_dir_check_speedup": round(scan / warm_checked, 1),
        "cold_ish_speedup": round(scan / cold_ish, 1),
        "rebuild_speedup": round(scan / rebuild, 2),
        "target_speedup": 50,
    }


async def import_throughput(root: Path, nbytes: int) -> dict:
    try:
        from store import SqliteStore
        from store.copy import copy_threads
    except ImportError as exc:  # SqliteStore not built yet
        return {"import": f"skipped: {exc}"}
    with tempfile.TemporaryDirectory() as scratch:
        async with FileStore.open(root) as source, SqliteStore.open(Path(scratch) / "threads.db") as target:
            start = time.perf_counter()
            copied = await copy_threads(source, target)
            seconds = time.perf_counter() - start
    return {
        "import_threads": copied,
        "import_mb": round(nbytes / 1e6, 1),
        "import_s": round(seconds, 2),
        "import_mb_s": round(nbytes / 1e6 / seconds, 1),
        "import_threads_s": round(copied / seconds, 0),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=10_000)
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", type=Path, help="keep the generated home here and reuse it")
    parser.add_argument("--no-import", action="store_true", help="skip the SqliteStore import figure")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        root = args.dir or Path(scratch) / "codex-home"
        marker = root / f".bench-{args.threads}"
        if not marker.exists():
            shutil.rmtree(root, ignore_errors=True)
            start = time.perf_counter()
            nbytes = build_home(root, args.threads)
            marker.write_text(str(nbytes))
            print(f"built {args.threads} threads ({nbytes / 1e6:.1f} MB) in {time.perf_counter() - start:.1f}s",
                  file=sys.stderr)
        nbytes = int(marker.read_text())
        results = {"threads": args.threads, "limit": args.limit, "home_mb": round(nbytes / 1e6, 1)}
        results.update(asyncio.run(measure(root, args.limit, args.repeat)))
        if not args.no_import:
            results.update(asyncio.run(import_throughput(root, nbytes)))
    if args.json:
        print(json.dumps(results))
    else:
        width = max(map(len, results))
        for key, value in results.items():
            print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
