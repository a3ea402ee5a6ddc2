"""``SqliteStore``: the embedded default backend, one SQLite file in WAL mode.

Threads of execution:

* one **writer** thread owns the only writing connection; writes are grouped into one
  transaction per batch (:mod:`store.sqlite.group_commit`) and applied by
  :mod:`store.sqlite.command`. A caller returns only once its lines are durable.
* ``readers`` reader threads, each with a read-only connection, run every read inside
  one read transaction (a consistent WAL snapshot), round robin.
* two packer threads compress imports, train the zstd dictionary in the background
  once enough data exists, when writes pause (or when the store closes:
  :mod:`store.sqlite.upkeep`), and consolidate settled tails (:mod:`store.sqlite.consolidate`).

Each append becomes one chunk row, compressed by the caller before it is queued (zstd
with the store's dictionary, long strings split out as shared blobs, see :mod:`store.blobs`);
the writer thread only runs SQL. Once a thread's tail settles, its chunks are rewritten in
the background as fewer chunks at ``Tuning.settled_level`` (:mod:`store.sqlite.consolidate`).
Forks are pointers (:mod:`store.sqlite.reader`). Replay state is cached per thread, kept
current with the store's own writes and snapshotted (:mod:`store.sqlite.upkeep`); turn indexes (:mod:`store.turns`) are kept in the ``derived`` table. Writes
made by other processes on the same file reach this store's subscribers through the change
log (:mod:`store.sqlite.watch`). A database the process may not write is opened read-only:
reads work, writes raise ``StoreError`` naming the file.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import msgspec

from replay import MidTurn, ResumeContext, Turn, TurnSpan
from rollout import events as ev
from rollout.errors import InvalidInput, RolloutError, StoreError

from ..blobs import bulk, pack
from ..core import Opening, Store
from ..feed import Change
from ..listing import ListQuery
from ..search.hits import Hit, Mark, Update
from ..search.query import SearchQuery
from ..state import ThreadState
from ..tuning import Tuning
from ..write import Append, Command, Delete, Import
from .cache import TurnCache
from .command import PackedAppend, PackedImport, SaveDerived, apply
from .consolidate import Consolidator
from .group_commit import GroupCommit
from .reader import (
    Reader,
    derived_job,
    open_turn_job,
    raw_lines_job,
    read_lines_job,
    resume_job,
    spans_job,
    state_job,
    turns_job,
)
from .schema import SYNCHRONOUS, connect, migrate, translate
from .search import IndexSeal, IndexWrite, current_job, mark_job, query_job, stale_job
from .upkeep import Upkeep
from .watch import Watcher
from .writer import Writer

__all__ = ["SqliteStore"]

#: Bytes of appends queued while the writer is idle that make it start at once instead of at the
#: end of the event-loop iteration: packing that much takes the loop about a millisecond, which the
#: writer spends committing the first of them (many producers of large turns).
_EAGER_BYTES = 256 * 1024


def _guarded(fn: Callable[..., Any], args: tuple[Any, ...], **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except RolloutError:
        raise
    except (sqlite3.Error, msgspec.DecodeError, OSError) as exc:
        raise translate(exc) from exc


class _Lane:
    """A one-thread executor and the object that lives on that thread."""

    def __init__(self, name: str) -> None:
        self.executor = ThreadPoolExecutor(1, thread_name_prefix=name)
        self.obj: Any = None

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, _guarded, fn, args)


def writable(path: str) -> bool:
    """Whether this process may write the database at ``path`` (and its journal beside it)."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.exists(path):
        return os.access(path, os.W_OK) and os.access(folder, os.W_OK)
    return os.access(folder, os.W_OK)


