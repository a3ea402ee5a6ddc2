"""Write the fuzz seed corpora: ``python -m tests.fuzz.make_seeds`` (rewrites ``tests/fuzz/seeds/``).

Every seed is our own: the hand-written example rollout in ``examples/`` and
lines and threads drawn from the strategies in ``tests/strategies.py``
(derandomized, so a rerun with the same hypothesis version writes the same
files). Nothing comes from the real corpus. The seeds are committed; rerun
this only when the event model grows, and review the diff.

Per target (``benchmarks/fuzz/targets.py``):
    decode_line/        one line per file: every envelope type, legacy shapes, unknowns, hostile bytes
    read_rollout/       small rollouts, plus blank lines, CRLF and a torn tail
    read_rollout_zst/   the same compressed: one frame, two frames, a skippable frame
    build_turns/        threads with varied turns (replay_threads) and the example
    resume_context/     sequences of the lines resume depends on (resume_threads) and the example
    serve_message/      JSON-RPC messages, one per line: a valid request of each method on the seeded
                        thread, and batches of valid and broken messages (rpc_messages)

``python -m tests.fuzz.make_seeds serve_message`` rewrites only the folders named.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import zstandard
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import rollout
from tests import strategies as s

HERE = Path(__file__).resolve().parent
SEEDS = HERE / "seeds"
EXAMPLE = next((HERE.parents[1] / "examples").glob("rollout-*.jsonl")).read_bytes()


def draw(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """``count`` deterministic examples of ``strategy``."""
    found: list[Any] = []

    @settings(derandomize=True, database=None, max_examples=count, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), deadline=None)
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found[:count]


def jsonl(lines: list[rollout.Line]) -> bytes:
    return b"".join(rollout.encode_line(line) + b"\n" for line in lines)


def line_seeds() -> list[bytes]:
    lines = [rollout.encode_line(line) for line in draw(s.envelope_lines, 60) + draw(s.legacy_lines, 12)]
    return [*lines, *draw(s.unknown_json_lines(), 12), *draw(s.hostile_lines, 12), *EXAMPLE.splitlines()]


def rollout_seeds() -> list[bytes]:
    threads = [jsonl(lines) for lines in draw(s.replay_threads(), 12) + draw(s.resume_threads(), 6)]
    legacy = jsonl(draw(s.legacy_lines, 8))
    rough = EXAMPLE.replace(b"\n", b"\r\n", 3) + b"\n \n\n" + EXAMPLE[:-40]  # CRLF, blank lines, torn tail
    return [EXAMPLE, legacy, rough, *threads]


def zst_seeds(plain: list[bytes]) -> list[bytes]:
    pack = zstandard.ZstdCompressor(level=3).compress
    skippable = b"\x50\x2a\x4d\x18" + (4).to_bytes(4, "little") + b"skip"
    half = len(EXAMPLE) // 2
    return [pack(data) for data in plain[:8]] + [pack(EXAMPLE[:half]) + pack(EXAMPLE[half:]), skippable + pack(EXAMPLE)]


def serve_seeds() -> list[bytes]:
    thread = {"threadId": s.SEEDED_THREAD}
    requests = [
        ("thread/list", {}), ("thread/list", {"limit": 1, "sortKey": "updated_at", "sortDirection": "asc"}),
        ("thread/read", {**thread, "includeTurns": True}), ("thread/resume", thread), ("thread/fork", thread),
        ("thread/turns/list", {**thread, "limit": 2}), ("thread/items/list", thread),
        ("thread/name/set", {**thread, "name": "n"}), ("thread/archive", thread), ("thread/unarchive", thread),
        ("thread/metadata/update", {**thread, "gitInfo": {"branch": "b"}}), ("thread/rollback", {**thread, "numTurns": 1}),
        ("thread/inject_items", {**thread, "items": [{"type": "message", "role": "user", "content": []}]}),
        ("thread/start", {"cwd": "/w"}), ("thread/loaded/list", {}), ("thread/unsubscribe", thread),
        ("thread/search", {"query": "question"}), ("thread/delete", thread),
    ]
    singles = [json.dumps({"id": n, "method": method, "params": params}).encode()
               for n, (method, params) in enumerate(requests)]
    batches = [b"\n".join(messages) for messages in draw(st.lists(s.rpc_messages, min_size=1, max_size=6), 24)]
    return [*singles, b"\n".join(singles), *batches]


def write(target: str, seeds: list[bytes]) -> int:
    folder = SEEDS / target
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    unique = {hashlib.sha1(seed).hexdigest()[:16]: seed for seed in seeds if seed}
    for name, seed in unique.items():
        (folder / name).write_bytes(seed)
    return len(unique)


def main(only: list[str]) -> None:
    makers = {
        "decode_line": line_seeds,
        "read_rollout": rollout_seeds,
        "read_rollout_zst": lambda: zst_seeds(rollout_seeds()),
        "build_turns": lambda: [EXAMPLE, *(jsonl(t) for t in draw(s.replay_threads(), 24))],
        "resume_context": lambda: [EXAMPLE, *(jsonl(t) for t in draw(s.resume_threads(), 24))],
        "serve_message": serve_seeds,
    }
    unknown = set(only) - set(makers)
    if unknown:
        sys.exit(f"unknown targets: {', '.join(sorted(unknown))}; known: {', '.join(makers)}")
    for target in only or list(makers):
        print(f"{target}: {write(target, makers[target]())} seeds")


if __name__ == "__main__":
    main(sys.argv[1:])
