"""``SqliteStore``: the embedded default backend, one SQLite file in WAL mode.

Threads of execution:

* one **writer** thread owns the only writing connection. Every write becomes a
  command on an in-memory queue; whenever the writer is idle, everything queued
  goes to the writer thread as one batch (one thread hop, no asyncio task in
  between), which commits it as one transaction (one fsync with
  ``synchronous=FULL``) and wakes the loop once to resolve every caller's
  future. A caller returns only once its lines are durable; concurrent appends
  share commits (group commit).
* ``readers`` reader threads, each with a read-only connection, run every read
  inside one read transaction (a consistent WAL snapshot), round robin.
* two packer threads compress imports, and train the zstd dictionary in the
  background once enough data exists.

Each append becomes one chunk row, compressed by the writer (zstd with the
store's dictionary, long strings split out as shared blobs, see
:mod:`store.blobs`; zstd releases the GIL). Forks are pointers
(:mod:`store.query`). Replay state is cached per thread and snapshotted.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import msgspec

from rollout import events as ev
from rollout.errors import InvalidInput, RolloutError, StoreError

from .api import Page, ResumedThread, Thread, ThreadInfo, with_turns
from .base import Store
from .batch import Command, Writer
from .blobs import bulk, recompress, train
from .command import (
    Append,
    Archive,
    Delete,
    Fork,
    Import,
    InstallDictionary,
    Rewrite,
    SaveSnapshot,
    SetName,
    Start,
)
from .line import (
    check_items_view,
    check_name,
    check_seq,
    check_thread_id,
    check_turn,
    encode_all,
    encode_checked,
    start_line,
)
from .listing import encode_cursor, list_query, sort_ms
from .query import (
    Reader,
    TurnCache,
    fork_point_job,
    pack_snapshot,
    raw_lines_job,
    read_lines_job,
    resume_job,
    turns_job,
)
from .schema import SYNCHRONOUS, Tuning, connect, migrate, translate
from .state import ThreadState, facts, now_ms, start_state, thread_info

__all__ = ["SqliteStore", "Tuning"]


def _guarded(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    try:
        return fn(*args)
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


class SqliteStore(Store):
    """Threads in one SQLite database; open with ``async with SqliteStore.open(path)``.

    Args:
        path: the database file (created if missing).
        synchronous: SQLite ``synchronous`` level: ``"FULL"`` (default; every
            commit is fsynced), ``"NORMAL"``, ``"OFF"`` or ``"EXTRA"``.
        readers: reader threads (and connections).
        tuning: storage knobs (:class:`store.schema.Tuning`).
    """

    def __init__(self, path: str | os.PathLike[str], *, synchronous: str = "FULL", readers: int = 2,
                 tuning: Tuning | None = None) -> None:
        if str(synchronous).upper() not in SYNCHRONOUS:
            raise InvalidInput(f"synchronous must be one of {SYNCHRONOUS}, not {synchronous!r}")
        if isinstance(readers, bool) or not isinstance(readers, int) or readers < 1:
            raise InvalidInput(f"readers must be an int >= 1, not {readers!r}")
        self.path = os.fspath(path)
        self.tuning = tuning or Tuning()
        self._synchronous = str(synchronous).upper()
        self._writer = _Lane("store-writer")
        self._readers = [_Lane(f"store-reader-{i}") for i in range(readers)]
        self._packers = ThreadPoolExecutor(2, thread_name_prefix="store-packer")
        self._training: asyncio.Task[None] | None = None
        self._snapshots: set[asyncio.Task[None]] = set()
        self._train_at = self.tuning.dictionary_after
        self._turn = 0
        self._cache = TurnCache(self.tuning.cached_threads)
        self._pending: list[tuple[Command, asyncio.Future[Any] | None]] = []
        self._busy = False  # a batch is on the writer thread
        self._flushing = False  # a flush is scheduled on the loop
        self._drained: asyncio.Future[None] | None = None  # close() waits on it
        self._closed = False

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, path: str | os.PathLike[str], *, synchronous: str = "FULL", readers: int = 2,
                   tuning: Tuning | None = None) -> AsyncIterator[SqliteStore]:
        """Open (creating or migrating) the database; closes the store on exit.

        Raises:
            SchemaTooNew: the database was written by a newer rollout-engine.
            CorruptLog: the file is not a SQLite database.
            StoreError: it cannot be opened.
        """
        store = cls(path, synchronous=synchronous, readers=readers, tuning=tuning)
        await store._start()
        try:
            yield store
        finally:
            await store.close()

    async def _start(self) -> None:
        try:
            self._writer.obj = await self._writer.call(self._open_writer)
            for lane in self._readers:
                lane.obj = await lane.call(self._open_reader)
        except BaseException:
            self._closed = True
            await self._shutdown()
            raise

    def _open_writer(self) -> Writer:
        conn = connect(self.path, synchronous=self._synchronous)
        try:
            migrate(conn)
            return Writer(conn, self.tuning)
        except BaseException:
            conn.close()
            raise

    def _open_reader(self) -> Reader:
        return Reader(connect(self.path, synchronous=self._synchronous, readonly=True))

    async def close(self) -> None:
        if self._closed:
            return
        if self._training is not None:
            await self._training
        while self._snapshots:  # a snapshot being compressed still gets saved
            await asyncio.gather(*self._snapshots)
        self._closed = True
        if self._busy or self._pending:  # what is queued still commits
            self._drained = asyncio.get_running_loop().create_future()
            self._flush()
            await self._drained
        await self._shutdown()

    async def _shutdown(self) -> None:
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

    # ------------------------------------------------------------------ the write queue

    async def _submit(self, command: Command) -> Any:
        if self._closed:
            raise StoreError("store is closed")
        future = asyncio.get_running_loop().create_future()
        self._queue(command, future)
        return await future

    def _queue(self, command: Command, future: asyncio.Future[Any] | None) -> None:
        self._pending.append((command, future))
        if not self._busy and not self._flushing:  # one iteration later, so concurrent callers join
            self._flushing = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        """Hand everything queued (up to ``max_batch``) to the writer thread as one batch."""
        self._flushing = False
        while self._pending and not self._busy:
            batch = self._pending[: self.tuning.max_batch]
            del self._pending[: self.tuning.max_batch]
            live = [(cmd, fut) for cmd, fut in batch if fut is None or not fut.cancelled()]
            if live:
                self._busy = True
                self._writer.executor.submit(self._commit, asyncio.get_running_loop(), live)
        if not self._busy and not self._pending and self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def _commit(self, loop: asyncio.AbstractEventLoop, live: list[tuple[Command, asyncio.Future[Any] | None]]) -> None:
        """On the writer thread: run the batch, then wake the loop once to resolve every caller."""
        try:
            results = _guarded(self._writer.obj.run, ([cmd for cmd, _ in live],))
        except BaseException as exc:  # noqa: BLE001 -- a bug in the writer: fail this batch, keep serving
            results = [(False, StoreError(f"write failed: {exc!r}")) for _ in live]
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
            loop.call_soon_threadsafe(self._committed, live, results)

    def _committed(self, live: list[tuple[Command, asyncio.Future[Any] | None]],
                   results: list[tuple[bool, Any]]) -> None:
        self._busy = False
        for (_, future), (ok, value) in zip(live, results):
            if future is None or future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        # The next batch leaves after the callers just woken ran: their next writes join it
        # without waiting an extra loop iteration (a sequential writer's common case).
        self._flushing = True
        asyncio.get_running_loop().call_soon(self._flush)
        self._maybe_train()

    # ------------------------------------------------------------------ packing and the dictionary

    async def _pack(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        call = functools.partial(fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._packers, _guarded, call, ())

    def _maybe_train(self) -> None:
        writer: Writer = self._writer.obj
        if (self._training is None and not self._closed and writer.dictionary.zdict == 0
                and writer.undict_bytes >= self._train_at):
            self._training = asyncio.get_running_loop().create_task(self._train(), name="store-dictionary")

    async def _train(self) -> None:
        """Train the dictionary off the writer thread, install it, then recompress what was stored without."""
        level = self.tuning.bulk_level
        try:
            frames = await self._read(Reader.undict_frames)
            data = await self._pack(train, frames, self.tuning.dictionary_size, level)
            rewrites = await self._pack(recompress, frames, data, level)
            zdict = await self._submit(InstallDictionary(data, rewrites))
            late = await self._read(Reader.undict_frames)  # stored while we were training
            if late:
                await self._submit(Rewrite(zdict, await self._pack(recompress, late, data, level)))
        except RolloutError:  # too little or too uniform data, or closing: try again with twice as much
            self._train_at = 2 * max(self._writer.obj.undict_bytes, self._train_at)
        finally:
            self._training = None

    # ------------------------------------------------------------------ the reader threads

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

    # ------------------------------------------------------------------ writes

    async def start_thread(self, meta: ev.SessionMeta | ev.SessionMetaLine) -> ThreadInfo:
        now = now_ms()
        line = start_line(meta, now)
        raw = encode_checked(line, 0)
        return thread_info(await self._submit(Start(start_state(line, now), raw)))

    async def append(self, thread_id, lines, *, expected_seq=None, idempotency_key=None) -> int:
        check_thread_id(thread_id)
        items, raw = encode_all(lines)
        check_seq("expected_seq", expected_seq)
        if idempotency_key is not None and not isinstance(idempotency_key, str):
            raise InvalidInput("idempotency_key must be a string")
        return await self._submit(Append(thread_id, raw, facts(items), expected_seq, idempotency_key))

    async def fork(self, thread_id: str, *, at_turn: int | str | None = None) -> ThreadInfo:
        check_thread_id(thread_id)
        if at_turn is None:
            return thread_info(await self._submit(Fork(thread_id, None, None)))
        upto, open_turn = await self._read(fork_point_job, self._cache, thread_id, check_turn(at_turn))
        return thread_info(await self._submit(Fork(thread_id, upto, open_turn)))

    async def set_name(self, thread_id: str, name: str) -> ThreadInfo:
        name = check_name(name)
        return thread_info(await self._submit(SetName(check_thread_id(thread_id), name)))

    async def archive(self, thread_id: str) -> ThreadInfo:
        return thread_info(await self._submit(Archive(check_thread_id(thread_id), True)))

    async def unarchive(self, thread_id: str) -> ThreadInfo:
        return thread_info(await self._submit(Archive(check_thread_id(thread_id), False)))

    async def delete(self, thread_id: str) -> None:
        tkey = await self._submit(Delete(check_thread_id(thread_id)))
        self._cache.drop(tkey)  # its replay builder is no use any more

    async def _import(self, state: ThreadState, raw: list[bytes]) -> None:
        if self._closed:
            raise StoreError("store is closed")
        t = self.tuning
        chunks = await self._pack(bulk, raw, blob_min=t.blob_min, dictionary=self._writer.obj.dictionary,
                                  level=t.bulk_level, chunk_lines=t.chunk_lines, chunk_bytes=t.chunk_bytes)
        await self._submit(Import(state, chunks))

    def _snapshot_later(self, tkey: int, seq: int, data: tuple[bytes, bytes]) -> None:
        """Compress a replay snapshot on a packer thread, then queue it (off the reader's path)."""
        if not self._closed:
            task = asyncio.get_running_loop().create_task(self._save_snapshot(tkey, seq, data))
            self._snapshots.add(task)
            task.add_done_callback(self._snapshots.discard)

    async def _save_snapshot(self, tkey: int, seq: int, data: tuple[bytes, bytes]) -> None:
        try:
            turns, context = await self._pack(pack_snapshot, data, self.tuning.snapshot_level)
        except RolloutError:
            return  # a snapshot is only a cache
        if not self._closed:
            self._queue(SaveSnapshot(tkey, seq, turns, context), None)

    # ------------------------------------------------------------------ reads

    async def info(self, thread_id: str) -> ThreadInfo:
        row = await self._read(Reader.row, check_thread_id(thread_id))
        return thread_info(row.state)

    async def read_lines(self, thread_id, *, after_seq=None, upto_seq=None) -> list[ev.Line]:
        check_thread_id(thread_id)
        start = check_seq("after_seq", after_seq) or 0
        end = check_seq("upto_seq", upto_seq)
        return await self._read(read_lines_job, thread_id, start, end)

    async def read(self, thread_id: str, *, items_view: str = "full") -> Thread:
        check_items_view(items_view)
        row, turns, due = await self._read(
            turns_job, self._cache, check_thread_id(thread_id), items_view, self.tuning.snapshot_every
        )
        if due is not None:
            self._snapshot_later(row.tkey, *due)
        return with_turns(thread_info(row.state), turns)

    async def resume(self, thread_id: str) -> ResumedThread:
        row, turns, due, context = await self._read(
            resume_job, self._cache, check_thread_id(thread_id), self.tuning.snapshot_every
        )
        if due is not None:
            self._snapshot_later(row.tkey, *due)
        return ResumedThread(thread=with_turns(thread_info(row.state), turns), context=context)

    async def list(self, *, limit=50, cursor=None, sort="created_at", archived=False, source=None,
                   model_provider=None, cwd=None, search=None) -> Page:
        query = list_query(limit=limit, cursor=cursor, sort=sort, archived=archived, source=source,
                           model_provider=model_provider, cwd=cwd, search=search)
        states = await self._read(Reader.list_page, query)
        page = states[: query.limit]
        more = len(states) > query.limit
        last = page[-1] if page else None
        next_cursor = encode_cursor(sort, sort_ms(last, sort), last.id) if more and last else None
        return Page(data=[thread_info(s) for s in page], next_cursor=next_cursor)

    async def _raw_lines(self, thread_id: str) -> list[bytes]:
        return await self._read(raw_lines_job, thread_id)
