"""SqliteStore's resume context: persisted with the replay snapshot, exact across reopen and rollbacks."""

from __future__ import annotations

import itertools
import json

import msgspec
import pytest

import replay
from rollout import events as ev
from rollout.codec import decode_line
from rollout.compression import ZSTD_MAGIC, decompress
from store import SqliteStore, Tuning

from .conftest import TINY, meta, sql, stamp, turn, user

pytestmark = pytest.mark.asyncio



def _compacted(text: str):
    """A checkpoint compaction whose replacement history is one user message."""
    history = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}]
    payload = {"message": "s", "replacement_history": history}
    return decode_line(json.dumps({"timestamp": "2026-06-01T10:00:05.000Z", "type": "compacted", "payload": payload}).encode())


async def _expected(store: SqliteStore, thread_id: str) -> replay.ResumeContext:
    return replay.resume_context(await store.read_lines(thread_id))


async def test_a_cold_resume_starts_from_the_persisted_context(tmp_path, decoded):
    """After reopening, resume decodes only the lines after the snapshot, once, for turns and context alike."""
    path = tmp_path / "a.db"
    async with SqliteStore.open(path, tuning=TINY) as store:
        info = await store.start_thread(meta())
        for number in range(5):
            await store.append(info.id, turn(f"t-{number}", "p"))
        await store.resume(info.id)
    [(snapshot_seq, has_context)] = sql(path, "SELECT seq, context IS NOT NULL FROM snapshots")
    assert has_context
    ranges = decoded
    ranges.clear()
    async with SqliteStore.open(path, tuning=Tuning(snapshot_every=10_000)) as store:
        seq = await store.append(info.id, user("more"))
        resumed = await store.resume(info.id)
        assert ranges == [(snapshot_seq + 1, seq)]
        assert resumed.context == await _expected(store, info.id)
        assert resumed.thread.turns == replay.build_turns(await store.read_lines(info.id))


async def test_a_cold_resume_without_a_snapshot_decodes_each_line_once(tmp_path, decoded):
    """With nothing persisted, one decode of the whole thread feeds both the turns and the context."""
    path = tmp_path / "a.db"
    async with SqliteStore.open(path, tuning=Tuning(snapshot_every=10_000)) as store:
        info = await store.start_thread(meta())
        for number in range(3):
            seq = await store.append(info.id, turn(f"t-{number}", "p"))
    sql(path, "DELETE FROM snapshots")  # as after a crash before any snapshot, or an older build's file
    ranges = decoded
    ranges.clear()
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


async def test_a_thread_written_in_this_session_is_snapshotted_on_close(tmp_path, decoded):
    """Replay state follows the appends; after reopening, a first resume decodes no line but the context's."""
    path = tmp_path / "a.db"
    async with SqliteStore.open(path, tuning=Tuning(snapshot_every=10_000)) as store:
        info = await store.start_thread(meta())
        for number in range(4):
            await store.append(info.id, turn(f"t-{number}", "p"))
        seq = await store.rollback(info.id, 1)
        await store.append(info.id, [*turn("t-9", "after"), _compacted("summary")])
        seq = (await store.read(info.id)).last_seq
    assert sql(path, "SELECT seq FROM snapshots") == [(seq,)]
    ranges = decoded
    ranges.clear()
    async with SqliteStore.open(path) as store:
        resumed = await store.resume(info.id)
        assert ranges == []
        lines = await store.read_lines(info.id)
        assert resumed.context == replay.resume_context(lines)
        assert resumed.thread.turns == replay.build_turns(lines)


