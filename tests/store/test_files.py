"""FileStore: a Codex home as a backend: layout, names, index repair, moves, forks, migration."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import msgspec
import pytest
import zstandard

import rollout
from rollout import events as ev
from rollout.codec import encode_line
from rollout.codex_home import CodexHome, parse_rollout_name
from rollout.errors import ThreadNotFound, WriterLocked
from store import MemoryStore, SqliteStore
from store.copy import copy_threads, iter_threads
from store.files import FileStore
from tests.store.conftest import event, meta, stamp, turn, user

UUID = "019e2a5c-0000-7000-8000-000000000001"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "codex"


@pytest.fixture
def tokyo(monkeypatch):
    """Local time UTC+9, so local and UTC dates differ."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _meta_line(thread_id: str, ts: str = "2026-06-01T10:00:00.000Z", **fields) -> bytes:
    payload = {"id": thread_id, "timestamp": ts, "cwd": "/p", "originator": "codex_cli_rs",
               "cli_version": "0.140.0", "source": "cli", "model_provider": "openai", **fields}
    return json.dumps({"timestamp": ts, "type": "session_meta", "payload": payload}).encode()


def _user_line(text: str, ts: str = "2026-06-01T10:00:01.000Z") -> bytes:
    payload = {"type": "user_message", "message": text, "images": [], "local_images": [], "text_elements": []}
    return json.dumps({"timestamp": ts, "type": "event_msg", "payload": payload}).encode()


def _place(home: Path, thread_id: str, lines: list[bytes], *, stamp_: str = "2026-06-01T12-00-00",
           archived: bool = False, suffix: str = ".jsonl") -> Path:
    """Put a rollout file where Codex would (date directories from the name's stamp)."""
    name = f"rollout-{stamp_}-{thread_id}.jsonl"
    day = home / "archived_sessions" if archived else home / "sessions" / stamp_[:4] / stamp_[5:7] / stamp_[8:10]
    day.mkdir(parents=True, exist_ok=True)
    data = b"".join(line + b"\n" for line in lines)
    path = day / (name + suffix[len(".jsonl"):])
    if suffix.endswith(".zst"):  # like Codex's streaming compressor: no content size in the frame
        data = zstandard.ZstdCompressor(write_content_size=False).compress(data)
    path.write_bytes(data)
    return path


async def _thread(store, *lines: list[ev.Line], **fields):
    info = await store.start_thread(meta(**fields))
    for batch in lines:
        await store.append(info.id, batch)
    return await store.info(info.id)


def _untimed(line: dict) -> dict:
    """A line without the write timestamps and ids a store stamps on lines it makes itself."""
    payload = dict(line["payload"])
    for key in ("id", "timestamp"):
        payload.pop(key, None)
    return {"type": line["type"], "payload": payload}


def _json(lines: list[ev.Line]) -> list[object]:
    return [msgspec.json.decode(encode_line(line)) for line in lines]


# --------------------------------------------------------------------------- layout and naming


def test_rollout_names_parse_as_codex_parses_them():
    """Stamp and uuid split from the right; .zst accepted; anything else ignored."""
    parsed = parse_rollout_name(f"rollout-2026-06-01T10-00-00-{UUID}.jsonl.zst")
    assert (parsed.stamp, parsed.thread_id, parsed.compressed) == ("2026-06-01T10-00-00", UUID, True)
    for bad in (f"rollout-2026-06-01-{UUID}.jsonl", "rollout-2026-06-01T10-00-00-not-a-uuid.jsonl",
                f"session-2026-06-01T10-00-00-{UUID}.jsonl", f"rollout-2026-06-01T10-00-00-{UUID}.json"):
        assert parse_rollout_name(bad) is None


async def test_new_thread_file_is_named_in_local_time_with_utc_content(home, tokyo):
    """sessions/<local date>/rollout-<local time>-<id>.jsonl; timestamps inside stay UTC."""
    async with FileStore.open(home) as store:
        info = await store.start_thread(meta(timestamp="2026-06-01T20:30:00.000Z"))
    path = Path(info.path)
    assert path.relative_to(home).parts[:4] == ("sessions", "2026", "06", "02")
    assert path.name == f"rollout-2026-06-02T05-30-00-{info.id}.jsonl"
    first = json.loads(path.read_bytes().splitlines()[0])
    assert first["type"] == "session_meta" and first["payload"]["timestamp"] == "2026-06-01T20:30:00.000Z"
    assert first["timestamp"].endswith("Z") and len(first["timestamp"]) == len("2026-06-01T20:30:00.000Z")


