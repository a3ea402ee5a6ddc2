"""The store commands at the rough edges a new user hit (issues 12 and 17), each through the real command line."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from rollout import events as ev
from rollout.codec import encode_line
from store import SqliteStore

from .conftest import SAMPLE, SAMPLE_ID


def _records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def _import(cli, db: Path, *sources: object) -> None:
    assert cli("import", *sources, "--db", db).code == 0


def _many(db: Path, count: int) -> list[str]:
    """``count`` one-line cli threads, created a second apart (the newest last)."""
    async def make() -> list[str]:
        async with SqliteStore.open(db) as store:
            stamps = [f"2026-06-01T10:00:{i:02d}.000Z" for i in range(count)]
            return [(await store.start_thread(ev.SessionMeta(timestamp=s, cwd="/w", source="cli"))).id
                    for s in stamps]
    return asyncio.run(make())


# --------------------------------------------------------------------------- listing and JSON


def test_ls_json_gives_the_next_cursor_on_stdout(cli, tmp_path):
    """`ls --json` ends with {"nextCursor": ...} while more threads follow; following it pages through all."""
    db = tmp_path / "t.db"
    ids = _many(db, 5)
    seen, cursor = [], None
    while True:
        args = ["ls", "--db", db, "--json", "--limit", "2"] + (["--cursor", cursor] if cursor else [])
        run = cli(*args)
        assert run.err == ""
        records = _records(run.out)
        cursor = records[-1].get("nextCursor") if records and "nextCursor" in records[-1] else None
        seen += [r["id"] for r in records if "id" in r]
        if cursor is None:
            break
    assert seen == ids[::-1]


def test_created_at_is_codex_unix_seconds_in_ls_and_inspect(cli, tmp_path):
    """`ls --json` and `inspect --json` both give createdAt/updatedAt as Codex does: unix seconds."""
    db = tmp_path / "t.db"
    _import(cli, db, SAMPLE)
    [listed] = _records(cli("ls", "--db", db, "--json").out)
    [summary] = _records(cli("inspect", SAMPLE_ID, "--db", db, "--json").out)
    assert listed["createdAt"] == summary["thread"]["createdAt"] == 1780308000
    assert listed["updatedAt"] == summary["thread"]["updatedAt"] == 1780308063


def test_inspect_of_a_fork_is_never_updated_before_it_was_created(cli, tmp_path):
    """A fork's summary takes its times from the store: updated (its write) is not its parent's last line."""
    db = tmp_path / "t.db"
    _import(cli, db, SAMPLE)
    [child] = _records(cli("fork", SAMPLE_ID, "--db", db, "--json").out)
    [summary] = _records(cli("inspect", child["id"], "--db", db, "--json").out)
    thread = summary["thread"]
    assert thread["createdAt"] <= thread["updatedAt"] == child["updatedAt"]


# --------------------------------------------------------------------------- names and ids


def test_name_refuses_control_characters_and_overlong_names(cli, tmp_path):
    """`rollout name` rejects a newline, other control characters and names past 256 characters."""
    db = tmp_path / "t.db"
    _import(cli, db, SAMPLE)
    for bad, reason in (("two\nlines", "control characters"), ("tab\there", "control characters"),
                        ("x" * 257, "at most 256 characters")):
        result = cli("name", SAMPLE_ID, bad, "--db", db)
        assert result.code == 1 and result.out == "" and reason in result.err
        assert result.err.startswith("error: ") and result.err.count("\n") == 1
    assert cli("name", SAMPLE_ID, "x" * 256, "--db", db).code == 0


def test_thread_ids_match_in_any_case(cli, tmp_path):
    """An id typed in upper case finds the thread in a store and in a Codex home."""
    db = tmp_path / "t.db"
    _import(cli, db, SAMPLE)
    assert cli("export", SAMPLE_ID.upper(), "--db", db).out == SAMPLE.read_text()
    [summary] = _records(cli("inspect", SAMPLE_ID.upper(), "--db", db, "--json").out)
    assert summary["thread"]["id"] == SAMPLE_ID
    day = tmp_path / "home" / "sessions" / "2026" / "06" / "01"
    day.mkdir(parents=True)
    (day / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
    assert cli("inspect", SAMPLE_ID.upper(), "--codex-home", tmp_path / "home", "--json").code == 0
    assert cli("export", SAMPLE_ID.upper(), "--codex-home", tmp_path / "home").out == SAMPLE.read_text()


def test_a_non_uuid_thread_id_is_one_error_line(cli, tmp_path):
    """A thread id that is not a UUID is refused with one error line (it could name a file)."""
    db = tmp_path / "t.db"
    _import(cli, db, SAMPLE)
    result = cli("name", "../../x", "n", "--db", db)
    assert (result.code, result.out) == (1, "") and result.err.startswith("error: thread id must be a UUID")


# --------------------------------------------------------------------------- fork and rollback


def test_at_turn_counts_turns_kept_in_the_cli_and_the_library(cli, tmp_path):
    """`fork --at-turn 1` and `fork(at_turn=1)` both keep exactly one turn."""
    db = tmp_path / "t.db"
    _import(cli, db, SAMPLE)
    [by_cli] = _records(cli("fork", SAMPLE_ID, "--at-turn", "1", "--db", db, "--json").out)

    async def by_library() -> tuple[int, int]:
        async with SqliteStore.open(db) as store:
            child = await store.fork(SAMPLE_ID, at_turn=1)
            return len((await store.read(by_cli["id"])).turns), len((await store.read(child.id)).turns)

    assert asyncio.run(by_library()) == (1, 1)
    [by_id] = _records(cli("fork", SAMPLE_ID, "--at-turn", "turn-1", "--db", db, "--json").out)
    assert by_id["lastSeq"] == by_cli["lastSeq"]


def test_rollback_reports_the_turns_it_dropped_and_refuses_an_empty_thread(cli, tmp_path):
    """Rolling back 100 of 2 turns says 2; rolling back again is an error that appends nothing."""
    db = tmp_path / "t.db"
    _import(cli, db, SAMPLE)
    assert cli("rollback", SAMPLE_ID, "100", "--db", db).out == f"rolled back 2 turns of {SAMPLE_ID}: 0 turns left\n"
    again = cli("rollback", SAMPLE_ID, "1", "--db", db)
    assert again == (1, "", f"error: thread {SAMPLE_ID} has no turns to roll back\n")
    [info] = _records(cli("ls", "--db", db, "--json").out)
    assert info["lastSeq"] == 26


# --------------------------------------------------------------------------- import


def test_import_of_a_grown_file_appends_its_new_lines(cli, tmp_path):
    """Re-importing a file that grew adds only the new lines and says so; a changed file is reported, not touched."""
    db, path = tmp_path / "t.db", tmp_path / SAMPLE.name
    lines = SAMPLE.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:10]))
    _import(cli, db, path)
    path.write_bytes(b"".join(lines))
    grown = cli("import", path, "--db", db)
    assert grown.code == 0 and "; 1 grown (15 new lines)" in grown.out
    assert cli("export", SAMPLE_ID, "--db", db).out == SAMPLE.read_text()
    path.write_bytes(b"".join(lines[:3]) + lines[3].replace(b"2026-06-01", b"2026-06-02") + b"".join(lines[4:]))
    changed = cli("import", path, "--db", db, "--json")
    assert changed.code == 1
    [record] = _records(changed.out)
    assert (record["status"], record["linesAdded"]) == ("diverged", 0)
    assert record["error"] == f"thread {SAMPLE_ID}: stored line 4 differs from the rollout's line 4"
    human = cli("import", path, "--db", db)
    assert human.err == f"error: {path}: {record['error']}\n"
    assert cli("export", SAMPLE_ID, "--db", db).out == SAMPLE.read_text()


def test_folder_import_says_which_jsonl_files_it_skipped_and_why(cli, tmp_path):
    """Other .jsonl files in a folder are imported when they are rollouts, and counted as skipped when not."""
    folder = tmp_path / "dump"
    folder.mkdir()
    (folder / "my-session.jsonl").write_bytes(SAMPLE.read_bytes())  # a rollout under another name
    (folder / "notes.jsonl").write_text('{"note": "not a rollout"}\n')
    (folder / "events.jsonl").write_text('{"timestamp":"2026-06-01T10:00:00Z","type":"event_msg","payload":{}}\n')
    result = cli("import", folder, "--db", tmp_path / "t.db")
    assert result.code == 0 and result.err == ""
    assert result.out.startswith("imported 1 thread")
    assert "; 2 .jsonl files skipped (not rollouts: no session_meta)" in result.out
    records = _records(cli("import", folder, "--db", tmp_path / "t.db", "--json").out)
    assert sorted((Path(r["path"]).name, r["status"], r["error"]) for r in records) == [
        ("events.jsonl", "skipped", "not a rollout (no session_meta)"),
        ("my-session.jsonl", "unchanged", None),
        ("notes.jsonl", "skipped", "not a rollout (no session_meta)"),
    ]


def test_import_errors_name_the_file_once_after_error(cli, tmp_path):
    """A file that cannot be imported: `error: PATH: reason`, the path once."""
    bad = tmp_path / "rollout-2026-06-01T10-00-00-019e2a5c-0000-7000-8000-00000000bad0.jsonl"
    meta = ev.SessionMetaLine(timestamp="2026-06-01T10:00:00Z", payload=ev.SessionMeta(id="../../../x"))
    bad.write_bytes(encode_line(meta) + b"\n")
    result = cli("import", bad, "--db", tmp_path / "t.db")
    assert result.code == 1
    assert result.err.startswith(f"error: {bad}: thread id must be a UUID") and result.err.count(str(bad)) == 1


# --------------------------------------------------------------------------- export and Codex homes


def test_export_into_a_folder_uses_codex_file_name_and_never_a_temp_name(cli, tmp_path):
    """`export -o DIR` writes DIR/rollout-<stamp>-<id>.jsonl; a failure names the target, not a temp file."""
    db = tmp_path / "t.db"
    _import(cli, db, SAMPLE)
    out = tmp_path / "out"
    out.mkdir()
    [record] = _records(cli("export", SAMPLE_ID, "--db", db, "-o", out, "--json").out)
    written = Path(record["path"])
    assert written.parent == out and written.name.startswith("rollout-2026-06-01T") and written.name.endswith(
        f"-{SAMPLE_ID}.jsonl")
    assert written.read_bytes() == SAMPLE.read_bytes()
    assert sorted(p.name for p in out.iterdir()) == [written.name]
    missing = tmp_path / "no" / "such" / "dir" / "x.jsonl"
    result = cli("export", SAMPLE_ID, "--db", db, "-o", missing)
    assert result.code == 1 and result.err.startswith(f"error: {missing}: cannot write") and ".tmp" not in result.err


def test_ls_on_a_folder_that_is_not_a_codex_home_creates_nothing(cli, tmp_path):
    """--codex-home on a plain folder is refused before any index is made there."""
    plain = tmp_path / "plain"
    plain.mkdir()
    result = cli("ls", "--codex-home", plain)
    assert (result.code, result.out) == (1, "")
    assert result.err == f"error: {plain}: not a Codex home (it has no sessions/ or archived_sessions/ folder)\n"
    assert list(plain.iterdir()) == []


def test_a_read_only_codex_home_lists_and_exports(cli, tmp_path, monkeypatch):
    """A Codex home the user may not write is read with an in-memory index; a write names what is read-only."""
    home = tmp_path / "home"
    day = home / "sessions" / "2026" / "06" / "01"
    day.mkdir(parents=True)
    (day / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if mode & os.W_OK else real(p, mode, **kw))
    [info] = _records(cli("ls", "--codex-home", home, "--json").out)
    assert info["id"] == SAMPLE_ID
    assert cli("export", SAMPLE_ID, "--codex-home", home).out == SAMPLE.read_text()
    result = cli("name", SAMPLE_ID, "x", "--codex-home", home)
    assert result == (1, "", f"error: {home} is read-only: cannot write to this Codex home\n")
    assert not (home / ".rollout-engine").exists()
