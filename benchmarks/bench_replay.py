"""Replay cost next to decode cost: build_turns, incremental feeding, resume context, spans.

Run: ``python -m benchmarks.bench_replay [--repeat N] [--files K] [--quick] [--json]``

For the K largest corpus files and for a generated 20,000-line thread, the same
bytes are first decoded (``rollout.codec.decode_line``, the baseline, timed in this
run) and then replayed from the decoded lines. Every figure is a ratio to that
decode time (best of N runs, interleaved); the issue's target is that
``build_turns`` adds at most 1.0x on top of decoding. Peak memory comes from
``tracemalloc`` around decode and around replay separately (replay's peak is what
it allocates on top of the decoded lines it is given).
"""

from __future__ import annotations

import argparse
import json
import sys
import tracemalloc
from collections.abc import Callable

from benchmarks.timing import best_of
from benchmarks.workload import corpus_dir, generate_thread
from replay import HistoryBuilder, build_turns, resume_context, turn_boundaries
from rollout.codec import decode_line

GENERATED_LINES = 20_000



def _peak(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _incremental(lines: list) -> None:
    """Feed line by line, taking a snapshot after every line (a live thread's worst case)."""
    builder = HistoryBuilder()
    for line in lines:
        builder.feed(line)
        builder.snapshot(running=True)


def generated_thread(n_lines: int = GENERATED_LINES) -> list[bytes]:
    """A deterministic synthetic thread cut to ``n_lines`` lines."""
    lines: list[bytes] = []
    seed = 7
    while len(lines) < n_lines:
        lines.extend(generate_thread(seed, turns=200).lines if not lines else
                     generate_thread(seed, turns=200).lines[1:])
        seed += 1
    return lines[:n_lines]


def measure(name: str, raw: list[bytes], repeat: int) -> dict:
    decoded = [decode_line(line) for line in raw]
    cases: dict[str, Callable[[], object]] = {
        "decode": lambda: [decode_line(line) for line in raw],
        "build_turns": lambda: build_turns(decoded),
        "build_turns_limited": lambda: build_turns(decoded, policy="limited"),
        "feed_and_snapshot_each_line": lambda: _incremental(decoded),
        "resume_context": lambda: resume_context(decoded),
        "turn_boundaries": lambda: turn_boundaries(decoded),
    }
    best: dict[str, float] = {}
    for _ in range(2):  # interleave so machine noise spreads over every case
        for case, fn in cases.items():
            best[case] = min(best.get(case, float("inf")), best_of(fn, repeat))
    base = best["decode"]
    return {
        "name": name,
        "lines": len(raw),
        "megabytes": round(sum(map(len, raw)) / 1e6, 2),
        "turns": len(build_turns(decoded)),
        "decode_ms": round(base * 1e3, 2),
        **{f"{case}_over_decode": round(seconds / base, 3) for case, seconds in best.items() if case != "decode"},
        "decode_peak_mb": round(_peak(cases["decode"]) / 1e6, 2),
        "build_turns_peak_mb": round(_peak(cases["build_turns"]) / 1e6, 2),
        "resume_context_peak_mb": round(_peak(cases["resume_context"]) / 1e6, 2),
        "target_build_turns_over_decode": 1.0,
    }


def _workloads(n_files: int) -> list[tuple[str, list[bytes]]]:
    files = sorted(corpus_dir().glob("*.jsonl"), key=lambda path: path.stat().st_size, reverse=True)
    loads = [(path.name[:40], [raw for raw in path.read_bytes().split(b"\n") if raw.strip()])
             for path in files[:n_files]]
    loads.append((f"generated-{GENERATED_LINES}-lines", generated_thread()))
    return loads


def _print(figures: list[dict]) -> None:
    print("replay time as a multiple of typed decode time of the same bytes (best of N; target build_turns <= 1.0x)")
    header = f"{'workload':42} {'lines':>6} {'MB':>6} {'decode ms':>9} {'build':>6} {'limited':>7} " \
             f"{'feed+snap':>9} {'resume':>6} {'spans':>6} {'peak MB dec/build/resume':>25}"
    print(header)
    for row in figures:
        peaks = f"{row['decode_peak_mb']}/{row['build_turns_peak_mb']}/{row['resume_context_peak_mb']}"
        print(f"{row['name']:42} {row['lines']:>6} {row['megabytes']:>6} {row['decode_ms']:>9} "
              f"{row['build_turns_over_decode']:>5}x {row['build_turns_limited_over_decode']:>6}x "
              f"{row['feed_and_snapshot_each_line_over_decode']:>8}x {row['resume_context_over_decode']:>5}x "
              f"{row['turn_boundaries_over_decode']:>5}x {peaks:>25}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_replay", description=__doc__.splitlines()[0],
                                     epilog="example: python -m benchmarks.bench_replay --files 3 --repeat 3")
    parser.add_argument("--repeat", type=int, default=5, help="runs per case; the best is kept")
    parser.add_argument("--files", type=int, default=5, help="how many of the largest corpus files")
    parser.add_argument("--quick", action="store_true", help="2 files, 2 runs")
    parser.add_argument("--json", action="store_true", help="one JSON list of rows")
    args = parser.parse_args(argv)
    repeat, n_files = (2, 2) if args.quick else (args.repeat, args.files)
    if not corpus_dir().is_dir():
        print(f"corpus not found at {corpus_dir()}; measuring the generated thread only", file=sys.stderr)
    figures = [measure(name, raw, repeat) for name, raw in _workloads(n_files)]
    if args.json:
        print(json.dumps(figures))
    else:
        _print(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
