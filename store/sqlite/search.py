"""The search index of a ``SqliteStore``: FTS5 tables in the store's own database.

Reads run on the reader threads like every other read (:func:`stale_job`,
:func:`mark_job`, :func:`query_job`); a projection is one :class:`IndexWrite` command,
committed by the writer in its group commit like any write, so the index never needs a
second writing connection. The statements are :class:`store.search.fts5.Fts5Index`'s;
the tables come with schema version 4.

Must not import: rollout.cli, rich, asyncio.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..search.fts5 import Fts5Index
from ..search.hits import Hit, Mark, Update
from ..search.query import SearchQuery
from .reader import Reader

__all__ = ["IndexWrite", "mark_job", "query_job", "stale_job"]

_LIVE = "SELECT id, last_seq FROM threads WHERE deleted = 0"


@dataclass(frozen=True, slots=True)
class IndexWrite:
    """One thread's projection (None: drop its rows), applied by the writer."""

    thread_id: str
    update: Update | None

    def apply(self, index: Fts5Index) -> None:
        index.write(self.thread_id, self.update)


def stale_job(reader: Reader) -> list[str]:
    return Fts5Index(reader.tables.conn).stale(_LIVE)


def mark_job(reader: Reader, thread_id: str) -> Mark | None:
    return Fts5Index(reader.tables.conn).mark(thread_id)


def query_job(reader: Reader, query: SearchQuery) -> list[Hit]:
    return Fts5Index(reader.tables.conn).query(query)
