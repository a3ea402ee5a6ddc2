"""OpenAI Agents SDK sessions (openai-agents): ``SQLiteSession`` and ``AdvancedSQLiteSession``.

A session holds Responses-API input items, which is exactly what Codex's ``response_item``
payloads are; each turn is one ``add_items`` call (one transaction), as ``Runner.run`` does at
the end of a run, and ``get_items()`` reads the whole history back. Event messages (UI events)
are not model items and are not stored.

Fork: ``SQLiteSession`` has none; the SDK's sessions docs copy history with ``get_items`` then
``add_items`` on a new session id. ``AdvancedSQLiteSession`` forks in place with
``create_branch_from_turn`` (a branch of the same session, starting at its last user turn).
Listing: neither class has an API that lists sessions.

Imports the ``agents`` package; nothing from ``store``.
"""

from __future__ import annotations

from typing import Any

from agents import SQLiteSession
from agents.extensions.memory import AdvancedSQLiteSession

from benchmarks.peers import Driver, decode, envelope
from benchmarks.workload import Thread


class AgentsDriver(Driver):
    """Drives ``SQLiteSession``: ``add_items`` per turn, ``get_items`` to resume."""

    name = "agents"
    package = "openai-agents"
    durability = "add_items = 1 commit per turn (WAL, synchronous=FULL)"
    how = "SQLiteSession.add_items per turn; get_items to resume; fork = get_items + add_items on a new id"

    async def open(self) -> None:
        self.db = self.root / "sessions.sqlite"
        self.sessions: dict[str, SQLiteSession] = {}

    async def close(self) -> None:
        for session in self.sessions.values():
            session.close()
        self.sessions.clear()

    def session(self, thread_id: str) -> SQLiteSession:
        """The open session for ``thread_id``, created on first use."""
        if thread_id not in self.sessions:
            self.sessions[thread_id] = SQLiteSession(thread_id, self.db)
        return self.sessions[thread_id]

    def prepare(self, thread: Thread) -> list[list[dict]]:
        turns = []
        for turn in thread.turns:
            items = []
            for line in turn:
                kind, payload = envelope(decode(line))
                if kind == "response_item":
                    items.append(payload)
            turns.append(items)
        return turns

    async def append_thread(self, thread_id: str, turns: Any) -> None:
        session = self.session(thread_id)
        for items in turns:
            await session.add_items(items)

    async def read_latest(self, thread_id: str) -> int:
        return len(await self.session(thread_id).get_items())

    async def fork(self, thread_id: str, new_id: str) -> None:
        items = await self.session(thread_id).get_items()
        await self.session(new_id).add_items(items)


class AdvancedAgentsDriver(AgentsDriver):
    """Drives ``AdvancedSQLiteSession`` (turn structure + branching) the same way."""

    name = "agents-advanced"
    durability = "add_items = 1 commit per turn, items + structure rows"
    how = ("AdvancedSQLiteSession.add_items per turn; get_items to resume; "
           "fork = create_branch_from_turn(last user turn) inside the session")

    def session(self, thread_id: str) -> SQLiteSession:
        if thread_id not in self.sessions:
            self.sessions[thread_id] = AdvancedSQLiteSession(session_id=thread_id, db_path=self.db,
                                                             create_tables=True)
        return self.sessions[thread_id]

    async def fork(self, thread_id: str, new_id: str) -> None:
        session = self.session(thread_id)
        turns = await session.get_conversation_turns()
        await session.create_branch_from_turn(max(t["turn"] for t in turns), new_id)
        await session.switch_to_branch("main")