async def test_snapshots_are_saved_as_a_thread_grows_and_hold_its_context_by_reference(tmp_path):
    """Snapshots land while appending (at snapshot_every lines, then as the thread grows by half),
    and their context is a few bytes per item, not a copy of the items."""
    path = tmp_path / "a.db"
    answer = "y" * 5_000
    async with SqliteStore.open(path, tuning=Tuning(snapshot_every=40)) as store:
        info = await store.start_thread(meta())
        saved: list[int] = []
        for number in range(40):
            await store.append(info.id, [*turn(f"t-{number}", "p " * 1_000, answer),
                                         *user("x" * 3_000)])
            await store._settled()
            saved += [seq for (seq,) in sql(path, "SELECT seq FROM snapshots") if seq not in saved]
        [(context_bytes,)] = sql(path, "SELECT length(context) FROM snapshots")
    assert saved[0] >= 40 and len(saved) >= 3
    assert all(later - earlier >= max(40, earlier // 2) for earlier, later in itertools.pairwise(saved))
    assert context_bytes < 2_000  # 80 prompts of 2-3 kB are referenced, not copied
    async with SqliteStore.open(path) as store:
        lines = await store.read_lines(info.id)
        assert (await store.resume(info.id)).context == replay.resume_context(lines)


async def test_a_snapshot_whose_lines_are_gone_is_replayed_instead(tmp_path):
    """A context snapshot naming a line that is no response item is only a cache: resume replays."""
    path = tmp_path / "a.db"
    async with SqliteStore.open(path) as store:
        info = await store.start_thread(meta())
        for number in range(3):
            await store.append(info.id, turn(f"t-{number}", "p"))
    [(context,)] = sql(path, "SELECT context FROM snapshots")
    assert context
    # shift every line reference by one: they now name event lines
    raw = decompress(context) if context[:4] == ZSTD_MAGIC else context
    state = msgspec.msgpack.decode(raw)
    state[-1] = [step + 1 if step else 0 for step in state[-1]]
    sql(path, "UPDATE snapshots SET context = ?", msgspec.msgpack.encode(state))
    async with SqliteStore.open(path) as store:
        lines = await store.read_lines(info.id)
        assert (await store.resume(info.id)).context == replay.resume_context(lines)


async def test_follow_writes_off_leaves_replay_to_reads(tmp_path):
    """Tuning(follow_writes=False): appends feed nothing and close saves no snapshot; reads still replay exactly."""
    path = tmp_path / "a.db"
    async with SqliteStore.open(path, tuning=Tuning(follow_writes=False)) as store:
        info = await store.start_thread(meta())
        await store.append(info.id, turn("t-1", "p"))
    assert sql(path, "SELECT COUNT(*) FROM snapshots") == [(0,)]
    async with SqliteStore.open(path) as store:
        lines = await store.read_lines(info.id)
        assert (await store.resume(info.id)).context == replay.resume_context(lines)


async def test_a_saturated_writer_is_not_slowed_by_feeding_replay_state(tmp_path, monkeypatch):
    """Appends made while many writes wait are not fed (the writes come first); reads catch up exactly."""
    from store.sqlite import upkeep

    monkeypatch.setattr(upkeep, "_BACKLOG", -1)  # always saturated
    path = tmp_path / "a.db"
    async with SqliteStore.open(path) as store:
        info = await store.start_thread(meta())
        await store.append(info.id, turn("t-1", "p"))
        await store._settled()
        assert store._cache.find(info.id) is None
    assert sql(path, "SELECT COUNT(*) FROM snapshots") == [(0,)]
    async with SqliteStore.open(path) as store:
        lines = await store.read_lines(info.id)
        assert (await store.resume(info.id)).context == replay.resume_context(lines)


async def test_lines_built_in_code_are_followed_as_their_stored_bytes_read(tmp_path):
    """A line built in code with a tuple where the model has a list: the followed state equals a replay of what was stored."""
    path = tmp_path / "a.db"
    async with SqliteStore.open(path) as store:
        info = await store.start_thread(meta())
        item = ev.Message(role="user", content=(ev.InputText(text="built in code"),))  # type: ignore[arg-type]
        await store.append(info.id, [ev.ResponseItemLine(timestamp=stamp(2), payload=item),
                                     *turn("t-1", "p")])
        await store._settled()
        lines = await store.read_lines(info.id)
        assert (await store.resume(info.id)).context == replay.resume_context(lines)
        assert (await store.read(info.id)).turns == replay.build_turns(lines)
