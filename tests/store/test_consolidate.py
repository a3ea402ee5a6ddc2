"""Consolidation of settled tails (SQLite): rewritten chunks read the same, and a swap is all or nothing.

Most tests turn automatic consolidation off (``settled_level=0``) and drive its three steps
by hand (read the rows, plan, swap), so each race is set up deterministically.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rollout import events as ev
from rollout.codec import encode_line
from rollout.errors import StoreError
from store import SqliteStore, Tuning
from store.sqlite.consolidate import Consolidate, plan, settled_rows_job

from .conftest import meta, raw, sql, stamp, turn
from .test_batch_faults import Fault
from .test_crash import _crash_loop

#: settles every 24 lines, splits strings of 256+ bytes into blobs, never trains a dictionary
AUTO = Tuning(pack_lines=24, chunk_lines=24, chunk_bytes=64 * 1024, blob_min=256, dictionary_after=1 << 40)
MANUAL = Tuning(**{**{f: getattr(AUTO, f) for f in AUTO.__struct_fields__}, "settled_level": 0})
CHUNKS = "SELECT seq, last, zdict, length(data) FROM chunks JOIN threads USING (tkey) WHERE id = ? ORDER BY seq"


def _turn(number: int) -> list[ev.Line]:
    """A turn of 10 lines (appends of fewer than 8 are merged as they settle, not consolidated);
    every third carries a long string (a blob shared by those turns)."""
    lines = turn(f"t-{number}", f"prompt {number} " * (1 + number % 5))
    lines[3:3] = [ev.EventMsgLine(timestamp=stamp(2), payload=ev.AgentMessageEvent(message=f"step {number} {k}"))
                  for k in range(5)]
    if number % 3 == 0:
        lines.append(ev.EventMsgLine(timestamp=stamp(3), payload=ev.AgentMessageEvent(message="x" * 600)))
    return lines


async def _filled(store: SqliteStore, turns: int) -> tuple[str, list[bytes]]:
    """A thread of ``turns`` appended turns; returns its id and every stored line."""
    info = await store.start_thread(meta())
    for number in range(turns):
        await store.append(info.id, _turn(number))
    return info.id, raw(await store.read_lines(info.id))


def _manual(path: Any) -> Any:
    """A store that consolidates nothing by itself; ``await _settled(store)`` returns what it would have."""
    opening = SqliteStore.open(path, tuning=MANUAL)
    captured: list[tuple[int, int, int]] = []
    opening.store._consolidator.note = captured.extend  # type: ignore[method-assign]
    opening.store._consolidator.captured = captured  # type: ignore[attr-defined]
    return opening


async def _settled(store: Any) -> list[tuple[int, int, int]]:
    """The ranges settled since the last call (what the store handed to its consolidator)."""
    ranges = list(store._consolidator.captured)
    store._consolidator.captured.clear()
    assert ranges, "nothing settled"
    return ranges


async def _planned(store: SqliteStore, ranges: list[tuple[int, int, int]]) -> list[Consolidate]:
    found = await store._read(settled_rows_job, ranges)
    commands = [plan(*args, dictionary=store._dictionary(), level=3, chunk_lines=24, chunk_bytes=64 * 1024)
                for args in found]
    assert len(found) == len(ranges) and all(commands), "every range should be read, and shrink"
    return [command for command in commands if command is not None]


async def test_settled_tails_become_fewer_chunks_that_read_the_same(tmp_path):
    """With consolidation on, a thread's chunks span several appends, and every line reads byte-exact."""
    path = tmp_path / "a.db"
    async with SqliteStore.open(path, tuning=AUTO) as store:
        thread_id, lines = await _filled(store, 30)
        exported = await store.export_rollout(thread_id)
    rows = sql(path, CHUNKS, thread_id)
    assert len(rows) < 31  # a chunk per append (and the meta line) before
    assert max(last - seq + 1 for seq, last, _, _ in rows) > len(_turn(1))
    assert sql(path, "PRAGMA integrity_check") == [("ok",)]
    async with SqliteStore.open(path, tuning=AUTO) as store:
        assert raw(await store.read_lines(thread_id)) == lines
        assert await store.export_rollout(thread_id) == exported
        for after in (0, 5, 17, len(lines) - 2):  # ranges starting inside a consolidated chunk
            assert raw(await store.read_lines(thread_id, after_seq=after, upto_seq=after + 3)) == lines[after:after + 3]


