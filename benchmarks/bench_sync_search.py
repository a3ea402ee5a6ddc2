"""``rollout sync`` and ``rollout search`` over a Codex home of generated threads.

Run: ``python -m benchmarks.bench_sync_search [--threads 10000] [--repeat 5] [--dir DIR] [--no-write] [--quick] [--json] [--postgres [DSN]]``

A Codex home of ``--threads`` one-turn generated threads (``benchmarks.bench_files.build_home``)
is synced into a fresh ``SqliteStore`` the way ``rollout sync`` does it (the search index
kept warm by the change feed, caught up and sealed after the pass). Reported, each with a
baseline measured in the same run:

* **sync, first pass**: every file imported and indexed (until the store is closed), against
  the same pass importing one thread at a time (``Syncer(width=1)``, into another store) and
  against only reading and decoding every file (``rollout.reader.read_rollout``: the floor);
* **sync, no change**: a pass that finds nothing new, the median of ``--repeat`` passes, per
  1,000 threads too, against listing the folders and ``stat``-ing every file (its floor);
* **sync, one grown file**: one thread's file gained a line;
* **search**: the median latency of each query of a small set (a frequent word, a rare one,
  a phrase, a prefix, a role filter, one hit per thread) on the synced store, 20 hits a page,
  against the staleness scan a search ran before every query until the index was sealed
  (``_index_stale``, timed alone in the same run), and the catch-up a search now runs.

It writes ``benchmarks/RESULTS-sync-search.md`` (``--no-write``: leave it alone); nobody edits
that file by hand. Figures depend on the machine (2 shared cores here).

With ``--postgres`` the same home is also synced into a ``PostgresStore`` (a schema of its
own, dropped afterwards), indexed (``catch_up_search``), and searched with the same queries;
each latency is reported beside SQLite's from the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.bench_files import build_home
from rollout.reader import read_rollout
from store import SqliteStore
from store.search.fts5 import CANDIDATES
from store.search.query import tokens
from store.sync import SourceRecords, Syncer
from store.sync.engine import WIDTH, source_dirs

RESULTS = Path(__file__).resolve().parent / "RESULTS-sync-search.md"

_DSN = "postgresql://127.0.0.1:5432/test"


def _words(home: Path, sample: int = 200) -> tuple[str, str, str]:
    """A frequent word, a rare word and a two-word phrase of the generated text."""
    counts: Counter[str] = Counter()
    phrase = ""
    for path in sorted(home.rglob("*.jsonl"))[:sample]:
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if record["type"] == "event_msg" and record["payload"].get("type") == "user_message":
                words = tokens(record["payload"]["message"])
                counts.update(words)
                if not phrase and len(words) > 3:
                    phrase = f'"{words[1]} {words[2]}"'
    ranked = [word for word, _ in counts.most_common() if len(word) > 3]
    return ranked[0], ranked[-1], phrase


async def _timed(coro: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await coro
    return time.perf_counter() - started, result


async def _first_pass(home: Path, work: Path, width: int) -> tuple[float, Any]:
    """Seconds to sync ``home`` into a new store at ``work`` (import, index, seal, close), and the report."""
    records = SourceRecords(work / "threads.db.sync")
    started = time.perf_counter()
    store = await SqliteStore.open(work / "threads.db")
    store.keep_search_index()
    first = await Syncer(store, records, [home], width=width).run()
    await store.catch_up_search()  # as `rollout sync` does after its first pass
    await store.close()
    seconds = time.perf_counter() - started
    records.close()
    return seconds, first


def _read_all(home: Path) -> float:
    """Seconds to read and decode every rollout file (the floor of a first pass)."""
    started = time.perf_counter()
    for path in sorted(home.rglob("rollout-*.jsonl")):
        read_rollout(path)
    return time.perf_counter() - started


def _stat_all(home: Path) -> float:
    """Seconds to list every folder and ``stat`` every rollout file (the floor of a no-change pass)."""
    started = time.perf_counter()
    for directory, _ in source_dirs(home):
        for entry in os.scandir(directory):
            if entry.name.endswith(".jsonl"):
                entry.stat()
    return time.perf_counter() - started


async def measure(home: Path, work: Path, repeat: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    (work / "one").mkdir()
    (work / "batched").mkdir()
    figures["read_all_s"] = _read_all(home)
    figures["first_pass_one_at_a_time_s"], _ = await _first_pass(home, work / "one", 1)
    figures["first_pass_s"], first = await _first_pass(home, work / "batched", WIDTH)
    figures["bytes_synced"] = first.bytes_read
    records = SourceRecords(work / "batched" / "threads.db.sync")
    async with SqliteStore.open(work / "batched" / "threads.db") as store:
        store.keep_search_index()
        syncer = Syncer(store, records, [home])
        passes = [(await _timed(syncer.run()))[0] for _ in range(repeat)]
        figures["no_change_pass_ms"] = 1000 * statistics.median(passes)
        figures["stat_all_ms"] = 1000 * statistics.median(_stat_all(home) for _ in range(repeat))
        one = sorted(home.rglob("*.jsonl"))[len(passes) % 7]
        with one.open("ab") as file:
            file.write(b'{"timestamp":"2026-07-01T00:00:00.000Z","type":"event_msg","payload":'
                       b'{"type":"agent_message","message":"a late grown line"}}\n')
        figures["one_grown_file_pass_ms"] = 1000 * (await _timed(syncer.run()))[0]
        await store.catch_up_search()
        figures["stale_scan_ms"] = 1000 * statistics.median(
            [(await _timed(store._index_stale()))[0] for _ in range(repeat)])
        figures["catch_up_ms"] = 1000 * statistics.median(
            [(await _timed(store.catch_up_search()))[0] for _ in range(repeat)])
        figures["search"] = await _latency(store, home, repeat)
    records.close()
    return figures


async def _latency(store, home: Path, repeat: int) -> dict[str, dict[str, object]]:
    """Median latency of each query of the set on a caught-up store, 20 hits a page."""
    frequent, rare, phrase = _words(home)
    queries = {"frequent word": (frequent, {}), "rare word": (rare, {}), "phrase": (phrase, {}),
               "prefix": (frequent[:3] + "*", {}), "role=user": (frequent, {"role": "user"}),
               "one per thread": (frequent, {"threads": True})}
    latency = {}
    for label, (query, options) in queries.items():
        times = [(await _timed(store.search(query, limit=20, **options)))[0] for _ in range(repeat)]
        hits = len((await store.search(query, limit=20, **options)).hits)
        latency[label] = {"query": query, "median_ms": 1000 * statistics.median(times), "hits": hits}
    return latency


async def measure_postgres(home: Path, work: Path, repeat: int, dsn: str) -> dict[str, object]:
    """The same home synced into a PostgresStore (a schema of its own, dropped after), then the same queries."""
    import asyncpg

    from store import PostgresStore

    schema = f"bench_search_{uuid.uuid4().hex[:12]}"
    figures: dict[str, object] = {}
    records = SourceRecords(work / "pg.sync")
    try:
        async with PostgresStore.open(dsn, schema=schema) as store:
            started = time.perf_counter()
            await Syncer(store, records, [home]).run()
            figures["import_s"] = time.perf_counter() - started
            figures["index_s"] = (await _timed(store.catch_up_search()))[0]
            figures["search"] = await _latency(store, home, repeat)
    finally:
        records.close()
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        finally:
            await conn.close()
    return figures


def markdown(run: dict[str, Any]) -> str:
    """RESULTS-sync-search.md: header, sync figures, search latencies, each against its baseline."""
    f, m, n = run["figures"], run["machine"], run["threads"]
    per_k = f["no_change_pass_ms"] / (n / 1000)
    out = [
        "# Benchmark results: sync and search", "",
        "Regenerated by `python -m benchmarks.bench_sync_search`; do not edit by hand.", "",
        f"- date: {run['date']}",
        f"- machine: {m['cores']} cores, {m['cpu']}, {m['memory']} RAM, {m['os']}, Python {m['python']} "
        f"(shared: other jobs ran at the same time, load average {run['load']})",
        f"- command: `{run['command']}`",
        f"- workload: a Codex home of {n:,} generated one-turn threads ({f['bytes_synced'] / 1e6:.1f} MB), "
        "synced into a new SqliteStore as `rollout sync` does it (index kept warm, caught up and sealed "
        f"after the pass); medians of {run['repeat']}", "",
        "## Sync", "",
        "| figure | measured | baseline in the same run | ratio |",
        "|---|---|---|---|",
        f"| first pass (import + index), {n:,} threads | {f['first_pass_s']:.1f} s "
        f"({1000 * f['first_pass_s'] / n:.2f} ms per thread) | one thread at a time: "
        f"{f['first_pass_one_at_a_time_s']:.1f} s | {f['first_pass_one_at_a_time_s'] / f['first_pass_s']:.2f}x "
        "faster |",
        f"| first pass against reading and decoding every file | {f['first_pass_s']:.1f} s | "
        f"{f['read_all_s']:.1f} s | {f['first_pass_s'] / f['read_all_s']:.1f}x the read |",
        f"| no-change pass, {n:,} threads | {f['no_change_pass_ms']:.1f} ms ({per_k:.2f} ms per 1,000) | "
        f"listing and `stat` of every file: {f['stat_all_ms']:.1f} ms | "
        f"{f['no_change_pass_ms'] / f['stat_all_ms']:.1f}x the floor |",
        f"| pass with one grown file | {f['one_grown_file_pass_ms']:.1f} ms | | |",
        "", "## Search", "",
        f"Over {n:,} threads, 20 hits a page. Before a query a search catches up: with nothing written "
        f"since the index was sealed that is {f['catch_up_ms']:.2f} ms; the staleness scan it replaces "
        f"(run before every query until now) takes {f['stale_scan_ms']:.1f} ms here. A query matching "
        f"more than {CANDIDATES:,} items with no cwd or since ranks its newest {CANDIDATES:,}.", "",
        "| query | median | hits | with the old scan added | ratio |",
        "|---|---|---|---|---|",
    ]
    for label, row in f["search"].items():
        before = row["median_ms"] + f["stale_scan_ms"]
        out.append(f"| {label} (`{row['query']}`) | {row['median_ms']:.1f} ms | {row['hits']} | "
                   f"{before:.1f} ms | {before / row['median_ms']:.1f}x |")
    if "postgres" in f:
        pg = f["postgres"]
        out += ["", "## Search in PostgreSQL", "",
                f"The same home synced into a PostgresStore ({pg['import_s']:.1f} s), indexed "
                f"({pg['index_s']:.1f} s), then the same queries (its staleness scan runs before each).", "",
                "| query | PostgreSQL | SQLite, same run | ratio |", "|---|---|---|---|"]
        for label, row in pg["search"].items():
            base = f["search"][label]["median_ms"]
            out.append(f"| {label} | {row['median_ms']:.1f} ms | {base:.1f} ms | {row['median_ms'] / base:.1f}x |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", type=Path, help="keep the generated home (and reuse it) here")
    parser.add_argument("--no-write", action="store_true", help="leave benchmarks/RESULTS-sync-search.md alone")
    parser.add_argument("--quick", action="store_true", help="1,000 threads, 3 repeats; never writes the results")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--postgres", metavar="DSN", nargs="?", const=os.environ.get("ROLLOUT_BENCH_DSN", _DSN),
                        help=f"also search the same threads in PostgresStore (default DSN: $ROLLOUT_BENCH_DSN or {_DSN})")
    args = parser.parse_args(argv)
    if args.quick:
        args.threads, args.repeat, args.no_write = 1_000, 3, True
    with tempfile.TemporaryDirectory() as scratch:
        root = args.dir or Path(scratch)
        home = root / f"home-{args.threads}"
        if not home.exists():
            build_home(home, args.threads)
        work = Path(scratch) / "work"
        work.mkdir()
        figures = asyncio.run(measure(home, work, args.repeat))
        if args.postgres:
            figures["postgres"] = asyncio.run(measure_postgres(home, work, args.repeat, args.postgres))
    run = {"date": report.now(), "machine": report.machine(), "load": f"{os.getloadavg()[0]:.1f}",
           "command": " ".join(["python -m benchmarks.bench_sync_search", *argv]), "threads": args.threads,
           "repeat": args.repeat, "figures": figures}
    text = markdown(run)
    if not args.no_write:
        RESULTS.write_text(text, encoding="utf-8")
    print(json.dumps(run, indent=2) if args.json else text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
