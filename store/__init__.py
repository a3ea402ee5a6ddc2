"""store: durable thread storage with the engine API (start/append/read/resume/fork/rollback/list).

Quick use::

    from store import SqliteStore

    async with SqliteStore.open("threads.db") as store:      # or: store = await SqliteStore.open(...)
        info = await store.start_thread(rollout.events.SessionMeta(cwd="/src", source="cli"))
        seq = await store.append(info.id, lines, expected_seq=info.last_seq)
        thread = await store.read(info.id)          # Codex's v2 Thread, with turns
        child = await store.fork(info.id, at_turn=2) # keeps the first 2 turns; a pointer, not a copy
        page = await store.list(limit=20)           # what Codex's thread/list {} shows
        recent = await store.turns(info.id, start=-10)  # the last 10 turns, O(10) once indexed
        unsubscribe = store.subscribe(print)        # a Change after every committed write

``PostgresStore.open(dsn)`` keeps threads in a PostgreSQL database shared by many
processes and hosts (it needs the ``postgres`` extra, asyncpg, loaded only when the
name is first used). ``FileStore.open(codex_home)`` serves a Codex home (``sessions/``, ``archived_sessions/``,
``session_index.jsonl``) through the same API, and ``copy_threads(src, dst)`` moves threads
between any two stores. ``MemoryStore`` has the same API and is the reference the tests
hold every backend to. The API is written once in :class:`store.core.Store`; each backend
(``memory``, ``sqlite/``, ``files/``, ``postgres/``) supplies its primitives. Errors are
:mod:`rollout.errors` classes (``ThreadNotFound``, ``ThreadArchived``, ``Conflict``,
``InvalidInput``, ``CorruptLog``, ``SchemaTooNew``, ``StoreError``).

Must not import: rollout.cli, rich.
"""

from typing import TYPE_CHECKING

from rollout.lazy import exports

if TYPE_CHECKING:
    from .copy import copy_threads, iter_threads
    from .core import Opening, Store
    from .feed import Change
    from .files import FileStore
    from .memory import MemoryStore
    from .postgres import PostgresStore
    from .sqlite import SqliteStore
    from .thread import GitInfo, ImportResult, Page, ResumedThread, Thread, ThreadInfo, ThreadStatus, TurnSlice
    from .tuning import Tuning

# Each public name and the submodule defining it. They load on first use (PEP 562), so a
# program importing one small submodule (the CLI's `inspect` needs `store.state`) does not
# pay for every backend, sqlite3 and asyncio at start-up.
_WHERE = {
    "copy_threads": "copy", "iter_threads": "copy", "Opening": "core", "Store": "core", "Change": "feed",
    "FileStore": "files", "MemoryStore": "memory", "SqliteStore": "sqlite", "PostgresStore": "postgres",
    "GitInfo": "thread", "ImportResult": "thread", "Page": "thread", "ResumedThread": "thread",
    "Thread": "thread", "ThreadInfo": "thread", "ThreadStatus": "thread", "TurnSlice": "thread",
    "Tuning": "tuning",
}

__all__ = [
    "Change",
    "FileStore",
    "GitInfo",
    "ImportResult",
    "MemoryStore",
    "Opening",
    "Page",
    "PostgresStore",
    "ResumedThread",
    "SqliteStore",
    "Store",
    "Thread",
    "ThreadInfo",
    "ThreadStatus",
    "Tuning",
    "TurnSlice",
    "copy_threads",
    "iter_threads",
]


__getattr__, __dir__ = exports(__name__, _WHERE, needs={"PostgresStore": "asyncpg: pip install 'rollout-engine[postgres]'"})