async def test_a_swap_keeps_lines_blob_links_and_forks(tmp_path):
    """Swapped rows hold the same lines; blobs stay linked (deleting frees them); a fork into them reads the same."""
    path = tmp_path / "a.db"
    async with _manual(path) as store:
        thread_id, lines = await _filled(store, 12)
        child = await store.fork(thread_id, at_turn=5)
        child_turns = (await store.read(child.id)).turns
        commands = await _planned(store, await _settled(store))
        assert [await store._submit(command) for command in commands] == [True] * len(commands)
        assert len(sql(path, CHUNKS, thread_id)) < 13
        assert raw(await store.read_lines(thread_id)) == lines
        assert (await store.read(child.id)).turns == child_turns
        assert sql(path, "SELECT COUNT(*) FROM blobs") == [(1,)]
        await store.delete(thread_id)  # purged down to what the fork reads
        assert (await store.read(child.id)).turns == child_turns
        await store.delete(child.id)
        assert sql(path, "SELECT COUNT(*) FROM chunks") == [(0,)]
        assert sql(path, "SELECT COUNT(*) FROM chunk_blobs") == [(0,)]
        assert sql(path, "SELECT COUNT(*) FROM blobs") == [(0,)]


async def test_an_append_during_a_consolidation_does_not_stop_it(tmp_path):
    """Lines appended between reading a settled range and swapping it are kept, and the swap still applies."""
    path = tmp_path / "a.db"
    async with _manual(path) as store:
        thread_id, lines = await _filled(store, 10)
        commands = await _planned(store, await _settled(store))
        more = _turn(99)
        await store.append(thread_id, more)
        assert [await store._submit(command) for command in commands] == [True] * len(commands)
        assert raw(await store.read_lines(thread_id)) == lines + raw(more)


async def test_a_consolidation_of_rows_that_changed_is_dropped(tmp_path):
    """A swap whose rows were consolidated, or whose thread was deleted, since they were read writes nothing."""
    path = tmp_path / "a.db"
    async with _manual(path) as store:
        thread_id, lines = await _filled(store, 10)
        ranges = await _settled(store)
        first, second = await _planned(store, ranges), await _planned(store, ranges)
        assert [await store._submit(command) for command in first] == [True] * len(first)
        after_first = sql(path, CHUNKS, thread_id)
        assert [await store._submit(command) for command in second] == [False] * len(second)
        assert sql(path, CHUNKS, thread_id) == after_first
        assert raw(await store.read_lines(thread_id)) == lines
        other, _ = await _filled(store, 10)
        stale = await _planned(store, await _settled(store))
        await store.delete(other)
        assert [await store._submit(command) for command in stale] == [False] * len(stale)


@pytest.mark.parametrize("step", ["command", "commit"])
async def test_a_fault_during_a_swap_leaves_the_old_rows(tmp_path, step):
    """A batch that fails while swapping rolls back: the old rows remain whole and readable; a retry applies."""
    path = tmp_path / "a.db"
    async with _manual(path) as store:
        thread_id, lines = await _filled(store, 10)
        commands = await _planned(store, await _settled(store))
        before = sql(path, CHUNKS, thread_id)
        writer: Any = store._writer.obj
        writer.on_step = Fault(step, lambda: OSError(5, "Input/output error"))
        with pytest.raises(StoreError):
            await store._submit(commands[0])
        writer.on_step = None
        assert sql(path, CHUNKS, thread_id) == before
        assert raw(await store.read_lines(thread_id)) == lines
        assert [await store._submit(command) for command in commands] == [True] * len(commands)
    assert sql(path, "PRAGMA integrity_check") == [("ok",)]
    async with _manual(path) as store:
        assert raw(await store.read_lines(thread_id)) == lines


