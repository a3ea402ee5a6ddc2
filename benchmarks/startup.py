"""Start-up of the ``rollout`` command as a whole process, against ``python -c "import msgspec"``.

``python -m benchmarks.startup`` times ``rollout --version`` and ``rollout inspect --json`` on the
largest file of the real corpus, each as a fresh interpreter (imports, decode, output, exit),
and the floor every msgspec program pays: an interpreter importing msgspec. Each is the best
of N runs (noise only ever adds time). ``benchmarks.compare`` includes the figures.

Imports ``benchmarks.workload`` only; the CLI runs in child processes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.workload import corpus_dir

ROOT = Path(__file__).resolve().parents[1]
_CLI = "import sys; from rollout.cli.main import entry; sys.argv[0] = 'rollout'; entry()"


def _best(argv: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        best = min(best, time.perf_counter() - start)
    return best


def largest_corpus_file() -> Path | None:
    """The largest rollout of the real corpus (None when the corpus is absent)."""
    root = corpus_dir()
    files = sorted(root.glob("*.jsonl"), key=lambda p: p.stat().st_size) if root.is_dir() else []
    return files[-1] if files else None


def measure(repeat: int = 15) -> dict[str, Any]:
    """Seconds (best of ``repeat``) for the floor, ``--version`` and ``inspect --json`` of the largest file."""
    env_python = [sys.executable]
    out: dict[str, Any] = {"repeat": repeat}
    out["import_msgspec"] = _best([*env_python, "-c", "import msgspec"], repeat)
    out["version"] = _best([*env_python, "-c", _CLI, "--version"], repeat)
    target = largest_corpus_file()
    if target is None:
        out["inspect"] = {"na": "no corpus beside the checkout"}
        return out
    seconds = _best([*env_python, "-c", _CLI, "inspect", "--json", str(target)], repeat)
    out["inspect"] = {"seconds": seconds, "file_bytes": target.stat().st_size,
                      "ratio": seconds / out["import_msgspec"]}
    out["version_ratio"] = out["version"] / out["import_msgspec"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs of each command (best kept)")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.repeat), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
