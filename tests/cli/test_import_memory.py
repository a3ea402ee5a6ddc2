"""``rollout import`` of a folder holds one thread at a time: its memory does not grow with the folder.

Measured in a fresh interpreter with tracemalloc (peak of Python allocations, after
the modules are loaded). One 2 MB rollout peaks near 8 MiB; sixteen (32 MB) near
15-20 MiB: the rest is the store training its zstd dictionary once, after its
first 4 MiB, with that file's neighbour still in flight. Holding every thread
would cost well over 100 MiB. No timing is involved.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MiB = 1 << 20

CHILD = textwrap.dedent(
    """
    import json, sys, tracemalloc
    from rollout.cli.main import main
    import store  # loaded before measuring: module code is not what is bounded

    tracemalloc.start()
    status = main(["import", sys.argv[1], "--db", sys.argv[2], "--json"])
    print(json.dumps({"status": status, "peak": tracemalloc.get_traced_memory()[1]}), file=sys.stderr)
    """
)


def _rollout(number: int, size: int) -> bytes:
    """A valid rollout of about ``size`` bytes: one turn of many 4 KB agent messages."""
    thread_id = f"019e0000-0000-7000-8000-{number:012d}"
    head = [
        {"type": "session_meta", "payload": {"id": thread_id, "timestamp": "2026-06-01T10:00:00.000Z", "cwd": "/w",
                                             "originator": "codex_cli_rs", "cli_version": "0.140.0", "source": "cli"}},
        {"type": "event_msg", "payload": {"type": "task_started", "turn_id": "t1"}},
        {"type": "event_msg", "payload": {"type": "user_message", "message": "go", "images": [], "local_images": []}},
    ]
    body = {"type": "event_msg", "payload": {"type": "agent_message", "message": f"{number} " + "w" * 4000}}
    lines = [json.dumps({"timestamp": "2026-06-01T10:00:01.000Z", **line}) for line in head]
    lines += [json.dumps({"timestamp": "2026-06-01T10:00:02.000Z", **body})] * (size // 4100)
    return "\n".join(lines).encode() + b"\n"


def _import_peak(tmp_path: Path, files: int) -> float:
    folder = tmp_path / f"folder-{files}"
    folder.mkdir()
    for number in range(files):
        (folder / f"rollout-2026-06-01T10-00-00-019e0000-0000-7000-8000-{number:012d}.jsonl").write_bytes(
            _rollout(number, 2 * MiB)
        )
    done = subprocess.run([sys.executable, "-c", CHILD, str(folder), str(tmp_path / f"{files}.db")],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["status"] == 0, done.stderr
    assert done.stdout.count('"status":"imported"') == files
    return report["peak"] / MiB


def test_importing_a_folder_does_not_hold_every_thread(tmp_path):
    """Sixteen 2 MB rollouts (32 MB) peak under 4x of one file (holding them all: over 16x)."""
    one, sixteen = _import_peak(tmp_path, 1), _import_peak(tmp_path, 16)
    assert sixteen < 4 * one, f"one file peaks at {one:.1f} MiB, sixteen at {sixteen:.1f} MiB"
