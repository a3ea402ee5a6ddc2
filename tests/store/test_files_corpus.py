"""FileStore over a Codex home built from the real corpus, and 1,000 same-second threads."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from rollout.codex_home import CodexHome, parse_rollout_name, rollout_name
from rollout.reader import read_rollout
from store import MemoryStore
from store.copy import iter_threads
from store.files import FileStore
from store.plan import import_plan
from tests.corpus import corpus_files

pytestmark = pytest.mark.skipif(not corpus_files(), reason="corpus not found")

NAMES = {0: ["first name", "renamed"], 3: ["third"], 5: ["  spaced  "]}


def _place_corpus(root: Path) -> dict[str, bool]:
    """Copy each corpus file where Codex keeps it, dated as it was; returns id -> archived."""
    home, placed = CodexHome(root), {}
    for source in corpus_files():
        parts = source.name.split("__")
        archived = "archived_sessions" in parts
        name = parts[-1]
        state = import_plan(source).state
        if parse_rollout_name(name) is None:  # e.g. docs__example.jsonl: name it from its session_meta
            name = rollout_name(state.id, datetime.fromtimestamp(state.created_ms / 1000).astimezone())
        stamp = parse_rollout_name(name).stamp
        target = home.archived / name if archived else home.sessions / stamp[:4] / stamp[5:7] / stamp[8:10] / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        os.utime(target, ns=(state.updated_ms * 1_000_000,) * 2)  # last written when its last line was
        placed[state.id] = archived
    return placed


def _write_names(root: Path, ids: list[str]) -> dict[str, str]:
    lines, expected = [], {}
    for index, names in NAMES.items():
        for name in names:
            lines.append(json.dumps({"id": ids[index], "thread_name": name, "updated_at": "2026-01-01T00:00:00Z"}))
        expected[ids[index]] = names[-1].strip()
    (root / "session_index.jsonl").write_text("\n".join(lines) + "\n")
    return expected


async def test_corpus_home_lists_every_thread_with_its_metadata(tmp_path):
    """Every thread is listed once, with the oracle's preview, times, name and archive state."""
    root = tmp_path / "codex"
    placed = _place_corpus(root)
    names = _write_names(root, sorted(placed))
    async with MemoryStore.open() as oracle:
        expected = {}
        for source in corpus_files():
            info = await oracle.info((await oracle.import_rollout(source)).thread_id)
            expected[info.id] = info
    async with FileStore.open(root) as store:
        listed = [info async for info in iter_threads(store)]
        small_pages = []
        cursor = None
        while True:
            page = await store.list(limit=7, cursor=cursor, archived=None, source=[], model_provider=[])
            small_pages += page.data
            if not (cursor := page.next_cursor):
                break
        assert [t.id for t in small_pages] == [t.id for t in listed]
        assert store.report.torn == []
    assert sorted(t.id for t in listed) == sorted(placed)
    for info in listed:
        want = expected[info.id]
        fields = ("preview", "created_at", "updated_at", "cwd", "source", "model_provider", "last_seq")
        assert {f: getattr(info, f) for f in fields} == {f: getattr(want, f) for f in fields}, info.path
        assert info.name == names.get(info.id, want.name)
        assert info.archived == placed[info.id]
    assert all(info.preview for info in listed)


async def test_a_fresh_filestore_and_read_rollout_agree_on_corpus_lines(tmp_path):
    """Lines served from the corpus home are exactly what rollout.read_rollout reads."""
    root = tmp_path / "codex"
    _place_corpus(root)
    async with FileStore.open(root) as store:
        async for info in iter_threads(store):
            served = [line for line in await store.read_lines(info.id)]
            assert served == read_rollout(info.path).lines


def _same_second_home(root: Path, count: int) -> list[str]:
    home, ids = CodexHome(root), []
    for i in range(count):
        thread_id = f"01980000-0000-7000-8000-{i:012x}"
        meta = {"id": thread_id, "timestamp": "2025-07-01T00:00:00.000Z", "cwd": "/p",
                "originator": "codex_cli_rs", "cli_version": "0.140.0", "source": "cli"}
        user = {"type": "user_message", "message": f"thread {i}", "images": [], "local_images": [], "text_elements": []}
        lines = [{"timestamp": "2025-07-01T00:00:00.000Z", "type": "session_meta", "payload": meta},
                 {"timestamp": "2025-07-01T00:00:00.500Z", "type": "event_msg", "payload": user}]
        path = home.sessions / "2025" / "07" / "01" / f"rollout-2025-07-01T00-00-00-{thread_id}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        ids.append(thread_id)
    return ids


@pytest.mark.parametrize("sort", ["created_at", "updated_at"])
async def test_one_thousand_same_second_threads_page_without_skip_or_repeat(tmp_path, sort):
    """TC35 done right: (timestamp, id) cursors page through threads created in one second."""
    ids = _same_second_home(tmp_path / "codex", 1000)
    async with FileStore.open(tmp_path / "codex") as store:
        seen, cursor, pages = [], None, 0
        while True:
            page = await store.list(limit=37, cursor=cursor, sort=sort)
            seen += [t.id for t in page.data]
            pages += 1
            if not (cursor := page.next_cursor):
                break
    assert len(seen) == len(set(seen)) == 1000 and set(seen) == set(ids)
    assert pages == 28
    if sort == "created_at":
        assert seen == sorted(ids, reverse=True)


def test_corpus_is_not_copied_into_the_project():
    """Tests read the corpus in place (only temporary homes hold copies)."""
    project = Path(__file__).resolve().parents[2]
    names = {path.name for path in corpus_files()}
    assert not any(path.name in names for path in project.rglob("*.jsonl"))
