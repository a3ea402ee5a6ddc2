"""``FileStore``: a Codex home served through the :class:`~store.base.Store` API.

Threads live where Codex keeps them (``sessions/YYYY/MM/DD/rollout-<local time>-<id>.jsonl``,
``archived_sessions/``, names in ``session_index.jsonl``, cold ``.jsonl.zst`` files), so
Codex can resume what this store writes and this store serves years of existing threads.
Nothing rewrites an existing line:

* a new thread (start, fork, import) is written under a temporary name, fsynced, and
  hard-linked into place; a fork copies its source's lines byte for byte after its own
  ``session_meta`` (``forked_from_id``), as Codex does;
* appends go through :class:`rollout.RolloutWriter`: an exclusive ``flock`` held while the
  expected seq is checked and the batch written (a second writer gets ``WriterLocked``),
  a torn last line fenced off with a newline first, one fsync per batch;
* rollback appends ``thread_rolled_back``; names append to ``session_index.jsonl``;
  archive and unarchive move the file (unarchive also touches it: "updated now").

Seq numbers count the file's decodable lines (Codex's reader skips the rest). Lookups and
listing use the sidecar index (:mod:`store.catalog`); the directory check behind listing
runs at most every ``refresh_interval`` seconds, while the rows of every page are always
verified against their files. All file and index work runs on one worker thread, so each
call is atomic within the store and the event loop never blocks on the disk.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from msgspec.structs import replace

from replay import build_turns, fork_end, resume_context, turn_boundaries
from rollout import events as ev
from rollout.errors import (
    Conflict,
    CorruptLog,
    EmptyRollout,
    InvalidInput,
    RolloutError,
    StoreError,
    ThreadArchived,
    UnreadableRollout,
)
from rollout.reader import Problem, iter_rollout, read_rollout
from rollout.writer import Durability, RolloutWriter

from .api import Page, ResumedThread, Thread, ThreadInfo, with_turns
from .base import Store
from .catalog import Catalog, IndexReport
from .codex_home import CodexHome, touch
from .file_index import FileIndex, ThreadRow
from .line import (
    aborted_line,
    check_items_view,
    check_name,
    check_seq,
    check_thread_id,
    check_turn,
    encode_all,
    encode_checked,
    fork_meta_line,
    start_line,
)
from .listing import encode_cursor, list_query, sort_ms
from .session_index import append_name
from .state import (
    ThreadState,
    absorb,
    facts,
    fork_state,
    new_thread_id,
    now_ms,
    open_turn_after,
    start_state,
    thread_info,
)

__all__ = ["FileStore"]

log = logging.getLogger("store.files")
T = TypeVar("T")


class FileStore(Store):
    """Threads as rollout files in a Codex home; open with ``async with FileStore.open(home)``."""

    def __init__(self, codex_home: str | os.PathLike[str], *, refresh_interval: float = 1.0,
                 durability: Durability = "batch") -> None:
        self.home = CodexHome(codex_home)
        self.refresh_interval = refresh_interval
        self.durability = durability
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="filestore")
        self._catalog: Catalog | None = None
        self._synced_at = 0.0
        self._closed = False

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, codex_home: str | os.PathLike[str], *, refresh_interval: float = 1.0,
                   durability: Durability = "batch") -> AsyncIterator[FileStore]:
        """``async with FileStore.open(codex_home) as store``.

        Opening brings the sidecar index (``.rollout-engine/index.sqlite``) in step with
        the files, rebuilding it when it is missing or unreadable; :attr:`report` says
        what was repaired.

        Args:
            codex_home: the ``$CODEX_HOME`` directory (created if missing).
            refresh_interval: seconds between directory checks made by ``list``
                (0: every call). Lookups by id always check.
            durability: ``RolloutWriter`` fsync mode for appends.

        Raises:
            StoreError: the home or its index cannot be opened.
        """
        store = cls(codex_home, refresh_interval=refresh_interval, durability=durability)
        try:
            await store._call(store._open)
            yield store
        finally:
            await store.close()

    def _open(self) -> None:
        self.home.root.mkdir(parents=True, exist_ok=True)
        self._catalog = Catalog(self.home, FileIndex(self.home.sidecar / "index.sqlite"))
        self._sync()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        if self._catalog is not None:
            await loop.run_in_executor(self._worker, self._catalog.index.close)
        self._worker.shutdown(wait=True)

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
        return await self._call(self._sync, deep)

    async def problems(self, thread_id: str) -> list[Problem]:
        """Lines of the thread's file that could not be read (torn tail, junk), for diagnosis."""
        return await self._call(lambda: self._read(self.catalog.locate(check_thread_id(thread_id))).problems)

    async def find_by_name(self, name: str) -> str | None:
        """The newest thread whose current name is ``name`` and whose file is readable."""
        return await self._call(self.catalog.find_by_name, check_name(name))

    # ------------------------------------------------------------------ plumbing

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise StoreError("store is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, functools.partial(_translated, fn, *args))

    async def _compute(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._call(fn, *args)

    def _sync(self, deep: bool = False) -> IndexReport:
        report = self.catalog.sync(deep=deep)
        self._synced_at = time.monotonic()
        return report

    def _info(self, row: ThreadRow, state: ThreadState | None = None) -> ThreadInfo:
        """The thread's info; ``state`` (already named) saves reading the row's state."""
        state = self.catalog.state(row) if state is None else state
        info = thread_info(replace(state, archived=row.archived))
        return replace(info, path=self.home.absolute(row.path))

    def _read(self, row: ThreadRow) -> Any:
        try:
            return read_rollout(self.catalog.path(row))
        except (EmptyRollout, UnreadableRollout) as exc:
            raise CorruptLog(f"thread {row.id}: {exc}") from exc

    def _writable(self, thread_id: str) -> ThreadRow:
        row = self.catalog.locate(check_thread_id(thread_id))
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

    def _moved(self, row: ThreadRow, target: Path) -> ThreadRow:
        self.catalog.index.drop_file(row.path)
        return self.catalog.record(target, self.catalog.state(row))

    # ------------------------------------------------------------------ writes

    async def start_thread(self, meta: ev.SessionMeta | ev.SessionMetaLine) -> ThreadInfo:
        now = now_ms()
        line = start_line(meta, now)
        return await self._call(self._new_thread, start_state(line, now), [encode_checked(line, 0)])

    def _new_thread(self, state: ThreadState, raw: list[bytes]) -> ThreadInfo:
        path = self.home.active_path(state.id, state.created_ms)
        if self.catalog.taken(state.id) or path.exists():
            raise InvalidInput(f"thread {state.id} already exists")
        self.home.create(path, raw)
        touch(path, state.updated_ms)
        return self._info(self.catalog.record(path, state), state)

    async def _import(self, state: ThreadState, raw: list[bytes]) -> None:
        await self._call(self._new_thread, state, raw)

    async def append(self, thread_id, lines, *, expected_seq=None, idempotency_key=None) -> int:
        items, raw = encode_all(lines)
        check_seq("expected_seq", expected_seq)
        if idempotency_key is not None and not isinstance(idempotency_key, str):
            raise InvalidInput("idempotency_key must be a string")
        return await self._call(self._append, thread_id, items, raw, expected_seq, idempotency_key)

    def _append(self, thread_id: str, items: list[ev.Line], raw: list[bytes],
                expected_seq: int | None, key: str | None) -> int:
        index = self.catalog.index
        path = self._plain(self._writable(thread_id))
        with RolloutWriter(path, durability=self.durability) as writer:
            if writer.fenced_torn_line:
                log.warning("%s: torn last line fenced off before appending", path)
            row = self._writable(thread_id)  # verified under the lock: nobody appends meanwhile
            if key is not None and (seq := index.idempotent_seq(thread_id, key)) is not None:
                return seq
            state = self.catalog.state(row)
            if expected_seq is not None and expected_seq != state.last_seq:
                raise Conflict(thread_id, expected_seq, state.last_seq)
            if self.catalog.path(row) != path:
                raise StoreError(f"thread {thread_id} moved while appending; retry")
            if raw:
                writer.write_raw(raw)
                now = now_ms()
                touch(path, now)
                state = absorb(state, facts(items), state.last_seq + 1, len(raw), now)
                self.catalog.record(path, state)
        if key is not None:
            index.put_idempotency(thread_id, key, state.last_seq)
        return state.last_seq

    async def fork(self, thread_id: str, *, at_turn: int | str | None = None) -> ThreadInfo:
        if at_turn is not None:
            check_turn(at_turn)
        return await self._call(self._fork, thread_id, at_turn)

    def _fork(self, thread_id: str, at_turn: int | str | None) -> ThreadInfo:
        row = self._writable(thread_id)
        source = self.catalog.state(row)
        lines = self._read(row).lines
        upto, open_turn = len(lines), source.open_turn
        if at_turn is not None:
            upto = fork_end(turn_boundaries(lines), at_turn)
            open_turn = open_turn_after(lines[:upto])
        now = now_ms()
        while self.catalog.taken(child_id := new_thread_id()):
            pass
        own = lines[source.meta_seq - 1] if source.meta_seq else None
        full = own.payload if isinstance(own, ev.SessionMetaLine) else source.meta
        # The newest git/memory mode go into the fork's own meta, so its file says what its state says.
        base = full and replace(full, git=source.git, memory_mode=source.memory_mode)
        meta = fork_meta_line(base, child_id, thread_id, now)
        tail = [] if open_turn is None else [aborted_line(open_turn, now)]
        raw = [encode_checked(meta, 0), *(encode_checked(l, i) for i, l in enumerate(lines[:upto])),
               *(encode_checked(l, 0) for l in tail)]
        state = replace(fork_state(source, meta, upto, tail, now), name=None)
        info = self._new_thread(state, raw)
        if source.name:
            append_name(self.home.session_index, child_id, source.name)
            self.catalog.sync_names()
            info = replace(info, name=source.name)
        return info

    async def set_name(self, thread_id: str, name: str) -> ThreadInfo:
        name = check_name(name)
        return await self._call(self._set_name, thread_id, name)

    def _set_name(self, thread_id: str, name: str | None) -> ThreadInfo:
        row = self.catalog.locate(check_thread_id(thread_id))
        append_name(self.home.session_index, thread_id, name)
        self.catalog.sync_names()
        return self._info(row)

    async def archive(self, thread_id: str) -> ThreadInfo:
        return await self._call(self._archive, thread_id)

    def _archive(self, thread_id: str) -> ThreadInfo:
        row = self.catalog.locate(check_thread_id(thread_id))
        if row.archived:
            return self._info(row)
        source = self.catalog.path(row)
        target = self.home.archived_path(source)
        self.home.move(source, target)
        return self._info(self._moved(row, target))

    async def unarchive(self, thread_id: str) -> ThreadInfo:
        return await self._call(self._unarchive, thread_id)

    def _unarchive(self, thread_id: str) -> ThreadInfo:
        row = self.catalog.locate(check_thread_id(thread_id))
        path = self.catalog.path(row)
        if row.archived:
            path = self._plain(row)
            target = self.home.unarchived_path(path)
            self.home.move(path, target)
            path = target
        touch(path, now_ms())  # as Codex does, so it sorts as recently updated
        return self._info(self._moved(row, path))

    async def delete(self, thread_id: str) -> None:
        await self._call(self._delete, thread_id)

    def _delete(self, thread_id: str) -> None:
        row = self.catalog.locate(check_thread_id(thread_id))
        index = self.catalog.index
        copies = {row.path, *(f.path for f in index.files_of(thread_id))}
        with index.transaction():
            for rel in copies:
                (self.home.root / rel).unlink(missing_ok=True)
                index.drop_file(rel)
            index.drop_thread(thread_id)
            index.drop_idempotency(thread_id)
        if index.name(thread_id) is not None:
            append_name(self.home.session_index, thread_id, None)  # a re-created id starts unnamed
            self.catalog.sync_names()

    # ------------------------------------------------------------------ reads

    async def info(self, thread_id: str) -> ThreadInfo:
        return await self._call(lambda: self._info(self.catalog.locate(check_thread_id(thread_id))))

    async def read_lines(self, thread_id, *, after_seq=None, upto_seq=None) -> list[ev.Line]:
        start = check_seq("after_seq", after_seq) or 0
        end = check_seq("upto_seq", upto_seq)
        return await self._call(self._read_lines, thread_id, start, end)

    def _read_lines(self, thread_id: str, start: int, end: int | None) -> list[ev.Line]:
        return self._read(self.catalog.locate(check_thread_id(thread_id))).lines[start:end]

    async def iter_lines(self, thread_id, *, after_seq=None, upto_seq=None, page_size=1024):
        """Like :meth:`read_lines`, streaming the file once, ``page_size`` lines at a time."""
        start = check_seq("after_seq", after_seq) or 0
        end = check_seq("upto_seq", upto_seq)
        lines = await self._call(self._open_lines, thread_id, start, end)
        while batch := await self._call(_take, lines, max(page_size, 1)):
            for line in batch:
                yield line

    def _open_lines(self, thread_id: str, start: int, end: int | None) -> Iterator[ev.Line]:
        path = self.catalog.path(self.catalog.locate(check_thread_id(thread_id)))
        return _slice(iter_rollout(path), start, end, thread_id)

    async def read(self, thread_id: str, *, items_view: str = "full") -> Thread:
        check_items_view(items_view)
        return await self._call(self._read_thread, thread_id, items_view)

    def _read_thread(self, thread_id: str, items_view: str) -> Thread:
        row = self.catalog.locate(check_thread_id(thread_id))
        turns = build_turns(self._read(row).lines, items_view=items_view)
        return with_turns(self._info(row), turns)

    async def resume(self, thread_id: str) -> ResumedThread:
        return await self._call(self._resume, thread_id)

    def _resume(self, thread_id: str) -> ResumedThread:
        row = self._writable(thread_id)  # Codex refuses to resume an archived thread
        lines = self._read(row).lines  # one read serves both the turns and the model context
        thread = with_turns(self._info(row), build_turns(lines))
        return ResumedThread(thread=thread, context=resume_context(lines))

    async def list(self, *, limit=50, cursor=None, sort="created_at", archived=False, source=None,
                   model_provider=None, cwd=None, search=None) -> Page:
        query = list_query(limit=limit, cursor=cursor, sort=sort, archived=archived, source=source,
                           model_provider=model_provider, cwd=cwd, search=search)
        return await self._call(self._list, query)

    def _list(self, query: Any) -> Page:
        if time.monotonic() - self._synced_at >= self.refresh_interval:
            self._sync()
        else:
            self.catalog.sync_names()
        found, more = self.catalog.page(query)
        data = [self._info(row, state) for row, state in found]
        last = found[-1][1] if found else None
        next_cursor = encode_cursor(query.sort, sort_ms(last, query.sort), last.id) if more and last else None
        return Page(data=data, next_cursor=next_cursor)

    async def _raw_lines(self, thread_id: str) -> list[bytes]:
        return await self._call(self._raw, thread_id)

    def _raw(self, thread_id: str) -> list[bytes]:
        lines = self._read(self.catalog.locate(thread_id)).lines
        return [encode_checked(line, i) for i, line in enumerate(lines)]


def _translated(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn``; an OS error that escaped the layers below becomes a StoreError."""
    try:
        return fn(*args)
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
