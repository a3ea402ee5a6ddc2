"""Run fuzz targets in child processes and read back executions, coverage and findings.

:func:`fuzz` runs one target for a time or execution budget. libFuzzer stops at
a finding, so the runner records it (kind, the exception and where it was
raised, the saved input) and starts the target again on the same corpus until
the budget is spent; the same finding three times ends the target early.
:func:`fuzz_all` runs several targets side by side. The test suite and
``python -m benchmarks.fuzz`` both go through here.

Figures are libFuzzer's: ``executions`` counts inputs run (seeds included),
``coverage`` the control-flow edges reached in the instrumented packages
(``cov``), ``features`` the finer edge/counter features (``ft``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .mutator import SEEDS, tags

__all__ = ["ROOT", "Finding", "Report", "fuzz", "fuzz_all", "write_dictionary"]

ROOT = Path(__file__).resolve().parents[2]
_STATUS = re.compile(rb"^#(\d+)\s+\S+\s+cov: (\d+) ft: (\d+) corp: (\d+)/", re.M)
_EXECUTED = re.compile(rb"stat::number_of_executed_units: (\d+)")
_PEAK = re.compile(rb"stat::peak_rss_mb:\s+(\d+)")
_ARTIFACT = re.compile(rb"Test unit written to (\S+)")
_FRAME = re.compile(rb'^\s*File "([^"]+)", line (\d+)', re.M)


@dataclass(frozen=True)
class Finding:
    """One input that broke a target.

    Attributes:
        kind: ``crash`` (exception outside rollout.errors, or a broken invariant),
            ``timeout`` (one input ran over the time limit) or ``oom`` (RSS limit).
        summary: the exception line, or libFuzzer's reason.
        where: innermost frame of the traceback (``path:line``), when there is one.
        artifact: the input, as libFuzzer saved it.
    """

    kind: str
    summary: str
    where: str
    artifact: Path

    @property
    def signature(self) -> tuple[str, str, str]:
        return (self.kind, self.summary.split(":")[0], self.where)


@dataclass
class Report:
    """What fuzzing one target did."""

    target: str
    executions: int = 0
    coverage: int = 0
    features: int = 0
    corpus: int = 0
    seconds: float = 0.0
    processes: int = 0
    peak_rss_mb: int = 0
    findings: list[Finding] = field(default_factory=list)

    def unique_findings(self) -> list[Finding]:
        seen: dict[tuple[str, str, str], Finding] = {}
        for finding in self.findings:
            seen.setdefault(finding.signature, finding)
        return list(seen.values())


def write_dictionary(path: Path) -> Path:
    """A libFuzzer dictionary of the rollout's JSON keys and every ``type`` tag."""
    tokens = ['"timestamp"', '"type"', '"payload"', '"ordinal"', '"id"', '"turn_id"', '"call_id"',
              '"message"', '"content"', "null", "true", "false", "{}", "[]", "\\u0000", "\\ud800",
              *(f'"{tag}"' for tag in tags())]
    escaped = (token.replace("\\", "\\\\").replace('"', '\\"') for token in tokens)
    path.write_text("".join(f'"{token}"\n' for token in escaped))
    return path


def _command(name: str, corpus: Path, workdir: Path, budget: str, timeout: int, rss_limit_mb: int) -> list[str]:
    artifacts = workdir / "artifacts" / name
    artifacts.mkdir(parents=True, exist_ok=True)
    seeds = SEEDS / name
    return [
        sys.executable, "-m", "benchmarks.fuzz.harness", name, f"-timeout={timeout}", f"-rss_limit_mb={rss_limit_mb}",
        "-print_final_stats=1", f"-artifact_prefix={artifacts}/", f"-dict={write_dictionary(workdir / 'rollout.dict')}",
        budget, str(corpus), *([str(seeds)] if seeds.is_dir() else []),
    ]


