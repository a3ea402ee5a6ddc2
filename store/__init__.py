"""store: durable thread storage with the engine API (start/append/read/resume/fork/rollback/list).

Quick use::

    from store import SqliteStore

    async with SqliteStore.open("threads.db") as store:
        info = await store.start_thread(rollout.events.SessionMeta(cwd="/src"))
        seq = await store.append(info.id, lines, expected_seq=info.last_seq)
        thread = await store.read(info.id)          # ThreadInfo fields + turns
        child = await store.fork(info.id)           # zero-copy: a pointer, not a copy
        page = await store.list(limit=20)

``FileStore.open(codex_home)`` serves a Codex home (``sessions/``,
``archived_sessions/``, ``session_index.jsonl``) through the same API, and
``store.migrate.copy_threads(src, dst)`` moves threads between any two stores.
``MemoryStore`` has the same API and is the reference the tests hold every
backend to. Errors are :mod:`rollout.errors` classes (``ThreadNotFound``,
``ThreadArchived``, ``Conflict``, ``InvalidInput``, ``CorruptLog``,
``SchemaTooNew``, ``StoreError``).

Must not import: rollout.cli, rich.
"""

from .api import GitInfo, Page, ResumedThread, Thread, ThreadInfo, ThreadStatus
from .base import Store
from .files import FileStore
from .memory import MemoryStore
from .schema import Tuning
from .sqlite import SqliteStore

__all__ = [
    "FileStore",
    "GitInfo",
    "MemoryStore",
    "Page",
    "ResumedThread",
    "SqliteStore",
    "Store",
    "Thread",
    "ThreadInfo",
    "ThreadStatus",
    "Tuning",
]
