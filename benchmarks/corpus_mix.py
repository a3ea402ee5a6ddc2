"""Measure the line mix of the real corpus and of the generated workload, side by side.

``python -m benchmarks.corpus_mix [--json] [--threads N]`` prints, per line kind, how many lines a
turn carries and their size percentiles, plus zstd ratios, for the real corpus (when present) and
for ``N`` generated threads. ``workload.Mix`` was fitted to these figures. Only aggregate numbers
are printed: the corpus is real people's sessions and none of its content leaves this module.

Imports only ``benchmarks.workload`` (no peers, no store).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import Counter, defaultdict

import msgspec
import zstandard

from benchmarks.workload import Thread, corpus_threads, generate_threads

_DECODE = msgspec.json.Decoder()


def kind(line: bytes) -> str:
    """``envelope type:payload type[:role]``; legacy lines without envelope are ``legacy:type``."""
    try:
        obj = _DECODE.decode(line)
    except msgspec.DecodeError:
        return "invalid"
    if not isinstance(obj, dict):
        return "invalid"
    payload = obj.get("payload")
    if not isinstance(payload, dict):
        return f"legacy:{obj.get('type') or obj.get('record_type') or '?'}"
    name = f"{obj.get('type')}:{payload.get('type', '')}".rstrip(":")
    if name == "response_item:message":
        name += f":{payload.get('role')}"
    return name


def measure(threads: list[Thread]) -> dict:
    """Aggregate statistics of ``threads`` (only turns opened by ``task_started`` count as turns)."""
    turn_counts: list[Counter[str]] = []
    sizes: dict[str, list[int]] = defaultdict(list)
    turn_lines: list[int] = []
    for thread in threads:
        for turn in thread.turns:
            kinds = [kind(line) for line in turn]
            for k, line in zip(kinds, turn):
                sizes[k].append(len(line))
            if "event_msg:task_started" in kinds:
                turn_lines.append(len(turn))
                turn_counts.append(Counter(kinds))
    compressor = zstandard.ZstdCompressor(level=3)
    blobs = [b"\n".join(t.lines) for t in threads]
    raw = sum(map(len, blobs))
    return {
        "threads": len(threads), "modern_turns": len(turn_lines), "bytes": raw,
        "zstd_ratio": round(raw / max(1, sum(len(compressor.compress(b)) for b in blobs)), 2),
        "lines_per_turn": _pcts(turn_lines),
        "kinds": {k: {"n": len(v), "per_turn": round(sum(c[k] for c in turn_counts) / max(1, len(turn_counts)), 2),
                      "bytes": _pcts(v)}
                  for k, v in sorted(sizes.items(), key=lambda kv: -sum(kv[1]))},
    }


def _pcts(values: list[int]) -> dict:
    if not values:
        return {}
    s = sorted(values)
    return {"p10": s[len(s) // 10], "p50": s[len(s) // 2], "p90": s[int(len(s) * 0.9)],
            "max": s[-1], "mean": int(statistics.fmean(s))}


def render(name: str, stats: dict) -> str:
    """Plain-text table of one ``measure`` result."""
    out = [f"== {name}: {stats['threads']} threads, {stats['modern_turns']} turns, "
           f"{stats['bytes'] / 1e6:.1f} MB, zstd-3 {stats['zstd_ratio']}x, "
           f"lines/turn {stats['lines_per_turn']}",
           f"{'kind':42} {'n':>6} {'/turn':>6} {'p50 B':>8} {'p90 B':>8} {'max B':>8}"]
    for k, v in stats["kinds"].items():
        b = v["bytes"]
        out.append(f"{k:42} {v['n']:6d} {v['per_turn']:6.2f} {b['p50']:8d} {b['p90']:8d} {b['max']:8d}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.corpus_mix", description=__doc__.splitlines()[0],
                                     epilog="example: python -m benchmarks.corpus_mix --threads 5")
    parser.add_argument("--threads", type=int, default=5, help="generated threads to measure (default 5)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--quick", action="store_true", help="measure 2 generated threads")
    args = parser.parse_args(argv)
    result = {"synthetic": measure(generate_threads(7, 2 if args.quick else args.threads))}
    corpus = corpus_threads()
    if corpus:
        result["corpus"] = measure(corpus)
    if args.json:
        print(json.dumps(result))
        return 0
    if not corpus:
        print("corpus: not found (expected ../shared/corpus/codex-real beside the checkout); skipped")
    for name, stats in result.items():
        print(render(name, stats), end="\n\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
