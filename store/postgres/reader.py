"""Reading a PostgreSQL store: thread rows, chunks across fork ancestry, list pages, snapshots.

Every function takes an asyncpg connection and runs one statement, so a read
costs one round trip whatever the fork depth: a fork's row carries its whole
ancestry (``[[id, gen, upto], ...]``, nearest first), :func:`segments` turns a
seq range into ``(thread, gen, lo, hi)`` pieces, and :func:`chunks` fetches
the chunks of every piece in one query (each piece is one thread's key range,
so on a distributed database each is routed to the node holding it).

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

from typing import Any, Protocol

import msgspec

from rollout.errors import CorruptLog

from ..listing import ListQuery, sql_conditions

__all__ = [
    "Life",
    "Row",
    "ancestry_of",
    "blobs",
    "chunks",
    "dictionaries",
    "exists",
    "idempotent_seq",
    "list_page",
    "live_row",
    "rows_with_keys",
    "segments",
    "snapshot",
    "undict_frames",
]

_ANCESTRY = msgspec.msgpack.Decoder(list[tuple[str, int, int]])
_ANCESTRY_OUT = msgspec.msgpack.Encoder()
_ROW = (
    "SELECT thread_id::text AS thread_id, gen, version, last_seq, archived, packed_upto, tail_chunks, "
    "parent_id::text AS parent_id, parent_gen, parent_upto, ancestry, state FROM threads"
)


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """A live thread row as a reader (or a writer planning a write) sees it."""

    thread_id: str
    gen: int
    version: int
    last_seq: int
    archived: bool
    packed_upto: int
    tail_chunks: int
    parent_id: str | None
    parent_gen: int | None
    parent_upto: int | None
    ancestry: list[tuple[str, int, int]]
    state: bytes


_ROW_FIELDS = Row.__struct_fields__


def _row(found: Any) -> Row:
    try:
        ancestry = _ANCESTRY.decode(found["ancestry"]) if found["ancestry"] else []
    except msgspec.DecodeError as exc:
        raise CorruptLog(f"thread {found['thread_id']}: stored ancestry does not decode: {exc}") from exc
    return Row(**{**dict(found.items()), "ancestry": ancestry})


class Life(Protocol):
    """What reading a thread's lines needs of it: its life and its ancestry (a ``Row`` has them)."""

    @property
    def thread_id(self) -> str: ...
    @property
    def gen(self) -> int: ...
    @property
    def ancestry(self) -> list[tuple[str, int, int]]: ...


_ROWS = (
    "SELECT q.key AS wanted, i.seq AS key_seq, t.thread_id::text AS thread_id, t.gen, t.version, t.last_seq, "
    "t.archived, t.packed_upto, t.tail_chunks, t.parent_id::text AS parent_id, t.parent_gen, t.parent_upto, "
    "t.ancestry, t.state "
    "FROM unnest($1::uuid[], $2::text[]) AS q(thread_id, key) "
    "JOIN threads t ON t.thread_id = q.thread_id AND NOT t.deleted "
    "LEFT JOIN idempotency i ON i.thread_id = t.thread_id AND i.gen = t.gen AND i.key = q.key"
)


async def rows_with_keys(conn: Any, wanted: list[tuple[str, str | None]]) -> tuple[dict[str, Row], dict[str, dict[str, int]]]:
    """Live rows of several threads and the seqs of the idempotency keys asked for, in one snapshot.

    Args:
        wanted: ``(thread_id, key or None)`` pairs (a thread may come with several keys).

    Returns:
        ``(rows by thread id, {thread id: {key: seq}} of the keys found)``; a missing or deleted
        thread has no row.
    """
    if not wanted:
        return {}, {}
    ids, keys = zip(*wanted)
    rows: dict[str, Row] = {}
    found: dict[str, dict[str, int]] = {}
    for record in await conn.fetch(_ROWS, list(ids), list(keys)):
        thread_id = record["thread_id"]
        if thread_id not in rows:
            rows[thread_id] = _row({k: record[k] for k in _ROW_FIELDS})
        if record["key_seq"] is not None:
            found.setdefault(thread_id, {})[record["wanted"]] = record["key_seq"]
    return rows, found


async def live_row(conn: Any, thread_id: str) -> Row | None:
    """The live row of ``thread_id`` (None: no such thread, or deleted)."""
    found = await conn.fetchrow(f"{_ROW} WHERE thread_id = $1 AND NOT deleted", thread_id)
    return None if found is None else _row(found)


def ancestry_of(parent: Life, upto: int) -> bytes:
    """The ancestry a fork of ``parent`` at ``upto`` lines stores."""
    return _ANCESTRY_OUT.encode([(parent.thread_id, parent.gen, upto), *parent.ancestry])


def segments(row: Life, lo: int, hi: int) -> list[tuple[str, int, int, int]]:
    """``(thread_id, gen, lo, hi)`` pieces holding the thread's lines ``lo..hi``, in seq order.

    A fork's line 1 is its own; its lines 2..upto+1 are its parent's 1..upto; the rest are its own.
    """
    nodes = [(row.thread_id, row.gen), *((tid, gen) for tid, gen, _ in row.ancestry)]
    uptos = [upto for *_, upto in row.ancestry]
    heads: list[tuple[str, int, int, int]] = []
    tails: list[tuple[str, int, int, int]] = []
    for depth, (tid, gen) in enumerate(nodes):
        if lo > hi:
            break
        if depth == len(uptos):
            heads.append((tid, gen, lo, hi))
            break
        upto = uptos[depth]
        if lo <= 1:
            heads.append((tid, gen, 1, 1))
        if max(lo, upto + 2) <= hi:
            tails.append((tid, gen, max(lo, upto + 2), hi))
        lo, hi = max(lo, 2) - 1, min(hi, upto + 1) - 1
    return heads + tails[::-1]


