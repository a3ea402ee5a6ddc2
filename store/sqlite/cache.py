"""Replay builders per thread, shared by a SqliteStore's reader threads and its event loop.

:class:`TurnCache` holds, per thread id (LRU), a :class:`ReplayEntry`: a ``HistoryBuilder``
(turns) and a ``ContextBuilder`` (resume context), each fed through some seq, under a lock.
Readers (:mod:`store.sqlite.reader`) catch an entry up from the stored lines; the store's own
appends are fed to it as they commit (:func:`feed_written`, from :mod:`store.sqlite.upkeep`),
and its state is dumped for a snapshot when due (:func:`unsaved` on close).

Must not import: rollout.cli, rich, asyncio, sqlite3.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from replay import ContextBuilder, HistoryBuilder
from rollout import events as ev
from rollout.errors import EncodeError

__all__ = ["Due", "ReplayEntry", "TurnCache", "dumped", "feed_written", "unsaved"]


class ReplayEntry:
    """One thread's replay state: the turn builder, and the resume context builder.

    The context builder is loaded and fed only when a resume needs it, so plain
    reads never pay for it.
    """

    __slots__ = ("builder", "context", "context_seq", "dead", "lock", "saved", "seq")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.dead = False  # dropped from the cache (its thread was deleted): feed it no more
        self.builder: HistoryBuilder | None = None
        self.seq = 0
        self.saved = 0
        self.context: ContextBuilder | None = None
        self.context_seq = 0


class TurnCache:
    """Replay builders by thread id (LRU), shared by every reader thread and the store's feeder."""

    def __init__(self, capacity: int) -> None:
        self._capacity = max(capacity, 1)
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, ReplayEntry] = OrderedDict()

    def entry(self, thread_id: str) -> ReplayEntry:
        """The thread's entry, made (empty) if it has none."""
        with self._lock:
            entry = self._entries.get(thread_id)
            if entry is None:
                entry = self._entries[thread_id] = ReplayEntry()
                if len(self._entries) > self._capacity:
                    self._entries.popitem(last=False)
            self._entries.move_to_end(thread_id)
            return entry

    def find(self, thread_id: str) -> ReplayEntry | None:
        """The thread's entry if it has one."""
        with self._lock:
            return self._entries.get(thread_id)

    def entries(self) -> list[tuple[str, ReplayEntry]]:
        """Every entry, least recently used first."""
        with self._lock:
            return list(self._entries.items())

    def drop(self, thread_id: str) -> None:
        with self._lock:
            entry = self._entries.pop(thread_id, None)
        if entry is not None:
            entry.dead = True


#: ``(thread id, seq, (turns dump, context dump))``: a snapshot to save
Due = tuple[str, int, tuple[bytes, bytes]]


def feed_written(entry: ReplayEntry, thread_id: str, first_seq: int, lines: list[ev.Line], every: int) -> Due | None:
    """Feed lines just committed (``first_seq`` on) to the thread's cached builders, if they are current.

    Called on the event loop, in commit order; never waits for the entry's lock (a reader
    holding it catches the builders up itself). A new thread (``first_seq == 1``) gets both
    builders here; a builder that is behind (its thread was written while it was out of the
    cache) is left for the next read to catch up. Returns a snapshot to save once enough
    lines were fed since the last one: every ``every`` lines at first, then as the thread
    grows by half, so saving stays linear in its length.
    """
    if not entry.lock.acquire(blocking=False):
        return None
    try:
        if entry.dead:
            return None
        if first_seq == 1 and entry.builder is None:
            entry.builder, entry.context = HistoryBuilder(), ContextBuilder()
            entry.seq = entry.context_seq = entry.saved = 0
        if entry.builder is None or entry.seq != first_seq - 1:
            return None
        with_context = entry.context is not None and entry.context_seq == entry.seq
        try:
            entry.builder.feed_many(lines)
            if with_context:
                entry.context.feed_many(lines)  # type: ignore[union-attr]
        except BaseException:
            entry.builder = entry.context = None  # half fed: never reuse them
            raise
        entry.seq += len(lines)
        if with_context:
            entry.context_seq = entry.seq
        if not with_context or entry.seq - entry.saved < max(every, entry.saved // 2):
            return None
        return dumped(entry, thread_id)
    finally:
        entry.lock.release()


def unsaved(cache: TurnCache) -> list[Due]:
    """Snapshots of every cached thread whose builders are current and fed since their last save (closing)."""
    out = []
    for thread_id, entry in cache.entries():
        with entry.lock:
            if (not entry.dead and entry.builder is not None and entry.context is not None
                    and entry.context_seq == entry.seq > entry.saved):
                found = dumped(entry, thread_id)
                if found is not None:
                    out.append(found)
    return out


def dumped(entry: ReplayEntry, thread_id: str) -> Due | None:
    """The snapshot of an entry whose two builders are fed through ``entry.seq`` (call with
    ``entry.lock`` held); None when its state cannot be dumped. Either way the entry counts
    as saved at this seq, so a state that cannot be dumped is not tried again at every feed."""
    entry.saved = entry.seq
    try:
        dumps = entry.builder.dump(), entry.context.dump(by_reference=True)  # type: ignore[union-attr]
    except EncodeError:
        return None  # a state msgpack cannot hold (a huge integer): a snapshot is only a cache
    return thread_id, entry.seq, dumps
