"""The rough edges a new user hit: piped output, --problems exit status, stdin, CRLF, parse yield, tokens."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from rollout.compression import compress

from .conftest import ROOT, SAMPLE, SAMPLE_ID

ROLLOUT = shutil.which("rollout")
GOOD = SAMPLE.read_bytes().splitlines(keepends=True)
FUTURE = b'{"timestamp":"2026-06-01T10:02:00.000Z","type":"future_thing","payload":{"x":1}}\n'


def _json(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.skipif(ROLLOUT is None, reason="the rollout console script is not installed")
def test_piped_lines_keep_every_column_whatever_columns_says(tmp_path):
    """`rollout inspect --lines | head` is not cut to a terminal width: long types and the bytes column stay."""
    long_type = b'{"timestamp":"2026-06-01T10:02:00.000Z","type":"event_msg","payload":{"type":"' + b"x" * 90 + b'"}}\n'
    path = tmp_path / "rollout-long.jsonl"
    path.write_bytes(b"".join(GOOD) + long_type)
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    env["COLUMNS"] = "40"
    done = subprocess.run(f"{ROLLOUT} inspect {path} --lines | head -30", shell=True, capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=60)
    rows = done.stdout.splitlines()
    assert rows[0].split() == ["line", "timestamp", "type", "bytes"]
    assert rows[1].split() == ["1", "2026-06-01T10:00:00.120Z", "session_meta", "437"]
    assert rows[26].split() == ["26", "2026-06-01T10:02:00.000Z", "event_msg/" + "x" * 90, str(len(long_type))]
    assert "…" not in done.stdout


def test_problems_exit_1_on_problems_and_0_on_warnings_only(cli, tmp_path):
    """--problems: a malformed line exits 1; a kept line of unknown type is a labelled warning, exit 0."""
    warned = tmp_path / "rollout-w.jsonl"
    warned.write_bytes(b"".join(GOOD) + FUTURE)
    result = cli("inspect", warned, "--problems")
    assert result.code == 0
    assert result.out.splitlines() == [
        f"{warned}:26: warning: unknown_type: unknown line type 'future_thing' (kept)",
        "no problems, 1 warning (warnings do not change the exit status)",
    ]
    broken = tmp_path / "rollout-b.jsonl"
    broken.write_bytes(b"".join(GOOD[:3]) + b"{not json\n" + b"".join(GOOD[3:]) + FUTURE)
    result = cli("inspect", broken, "--problems")
    assert result.code == 1
    assert result.out.splitlines()[-1] == "1 problem, 1 warning (warnings do not change the exit status)"
    assert [p["kept"] for p in _json(cli("inspect", broken, "--problems", "--json").out)] == [False, True]


def test_readme_states_the_problems_exit_rule():
    """The README says what the code does: problems exit 1, warnings alone do not."""
    readme = (ROOT / "README.md").read_text()
    assert "exit 1 if there is any problem; warnings alone exit 0" in readme


def test_inspect_dash_reads_standard_input(cli, monkeypatch):
    """`rollout inspect -` summarises a rollout piped in, plain or zstd-compressed."""
    import io
    import sys

    for data in (SAMPLE.read_bytes(), compress(SAMPLE.read_bytes())):
        stream = io.BufferedReader(io.BytesIO(data))
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(stream))
        [summary] = _json(cli("inspect", "-", "--json").out)
        assert (summary["thread"]["id"], summary["lines"], summary["path"]) == (SAMPLE_ID, 25, None)


def test_crlf_file_counts_its_bytes_and_exports_them(cli, tmp_path):
    """A CRLF rollout: inspect counts the file's real size; import then export gives the same bytes."""
    data = b"".join(line.rstrip(b"\n") + b"\r\n" for line in GOOD)
    path = tmp_path / SAMPLE.name
    path.write_bytes(data)
    [summary] = _json(cli("inspect", path, "--json").out)
    assert summary["bytes"] == len(data)
    db = tmp_path / "t.db"
    assert cli("import", path, "--db", db).code == 0
    out = tmp_path / "out.jsonl"
    assert cli("export", SAMPLE_ID, "--db", db, "-o", out).code == 0
    assert out.read_bytes() == data


def test_parse_yield_in_inspect_json(cli, tmp_path):
    """The summary counts messages, tool calls and unknown records (kept)."""
    path = tmp_path / "rollout-w.jsonl"
    path.write_bytes(b"".join(GOOD) + FUTURE)
    [summary] = _json(cli("inspect", path, "--json").out)
    assert summary["parseYield"] == {
        "lines": 26, "messages": 4, "toolCalls": 2, "unknown": 1, "unknownTypes": {"future_thing": 1},
        "messageRecords": 4, "toolCallRecords": 2,
    }


def _drifted(tmp_path):
    """A rollout whose messages moved to an event type this version does not know."""
    lines = [
        {"timestamp": "2026-06-01T10:00:00.000Z", "type": "session_meta", "payload": {
            "id": SAMPLE_ID, "timestamp": "2026-06-01T10:00:00.000Z", "cwd": "/w", "originator": "codex_cli_rs",
            "cli_version": "0.140.0", "source": "cli", "model_provider": "openai"}},
        {"timestamp": "2026-06-01T10:00:01.000Z", "type": "event_msg", "payload": {"type": "task_started", "turn_id": "t1"}},
        {"timestamp": "2026-06-01T10:00:01.100Z", "type": "response_item", "payload": {"type": "message", "role": "user",
         "content": [{"type": "input_text", "text": "hello"}]}},
        {"timestamp": "2026-06-01T10:00:01.200Z", "type": "event_msg", "payload": {"type": "message_posted_v9", "text": "hello"}},
        {"timestamp": "2026-06-01T10:00:02.000Z", "type": "event_msg", "payload": {"type": "task_complete", "turn_id": "t1"}},
    ]
    path = tmp_path / "rollout-drift.jsonl"
    path.write_bytes(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
    return path


def test_file_with_lines_but_no_messages_warns(cli, tmp_path):
    """inspect and validate warn on a file that yields no message; validate --strict fails on it."""
    path = _drifted(tmp_path)
    summary = cli("inspect", path).out
    assert "warning    5 lines but no messages read although the file holds 1 message record" in summary
    result = cli("validate", path)
    assert result.code == 0
    assert result.out.splitlines()[0].startswith(f"{path}:0: warning: no_messages: 5 lines but no messages read")
    assert "1 file with no messages read" in result.out.splitlines()[-1]
    assert cli("validate", path, "--strict").code == 1
    [report] = _json(cli("validate", path, "--json").out)
    assert report["parseYield"]["unknownTypes"] == {"event_msg/message_posted_v9": 1}
    assert report["ok"] is True