async def test_what_filestore_writes_reads_back_equal_everywhere(home):
    """A fresh FileStore and rollout.read_rollout read the same lines the store was given."""
    written = [*turn("t-1", "hello"), *turn("t-2", "again", end="open")]
    async with FileStore.open(home) as store:
        info = await _thread(store, written)
        lines = await store.read_lines(info.id)
    data = Path(info.path).read_bytes()
    assert data.endswith(b"\n") and b"\n\n" not in data
    assert _json(rollout.read_rollout(info.path).lines) == _json(lines)
    assert _json(lines[1:]) == _json(written)
    async with FileStore.open(home) as fresh:
        assert _json(await fresh.read_lines(info.id)) == _json(lines)
        assert (await fresh.info(info.id)).last_seq == len(lines)
        assert fresh.report.indexed == 0  # the index was reused, no file re-read


async def test_jsonl_zst_files_are_read_and_decompressed_before_an_append(home):
    """Cold .jsonl.zst threads read transparently; unarchive/append materialize plain JSONL."""
    path = _place(home, UUID, [_meta_line(UUID), _user_line("cold")], archived=True, suffix=".jsonl.zst")
    async with FileStore.open(home) as store:
        info = await store.info(UUID)
        assert (info.archived, info.preview, info.last_seq) == (True, "cold", 2)
        assert len(await store.read_lines(UUID)) == 2
        info = await store.unarchive(UUID)
        assert not path.exists() and info.path.endswith(".jsonl")
        assert await store.append(UUID, user("warm")) == 4
    assert rollout.read_rollout(info.path).lines[-1].payload.message == "warm"


async def test_a_zst_beside_its_plain_file_is_ignored(home):
    """The plain .jsonl wins, as in Codex (spec 2.3)."""
    _place(home, UUID, [_meta_line(UUID), _user_line("plain")], archived=True)
    _place(home, UUID, [_meta_line(UUID), _user_line("stale")], archived=True, suffix=".jsonl.zst")
    async with FileStore.open(home) as store:
        assert (await store.info(UUID)).preview == "plain"


# --------------------------------------------------------------------------- writes never rewrite


async def test_rollback_and_rename_only_append(home):
    """Rollback appends one marker line; a rename touches session_index.jsonl, not the rollout."""
    async with FileStore.open(home) as store:
        info = await _thread(store, turn("t-1", "one"), turn("t-2", "two"))
        before = Path(info.path).read_bytes()
        await store.set_name(info.id, "  My thread ")
        assert Path(info.path).read_bytes() == before
        entry = json.loads((home / "session_index.jsonl").read_bytes().splitlines()[-1])
        assert (entry["id"], entry["thread_name"]) == (info.id, "My thread")
        rolled = await store.rollback(info.id, 1)
        thread = await store.read(info.id)
        after = Path(info.path).read_bytes()
    assert after.startswith(before) and after.count(b"\n") == before.count(b"\n") + 1
    assert json.loads(after.splitlines()[-1])["payload"] == {"type": "thread_rolled_back", "num_turns": 1}
    assert [t.id for t in thread.turns] == ["t-1"] and thread.name == rolled.name == "My thread"


async def test_archive_moves_the_file_and_unarchive_brings_it_back_touched(home):
    """archived_sessions/ is flat; unarchive uses the date in the name and counts as updated."""
    async with FileStore.open(home) as store:
        info = await _thread(store, user("x"))
        name = Path(info.path).name
        archived = await store.archive(info.id)
        assert Path(archived.path) == home / "archived_sessions" / name and not Path(info.path).exists()
        assert archived.archived and (await store.list()).data == []
        os.utime(archived.path, ns=(0, 0))  # long ago
        back = await store.unarchive(info.id)
    assert Path(back.path) == Path(info.path) and not back.archived
    assert back.updated_at >= info.updated_at and os.stat(back.path).st_mtime > 1e9


