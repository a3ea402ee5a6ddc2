"""``rollout sync`` and ``rollout search`` on a Codex home built from the committed scenario files."""

from __future__ import annotations

import json

from tests.store.test_sync import build_home

EVERY = ("--source", "all", "--provider", "all")


def records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_sync_then_search_finds_items_and_links_them_into_view(cli, tmp_path):
    """sync imports the home once; search hits carry the anchor rollout view gives the item."""
    home, db = tmp_path / "home", tmp_path / "t.db"
    build_home(home)
    first = cli("sync", home, "--db", db, "--json")
    assert first.code == 0 and records(first.out)[0]["new"] == 5
    again = cli("sync", home, "--db", db, "--json")
    assert records(again.out)[0]["bytesRead"] == 0
    found = cli("search", "echo", "--db", db, "--json")
    hits = records(found.out)
    assert found.code == 0 and hits and all(hit["kind"] == "commandExecution" for hit in hits)
    page = tmp_path / "view.html"
    assert cli("view", hits[0]["threadId"], "--db", db, "-o", page).code == 0
    assert f'id="{hits[0]["anchor"]}"' in page.read_text()


def test_search_options_and_errors(cli, tmp_path):
    home, db = tmp_path / "home", tmp_path / "t.db"
    build_home(home, ["multi_turn.paginated.0"])
    assert cli("sync", home, "--db", db).code == 0
    human = cli("search", "question", "--db", db, "--role", "user", "--since", "2000-01-01")
    assert human.code == 0 and "userMessage" in human.out
    assert cli("search", "question", "--db", db, "--since", "yesterday-ish").code == 2
    bad = cli("search", "--db", db, "--", "-only")
    assert bad.code == 1 and bad.err.startswith("error: nothing to search for")
    missing = cli("search", "x", "--db", tmp_path / "none.db")
    assert missing.code == 1 and "no such database" in missing.err


def test_a_thread_whose_files_vanished_is_marked_source_missing_in_ls_and_inspect_until_they_return(cli, tmp_path):
    """sync keeps a thread whose file is gone; ls and inspect say source missing, and stop when the file is back."""
    home, db = tmp_path / "home", tmp_path / "t.db"
    (path,) = build_home(home, ["exec_success.legacy.0"]).values()
    build_home(home, ["multi_turn.paginated.0"])
    assert cli("sync", home, "--db", db).code == 0
    before = {r["id"]: r for r in records(cli("ls", "--db", db, "--json", *EVERY).out)}
    assert len(before) == 2 and not any(r["sourceMissing"] for r in before.values())
    saved = path.read_bytes()
    path.unlink()
    synced = cli("sync", home, "--db", db, "--json")
    gone = records(synced.out)[0]["sourceMissing"]
    assert len(gone) == 1
    listed = {r["id"]: r["sourceMissing"] for r in records(cli("ls", "--db", db, "--json", *EVERY).out)}
    assert listed == {thread_id: thread_id in gone for thread_id in before}
    table = cli("ls", "--db", db, *EVERY).out
    assert [line.split()[0] for line in table.splitlines() if "[source missing]" in line] == gone
    shown = cli("inspect", gone[0].upper(), "--db", db)
    assert shown.code == 0 and "source missing" in shown.out
    assert json.loads(cli("inspect", gone[0], "--db", db, "--json").out)["sourceMissing"] is True
    path.write_bytes(saved)
    assert records(cli("sync", home, "--db", db, "--json").out)[0]["sourceMissing"] == []
    back = records(cli("ls", "--db", db, "--json", *EVERY).out)
    assert not any(r["sourceMissing"] for r in back)
    assert "source missing" not in cli("inspect", gone[0], "--db", db).out
    assert json.loads(cli("inspect", gone[0], "--db", db, "--json").out)["sourceMissing"] is False


def test_ls_and_inspect_of_a_store_never_synced_say_nothing_of_sources(cli, tmp_path):
    """Without a sync state beside the database, ls --json has no sourceMissing and inspect --json gives null."""
    home, db = tmp_path / "home", tmp_path / "t.db"
    build_home(home, ["exec_success.legacy.0"])
    assert cli("import", home, "--db", db).code == 0
    (listed,) = records(cli("ls", "--db", db, "--json", *EVERY).out)
    assert "sourceMissing" not in listed
    assert json.loads(cli("inspect", listed["id"], "--db", db, "--json").out)["sourceMissing"] is None
