"""Fixtures for the CLI tests: an in-process runner at a fixed width, the shipped sample."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import NamedTuple

import pytest

from rollout.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "rollout-2026-06-01T10-00-00-019e2a5c-0000-7000-8000-000000000001.jsonl"
SAMPLE_ID = "019e2a5c-0000-7000-8000-000000000001"
WIDTH = 100
#: the sample's last line's time: its mtime is what Codex shows as updatedAt, so it is pinned
SAMPLE_MTIME_NS = 1_780_308_063_020_000_000


class Result(NamedTuple):
    code: int
    out: str
    err: str


def render_text(renderable: object, width: int = WIDTH) -> str:
    """Render a rich object as plain text at a fixed width, as the tests compare it."""
    from rich.console import Console

    console = Console(file=io.StringIO(), width=width, color_system=None, highlight=False)
    console.print(renderable)
    return console.file.getvalue()


@pytest.fixture(autouse=True, scope="session")
def pinned_sample_mtime():
    """Give the shipped sample the time of its last line (a checkout gives it the checkout's)."""
    os.utime(SAMPLE, ns=(SAMPLE_MTIME_NS, SAMPLE_MTIME_NS))


@pytest.fixture
def plain_env(monkeypatch, tmp_path):
    """A terminal-free environment: fixed width, no forced colour, a throwaway default database."""
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ROLLOUT_DB", str(tmp_path / "default-threads.db"))
    return tmp_path


@pytest.fixture
def cli(plain_env, capsys):
    """Run ``main(argv)`` in-process; returns (exit code, stdout, stderr)."""

    def run(*argv: object) -> Result:
        code = main([str(arg) for arg in argv])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def at_root(monkeypatch):
    """Run from the checkout, so the sample's path prints short and the same everywhere."""
    monkeypatch.chdir(ROOT)
