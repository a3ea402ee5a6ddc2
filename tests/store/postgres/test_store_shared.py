"""Two PostgresStores on one schema, as two processes would hold them: each sees the other's writes at once."""

from __future__ import annotations

import asyncio
import secrets

import asyncpg
import pytest

import replay
from rollout import events as ev
from rollout.errors import Conflict, ThreadArchived
from store import Change, PostgresStore, Tuning

from ..conftest import TINY, event, meta, turn, user
from .conftest import admin


@pytest.fixture
async def pair(dsn, schema):
    """Two stores on one schema; the first learns of the second's writes only from the database (no feed)."""
    async with PostgresStore.open(dsn, schema=schema, listen=False) as one, \
            PostgresStore.open(dsn, schema=schema) as two:
        yield one, two


async def test_expected_seq_is_judged_on_the_database_not_on_a_cached_row(pair):
    """A write planned on a row another store moved on is planned again: right seqs pass, stale ones conflict."""
    one, two = pair
    thread_id = (await one.start_thread(meta())).id
    assert await one.append(thread_id, user("one"), expected_seq=1) == 3  # `one` now caches the row at seq 3
    assert await two.append(thread_id, user("two"), expected_seq=3) == 5
    assert await one.append(thread_id, user("one again"), expected_seq=5) == 7
    with pytest.raises(Conflict) as caught:
        await one.append(thread_id, user("stale"), expected_seq=5)
    assert (caught.value.expected_seq, caught.value.actual_seq) == (5, 7)
    await two.archive(thread_id)
    with pytest.raises(ThreadArchived):
        await one.append(thread_id, user("archived meanwhile"))
    with pytest.raises(ThreadArchived):
        await one.fork(thread_id)


async def test_an_idempotency_key_holds_across_stores_racing(pair):
    """The same key from two stores at once: one append lands, both report its seq."""
    one, two = pair
    thread_id = (await one.start_thread(meta())).id
    await one.append(thread_id, user("warm the cache"))
    seqs = await asyncio.gather(one.append(thread_id, user("once"), idempotency_key="k"),
                                two.append(thread_id, user("once"), idempotency_key="k"))
    assert seqs == [5, 5]
    assert len(await two.read_lines(thread_id)) == 5
    assert await one.append(thread_id, user("once"), idempotency_key="k") == 5


async def test_a_read_never_returns_a_stale_thread(pair):
    """Turns cached by one store include the other's append made just before the read."""
    one, two = pair
    thread_id = (await one.start_thread(meta())).id
    await one.append(thread_id, turn("t-1", "first"))
    assert [t.id for t in (await one.read(thread_id)).turns] == ["t-1"]
    await two.append(thread_id, turn("t-2", "second"))
    await two.set_name(thread_id, "renamed")
    thread = await one.read(thread_id)
    assert ([t.id for t in thread.turns], thread.name) == (["t-1", "t-2"], "renamed")
    assert [t.id for t in (await one.resume(thread_id)).thread.turns] == ["t-1", "t-2"]


async def test_forks_keep_their_lines_when_another_store_deletes_the_source(pair):
    """Lineage lives in the database: a fork made by one store outlives a delete by the other."""
    one, two = pair
    source = (await one.start_thread(meta())).id
    await one.append(source, turn("t-1", "kept") + turn("t-2", "also kept"))
    child = (await two.fork(source, at_turn=1)).id
    grandchild = (await one.fork(child)).id
    before = await two.read_lines(grandchild)
    await one.delete(source)
    assert await two.read_lines(grandchild) == before
    assert [t.id for t in (await two.read(grandchild)).turns] == ["t-1"]
    assert (await one.info(child)).forked_from_id == source


async def test_subscribers_hear_the_other_stores_writes(dsn, schema):
    """Every kind of write by one store reaches the other's subscribers, in commit order."""
    async with PostgresStore.open(dsn, schema=schema) as one, PostgresStore.open(dsn, schema=schema) as two:
        heard: list[Change] = []
        one.subscribe(heard.append)
        thread_id = (await two.start_thread(meta())).id
        await two.append(thread_id, turn("t-1", "q"))
        child = (await two.fork(thread_id)).id
        await two.rollback(thread_id, 1)
        await two.set_name(thread_id, "n")
        await two.archive(thread_id)
        await two.unarchive(thread_id)
        await two.delete(child)
        kinds = ["started", "appended", "forked", "rolled_back", "named", "archived", "unarchived", "deleted"]
        for _ in range(200):
            if len(heard) >= len(kinds):
                break
            await asyncio.sleep(0.05)
        assert [c.kind for c in heard] == kinds
        assert heard[2] == Change(kind="forked", thread_id=child, last_seq=heard[2].last_seq, source_id=thread_id)


