"""``python -m benchmarks.fuzz --minutes N``: fuzz every target and print executions, coverage, findings.

Each target runs in its own atheris (libFuzzer) process, restarted after a
finding until its share of the time is spent; ``--runs N`` asks for N
executions per target instead. The corpus grows in ``--workdir`` (default
``.fuzz/``) and is reused by the next run. A finding prints the saved input;
copy it to ``tests/fuzz/findings/TARGET/`` and write a regression test beside it.
Exits 1 if anything was found.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from .. import report as results
from .runner import ROOT, Report, fuzz_all
from .targets import TARGETS

FINDINGS = ROOT / "tests" / "fuzz" / "findings"


def _table(reports: list[Report]) -> str:
    rows = [("target", "executions", "exec/s", "coverage", "features", "corpus", "peak RSS", "findings")]
    for r in reports:
        rate = r.executions / r.seconds if r.seconds else 0
        rows.append((r.target, f"{r.executions:,}", f"{rate:,.0f}", str(r.coverage), str(r.features),
                     str(r.corpus), f"{r.peak_rss_mb} MB", str(len(r.unique_findings()))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in rows]
    for r in reports:
        for f in r.unique_findings():
            lines.append(f"{r.target}: {f.kind}: {f.summary} at {f.where or '?'} (input: {f.artifact})")
    return "\n".join(lines)


def _rows(reports: list[Report], command: str, previous: str) -> list[str]:
    """Table rows: this run's targets, and the other targets' rows from the previous section."""
    rows = {r.target: (
        f"| {r.target} | {r.executions:,} | {r.executions / max(r.seconds, 1e-9):,.0f} | {r.coverage} "
        f"| {r.features} | {r.corpus} | {len(r.unique_findings())} | {results.now()}: `{command}` |"
    ) for r in reports}
    return results.merge_rows(previous, rows, list(TARGETS))


def markdown(reports: list[Report], command: str, previous: str = "") -> str:
    """The ``## Fuzzing`` section of RESULTS.md; rows of targets not run now are kept from ``previous``."""
    m = results.machine()
    fixed = sorted(f"{p.parent.name}/{p.name}" for p in FINDINGS.glob("*/*"))
    return "\n".join([
        f"Each row is the latest `python -m benchmarks.fuzz ... --write` of that target ({m['cores']} cores, "
        f"{m['cpu']}, Python {m['python']}); `benchmarks.compare` keeps this section.",
        "",
        "| target | executions | exec/s | coverage (edges) | features | corpus | findings | run |",
        "|---|---|---|---|---|---|---|---|",
        *_rows(reports, command, previous),
        "",
        "atheris (libFuzzer) with coverage of `rollout`, `replay`, `store` and `serve`; a finding is an exception "
        "outside `rollout.errors`, a broken invariant, one input over the time limit (1 s) or memory over the "
        "RSS limit (2 GB). Executions include the seeds (`tests/fuzz/seeds/`); coverage counts the instrumented "
        "branches reached, features libFuzzer's finer edge counters; exec/s is per process, on a shared machine.",
        "",
        f"Earlier findings, each fixed and kept as a regression input (`tests/fuzz/findings/`) and a behaviour "
        f"test (`tests/fuzz/test_findings.py`): {', '.join(fixed) or 'none'}.",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fuzz", description=__doc__.splitlines()[0],
                                     epilog="example: python -m benchmarks.fuzz --minutes 10 --jobs 2")
    budget = parser.add_mutually_exclusive_group(required=True)
    budget.add_argument("--minutes", type=float, help="minutes per target")
    budget.add_argument("--runs", type=int, help="executions per target")
    parser.add_argument("--target", action="append", choices=sorted(TARGETS), help="only this target (repeatable)")
    parser.add_argument("--jobs", type=int, default=1, help="targets fuzzed at once (default 1)")
    parser.add_argument("--timeout", type=int, default=1, help="seconds one input may take (default 1)")
    parser.add_argument("--rss-limit-mb", type=int, default=2048, help="memory limit per process (default 2048)")
    parser.add_argument("--workdir", type=Path, default=ROOT / ".fuzz", help="corpus, artifacts and logs")
    parser.add_argument("--json", action="store_true", help="one JSON object per target")
    parser.add_argument("--write", action="store_true", help="put the figures in benchmarks/RESULTS.md (## Fuzzing)")
    args = parser.parse_args(argv)
    names = args.target or list(TARGETS)
    budget_option = {"seconds": args.minutes * 60} if args.minutes is not None else {"runs": args.runs}
    reports = fuzz_all(names, args.workdir, jobs=args.jobs, timeout=args.timeout, rss_limit_mb=args.rss_limit_mb,
                       **budget_option)
    if args.json:
        for report in reports:
            print(json.dumps(asdict(report) | {"findings": [asdict(f) | {"artifact": str(f.artifact)}
                                                             for f in report.unique_findings()]}))
    else:
        print(_table(reports))
    if args.write:
        command = "python -m benchmarks.fuzz " + " ".join(argv if argv is not None else sys.argv[1:])
        previous = results.section(results.RESULTS.read_text(encoding="utf-8"), "## Fuzzing")
        results.write_section("## Fuzzing", markdown(reports, command, previous))
    return 1 if any(r.findings for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
