"""What only the SQLite backend promises: schema versions, storage layout, corruption, caching."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest

import replay
from rollout import events as ev
from rollout.errors import Conflict, CorruptLog, SchemaTooNew, StoreError
from store import SqliteStore, Tuning
from store.sqlite.command import PackedAppend
from store.sqlite.schema import SCHEMA_VERSION
from store.sqlite.writer import Writer

from .conftest import TINY, meta, raw, sql, turn, user

pytestmark = pytest.mark.asyncio



def _big_output(text: str, size: int) -> ev.ResponseItemLine:
    item = ev.FunctionCallOutput(call_id="c", output=(text * size)[:size])
    return ev.ResponseItemLine(timestamp="2026-06-01T10:00:03.000Z", payload=item)


async def test_a_new_database_records_its_schema_version(tmp_path):
    """Opening creates the schema and records every migration."""
    async with SqliteStore.open(tmp_path / "a.db"):
        pass
    assert sql(tmp_path / "a.db", "SELECT MAX(version) FROM schema_migrations") == [(SCHEMA_VERSION,)]
    async with SqliteStore.open(tmp_path / "a.db"):  # reopening migrates nothing
        pass
    assert len(sql(tmp_path / "a.db", "SELECT * FROM schema_migrations")) == SCHEMA_VERSION


async def test_a_newer_schema_is_refused_clearly(tmp_path):
    """A database migrated by newer code raises SchemaTooNew and leaves no thread running."""
    async with SqliteStore.open(tmp_path / "a.db"):
        pass
    sql(tmp_path / "a.db", "INSERT INTO schema_migrations VALUES (?, 'from the future', 0)", SCHEMA_VERSION + 1)
    before = threading.active_count()
    with pytest.raises(SchemaTooNew, match="newer"):
        async with SqliteStore.open(tmp_path / "a.db"):
            pass
    assert threading.active_count() == before


async def test_a_file_that_is_not_a_database_is_reported_corrupt(tmp_path):
    """Opening garbage raises CorruptLog, not a raw sqlite3 error."""
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 500)
    with pytest.raises(CorruptLog):
        async with SqliteStore.open(path):
            pass


async def test_bad_open_arguments_are_invalid_input(tmp_path):
    """Unknown synchronous levels and reader counts are rejected."""
    from rollout.errors import InvalidInput

    with pytest.raises(InvalidInput):
        async with SqliteStore.open(tmp_path / "a.db", synchronous="SOMETIMES"):
            pass
    with pytest.raises(InvalidInput):
        async with SqliteStore.open(tmp_path / "a.db", readers=0):
            pass


async def test_everything_survives_reopening(tmp_path):
    """Lines, names, archive flags, forks and idempotency keys are durable."""
    path = tmp_path / "a.db"
    async with SqliteStore.open(path, tuning=TINY) as store:
        info = await store.start_thread(meta())
        await store.append(info.id, turn("t-1", "a"), idempotency_key="k")
        child = await store.fork(info.id)
        await store.set_name(child.id, "kept")
        await store.archive(info.id)
        expected = await store.export_rollout(child.id)
    async with SqliteStore.open(path, tuning=TINY) as store:
        assert await store.export_rollout(child.id) == expected
        assert (await store.info(child.id)).name == "kept"
        assert (await store.info(info.id)).archived
        await store.unarchive(info.id)
        assert await store.append(info.id, turn("t-1", "a"), idempotency_key="k") == 6


async def test_a_corrupt_chunk_raises_corrupt_log(tmp_path):
    """A damaged zstd frame, or a chunk whose line is not JSON, reads as CorruptLog."""
    path = tmp_path / "a.db"
    async with SqliteStore.open(path, tuning=TINY) as store:
        info = await store.start_thread(meta())
        await store.append(info.id, turn("t-1", "a") + turn("t-2", "b"))
    sql(path, "UPDATE chunks SET data = x'28b52ffd0000' WHERE zdict IS NOT NULL")
    sql(path, "DELETE FROM snapshots")  # else a read is served from the replay state saved on close
    async with SqliteStore.open(path, tuning=TINY) as store:
        with pytest.raises(CorruptLog):
            await store.read_lines(info.id)
        with pytest.raises(CorruptLog):
            await store.read(info.id)
    async with SqliteStore.open(path) as store:
        other = await store.start_thread(meta())
        sql(path, "UPDATE chunks SET zdict = NULL, data = CAST('{not json' AS BLOB) "
                   "WHERE tkey = (SELECT tkey FROM threads WHERE id = ?)", other.id)
        with pytest.raises(CorruptLog, match="line 1"):
            await store.read_lines(other.id)


async def test_a_missing_line_raises_corrupt_log(tmp_path):
    """A row deleted behind the store's back is reported, not silently skipped."""
    path = tmp_path / "a.db"
    async with SqliteStore.open(path) as store:
        info = await store.start_thread(meta())
        await store.append(info.id, user("a"))
        sql(path, "DELETE FROM chunks WHERE seq = 2")
        with pytest.raises(CorruptLog, match="not all stored"):
            await store.read_lines(info.id)


