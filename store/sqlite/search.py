"""The search index of a ``SqliteStore``: FTS5 tables in the store's own database.

Reads run on the reader threads like every other read (:func:`stale_job`,
:func:`mark_job`, :func:`query_job`); a projection is one :class:`IndexWrite` command,
committed by the writer in its group commit like any write, so the index never needs a
second writing connection. The statements are :class:`store.search.fts5.Fts5Index`'s;
the tables come with schema version 4.

The seal spares a search the staleness scan when nothing was written. Every write of any
process records a row in the change log (``changes``, in the write's transaction), so
the newest change id is a store-wide write generation. :class:`IndexSeal`, run by the
writer (holding the database's write lock, so no write of any process can interleave),
stores that id in ``search_state`` only when no thread is stale; every :class:`IndexWrite`
removes it in its own transaction (a late projection of an older read must not pass for
current). :func:`current_job` then answers "is the index complete?" with two index
lookups: the seal equals the newest change id. ``search_state`` is created by the first
seal (a database without it was never sealed, and is scanned).

Must not import: rollout.cli, rich, asyncio.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ..search.fts5 import Fts5Index
from ..search.hits import Hit, Mark, Update
from ..search.query import SearchQuery
from .reader import Reader

__all__ = ["IndexSeal", "IndexWrite", "current_job", "mark_job", "query_job", "stale_job"]

_LIVE = "SELECT id, last_seq FROM threads WHERE deleted = 0"
_STATE = "CREATE TABLE IF NOT EXISTS search_state (id INTEGER PRIMARY KEY CHECK (id = 0), change INTEGER NOT NULL)"
_NEWEST = "SELECT COALESCE(MAX(id), 0) FROM changes"


@dataclass(frozen=True, slots=True)
class IndexWrite:
    """One thread's projection (None: drop its rows), applied by the writer."""

    thread_id: str
    update: Update | None

    def apply(self, index: Fts5Index) -> None:
        index.write(self.thread_id, self.update)
        try:
            index.conn.execute("DELETE FROM search_state")
        except sqlite3.OperationalError:
            pass  # never sealed: no table yet


@dataclass(frozen=True, slots=True)
class IndexSeal:
    """Record that the index is complete as of the newest change, if no thread is stale now
    (applied by the writer); returns whether it did."""

    def apply(self, index: Fts5Index) -> bool:
        index.conn.execute(_STATE)
        if index.stale(_LIVE):
            return False
        index.conn.execute(f"INSERT OR REPLACE INTO search_state (id, change) VALUES (0, ({_NEWEST}))")
        return True


def current_job(reader: Reader) -> bool:
    """Whether the index was sealed at the newest change (nothing written since it was complete)."""
    try:
        row = reader.tables.conn.execute(f"SELECT change = ({_NEWEST}) FROM search_state WHERE id = 0").fetchone()
    except sqlite3.OperationalError:
        return False  # never sealed
    return bool(row and row[0])


def stale_job(reader: Reader) -> list[str]:
    return Fts5Index(reader.tables.conn).stale(_LIVE)


def mark_job(reader: Reader, thread_id: str) -> Mark | None:
    return Fts5Index(reader.tables.conn).mark(thread_id)


def query_job(reader: Reader, query: SearchQuery) -> list[Hit]:
    return Fts5Index(reader.tables.conn).query(query)
