"""Reading: lines across fork ancestry in one query, keyset list pages, blobs, snapshots, upkeep."""

from __future__ import annotations

import functools
import uuid

import msgspec
import pytest

from store.listing import list_query
from store.postgres import reader, upkeep
from store.postgres.reader import Row, ancestry_of, live_row, segments
from store.postgres.schema import channel
from store.postgres.writer import BlobRow, Lineage, ThreadRow, send

from .conftest import admin, write


def new_id() -> str:
    return str(uuid.uuid4())


def row_of(thread_id: str, ancestry: list[tuple[str, int, int]]) -> Row:
    return Row(thread_id=thread_id, gen=0, version=1, last_seq=0, archived=False, packed_upto=0, tail_chunks=0,
               parent_id=None, parent_gen=None, parent_upto=None, ancestry=ancestry, state=b"")


def test_segments_of_a_plain_thread_are_its_own_range():
    """No ancestry: one piece."""
    assert segments(row_of("t", []), 3, 9) == [("t", 0, 3, 9)]


def test_segments_walk_the_ancestry_in_seq_order():
    """A fork of a fork: own meta, grandparent lines, parent's own lines, own tail."""
    fork = row_of("c", [("p", 0, 5), ("g", 0, 3)])
    # c: 1 own | 2..6 = p 1..5 | 7.. own ; p: 1 own | 2..4 = g 1..3 | 5.. own
    assert segments(fork, 1, 9) == [("c", 0, 1, 1), ("p", 0, 1, 1), ("g", 0, 1, 3), ("p", 0, 5, 5), ("c", 0, 7, 9)]
    assert segments(fork, 4, 6) == [("g", 0, 2, 3), ("p", 0, 5, 5)]
    assert segments(fork, 8, 8) == [("c", 0, 8, 8)]


async def lines(db, thread_id: str, lo: int, hi: int) -> list[bytes]:
    row = await db.read(live_row, thread_id)
    pieces = segments(row, lo, hi)
    found = await db.read(reader.chunks, pieces)
    out: list[bytes] = []
    for (_, _, a, b), stored in zip(pieces, found):
        for seq, last, _, data in stored:
            out += data.split(b"\n")[max(a, seq) - seq : min(b, last) - seq + 1]
    return out


async def fork(db, source_id: str, upto: int, own: bytes = b"fork meta") -> str:
    source = await db.read(live_row, source_id)
    child = new_id()
    lineage = Lineage(parent_id=source_id, parent_gen=source.gen, parent_upto=upto, ancestry=ancestry_of(source, upto))
    (done,) = await send(db, [write(child, None, upto + 1, (1, 1, own), lineage=lineage)])
    assert done.applied
    return child


async def test_a_fork_of_a_fork_reads_its_whole_lineage_in_one_query(db):
    """Lines come from three thread lives; chunks straddling a range edge are cut right."""
    g = new_id()
    await send(db, [write(g, None, 4, (1, 2, b"g1\ng2"), (3, 4, b"g3\ng4"))])
    p = await fork(db, g, 3, b"p1")
    await send(db, [write(p, 1, 6, (5, 6, b"p5\np6"))])
    c = await fork(db, p, 5, b"c1")
    await send(db, [write(c, 1, 8, (7, 8, b"c7\nc8"))])
    assert await lines(db, c, 1, 8) == [b"c1", b"p1", b"g1", b"g2", b"g3", b"p5", b"c7", b"c8"]
    assert await lines(db, c, 4, 6) == [b"g2", b"g3", b"p5"]


async def test_deleting_a_forked_source_keeps_what_its_forks_read(db, dsn, schema):
    """The source's id is free at once; its chunks up to the fork point stay until the fork goes too."""
    src = new_id()
    await send(db, [write(src, None, 6, (1, 2, b"a\nb"), (3, 4, b"c\nd"), (5, 6, b"e\nf"))])
    child = await fork(db, src, 3)
    assert await db.write(upkeep.delete_thread, src, channel(schema)) == 0
    assert await db.read(live_row, src) is None
    kept = await admin(dsn, f"SELECT seq FROM {schema}.chunks WHERE thread_id = $1 ORDER BY seq", src)
    assert [r["seq"] for r in kept] == [1, 3]
    assert await lines(db, child, 1, 4) == [b"fork meta", b"a", b"b", b"c"]
    assert await db.write(upkeep.delete_thread, child, channel(schema)) == 0
    assert await admin(dsn, f"SELECT thread_id FROM {schema}.threads") == []
    assert await admin(dsn, f"SELECT thread_id FROM {schema}.chunks") == []
    assert await db.write(upkeep.delete_thread, child, channel(schema)) is None


