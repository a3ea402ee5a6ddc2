"""``rollout sync`` and ``rollout search`` over a Codex home of generated threads.

Run: ``python -m benchmarks.bench_sync_search [--threads 10000] [--repeat 5] [--dir DIR] [--json] [--postgres [DSN]]``

A Codex home of ``--threads`` one-turn generated threads (``benchmarks.bench_files.build_home``)
is synced into a fresh ``SqliteStore`` the way ``rollout sync`` does it (the search index
kept warm by the change feed). Reported:

* **sync, first pass**: every file imported and indexed (until the store is closed);
* **sync, no change**: a second pass that finds nothing new (a ``stat`` per file), the median
  of ``--repeat`` passes, also per 1,000 threads;
* **sync, one grown file**: one thread's file gained a line;
* **search**: the median latency of each query of a small set (a frequent word, a rare one,
  a phrase, a prefix, a role filter, one hit per thread) on the warm store, 20 hits a page.

With ``--postgres`` the same home is also synced into a ``PostgresStore`` (a schema of its
own, dropped afterwards), indexed (``catch_up_search``), and searched with the same queries;
each latency is printed beside SQLite's from the same run.

Figures depend on the machine (2 shared cores here); the report prints them with the
thread count and the bytes synced.
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

from benchmarks.bench_files import build_home
from store import SqliteStore
from store.search.query import tokens
from store.sync import SourceRecords, Syncer

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


async def _timed(coro) -> tuple[float, object]:
    started = time.perf_counter()
    result = await coro
    return time.perf_counter() - started, result


async def measure(home: Path, work: Path, repeat: int) -> dict[str, object]:
    figures: dict[str, object] = {}
    records = SourceRecords(work / "threads.db.sync")
    started = time.perf_counter()
    store = await SqliteStore.open(work / "threads.db")
    store.keep_search_index()
    syncer = Syncer(store, records, [home])
    first = await syncer.run()
    await store.close()
    figures["first_pass_s"] = time.perf_counter() - started
    figures["bytes_synced"] = first.bytes_read
    async with SqliteStore.open(work / "threads.db") as store:
        store.keep_search_index()
        syncer = Syncer(store, records, [home])
        passes = [(await _timed(syncer.run()))[0] for _ in range(repeat)]
        figures["no_change_pass_ms"] = 1000 * statistics.median(passes)
        one = sorted(home.rglob("*.jsonl"))[len(passes) % 7]
        with one.open("ab") as file:
            file.write(b'{"timestamp":"2026-07-01T00:00:00.000Z","type":"event_msg","payload":'
                       b'{"type":"agent_message","message":"a late grown line"}}\n')
        figures["one_grown_file_pass_ms"] = 1000 * (await _timed(syncer.run()))[0]
        await store.catch_up_search()
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", type=Path, help="keep the generated home (and reuse it) here")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--postgres", metavar="DSN", nargs="?", const=os.environ.get("ROLLOUT_BENCH_DSN", _DSN),
                        help=f"also search the same threads in PostgresStore (default DSN: $ROLLOUT_BENCH_DSN or {_DSN})")
    args = parser.parse_args(argv)
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
    figures["threads"] = args.threads
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    per_k = figures["no_change_pass_ms"] / (args.threads / 1000)  # type: ignore[operator]
    print(f"threads: {args.threads}, synced {figures['bytes_synced'] / 1e6:.1f} MB")
    print(f"sync first pass (import + index): {figures['first_pass_s']:.1f} s")
    print(f"sync no-change pass: {figures['no_change_pass_ms']:.1f} ms ({per_k:.2f} ms per 1,000 threads)")
    print(f"sync pass with one grown file: {figures['one_grown_file_pass_ms']:.1f} ms")
    for label, row in figures["search"].items():  # type: ignore[union-attr]
        print(f"search {label:<15} {row['median_ms']:7.2f} ms  ({row['hits']} hits, {row['query']})")
    if "postgres" in figures:
        pg = figures["postgres"]
        print(f"PostgreSQL: sync {pg['import_s']:.1f} s, then indexing {pg['index_s']:.1f} s; "  # type: ignore[index]
              "search latency against SQLite's in this run:")
        for label, row in pg["search"].items():  # type: ignore[index]
            base = figures["search"][label]["median_ms"]  # type: ignore[index]
            print(f"search {label:<15} {row['median_ms']:7.2f} ms  ({row['hits']} hits; "
                  f"{row['median_ms'] / base:.1f}x SQLite's {base:.2f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
