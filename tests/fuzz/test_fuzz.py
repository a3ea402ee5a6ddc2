"""Coverage-guided fuzzing in the suite: each target for a few seconds, every seed and past finding replayed.

The short runs need atheris (the ``fuzz`` extra) and skip without it; the replays
are plain Python and always run. Longer runs: ``python -m benchmarks.fuzz --minutes N``.
A hang here is one input running over 10 s, not the benchmark's 1 s: the suite
shares its cores, and a true hang is caught either way.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.fuzz.runner import fuzz_all
from benchmarks.fuzz.targets import TARGETS, tolerated

try:
    import atheris
except ImportError:  # pragma: no cover - depends on the machine
    atheris = None

HERE = Path(__file__).resolve().parent
SECONDS = float(os.environ.get("ROLLOUT_FUZZ_SECONDS", "3"))
needs_atheris = pytest.mark.skipif(
    atheris is None, reason="atheris is not installed (pip install -e '.[fuzz]'; it ships wheels for CPython 3.11 on x86-64 Linux)"
)


def _inputs(folder: str) -> list[Path]:
    return sorted(p for p in (HERE / folder).glob("*/*") if p.is_file() and p.parent.name in TARGETS)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("fuzz")
    return {r.target: r for r in fuzz_all(list(TARGETS), workdir, jobs=len(TARGETS), seconds=SECONDS, timeout=10)}


@needs_atheris
@pytest.mark.parametrize("name", list(TARGETS))
def test_a_short_fuzzing_run_finds_nothing(reports, name):
    """The target runs its seeds and fresh mutations with no crash, hang or memory blow-up."""
    report = reports[name]
    found = "\n".join(f"{f.kind}: {f.summary} at {f.where} (input {f.artifact})" for f in report.findings)
    assert report.findings == [], found
    assert report.executions > len(list((HERE / "seeds" / name).glob("*"))), "the fuzzer ran no fresh input"
    assert report.coverage > 0


@needs_atheris
def test_the_runner_reports_crashes_hangs_and_memory_blowups_with_their_input(tmp_path, monkeypatch):
    """Test targets that crash on '!', hang on '~' and hoard memory on '+': each is found, located and saved.

    (The memory finding's input is simply the last one run: memory that grows over
    many inputs has no single culprit.)
    """
    monkeypatch.setenv("ROLLOUT_FUZZ_SELFTEST", "1")
    names = ["selftest_crash", "selftest_hang", "selftest_oom"]
    crash, hang, oom = (
        r.findings[0] if r.findings else None
        for r in fuzz_all(names, tmp_path, jobs=3, seconds=60, timeout=1, rss_limit_mb=512, max_processes=1)
    )
    assert crash is not None and (crash.kind, crash.summary) == ("crash", "TypeError: selftest crash")
    assert crash.where.startswith("benchmarks/fuzz/targets.py:")
    assert crash.artifact.read_bytes().startswith(b"!")
    assert hang is not None and hang.kind == "timeout" and hang.artifact.read_bytes().startswith(b"~")
    assert oom is not None and oom.kind == "oom" and "limit: 512Mb" in oom.summary


@pytest.mark.parametrize("path", _inputs("seeds") + _inputs("findings"), ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}/{p.name}")
def test_seeds_and_past_findings_run_clean(path):
    """Every committed input, through its target without the fuzzer: engine errors only, invariants hold."""
    tolerated(TARGETS[path.parent.name].run)(path.read_bytes())
