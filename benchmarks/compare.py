"""Ours vs LangGraph, the Agents SDK, eventsourcing and Codex JSONL, plus the machine's limits.

``python -m benchmarks.compare [--quick] [--json] [--peers a,b] [--no-write]`` runs every
figure for every store in one process and one temporary directory, measures the machine's
limits before and after (keeping the better), prints a Markdown table
(or, with ``--json``, one JSON object with every number) and rewrites ``benchmarks/RESULTS.md``.
A store whose package is missing (or ``ours`` before ``store`` exists) gets a "not available"
row instead of stopping the run. Progress goes to stderr.

Imports ``benchmarks.*`` only; peers are imported lazily through ``peers.load``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks import bounds as machine_bounds
from benchmarks import limits, report, startup
from benchmarks.figures import Plan, Workload, run_stores
from benchmarks.peers import PEERS


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.compare", description=__doc__.splitlines()[0],
        epilog="example: python -m benchmarks.compare --quick --peers ours,langgraph,jsonl")
    parser.add_argument("--quick", action="store_true",
                        help="one long thread, 3 repeats, 2,000 threads to list (about 2 minutes)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--peers", default=",".join(PEERS),
                        help=f"comma-separated stores to run (default: all of {', '.join(PEERS)})")
    parser.add_argument("--no-write", action="store_true", help="leave benchmarks/RESULTS.md alone")
    parser.add_argument("--no-corpus", action="store_true", help="skip the real-corpus workload")
    parser.add_argument("--no-bounds", action="store_true",
                        help="skip ours-vs-bounds, resume scaling and CLI start-up (benchmarks.bounds, .startup)")
    parser.add_argument("--dir", type=Path, default=None, help="parent of the temporary directory")
    args = parser.parse_args(argv)
    unknown = set(args.peers.split(",")) - set(PEERS)
    if unknown:
        parser.error(f"unknown peers: {', '.join(sorted(unknown))}")
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def run(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """Every store, every figure, the limits; returns the whole result as plain data."""
    plan = Plan.quick() if args.quick else Plan()
    if args.no_corpus:
        plan = Plan(**{**asdict(plan), "corpus": False})
    started = time.perf_counter()
    log("building workload ...")
    work = Workload.build(plan)
    gc.collect()
    gc.freeze()  # the shared workload is long-lived: keep it out of every later collection
    if plan.corpus and not work.corpus:
        log("corpus: not found beside the checkout (../shared/corpus/codex-real); corpus rows skipped")
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="rollout-bench-") as tmp:
        log("measuring the machine's limits ...")
        bounds = limits.measure(work.long[0], Path(tmp), quick=args.quick)
        stores, peers = await run_stores(args.peers.split(","), plan, work, Path(tmp), log)
        extra: dict[str, Any] = {}
        if "ours" in args.peers.split(",") and not args.no_bounds:
            (Path(tmp) / "bounds").mkdir()
            extra["bounds"] = await machine_bounds.measure(work.long[0], Path(tmp) / "bounds", quick=args.quick, log=log)
            log("start-up of the rollout command ...")
            extra["startup"] = startup.measure(7 if args.quick else 15)
        log("measuring the machine's limits again (the better of the two is kept) ...")
        bounds = limits.best(bounds, limits.measure(work.long[0], Path(tmp), quick=args.quick))
    table = report.ratios(stores)
    run = {
        "date": report.now(), "command": command, "machine": report.machine(), "plan": asdict(plan),
        "workload": work.describe(), "limits": asdict(bounds), "peers": peers, "stores": stores,
        "ratios": table, "targets": report.targets(table, stores), **extra,
        "seconds": round(time.perf_counter() - started, 1),
    }
    run["losses"] = report.losses(table, report.label_fill(run))
    return run


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    result = asyncio.run(run(args, " ".join(["python -m benchmarks.compare", *argv])))
    text = report.markdown(result)
    if not args.no_write:
        report.write_results(text)
        log(f"wrote {report.RESULTS}")
    log(f"total {result['seconds']} s")
    print(json.dumps(result, default=str) if args.json else text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
