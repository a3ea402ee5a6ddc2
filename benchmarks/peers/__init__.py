"""One driver per thread store, all with the same async interface, so one harness times them all.

A driver owns a directory. The harness calls ``prepare`` (untimed: turns Codex lines into the
peer's own objects, as an application would already hold them), then times ``append_thread``,
``read_latest``, ``fork`` and ``list_threads``, and reads ``bytes_on_disk``. ``append_thread``
continues a thread when called again with later turns. Each peer module imports its package at
import time; ``load`` turns an ImportError into a "not available" reason instead of a crash.

Imports no peer package itself (each lives in its own module) and nothing from ``store``.
"""

from __future__ import annotations

import importlib
import sqlite3
from abc import ABC, abstractmethod
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import msgspec

from benchmarks.workload import Thread

__all__ = ["PEERS", "RESPONSE_ITEM_TYPES", "Driver", "Loaded", "NotSupported", "decode", "envelope", "load"]

#: name -> "module:Class"; the order is the table's row order, ``ours`` first.
PEERS: dict[str, str] = {
    "ours": "benchmarks.peers.ours:OursDriver",
    "langgraph": "benchmarks.peers.langgraph_sqlite:LangGraphDriver",
    "agents": "benchmarks.peers.agents_sqlite:AgentsDriver",
    "agents-advanced": "benchmarks.peers.agents_sqlite:AdvancedAgentsDriver",
    "ours-pg": "benchmarks.peers.ours_postgres:OursPostgresDriver",
    "langgraph-pg": "benchmarks.peers.langgraph_postgres:LangGraphPostgresDriver",
    "agents-pg": "benchmarks.peers.agents_postgres:AgentsPostgresDriver",
    "eventsourcing": "benchmarks.peers.eventsourcing_sqlite:EventSourcingDriver",
    "jsonl": "benchmarks.peers.jsonl:JsonlDriver",
    "jsonl-fsync": "benchmarks.peers.jsonl:JsonlFsyncDriver",
}

#: Response item types as Codex persists them; old pre-envelope files put these at top level.
RESPONSE_ITEM_TYPES = frozenset({
    "message", "agent_message", "reasoning", "local_shell_call", "function_call", "function_call_output",
    "custom_tool_call", "custom_tool_call_output", "tool_search_call", "tool_search_output",
    "web_search_call", "image_generation_call", "compaction", "compaction_summary", "context_compaction",
})

_DECODE = msgspec.json.Decoder()


class NotSupported(Exception):
    """The peer offers no way to do this operation; the table shows the reason."""


class Driver(ABC):
    """The uniform face of one thread store. Subclasses set the class attributes."""

    name: ClassVar[str]
    package: ClassVar[str]          # distribution name, for the version column
    durability: ClassVar[str]       # what one append guarantees, in a few words
    how: ClassVar[str]              # how the peer is driven, for RESULTS.md

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    @classmethod
    def version(cls) -> str:
        """Installed version of ``package``, or ``"?"``."""
        try:
            return metadata.version(cls.package)
        except metadata.PackageNotFoundError:
            return "?"

    async def open(self) -> None:
        """Open connections; called once before use."""

    async def close(self) -> None:
        """Close connections; leaves everything on disk."""

    async def destroy(self) -> None:
        """Remove what the driver keeps outside ``root`` (a server-side schema); called after the last close."""

    async def reopen(self) -> None:
        """Close and open again, so reads start cold in the process (the OS cache stays warm)."""
        await self.close()
        await self.open()

    def prepare(self, thread: Thread) -> Any:
        """Turn the thread's lines into what ``append_thread`` takes. Untimed."""
        return thread.turns

    @abstractmethod
    async def append_thread(self, thread_id: str, turns: Any) -> None:
        """Append ``turns`` (a slice of ``prepare``'s result) one turn at a time, durably."""

    @abstractmethod
    async def read_latest(self, thread_id: str) -> int:
        """Load the latest state of a thread as the peer would to resume it; returns its item count."""

    @abstractmethod
    async def fork(self, thread_id: str, new_id: str) -> None:
        """Make ``new_id`` a copy of ``thread_id`` the way the peer would."""

    async def list_threads(self, limit: int | None) -> list[str]:
        """Ids of up to ``limit`` threads (all when None), newest first where the peer can."""
        raise NotSupported("no API lists threads")

    def bytes_on_disk(self) -> int:
        """Bytes of every file under ``root`` after folding SQLite WAL files into their databases."""
        for db in self.root.rglob("*.sqlite"):
            checkpoint_wal(db)
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())


def checkpoint_wal(db: Path) -> None:
    """Fold the WAL into the database from a side connection, so file sizes mean something."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


@dataclass
class Loaded:
    """A driver class, or why it cannot run here."""

    name: str
    cls: type[Driver] | None
    reason: str = ""


def load(name: str) -> Loaded:
    """Import the driver registered as ``name``; a missing package becomes ``reason``."""
    module_name, _, class_name = PEERS[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        return Loaded(name, None, f"not available: {exc}")
    return Loaded(name, getattr(module, class_name))


def decode(line: bytes) -> dict:
    """One line as a dict; lines that are not JSON objects become ``{}``."""
    try:
        obj = _DECODE.decode(line)
    except msgspec.DecodeError:
        return {}
    return obj if isinstance(obj, dict) else {}


def envelope(obj: dict) -> tuple[str, dict]:
    """``(type, payload)`` of a line, mapping pre-envelope response items to ``response_item``."""
    payload = obj.get("payload")
    if isinstance(payload, dict):
        return str(obj.get("type", "")), payload
    if obj.get("type") in RESPONSE_ITEM_TYPES:
        return "response_item", obj
    return "legacy", obj
