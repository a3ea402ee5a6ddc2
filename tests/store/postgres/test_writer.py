"""One batch, one statement: compare-and-set per thread, creates, forks, settles, isolation, notices."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from rollout.errors import StoreError
from store.feed import Change
from store.postgres.database import Database
from store.postgres.feed import notice
from store.postgres.reader import ancestry_of, live_row
from store.postgres.schema import channel
from store.postgres.writer import BlobRow, Lineage, Outcome, merge, send, write_batch

from .conftest import admin, write


def new_id() -> str:
    return str(uuid.uuid4())


async def apply(db: Database, *writes: object) -> list[object]:
    return await send(db, list(writes))


async def stored(dsn: str, schema: str, thread_id: str) -> list[tuple[int, int, bytes]]:
    rows = await admin(dsn, f"SELECT seq, last, data FROM {schema}.chunks WHERE thread_id = $1 ORDER BY seq",
                       thread_id)
    return [(r["seq"], r["last"], r["data"]) for r in rows]


async def test_writes_planned_on_the_current_version_land_and_bump_it(db, dsn, schema):
    """Create gives version 1; each write on the current version lands and returns the next."""
    t = new_id()
    assert await apply(db, write(t, None, 1, (1, 1, b"meta"))) == [Outcome(True, 0, 1)]
    assert await apply(db, write(t, 1, 3, (2, 3, b"a\nb"))) == [Outcome(True, 0, 2)]
    assert await stored(dsn, schema, t) == [(1, 1, b"meta"), (2, 3, b"a\nb")]
    assert (await db.read(live_row, t)).version == 2


async def test_a_write_planned_on_a_stale_version_writes_nothing(db, dsn, schema):
    """The compare-and-set fails as a whole: no chunk, no key, no row change."""
    t = new_id()
    await apply(db, write(t, None, 1, (1, 1, b"meta")))
    await apply(db, write(t, 1, 2, (2, 2, b"first")))
    stale = write(t, 1, 2, (2, 2, b"second"), keys=(("k", 2),))
    assert await apply(db, stale) == [Outcome(False)]
    assert await stored(dsn, schema, t) == [(1, 1, b"meta"), (2, 2, b"first")]
    assert await admin(dsn, f"SELECT * FROM {schema}.idempotency") == []


async def test_writes_of_one_thread_in_a_batch_land_together(db, dsn, schema):
    """Writes planned one after the other on one thread are merged and all report the final version."""
    t = new_id()
    results = await apply(db, write(t, None, 1, (1, 1, b"m")), write(t, 1, 2, (2, 2, b"x")), write(t, 2, 3, (3, 3, b"y")))
    assert results == [Outcome(True, 0, 1)] * 3
    assert [seq for seq, *_ in await stored(dsn, schema, t)] == [1, 2, 3]


async def test_racing_writers_on_two_pools_never_both_land(dsn, schema, db):
    """Two stores planning on the same version: exactly one lands, the lines never interleave."""
    t = new_id()
    await apply(db, write(t, None, 1, (1, 1, b"m")))
    other = await Database.connect(dsn, schema=schema)
    try:
        results = await asyncio.gather(apply(db, write(t, 1, 3, (2, 3, b"a\na"))),
                                       apply(other, write(t, 1, 2, (2, 2, b"b"))))
    finally:
        await other.close()
    assert sorted(r[0].applied for r in results) == [False, True]
    assert len(await stored(dsn, schema, t)) == 2


async def test_creating_a_live_id_fails_and_a_deleted_id_gets_the_next_gen(db, dsn, schema):
    """Only one live thread per id; a deleted one's id can be used again."""
    t = new_id()
    await apply(db, write(t, None, 1, (1, 1, b"m")))
    assert await apply(db, write(t, None, 1, (1, 1, b"again"))) == [Outcome(False)]
    await admin(dsn, f"UPDATE {schema}.threads SET deleted = true WHERE thread_id = $1", t)
    assert await apply(db, write(t, None, 1, (1, 1, b"new life"))) == [Outcome(True, 1, 1)]
    assert (await db.read(live_row, t)).gen == 1


async def test_a_fork_lands_only_while_its_source_lives(db, dsn, schema):
    """The fork's create is conditional on its source being live; its row carries the ancestry."""
    src, child, orphan = new_id(), new_id(), new_id()
    await apply(db, write(src, None, 3, (1, 3, b"a\nb\nc")))
    source = await db.read(live_row, src)
    lineage = Lineage(parent_id=src, parent_gen=0, parent_upto=3, ancestry=ancestry_of(source, 3))
    assert (await apply(db, write(child, None, 4, (1, 1, b"m"), lineage=lineage)))[0].applied
    assert (await db.read(live_row, child)).ancestry == [(src, 0, 3)]
    await admin(dsn, f"UPDATE {schema}.threads SET deleted = true WHERE thread_id = $1", src)
    assert await apply(db, write(orphan, None, 4, (1, 1, b"m"), lineage=lineage)) == [Outcome(False)]


