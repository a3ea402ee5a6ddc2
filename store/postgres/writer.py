"""One batch of thread writes as ONE SQL statement: one round trip, one commit, all or nothing.

A :class:`ThreadWrite` is everything one write changes in one thread: the new
thread row (listing columns and state, computed by the caller), the chunks,
blobs and idempotency keys to insert, and the change-feed notice. It is planned
on the row ``version`` the caller saw and lands only if the row still has it:
a compare-and-set evaluated by PostgreSQL under the row lock, so writers in
other processes or on other hosts can neither interleave lines nor overwrite a
name or an archive flag. A write whose version moved on is not applied
(:class:`Outcome` ``applied=False``); the caller re-reads the row and plans
again. So is a write recording an idempotency key the thread already holds
(another process used it first: a re-read finds it). Creating a thread
(``version=None``) lands only if no live thread has the id, and a fork only
while its source is live and not archived (the source row is locked ``FOR
SHARE`` until commit, so a concurrent delete waits and then keeps the lines the
fork points at).

:func:`write_batch` merges the writes of one thread (they were planned one
after the other on the caller's cached row), sends everything as arrays bound
to one statement of data-modifying CTEs, and reads back which threads landed.
Notices go out with ``pg_notify`` inside the same statement, so other processes
hear of a write exactly when it commits. If the statement fails for a reason
other than a lost connection (a bug, a constraint), each thread's writes are
tried again alone, so only the culprit's callers get the error.

Chunks are plain INSERTs on ``(thread_id, gen, seq)``: never an upsert, except
the one chunk a settling write puts in place of the tail it merged
(``settle_from``), whose older rows it deletes in the same statement.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from rollout.errors import RolloutError

from .database import Database, is_connection_loss
from .schema import channel

__all__ = ["BlobRow", "ChunkRow", "Lineage", "Outcome", "ThreadRow", "ThreadWrite", "merge", "send", "write_batch"]


class ChunkRow(msgspec.Struct, frozen=True):
    """Lines ``seq..last`` of a thread as stored (``zdict``: dictionary id, 0 none, None plain)."""

    seq: int
    last: int
    zdict: int | None
    data: bytes


class BlobRow(msgspec.Struct, frozen=True):
    """A long string cut out of lines, stored once per thread life under its SHA-256."""

    hash: bytes
    zdict: int | None
    data: bytes


class ThreadRow(msgspec.Struct, frozen=True, kw_only=True):
    """The values of a thread row after a write (the caller derives them from its state)."""

    created_ms: int
    updated_ms: int
    last_seq: int
    archived: bool = False
    source_kind: str | None = None
    model_provider: str | None = None
    cwd: str | None = None
    name_folded: str | None = None
    preview_folded: str | None = None
    packed_upto: int = 0
    tail_chunks: int = 0
    state: bytes


class Lineage(msgspec.Struct, frozen=True, kw_only=True):
    """A fork's pointer: its lines 2..upto+1 are ``parent``'s lines 1..upto; ``ancestry`` for readers.

    ``parent_version``: the fork lands only while the parent row has this version (None: any).
    """

    parent_id: str
    parent_gen: int
    parent_upto: int
    ancestry: bytes
    parent_version: int | None = None


class ThreadWrite(msgspec.Struct, frozen=True, kw_only=True):
    """Everything one write changes in one thread.

    Attributes:
        thread_id: the thread.
        version: the row version this write was planned on; None creates the thread.
        gen: the thread life being written (ignored when creating: the next free one is used).
        row: the row's new values.
        lineage: a new fork's pointer (creating only).
        chunks: chunks to insert (a settling write: exactly one, at ``settle_from``).
        blobs: blobs its chunks reference (already stored ones are skipped).
        keys: ``(idempotency key, seq it answers)`` to record.
        settle_from: the first seq of a merged tail: chunks after it are deleted and the
            chunk at it replaced.
        notice: the change-feed payload sent when this write commits (None: silent).
    """

    thread_id: str
    version: int | None
    gen: int = 0
    row: ThreadRow
    lineage: Lineage | None = None
    chunks: tuple[ChunkRow, ...] = ()
    blobs: tuple[BlobRow, ...] = ()
    keys: tuple[tuple[str, int], ...] = ()
    settle_from: int | None = None
    notice: str | None = None


class Outcome(msgspec.Struct, frozen=True):
    """What became of a write: landed (with the thread's gen and new version) or not applied."""

    applied: bool
    gen: int | None = None
    version: int | None = None


_THREAD_COLUMNS = (
    "created_ms, updated_ms, last_seq, archived, source_kind, model_provider, cwd, name_folded, preview_folded, "
    "packed_upto, tail_chunks, state"
)
_W = (
    "thread_id, base, gen, created_ms, updated_ms, last_seq, archived, source_kind, model_provider, cwd, "
    "name_folded, preview_folded, packed_upto, tail_chunks, state, parent_id, parent_gen, parent_upto, ancestry, settle_from, parent_version"
)
_W_TYPES = ["uuid", "int8", "int4", "int8", "int8", "int8", "bool", "text", "text", "text", "text", "text", "int8", "int4", "bytea", "uuid", "int4", "int8", "bytea", "int8", "int8"]
_SET = ", ".join(f"{c} = w.{c}" for c in _THREAD_COLUMNS.split(", "))
_N = len(_W_TYPES)


def _unnest(first: int, types: list[str], alias: str, columns: str) -> str:
    args = ", ".join(f"${first + i}::{t}[]" for i, t in enumerate(types))
    return f"unnest({args}) AS {alias}({columns})"


_BATCH = f"""
WITH w AS (SELECT * FROM {_unnest(1, _W_TYPES, "w", _W)}),
src AS (
    SELECT t.thread_id, t.gen FROM threads t JOIN w ON t.thread_id = w.parent_id AND t.gen = w.parent_gen
    WHERE w.base IS NULL AND NOT t.deleted AND NOT t.archived
      AND (w.parent_version IS NULL OR t.version = w.parent_version)
    FOR SHARE OF t
),
ins AS (
    INSERT INTO threads (thread_id, gen, version, {_THREAD_COLUMNS}, parent_id, parent_gen, parent_upto, ancestry)
    SELECT w.thread_id, COALESCE((SELECT max(t.gen) + 1 FROM threads t WHERE t.thread_id = w.thread_id), 0), 1,
           {", ".join("w." + c for c in _THREAD_COLUMNS.split(", "))},
           w.parent_id, w.parent_gen, w.parent_upto, w.ancestry
    FROM w
    WHERE w.base IS NULL
      AND (w.parent_id IS NULL OR EXISTS (SELECT 1 FROM src WHERE src.thread_id = w.parent_id AND src.gen = w.parent_gen))
    ON CONFLICT DO NOTHING
    RETURNING thread_id, gen, version
),
k AS (SELECT * FROM {_unnest(_N + 11, ["uuid", "text", "int8"], "k", "thread_id, key, seq")}),
upd AS (
    UPDATE threads t SET version = t.version + 1, {_SET}
    FROM w
    WHERE w.base IS NOT NULL AND t.thread_id = w.thread_id AND t.gen = w.gen AND t.version = w.base
      AND NOT t.deleted
      AND NOT EXISTS (SELECT 1 FROM k JOIN idempotency i ON i.thread_id = k.thread_id AND i.key = k.key
                      WHERE k.thread_id = w.thread_id AND i.gen = w.gen)
    RETURNING t.thread_id, t.gen, t.version
),
ok AS (SELECT * FROM ins UNION ALL SELECT * FROM upd),
settled AS (
    DELETE FROM chunks c USING w, ok
    WHERE w.settle_from IS NOT NULL AND ok.thread_id = w.thread_id
      AND c.thread_id = ok.thread_id AND c.gen = ok.gen AND c.seq > w.settle_from
),
c AS (SELECT * FROM {_unnest(_N + 1, ["uuid", "int8", "int8", "int4", "bytea", "bool"], "c",
                             "thread_id, seq, last, zdict, data, replace")}),
appended AS (
    INSERT INTO chunks (thread_id, gen, seq, last, zdict, data)
    SELECT ok.thread_id, ok.gen, c.seq, c.last, c.zdict, c.data FROM c JOIN ok USING (thread_id) WHERE NOT c.replace
),
replaced AS (
    INSERT INTO chunks (thread_id, gen, seq, last, zdict, data)
    SELECT ok.thread_id, ok.gen, c.seq, c.last, c.zdict, c.data FROM c JOIN ok USING (thread_id) WHERE c.replace
    ON CONFLICT (thread_id, gen, seq) DO UPDATE SET last = excluded.last, zdict = excluded.zdict, data = excluded.data
),
blobbed AS (
    INSERT INTO blobs (thread_id, gen, hash, zdict, data)
    SELECT ok.thread_id, ok.gen, b.hash, b.zdict, b.data
    FROM {_unnest(_N + 7, ["uuid", "bytea", "int4", "bytea"], "b", "thread_id, hash, zdict, data")}
    JOIN ok USING (thread_id)
    ON CONFLICT DO NOTHING
),
keyed AS (
    INSERT INTO idempotency (thread_id, gen, key, seq)
    SELECT ok.thread_id, ok.gen, k.key, k.seq FROM k JOIN ok USING (thread_id)
),
told AS (
    SELECT pg_notify(${_N + 16}, n.payload)
    FROM {_unnest(_N + 14, ["uuid", "text"], "n", "thread_id, payload")} JOIN ok USING (thread_id)
)
SELECT ok.thread_id::text AS thread_id, ok.gen, ok.version, (SELECT count(*) FROM told) AS told FROM ok
"""


def merge(writes: list[ThreadWrite]) -> list[ThreadWrite]:
    """One write per thread, in first-seen order: later writes of a thread were planned on earlier ones.

    The merged write keeps the first one's version (and lineage), the last one's row,
    every chunk, blob and key; a settling write drops the earlier chunks its merged chunk covers.
    """
    merged: dict[str, ThreadWrite] = {}
    for write in writes:
        earlier = merged.get(write.thread_id)
        merged[write.thread_id] = write if earlier is None else _merge_two(earlier, write)
    return list(merged.values())


def _merge_two(earlier: ThreadWrite, later: ThreadWrite) -> ThreadWrite:
    chunks = earlier.chunks
    settle = earlier.settle_from
    if later.settle_from is not None:
        chunks = tuple(c for c in chunks if c.seq < later.settle_from)
        settle = later.settle_from if settle is None else min(settle, later.settle_from)
    notices = "\n".join(n for n in (earlier.notice, later.notice) if n)
    return msgspec.structs.replace(
        earlier, row=later.row, chunks=chunks + later.chunks, blobs=earlier.blobs + later.blobs,
        keys=earlier.keys + later.keys, settle_from=settle, notice=notices or None,
    )


def _arguments(writes: list[ThreadWrite], channel: str) -> list[Any]:
    columns: list[list[Any]] = [[] for _ in range(_N + 16)]
    for w in writes:
        r, l = w.row, w.lineage
        values = (w.thread_id, w.version, w.gen, r.created_ms, r.updated_ms, r.last_seq, r.archived,
                  r.source_kind, r.model_provider, r.cwd, r.name_folded, r.preview_folded, r.packed_upto, r.tail_chunks,
                  r.state, l and l.parent_id, l and l.parent_gen, l and l.parent_upto, l and l.ancestry,
                  w.settle_from, l and l.parent_version)
        for column, value in zip(columns, values):
            column.append(value)
        for chunk in w.chunks:
            replace = w.settle_from is not None and chunk.seq == w.settle_from
            _add(columns, _N, (w.thread_id, chunk.seq, chunk.last, chunk.zdict, chunk.data, replace))
        for blob in {b.hash: b for b in w.blobs}.values():
            _add(columns, _N + 6, (w.thread_id, blob.hash, blob.zdict, blob.data))
        for key, seq in w.keys:
            _add(columns, _N + 10, (w.thread_id, key, seq))
        for payload in filter(None, (w.notice or "").split("\n")):
            _add(columns, _N + 13, (w.thread_id, payload))
    return [*columns[: _N + 15], channel]


def _add(columns: list[list[Any]], first: int, values: tuple[Any, ...]) -> None:
    for offset, value in enumerate(values):
        columns[first + offset].append(value)


async def write_batch(conn: Any, writes: list[ThreadWrite], channel: str) -> list[Outcome | Exception]:
    """Apply ``writes`` in one statement; an :class:`Outcome` (or the driver's error) for each, in order.

    Errors come back untranslated (the caller's :class:`~store.postgres.database.Database`
    names the server in them); a failed write wrote nothing.

    Args:
        conn: an asyncpg connection (not in a transaction: the statement is its own).
        writes: the batch; several writes of one thread are applied together.
        channel: the change-feed channel notices go to.

    Raises:
        asyncpg errors of a lost connection (the caller's pool translates them): nothing
        of the batch is known to be committed.
    """
    groups = merge(writes)
    landed: dict[str, Outcome]
    try:
        landed = await _run(conn, groups, channel)
    except Exception as exc:
        if is_connection_loss(exc) or len(groups) == 1:
            raise
        landed = {}
        failed: dict[str, Exception] = {}
        for group in groups:
            try:
                landed.update(await _run(conn, [group], channel))
            except Exception as alone:
                if is_connection_loss(alone):
                    raise
                failed[group.thread_id] = alone
        if failed:
            return [failed.get(w.thread_id) or landed.get(w.thread_id.lower(), _MISSED) for w in writes]
    return [landed.get(w.thread_id.lower(), _MISSED) for w in writes]


_MISSED = Outcome(False)


#: Fault injection, for tests only: ``await on_step(step, conn)`` just before the batch statement is
#: sent ("statement") and once the server answered it, i.e. committed it ("reply"). Whatever it
#: raises is a failure at that step (a dropped connection, say).
on_step: Callable[[str, Any], Awaitable[None]] | None = None


async def _step(step: str, conn: Any) -> None:
    if on_step is not None:
        await on_step(step, conn)


async def _run(conn: Any, groups: list[ThreadWrite], channel: str) -> dict[str, Outcome]:
    await _step("statement", conn)
    rows = await conn.fetch(_BATCH, *_arguments(groups, channel))
    await _step("reply", conn)
    return {row["thread_id"]: Outcome(True, row["gen"], row["version"]) for row in rows}


async def send(db: Database, writes: list[ThreadWrite]) -> list[Outcome | RolloutError]:
    """:func:`write_batch` on one of ``db``'s connections, errors translated (naming the server).

    Raises:
        StoreError: the whole batch failed (a lost connection: see ``Database.write``).
    """
    results = await db.write(write_batch, writes, channel(db.schema))
    return [db.translate(r) if isinstance(r, Exception) else r for r in results]
