"""Writes outside the append path: delete (keeping what forks read), snapshots, dictionaries.

* :func:`delete_thread` marks a thread's life deleted (its id is free again at
  once), drops its keys and snapshots, then frees what no fork reads: up the
  ancestry, a deleted life keeps the chunks its nearest forks point at and goes
  entirely (with its blobs) once none does. Each life is locked before it is
  looked at, so deletes of sibling forks running at once cannot both think the
  other still needs their parent.
* :func:`save_snapshot` stores replay state at a seq (a cache: skipped when the
  thread is gone) and drops the older ones.
* :func:`install_dictionary` and :func:`rewrite_chunks` add a trained zstd
  dictionary and swap in chunks recompressed with it (only chunks still holding
  the exact frame that was recompressed).

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import time
from typing import Any

from asyncpg import exceptions as pgx

__all__ = ["delete_thread", "install_dictionary", "rewrite_chunks", "save_snapshot"]


async def delete_thread(conn: Any, thread_id: str, channel: str, notice: str | None = None) -> int | None:
    """Delete the live ``thread_id`` and free what nobody reads; returns its gen (None: no such thread).

    Runs in one transaction on ``conn``; the notice goes out when it commits.
    """
    async with conn.transaction():
        found = await conn.fetchrow(
            "UPDATE threads SET deleted = true, version = version + 1 WHERE thread_id = $1 AND NOT deleted "
            "RETURNING gen", thread_id,
        )
        if found is None:
            return None
        gen = found["gen"]
        await conn.execute("DELETE FROM idempotency WHERE thread_id = $1 AND gen = $2", thread_id, gen)
        await conn.execute("DELETE FROM snapshots WHERE thread_id = $1 AND gen = $2", thread_id, gen)
        if notice is not None:
            await conn.execute("SELECT pg_notify($1, $2)", channel, notice)
        await _collect(conn, thread_id, gen)
    return gen


async def _collect(conn: Any, thread_id: str | None, gen: int | None) -> None:
    """Free deleted lives nobody reads any more, from ``(thread_id, gen)`` up its ancestry."""
    while thread_id is not None:
        row = await conn.fetchrow(
            "SELECT deleted, parent_id::text AS parent_id, parent_gen FROM threads "
            "WHERE thread_id = $1 AND gen = $2 FOR UPDATE", thread_id, gen,
        )
        if row is None or not row["deleted"]:
            return
        need = await conn.fetchval(
            "SELECT max(parent_upto) FROM threads WHERE parent_id = $1 AND parent_gen = $2", thread_id, gen
        )
        if need is not None:  # forks read lines 1..need: keep every chunk that starts by then
            await conn.execute("DELETE FROM chunks WHERE thread_id = $1 AND gen = $2 AND seq > $3",
                               thread_id, gen, need)
            return
        for table in ("chunks", "blobs", "threads"):
            await conn.execute(f"DELETE FROM {table} WHERE thread_id = $1 AND gen = $2", thread_id, gen)
        thread_id, gen = row["parent_id"], row["parent_gen"]


_SNAPSHOT = """
WITH live AS (SELECT 1 FROM threads WHERE thread_id = $1 AND gen = $2 AND NOT deleted),
saved AS (
    INSERT INTO snapshots (thread_id, gen, seq, data, context)
    SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM live)
    ON CONFLICT (thread_id, gen, seq) DO UPDATE SET data = excluded.data, context = excluded.context
    RETURNING seq
),
dropped AS (
    DELETE FROM snapshots WHERE thread_id = $1 AND gen = $2 AND seq < $3 AND EXISTS (SELECT 1 FROM saved)
)
SELECT count(*) FROM saved
"""


async def save_snapshot(conn: Any, thread_id: str, gen: int, seq: int, data: bytes, context: bytes | None) -> bool:
    """Store replay state at ``seq`` and drop older snapshots; False if the thread life is gone."""
    return bool(await conn.fetchval(_SNAPSHOT, thread_id, gen, seq, data, context))


async def install_dictionary(conn: Any, data: bytes) -> int:
    """Record a trained dictionary; returns its id (the next free one, even with installers racing)."""
    for _ in range(8):
        try:
            return await conn.fetchval(
                "INSERT INTO dictionaries (id, data, created_ms) "
                "SELECT COALESCE(max(id), 0) + 1, $1, $2 FROM dictionaries RETURNING id",
                data, time.time_ns() // 1_000_000,
            )
        except pgx.UniqueViolationError:
            continue  # another process took that id at the same moment: take the next
    raise pgx.UniqueViolationError("could not find a free dictionary id")


_REWRITE = """
UPDATE chunks SET zdict = $1, data = r.new
FROM unnest($2::uuid[], $3::int4[], $4::int8[], $5::bytea[], $6::bytea[]) AS r(thread_id, gen, seq, old, new)
WHERE chunks.thread_id = r.thread_id AND chunks.gen = r.gen AND chunks.seq = r.seq
  AND chunks.zdict = 0 AND chunks.data = r.old
"""


async def rewrite_chunks(conn: Any, zdict: int, rewrites: list[tuple[str, int, int, bytes, bytes]]) -> int:
    """Swap in recompressed chunks ``(thread_id, gen, seq, old frame, new frame)``; returns how many.

    A chunk changed since it was read (merged, deleted) no longer holds the old frame and is left alone.
    """
    if not rewrites:
        return 0
    status = await conn.execute(_REWRITE, zdict, *map(list, zip(*rewrites)))
    return int(status.split()[-1])
