"""Lost connections: reads carry on, a write cut mid-batch fails every caller cleanly, the next call reconnects."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from rollout.errors import StoreError
from store.postgres.commit import GroupCommit
from store.postgres.reader import live_row
from store.postgres.writer import send

from .conftest import admin, terminate, write
from .test_writer import new_id


async def backends(dsn: str, app_name: str, *, waiting: bool = False) -> int:
    extra = " AND wait_event_type = 'Lock'" if waiting else ""
    rows = await admin(dsn, f"SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1{extra}",
                       app_name)
    return rows[0]["n"]


async def test_reads_carry_on_after_the_servers_connections_are_terminated(db, dsn, app_name):
    """Every pooled connection killed (as by a restart): the next read reconnects by itself."""
    t = new_id()
    await send(db, [write(t, None, 1, (1, 1, b"m"))])
    for _ in range(3):
        assert await terminate(dsn, app_name) >= 1
        assert (await db.read(live_row, t)).last_seq == 1


async def test_the_next_write_after_terminated_connections_lands(db, dsn, app_name):
    """A write after the connections died either lands or fails cleanly; the one after it lands."""
    t = new_id()
    await send(db, [write(t, None, 1, (1, 1, b"m"))])
    await terminate(dsn, app_name)
    try:
        await send(db, [write(t, 1, 2, (2, 2, b"x"))])
    except StoreError as exc:
        assert "lost the connection" in str(exc)
    row = await db.read(live_row, t)
    assert (await send(db, [write(t, row.version, row.last_seq + 1, (row.last_seq + 1, row.last_seq + 1, b"y"))]))[0].applied


async def test_a_batch_cut_off_mid_statement_fails_every_caller_and_writes_nothing(db, dsn, app_name):
    """The server connection dies while the batch waits on a row lock: all callers get a clear error,
    no thread of the batch exists afterwards, and the store writes again without a restart."""
    held = new_id()
    await send(db, [write(held, None, 1, (1, 1, b"m"))])
    commit = GroupCommit(lambda writes: send(db, writes))
    blocker = await asyncpg.connect(dsn)
    fresh = [new_id() for _ in range(3)]
    try:
        tx = blocker.transaction()
        await tx.start()
        await blocker.execute(f"SELECT 1 FROM {db.schema}.threads WHERE thread_id = $1 FOR UPDATE", held)
        calls = [asyncio.ensure_future(commit.submit(write(held, 1, 2, (2, 2, b"x"))))]
        calls += [asyncio.ensure_future(commit.submit(write(t, None, 1, (1, 1, b"m")))) for t in fresh]
        for _ in range(200):  # bounded wait until the batch's statement is blocked on the lock
            if await backends(dsn, app_name, waiting=True):
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the batch never reached the row lock")
        await terminate(dsn, app_name)
        results = await asyncio.gather(*calls, return_exceptions=True)
        await tx.rollback()
    finally:
        await blocker.close()
    assert all(isinstance(r, StoreError) and "lost the connection" in str(r) and "during a write" in str(r)
               for r in results), results
    assert commit.batches == 1
    for t in fresh:
        assert await db.read(live_row, t) is None
    assert (await db.read(live_row, held)).last_seq == 1
    assert (await commit.submit(write(held, 1, 2, (2, 2, b"x")))).applied
