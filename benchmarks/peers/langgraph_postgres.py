"""LangGraph ``AsyncPostgresSaver`` (langgraph-checkpoint-postgres): one checkpoint per turn.

The same messages state as :mod:`benchmarks.peers.langgraph_sqlite` (built by its converter),
written with the Postgres saver on psycopg 3: one ``aput`` of the whole state per turn (one
commit, ``synchronous_commit`` as the server has it: on). Fork: as for SQLite, the latest
checkpoint is put under the new thread id (``acopy_thread`` exists on the class but the async
Postgres saver does not implement it: 3.2.0 raises NotImplementedError).
Listing: ``alist(None)`` walked newest first and deduplicated by thread id.

Imports langgraph (sqlite and postgres savers) and psycopg; nothing from ``store``.
"""

from __future__ import annotations

from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

from benchmarks.peers.langgraph_sqlite import LangGraphDriver
from benchmarks.peers.postgres import DSN, OwnSchema, with_search_path


class LangGraphPostgresDriver(OwnSchema, LangGraphDriver):
    """Drives ``AsyncPostgresSaver`` in a schema of its own, one checkpoint per turn."""

    name = "langgraph-pg"
    package = "langgraph-checkpoint-postgres"
    durability = "aput = 1 commit per turn (PostgreSQL, synchronous_commit=on)"
    how = ("AsyncPostgresSaver.aput of the whole messages state per turn; fork = latest checkpoint put "
           "under the new thread id (acopy_thread is not implemented); list = alist(None) deduplicated by thread id")

    async def open(self) -> None:
        self.own_schema()
        self._cm = AsyncPostgresSaver.from_conn_string(with_search_path(DSN, self.schema))
        self.saver = await self._cm.__aenter__()
        await self.saver.setup()
        self.heads = getattr(self, "heads", {})
