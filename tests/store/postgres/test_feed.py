"""The change feed: other processes' writes reach subscribers; own writes are skipped; loss is survived."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from store.feed import Change
from store.postgres.database import Database
from store.postgres.feed import Feed, notice, parse
from store.postgres.schema import channel
from store.postgres.writer import send

from .conftest import admin, terminate, write

ROOT = Path(__file__).resolve().parents[3]


async def until(predicate, what: str) -> None:
    """Wait (bounded, not timed) until ``predicate()`` holds."""
    for _ in range(400):
        if predicate():
            return
        await asyncio.sleep(0.025)
    pytest.fail(f"never happened: {what}")



@pytest.fixture
async def feed(db):
    opened = Feed(db, heartbeat=0.2)
    await opened.start()
    yield opened
    await opened.close()


async def test_another_stores_writes_reach_subscribers_and_own_ones_do_not(dsn, schema, db, feed):
    """Two pools on one schema: each hears the other, never itself."""
    heard: list[Change] = []
    feed.subscribe(heard.append)
    other = await Database.connect(dsn, schema=schema)
    t, mine = str(uuid.uuid4()), str(uuid.uuid4())
    try:
        await send(db, [write(mine, None, 1, (1, 1, b"m"), notice=notice(Change(kind="started", thread_id=mine, last_seq=1), db.origin))])
        await send(other, [write(t, None, 1, (1, 1, b"m"), notice=notice(Change(kind="started", thread_id=t, last_seq=1), other.origin))])
        await send(other, [write(t, 1, 2, (2, 2, b"x"), notice=notice(Change(kind="appended", thread_id=t, last_seq=2), other.origin))])
        await until(lambda: len(heard) == 2, "two changes heard")
    finally:
        await other.close()
    assert heard == [Change(kind="started", thread_id=t, last_seq=1), Change(kind="appended", thread_id=t, last_seq=2)]


async def test_changes_from_another_process_arrive_in_commit_order(dsn, schema, db, feed):
    """A child process starts, appends, forks, names and archives: the parent hears each, in order."""
    heard: list[Change] = []
    feed.subscribe(heard.append)
    thread_id = str(uuid.uuid4())
    child = subprocess.run([sys.executable, "-m", "tests.store.postgres.worker", dsn, schema, "announce", thread_id],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert child.stdout == "done\n", child.stderr
    await until(lambda: len(heard) == 5, "five changes heard")
    assert [c.kind for c in heard] == ["started", "appended", "forked", "named", "archived"]
    fork_id = heard[2].thread_id
    assert heard[2] == Change(kind="forked", thread_id=fork_id, last_seq=3, source_id=thread_id)
    assert {c.thread_id for c in heard[3:]} == {fork_id}


async def test_the_feed_reconnects_after_its_connection_is_killed(dsn, schema, db, app_name):
    """The listener's backend is terminated: the feed resets (caches must go) and hears later writes."""
    resets: list[int] = []
    feed = Feed(db, heartbeat=0.2, on_reset=lambda: resets.append(1))
    await feed.start()
    heard: list[Change] = []
    feed.subscribe(heard.append)
    other = await Database.connect(dsn, schema=schema)
    try:
        assert await terminate(dsn, app_name) >= 1
        await until(lambda: resets == [1], "the feed reconnected")
        t = str(uuid.uuid4())
        await send(other, [write(t, None, 1, (1, 1, b"m"), notice=notice(Change(kind="started", thread_id=t, last_seq=1), other.origin))])
        await until(lambda: heard == [Change(kind="started", thread_id=t, last_seq=1)], "a change after the reconnection")
    finally:
        await other.close()
        await feed.close()


async def test_a_failing_subscriber_does_not_stop_the_others(dsn, schema, db, feed, caplog):
    """A callback that raises is logged; the next subscriber still gets the change."""

    def broken(change: Change) -> None:
        raise RuntimeError("subscriber bug")

    heard: list[Change] = []
    feed.subscribe(broken)
    unsubscribe = feed.subscribe(heard.append)
    t = str(uuid.uuid4())
    await send(db, [write(t, None, 1, (1, 1, b"m"), notice=notice(Change(kind="started", thread_id=t, last_seq=1), "someone-else"))])
    await until(lambda: len(heard) == 1, "the change heard")
    assert "subscriber bug" in caplog.text
    unsubscribe()
    later: list[Change] = []
    feed.subscribe(later.append)
    await admin(dsn, "SELECT pg_notify($1, $2)", channel(schema), notice(Change(kind="named", thread_id=t, last_seq=1), "someone-else"))
    await until(lambda: len(later) == 1, "the next change heard")
    assert len(heard) == 1


def test_foreign_payloads_on_the_channel_are_ignored():
    """Only our own notice format is understood; anything else is dropped, not raised."""
    assert parse("hello") is None
    assert parse('["o", "exploded", "t", 1, null]') is None
    assert parse(notice(Change(kind="deleted", thread_id="t"), "o")) == ("o", Change(kind="deleted", thread_id="t"))
