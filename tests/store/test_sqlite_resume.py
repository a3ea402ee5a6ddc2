"""SqliteStore's resume context: persisted with the replay snapshot, exact across reopen and rollbacks."""

from __future__ import annotations

import json

import pytest

import replay
from rollout.codec import decode_line
from store import SqliteStore, Tuning
from store.sqlite.reader import Reader

from .conftest import TINY, meta, sql, turn, user

pytestmark = pytest.mark.asyncio



def _compacted(text: str):
    """A checkpoint compaction whose replacement history is one user message."""
    history = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}]
    payload = {"message": "s", "replacement_history": history}
    return decode_line(json.dumps({"timestamp": "2026-06-01T10:00:05.000Z", "type": "compacted", "payload": payload}).encode())


async def _expected(store: SqliteStore, thread_id: str) -> replay.ResumeContext:
    return replay.resume_context(await store.read_lines(thread_id))


async def test_a_cold_resume_starts_from_the_persisted_context(tmp_path, monkeypatch):
    """After reopening, resume decodes only the lines after the snapshot, once, for turns and context alike."""
    path = tmp_path / "a.db"
    async with SqliteStore.open(path, tuning=TINY) as store:
        info = await store.start_thread(meta())
        for number in range(5):
            await store.append(info.id, turn(f"t-{number}", "p"))
        await store.resume(info.id)
    [(snapshot_seq, has_context)] = sql(path, "SELECT seq, context IS NOT NULL FROM snapshots")
    assert has_context
    ranges: list[tuple[int, int]] = []
    original = Reader.lines
    monkeypatch.setattr(Reader, "lines", lambda self, row, lo, hi: ranges.append((lo, hi)) or original(self, row, lo, hi))
    async with SqliteStore.open(path, tuning=Tuning(snapshot_every=10_000)) as store:
        seq = await store.append(info.id, user("more"))
        resumed = await store.resume(info.id)
        assert ranges == [(snapshot_seq + 1, seq)]
        assert resumed.context == await _expected(store, info.id)
        assert resumed.thread.turns == replay.build_turns(await store.read_lines(info.id))


async def test_a_cold_resume_without_a_snapshot_decodes_each_line_once(tmp_path, monkeypatch):
    """With nothing persisted, one decode of the whole thread feeds both the turns and the context."""
    path = tmp_path / "a.db"
    async with SqliteStore.open(path, tuning=Tuning(snapshot_every=10_000)) as store:
        info = await store.start_thread(meta())
        for number in range(3):
            seq = await store.append(info.id, turn(f"t-{number}", "p"))
    ranges: list[tuple[int, int]] = []
    original = Reader.lines
    monkeypatch.setattr(Reader, "lines", lambda self, row, lo, hi: ranges.append((lo, hi)) or original(self, row, lo, hi))
    async with SqliteStore.open(path, tuning=Tuning(snapshot_every=10_000)) as store:
        resumed = await store.resume(info.id)
        assert ranges == [(1, seq)]
        assert resumed.context == await _expected(store, info.id)
        assert resumed.thread.turns == replay.build_turns(await store.read_lines(info.id))


async def test_a_plain_read_never_loads_the_context(tmp_path, monkeypatch):
    """read() restores only the turn builder; the context is left for a resume."""
    path = tmp_path / "a.db"
    async with SqliteStore.open(path, tuning=TINY) as store:
        info = await store.start_thread(meta())
        await store.append(info.id, turn("t-1", "p"))
        await store.resume(info.id)
    loaded: list[int] = []
    monkeypatch.setattr(replay.ContextBuilder, "load", classmethod(lambda cls, data: loaded.append(1) or cls()))
    async with SqliteStore.open(path) as store:
        await store.read(info.id)
        assert loaded == []


async def test_resume_after_a_rollback_across_a_compaction_is_exact(tmp_path):
    """A rollback that discards a compaction already replayed: resume still equals resume_context."""
    async with SqliteStore.open(tmp_path / "a.db", tuning=TINY) as store:
        info = await store.start_thread(meta())
        await store.append(info.id, turn("t-1", "one"))
        await store.append(info.id, [*turn("t-2", "two"), _compacted("summary")])
        first = await store.resume(info.id)
        assert first.context == await _expected(store, info.id)
        await store.rollback(info.id, 1)
        resumed = await store.resume(info.id)
        assert resumed.context == await _expected(store, info.id)
        assert "summary" not in str(resumed.context.items)


async def test_an_unreadable_context_snapshot_is_replayed_instead(tmp_path):
    """A corrupt persisted context is only a cache: resume replays the lines."""
    path = tmp_path / "a.db"
    async with SqliteStore.open(path, tuning=TINY) as store:
        info = await store.start_thread(meta())
        for number in range(3):
            await store.append(info.id, turn(f"t-{number}", "p"))
        await store.resume(info.id)
    sql(path, "UPDATE snapshots SET context = x'93010203'")
    async with SqliteStore.open(path) as store:
        assert (await store.resume(info.id)).context == await _expected(store, info.id)
