"""Every SQL statement of the SQLite backend, each behind a named method.

:class:`Tables` wraps one connection (the writer's or a reader's); the writer, the
commands and the readers call these methods and never hold SQL themselves. The tables
are described in :mod:`store.sqlite.schema`. Errors are ``sqlite3`` exceptions; the
store translates them at its boundary.

Must not import: rollout.cli, rich, asyncio.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..feed import Change
from ..listing import ListQuery, sql_conditions

__all__ = ["ROW_COLUMNS", "Tables"]

#: the thread row columns the writer keeps up to date (after ``id``, ``parent_tkey``, ``parent_upto``)
ROW_COLUMNS = (
    "created_ms, updated_ms, last_seq, archived, source_kind, model_provider, cwd, name, preview, "
    "packed_upto, tail_chunks, state"
)
_UPDATE = f"UPDATE threads SET ({ROW_COLUMNS}) = (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) WHERE tkey = ?"
#: the same without ``created_ms`` and ``archived``: SQLite then leaves ``threads_by_created`` alone
#: (an index is rewritten whenever the SET list names one of its columns, even to the same value)
_UPDATE_IN_PLACE = (
    "UPDATE threads SET (updated_ms, last_seq, source_kind, model_provider, cwd, name, preview, "
    "packed_upto, tail_chunks, state) = (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) WHERE tkey = ?"
)
_INSERT = (
    f"INSERT INTO threads (id, parent_tkey, parent_upto, {ROW_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class Tables:
    """Named statements over one connection.

    Args:
        conn: a connection from :func:`store.sqlite.schema.connect`.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def _one(self, sql: str, *args: Any) -> Any:
        return self.conn.execute(sql, args).fetchone()

    # ------------------------------------------------------------------ transactions

    def begin(self, *, immediate: bool = False) -> None:
        self.conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        self.conn.execute("ROLLBACK")

    def savepoint(self) -> None:
        self.conn.execute("SAVEPOINT command")

    def release(self) -> None:
        self.conn.execute("RELEASE command")

    def rollback_to_savepoint(self) -> None:
        self.conn.execute("ROLLBACK TO command")
        self.conn.execute("RELEASE command")

    def data_version(self) -> int:
        return self._one("PRAGMA data_version")[0]

    def free_pages(self) -> int:
        return self._one("PRAGMA freelist_count")[0]

    def vacuum(self, pages: int) -> None:
        self.conn.executescript(f"PRAGMA incremental_vacuum({int(pages)});")

    # ------------------------------------------------------------------ threads

    def thread_by_id(self, thread_id: str) -> tuple[Any, ...] | None:
        """``(tkey, state, parent_tkey, parent_upto, packed_upto, tail_chunks, deleted)``."""
        return self._one(
            "SELECT tkey, state, parent_tkey, parent_upto, packed_upto, tail_chunks, deleted "
            "FROM threads WHERE id = ?", thread_id,
        )

    def live_thread(self, thread_id: str) -> tuple[Any, ...] | None:
        """``(tkey, state, parent_tkey, parent_upto)`` of a thread that is not deleted."""
        return self._one(
            "SELECT tkey, state, parent_tkey, parent_upto FROM threads WHERE id = ? AND deleted = 0", thread_id
        )

    def id_taken(self, thread_id: str) -> bool:
        return self._one("SELECT 1 FROM threads WHERE id = ?", thread_id) is not None

    def insert_thread(self, thread_id: str, parent_tkey: int | None, parent_upto: int | None,
                      row: tuple[Any, ...]) -> int:
        """Insert a thread row (``row`` in :data:`ROW_COLUMNS` order); returns its tkey."""
        return self.conn.execute(_INSERT, (thread_id, parent_tkey, parent_upto, *row)).lastrowid or 0

    def update_threads(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Rewrite thread rows: each is :data:`ROW_COLUMNS` values, then the tkey."""
        self.conn.executemany(_UPDATE, rows)

    def update_threads_in_place(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Like :meth:`update_threads` for rows whose ``created_ms`` and ``archived`` stay as
        they are: each is the :data:`ROW_COLUMNS` values without those two, then the tkey."""
        self.conn.executemany(_UPDATE_IN_PLACE, rows)

    def mark_deleted(self, tkey: int) -> None:
        """Hide a thread row (its id is freed; forks may still read its chunks)."""
        self.conn.execute("UPDATE threads SET deleted = 1, id = id || char(0) || tkey WHERE tkey = ?", (tkey,))

    def deleted_parent(self, tkey: int) -> tuple[int, int | None] | None:
        """``(deleted, parent_tkey)`` of a row, or None."""
        return self._one("SELECT deleted, parent_tkey FROM threads WHERE tkey = ?", tkey)

    def row_gone(self, tkey: int) -> bool:
        """Whether a row is missing or deleted."""
        row = self._one("SELECT deleted FROM threads WHERE tkey = ?", tkey)
        return row is None or bool(row[0])

    def furthest_child_read(self, tkey: int) -> int | None:
        """The most lines any fork of ``tkey`` reads from it, or None without forks."""
        return self._one("SELECT MAX(parent_upto) FROM threads WHERE parent_tkey = ?", tkey)[0]

    def drop_thread_row(self, tkey: int) -> None:
        self.conn.execute("DELETE FROM threads WHERE tkey = ?", (tkey,))

    def fork_of(self, tkey: int) -> tuple[int | None, int | None] | None:
        """``(parent_tkey, parent_upto)`` of a row, or None."""
        return self._one("SELECT parent_tkey, parent_upto FROM threads WHERE tkey = ?", tkey)

    def page(self, query: ListQuery, search: str | None) -> list[bytes]:
        """States of up to ``query.limit + 1`` live threads matching ``query``, in its order.

        ``search`` is matched by the connection's ``folded_contains`` function.
        """
        where, args = sql_conditions(query)
        where.insert(0, "deleted = 0")
        if search is not None:
            where.append("(folded_contains(name, ?) OR folded_contains(preview, ?))")
            args += (search, search)
        sql = (f"SELECT state FROM threads WHERE {' AND '.join(where)} "
               f"ORDER BY {query.order} LIMIT ?")
        return [state for (state,) in self.conn.execute(sql, (*args, query.limit + 1))]

    def add_function(self, name: str, arity: int, fn: Callable[..., Any]) -> None:
        self.conn.create_function(name, arity, fn, deterministic=True)

    # ------------------------------------------------------------------ chunks and blobs

    def chunk_at_or_before(self, tkey: int, seq: int) -> tuple[int, int | None, bytes] | None:
        """``(seq, zdict, data)`` of the chunk holding line ``seq`` (the last starting at or before it)."""
        return self._one(
            "SELECT seq, zdict, data FROM chunks WHERE tkey = ? AND seq <= ? ORDER BY seq DESC LIMIT 1", tkey, seq
        )

    def chunk_start(self, tkey: int, seq: int) -> int | None:
        """The first seq of the chunk holding line ``seq``."""
        row = self._one("SELECT seq FROM chunks WHERE tkey = ? AND seq <= ? ORDER BY seq DESC LIMIT 1", tkey, seq)
        return None if row is None else row[0]

    def chunks_between(self, tkey: int, lo: int, hi: int) -> Iterable[tuple[int, int, int | None, bytes]]:
        """``(seq, last, zdict, data)`` of chunks starting in ``lo..hi``, in order."""
        return self.conn.execute(
            "SELECT seq, last, zdict, data FROM chunks WHERE tkey = ? AND seq BETWEEN ? AND ? ORDER BY seq",
            (tkey, lo, hi),
        )

    def chunks_from(self, tkey: int, lo: int) -> list[tuple[int, int, int | None, bytes]]:
        """``(seq, last, zdict, data)`` of chunks starting at ``lo`` or later, in order."""
        return self.conn.execute(
            "SELECT seq, last, zdict, data FROM chunks WHERE tkey = ? AND seq >= ? ORDER BY seq", (tkey, lo)
        ).fetchall()

    def insert_chunk(self, tkey: int, seq: int, last: int, zdict: int | None, data: bytes) -> None:
        self.conn.execute("INSERT INTO chunks (tkey, seq, last, zdict, data) VALUES (?, ?, ?, ?, ?)",
                          (tkey, seq, last, zdict, data))

    def put_blob(self, digest: bytes, zdict: int | None, data: bytes) -> None:
        """Store a blob unless one with that hash exists."""
        if self._one("SELECT 1 FROM blobs WHERE hash = ?", digest) is None:
            self.conn.execute("INSERT INTO blobs (hash, zdict, data) VALUES (?, ?, ?)", (digest, zdict, data))

    def blob(self, digest: bytes) -> tuple[int | None, bytes] | None:
        return self._one("SELECT zdict, data FROM blobs WHERE hash = ?", digest)

    def link_blobs(self, tkey: int, seq: int, digests: Iterable[bytes]) -> None:
        self.conn.executemany("INSERT INTO chunk_blobs VALUES (?, ?, ?)", [(tkey, seq, d) for d in digests])

    def blob_links_after(self, tkey: int, after_seq: int) -> list[bytes]:
        """Distinct blob hashes referenced by the thread's chunks starting after ``after_seq``."""
        rows = self.conn.execute(
            "SELECT DISTINCT hash FROM chunk_blobs WHERE tkey = ? AND seq > ?", (tkey, after_seq)
        ).fetchall()
        return [digest for (digest,) in rows]

    def delete_chunks_after(self, tkey: int, after_seq: int) -> None:
        """Delete the chunks (and their blob links) starting after ``after_seq``."""
        self.conn.execute("DELETE FROM chunk_blobs WHERE tkey = ? AND seq > ?", (tkey, after_seq))
        self.conn.execute("DELETE FROM chunks WHERE tkey = ? AND seq > ?", (tkey, after_seq))

    def delete_unused_blobs(self, digests: Iterable[bytes]) -> None:
        self.conn.executemany(
            "DELETE FROM blobs WHERE hash = ? AND NOT EXISTS (SELECT 1 FROM chunk_blobs WHERE hash = ?)",
            [(d, d) for d in digests],
        )

    def settled_upto(self, tkey: int) -> int | None:
        """The last seq of a live thread's settled chunks (``packed_upto``), or None if it is gone."""
        row = self._one("SELECT packed_upto FROM threads WHERE tkey = ? AND deleted = 0", tkey)
        return None if row is None else row[0]

    def chunk_shapes(self, tkey: int, lo: int, hi: int) -> list[tuple[int, int, int | None, int]]:
        """``(seq, last, zdict, length of data)`` of the chunks starting in ``lo..hi``, in order
        (their data is not read)."""
        return self.conn.execute(
            "SELECT seq, last, zdict, length(data) FROM chunks WHERE tkey = ? AND seq BETWEEN ? AND ? ORDER BY seq",
            (tkey, lo, hi),
        ).fetchall()

    def delete_chunks_between(self, tkey: int, lo: int, hi: int) -> None:
        """Delete the chunks (and their blob links) starting in ``lo..hi``; the blobs stay."""
        self.conn.execute("DELETE FROM chunk_blobs WHERE tkey = ? AND seq BETWEEN ? AND ?", (tkey, lo, hi))
        self.conn.execute("DELETE FROM chunks WHERE tkey = ? AND seq BETWEEN ? AND ?", (tkey, lo, hi))

    def undict_frames(self, after: tuple[int, int], limit: int) -> list[tuple[int, int, bytes]]:
        """``(tkey, seq, frame)`` of up to ``limit`` chunks stored without a dictionary, after ``after`` in key order."""
        return self.conn.execute(
            "SELECT tkey, seq, data FROM chunks WHERE zdict = 0 AND (tkey, seq) > (?, ?) ORDER BY tkey, seq LIMIT ?",
            (*after, limit),
        ).fetchall()

    def recompress_chunks(self, zdict: int, rewrites: list[tuple[int, int, bytes, bytes]]) -> None:
        """Swap ``(tkey, seq, old, new)`` frames, only where the chunk still holds ``old``."""
        self.conn.executemany(
            "UPDATE chunks SET zdict = ?, data = ? WHERE tkey = ? AND seq = ? AND zdict = 0 AND data = ?",
            [(zdict, new, tkey, seq, old) for tkey, seq, old, new in rewrites],
        )

    # ------------------------------------------------------------------ dictionaries and settings

    def newest_dictionary(self) -> tuple[int, bytes] | None:
        return self._one("SELECT id, data FROM dictionaries ORDER BY id DESC LIMIT 1")

    def dictionary_ids(self) -> set[int]:
        return {zdict for (zdict,) in self.conn.execute("SELECT id FROM dictionaries")}

    def dictionary(self, zdict: int) -> bytes | None:
        row = self._one("SELECT data FROM dictionaries WHERE id = ?", zdict)
        return None if row is None else row[0]

    def insert_dictionary(self, data: bytes, created_ms: int) -> int:
        return self.conn.execute(
            "INSERT INTO dictionaries (data, created_ms) VALUES (?, ?)", (data, created_ms)
        ).lastrowid or 0

    def undict_bytes(self) -> int:
        return self._one("SELECT value FROM settings WHERE key = 'undict_bytes'")[0]

    def set_undict_bytes(self, value: int) -> None:
        self.conn.execute("UPDATE settings SET value = ? WHERE key = 'undict_bytes'", (value,))

    # ------------------------------------------------------------------ idempotency and snapshots

    def key_seq(self, tkey: int, key: str) -> int | None:
        row = self._one("SELECT seq FROM idempotency WHERE tkey = ? AND key = ?", tkey, key)
        return None if row is None else row[0]

    def put_key(self, tkey: int, key: str, seq: int) -> None:
        self.conn.execute("INSERT INTO idempotency (tkey, key, seq) VALUES (?, ?, ?)", (tkey, key, seq))

    def drop_keys_and_snapshots(self, tkey: int) -> None:
        self.conn.execute("DELETE FROM idempotency WHERE tkey = ?", (tkey,))
        self.conn.execute("DELETE FROM snapshots WHERE tkey = ?", (tkey,))
        self.conn.execute("DELETE FROM derived WHERE tkey = ?", (tkey,))

    def save_snapshot(self, tkey: int, seq: int, data: bytes, context: bytes) -> None:
        """Keep the snapshot at ``seq`` and drop older ones."""
        self.conn.execute(
            "INSERT INTO snapshots (tkey, seq, data, context) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (tkey, seq) DO UPDATE SET data = excluded.data, context = excluded.context",
            (tkey, seq, data, context),
        )
        self.conn.execute("DELETE FROM snapshots WHERE tkey = ? AND seq < ?", (tkey, seq))

    def turn_snapshot(self, tkey: int, upto: int) -> tuple[int, bytes] | None:
        """``(seq, data)`` of the newest snapshot at or before ``upto``."""
        return self._one(
            "SELECT seq, data FROM snapshots WHERE tkey = ? AND seq <= ? ORDER BY seq DESC LIMIT 1", tkey, upto
        )

    def context_snapshot(self, tkey: int, upto: int) -> tuple[int, bytes] | None:
        """``(seq, context)`` of the newest snapshot with a resume context at or before ``upto``."""
        return self._one(
            "SELECT seq, context FROM snapshots WHERE tkey = ? AND seq <= ? AND context IS NOT NULL "
            "ORDER BY seq DESC LIMIT 1", tkey, upto,
        )

    # ------------------------------------------------------------------ derived data and the change log

    def derived(self, tkey: int, name: str, parts: Sequence[int] | None) -> dict[int, bytes]:
        """The stored ``parts`` (None: all) of a thread's derived data ``name``."""
        sql = "SELECT part, data FROM derived WHERE tkey = ? AND name = ?"
        if parts is None:
            return dict(self.conn.execute(sql, (tkey, name)))
        if not parts:
            return {}
        marks = ", ".join("?" * len(parts))
        return dict(self.conn.execute(f"{sql} AND part IN ({marks})", (tkey, name, *parts)))

    def save_derived(self, tkey: int, name: str, parts: dict[int, bytes], count: int) -> None:
        """Replace ``parts`` of derived data ``name`` and drop the numbered ``count`` and up (a cache)."""
        self.conn.executemany(
            "INSERT INTO derived (tkey, name, part, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (tkey, name, part) DO UPDATE SET data = excluded.data",
            [(tkey, name, part, data) for part, data in parts.items()],
        )
        self.conn.execute("DELETE FROM derived WHERE tkey = ? AND name = ? AND part >= ?", (tkey, name, count))

    def log_change(self, origin: str, change: Change, keep: int) -> None:
        """Record a committed change for other processes' feeds; keep about the last ``keep``."""
        cursor = self.conn.execute(
            "INSERT INTO changes (origin, kind, thread_id, last_seq, source_id) VALUES (?, ?, ?, ?, ?)",
            (origin, change.kind, change.thread_id, change.last_seq, change.source_id),
        )
        newest = cursor.lastrowid or 0
        if newest % 256 == 0:
            self.conn.execute("DELETE FROM changes WHERE id <= ?", (newest - keep,))

    def last_change(self) -> int:
        """The id of the newest recorded change (0: none)."""
        return self._one("SELECT COALESCE(MAX(id), 0) FROM changes")[0]

    def changes_after(self, after: int, limit: int) -> list[tuple[int, str, str, str, int | None, str | None]]:
        """``(id, origin, kind, thread_id, last_seq, source_id)`` of the changes after ``after``, oldest first."""
        return self.conn.execute(
            "SELECT id, origin, kind, thread_id, last_seq, source_id FROM changes WHERE id > ? ORDER BY id LIMIT ?",
            (after, limit),
        ).fetchall()
