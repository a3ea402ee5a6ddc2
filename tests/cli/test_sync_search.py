"""``rollout sync`` and ``rollout search`` on a Codex home built from the committed scenario files."""

from __future__ import annotations

import json

from tests.store.test_sync import build_home


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