async def test_fork_writes_a_new_file_with_parent_history_as_codex_does(home):
    """Own meta with forked_from_id, then the parent's lines byte for byte, then turn_aborted."""
    async with FileStore.open(home) as store:
        parent = await _thread(store, turn("t-1", "one"), turn("t-2", "two", end="open"))
        await store.set_name(parent.id, "base")
        child = await store.fork(parent.id)
    parent_bytes = Path(parent.path).read_bytes().splitlines()
    child_bytes = Path(child.path).read_bytes().splitlines()
    head = json.loads(child_bytes[0])
    assert head["type"] == "session_meta" and head["payload"]["forked_from_id"] == parent.id
    assert head["payload"]["id"] == child.id != parent.id
    assert child_bytes[1:-1] == parent_bytes
    aborted = json.loads(child_bytes[-1])["payload"]
    assert {"type": "turn_aborted", "turn_id": "t-2", "reason": "interrupted"}.items() <= aborted.items()
    index = [json.loads(line) for line in (home / "session_index.jsonl").read_bytes().splitlines()]
    assert {"id": child.id, "thread_name": "base"}.items() <= index[-1].items()
    assert child.name == "base" and child.forked_from_id == parent.id


async def test_a_second_writer_gets_a_clear_error(home):
    """While another writer holds the file, append raises WriterLocked and writes nothing."""
    async with FileStore.open(home) as store:
        info = await _thread(store, user("x"))
        before = Path(info.path).read_bytes()
        with rollout.RolloutWriter(info.path), pytest.raises(WriterLocked):
            await store.append(info.id, user("y"))
        assert Path(info.path).read_bytes() == before
        assert await store.append(info.id, user("y")) == 5


# --------------------------------------------------------------------------- names (spec 7, TC36)