async def test_long_strings_are_stored_once_across_threads(tmp_path):
    """A long JSON string shared by two threads is one blob; exports stay exact; unused blobs go."""
    path = tmp_path / "a.db"
    big = _big_output("data:image/png;base64,iVBORw0KGgo\\\"quoted\\\\", 5000)
    async with SqliteStore.open(path, tuning=TINY) as store:
        first = await store.start_thread(meta())
        second = await store.start_thread(meta())
        for info in (first, second):
            await store.append(info.id, [*user("look"), big, big])
            await store.archive(info.id)  # packs the fresh tail
        assert sql(path, "SELECT COUNT(*) FROM blobs WHERE length(data) > 0") == [(1,)]
        for info in (first, second):
            assert raw(await store.read_lines(info.id, after_seq=3)) == raw([big, big])
        await store.delete(first.id)
        assert sql(path, "SELECT COUNT(*) FROM blobs") == [(1,)]
        await store.delete(second.id)
        assert sql(path, "SELECT COUNT(*) FROM blobs") == [(0,)]


async def test_a_dictionary_is_trained_and_old_blocks_stay_readable(tmp_path):
    """Once enough data is stored a dictionary is trained; chunks written before it still read."""
    path = tmp_path / "a.db"
    async with SqliteStore.open(path, tuning=TINY) as store:
        infos = []
        for number in range(12):
            info = await store.start_thread(meta())
            for step in range(6):
                await store.append(info.id, turn(f"t-{step}", f"prompt {number} {step} " * 20))
            infos.append((info.id, await store.export_rollout(info.id)))
    # closing waited for the background training
    assert sql(path, "SELECT COUNT(*) FROM dictionaries") == [(1,)]
    [(without,)] = sql(path, "SELECT COUNT(*) FROM chunks WHERE zdict = 0")
    [(with_dictionary,)] = sql(path, "SELECT COUNT(*) FROM chunks WHERE zdict = 1")
    assert with_dictionary > without
    async with SqliteStore.open(path, tuning=TINY) as store:
        for thread_id, data in infos:
            assert await store.export_rollout(thread_id) == data
        info = await store.start_thread(meta())
        await store.append(info.id, turn("t-new", "after the dictionary"))
    query = "SELECT DISTINCT zdict FROM chunks JOIN threads USING (tkey) WHERE id = ?"
    assert sql(path, query, info.id) == [(1,)]


async def test_fork_stores_a_pointer_not_a_copy(tmp_path):
    """A fork adds one row for its meta, whatever the size of its source."""
    path = tmp_path / "a.db"
    async with SqliteStore.open(path) as store:
        info = await store.start_thread(meta())
        for number in range(50):
            await store.append(info.id, turn(f"t-{number}", "p"))
        child = await store.fork(info.id)
        rows = sql(path, "SELECT COUNT(*) FROM chunks JOIN threads USING (tkey) WHERE id = ?", child.id)
        assert rows == [(1,)]
        assert (await store.read(child.id)).turns == (await store.read(info.id)).turns


