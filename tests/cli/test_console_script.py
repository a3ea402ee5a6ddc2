"""The installed ``rollout`` console script, run as a real process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from .conftest import ROOT, SAMPLE, SAMPLE_ID
from .test_inspect import SUMMARY

ROLLOUT = shutil.which("rollout")
pytestmark = pytest.mark.skipif(ROLLOUT is None, reason="the rollout console script is not installed")


def _run(*argv: object, tmp_path, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE")}
    env.update(COLUMNS="100", ROLLOUT_DB=str(tmp_path / "threads.db"), **(extra_env or {}))
    return subprocess.run(
        [ROLLOUT, *map(str, argv)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
    )


def test_console_script_inspects_the_sample(tmp_path):
    """`rollout inspect` prints the same summary as main() and exits 0."""
    done = _run("inspect", SAMPLE.relative_to(ROOT), tmp_path=tmp_path)
    assert (done.returncode, done.stderr, done.stdout) == (0, "", SUMMARY)


def test_console_script_store_round_trip_and_exit_codes(tmp_path):
    """import, ls --json and the exit codes 1 and 2 through the real entry point."""
    assert _run("import", SAMPLE, tmp_path=tmp_path).returncode == 0
    listed = _run("ls", "--json", tmp_path=tmp_path)
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == [SAMPLE_ID]
    missing = _run("inspect", tmp_path / "nope.jsonl", tmp_path=tmp_path)
    assert (missing.returncode, missing.stderr) == (1, f"error: {tmp_path / 'nope.jsonl'}: no such file or directory\n")
    assert _run("inspect", tmp_path=tmp_path).returncode == 2


def test_colour_only_when_asked_and_never_with_no_color(tmp_path):
    """Piped output has no escape codes; --color always adds them; NO_COLOR wins over auto."""
    plain = _run("inspect", SAMPLE, "--turns", tmp_path=tmp_path).stdout
    coloured = _run("inspect", SAMPLE, "--turns", "--color", "always", tmp_path=tmp_path).stdout
    assert "\x1b[" not in plain and "\x1b[" in coloured
    no_color = _run("inspect", SAMPLE, "--turns", tmp_path=tmp_path, extra_env={"NO_COLOR": "1", "FORCE_COLOR": "1"})
    assert "\x1b[" not in no_color.stdout


def test_closed_pipe_is_quiet(tmp_path):
    """`rollout inspect --lines | head -1` ends without a traceback."""
    proc = subprocess.Popen(
        f"{ROLLOUT} inspect {SAMPLE} --lines | head -1", shell=True, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    out, err = proc.communicate(timeout=60)
    assert out.startswith("  line") and "Traceback" not in err


@pytest.mark.slow
def test_lines_of_a_large_file_start_at_once_in_bounded_memory(tmp_path):
    """--lines on a ~100 MB file prints its first row at once, and never holds the file in memory."""
    body = b"".join(SAMPLE.read_bytes().splitlines(keepends=True)[1:])
    big = tmp_path / "big.jsonl"
    with open(big, "wb") as f:
        f.write(SAMPLE.read_bytes().splitlines(keepends=True)[0])
        for _ in range(100_000_000 // len(body)):
            f.write(body)
    proc = subprocess.Popen([ROLLOUT, "inspect", big, "--lines"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout.readline()
    streaming = proc.poll() is None  # the first row arrived while the file was still being read
    proc.stdout.close()
    proc.wait(timeout=60)
    assert streaming
    # Peak memory of that command alone: a fresh parent whose only child is the command.
    probe = (
        "import resource, subprocess, sys; "
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True, timeout=300); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    try:
        out = subprocess.run([sys.executable, "-c", probe, ROLLOUT, "inspect", str(big), "--lines"],
                             capture_output=True, text=True, check=True, timeout=320).stdout
    finally:
        big.unlink()
    peak_mb = int(out) / 1024
    assert peak_mb < 100, f"peak RSS {peak_mb:.0f} MB for a 100 MB file"
