"""Index updates of appends, held back and written to the sidecar index in batches.

An append to a rollout file has succeeded once its lines are written and fsynced. The
sidecar index (:mod:`store.files.index`) is a cache of the files, so its row for the thread
need not be written in the same breath, and writing it there made an append cost several
times a plain ``write`` + ``fsync``. :class:`Pending` holds, per thread, what this store's
latest append left behind (:class:`Recent`: the file, its ``stat`` right after the write,
the thread's state) and uses it twice:

* the next append to the thread starts from it without reading the index, once a ``stat``
  of the path shows the very file the append left (same device, inode, size and mtime):
  nobody appended to it, moved it or replaced it meanwhile. Anything else and the append
  takes the path that looks the thread up in the index (and repairs it from the file);
* :meth:`Pending.flush` writes every held row in one index transaction. :class:`~store.files.FileStore` flushes before every other call, so its own
  reads, lookups and listings see the index in step with its appends; on a timer after
  appends, so other processes find it current soon; and on close.

Losing what is held (a crash between an append and the flush) loses nothing: the row left in
the index still records the file's earlier ``(size, mtime_ns)``, so the next lookup or listing
sees it is stale and re-reads the file, as after an append made by another program.
Idempotency keys are not in the file, so they are not held: an append with a key writes it to
the index at once, as before.

Synchronous; used from :class:`store.files.FileStore`'s worker thread.
Must not import: rollout.cli, rich, asyncio.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from rollout.errors import RolloutError

from ..state import ThreadState
from .catalog import Catalog

__all__ = ["Pending", "Recent"]

log = logging.getLogger("store.files")


def _signature(stat: os.stat_result) -> tuple[int, int, int, int]:
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns


@dataclass(frozen=True, slots=True)
class Recent:
    """What this store's latest append to one thread left: the file (``path``), its ``stat``
    right after the write, the thread's state then (as the index would give it back) and,
    for a thread kept in segments, every segment file."""

    path: str
    stat: os.stat_result
    state: ThreadState
    segments: list[str] | None

    def current(self) -> bool:
        """Whether ``path`` is still the file the append left, unchanged since."""
        try:
            return _signature(os.stat(self.path)) == _signature(self.stat)
        except OSError:
            return False

    def holds(self, fd: int) -> bool:
        """Whether the open file ``fd`` (opened at ``path``, now locked) is that file, unchanged."""
        return _signature(os.fstat(fd)) == _signature(self.stat)


class Pending:
    """The appends whose index update has not been written yet, one :class:`Recent` per thread."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._recent: dict[str, Recent] = {}

    def __bool__(self) -> bool:
        return bool(self._recent)

    def recent(self, thread_id: str) -> Recent | None:
        """The thread's held append if its file is still exactly as that append left it."""
        recent = self._recent.get(thread_id)
        return recent if recent is not None and recent.current() else None

    def hold(self, recent: Recent) -> None:
        self._recent[recent.state.id] = recent

    def flush(self) -> None:
        """Write what is held to the index in one transaction. Never raises: the index is a
        cache, so a failure is logged and the rows are left to read-repair."""
        if not self._recent:
            return
        recent, self._recent = self._recent, {}
        try:
            with self.catalog.index.transaction():
                for held in recent.values():
                    if held.current():  # else the index row is stale anyway and re-read on use
                        self.catalog.record(Path(held.path), held.state, held.segments, held.stat)
        except (OSError, RolloutError) as exc:
            log.warning("%s: the index is behind %d appended thread(s) until they are looked up: %s",
                        self.catalog.home.root, len(recent), exc)