_CHUNKS = """
SELECT s.i, c.seq, c.last, c.zdict, c.data
FROM unnest($1::uuid[], $2::int4[], $3::int8[], $4::int8[]) WITH ORDINALITY AS s(thread_id, gen, lo, hi, i)
CROSS JOIN LATERAL (
    SELECT seq, last, zdict, data FROM chunks
    WHERE thread_id = s.thread_id AND gen = s.gen AND seq <= s.hi
      AND seq >= COALESCE((SELECT max(seq) FROM chunks
                           WHERE thread_id = s.thread_id AND gen = s.gen AND seq <= s.lo), 1)
) c
ORDER BY s.i, c.seq
"""


async def chunks(conn: Any, pieces: list[tuple[str, int, int, int]]) -> list[list[tuple[int, int, int | None, bytes]]]:
    """For each piece, the stored chunks overlapping its range: ``(seq, last, zdict, data)`` in seq order."""
    if not pieces:
        return []
    columns = list(zip(*pieces))
    rows = await conn.fetch(_CHUNKS, *columns)
    out: list[list[tuple[int, int, int | None, bytes]]] = [[] for _ in pieces]
    for i, seq, last, zdict, data in rows:
        out[i - 1].append((seq, last, zdict, data))
    return out


async def blobs(conn: Any, owners: list[tuple[str, int]], hashes: list[bytes]) -> dict[bytes, tuple[int | None, bytes]]:
    """``hash -> (zdict, data)`` for blobs of the given thread lives (a fork reads its ancestors')."""
    if not hashes or not owners:
        return {}
    ids, gens = zip(*owners)
    rows = await conn.fetch(
        "SELECT DISTINCT ON (hash) hash, zdict, data FROM blobs "
        "WHERE (thread_id, gen) IN (SELECT * FROM unnest($1::uuid[], $2::int4[])) AND hash = ANY($3::bytea[])",
        list(ids), list(gens), hashes,
    )
    return {row["hash"]: (row["zdict"], row["data"]) for row in rows}


async def idempotent_seq(conn: Any, thread_id: str, gen: int, key: str) -> int | None:
    """The seq a key's first append returned (None: the key is new)."""
    return await conn.fetchval(
        "SELECT seq FROM idempotency WHERE thread_id = $1 AND gen = $2 AND key = $3", thread_id, gen, key
    )


async def snapshot(conn: Any, thread_id: str, gen: int, upto: int, *, turns: bool = True,
                   context: bool = False) -> tuple[int, bytes | None, bytes | None] | None:
    """The newest persisted replay state at or before ``upto`` holding what is asked for.

    Returns:
        ``(seq, turns part, context part)``, a part None when not asked for; None: no snapshot.
    """
    columns = f"{'data' if turns else 'NULL'} AS turns, {'context' if context else 'NULL'} AS context"
    found = await conn.fetchrow(
        f"SELECT seq, {columns} FROM snapshots WHERE thread_id = $1 AND gen = $2 AND seq <= $3 "
        f"{'AND context IS NOT NULL ' if context else ''}ORDER BY seq DESC LIMIT 1", thread_id, gen, upto,
    )
    return None if found is None else (found["seq"], found["turns"], found["context"])


async def dictionaries(conn: Any, known: int = 0) -> dict[int, bytes]:
    """Dictionaries with an id above ``known`` (0: every one)."""
    rows = await conn.fetch("SELECT id, data FROM dictionaries WHERE id > $1 ORDER BY id", known)
    return {row["id"]: row["data"] for row in rows}


async def undict_frames(conn: Any, limit: int) -> list[tuple[str, int, int, bytes]]:
    """Up to ``limit`` chunks stored without a dictionary: ``(thread_id, gen, seq, frame)``."""
    rows = await conn.fetch(
        "SELECT thread_id::text, gen, seq, data FROM chunks WHERE zdict = 0 LIMIT $1", limit
    )
    return [tuple(row) for row in rows]


async def list_page(conn: Any, query: ListQuery) -> list[bytes]:
    """States of up to ``query.limit + 1`` live threads matching ``query``, in its order.

    The filters and the ``(key, id)`` keyset are :func:`store.listing.sql_conditions`'s; ``search``
    matches the case-folded name and preview columns (``strpos``: no pattern characters).
    """
    where, args = sql_conditions(query, numbered=1, id_column="thread_id")
    where.insert(0, "NOT deleted")
    if query.search is not None:
        args.append(query.search)
        where.append(f"(strpos(name_folded, ${len(args)}) > 0 OR strpos(preview_folded, ${len(args)}) > 0)")
    args.append(query.limit + 1)
    sql = (f"SELECT state FROM threads WHERE {' AND '.join(where)} "
           f"ORDER BY {query.order_on('thread_id')} LIMIT ${len(args)}")
    return [row["state"] for row in await conn.fetch(sql, *args)]


async def exists(conn: Any, thread_id: str) -> bool:
    """Whether a live thread has this id."""
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM threads WHERE thread_id = $1 AND NOT deleted)",
                                    thread_id))
