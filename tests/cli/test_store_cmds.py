"""The store commands against a temporary SQLite store: import, ls, export, fork, rollback, names, archive."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

from rollout.compression import decompress

from .conftest import SAMPLE, SAMPLE_ID

# Piped (not a terminal): nothing is cut to a guessed width.
LS = f"""\
id                                    updated (UTC)     name / preview                        cwd
{SAMPLE_ID}  2026-06-01 10:01  Why does the test for add_todo fail?  /home/dev/todo-app
"""


@pytest.fixture
def db(tmp_path):
    return tmp_path / "threads.db"


@pytest.fixture
def imported(cli, db):
    """A store holding the shipped sample."""
    assert cli("import", SAMPLE, "--db", db).code == 0
    return db


def _records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_import_reports_and_never_imports_twice(cli, db):
    """import prints one summary line; a second run leaves what is there unchanged."""
    first = cli("import", SAMPLE, "--db", db)
    assert first.code == 0 and first.err == ""
    assert re.fullmatch(rf"imported 1 thread \(6\.4 kB\) in \d+\.\ds, [\d.]+ [kMG]?B/s into {db}\n", first.out)
    again = cli("import", SAMPLE, SAMPLE.parent, "--db", db, "--json")
    assert again.code == 0
    view_sample = SAMPLE.parent / "rollout-2026-06-02T09-00-00-019e2f00-0000-7000-8000-000000000002.jsonl"
    assert _records(again.out) == [
        {"path": str(SAMPLE), "status": "unchanged", "threadId": SAMPLE_ID, "bytes": 6376, "linesAdded": 0,
         "error": None},
        {"path": str(view_sample), "status": "imported", "threadId": view_sample.name[-42:-6],
         "bytes": view_sample.stat().st_size, "linesAdded": 60, "error": None},
    ]


def test_import_goes_on_past_a_bad_file(cli, db, tmp_path):
    """A file that cannot be imported is named on stderr; the rest is imported; exit 1."""
    bad = tmp_path / "rollout-2026-01-01T00-00-00-nometa.jsonl"
    bad.write_bytes(SAMPLE.read_bytes().split(b"\n", 1)[1])
    result = cli("import", bad, SAMPLE, "--db", db)
    assert result.code == 1
    assert result.err == f"error: {bad}: not a rollout: it has no session_meta\n"
    assert result.out.startswith("imported 1 thread") and result.out.endswith("; 1 failed\n")


def test_ls_table_and_json(cli, imported):
    """ls prints one row per thread; --json prints ThreadInfo records."""
    assert cli("ls", "--db", imported) == (0, LS, "")
    [info] = _records(cli("ls", "--db", imported, "--json").out)
    assert (info["id"], info["cwd"], info["lastSeq"], info["archived"]) == (SAMPLE_ID, "/home/dev/todo-app", 25, False)
    assert cli("ls", "--db", imported, "--search", "no such words") == (0, "no threads\n", "")


def test_export_gives_back_the_same_bytes(cli, imported, tmp_path):
    """export writes the stored rollout exactly; -o FILE.zst compresses it."""
    assert cli("export", SAMPLE_ID, "--db", imported).out == SAMPLE.read_text()
    target = tmp_path / "out.jsonl.zst"
    result = cli("export", SAMPLE_ID, "--db", imported, "-o", target, "--json")
    assert result.code == 0
    assert _records(result.out)[0]["lines"] == 25
    assert decompress(target.read_bytes()) == SAMPLE.read_bytes()


def test_fork_rollback_and_inspect_by_id(cli, imported):
    """fork keeping 1 turn makes a shorter child; rollback hides turns; inspect reads both from the store."""
    fork = cli("fork", SAMPLE_ID, "--at-turn", "1", "--db", imported, "--json")
    [child] = _records(fork.out)
    assert child["forkedFromId"] == SAMPLE_ID
    [summary] = _records(cli("inspect", child["id"], "--db", imported, "--json").out)
    assert (summary["turns"], summary["thread"]["forkedFromId"]) == (1, SAMPLE_ID)
    rolled = cli("rollback", SAMPLE_ID, "1", "--db", imported)
    assert rolled == (0, f"rolled back 1 turn of {SAMPLE_ID}: 1 turn left\n", "")
    turns = _records(cli("inspect", SAMPLE_ID, "--db", imported, "--turns", "--json").out)
    assert [t["id"] for t in turns] == ["turn-1"]


def test_fork_at_a_missing_turn_is_an_error(cli, imported):
    """--at-turn past the end names the turn count."""
    result = cli("fork", SAMPLE_ID, "--at-turn", "5", "--db", imported)
    assert result == (1, "", "error: cannot keep 5 turns: the thread has 2\n")


def test_name_archive_unarchive(cli, imported):
    """name shows in ls; archive moves the thread to --archived; unarchive brings it back."""
    assert cli("name", SAMPLE_ID, "todo fix", "--db", imported).out == f"named {SAMPLE_ID} 'todo fix'\n"
    assert cli("archive", SAMPLE_ID, "--db", imported).out == f"archived {SAMPLE_ID}\n"
    assert cli("ls", "--db", imported).out == "no threads\n"
    [info] = _records(cli("ls", "--archived", "--db", imported, "--json").out)
    assert (info["name"], info["archived"]) == ("todo fix", True)
    assert _records(cli("unarchive", SAMPLE_ID, "--db", imported, "--json").out)[0]["archived"] is False
    assert "todo fix" in cli("ls", "--db", imported).out


@pytest.mark.parametrize(
    "command",
    [["inspect"], ["export"], ["fork"], ["rollback", None, "1"], ["archive"], ["unarchive"], ["name", None, "x"]],
)
def test_unknown_thread_id_is_one_error_line(cli, imported, command):
    """Every store command names the missing thread and the store; exit 1."""
    missing = "019e2a5c-0000-7000-8000-00000000beef"
    argv = [command[0], missing, *command[2:], "--db", imported]
    assert cli(*argv) == (1, "", f"error: thread {missing} not found in {imported}\n")


def test_database_of_a_newer_schema_is_refused(cli, imported):
    """A database written by a newer version: exit 1 and one line naming it."""
    with sqlite3.connect(imported) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'from the future', 0)")
    result = cli("ls", "--db", imported)
    assert (result.code, result.out) == (1, "")
    assert result.err.startswith(f"error: {imported}: database schema version 999 is newer")
    assert result.err.count("\n") == 1


def test_missing_database_is_not_created_by_reads(cli, db):
    """ls on a database that does not exist says how to create one, and creates nothing."""
    result = cli("ls", "--db", db)
    assert result.code == 1
    assert result.err == f"error: {db}: no such database (create it with: rollout import ~/.codex --db {db})\n"
    assert not db.exists()


def test_default_database_comes_from_the_environment(cli, plain_env):
    """Without --db, $ROLLOUT_DB is used."""
    assert cli("import", SAMPLE).code == 0
    assert (plain_env / "default-threads.db").exists()
    assert cli("ls").out == LS


def test_import_progress_on_a_terminal(cli, db):
    """With a (forced) terminal on stderr the progress bar runs and the summary still prints."""
    result = cli("import", SAMPLE, "--db", db, "--color", "always")
    assert result.code == 0
    assert "imported 1 thread" in result.out


@pytest.fixture
def codex_home(tmp_path):
    """A Codex home holding the sample, served by FileStore."""
    day = tmp_path / "codex" / "sessions" / "2026" / "06" / "01"
    day.mkdir(parents=True)
    (day / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
    return tmp_path / "codex"


def test_codex_home_as_a_store(cli, codex_home):
    """ls, name, archive and export work on a Codex home with --codex-home."""
    [info] = _records(cli("ls", "--codex-home", codex_home, "--json").out)
    assert info["id"] == SAMPLE_ID
    assert cli("name", SAMPLE_ID, "todo fix", "--codex-home", codex_home).code == 0
    assert cli("archive", SAMPLE_ID, "--codex-home", codex_home).code == 0
    assert (codex_home / "archived_sessions" / SAMPLE.name).exists()
    [archived] = _records(cli("ls", "--archived", "--codex-home", codex_home, "--json").out)
    assert archived["name"] == "todo fix"
    assert cli("export", SAMPLE_ID, "--codex-home", codex_home).out == SAMPLE.read_text()


def test_missing_codex_home_is_one_error_line(cli, tmp_path):
    """--codex-home pointing nowhere: exit 1, the path named."""
    result = cli("ls", "--codex-home", tmp_path / "nowhere")
    assert result == (1, "", f"error: {tmp_path / 'nowhere'}: no such Codex home\n")


def test_stored_lines_stream_back_as_stored(cli, imported):
    """inspect ID --lines --json reads a stored thread page by page and gives back its bytes."""
    assert cli("inspect", SAMPLE_ID, "--db", imported, "--lines", "--json").out == SAMPLE.read_text()
    rows = cli("inspect", SAMPLE_ID, "--db", imported, "--lines").out.splitlines()
    assert len(rows) == 26 and rows[1].split()[:3] == ["1", "2026-06-01T10:00:00.120Z", "session_meta"]


def test_import_of_a_codex_home_keeps_names_and_archiving(cli, db, tmp_path):
    """Threads under archived_sessions/ arrive archived; session_index.jsonl names arrive too."""
    home = tmp_path / "codex"
    (home / "archived_sessions").mkdir(parents=True)
    (home / "archived_sessions" / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
    (home / "session_index.jsonl").write_text(
        f'{{"id":"{SAMPLE_ID}","thread_name":"old","updated_at":"2026-06-01T10:02:00Z"}}\n'
        f'{{"id":"{SAMPLE_ID}","thread_name":"todo fix","updated_at":"2026-06-01T10:03:00Z"}}\n'
    )
    assert cli("import", home, "--db", db).code == 0
    assert cli("ls", "--db", db).out == "no threads\n"
    [info] = _records(cli("ls", "--archived", "--db", db, "--json").out)
    assert (info["id"], info["name"], info["archived"]) == (SAMPLE_ID, "todo fix", True)