async def test_a_deleted_source_keeps_only_what_its_forks_read(tmp_path):
    """Deleting a forked source trims it to the fork point and frees it with its last fork."""
    path = tmp_path / "a.db"
    async with SqliteStore.open(path, tuning=TINY) as store:
        info = await store.start_thread(meta())
        for number in range(10):
            await store.append(info.id, turn(f"t-{number}", "p"))
        child = await store.fork(info.id, at_turn=2)
        await store.delete(info.id)
        assert sql(path, "SELECT COUNT(*) FROM threads WHERE deleted = 1") == [(1,)]
        kept = sql(path, "SELECT MAX(last) FROM chunks JOIN threads USING (tkey) WHERE deleted = 1")[0][0]
        assert kept < 20
        assert [t.id for t in (await store.read(child.id)).turns] == ["t-0", "t-1"]
        await store.delete(child.id)
        assert sql(path, "SELECT COUNT(*) FROM threads") == [(0,)]
        assert sql(path, "SELECT COUNT(*) FROM chunks") == [(0,)]


async def test_reads_after_one_append_replay_only_that_line(tmp_path, decoded):
    """The replay cache makes a read after one more append decode one line."""
    ranges = decoded
    async with SqliteStore.open(tmp_path / "a.db", readers=1) as store, \
            SqliteStore.open(tmp_path / "a.db", readers=1) as other:
        info = await store.start_thread(meta())
        await store.append(info.id, turn("t-1", "a") + turn("t-2", "b"))
        await other.read(info.id)
        seq = await store.append(info.id, user("c")[1:])  # written by another store: not fed to other's cache
        ranges.clear()
        thread = await other.read(info.id)
        assert ranges == [(seq, seq)]
        assert thread.turns == replay.build_turns(await store.read_lines(info.id))


async def test_reads_after_appends_of_this_store_replay_nothing(tmp_path, decoded):
    """A store feeds its own appends to the thread's replay state: reading them decodes no line."""
    ranges = decoded
    ranges.clear()
    async with SqliteStore.open(tmp_path / "a.db") as store:
        info = await store.start_thread(meta())
        for number in range(3):
            await store.append(info.id, turn(f"t-{number}", "a"))
            await store._settled()
            thread = await store.read(info.id)
            resumed = await store.resume(info.id)
        assert ranges == []
        lines = await store.read_lines(info.id)
        assert thread.turns == resumed.thread.turns == replay.build_turns(lines)
        assert resumed.context == replay.resume_context(lines)


async def test_a_cold_read_starts_from_the_persisted_snapshot(tmp_path, decoded):
    """After reopening, a read replays only the lines after the newest snapshot."""
    path = tmp_path / "a.db"
    async with SqliteStore.open(path, tuning=TINY) as store:
        info = await store.start_thread(meta())
        for number in range(5):
            await store.append(info.id, turn(f"t-{number}", "p"))
        expected = await store.read(info.id)
    [(snapshot_seq,)] = sql(path, "SELECT seq FROM snapshots")
    assert snapshot_seq == expected.last_seq
    ranges = decoded
    ranges.clear()
    async with SqliteStore.open(path, tuning=TINY) as store:
        await store.append(info.id, user("more"))
        thread = await store.read(info.id)
        assert ranges == [(snapshot_seq + 1, snapshot_seq + 2)]
        assert thread.turns == replay.build_turns(await store.read_lines(info.id))


async def test_a_failing_append_does_not_fail_the_rest_of_its_batch(tmp_path, monkeypatch):
    """A SQLite error in one command becomes StoreError for that caller only."""
    original = Writer.insert_chunk
    poisoned: set[int] = set()

    def flaky(self, tkey, first_seq, count, packed):
        if tkey in poisoned:
            raise sqlite3.OperationalError("disk I/O error")
        return original(self, tkey, first_seq, count, packed)

    monkeypatch.setattr(Writer, "insert_chunk", flaky)
    async with SqliteStore.open(tmp_path / "a.db") as store:
        a = await store.start_thread(meta())
        b = await store.start_thread(meta())
        poisoned.update(tkey for (tkey,) in sql(tmp_path / "a.db", "SELECT tkey FROM threads WHERE id = ?", b.id))
        results = await asyncio.gather(
            store.append(a.id, user("fine")), store.append(b.id, user("poison")),
            store.append(a.id, user("also fine")), return_exceptions=True,
        )
        assert isinstance(results[1], StoreError) and not isinstance(results[1], sqlite3.Error)
        assert sorted(r for r in results if isinstance(r, int)) == [3, 5]
        assert (await store.info(b.id)).last_seq == 1
        poisoned.clear()
        assert await store.append(b.id, user("works again")) == 3


