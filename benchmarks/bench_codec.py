"""Decode throughput of the corpus: typed rollout decode vs raw untyped msgspec decode.

Run: ``python -m benchmarks.bench_codec [--repeat N] [--json]``

Both sides decode the very same lines, in the same process, interleaved, and the
best of N runs is kept. The ratio (typed / raw) is the figure; the issue's
target is <= 1.5x. Also prints encode (round trip) cost and the whole-file
reader (``rollout.read_rollout`` on bytes: line splitting, problems, raw kept).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import msgspec

import rollout
from benchmarks.timing import best_of
from rollout.codec import decode_line, encode_line

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "codex-real"



def measure(files: list[Path], repeat: int) -> dict:
    blobs = [path.read_bytes() for path in files]
    lines = [raw for blob in blobs for raw in blob.split(b"\n") if raw.strip()]
    total = sum(len(raw) for raw in lines)
    untyped = msgspec.json.Decoder()
    decoded = [decode_line(raw) for raw in lines]

    def raw_decode():
        for raw in lines:
            untyped.decode(raw)

    def typed_decode():
        for raw in lines:
            decode_line(raw)

    def reader():
        for blob in blobs:
            rollout.read_rollout(blob)

    def encode():
        for line in decoded:
            encode_line(line)

    results = {}
    for _ in range(2):  # interleave to spread machine noise over both sides
        for name, fn in (("raw", raw_decode), ("typed", typed_decode), ("reader", reader), ("encode", encode)):
            results[name] = min(results.get(name, float("inf")), best_of(fn, repeat))
    mb = total / 1e6
    return {
        "files": len(files),
        "lines": len(lines),
        "megabytes": round(mb, 2),
        "raw_msgspec_decode_mb_s": round(mb / results["raw"], 1),
        "typed_decode_mb_s": round(mb / results["typed"], 1),
        "read_rollout_mb_s": round(mb / results["reader"], 1),
        "typed_over_raw": round(results["typed"] / results["raw"], 2),
        "reader_over_raw": round(results["reader"] / results["raw"], 2),
        "encode_over_raw_decode": round(results["encode"] / results["raw"], 3),
        "target_typed_over_raw": 1.5,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    files = sorted(CORPUS.glob("*.jsonl"))
    if not files:
        print(f"corpus not found at {CORPUS}", file=sys.stderr)
        return 1
    figures = measure(files, args.repeat)
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"corpus: {figures['files']} files, {figures['lines']} lines, {figures['megabytes']} MB")
    print(f"raw msgspec.json.decode (untyped) : {figures['raw_msgspec_decode_mb_s']:>8} MB/s   (baseline)")
    print(f"rollout.decode_line (typed)       : {figures['typed_decode_mb_s']:>8} MB/s   {figures['typed_over_raw']}x baseline time (target <= 1.5x)")
    print(f"rollout.read_rollout (whole file) : {figures['read_rollout_mb_s']:>8} MB/s   {figures['reader_over_raw']}x baseline time")
    print(f"rollout.encode_line (decoded)     : {figures['encode_over_raw_decode']}x baseline time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