class SqliteStore(Upkeep, Store):
    """Threads in one SQLite database.

    Args:
        path: the database file (created if missing).
        synchronous: SQLite ``synchronous`` level: ``"FULL"`` (default; every commit is
            fsynced), ``"NORMAL"``, ``"OFF"`` or ``"EXTRA"``.
        readers: reader threads (and connections).
        tuning: storage knobs (:class:`store.tuning.Tuning`).
        readonly: open without a writer; None (default): when the file may not be written.

    Attributes:
        watch_interval: seconds between two looks at the change log for other processes'
            writes (only while someone subscribes).
    """

    _keeps_derived = True
    watch_interval = 0.1

    def __init__(self, path: str | os.PathLike[str], *, synchronous: str = "FULL", readers: int = 2,
                 tuning: Tuning | None = None, readonly: bool | None = None) -> None:
        super().__init__()
        if str(synchronous).upper() not in SYNCHRONOUS:
            raise InvalidInput(f"synchronous must be one of {SYNCHRONOUS}, not {synchronous!r}")
        if isinstance(readers, bool) or not isinstance(readers, int) or readers < 1:
            raise InvalidInput(f"readers must be an int >= 1, not {readers!r}")
        self.path = os.fspath(path)
        self.tuning = tuning or Tuning()
        self.readonly = not writable(self.path) if readonly is None else readonly
        self._synchronous = str(synchronous).upper()
        self._writer = _Lane("store-writer")
        self._readers = [_Lane(f"store-reader-{i}") for i in range(readers)]
        self._packers = ThreadPoolExecutor(2, thread_name_prefix="store-packer")
        self._commits = GroupCommit(self._writer.executor, self._run_batch, max_batch=self.tuning.max_batch,
                                    committed=self._committed, eager_weight=_EAGER_BYTES)
        self._training: asyncio.Task[None] | None = None
        self._train_timer: asyncio.TimerHandle | None = None
        self._train_due = 0.0  # loop time when training became due (the timer is armed)
        self._last_batch = 0.0  # loop time of the last committed batch
        self._consolidator = Consolidator(self._read, self._pack, self._submit, self._dictionary, self.tuning,
                                          busy=self._saturated)
        self._snapshots: set[asyncio.Task[None]] = set()
        self._feeds = 0  # feeds scheduled on the event loop and not run yet
        self._train_at = self.tuning.dictionary_after
        self._turn = 0
        self._cache = TurnCache(self.tuning.cached_threads)
        self._closed = False
        self._origin = uuid.uuid4().hex
        self._watcher: Watcher | None = None

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, synchronous: str = "FULL", readers: int = 2,
             tuning: Tuning | None = None, readonly: bool | None = None) -> Opening[SqliteStore]:
        """Open (creating or migrating) the database: ``async with SqliteStore.open(path) as store``,
        or ``store = await SqliteStore.open(path)`` and ``await store.close()`` later.

        Raises:
            SchemaTooNew: the database was written by a newer rollout-engine.
            CorruptLog: the file is not a SQLite database.
            StoreError: it cannot be opened.
        """
        return Opening(cls(path, synchronous=synchronous, readers=readers, tuning=tuning, readonly=readonly))

    async def _start(self) -> None:
        if not self.readonly:
            self._writer.obj = await self._writer.call(self._open_writer)
        elif not os.path.exists(self.path):
            raise StoreError(f"{self.path}: no such database (and it is read-only here)")
        for lane in self._readers:
            lane.obj = await lane.call(self._open_reader)

    def _open_writer(self) -> Writer:
        conn = connect(self.path, synchronous=self._synchronous)
        try:
            migrate(conn)
            return Writer(conn, self.tuning, functools.partial(apply, origin=self._origin))
        except BaseException:
            conn.close()
            raise

    def _open_reader(self) -> Reader:
        return Reader(connect(self.path, synchronous=self._synchronous, readonly=True,
                              immutable=self.readonly))

    async def _stop(self) -> None:
        if self._watcher is not None:
            await self._watcher.stop()
        self._train_if_due()  # the file this store leaves behind is compressed with a dictionary
        if self._training is not None:
            await self._training
        await self._save_unsaved()
        while self._snapshots:  # a snapshot being compressed still gets saved
            await asyncio.gather(*self._snapshots)
        if self._writer.obj is not None:  # tails settled by what is queued still get consolidated
            await self._commits.drain()
            await self._consolidator.close()
        self._closed = True
        if self._writer.obj is not None:
            await self._commits.drain()  # what is queued still commits
        failed: list[RolloutError] = []
        for lane in (self._writer, *self._readers):
            try:
                if lane.obj is not None:
                    await lane.call(lane.obj.close)
            except RolloutError as exc:  # keep closing the others; report the first failure
                failed.append(exc)
            finally:
                lane.obj = None
                lane.executor.shutdown(wait=True)
        self._packers.shutdown(wait=True)
        if failed:
            raise failed[0]

    # ------------------------------------------------------------------ writes

    async def _write(self, command: Command) -> Any:
        if isinstance(command, Import):
            t = self.tuning
            chunks = await self._pack(bulk, command.raw, blob_min=t.blob_min, dictionary=self._dictionary(),
                                      level=t.bulk_level, chunk_lines=t.chunk_lines, chunk_bytes=t.chunk_bytes)
            return await self._submit(PackedImport(command.state, chunks), _EAGER_BYTES)
        if isinstance(command, Append) and command.raw and self._writer.obj is not None:
            # Packed here, on the caller's side: the writer thread's serial path only runs SQL.
            # (A turn packs in well under a millisecond; zstd releases the GIL meanwhile.)
            packed = _guarded(pack, (command.raw,), **self._append_packing())
            return await self._submit(PackedAppend(command, packed), packed.size)
        result = await self._submit(command)
        if isinstance(command, Delete):
            self._cache.drop(command.thread_id)  # its replay builder is no use any more
            return None
        return result

    def _append_packing(self) -> dict[str, Any]:
        t = self.tuning
        return {"blob_min": t.blob_min, "dictionary": self._dictionary(), "level": t.append_level}

    def _dictionary(self) -> Any:
        writer: Writer | None = self._writer.obj
        if writer is None:
            raise StoreError(f"{self.path} is read-only: cannot write to it")
        return writer.dictionary

    async def _submit(self, command: Any, weight: int = 0) -> Any:
        if self._closed:
            raise StoreError("store is closed")
        if self._writer.obj is None:
            raise StoreError(f"{self.path} is read-only: cannot {_verb(command)}")
        return await self._commits.submit(command, weight)

    def _run_batch(self, commands: list[Any]) -> list[tuple[bool, Any]]:
        return _guarded(self._writer.obj.run, (commands,))

    # ------------------------------------------------------------------ packing and the dictionary

    async def _pack(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        call = functools.partial(fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._packers, _guarded, call, ())

    # ------------------------------------------------------------------ the change feed and derived data

    def subscribe(self, callback: Callable[[Change], None]) -> Callable[[], None]:
        """As :meth:`Store.subscribe`; other processes' writes to the file are told too (after
        up to :attr:`watch_interval` seconds)."""
        unsubscribe = super().subscribe(callback)
        if self._watcher is None and self._status == "open":
            self._watcher = Watcher(self._open_reader, self._origin, self._feed.emit, self.watch_interval)
            self._watcher.start()
        return unsubscribe

    async def _caught_up(self) -> None:
        if self._watcher is not None:
            await self._watcher.catch_up()

    async def _derived(self, thread_id: str, name: str, parts: Sequence[int] | None) -> tuple[ThreadState, dict[int, bytes]]:
        return await self._read(derived_job, thread_id, name, parts)

    async def _save_derived(self, thread_id: str, name: str, parts: dict[int, bytes], count: int) -> None:
        if not self._closed and self._writer.obj is not None:
            await self._submit(SaveDerived(thread_id, name, parts, count))

    # ------------------------------------------------------------------ reads

    async def _read(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self._closed:
            raise StoreError("store is closed")
        self._turn = (self._turn + 1) % len(self._readers)
        lane = self._readers[self._turn]
        return await lane.call(lane.obj.snapshot, fn, lane.obj, *args)

    async def _compute(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self._closed:
            raise StoreError("store is closed")
        return await self._pack(fn, *args)

    async def _state(self, thread_id: str) -> ThreadState:
        return await self._read(state_job, thread_id)

    async def _lines(self, thread_id: str, after: int, upto: int | None) -> list[ev.Line]:
        return await self._read(read_lines_job, thread_id, after, upto)

    async def _raw(self, thread_id: str) -> list[bytes]:
        return await self._read(raw_lines_job, thread_id)

    async def _page(self, query: ListQuery) -> list[ThreadState]:
        return await self._read(Reader.list_page, query)

    async def _turns(self, thread_id: str, items_view: str, policy: str = "extended") -> tuple[ThreadState, list[Turn]]:
        if policy != "extended":  # the cached builders replay the extended view; the turn index serves the other
            return await super()._turns(thread_id, items_view, policy)
        row, turns, due = await self._read(turns_job, self._cache, thread_id, items_view, self.tuning.snapshot_every)
        if due is not None:
            self._snapshot_later(*due)
        return row.state, turns

    async def _resumed(self, thread_id: str) -> tuple[ThreadState, list[Turn], ResumeContext]:
        row, turns, due, context = await self._read(resume_job, self._cache, thread_id, self.tuning.snapshot_every)
        if due is not None:
            self._snapshot_later(*due)
        return row.state, turns, context

    async def _spans(self, thread_id: str) -> tuple[ThreadState, list[TurnSpan], MidTurn | None]:
        return await self._read(spans_job, self._cache, thread_id)

    async def _open_turn(self, thread_id: str) -> tuple[ThreadState, MidTurn | None]:
        return await self._read(open_turn_job, self._cache, thread_id)


    # ------------------------------------------------------------------ search (store.sqlite.search)

    async def _index_stale(self) -> list[str]:
        if self._writer.obj is None:
            return []  # read-only: search what is indexed
        return await self._read(stale_job)

    async def _index_current(self) -> bool:
        return self._writer.obj is None or await self._read(current_job)

    async def _index_seal(self) -> None:
        await self._submit(IndexSeal())

    async def _index_mark(self, thread_id: str) -> Mark | None:
        return await self._read(mark_job, thread_id)

    async def _index_write(self, thread_id: str, update: Update | None) -> None:
        await self._submit(IndexWrite(thread_id, update))

    async def _index_query(self, query: SearchQuery) -> list[Hit]:
        return await self._read(query_job, query)

def _verb(command: Any) -> str:
    """What a write command would have done, for the read-only error."""
    return {"Append": "append", "Start": "start a thread", "Fork": "fork", "SetName": "name a thread",
            "SetArchived": "archive or unarchive", "Delete": "delete a thread",
            "PackedImport": "import", "PackedAppend": "append"}.get(type(command).__name__, "write to it")