async def test_a_lone_failing_append_leaves_nothing_behind(tmp_path, monkeypatch):
    """An append failing alone in its batch after writing its chunk and blob rolls all of it back."""
    original = Writer.insert_chunk

    def half_done(self, tkey, first_seq, count, packed):
        original(self, tkey, first_seq, count, packed)
        raise sqlite3.OperationalError("disk I/O error")

    async with SqliteStore.open(tmp_path / "a.db", tuning=TINY) as store:
        info = await store.start_thread(meta())
        monkeypatch.setattr(Writer, "insert_chunk", half_done)
        with pytest.raises(StoreError):
            await store.append(info.id, [_big_output("x", 4 * TINY.blob_min)])
        monkeypatch.setattr(Writer, "insert_chunk", original)
        assert sql(tmp_path / "a.db", "SELECT COUNT(*) FROM blobs") == [(0,)]
        assert (await store.info(info.id)).last_seq == 1
        assert await store.append(info.id, user("works")) == 3
        assert await store.append(info.id, user("again"), expected_seq=3) == 5
        assert [line.payload.message for line in (await store.read_lines(info.id))[2::2]] == ["works", "again"]


async def test_concurrent_appends_share_commits(tmp_path, monkeypatch):
    """Appends queued while a batch commits go out together in the next one (group commit)."""
    sizes: list[int] = []
    original = Writer.run
    def run(self, commands):
        appends = sum(isinstance(command, PackedAppend) for command in commands)
        sizes.extend([appends] if appends else [])
        return original(self, commands)

    monkeypatch.setattr(Writer, "run", run)
    async with SqliteStore.open(tmp_path / "a.db") as store:
        info = await store.start_thread(meta())
        sizes.clear()

        async def writer(n: int) -> None:
            for i in range(5):
                await store.append(info.id, user(f"w{n}-{i}"))

        await asyncio.gather(*(writer(n) for n in range(8)))
    assert sum(sizes) == 40 and max(sizes) == 8 and len(sizes) <= 6


async def test_a_conflict_in_a_batch_leaves_the_other_appends_committed(tmp_path):
    """Concurrent appends with the same expected_seq: one wins, the others conflict."""
    async with SqliteStore.open(tmp_path / "a.db") as store:
        info = await store.start_thread(meta())
        other = await store.start_thread(meta())
        results = await asyncio.gather(
            *(store.append(info.id, user(f"m{i}"), expected_seq=1) for i in range(5)),
            store.append(other.id, user("x")), return_exceptions=True,
        )
        assert sum(isinstance(r, Conflict) for r in results) == 4
        assert results[-1] == 3 and (await store.info(info.id)).last_seq == 3


async def test_a_second_store_on_the_same_file_sees_committed_writes(tmp_path):
    """Two stores on one file stay consistent: the writer notices the other's commits."""
    path = tmp_path / "a.db"
    async with SqliteStore.open(path) as first, SqliteStore.open(path) as second:
        info = await first.start_thread(meta())
        await first.append(info.id, user("a"))
        await second.append(info.id, user("b"), expected_seq=3)
        assert await first.append(info.id, user("c"), expected_seq=5) == 7
        assert raw(await second.read_lines(info.id)) == raw(await first.read_lines(info.id))


async def test_synchronous_level_is_configurable(tmp_path):
    """synchronous=NORMAL opens and stores as usual."""
    async with SqliteStore.open(tmp_path / "a.db", synchronous="normal") as store:
        info = await store.start_thread(meta())
        assert await store.append(info.id, user("a")) == 3


async def test_tuning_knobs_do_not_change_what_is_read(tmp_path):
    """Packing thresholds only change the layout: exports are identical."""
    lines = [line for number in range(20) for line in turn(f"t-{number}", "x" * number)]
    exports = []
    for tuning in (Tuning(), TINY, Tuning(pack_lines=1, chunk_lines=1, chunk_bytes=1)):
        async with SqliteStore.open(tmp_path / f"{len(exports)}.db", tuning=tuning) as store:
            info = await store.start_thread(meta(id="019e0000-0000-7000-8000-0000000000bb"))
            for start in range(0, len(lines), 7):
                await store.append(info.id, lines[start : start + 7])
            await store.archive(info.id)
            exports.append(raw((await store.read_lines(info.id))[1:]))
    assert exports[0] == exports[1] == exports[2] == raw(lines)