def _finding(log: bytes) -> Finding | None:
    found = _ARTIFACT.search(log)
    if found is None:
        return None
    artifact = Path(found.group(1).decode())
    kind = artifact.name.split("-")[0]
    summary, where = kind, ""
    if b"=== Uncaught Python exception: ===" in log:
        block = log.split(b"=== Uncaught Python exception: ===", 1)[1].split(b"==", 1)[0]
        summary = block.strip().splitlines()[0].decode(errors="replace")
        frames = _FRAME.findall(block)
        if frames:
            path, line = frames[-1]
            where = f"{os.path.relpath(path.decode(), ROOT)}:{line.decode()}"
    elif b"out-of-memory" in log:
        summary = re.search(rb"out-of-memory \([^)]*\)", log).group(0).decode()  # type: ignore[union-attr]
    elif b"Timeout:" in log:
        summary = re.search(rb"=== (Timeout: .*?) ===", log).group(1).decode().strip()  # type: ignore[union-attr]
    return Finding(kind=kind, summary=summary, where=where, artifact=artifact)


def _absorb(report: Report, log: bytes) -> Finding | None:
    statuses = _STATUS.findall(log)
    if statuses:
        last = statuses[-1]
        report.coverage = max(report.coverage, int(last[1]))
        report.features = max(report.features, int(last[2]))
        report.corpus = max(report.corpus, int(last[3]))
    executed = _EXECUTED.search(log)
    if executed is not None:
        report.executions += int(executed.group(1))
    elif statuses:
        report.executions += int(statuses[-1][0])
    peak = _PEAK.search(log)
    if peak is not None:
        report.peak_rss_mb = max(report.peak_rss_mb, int(peak.group(1)))
    return _finding(log)


def fuzz(
    name: str,
    workdir: Path,
    *,
    seconds: float | None = None,
    runs: int | None = None,
    timeout: int = 1,
    rss_limit_mb: int = 2048,
    max_processes: int = 20,
) -> Report:
    """Fuzz target ``name`` for ``seconds`` or until ``runs`` executions, restarting after findings.

    Args:
        workdir: holds ``corpus/NAME`` (kept between runs), ``artifacts/NAME``, logs, the dictionary.
        timeout: seconds one input may take before it is a ``timeout`` finding.
        rss_limit_mb: memory beyond which the process is an ``oom`` finding.

    Raises:
        RuntimeError: the harness failed without a finding (a broken setup, not a bug found).
    """
    if (seconds is None) == (runs is None):
        raise ValueError("give exactly one of seconds or runs")
    corpus = workdir / "corpus" / name
    corpus.mkdir(parents=True, exist_ok=True)
    report, started = Report(target=name), time.monotonic()
    signatures: dict[tuple[str, str, str], int] = {}
    while report.processes < max_processes:
        left = seconds - (time.monotonic() - started) if seconds is not None else None
        if (left is not None and left < 1) or (runs is not None and report.executions >= runs):
            break
        budget = f"-max_total_time={int(left)}" if left is not None else f"-runs={runs - report.executions}"  # type: ignore[operator]
        log_path = workdir / "logs" / f"{name}-{report.processes}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "wb") as log_file:
            done = subprocess.run(_command(name, corpus, workdir, budget, timeout, rss_limit_mb), cwd=ROOT,
                                  stdout=log_file, stderr=subprocess.STDOUT, check=False)
        report.processes += 1
        log = log_path.read_bytes()
        finding = _absorb(report, log)
        if finding is None:
            if done.returncode != 0:
                raise RuntimeError(f"fuzz harness for {name} failed (exit {done.returncode}):\n"
                                   + log[-3000:].decode(errors="replace"))
            break
        report.findings.append(finding)
        signatures[finding.signature] = signatures.get(finding.signature, 0) + 1
        if signatures[finding.signature] >= 3:
            break
    report.seconds = time.monotonic() - started
    return report


def fuzz_all(names: list[str], workdir: Path, *, jobs: int = 1, **options: object) -> list[Report]:
    """:func:`fuzz` each target, ``jobs`` at a time; reports in the order of ``names``."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda name: fuzz(name, workdir, **options), names))  # type: ignore[arg-type]
