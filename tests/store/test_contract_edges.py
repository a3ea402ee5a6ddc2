"""The contract at its edges, on every backend: thread ids, re-imports, rollbacks past the start,
opening, input checks, times and the change feed (issue 12's defects, each with its test)."""

from __future__ import annotations

import os

import pytest

from rollout import events as ev
from rollout.codec import encode_line
from rollout.errors import Conflict, InvalidInput, StoreError, ThreadNotFound
from store import Change, FileStore, MemoryStore, SqliteStore, ThreadInfo

from .conftest import BACKENDS, event, meta, stamp, turn, user

pytestmark = pytest.mark.asyncio

UPPER = "019E0000-0000-7000-8000-0000000000AB"


def _rollout(*lines: ev.Line) -> bytes:
    return b"".join(encode_line(line) + b"\n" for line in lines)


def _meta_line(thread_id: str, **fields) -> ev.SessionMetaLine:
    return ev.SessionMetaLine(timestamp=stamp(), payload=meta(id=thread_id, **fields))


# --------------------------------------------------------------------------- defect 1: ids are UUIDs


async def test_a_thread_id_that_is_not_a_uuid_is_refused_before_any_write(store, tmp_path):
    """start_thread and import refuse ids like ../../x: nothing is written, inside or outside the store."""
    for bad in ("../../../x", "019e0000-0000-7000-8000-00000000000/", "x" * 36, "", " "):
        if bad:
            with pytest.raises(InvalidInput, match="UUID"):
                await store.start_thread(meta(id=bad))
        with pytest.raises(InvalidInput):
            await store.import_rollout(_rollout(_meta_line(bad or "..")))
    with pytest.raises(InvalidInput, match="UUID"):
        await store.info("../../etc/passwd")
    assert (await store.list(source=[], model_provider=[], archived=None)).data == []
    assert not [*tmp_path.rglob("x.jsonl"), *tmp_path.parent.glob("*.jsonl"), *tmp_path.rglob("*..*")]


async def test_thread_ids_match_in_any_case_and_are_stored_lower_case(store):
    """An upper-case id is stored lower-case and found by either spelling."""
    info = await store.start_thread(meta(id=UPPER))
    assert info.id == UPPER.lower()
    await store.append(UPPER, user("hi"))
    assert (await store.info(UPPER.lower())).last_seq == 3
    assert (await store.read(UPPER)).id == UPPER.lower()
    assert [line.payload.id for line in (await store.read_lines(UPPER))[:1]] == [UPPER.lower()]


# --------------------------------------------------------------------------- defect 2: re-importing a grown file


async def test_reimporting_a_grown_rollout_appends_only_its_new_lines(store):
    """import_rollout of a stored thread whose rollout grew adds the new lines; again: unchanged."""
    lines = [_meta_line(UPPER.lower()), *turn("t-1", "a"), *turn("t-2", "b")]
    first = await store.import_rollout(_rollout(*lines[:5]))
    grown = await store.import_rollout(_rollout(*lines))
    again = await store.import_rollout(_rollout(*lines))
    assert (first.status, first.lines_added) == ("new", 5)
    assert (grown.status, grown.lines_added, grown.last_seq) == ("appended", len(lines) - 5, len(lines))
    assert (again.status, again.lines_added) == ("unchanged", 0)
    assert await store.export_rollout(first.thread_id) == _rollout(*lines)
    assert [t.id for t in (await store.read(first.thread_id)).turns] == ["t-1", "t-2"]


async def test_reimporting_a_rollout_that_differs_changes_nothing_and_says_where(store, tmp_path):
    """A rollout whose lines differ from the stored ones is reported as diverged, naming the file, thread and line."""
    lines = [_meta_line(UPPER.lower()), *turn("t-1", "a")]
    await store.import_rollout(_rollout(*lines))
    stored = await store.export_rollout(UPPER)
    other = tmp_path / "other.jsonl"
    other.write_bytes(_rollout(*lines[:2], *user("something else"), *turn("t-9", "c")))
    result = await store.import_rollout(other)
    assert (result.status, result.lines_added) == ("diverged", 0)
    assert result.detail == f"{other}: thread {UPPER.lower()}: stored line 3 differs from the rollout's line 3"
    shorter = await store.import_rollout(_rollout(*lines[:2]))
    assert shorter.status == "diverged" and "stored with 6 lines, the rollout has only 2" in shorter.detail
    assert await store.export_rollout(UPPER) == stored


# --------------------------------------------------------------------------- defect 6: rollback past the start


async def test_rollback_past_the_start_drops_what_there_is_and_then_refuses(store):
    """rollback(100) of 3 turns drops 3 (the marker says 3); rolling back an empty thread is refused."""
    info = await store.start_thread(meta())
    for number in range(3):
        await store.append(info.id, turn(f"t-{number}", "p"))
    after = await store.rollback(info.id, 100)
    last = (await store.read_lines(info.id))[-1]
    assert isinstance(last.payload, ev.ThreadRolledBackEvent) and last.payload.num_turns == 3
    assert (await store.read(info.id)).turns == []
    with pytest.raises(InvalidInput, match="no turns"):
        await store.rollback(info.id, 1)
    assert (await store.info(info.id)).last_seq == after.last_seq


# --------------------------------------------------------------------------- defect 7: opening and input types


@pytest.mark.parametrize("backend", list(BACKENDS))
async def test_awaiting_open_gives_a_store_to_close_later(backend, tmp_path):
    """`store = await Backend.open(...)` works as well as `async with`; close() is then the caller's."""
    store = await BACKENDS[backend](tmp_path)
    info = await store.start_thread(meta())
    assert (await store.info(info.id)).id == info.id
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await store.info(info.id)


