"""SqliteStore figures for issue 4: durable appends, fork cost, first list page, bytes on disk.

Run: ``python -m benchmarks.bench_store [--quick] [--json] [--dir DIR]``

* **appends**: generated Codex threads (``benchmarks.workload.generate_thread``, 60 turns
  each, ~32 lines per turn); one ``append`` per turn, each returning only once durable
  (WAL, synchronous=FULL). 1 producer appends one thread; 16 producers append 16 threads
  concurrently (group commit). The figure is lines/s divided by raw ``sqlite3``
  ``executemany`` of the same lines as ``(thread_id, seq, bytes)`` rows in ONE transaction
  (``benchmarks.limits.executemany``); both best of 3. Target: >= 0.5x with 16 producers.
* **fork**: median time of ``fork(thread)`` for a 20-line and a 20,000-line thread;
  the figure is their ratio (target <= 1.5).
* **list**: median time of the first ``list(limit=50)`` page over 100,000 threads, on a
  freshly reopened store.
* **bytes on disk**: the real corpus (``../shared/corpus/codex-real``) imported into an
  empty store, database file size after close / the corpus's JSONL size (target <= 0.35).
  Also shown: the same corpus appended turn by turn (appends are compressed at the
  faster ``append_level``; imports at ``bulk_level``), without the pre-envelope files,
  whose lines have no timestamp for an append to accept.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.limits import executemany
from benchmarks.workload import Thread, corpus_dir, corpus_threads, generate_thread
from rollout import events as ev
from rollout.codec import decode_line
from store import SqliteStore

_LIST_THREADS = 100_000


def _prepare(thread: Thread) -> list[list[Any]]:
    return [[decode_line(line) for line in turn] for turn in thread.turns]


async def _append_rate(path: Path, threads: list[Thread]) -> tuple[float, float]:
    """(lines/s, appends/s) appending every thread's turns, one producer per thread."""
    prepared = [_prepare(thread) for thread in threads]
    async with SqliteStore.open(path) as store:
        ids = []
        for turns in prepared:
            ids.append((await store.start_thread(turns[0][0])).id)
            turns[0] = turns[0][1:]

        async def produce(thread_id: str, turns: list[list[Any]]) -> int:
            for lines in turns:
                if lines:
                    await store.append(thread_id, lines)
            return sum(1 for lines in turns if lines)

        start = time.perf_counter()
        appends = await asyncio.gather(*(produce(tid, turns) for tid, turns in zip(ids, prepared)))
        elapsed = time.perf_counter() - start
    lines = sum(len(lines) for turns in prepared for lines in turns)
    return lines / elapsed, sum(appends) / elapsed


def appends(folder: Path, quick: bool) -> dict[str, Any]:
    """Durable append throughput with 1 and 16 producers, as a ratio to raw executemany.

    Both sides are best of ``repeat`` runs (``benchmarks.limits.executemany`` takes the
    best of 3), each run on a fresh database; the median ratio is printed too.
    """
    turns, repeat = (20, 2) if quick else (60, 3)
    threads = [generate_thread(1000 + n, turns=turns) for n in range(16)]
    out: dict[str, Any] = {}
    for producers in (1, 16):
        sample = threads[:producers]
        runs = [asyncio.run(_append_rate(folder / f"append-{producers}-{n}.db", sample)) for n in range(repeat)]
        raw_rows, _ = executemany([line for t in sample for line in t.lines], folder)
        lines_s, appends_s = max(runs)
        out[f"append_{producers}_lines_per_s"] = round(lines_s)
        out[f"append_{producers}_appends_per_s"] = round(appends_s)
        out[f"append_{producers}_raw_rows_per_s"] = round(raw_rows)
        out[f"append_{producers}_ratio"] = round(lines_s / raw_rows, 3)
        out[f"append_{producers}_ratio_median_run"] = round(statistics.median(r[0] for r in runs) / raw_rows, 3)
    return out


async def _fork_times(path: Path, sizes: tuple[int, ...], repeat: int) -> dict[int, float]:
    source = [decode_line(line) for line in generate_thread(7, turns=800).lines]
    async with SqliteStore.open(path) as store:
        ids = {}
        for size in sizes:
            meta = ev.SessionMeta(cwd="/bench", timestamp="2026-06-01T09:00:00.000Z")
            thread_id = (await store.start_thread(meta)).id
            body = source[1:size]
            for start in range(0, len(body), 500):
                await store.append(thread_id, body[start : start + 500])
            ids[size] = thread_id
        times: dict[int, list[float]] = {size: [] for size in sizes}
        for _ in range(repeat):
            for size in sizes:
                start = time.perf_counter()
                await store.fork(ids[size])
                times[size].append(time.perf_counter() - start)
        medians = {size: statistics.median(values) for size, values in times.items()}
    return medians


