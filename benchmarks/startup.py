"""Start-up of the ``rollout`` command as a whole process, against ``python -c "import msgspec"``.

``python -m benchmarks.startup`` times ``rollout --version`` and ``rollout inspect --json`` on the
largest file of the real corpus, each as a fresh interpreter (imports, decode, output, exit),
and the floor every msgspec program pays: an interpreter importing msgspec. Each is the best
of N runs (noise only ever adds time), the three commands taking turns in every round so a
change of load hits them alike. ``benchmarks.compare`` includes the figures.

The children run in this environment: where ``PYTHONDONTWRITEBYTECODE`` is set and the
checkout has no ``__pycache__``, every module of ours is compiled from source at each run
(about a third of ``inspect``'s time here), while msgspec and the standard library load
their installed bytecode. An installed package has bytecode too, and starts faster.

Imports ``benchmarks.workload`` only; the CLI runs in child processes.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.workload import corpus_dir

ROOT = Path(__file__).resolve().parents[1]
_CLI = "import sys; from rollout.cli.main import entry; sys.argv[0] = 'rollout'; entry()"


def _cpu() -> float:
    """CPU seconds (user + system) used so far by this process's finished children."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _best(commands: dict[str, list[str]], repeat: int) -> tuple[dict[str, float], dict[str, float]]:
    """Best wall and best CPU time of each command over ``repeat`` rounds, the commands taking turns.

    Taking turns (rather than all runs of one command, then all of the next) exposes every
    command to the same load: a machine that gets busier half-way through cannot make
    one side of a ratio look better than the other.
    """
    wall, cpu = dict.fromkeys(commands, float("inf")), dict.fromkeys(commands, float("inf"))
    for _ in range(repeat):
        for name, argv in commands.items():
            start, used = time.perf_counter(), _cpu()
            subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            wall[name] = min(wall[name], time.perf_counter() - start)
            cpu[name] = min(cpu[name], _cpu() - used)
    return wall, cpu


def largest_corpus_file() -> Path | None:
    """The largest rollout of the real corpus (None when the corpus is absent)."""
    root = corpus_dir()
    files = sorted(root.glob("*.jsonl"), key=lambda p: p.stat().st_size) if root.is_dir() else []
    return files[-1] if files else None


def measure(repeat: int = 15) -> dict[str, Any]:
    """Seconds (best of ``repeat``) for the floor, ``--version`` and ``inspect --json`` of the largest file.

    ``ratio`` is of wall times, the figure issue 15 judges. ``cpu_ratio`` is of CPU times: on a
    busy machine a longer process is more often preempted, which inflates the wall ratio, not this one.
    """
    python = sys.executable
    commands = {"import_msgspec": [python, "-c", "import msgspec"], "version": [python, "-c", _CLI, "--version"]}
    target = largest_corpus_file()
    if target is not None:
        commands["inspect"] = [python, "-c", _CLI, "inspect", "--json", str(target)]
    best, cpu = _best(commands, repeat)
    out: dict[str, Any] = {"repeat": repeat, "import_msgspec": best["import_msgspec"], "version": best["version"]}
    if target is None:
        out["inspect"] = {"na": "no corpus beside the checkout"}
        return out
    out["inspect"] = {"seconds": best["inspect"], "file_bytes": target.stat().st_size,
                      "ratio": best["inspect"] / best["import_msgspec"],
                      "cpu_seconds": cpu["inspect"], "cpu_ratio": cpu["inspect"] / cpu["import_msgspec"]}
    out["version_ratio"] = best["version"] / best["import_msgspec"]
    out["import_msgspec_cpu"] = cpu["import_msgspec"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs of each command (best kept)")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.repeat), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
