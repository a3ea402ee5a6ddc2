"""``rollout validate`` and the bad inputs every file command must report clearly."""

from __future__ import annotations

import json

import pytest

from .conftest import SAMPLE, SAMPLE_ID

GOOD = SAMPLE.read_bytes().splitlines(keepends=True)


def _write(path, lines: list[bytes]):
    path.write_bytes(b"".join(lines))
    return path


@pytest.fixture
def corrupt(tmp_path):
    """The sample with line 3 cut in half and a torn last line."""
    lines = list(GOOD)
    lines[2] = lines[2][:40] + b"\n"
    lines.append(b'{"timestamp":"2026-06-01T10:02:00.000Z","type":"event_')
    return _write(tmp_path / f"rollout-2026-06-01T10-00-00-{SAMPLE_ID}.jsonl", lines)


def test_clean_file_passes(cli):
    """A clean rollout: exit 0 and a one-line report."""
    assert cli("validate", SAMPLE) == (0, "checked 1 file, 25 lines: no problems; read 4 messages, 2 tool calls\n", "")


def test_corrupt_lines_are_reported_with_file_and_line(cli, corrupt):
    """Each bad line is one file:line: kind: reason line; exit 1."""
    result = cli("validate", corrupt)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0].startswith(f"{corrupt}:3: malformed: malformed JSON")
    assert lines[1].startswith(f"{corrupt}:26: torn: incomplete last line (54 bytes, no newline)")
    assert lines[2] == "checked 1 file, 24 lines: 2 problems in 1 file; read 4 messages, 2 tool calls"


def test_corrupt_file_json_report(cli, corrupt):
    """--json gives one record per file with its problems."""
    [report] = [json.loads(line) for line in cli("validate", corrupt, "--json").out.splitlines()]
    assert (report["threadId"], report["lines"], report["ok"]) == (SAMPLE_ID, 24, False)
    assert [(p["line"], p["kind"]) for p in report["problems"]] == [(3, "malformed"), (26, "torn")]


def test_unknown_types_warn_but_fail_only_when_strict(cli, tmp_path):
    """A kept line of unknown type is reported, exit 0; --strict makes it fail."""
    path = _write(tmp_path / "rollout-x.jsonl", [*GOOD, b'{"timestamp":"t","type":"future_thing","payload":{}}\n'])
    result = cli("validate", path)
    assert result.code == 0
    assert result.out.splitlines() == [
        f"{path}:26: warning: unknown_type: unknown line type 'future_thing' (kept)",
        "checked 1 file, 26 lines: no problems (1 warning: 1 kept line of unknown type); "
        "read 4 messages, 2 tool calls, 1 record of unknown type",
    ]
    assert cli("validate", path, "--strict").code == 1


def test_thread_level_problems(cli, tmp_path):
    """No session_meta, or a response item before it, is what stops Codex resuming or listing."""
    no_meta = _write(tmp_path / "rollout-a.jsonl", GOOD[1:])
    late_meta = _write(tmp_path / "rollout-b.jsonl", [GOOD[2], GOOD[0], *GOOD[3:]])
    result = cli("validate", no_meta, late_meta)
    assert result.code == 1
    assert result.out.splitlines() == [
        f"{no_meta}:0: no_session_meta: no session_meta line (Codex cannot resume or list this thread)",
        f"{late_meta}:1: meta_not_first: a response_item comes before the first session_meta "
        "(Codex will not list this thread)",
        "checked 2 files, 48 lines: 2 problems in 2 files; read 8 messages, 3 tool calls",
    ]


def test_empty_file_is_a_problem_not_a_crash(cli, tmp_path):
    """An empty file is reported like any other problem and the run goes on."""
    empty = _write(tmp_path / "rollout-empty.jsonl", [b"\n"])
    result = cli("validate", empty, SAMPLE)
    assert result.code == 1
    assert result.out.splitlines()[0] == f"{empty}:0: empty: empty rollout (no non-blank line)"


def test_folders_are_searched_for_rollouts(cli, tmp_path):
    """A folder is walked for rollout-*.jsonl; other files are ignored."""
    nested = tmp_path / "sessions" / "2026" / "06" / "01"
    nested.mkdir(parents=True)
    _write(nested / SAMPLE.name, GOOD)
    (tmp_path / "session_index.jsonl").write_text("{}\n")
    assert cli("validate", tmp_path).out == "checked 1 file, 25 lines: no problems; read 4 messages, 2 tool calls\n"


@pytest.mark.parametrize("command", [["validate"], ["inspect"], ["import"]])
def test_missing_file_is_one_error_line(cli, tmp_path, command):
    """A missing path: exit 1 and one error line naming it."""
    missing = tmp_path / "nope.jsonl"
    result = cli(*command, missing)
    assert (result.code, result.out) == (1, "")
    assert result.err == f"error: {missing}: no such file or directory\n"


@pytest.mark.parametrize("command", [["validate"], ["inspect"], ["import"]])
def test_folder_without_rollouts_is_one_error_line(cli, tmp_path, command):
    """A folder with no rollout file: exit 1 and one error line naming it."""
    (tmp_path / "notes.txt").write_text("hello")
    result = cli(*command, tmp_path)
    assert (result.code, result.out) == (1, "")
    assert result.err == f"error: {tmp_path}: no rollout files (rollout-*.jsonl or .jsonl.zst) in this folder\n"


def test_inspect_empty_file_is_one_error_line(cli, tmp_path):
    """inspect cannot summarise an empty file: exit 1, the path named."""
    empty = _write(tmp_path / "rollout-empty.jsonl", [b""])
    assert cli("inspect", empty) == (1, "", f"error: {empty}: empty rollout (no non-blank line)\n")


def test_inspect_reports_corrupt_lines(cli, corrupt, monkeypatch):
    """The summary counts problems and lists them; --problems exits 1; --lines shows them in place."""
    monkeypatch.chdir(corrupt.parent)
    summary = cli("inspect", corrupt.name)
    assert summary.code == 0
    assert "problems   2: 1 malformed, 1 torn" in summary.out
    assert f"\n{corrupt.name}:3: malformed: malformed JSON" in summary.out
    assert cli("inspect", corrupt, "--problems").code == 1
    rows = cli("inspect", corrupt, "--lines").out.splitlines()
    assert rows[3].startswith("     3  malformed: malformed JSON")
    assert rows[-1].startswith("    26  torn: incomplete last line")


def test_usage_errors_exit_2(cli):
    """Unknown commands and missing arguments are usage errors."""
    assert cli("frobnicate").code == 2
    assert cli("validate").code == 2
    assert cli().code == 2
    assert cli("--version").out.startswith("rollout ")


def test_help_has_an_example(cli):
    """Every subcommand's --help exits 0 and shows an example."""
    for command in ("inspect", "validate", "view", "import", "export", "ls", "fork", "rollback", "archive", "unarchive",
                    "name"):
        result = cli(command, "--help")
        assert result.code == 0, command
        assert "example" in result.out and f"rollout {command}" in result.out.split("example")[-1], command
