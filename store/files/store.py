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
so each call is atomic within the store and the event loop never blocks on the disk.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from msgspec.structs import replace

from rollout import events as ev
from rollout.codec import decode_line
from rollout.codex_home import CodexHome, touch
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
from rollout.session_index import append_name
from rollout.writer import Durability, RolloutWriter

from ..clock import new_thread_id, now_ms, parse_ms, thread_key
from ..core import Opening, Store
from ..line import check_name, check_policy, check_seq, encode_checked
from ..listing import ListQuery
from ..search.fts5 import Fts5Index
from ..search.hits import Hit, Mark, Update
from ..search.query import SearchQuery
from ..state import ThreadState
from ..write import (
    Append,
    Appended,
    Command,
    Delete,
    Fork,
    Import,
    SetArchived,
    SetMetadata,
    SetName,
    Start,
    ThreadExists,
)
from .catalog import Catalog, IndexReport, mtime_ms
from .index import FileIndex, ThreadRow, translated_sqlite
from .pending import Pending, Recent
from .segments import join_reads
from .worker import Worker

__all__ = ["FileStore"]

log = logging.getLogger("store.files")
T = TypeVar("T")

INDEX_DELAY = 0.2  # seconds from an append to the write of its held index update, at the latest


class FileStore(Store):
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

    def _apply(self, command: Command) -> Any:
        """Run a write command (``_call`` wrote the held index updates first)."""
        match command:
            case Start():
                return self._new_thread(command.stamped(now_ms()), [command.raw])
            case Import(state=state, raw=raw, segment=segment):
                return self._new_thread(state, raw, segment)
            case Append():
                return self._append(command)
            case Fork():
                return self._fork(command)
            case SetName():
                row = self.catalog.locate(command.thread_id)
                self._name(command.thread_id, command.name)
                return self.catalog.state(row)
            case SetMetadata():
                row = self.catalog.locate(command.thread_id)
                git = command.apply(self.catalog.state(row)).git_edit
                return self.catalog.state(self.catalog.edit(row, git or ev.GitInfo()))
            case SetArchived():
                return self._archive_now(command)
            case Delete():
                return self._delete(command.thread_id)
        raise TypeError(f"not a write command: {command!r}")

    def _new_thread(self, state: ThreadState, raw: list[bytes], segment: str | None = None) -> ThreadState:
        path = self.home.active_path(state.id, state.created_ms, segment)
        if self.catalog.taken(state.id) or path.exists():
            raise ThreadExists(state.id)
        self.home.create(path, raw)
        touch(path, state.updated_ms)
        segments = [self.home.relative(path)] if segment else None
        return self.catalog.state(self.catalog.record(path, state, segments), state.name, named=True)

    def _append(self, command: Append) -> Appended:
        """Append lines: from what the thread's previous append left when its file is untouched
        since (no index read), else from the thread's row in the index. The index update is held
        back (:mod:`store.files.pending`)."""
        if command.new_segment is not None:
            self._flush()
            return self._new_segment(command, command.new_segment)
        recent = self.pending.recent(command.thread_id)
        if recent is not None and (command.archived_ok or not recent.state.archived):
            with RolloutWriter(recent.path, durability=self.durability) as writer:
                if recent.holds(writer.fileno()):  # under the lock: nobody wrote meanwhile
                    return self._append_planned(command, writer, recent.state, recent.segments)
        self._flush()
        return self._append_located(command)

    def _append_located(self, command: Append) -> Appended:
        thread_id = command.thread_id
        locate = self.catalog.locate if command.archived_ok else self._writable
        path = self._plain(locate(thread_id))
        with RolloutWriter(path, durability=self.durability) as writer:
            if writer.fenced_torn_line:
                log.warning("%s: torn last line fenced off before appending", path)
            row = locate(thread_id)  # verified under the lock: nobody appends meanwhile
            moved = self.catalog.path(row) != path
            return self._append_planned(command, writer, self.catalog.state(row), row.segments, moved)

    def _append_planned(self, command: Append, writer: RolloutWriter, state: ThreadState,
                        segments: list[str] | None, moved: bool = False) -> Appended:
        """Plan and write an append to the locked file of a thread whose current state is ``state``
        (``moved``: the file is no longer the thread's, so only a repeat may answer)."""
        thread_id = command.thread_id
        key_seq = None if command.key is None else self.catalog.index.idempotent_seq(thread_id, command.key)
        plan = command.plan(state, key_seq, now_ms())
        if plan.repeat:
            return Appended(plan.last_seq, 0, state)
        if moved:
            raise StoreError(f"thread {thread_id} moved while appending; retry")
        if command.raw:
            writer.write_raw(command.raw)
            self._after_append(writer, replace(plan.state, path=state.path), segments)
        if command.key is not None:  # at once: unlike the row, a key cannot be read back from the file
            self.catalog.index.put_idempotency(thread_id, command.key, plan.last_seq)
        return Appended(plan.last_seq, len(command.raw), replace(plan.state, path=state.path))

    def _after_append(self, writer: RolloutWriter, state: ThreadState, segments: list[str] | None) -> None:
        """The file's time after a write that has succeeded, and its index update held back:
        never raises, since a retry would write the lines twice; the index repairs itself
        from the file later."""
        path, ns = writer.path, state.updated_ms * 1_000_000
        try:
            os.utime(writer.fileno(), ns=(ns, ns))  # the open file, wherever it was moved to
        except OSError as exc:
            log.warning("%s: appended, but its time could not be set: %s", path, exc)
        try:
            stat = os.fstat(writer.fileno())
        except OSError as exc:
            log.warning("%s: appended, but the index is stale until the next lookup: %s", path, exc)
            return
        self.pending.hold(Recent(path, stat, replace(state, updated_ms=mtime_ms(stat)), segments))

    def _new_segment(self, command: Append, segment: str) -> Appended:
        """A later segment of a paginated thread: a new file beside the thread's, as Codex writes it."""
        row = self.catalog.locate(command.thread_id) if command.archived_ok else self._writable(command.thread_id)
        state = self.catalog.state(row)
        plan = command.plan(state, None, now_ms())
        created = parse_ms(decode_line(command.raw[0]).timestamp) or now_ms()
        path = self.home.active_path(row.id, created, segment)
        if row.archived:
            path = self.home.archived_path(path)
        self.home.create(path, command.raw)
        touch(path, plan.state.updated_ms)
        segments = [*(row.segments or [row.path]), self.home.relative(path)]
        self.catalog.record(path, plan.state, segments)
        return Appended(plan.last_seq, len(command.raw), replace(plan.state, path=str(path)))

    def _fork(self, command: Fork) -> ThreadState:
        row = self._writable(command.thread_id)
        source = self.catalog.state(row)
        lines = self._read(row).lines
        while self.catalog.taken(child_id := new_thread_id()):
            pass
        own = lines[source.meta_seq - 1] if source.meta_seq else None
        full = own.payload if isinstance(own, ev.SessionMetaLine) else None
        plan = command.plan(source, full, child_id, now_ms())
        raw = [plan.meta_raw, *(encode_checked(l, i) for i, l in enumerate(lines[: plan.upto])), *plan.tail_raw]
        state = self._new_thread(replace(plan.state, name=None), raw)
        if plan.state.name:
            self._name(child_id, plan.state.name)
            state = replace(state, name=plan.state.name)
        return state

    def _name(self, thread_id: str, name: str | None) -> None:
        append_name(self.home.session_index, thread_id, name)
        self.catalog.sync_names()

    def _archive_now(self, command: SetArchived) -> ThreadState:
        row = self.catalog.locate(command.thread_id)
        path = self.catalog.path(row)
        if command.archived and not row.archived:
            target = self.home.archived_path(path)
            segments = self._move_segments(row, self.home.archived_path)
            self.home.move(path, target)
            row = self._moved(row, target, segments)
        elif not command.archived:
            segments = None
            if row.archived:
                path = self._plain(row)
                target = self.home.unarchived_path(path)
                segments = self._move_segments(self.catalog.locate(command.thread_id), self.home.unarchived_path)
                self.home.move(path, target)
                path = target
            touch(path, command.apply(self.catalog.state(row), now_ms()).updated_ms)
            row = self._moved(row, path, segments)
        return self.catalog.state(row)

    def _move_segments(self, row: ThreadRow, where: Callable[[Path], Path]) -> list[str] | None:
        """Move a segmented thread's earlier segment files (the newest moves last); their new places."""
        if not row.segments:
            return None
        moved = []
        for rel in row.segments[:-1]:
            source = self.home.root / rel
            self.home.move(source, where(source))
            moved.append(self.home.relative(where(source)))
        return [*moved, self.home.relative(where(self.catalog.path(row)))]

    def _delete(self, thread_id: str) -> None:
        row = self.catalog.locate(thread_id)
        index = self.catalog.index
        copies = {row.path, *(f.path for f in index.files_of(thread_id))}
        with index.transaction():
            for rel in copies:
                self.home.remove(self.home.root / rel)
                index.drop_file(rel)
            index.drop_thread(thread_id)
            index.drop_thread_data(thread_id)
        if index.name(thread_id) is not None:
            self._name(thread_id, None)  # a re-created id starts unnamed

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

