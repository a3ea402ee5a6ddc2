"""OpenAI Agents SDK ``SQLAlchemySession`` on PostgreSQL through asyncpg (``openai-agents[sqlalchemy]``).

Driven like :mod:`benchmarks.peers.agents_sqlite`: each turn is one ``add_items`` of its
Responses items (one transaction), ``get_items()`` reads the history back. One async engine
(``postgresql+asyncpg://``, the SDK's documented URL form) is shared by every session, with
the driver's schema as ``search_path``. Fork: the SDK has none; ``get_items`` then
``add_items`` on a new session id. Listing: no API lists sessions.

Imports the ``agents`` package and SQLAlchemy; nothing from ``store``.
"""

from __future__ import annotations

from agents.extensions.memory.sqlalchemy_session import SQLAlchemySession
from sqlalchemy.ext.asyncio import create_async_engine

from benchmarks.peers.agents_sqlite import AgentsDriver
from benchmarks.peers.postgres import DSN, OwnSchema


class AgentsPostgresDriver(OwnSchema, AgentsDriver):
    """Drives ``SQLAlchemySession`` on asyncpg: ``add_items`` per turn, ``get_items`` to resume."""

    name = "agents-pg"
    package = "openai-agents"
    durability = "add_items = 1 commit per turn (PostgreSQL via asyncpg)"
    how = ("SQLAlchemySession (postgresql+asyncpg) add_items per turn; get_items to resume; "
           "fork = get_items + add_items on a new id")

    async def open(self) -> None:
        self.own_schema()
        url = DSN.replace("postgresql://", "postgresql+asyncpg://", 1)
        self.engine = create_async_engine(url, connect_args={"server_settings": {"search_path": self.schema}})
        self.sessions = {}

    async def close(self) -> None:
        self.sessions.clear()
        await self.engine.dispose()

    def session(self, thread_id: str) -> SQLAlchemySession:
        if thread_id not in self.sessions:
            self.sessions[thread_id] = SQLAlchemySession(thread_id, engine=self.engine, create_tables=True)
        return self.sessions[thread_id]