async def test_a_settling_write_replaces_the_tail_it_merged(db, dsn, schema):
    """Chunks after ``settle_from`` go, and the merged chunk takes the place of the first one."""
    t = new_id()
    await apply(db, write(t, None, 1, (1, 1, b"m")), write(t, 1, 2, (2, 2, b"a")), write(t, 2, 3, (3, 3, b"b")))
    await apply(db, write(t, 1, 3, (2, 3, b"a\nb"), settle_from=2))
    assert await stored(dsn, schema, t) == [(1, 1, b"m"), (2, 3, b"a\nb")]


async def test_a_failing_thread_does_not_fail_the_rest_of_its_batch(db, dsn, schema):
    """A constraint violation in one thread's write is that write's error; the other thread lands."""
    bad, good = new_id(), new_id()
    await apply(db, write(bad, None, 1, (1, 1, b"m")), write(good, None, 1, (1, 1, b"m")))
    results = await apply(db, write(bad, 1, 2, (2, 1, b"x")), write(good, 1, 2, (2, 2, b"y")))
    assert isinstance(results[0], StoreError) and "check constraint" in str(results[0])
    assert results[1] == Outcome(True, 0, 2)
    assert len(await stored(dsn, schema, bad)) == 1


async def test_a_write_recording_a_key_the_thread_holds_is_not_applied(db, dsn, schema):
    """Another process used the idempotency key first: the write does not land, so the caller re-reads."""
    t = new_id()
    await apply(db, write(t, None, 1, (1, 1, b"m")))
    assert await apply(db, write(t, 1, 2, (2, 2, b"x"), keys=(("k", 2),))) == [Outcome(True, 0, 2)]
    assert await apply(db, write(t, 2, 3, (3, 3, b"y"), keys=(("k", 3),))) == [Outcome(False)]
    assert await apply(db, write(t, 2, 3, (3, 3, b"y"), keys=(("other", 3),))) == [Outcome(True, 0, 3)]
    assert len(await stored(dsn, schema, t)) == 3


async def test_blobs_are_stored_once_per_thread(db, dsn, schema):
    """The same blob from two writes (or twice in one) is one row."""
    t = new_id()
    blob = BlobRow(b"h" * 32, None, b"long string")
    await apply(db, write(t, None, 1, (1, 1, b"m"), blobs=(blob, blob)))
    await apply(db, write(t, 1, 2, (2, 2, b"x"), blobs=(blob,)))
    assert (await admin(dsn, f"SELECT count(*) AS n FROM {schema}.blobs"))[0]["n"] == 1


async def test_notices_go_out_for_applied_writes_only(db, dsn, schema):
    """pg_notify runs in the write's statement: a write that did not land is never announced."""
    heard: list[str] = []
    conn = await asyncpg.connect(dsn)
    await conn.add_listener(channel(schema), lambda *args: heard.append(args[-1]))
    t = new_id()
    told = notice(Change(kind="started", thread_id=t, last_seq=1), "me")
    try:
        await apply(db, write(t, None, 1, (1, 1, b"m"), notice=told))
        await apply(db, write(t, 7, 2, (2, 2, b"x"), notice=notice(Change(kind="appended", thread_id=t, last_seq=2), "me")))
        await conn.execute("SELECT 1")  # notifications are delivered before the next reply
    finally:
        await conn.close()
    assert heard == [told]


def test_merge_keeps_the_first_version_and_the_last_row():
    """Merging is in first-seen order per thread; other threads keep their place."""
    a, b = new_id(), new_id()
    merged = merge([write(a, 3, 4, (4, 4, b"1")), write(b, 1, 2, (2, 2, b"2")), write(a, 4, 6, (5, 6, b"3"))])
    assert [w.thread_id for w in merged] == [a, b]
    assert merged[0].version == 3 and merged[0].row.last_seq == 6
    assert [c.seq for c in merged[0].chunks] == [4, 5]


def test_merge_drops_chunks_a_later_settle_covers():
    """A settle later in the batch covers the earlier chunks from its first seq on."""
    a = new_id()
    merged = merge([write(a, 3, 4, (4, 4, b"1")), write(a, 4, 4, (2, 4, b"x\ny\n1"), settle_from=2)])
    assert [(c.seq, c.last) for c in merged[0].chunks] == [(2, 4)]
    assert merged[0].settle_from == 2


@pytest.mark.parametrize("count", [1, 50])
async def test_a_batch_is_one_statement(db, count):
    """However many threads a batch holds, it is one statement (once asyncpg knows the types)."""
    sent: list[str] = []

    def logger(record: object) -> None:
        sent.append(record.query)

    async def twice(conn: asyncpg.Connection) -> list[object]:
        await write_batch(conn, [write(new_id(), None, 1, (1, 1, b"m"))], channel(db.schema))  # type introspection
        conn.add_query_logger(logger)
        try:
            return await write_batch(conn, [write(new_id(), None, 1, (1, 1, b"m")) for _ in range(count)],
                                     channel(db.schema))
        finally:
            conn.remove_query_logger(logger)

    results = await db.write(twice)
    assert all(r.applied for r in results) and len(sent) == 1