async def test_a_dictionary_trained_by_one_store_is_read_by_another(dsn, schema):
    """Once enough is stored (and writes pause), a dictionary is trained, chunks rewritten and new ones use it;
    another store reads them all."""
    tuning = Tuning(dictionary_after=32 * 1024, dictionary_size=4096)
    async with PostgresStore.open(dsn, schema=schema, tuning=tuning) as store:
        ids = [(await store.start_thread(meta())).id for _ in range(4)]
        for n in range(40):
            for thread_id in ids:
                await store.append(thread_id, turn(f"t-{n}", f"question {n} about {thread_id}", f"answer {n} " * 20))
        before = {thread_id: await store.export_rollout(thread_id) for thread_id in ids}
        for _ in range(200):  # training waits for a second without writes
            if await admin(dsn, f"SELECT 1 FROM {schema}.chunks WHERE zdict = 1 LIMIT 1"):
                break
            await asyncio.sleep(0.05)
        await store.append(ids[0], user("after the dictionary"))
        before[ids[0]] = await store.export_rollout(ids[0])
    used = await admin(dsn, f"SELECT zdict, count(*) AS n FROM {schema}.chunks GROUP BY zdict ORDER BY zdict")
    assert len(await admin(dsn, f"SELECT id FROM {schema}.dictionaries")) == 1
    assert any(row["zdict"] == 1 and row["n"] > 0 for row in used), used
    newest = await admin(dsn, f"SELECT zdict FROM {schema}.chunks WHERE thread_id = $1 ORDER BY seq DESC LIMIT 1",
                         ids[0])
    assert newest[0]["zdict"] == 1  # appends after training use the dictionary
    async with PostgresStore.open(dsn, schema=schema) as other:
        assert {thread_id: await other.export_rollout(thread_id) for thread_id in ids} == before


async def test_long_strings_are_stored_once_as_blobs_and_forks_read_them(dsn, schema):
    """A string over blob_min is cut out of the chunk, stored once per thread, and spliced back for forks."""
    big = "x" * 5000
    line = event(ev.AgentMessageEvent(message=big), 3)
    async with PostgresStore.open(dsn, schema=schema, tuning=TINY) as store:
        thread_id = (await store.start_thread(meta())).id
        await store.append(thread_id, [line, line])
        await store.append(thread_id, [line])
        child = (await store.fork(thread_id)).id
        blobs = await admin(dsn, f"SELECT length(data) AS n FROM {schema}.blobs")
        assert len(blobs) == 1
        assert [m.payload.message for m in (await store.read_lines(child))[2:]] == [big] * 3


async def test_small_appends_are_merged_into_one_chunk(dsn, schema):
    """Many one-line appends: the tail is rewritten as one chunk once it is long (TINY: 3 lines)."""
    async with PostgresStore.open(dsn, schema=schema, tuning=TINY) as store:
        thread_id = (await store.start_thread(meta())).id
        for n in range(12):
            await store.append(thread_id, [event(ev.AgentMessageEvent(message=f"m{n}"), n)])
        chunks = await admin(dsn, f"SELECT seq, last FROM {schema}.chunks WHERE thread_id = $1 ORDER BY seq",
                             thread_id)
        assert [(c["seq"], c["last"]) for c in chunks] == [(1, 3), (4, 6), (7, 9), (10, 12), (13, 13)]
        assert [m.payload.message for m in (await store.read_lines(thread_id))[1:]] == [f"m{n}" for n in range(12)]


async def test_listing_pages_come_from_the_keyset_index(dsn, schema):
    """The newest page is an index scan of the (archived, key, id) index, not a sort of every thread."""
    async with PostgresStore.open(dsn, schema=schema) as store:
        for _ in range(50):
            await store.start_thread(meta())
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f"ANALYZE {schema}.threads")
            await conn.execute("SET enable_seqscan = off")  # on 50 rows a scan would do: not what is tested
            plan = await conn.fetch(f"EXPLAIN SELECT state FROM {schema}.threads WHERE NOT deleted "
                                    "AND archived = false ORDER BY created_ms DESC, thread_id DESC LIMIT 21")
        finally:
            await conn.close()
        text = "\n".join(row[0] for row in plan)
        assert "Index Scan Backward using threads_by_created" in text and "Sort" not in text
        page = await store.list(limit=20, cursor=(await store.list(limit=20)).next_cursor)
        assert len(page.data) == 20


async def test_concurrent_reads_of_a_growing_thread_each_answer_for_one_state(pair):
    """Reads racing the other store's appends: every answer's turns are exactly those of its last seq."""
    one, two = pair
    thread_id = (await one.start_thread(meta())).id
    size = len(turn("t-0", "q"))

    async def grow() -> None:
        for n in range(15):
            await two.append(thread_id, turn(f"t-{n}", f"question {n}"))

    async def look() -> list:
        return [await one.read(thread_id) for _ in range(15)]

    _, *seen = await asyncio.gather(grow(), look(), look(), look())
    for thread in (t for reads in seen for t in reads):
        assert len(thread.turns) == (thread.last_seq - 1) // size


async def test_a_context_snapshot_holds_line_references_another_store_resumes_from(dsn, schema):
    """The persisted resume context names lines instead of copying them; another store's resume is exact."""


    tuning = Tuning(snapshot_every=4)
    async with PostgresStore.open(dsn, schema=schema, tuning=tuning) as one:
        thread_id = (await one.start_thread(meta())).id
        for number in range(6):
            await one.append(thread_id, turn(f"t-{number}", secrets.token_hex(2_000), secrets.token_hex(2_000)))
        await one.resume(thread_id)
    conn = await asyncpg.connect(dsn)
    try:
        sizes = await conn.fetch(f'SELECT length(context) AS n FROM "{schema}".snapshots WHERE context IS NOT NULL')
    finally:
        await conn.close()
    assert sizes and max(row["n"] for row in sizes) < 2_000  # six 4 kB random prompts are referenced, not copied
    async with PostgresStore.open(dsn, schema=schema) as two:
        lines = await two.read_lines(thread_id)
        assert (await two.resume(thread_id)).context == replay.resume_context(lines)
