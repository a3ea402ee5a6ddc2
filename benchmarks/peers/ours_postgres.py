"""Adapter slot ``ours-pg``: rollout-engine's ``PostgresStore`` behind the same driver interface.

Driven exactly like ``ours`` (:mod:`benchmarks.peers.ours`): ``start_thread`` then one durable
``append`` per turn, ``resume`` (turns + model context), ``fork``, ``list`` pages; in a schema of
its own on the benchmark's server (:mod:`benchmarks.peers.postgres`), dropped after the run.

Imports ``store`` (an ImportError, e.g. no asyncpg, becomes the "not available" row).
"""

from __future__ import annotations

from benchmarks.peers.ours import OursDriver
from benchmarks.peers.postgres import DSN, OwnSchema
from store import PostgresStore  # an ImportError here becomes the "not available" row


class OursPostgresDriver(OwnSchema, OursDriver):
    """Drives ``store.PostgresStore``: ``start_thread`` + one ``append`` per turn."""

    name = "ours-pg"
    package = "rollout-engine"
    durability = "append = 1 commit per turn (PostgreSQL, synchronous_commit=on)"
    how = ("PostgresStore: start_thread(meta line), append(thread_id, lines) per turn (group commit, one "
           "statement per batch); resume = store.resume; fork = store.fork (a pointer); list = store.list pages")

    async def open(self) -> None:
        self._cm = PostgresStore.open(DSN, schema=self.own_schema())
        self.store = await self._cm.__aenter__()  # type: ignore[assignment]
        self.ids: dict[str, str] = getattr(self, "ids", {})
