"""``python -m benchmarks [--quick] [--json] [--no-write]``: run every benchmark module in turn.

First ``benchmarks.compare`` (peers, limits, RESULTS.md), then every ``benchmarks/bench_*.py``
module found beside it, each in its own interpreter so one crash cannot take the rest down.
Flags are forwarded; a module that rejects them (exit status 2) is run again without ``--quick``,
then with none.
With ``--json`` the output is one JSON object keyed by module (its JSON, or its text).
Exits 1 if any module failed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path


def modules() -> list[str]:
    """``compare`` first, then the ``bench_*`` modules in name order."""
    here = Path(__file__).resolve().parent
    return ["compare", *sorted(p.stem for p in here.glob("bench_*.py"))]


def run_module(name: str, flags: list[str], capture: bool) -> tuple[int, str]:
    """Run ``benchmarks.<name>`` with ``flags``; on a usage error retry without ``--quick``, then bare."""
    attempts = [flags, [f for f in flags if f != "--quick"], []]
    for attempt in [a for i, a in enumerate(attempts) if a not in attempts[:i]]:
        proc = subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *attempt],
                              stdout=subprocess.PIPE if capture else None, text=True, check=False)
        if proc.returncode != 2:
            break
    return proc.returncode, proc.stdout or ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0],
                                     epilog="example: python -m benchmarks --quick")
    parser.add_argument("--quick", action="store_true", help="each module's quick mode")
    parser.add_argument("--json", action="store_true", help="one JSON object keyed by module")
    parser.add_argument("--no-write", action="store_true", help="leave benchmarks/RESULTS.md alone")
    args = parser.parse_args(argv)
    flags = [f for f, on in (("--quick", args.quick), ("--json", args.json)) if on]
    failed, collected = [], {}
    for name in modules():
        print(f"== benchmarks.{name}", file=sys.stderr, flush=True)
        extra = ["--no-write"] if args.no_write and name == "compare" else []
        code, out = run_module(name, [*flags, *extra], capture=args.json)
        if code != 0:
            failed.append(name)
        if args.json:
            try:
                collected[name] = json.loads(out)
            except json.JSONDecodeError:
                collected[name] = {"exit": code, "output": out}
    if args.json:
        print(json.dumps(collected))
    if failed:
        print(f"error: failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