async def test_session_index_newest_entry_wins(home):
    """TC36: the newest name wins; a renamed thread no longer answers to its old name."""
    a, b = UUID, UUID[:-1] + "2"
    for thread_id in (a, b):
        _place(home, thread_id, [_meta_line(thread_id), _user_line("hi")])
    entries = [{"id": a, "thread_name": "same"}, {"id": b, "thread_name": "same"}]
    (home / "session_index.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries) + "not json\n")
    async with FileStore.open(home) as store:
        assert await store.find_by_name("same") == b
        for path in (home / "sessions").rglob(f"*{b}.jsonl"):
            path.unlink()
        assert await store.find_by_name("same") == a
        await store.set_name(a, "new")
        assert await store.find_by_name("same") is None
        assert (await store.info(a)).name == "new"


async def test_names_written_by_codex_meanwhile_are_seen(home):
    """Lines appended to session_index.jsonl by another program show up in listings."""
    _place(home, UUID, [_meta_line(UUID), _user_line("hi")])
    async with FileStore.open(home) as store:
        with open(home / "session_index.jsonl", "a") as index:
            index.write(json.dumps({"id": UUID, "thread_name": "from codex", "updated_at": "2026-06-01T00:00:00Z"}) + "\n")
        assert [t.name for t in (await store.list()).data] == ["from codex"]


# --------------------------------------------------------------------------- the index


async def test_a_missing_index_is_rebuilt_from_the_files_and_reported(home, caplog):
    """Delete the sidecar: the next open rebuilds it, says so, and lists the same threads."""
    async with FileStore.open(home) as store:
        ids = [(await _thread(store, user(f"t{i}"))).id for i in range(3)]
        before = await store.list()
    (home / ".rollout-engine" / "index.sqlite").unlink()
    with caplog.at_level(logging.INFO, logger="store.files"):
        async with FileStore.open(home) as store:
            assert store.report.rebuilt == "no index" and store.report.indexed == 3
            assert await store.list() == before and {t.id for t in before.data} == set(ids)
    assert any("index rebuilt from the rollout files (3 read)" in r.getMessage() for r in caplog.records)


async def test_an_unreadable_index_is_replaced(home):
    """A sidecar that is not a database is rebuilt rather than failing the open."""
    async with FileStore.open(home) as store:
        info = await _thread(store, user("x"))
    (home / ".rollout-engine" / "index.sqlite").write_bytes(b"garbage" * 100)
    async with FileStore.open(home) as store:
        assert "unreadable" in store.report.rebuilt
        assert (await store.info(info.id)).preview == "x"


async def test_changes_made_by_other_programs_are_repaired(home):
    """Outside appends, new files and deletions are picked up and counted as repairs."""
    async with FileStore.open(home, refresh_interval=0) as store:
        info = await _thread(store, user("x"))
        with open(info.path, "ab") as file:  # Codex appending to a thread
            file.write(_user_line("more") + b"\n")
        assert (await store.info(info.id)).last_seq == 4
        _place(home, UUID, [_meta_line(UUID), _user_line("new file")])
        assert UUID in {t.id for t in (await store.list()).data}
        Path(info.path).unlink()
        assert [t.id for t in (await store.list()).data] == [UUID]
        with pytest.raises(ThreadNotFound):
            await store.info(info.id)
        assert store.report.indexed >= 2 and store.report.dropped == 1


async def test_lookup_by_id_uses_the_index_not_a_scan(home, monkeypatch):
    """Once indexed, finding a thread reads no rollout file besides its own."""
    for i in range(5):
        _place(home, UUID[:-1] + str(i), [_meta_line(UUID[:-1] + str(i)), _user_line(f"t{i}")])
    async with FileStore.open(home) as store:
        reads = []
        real = store.catalog._read_state
        monkeypatch.setattr(store.catalog, "_read_state", lambda found, stat: reads.append(found) or real(found, stat))
        assert (await store.info(UUID[:-1] + "3")).preview == "t3"
        assert len((await store.list()).data) == 5
        assert reads == []


async def test_a_thread_whose_first_user_message_comes_late_is_listed(home):
    """Codex's head scan gives up after 210 records; the index reads on."""
    noise = [json.dumps({"timestamp": "2026-06-01T10:00:00.500Z", "type": "event_msg",
                         "payload": {"type": "agent_reasoning", "text": f"r{i}"}}).encode() for i in range(300)]
    _place(home, UUID, [_meta_line(UUID), *noise, _user_line("finally asked")])
    async with FileStore.open(home) as store:
        assert [(t.id, t.preview) for t in (await store.list()).data] == [(UUID, "finally asked")]


async def test_meta_less_and_empty_files_are_skipped(home):
    """TC40: files without a readable session_meta hold no thread (and are not re-read)."""
    _place(home, UUID, [b""])
    _place(home, UUID[:-1] + "2", [b'{"record_type":"response","index":0}'])
    _place(home, UUID[:-1] + "3", [_meta_line(UUID[:-1] + "3"), _user_line("ok")])
    async with FileStore.open(home) as store:
        assert [t.id for t in (await store.list()).data] == [UUID[:-1] + "3"]
    async with FileStore.open(home) as store:
        assert store.report.indexed == 0


# --------------------------------------------------------------------------- migration


async def _populated(store) -> dict[str, str]:
    """Plain, named, archived, forked and rolled-back threads; returns role -> id."""
    plain = await _thread(store, turn("t-1", "plain"), cwd="/a")
    named = await _thread(store, turn("t-1", "named"), source="exec")
    await store.set_name(named.id, "A name")
    gone = await _thread(store, turn("t-1", "to archive"))
    await store.archive(gone.id)
    child = await store.fork(named.id)
    await store.append(child.id, turn("t-2", "child turn", end="open"))
    await store.rollback(plain.id, 1)
    return {"plain": plain.id, "named": named.id, "archived": gone.id, "child": child.id}


async def _snapshot(store) -> dict[str, tuple]:
    found = {}
    async for info in iter_threads(store):
        lines = _json(await store.read_lines(info.id))
        found[info.id] = (lines, info.name, info.archived, info.forked_from_id, info.preview, info.created_at)
    return found


async def test_migration_both_ways_keeps_lines_names_archive_state_and_lineage(home, tmp_path):
    """SqliteStore -> FileStore -> SqliteStore: every thread arrives JSON-equal with its metadata."""
    async with SqliteStore.open(tmp_path / "a.db") as source:
        roles = await _populated(source)
        expected = await _snapshot(source)
        async with FileStore.open(home) as files:
            assert await copy_threads(source, files) == 4
            assert await _snapshot(files) == expected
            assert (await files.info(roles["child"])).forked_from_id == roles["named"]
            async with SqliteStore.open(tmp_path / "b.db") as back:
                assert await copy_threads(files, back) == 4
                assert await _snapshot(back) == expected
            assert await copy_threads(source, files, skip_existing=True) == 0
    async with FileStore.open(home) as fresh:  # and the files alone say the same
        assert await _snapshot(fresh) == expected
    assert (home / "archived_sessions").is_dir() and len(list((home / "archived_sessions").iterdir())) == 1


async def test_filestore_reads_like_the_memory_oracle(home):
    """The same operations give the same lines and turns as MemoryStore."""
    async with FileStore.open(home) as files, MemoryStore.open() as memory:
        found = []
        for store in (files, memory):
            info = await _thread(store, turn("t-1", "a"), [event(ev.TokenCountEvent(), 3)], turn("t-2", "b"))
            await store.rollback(info.id, 1)
            child = await store.fork(info.id, at_turn=1)
            found.append([([_untimed(j) for j in _json(await store.read_lines(t))[1:]],
                           (await store.read(t)).turns) for t in (info.id, child.id)])
        assert found[0] == found[1]


def test_codex_home_scan_finds_active_and_archived_files(home):
    """Discovery walks sessions/YYYY/MM/DD and the flat archive, ignoring other names."""
    _place(home, UUID, [_meta_line(UUID)])
    _place(home, UUID[:-1] + "2", [_meta_line(UUID[:-1] + "2")], archived=True)
    (home / "sessions" / "2026" / "06" / "01" / "notes.txt").write_text("x")
    found = sorted((f.thread_id, f.archived) for f in CodexHome(home).scan())
    assert found == [(UUID, False), (UUID[:-1] + "2", True)]
    assert [f.archived for f in CodexHome(home).find(UUID)] == [False]
    assert stamp(0) == "2026-06-01T10:00:00.000Z"


async def test_first_session_meta_wins_and_a_goal_can_be_the_preview(home):
    """TC33: foreign metas after the first are ignored; a goal objective previews a goal-first thread."""
    other = [_meta_line(f"019e2a5c-0000-7000-8000-{i:012d}") for i in range(11)]
    _place(home, UUID, [_meta_line(UUID), *other, _user_line("run the benchmark")])
    goal_id = UUID[:-1] + "9"
    goal = {"type": "thread_goal_updated", "thread_id": goal_id, "goal": {"objective": "optimize the benchmark"}}
    _place(home, goal_id, [_meta_line(goal_id), json.dumps({"timestamp": "2026-06-01T10:00:02.000Z",
                                                            "type": "event_msg", "payload": goal}).encode()])
    async with FileStore.open(home) as store:
        found = {t.id: t.preview for t in (await store.list()).data}
    assert found == {UUID: "run the benchmark", goal_id: "optimize the benchmark"}


async def test_an_active_copy_wins_over_an_archived_one(home):
    """Two files for one id (e.g. a move cut short): the active file is the thread's."""
    active = _place(home, UUID, [_meta_line(UUID), _user_line("active")])
    _place(home, UUID, [_meta_line(UUID), _user_line("archived")], archived=True)
    async with FileStore.open(home) as store:
        info = await store.info(UUID)
        assert (Path(info.path), info.archived, info.preview) == (active, False, "active")
        assert [t.id for t in (await store.list(archived=None)).data] == [UUID]


async def test_a_deep_refresh_sees_appends_made_elsewhere(home):
    """Codex appending to a thread off the current page: refresh(deep=True) re-sorts by updated_at."""
    async with FileStore.open(home) as store:
        old = await _thread(store, user("old"), timestamp=stamp(1))
        new = await _thread(store, user("new"), timestamp=stamp(2))
        assert [t.id for t in (await store.list(sort="updated_at")).data] == [new.id, old.id]
        with open(old.path, "ab") as file:
            file.write(_user_line("later") + b"\n")
        later = (new.updated_at + 5) * 10**9
        os.utime(old.path, ns=(later, later))  # a few seconds on, whatever the clock granularity
        report = await store.refresh(deep=True)
        assert report.indexed >= 1
        page = await store.list(sort="updated_at")
    assert [t.id for t in page.data] == [old.id, new.id] and page.data[0].last_seq == 4


async def test_an_append_that_wrote_its_lines_succeeds_even_if_the_file_moves(home, monkeypatch):
    """Another process archiving the file right after the write cannot fail the append (a retry would duplicate)."""
    async with FileStore.open(home) as store:
        info = await _thread(store, turn("t-1", "a"))
        path = Path(info.path)
        target = home / "archived_sessions" / path.name
        original = rollout.RolloutWriter.write_raw

        def write_then_archive(self, records):
            written = original(self, records)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(path, target)  # what `codex archive` does from another process
            return written

        monkeypatch.setattr(rollout.RolloutWriter, "write_raw", write_then_archive)
        seq = await store.append(info.id, user("once"))
        monkeypatch.setattr(rollout.RolloutWriter, "write_raw", original)
        after = await store.info(info.id)
    assert seq == after.last_seq == info.last_seq + 2
    assert after.archived and after.path == str(target)
    assert target.read_bytes().count(b'"once"') == 2  # the response item and the user_message event, once each