async def test_many_writers_and_consolidation_at_once(tmp_path):
    """Concurrent appends to several threads while their tails are consolidated lose and change nothing."""
    path = tmp_path / "a.db"
    async with SqliteStore.open(path, tuning=AUTO) as store:
        ids = [(await store.start_thread(meta())).id for _ in range(4)]
        expected = {thread_id: [encode_line(line) for line in (await store.read_lines(thread_id))] for thread_id in ids}

        async def producer(thread_id: str) -> None:
            for number in range(25):
                lines = _turn(number)
                await store.append(thread_id, lines)
                expected[thread_id] += raw(lines)

        await asyncio.gather(*map(producer, ids))
        await store._consolidator.close()
        assert store._consolidator.done > 0
        for thread_id in ids:
            assert raw(await store.read_lines(thread_id)) == expected[thread_id]
    assert sql(path, "PRAGMA integrity_check") == [("ok",)]


def test_sigkill_during_consolidation_keeps_every_acknowledged_line(tmp_path):
    """SIGKILLs of a writer whose tails are being consolidated keep the file sound and the lines whole."""
    _crash_loop(tmp_path, kills=3, seed=15)  # checks integrity and every acknowledged line after each kill
    spans = sql(tmp_path / "crash.db", "SELECT MAX(last - seq + 1) FROM chunks")[0][0]
    assert spans > 7  # the writer appends at most 7 lines at once: some rows were consolidated


async def test_a_tail_that_has_not_settled_is_not_swapped(tmp_path):
    """The writer refuses to consolidate lines after the thread's settled end (its tail is still counted)."""
    path = tmp_path / "a.db"
    async with _manual(path) as store:
        thread_id, lines = await _filled(store, 2)  # 21 lines: fewer than pack_lines, nothing settled
        [(tkey, packed_upto)] = sql(path, "SELECT tkey, packed_upto FROM threads WHERE id = ?", thread_id)
        assert packed_upto == 0

        def unsettled(reader: Any) -> tuple[list[Any], list[bytes]]:
            rows = list(reader.tables.chunks_between(tkey, 1, len(lines)))
            return rows, [reader.unpacker.body(zdict, data) for _, _, zdict, data in rows]

        command = plan(tkey, *await store._read(unsettled), dictionary=store._dictionary(), level=3,
                       chunk_lines=24, chunk_bytes=64 * 1024)
        assert command is not None
        before = sql(path, CHUNKS, thread_id)
        assert await store._submit(command) is False
        assert sql(path, CHUNKS, thread_id) == before


async def test_consolidation_waits_while_the_writer_is_saturated_and_runs_on_close(tmp_path, monkeypatch):
    """With more writes waiting than a few callers make, rounds wait (here for ever); closing runs them."""
    from store.sqlite import consolidate, upkeep

    monkeypatch.setattr(upkeep, "_BACKLOG", -1)  # always saturated
    monkeypatch.setattr(consolidate, "YIELD_MOST", 600.0)
    path = tmp_path / "a.db"
    async with SqliteStore.open(path, tuning=AUTO) as store:
        thread_id, lines = await _filled(store, 30)
        await asyncio.sleep(0.1)
        assert store._consolidator.done == 0 and len(sql(path, CHUNKS, thread_id)) == 31
        consolidator = store._consolidator
    assert consolidator.done > 0 and len(sql(path, CHUNKS, thread_id)) < 31
    async with SqliteStore.open(path, tuning=AUTO) as store:
        assert raw(await store.read_lines(thread_id)) == lines
