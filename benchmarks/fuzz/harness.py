"""One fuzzing process: ``python -m benchmarks.fuzz.harness TARGET [libFuzzer flags] [CORPUS_DIR ...]``.

Instruments the engine's packages for coverage, imports the targets, and hands
the named one to atheris (libFuzzer). libFuzzer ends the process: on a finding
it writes the input to ``-artifact_prefix`` and exits non-zero; a Python
exception outside ``rollout.errors`` is a crash, ``-timeout`` a hang,
``-rss_limit_mb`` runaway memory. Run through :mod:`benchmarks.fuzz.runner`,
which sets those flags and reads the results.
"""

from __future__ import annotations

import sys

import atheris

INSTRUMENTED = ["rollout", "replay", "store", "serve"]  # packages whose coverage guides the fuzzer


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit("usage: python -m benchmarks.fuzz.harness TARGET [libFuzzer flags] [CORPUS_DIR ...]")
    with atheris.instrument_imports(include=INSTRUMENTED):
        from .targets import TARGETS, tolerated
    chosen = TARGETS.get(argv[1])
    if chosen is None:
        sys.exit(f"unknown target {argv[1]!r}; known: {', '.join(TARGETS)}")
    options = {"custom_mutator": chosen.mutator()} if chosen.mutator else {}
    flags = [f"-max_len={chosen.max_len}", *argv[2:]]  # a -max_len given later wins
    atheris.Setup([argv[0], *flags], tolerated(chosen.run), **options)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
