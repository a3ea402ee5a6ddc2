"""SQLite's append path: what it keeps off a burst of appends, and what each commit writes."""

from __future__ import annotations

import asyncio

import pytest

from store import SqliteStore, Tuning
from store.sqlite import upkeep

from .conftest import TINY, meta, sql, turn

pytestmark = pytest.mark.asyncio


async def _burst(store: SqliteStore, threads: int = 4, turns: int = 8) -> list[str]:
    """Appends well past TINY's dictionary threshold, one after another."""
    ids = []
    for number in range(threads):
        info = await store.start_thread(meta())
        for step in range(turns):
            await store.append(info.id, turn(f"t-{step}", f"prompt {number} {step} " * 20))
        ids.append(info.id)
    return ids


async def test_no_dictionary_is_trained_during_a_burst_of_appends_but_at_close(tmp_path, monkeypatch):
    """Training waits for writes to pause; a store closing with training due trains first."""
    monkeypatch.setattr(upkeep, "_TRAIN_QUIET", 600.0)
    monkeypatch.setattr(upkeep, "_TRAIN_LATEST", 600.0)
    path = tmp_path / "a.db"
    async with SqliteStore.open(path, tuning=TINY) as store:
        ids = await _burst(store)
        assert store._training is None and store._train_timer is not None  # due, waiting for a pause
        assert sql(path, "SELECT COUNT(*) FROM dictionaries") == [(0,)]
        exported = {thread_id: await store.export_rollout(thread_id) for thread_id in ids}
    assert sql(path, "SELECT COUNT(*) FROM dictionaries") == [(1,)]
    assert sql(path, "SELECT COUNT(*) FROM chunks WHERE zdict = 0") == [(0,)]  # all recompressed with it
    async with SqliteStore.open(path, tuning=TINY) as store:
        for thread_id, data in exported.items():
            assert await store.export_rollout(thread_id) == data


async def test_a_dictionary_is_trained_once_writes_pause(tmp_path, monkeypatch):
    """With the store left open, a pause in writes is enough."""
    monkeypatch.setattr(upkeep, "_TRAIN_QUIET", 0.05)
    path = tmp_path / "a.db"
    async with SqliteStore.open(path, tuning=TINY) as store:
        await _burst(store)
        for _ in range(400):
            if sql(path, "SELECT COUNT(*) FROM dictionaries") == [(1,)]:
                break
            await asyncio.sleep(0.025)
        assert sql(path, "SELECT COUNT(*) FROM dictionaries") == [(1,)]


async def test_a_dictionary_due_for_long_is_trained_whatever_the_writes(tmp_path, monkeypatch):
    """Writes that never pause still get a dictionary, ``_TRAIN_LATEST`` after it became due."""
    monkeypatch.setattr(upkeep, "_TRAIN_QUIET", 0.02)
    monkeypatch.setattr(upkeep, "_TRAIN_LATEST", 0.0)
    path = tmp_path / "a.db"
    async with SqliteStore.open(path, tuning=TINY) as store:
        store._last_batch = float("inf")  # as if a batch had just committed, whenever the timer looks
        info = await store.start_thread(meta())
        for step in range(400):
            await store.append(info.id, turn(f"t-{step}", f"prompt {step} " * 20))
            if sql(path, "SELECT COUNT(*) FROM dictionaries") == [(1,)]:
                break
            await asyncio.sleep(0.005)
        assert sql(path, "SELECT COUNT(*) FROM dictionaries") == [(1,)]


async def test_bytes_stored_without_a_dictionary_are_counted_across_reopening(tmp_path):
    """The count that starts training is stored when the store closes, not at every commit."""
    path = tmp_path / "a.db"
    tuning = Tuning(dictionary_after=1 << 40)
    async with SqliteStore.open(path, tuning=tuning) as store:
        await _burst(store, threads=1, turns=3)
        counted = store._writer.obj.undict_bytes
        assert counted > 0
        assert sql(path, "SELECT value FROM settings WHERE key = 'undict_bytes'") == [(0,)]  # under 1 MiB
    assert sql(path, "SELECT value FROM settings WHERE key = 'undict_bytes'") == [(counted,)]
    async with SqliteStore.open(path, tuning=tuning) as store:
        assert store._writer.obj.undict_bytes == counted


async def test_appends_archiving_and_unarchiving_keep_the_listing_indexes_right(tmp_path):
    """Appends leave the creation-time index alone; archiving moves a row in both indexes."""
    path = tmp_path / "a.db"
    async with SqliteStore.open(path) as store:
        first, second = await store.start_thread(meta()), await store.start_thread(meta())
        for thread in (first, second, first):
            await store.append(thread.id, turn("t", "p"))
        await store.archive(first.id)
        assert [t.id for t in (await store.list(archived=True)).data] == [first.id]
        assert [t.id for t in (await store.list()).data] == [second.id]
        await store.unarchive(first.id)
        await store.append(second.id, turn("u", "q"))
        assert [t.id for t in (await store.list(sort="updated_at")).data] == [second.id, first.id]
    assert sql(path, "PRAGMA integrity_check") == [("ok",)]
    query = ("SELECT id FROM threads INDEXED BY threads_by_created WHERE deleted = 0 AND archived = 0 "
             "ORDER BY created_ms, id")
    assert sorted(row[0] for row in sql(path, query)) == sorted([first.id, second.id])