def forks(folder: Path, quick: bool) -> dict[str, Any]:
    """Median fork time of a 20-line and a 20,000-line thread."""
    medians = asyncio.run(_fork_times(folder / "fork.db", (20, 20_000), 9 if quick else 31))
    return {
        "fork_20_ms": round(medians[20] * 1000, 3),
        "fork_20000_ms": round(medians[20_000] * 1000, 3),
        "fork_ratio": round(medians[20_000] / medians[20], 3),
    }


async def _fill(path: Path, count: int) -> None:
    cwds = [f"/home/dev/project-{n}" for n in range(20)]
    async with SqliteStore.open(path, synchronous="OFF") as store:
        for start in range(0, count, 2000):
            metas = []
            for n in range(start, min(start + 2000, count)):
                ms = 1_780_000_000_000 + n * 937
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"
                metas.append(ev.SessionMeta(timestamp=stamp, cwd=cwds[n % 20], originator="codex_cli_rs",
                                            cli_version="0.140.0", source="cli", model_provider="openai"))
            await asyncio.gather(*(store.start_thread(meta) for meta in metas))


async def _list_times(path: Path, repeat: int) -> list[float]:
    times = []
    async with SqliteStore.open(path) as store:
        for _ in range(repeat):
            start = time.perf_counter()
            page = await store.list(limit=50)
            times.append(time.perf_counter() - start)
            assert len(page.data) == 50 and page.next_cursor
    return times


def listing(folder: Path, quick: bool) -> dict[str, Any]:
    """Median first-page time over 100,000 threads."""
    path = folder / "list.db"
    start = time.perf_counter()
    asyncio.run(_fill(path, _LIST_THREADS))
    print(f"  filled {_LIST_THREADS} threads in {time.perf_counter() - start:.1f}s", file=sys.stderr)
    times = asyncio.run(_list_times(path, 21 if quick else 101))
    return {"list_threads": _LIST_THREADS, "list_first_page_median_ms": round(statistics.median(times) * 1000, 3),
            "list_first_page_cold_ms": round(times[0] * 1000, 3)}


async def _import_all(path: Path, files: list[str]) -> None:
    async with SqliteStore.open(path) as store:
        for name in files:
            await store.import_rollout(name)


async def _append_all(path: Path) -> None:
    """The corpus appended turn by turn (pre-envelope files aside: append takes only timestamped lines)."""
    async with SqliteStore.open(path) as store:
        for thread in corpus_threads():
            turns = _prepare(thread)
            if any(line.timestamp is None for lines in turns for line in lines):
                continue
            thread_id = (await store.start_thread(turns[0][0])).id
            for lines in [turns[0][1:], *turns[1:]]:
                if lines:
                    await store.append(thread_id, lines)


def disk(folder: Path) -> dict[str, Any]:
    """Bytes on disk of the imported corpus / its JSONL size (and the same corpus appended turn by turn)."""
    files = sorted(glob.glob(str(corpus_dir() / "*.jsonl")))
    if not files:
        return {"disk_ratio": f"n/a (no corpus at {corpus_dir()})"}
    raw = sum(Path(name).stat().st_size for name in files)
    asyncio.run(_import_all(folder / "corpus.db", files))
    size = sum(p.stat().st_size for p in folder.glob("corpus.db*"))
    asyncio.run(_append_all(folder / "appended.db"))
    appended = sum(p.stat().st_size for p in folder.glob("appended.db*"))
    return {"corpus_files": len(files), "corpus_mb": round(raw / 1e6, 2), "disk_mb": round(size / 1e6, 2),
            "disk_ratio": round(size / raw, 3), "disk_ratio_appended_per_turn": round(appended / raw, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_store", description=__doc__.splitlines()[0],
                                     epilog="example: python -m benchmarks.bench_store --quick")
    parser.add_argument("--quick", action="store_true", help="fewer turns and repetitions")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--dir", type=Path, default=None, help="directory for the databases (a temp dir inside)")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="bench-store-") as scratch:
        folder = Path(scratch)
        for name, step in (("appends", lambda: appends(folder, args.quick)), ("fork", lambda: forks(folder, args.quick)),
                           ("list", lambda: listing(folder, args.quick)), ("disk", lambda: disk(folder))):
            print(f"{name}...", file=sys.stderr)
            results.update(step())
    if args.json:
        print(json.dumps(results))
        return 0
    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    print(f"\ntargets: append_16_ratio >= 0.5 ({results['append_16_ratio']}), fork_ratio <= 1.5 "
          f"({results['fork_ratio']}), disk_ratio <= 0.35 ({results['disk_ratio']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