@pytest.mark.parametrize("make", [MemoryStore, lambda: SqliteStore("unused.db"), lambda: FileStore("unused-home")])
async def test_a_store_used_before_opening_says_so(make, tmp_path, monkeypatch):
    """Calling a store that was constructed but never opened raises StoreError naming open(), not AttributeError."""
    monkeypatch.chdir(tmp_path)
    store = make()
    for call in (store.start_thread(meta()), store.append(UPPER, user("x")), store.list(), store.info(UPPER)):
        with pytest.raises(StoreError, match=r"is not open: use `await \w+\.open"):
            await call
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("timestamp", [None, "t", "2026-06-01", "2026-06-01T10:00:00", "2026-13-01T10:00:00Z"])
async def test_append_refuses_lines_without_an_rfc3339_timestamp(store, timestamp):
    """Every appended line needs an RFC 3339 timestamp with an offset; nothing is written otherwise."""
    info = await store.start_thread(meta())
    good = event(ev.AgentMessageEvent(message="fine"))
    bad = ev.EventMsgLine(timestamp=timestamp, payload=ev.AgentMessageEvent(message="undated"))
    with pytest.raises(InvalidInput, match=r"lines\[1\]: timestamp must be RFC 3339"):
        await store.append(info.id, [good, bad])
    assert (await store.info(info.id)).last_seq == 1
    for fine in ("2026-06-01T10:00:00Z", "2026-06-01T10:00:00.123456+02:00", "2026-06-01 10:00:00.5z"):
        await store.append(info.id, [ev.EventMsgLine(timestamp=fine, payload=ev.AgentMessageEvent(message="ok"))])


async def test_fork_and_rollback_return_the_same_type(store):
    """Both give the thread's info (ThreadInfo), never a different shape."""
    info = await store.start_thread(meta())
    await store.append(info.id, turn("t-1", "a"))
    forked, rolled = await store.fork(info.id), await store.rollback(info.id, 1)
    assert type(forked) is type(rolled) is ThreadInfo


# --------------------------------------------------------------------------- defect 8: times


async def test_a_fork_is_never_updated_before_it_was_created(store):
    """created <= updated for a fork, forks of forks, and a fork re-imported elsewhere."""
    info = await store.start_thread(meta(timestamp="2030-01-01T00:00:00.000Z"))  # a source "from the future"
    await store.append(info.id, turn("t-1", "a"))
    child = await store.fork(info.id)
    grandchild = await store.fork(child.id, at_turn=1)
    async with MemoryStore.open() as other:
        copied = await other.info((await other.import_rollout(await store.export_rollout(child.id))).thread_id)
    for thread in (child, grandchild, await store.info(child.id), copied):
        assert thread.created_at <= thread.updated_at == thread.recency_at


async def test_updated_is_when_the_log_was_last_written_everywhere(tmp_path):
    """Codex's rule (the file's mtime) holds for a Codex home, for a file imported into any store, and for inspect."""
    line_times = [_meta_line(UPPER.lower()), *turn("t-1", "a")]  # lines from 10:00:00 to 10:00:01
    day = tmp_path / "home" / "sessions" / "2026" / "06" / "01"
    day.mkdir(parents=True)
    path = day / f"rollout-2026-06-01T10-00-00-{UPPER.lower()}.jsonl"
    path.write_bytes(_rollout(*line_times))
    mtime = 1_780_400_000  # a day after the last line: the file was last written then
    os.utime(path, (mtime, mtime))
    seen = []
    async with FileStore.open(tmp_path / "home") as files:
        seen.append((await files.info(UPPER)).updated_at)
    for opener in (MemoryStore.open, lambda: SqliteStore.open(tmp_path / "s.db")):
        async with opener() as store:
            await store.import_rollout(path)
            seen.append((await store.info(UPPER)).updated_at)
    assert seen == [mtime, mtime, mtime]


# --------------------------------------------------------------------------- the change feed


async def test_the_change_feed_reports_every_committed_write_in_order(store):
    """subscribe() sees each write after it committed, with the thread's last seq; failures and no-ops are silent."""
    changes: list[Change] = []
    unsubscribe = store.subscribe(changes.append)
    store.subscribe(lambda change: 1 / 0)  # a failing subscriber never fails the write
    info = await store.start_thread(meta())
    await store.append(info.id, turn("t-1", "a"))
    await store.append(info.id, [], idempotency_key="k")
    with pytest.raises(Conflict):
        await store.append(info.id, user("x"), expected_seq=1)
    child = await store.fork(info.id)
    await store.rollback(info.id, 1)
    await store.set_name(info.id, "n")
    await store.archive(info.id)
    await store.unarchive(info.id)
    await store.import_rollout(_rollout(_meta_line(UPPER.lower())))
    await store.delete(child.id)
    unsubscribe()
    await store.delete(info.id)
    seen = [(c.kind, c.thread_id, c.last_seq, c.source_id) for c in changes]
    assert seen == [
        ("started", info.id, 1, None),
        ("appended", info.id, 6, None),
        ("forked", child.id, 7, info.id),
        ("rolled_back", info.id, 7, None),
        ("named", info.id, 7, None),
        ("archived", info.id, 7, None),
        ("unarchived", info.id, 7, None),
        ("started", UPPER.lower(), 1, None),
        ("deleted", child.id, None, None),
    ]
    with pytest.raises(ThreadNotFound):
        await store.info(info.id)

