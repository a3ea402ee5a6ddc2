"""The CLI on PostgreSQL: ``--postgres DSN`` wherever ``--db`` goes, and moving threads between stores."""

from __future__ import annotations

import json

import pytest

from ..store import pg
from .conftest import SAMPLE, SAMPLE_ID


@pytest.fixture
def dsn(monkeypatch):
    """The test server, with a schema of this test's own (``$ROLLOUT_PG_SCHEMA``), dropped afterwards."""
    reason = pg.unavailable()
    if reason is not None:
        pytest.skip(reason)
    schema = pg.new_schema()
    monkeypatch.setenv("ROLLOUT_PG_SCHEMA", schema)
    yield pg.DSN
    pg.drop(schema)


def test_import_ls_export_name_fork_on_postgres(cli, dsn):
    """The store commands work on --postgres as on --db; export gives the file back byte for byte."""
    code, out, err = cli("import", SAMPLE, "--postgres", dsn, "--json")
    assert code == 0, err
    assert json.loads(out)["status"] == "imported"
    assert cli("name", SAMPLE_ID, "sample", "--postgres", dsn).code == 0
    code, out, _ = cli("ls", "--postgres", dsn, "--json", "--source", "all")
    assert [(e["id"], e["name"]) for e in map(json.loads, out.splitlines())] == [(SAMPLE_ID, "sample")]
    code, out, _ = cli("export", SAMPLE_ID, "--postgres", dsn)
    assert code == 0 and out.encode() == SAMPLE.read_bytes()
    code, out, _ = cli("fork", SAMPLE_ID, "--postgres", dsn, "--json")
    assert code == 0 and json.loads(out)["forkedFromId"] == SAMPLE_ID


def test_threads_move_from_sqlite_to_postgres_to_a_codex_home_and_back(cli, dsn, tmp_path):
    """import takes whole stores as sources: SQLite -> PostgreSQL -> Codex home -> SQLite, nothing lost."""
    first, last = tmp_path / "first.db", tmp_path / "last.db"
    home = tmp_path / "home"
    (home / "sessions").mkdir(parents=True)
    assert cli("import", SAMPLE, "--db", first).code == 0
    assert cli("name", SAMPLE_ID, "moved", "--db", first).code == 0
    assert cli("archive", SAMPLE_ID, "--db", first).code == 0
    code, out, err = cli("import", first, "--postgres", dsn, "--json")
    assert code == 0, err
    assert json.loads(out) == {"path": str(first), "status": "copied", "threads": 1, "bytes": 0, "linesAdded": 0}
    code, out, err = cli("import", dsn, "--codex-home", home)
    assert code == 0 and "copied 1 thread from 1 store" in out, err
    assert cli("import", home, "--db", last).code == 0
    for where in (("--db", first), ("--postgres", dsn), ("--codex-home", home), ("--db", last)):
        code, out, _ = cli("ls", *where, "--all", "--json")
        [entry] = map(json.loads, out.splitlines())
        assert (entry["id"], entry["name"], entry["archived"]) == (SAMPLE_ID, "moved", True), where
        assert cli("export", SAMPLE_ID, *where).out.encode() == SAMPLE.read_bytes(), where
    code, out, _ = cli("import", first, "--postgres", dsn, "--json")  # again: nothing new, nothing changed
    assert code == 0 and json.loads(out)["threads"] == 0


def test_a_wrong_dsn_is_one_error_line_without_the_password(cli):
    """Nothing listens on port 1: exit 1, one line naming host and database, no secret, no traceback."""
    code, out, err = cli("ls", "--postgres", "postgresql://me:hunter2@127.0.0.1:1/threads")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: cannot connect to PostgreSQL at 127.0.0.1:1 ")
    assert "'threads'" in err and "hunter2" not in err


def test_reading_commands_do_not_create_tables(cli, dsn):
    """ls on a database without the tables says how to make them, and makes nothing."""
    code, _, err = cli("ls", "--postgres", dsn)
    assert code == 1 and "no rollout-engine tables" in err and "rollout import" in err


def test_inspect_and_view_read_a_thread_from_postgres(cli, dsn, tmp_path):
    """A thread id with --postgres is looked up there, as with --db."""
    assert cli("import", SAMPLE, "--postgres", dsn).code == 0
    code, out, err = cli("inspect", SAMPLE_ID, "--postgres", dsn, "--json")
    assert code == 0, err
    assert json.loads(out.splitlines()[0])["thread"]["id"] == SAMPLE_ID
    page = tmp_path / "thread.html"
    code, _, err = cli("view", SAMPLE_ID, "--postgres", dsn, "-o", page)
    assert code == 0 and page.read_bytes().startswith(b"<!DOCTYPE html>"), err
