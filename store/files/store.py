"""``FileStore``: a Codex home served through the :class:`~store.core.Store` API.

Threads live where Codex keeps them (``sessions/YYYY/MM/DD/rollout-<local time>-<id>.jsonl``,
``archived_sessions/``, names in ``session_index.jsonl``, cold ``.jsonl.zst`` files; the
layout is :mod:`rollout.codex_home`), so Codex can resume what this store writes and this
store serves years of existing threads. Nothing rewrites an existing line:

* a new thread (start, fork, import) is written under a temporary name, fsynced, and
  hard-linked into place; a fork copies its source's lines byte for byte after its own
  ``session_meta`` (``forked_from_id``), as Codex does;
* appends go through :class:`rollout.RolloutWriter`: an exclusive ``flock`` held while
  the expected seq is checked and the batch written (a second writer gets
  ``WriterLocked``), a torn last line fenced off with a newline first, one fsync per
  batch. Once the lines are written the append has succeeded. Its index update is held
  back (:mod:`store.files.pending`) and written in batches: before any other call, a
  moment after the last append (``INDEX_DELAY``) and on close. The next append to the
  same thread starts from what the last one left, without reading the index, when one
  ``stat`` shows the file untouched since; a crash before the flush leaves an index row
  that the next lookup finds stale and repairs from the file;
* rollback appends ``thread_rolled_back``; names append to ``session_index.jsonl``;
  archive and unarchive move the file (unarchive also touches it: "updated now").

Seq numbers count the file's decodable lines (Codex's reader skips the rest). Lookups and
listing use the sidecar index (:mod:`store.files.catalog`), in ``.rollout-engine/`` inside
the home, or in memory when the home is read-only (then every write raises ``StoreError``
naming the home). The directory check behind listing runs at most every
``refresh_interval`` seconds, while the rows of every page are always verified against
their files. All file and index work runs on one worker thread (:mod:`store.files.worker`),
so each call is atomic within the store and the event loop never blocks on the disk; the
write commands themselves are :mod:`store.files.writing`.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from rollout import events as ev
from rollout.codex_home import CodexHome
from rollout.errors import (
    CorruptLog,
    EmptyRollout,
    RolloutError,
    StoreError,
    ThreadArchived,
    UnreadableRollout,
    WriterError,
    WriterLocked,
)
from rollout.reader import Problem, ReadResult, iter_rollout, read_rollout
from rollout.writer import Durability

from ..clock import thread_key
from ..core import Opening, Store
from ..line import check_name, check_policy, check_seq, encode_checked
from ..listing import ListQuery
from ..search.fts5 import Fts5Index
from ..search.hits import Hit, Mark, Update
from ..search.query import SearchQuery
from ..state import ThreadState
from ..write import (
    Append,
    Command,
)
from .catalog import Catalog, IndexReport
from .index import FileIndex, ThreadRow, translated_sqlite
from .pending import Pending
from .segments import join_reads
from .worker import Worker
from .writing import FileWrites

__all__ = ["FileStore"]

T = TypeVar("T")

INDEX_DELAY = 0.2  # seconds from an append to the write of its held index update, at the latest


class FileStore(FileWrites, Store):
    """Threads as rollout files in a Codex home.

    Args:
        codex_home: the ``$CODEX_HOME`` directory (created if missing and allowed).
        refresh_interval: seconds between directory checks made by ``list`` (0: every
            call). Lookups by id always check.
        durability: ``RolloutWriter`` fsync mode for appends.
        turn_index: a replay policy (``"limited"``, say): write the turn index of that policy
            whenever a file is read to index it (opening a home for the first time then
            replays every thread once more), so that a thread's first read needs no replay.
            None (default): turn indexes are written by the first read.
    """

    def __init__(self, codex_home: str | os.PathLike[str], *, refresh_interval: float = 1.0,
                 durability: Durability = "batch", turn_index: str | None = None) -> None:
        super().__init__()
        self.turn_index = None if turn_index is None else check_policy(turn_index)
        self.home = CodexHome(codex_home)
        self.refresh_interval = refresh_interval
        self.durability = durability
        self.readonly = False
        self._worker = Worker("filestore")
        self._catalog: Catalog | None = None
        self._pending: Pending | None = None
        self._flush_timer: asyncio.TimerHandle | None = None
        self._search: Fts5Index | None = None
        self._synced_at = 0.0

    @classmethod
    def open(cls, codex_home: str | os.PathLike[str], *, refresh_interval: float = 1.0,
             durability: Durability = "batch", turn_index: str | None = None) -> Opening[FileStore]:
        """``async with FileStore.open(codex_home) as store`` (or ``await FileStore.open(...)``).

        Opening brings the sidecar index (``.rollout-engine/index.sqlite``) in step with
        the files, rebuilding it when it is missing or unreadable; :attr:`report` says what
        was repaired. A home this process may not write is served read-only.

        Raises:
            StoreError: the home or its index cannot be opened.
        """
        return Opening(cls(codex_home, refresh_interval=refresh_interval, durability=durability,
                           turn_index=turn_index))

    async def _start(self) -> None:
        await self._call(self._open_catalog)

    def _open_catalog(self) -> None:
        root = self.home.root
        if not root.exists():
            try:
                root.mkdir(parents=True)
            except OSError as exc:
                raise StoreError(f"{root}: cannot create the Codex home: {exc.strerror or exc}") from exc
        if not root.is_dir():
            raise StoreError(f"{root}: not a directory")
        self.readonly = not os.access(root, os.W_OK)
        index = FileIndex(":memory:" if self.readonly else self.home.sidecar / "index.sqlite")
        self._catalog = Catalog(self.home, index, turn_index=self.turn_index)
        self._pending = Pending(self._catalog)
        self._search = Fts5Index(index.connection)
        with translated_sqlite("create the search index"):
            self._search.create()
        self._sync()

    async def _stop(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        if self._catalog is not None:
            await self._worker.call(self._close_catalog)
        self._worker.shutdown()

    def _close_catalog(self) -> None:
        try:
            self._flush()
        finally:
            self.catalog.index.close()

    @property
    def report(self) -> IndexReport:
        """What was repaired in the index since the store was opened."""
        return self.catalog.report

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            raise StoreError("store is not open")
        return self._catalog

    async def refresh(self, *, deep: bool = False) -> IndexReport:
        """Re-check the files now; ``deep`` also stats every file (finds outside appends)."""
        self._check()
        return await self._call(self._sync, deep)

    async def problems(self, thread_id: str) -> list[Problem]:
        """Lines of the thread's file that could not be read (torn tail, junk), for diagnosis."""
        self._check()
        key = thread_key(thread_id)
        return await self._call(lambda: self._read(self.catalog.locate(key)).problems)

    async def find_by_name(self, name: str) -> str | None:
        """The newest thread whose current name is ``name`` and whose file is readable."""
        self._check()
        return await self._call(self.catalog.find_by_name, check_name(name))

    # ------------------------------------------------------------------ plumbing

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` on the worker, after writing the index updates held back by appends."""
        return await self._run(self._flushed, fn, *args)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._status == "closed":
            raise StoreError("FileStore is closed")
        return await self._worker.call(_translated, fn, *args)

    def _flushed(self, fn: Callable[..., T], *args: Any) -> T:
        self._flush()
        return fn(*args)

    def _flush(self) -> None:
        if self._pending is not None:
            self._pending.flush()

    @property
    def pending(self) -> Pending:
        if self._pending is None:
            raise StoreError("store is not open")
        return self._pending

    def _flush_later(self) -> None:
        """Write the held index updates ``INDEX_DELAY`` from now, unless that is already planned."""
        if self._flush_timer is None and self._status == "open":
            self._flush_timer = asyncio.get_running_loop().call_later(INDEX_DELAY, self._flush_now)

    def _flush_now(self) -> None:
        self._flush_timer = None
        if self._status == "open":  # closing flushes by itself
            self._worker.post(self._flush)  # never raises

    async def _compute(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._call(fn, *args)

    def _sync(self, deep: bool = False) -> IndexReport:
        report = self.catalog.sync(deep=deep)
        self._synced_at = time.monotonic()
        return report

    def _read(self, row: ThreadRow) -> ReadResult:
        """The thread's log: its file, or its segment files one after another."""
        try:
            if row.segments:
                return join_reads([read_rollout(self.home.root / rel) for rel in row.segments])
            return read_rollout(self.catalog.path(row))
        except (EmptyRollout, UnreadableRollout) as exc:
            raise CorruptLog(f"thread {row.id}: {exc}") from exc
        except FileNotFoundError as exc:
            raise CorruptLog(f"thread {row.id}: a segment file went missing: {exc.filename}") from exc

    def _writable(self, thread_id: str) -> ThreadRow:
        row = self.catalog.locate(thread_id)
        if row.archived:
            raise ThreadArchived(thread_id)
        return row

    def _plain(self, row: ThreadRow) -> Path:
        """The thread's file, decompressed first when it is a ``.jsonl.zst`` (before a write)."""
        path = self.catalog.path(row)
        plain = self.home.materialize(path)
        if plain != path:
            self._moved(row, plain)
        return plain

    def _moved(self, row: ThreadRow, target: Path, segments: list[str] | None = None) -> ThreadRow:
        """Record the thread's file (its newest segment's) at ``target``; ``segments``: every segment's new place."""
        self.catalog.index.drop_file(row.path)
        rel = self.home.relative(target)
        if segments is None and row.segments:
            segments = [*row.segments[:-1], rel]
        return self.catalog.record(target, self.catalog.state(row), segments)

    # ------------------------------------------------------------------ writes

    async def _write(self, command: Command) -> Any:
        if self.readonly:
            raise StoreError(f"{self.home.root} is read-only: cannot write to this Codex home")
        if isinstance(command, Append) and command.new_segment is None:
            done = await self._run(self._append, command)  # leaves the index updates held
            self._flush_later()
            return done
        return await self._call(self._apply, command)

    # ------------------------------------------------------------------ reads

    _keeps_derived = True

    async def _derived(self, thread_id: str, name: str, parts: Sequence[int] | None) -> tuple[ThreadState, dict[int, bytes]]:
        return await self._call(self._derived_now, thread_id, name, parts)

    def _derived_now(self, thread_id: str, name: str, parts: Sequence[int] | None) -> tuple[ThreadState, dict[int, bytes]]:
        state = self.catalog.state(self.catalog.locate(thread_id))
        return state, self.catalog.index.derived(thread_id, name, parts)

    async def _save_derived(self, thread_id: str, name: str, parts: dict[int, bytes], count: int) -> None:
        await self._call(self.catalog.index.save_derived, thread_id, name, parts, count)

    async def _state(self, thread_id: str) -> ThreadState:
        return await self._call(lambda: self.catalog.state(self.catalog.locate(thread_id)))

    async def _exists(self, thread_id: str) -> bool:
        return await self._call(self.catalog.taken, thread_id)  # no directory sync for a miss

    async def _lines(self, thread_id: str, after: int, upto: int | None) -> list[ev.Line]:
        return await self._call(lambda: self._read(self.catalog.locate(thread_id)).lines[after:upto])

    async def _raw(self, thread_id: str) -> list[bytes]:
        return await self._call(self._raw_now, thread_id)

    def _raw_now(self, thread_id: str) -> list[bytes]:
        lines = self._read(self.catalog.locate(thread_id)).lines
        return [encode_checked(line, i) for i, line in enumerate(lines)]

    async def _whole(self, thread_id: str) -> tuple[ThreadState, list[ev.Line]]:
        return await self._call(self._whole_now, thread_id)

    def _whole_now(self, thread_id: str) -> tuple[ThreadState, list[ev.Line]]:
        row = self.catalog.locate(thread_id)
        return self.catalog.state(row), self._read(row).lines

    async def _page(self, query: ListQuery) -> list[ThreadState]:
        return await self._call(self._page_now, query)

    def _page_now(self, query: ListQuery) -> list[ThreadState]:
        if time.monotonic() - self._synced_at >= self.refresh_interval:
            self._sync()
        else:
            self.catalog.sync_names()
        return self.catalog.page(query)

    async def iter_lines(self, thread_id: str, *, after_seq: int | None = None, upto_seq: int | None = None,
                         page_size: int = 1024) -> AsyncIterator[ev.Line]:
        """Like :meth:`read_lines`, streaming the file once, ``page_size`` lines at a time."""
        self._check()
        key = thread_key(thread_id)
        start = check_seq("after_seq", after_seq) or 0
        end = check_seq("upto_seq", upto_seq)
        lines = await self._call(self._open_lines, key, start, end)
        while batch := await self._call(_take, lines, max(page_size, 1)):
            for line in batch:
                yield line

    def _open_lines(self, thread_id: str, start: int, end: int | None) -> Iterator[ev.Line]:
        path = self.catalog.path(self.catalog.locate(thread_id))
        return _slice(iter_rollout(path), start, end, thread_id)

    # ------------------------------------------------------------------ search (FTS5 in the sidecar index)

    async def _index_stale(self) -> list[str]:
        return await self._call(self._stale_now)

    def _stale_now(self) -> list[str]:
        if time.monotonic() - self._synced_at >= self.refresh_interval:
            self._sync()
        with translated_sqlite("read the search index"):
            return self.searcher.stale("SELECT id, line_count FROM threads")

    async def _index_mark(self, thread_id: str) -> Mark | None:
        return await self._call(self._searching, self.searcher.mark, thread_id)

    async def _index_write(self, thread_id: str, update: Update | None) -> None:
        await self._call(self._searching, self.searcher.write_now, thread_id, update)

    async def _index_query(self, query: SearchQuery) -> list[Hit]:
        return await self._call(self._searching, self.searcher.query, query)

    @property
    def searcher(self) -> Fts5Index:
        if self._search is None:
            raise StoreError("store is not open")
        return self._search

    @staticmethod
    def _searching(fn: Callable[..., T], *args: Any) -> T:
        with translated_sqlite("use the search index"):
            return fn(*args)


def _translated(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn``; an OS error that escaped the layers below becomes a StoreError."""
    try:
        return fn(*args)
    except WriterLocked:
        raise
    except WriterError as exc:  # a failed append: the store's callers are told in the store's terms
        raise StoreError(str(exc)) from exc
    except RolloutError:
        raise
    except OSError as exc:
        raise StoreError(f"file system error: {exc}") from exc


def _take(lines: Iterator[ev.Line], count: int) -> list[ev.Line]:
    batch = []
    for line in lines:
        batch.append(line)
        if len(batch) == count:
            break
    return batch


def _slice(lines: Iterator[ev.Line], start: int, end: int | None, thread_id: str) -> Iterator[ev.Line]:
    try:
        for seq, line in enumerate(lines, 1):
            if end is not None and seq > end:
                return
            if seq > start:
                yield line
    except (EmptyRollout, UnreadableRollout) as exc:
        raise CorruptLog(f"thread {thread_id}: {exc}") from exc