async def test_list_pages_follow_the_keyset_without_skips_or_repeats(db):
    """Threads sharing a millisecond are split across pages by id, newest first."""
    ids = [new_id() for _ in range(7)]
    for i, t in enumerate(ids):
        state = msgspec.msgpack.encode({"id": t})
        row = ThreadRow(created_ms=1_000 + i // 3, updated_ms=5_000 - i, last_seq=1, state=state, cwd=f"/w{i % 2}")
        await send(db, [write(t, None, 1, (1, 1, b"m"), row=row)])
    expected = sorted(ids, key=lambda t: (1_000 + ids.index(t) // 3, t), reverse=True)
    seen, after = [], None
    while True:
        query = msgspec.structs.replace(list_query(limit=3, cursor=None, sort="created_at", archived=False, source=[],
                                                   model_provider=[], cwd=None, search=None), after=after)
        page = [msgspec.msgpack.decode(s)["id"] for s in await db.read(reader.list_page, query)]
        seen += page[:3]
        if len(page) <= 3:
            break
        last = seen[-1]
        after = (1_000 + ids.index(last) // 3, last)
    assert seen == expected
    query = list_query(limit=10, cursor=None, sort="updated_at", archived=False, source=[], model_provider=[],
                       cwd="/w1", search=None)
    assert [msgspec.msgpack.decode(s)["id"] for s in await db.read(reader.list_page, query)] == ids[1::2]


async def test_blobs_of_a_life_are_found_by_hash_from_its_forks(db):
    """A fork looks blobs up in every life of its ancestry."""
    src = new_id()
    await send(db, [write(src, None, 1, (1, 1, b"m"), blobs=(BlobRow(b"h" * 32, None, b"big"),))])
    child = await fork(db, src, 1)
    row = await db.read(live_row, child)
    owners = [(row.thread_id, row.gen), *((t, g) for t, g, _ in row.ancestry)]
    assert await db.read(reader.blobs, owners, [b"h" * 32, b"x" * 32]) == {b"h" * 32: (None, b"big")}


async def test_snapshots_keep_the_newest_and_skip_deleted_threads(db, schema):
    """Saving at a later seq drops the older one; a deleted thread gets none."""
    t = new_id()
    await send(db, [write(t, None, 9, (1, 9, b"\n".join([b"x"] * 9)))])
    assert await db.write(upkeep.save_snapshot, t, 0, 4, b"four", None)
    assert await db.write(upkeep.save_snapshot, t, 0, 8, b"eight", b"ctx")
    assert await db.read(reader.snapshot, t, 0, 9) == (8, b"eight", None)
    assert await db.read(reader.snapshot, t, 0, 7) is None
    assert await db.read(functools.partial(reader.snapshot, turns=False, context=True), t, 0, 9) == (8, None, b"ctx")
    assert await db.read(functools.partial(reader.snapshot, context=True), t, 0, 9) == (8, b"eight", b"ctx")
    await db.write(upkeep.delete_thread, t, channel(schema))
    assert not await db.write(upkeep.save_snapshot, t, 0, 9, b"nine", None)


async def test_dictionaries_get_the_next_id_and_rewrites_touch_unchanged_chunks_only(db, dsn, schema):
    """Installers take ids in turn; a chunk whose frame changed since it was read is left alone."""
    assert [await db.write(upkeep.install_dictionary, b"d1"), await db.write(upkeep.install_dictionary, b"d2")] == [1, 2]
    assert await db.read(reader.dictionaries, 1) == {2: b"d2"}
    t = new_id()
    await send(db, [write(t, None, 2, (1, 1, b"a"), (2, 2, b"b"))])
    await admin(dsn, f"UPDATE {schema}.chunks SET zdict = 0")
    frames = await db.read(reader.undict_frames, 10)
    assert sorted(f[2] for f in frames) == [1, 2]
    count = await db.write(upkeep.rewrite_chunks, 2, [(t, 0, 1, b"a", b"A"), (t, 0, 2, b"stale", b"B")])
    assert count == 1
    rows = await admin(dsn, f"SELECT seq, zdict, data FROM {schema}.chunks ORDER BY seq")
    assert [(r["seq"], r["zdict"], r["data"]) for r in rows] == [(1, 2, b"A"), (2, 0, b"b")]


async def test_idempotency_keys_are_looked_up_per_thread(db):
    """A key recorded by a write answers with its seq, only for its own thread."""
    a, b = new_id(), new_id()
    await send(db, [write(a, None, 1, (1, 1, b"m"), keys=(("k", 1),)), write(b, None, 1, (1, 1, b"m"))])
    assert await db.read(reader.idempotent_seq, a, 0, "k") == 1
    assert await db.read(reader.idempotent_seq, b, 0, "k") is None


@pytest.mark.parametrize("bad", [0, -1])
def test_segments_of_an_empty_range_are_empty(bad):
    """``lo > hi`` reads nothing."""
    assert segments(row_of("t", [("p", 0, 3)]), 5, bad) == []
