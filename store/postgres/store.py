"""``PostgresStore``: the engine on a PostgreSQL server, for threads shared by many processes and hosts.

The core's primitives on the modules beside this one:

* writes go through a group commit (:mod:`store.postgres.commit`): every command
  queued while a batch is in flight leaves in the next one, planned by
  :class:`store.postgres.batch.Batcher` and sent as one statement (one round trip,
  one commit). Each thread's part lands only if its row still has the version it
  was planned on; when another process got there first the command is planned
  again on the row as it now is (so ``expected_seq`` and idempotency keys hold
  across processes, decided by the database). ``delete`` is a transaction of its own.
* reads fetch the thread's row with every call (never a stale thread), its lines
  across fork ancestry in one query (:mod:`store.postgres.lines`), and rebuild turns
  and resume context from builders kept per thread life and snapshots
  (:mod:`store.postgres.history`).
* the change feed: this store's writes are told by the core after they commit;
  other processes' arrive by LISTEN/NOTIFY (:mod:`store.postgres.feed`) and drop the
  rows cached for planning before subscribers hear of them.
* search (:mod:`store.postgres.search`): the core's projection with this backend's four
  index primitives; a projection that lost a race with another process's is done again.
* the zstd dictionary is trained once enough was stored without one (by whichever
  process first sees that, in a second without writes), then used by every process that
  reads a chunk made with it.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import msgspec

from replay import MidTurn, ResumeContext, Turn, TurnSpan
from rollout import events as ev
from rollout.errors import CorruptLog, InvalidInput, RolloutError, StoreError, ThreadArchived, ThreadNotFound

from ..blobs import Dictionary, bulk, compress, recompress, train
from ..core import Opening, Store
from ..listing import ListQuery
from ..search.hits import Hit, Mark, Update
from ..search.query import SearchQuery
from ..state import STATE_DECODER, ThreadState
from ..tuning import Tuning
from ..write import Command, Delete, Import
from . import reader, search, upkeep
from .batch import RETRY, Batcher
from .commit import GroupCommit
from .database import Database
from .dsn import target
from .entry import PackedImport
from .feed import Change, Feed, notice
from .history import History
from .lines import Lines, decoded
from .schema import DEFAULT_SCHEMA, channel, check_schema, current_version

__all__ = ["PostgresStore"]

_ATTEMPTS = 1000  # plans of one write before giving up (each lost to another process's write)
_TRAIN_FRAMES = 2048  # chunks sampled to train the dictionary, and recompressed per round after
_QUIET = 1.0  # seconds without a write before the dictionary is trained


class PostgresStore(Store):
    """Threads in one schema of a PostgreSQL database.

    Args:
        dsn: a libpq DSN (``postgresql://user@host:5432/db`` or ``host=... dbname=...``).
        schema: the PostgreSQL schema holding the tables (created if missing).
        tuning: storage knobs (:class:`store.tuning.Tuning`).
        pool_size: most connections held (one more listens for the change feed).
        listen: learn of other processes' writes (LISTEN/NOTIFY); False: only this store's.
        application_name: shown in ``pg_stat_activity``.
        create: create (or migrate) the schema; False: a schema without the tables is an error.
    """

    def __init__(self, dsn: str, *, schema: str = DEFAULT_SCHEMA, tuning: Tuning | None = None,
                 pool_size: int = 4, listen: bool = True, application_name: str = "rollout-engine",
                 create: bool = True) -> None:
        super().__init__()
        if not isinstance(dsn, str) or not dsn.strip():
            raise InvalidInput("a PostgreSQL DSN must be a non-empty string")
        if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
            raise InvalidInput(f"pool_size must be an int >= 1, not {pool_size!r}")
        self.dsn = dsn
        self.schema = check_schema(schema)
        self.tuning = tuning or Tuning()
        self.target = target(dsn)
        self._pool_size = pool_size
        self._listen = listen
        self._application = application_name
        self._create = create
        self._db: Database | None = None
        self._listener: Feed | None = None
        self._commits: GroupCommit[Any, Any] | None = None
        self._batcher: Batcher | None = None
        self._stored = Lines()
        self._executor = ThreadPoolExecutor(2, thread_name_prefix="store-pg")
        self._replay = History(capacity=self.tuning.cached_threads, every=self.tuning.snapshot_every,
                                lines=self._row_lines, snapshot=self._snapshot, save=self._save_later,
                                compute=self._compute, refresh=self._fresh_row)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._plain = 0
        self._train_at = self.tuning.dictionary_after
        self._training = self._waiting = False
        self._last_write = 0.0

    @classmethod
    def open(cls, dsn: str, *, schema: str = DEFAULT_SCHEMA, tuning: Tuning | None = None, pool_size: int = 4,
             listen: bool = True, application_name: str = "rollout-engine",
             create: bool = True) -> Opening[PostgresStore]:
        """Connect (creating or migrating the schema): ``async with PostgresStore.open(dsn) as store``,
        or ``store = await PostgresStore.open(dsn)`` and ``await store.close()`` later.

        Raises:
            StoreError: the server cannot be reached or refuses (one line naming host and
                database, never the password).
            SchemaTooNew: the schema was written by a newer rollout-engine.
            InvalidInput: a bad DSN, schema name or pool size.
        """
        return Opening(cls(dsn, schema=schema, tuning=tuning, pool_size=pool_size, listen=listen,
                           application_name=application_name, create=create))

    def __repr__(self) -> str:
        return f"PostgresStore({self.target.describe()}, schema {self.schema!r})"

    async def _start(self) -> None:
        db = self._db = await Database.connect(self.dsn, schema=self.schema, max_size=self._pool_size,
                                               application_name=self._application, create=self._create)
        if not self._create and not await db.read(current_version, self.schema):
            raise StoreError(f"PostgreSQL at {self.target.describe()} has no rollout-engine tables "
                             f"in schema {self.schema!r}")
        await db.read(self._stored.refresh)
        self._batcher = Batcher(db, self._stored, self.tuning, self._decode, self._wrote_plain)
        self._commits = GroupCommit(self._batcher.run, max_batch=self.tuning.max_batch)
        if self._listen:
            self._listener = Feed(db, on_reset=self._batcher.clear)
            self._listener.subscribe(self._remote)
            await self._listener.start()

    async def _stop(self) -> None:
        try:
            if self._commits is not None:
                await self._commits.close()  # what is queued still commits
            for task in list(self._tasks) if self._waiting else ():
                if task.get_name() == "store-train":
                    task.cancel()  # a dictionary waiting for a quiet moment is left to the next store
            while self._tasks:  # snapshots and training finish (or fail quietly)
                await asyncio.gather(*self._tasks, return_exceptions=True)
            if self._listener is not None:
                await self._listener.close()
        finally:
            if self._db is not None:
                await self._db.close()
            self._executor.shutdown(wait=True)

    @property
    def db(self) -> Database:
        if self._db is None:
            raise StoreError("PostgresStore is not open")
        return self._db

    # ------------------------------------------------------------------ writes

    async def _write(self, command: Command) -> Any:
        if isinstance(command, Delete):
            return await self._delete(command.thread_id)
        self._last_write = time.monotonic()
        item: Any = command
        if isinstance(command, Import):
            item = PackedImport(command.state, await self._compute(self._bulk, command.raw))
            self._wrote_plain(sum(p.size for *_, p in item.chunks if p.zdict == 0))
        assert self._commits is not None
        for _ in range(_ATTEMPTS):
            result = await self._commits.submit(item)
            if result is not RETRY:
                return result
        raise StoreError(f"thread {getattr(command, 'thread_id', '?')}: gave up after {_ATTEMPTS} attempts "
                         "(other processes kept writing it first)")

    async def _delete(self, thread_id: str) -> None:
        said = notice(Change(kind="deleted", thread_id=thread_id), self.db.origin)
        gen = await self.db.write(upkeep.delete_thread, thread_id, channel(self.schema), said)
        if self._batcher is not None:
            self._batcher.forget(thread_id)
        self._replay.forget(thread_id)
        if gen is None:
            raise ThreadNotFound(thread_id)

    def _bulk(self, raw: list[bytes]) -> Any:
        t, batcher = self.tuning, self._batcher
        dictionary = batcher.dictionary if batcher is not None else Dictionary()
        return bulk(raw, blob_min=t.blob_min, dictionary=dictionary, level=t.bulk_level,
                    chunk_lines=t.chunk_lines, chunk_bytes=t.chunk_bytes)

    def _remote(self, change: Change) -> None:
        """Another process wrote: plan this thread's next write on a fresh row, and tell subscribers."""
        if self._batcher is not None:
            self._batcher.forget(change.thread_id)
        if change.kind == "deleted":
            self._replay.forget(change.thread_id)
        self._feed.emit(change)

    # ------------------------------------------------------------------ reads

    def _decode(self, row: reader.Row) -> ThreadState:
        try:
            return STATE_DECODER.decode(row.state)
        except msgspec.DecodeError as exc:
            raise CorruptLog(f"thread {row.thread_id}: stored state does not decode: {exc}") from exc

    async def _row(self, thread_id: str) -> reader.Row:
        row = await self.db.read(reader.live_row, thread_id)
        if row is None:
            raise ThreadNotFound(thread_id)
        return row

    async def _fresh_row(self, row: reader.Row) -> reader.Row:
        return await self._row(row.thread_id)

    async def _state(self, thread_id: str) -> ThreadState:
        return self._decode(await self._row(thread_id))

    async def _exists(self, thread_id: str) -> bool:
        return await self.db.read(reader.exists, thread_id)

    async def _lines(self, thread_id: str, after: int, upto: int | None) -> list[ev.Line]:
        row = await self._row(thread_id)
        return await self._row_lines(row, after + 1, row.last_seq if upto is None else min(upto, row.last_seq))

    async def _raw(self, thread_id: str) -> list[bytes]:
        row = await self._row(thread_id)
        return await self._row_raw(row, 1, row.last_seq)

    async def _row_raw(self, row: reader.Row, lo: int, hi: int) -> list[bytes]:
        try:
            return await self.db.read(self._stored.raw, row, lo, hi)
        except CorruptLog:
            now = await self.db.read(reader.live_row, row.thread_id)
            if now is None or now.gen != row.gen:  # deleted while we read it
                raise ThreadNotFound(row.thread_id) from None
            raise

    async def _row_lines(self, row: reader.Row, lo: int, hi: int) -> list[ev.Line]:
        raw = await self._row_raw(row, lo, hi)
        if len(raw) < 512:
            return decoded(row.thread_id, raw, lo)
        return await self._compute(decoded, row.thread_id, raw, lo)

    async def _page(self, query: ListQuery) -> list[ThreadState]:
        states = await self.db.read(reader.list_page, query)
        try:
            return [STATE_DECODER.decode(state) for state in states]
        except msgspec.DecodeError as exc:
            raise CorruptLog(f"a stored thread state does not decode: {exc}") from exc

    async def _compute(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            work = asyncio.get_running_loop().run_in_executor(self._executor, functools.partial(fn, *args))
        except RuntimeError:  # the executor is shut down: the store closed under this call
            raise StoreError("store is closed") from None
        return await work

    async def _turns(self, thread_id: str, items_view: str, policy: str = "extended") -> tuple[ThreadState, list[Turn]]:
        if policy != "extended":  # the cached builders replay the extended view
            return await super()._turns(thread_id, items_view, policy)
        row, turns = await self._replay.turns(await self._row(thread_id), items_view)
        return self._decode(row), turns

    async def _resumed(self, thread_id: str) -> tuple[ThreadState, list[Turn], ResumeContext]:
        row = await self._row(thread_id)
        if self._decode(row).archived:
            raise ThreadArchived(thread_id)
        row, turns, context = await self._replay.resume(row)
        return self._decode(row), turns, context

    async def _spans(self, thread_id: str) -> tuple[ThreadState, list[TurnSpan], MidTurn | None]:
        row, spans, open_turn = await self._replay.spans(await self._row(thread_id))
        return self._decode(row), spans, open_turn

    async def _open_turn(self, thread_id: str) -> tuple[ThreadState, MidTurn | None]:
        state, _, open_turn = await self._spans(thread_id)
        return state, open_turn

    # ------------------------------------------------------------------ search (store.postgres.search)

    async def _index_stale(self) -> list[str]:
        return await self.db.read(search.stale)

    async def _index_mark(self, thread_id: str) -> Mark | None:
        return await self.db.read(search.mark, thread_id)

    async def _index_write(self, thread_id: str, update: Update | None) -> None:
        columns = await self._compute(search.rows, thread_id, update.docs) if update is not None else [[]]
        if not await self.db.write(search.write, self.schema, thread_id, update, columns):
            await self._project(thread_id)  # another process wrote its rows first: project it afresh

    async def _index_query(self, query: SearchQuery) -> list[Hit]:
        return await self._compute(search.hits, await self.db.read(search.query, query), query)

    # ------------------------------------------------------------------ snapshots and the dictionary

    async def _snapshot(self, row: reader.Row, upto: int, turns: bool,
                        context: bool) -> tuple[int, bytes | None, bytes | None] | None:
        ask = functools.partial(reader.snapshot, turns=turns, context=context)
        return await self.db.read(ask, row.thread_id, row.gen, upto)

    def _save_later(self, row: reader.Row, seq: int, turns: bytes, context: bytes) -> None:
        """Compress and store a snapshot off the read's path (a snapshot is only a cache)."""
        self._spawn(self._save(row, seq, turns, context))

    async def _save(self, row: reader.Row, seq: int, turns: bytes, context: bytes) -> None:
        level = self.tuning.snapshot_level
        if level:
            turns, context = await self._compute(_compressed, turns, context, level)
        await self.db.write(upkeep.save_snapshot, row.thread_id, row.gen, seq, turns, context or None)

    def _spawn(self, work: Any, name: str = "store-upkeep") -> None:
        if self._status != "open":
            work.close()
            return
        task = asyncio.get_running_loop().create_task(_quietly(work), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _wrote_plain(self, size: int) -> None:
        """Count bytes stored without a dictionary; train one once there are enough."""
        self._plain += size
        if self._plain >= self._train_at and not self._training and not self._stored.dictionaries:
            self._training = True
            self._spawn(self._train(), name="store-train")

    async def _train(self) -> None:
        """Train, install and adopt a dictionary (unless another process did), then recompress plain chunks.

        Training takes a CPU core for a good fraction of a second: it waits for a moment
        without writes, so appends in flight never queue behind it (and a store closing first
        leaves it to the next one).
        """
        level = self.tuning.bulk_level
        try:
            self._waiting = True
            while time.monotonic() - self._last_write < _QUIET:
                await asyncio.sleep(_QUIET)  # cancelled by close while waiting here
            self._waiting = False
            await self.db.read(self._stored.refresh)
            if not self._stored.dictionaries:
                frames = await self.db.read(reader.undict_frames, _TRAIN_FRAMES)
                data = await self._compute(train, [(0, 0, f[3]) for f in frames], self.tuning.dictionary_size, level)
                self._stored.dictionaries[await self.db.write(upkeep.install_dictionary, data)] = data
            zdict = max(self._stored.dictionaries)  # new chunks use it from the next batch on
            for _ in range(64):  # bounded work per store: what is left stays readable as it is
                frames = await self.db.read(reader.undict_frames, _TRAIN_FRAMES)
                if not frames:
                    break
                done = await self._compute(recompress, [(i, 0, f[3]) for i, f in enumerate(frames)],
                                           self._stored.dictionaries[zdict], level)
                rewrites = [(*frames[i][:3], old, new) for i, _, old, new in done]
                if not await self.db.write(upkeep.rewrite_chunks, zdict, rewrites):
                    break
        except RolloutError:  # too little or too uniform data: try again with twice as much
            self._train_at = 2 * max(self._plain, self._train_at)
        finally:
            self._training = self._waiting = False


def _compressed(turns: bytes, context: bytes, level: int) -> tuple[bytes, bytes]:
    return compress(turns, level), compress(context, level) if context else b""


async def _quietly(work: Any) -> None:
    try:
        await work
    except RolloutError:
        pass  # snapshots and dictionaries are caches and optimisations: the data is stored either way
