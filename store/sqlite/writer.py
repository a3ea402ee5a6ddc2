"""The writer: applies a batch of write commands in one SQLite transaction.

Runs on the store's single writer thread, which owns the only connection that writes.
``Writer.run`` takes every command queued since the last batch, opens one ``BEGIN
IMMEDIATE`` transaction, runs each command inside its own SAVEPOINT (a command that
fails -- ``Conflict``, ``ThreadNotFound``, a SQLite error -- is rolled back alone and the
others still commit; a lone command needs none), then merges tails of tiny chunks,
writes each changed thread row once, and commits: one fsync per batch.

Each append becomes one chunk row, compressed at a fast zstd level by the caller before
it is queued (:class:`store.sqlite.command.PackedAppend`), so this thread runs SQL only. What each command does is
in :mod:`store.sqlite.command`; every statement is in :mod:`store.sqlite.tables`.

Commands check everything they can before their first statement and update the writer's
in-memory thread cache only after their last one, so a rolled-back command leaves the
cache as it was; a failed COMMIT empties the cache. If another connection committed since
the last batch (``PRAGMA data_version``), the cache is dropped too.

Must not import: rollout.cli, rich, asyncio.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

import msgspec

from rollout import events as ev
from rollout.codec import decode_line
from rollout.errors import CorruptLog, DecodeError, RolloutError, StoreError, ThreadArchived, ThreadNotFound

from ..blobs import NO_DICTIONARY, Dictionary, Packed, Unpacker, pack, repack
from ..clock import Clock
from ..state import STATE_DECODER, STATE_ENCODER, ThreadState
from ..tuning import Tuning
from .schema import translate
from .tables import Tables

__all__ = ["Entry", "Writer"]


class Entry:
    """The writer's cached view of one thread row."""

    __slots__ = ("keys", "packed_upto", "parent_tkey", "parent_upto", "state", "tail_chunks", "tkey")

    def __init__(self, tkey: int, state: ThreadState, parent_tkey: int | None, parent_upto: int | None,
                 packed_upto: int, tail_chunks: int) -> None:
        self.tkey = tkey
        self.state = state
        self.parent_tkey = parent_tkey
        self.parent_upto = parent_upto
        self.packed_upto = packed_upto
        self.tail_chunks = tail_chunks
        self.keys = _keys(state)  # the row's listing keys no append changes, as stored


def _keys(state: ThreadState) -> tuple[bool, int]:
    return state.archived, state.created_ms


_CACHED_ROWS = 4096
_KEEP_FREE_PAGES = 1024  # free pages are reused by new chunks; only return what is well beyond that
#: ``undict_bytes`` is stored once it grew this much (and at close): the training threshold is
#: checked in memory, and a crash only delays training by what was not stored
_UNDICT_STEP = 1 << 20


class _BatchLost(Exception):
    """SQLite rolled the whole transaction back on its own (e.g. disk full)."""


class Writer:
    """Owns the writing connection; every method runs on the writer thread.

    Attributes:
        tables: the named statements over the writing connection.
        clock: strictly increasing write times.
        dictionary: the dictionary new chunks are compressed with.
        undict_bytes: raw bytes stored without a dictionary (training starts past a threshold).
        settled: ``(tkey, first seq, last seq)`` of each tail settled by a committed batch, for the
            store to consolidate off this thread (:mod:`store.sqlite.consolidate`); thread-safe.

    Args:
        conn: a connection from :func:`store.sqlite.schema.connect` (already migrated).
        tuning: storage knobs.
        apply: runs one command on this writer (:func:`store.sqlite.command.apply`).
    """

    def __init__(self, conn: sqlite3.Connection, tuning: Tuning, apply: Callable[[Writer, Any], Any]) -> None:
        self.tables = Tables(conn)
        self.tuning = tuning
        self.clock = Clock()
        self.dictionary: Dictionary = NO_DICTIONARY
        self.undict_bytes = 0
        self._apply = apply
        self._known: set[int] = {0}
        self._installed: Dictionary | None = None
        self._saved_undict = 0  # undict_bytes as of the last commit
        self._stored_undict = 0  # ... and as its row holds it
        self._unpacker = Unpacker(self.tables.dictionary, self.tables.blob)
        self._cache: OrderedDict[str, Entry] = OrderedDict()
        self._dirty: dict[int, Entry] = {}
        self._forced: set[int] = set()
        self._sealed: list[tuple[int, int, int]] = []
        self.settled: deque[tuple[int, int, int]] = deque()
        self._freed = False
        self._version = -1
        self.path = self._path()
        self._load_settings()

    @property
    def conn(self) -> sqlite3.Connection:
        return self.tables.conn

    def _path(self) -> str:
        """The database file (for messages)."""
        row = self.conn.execute("PRAGMA database_list").fetchone()
        return row[2] if row and row[2] else "(in memory)"

    # ------------------------------------------------------------------ batches

    def run(self, commands: list[Any]) -> list[tuple[bool, Any]]:
        """Apply ``commands`` in one transaction; ``(ok, result or exception)`` for each."""
        try:
            self._step("begin")
            self._begin()
            alone = len(commands) == 1
            results = []
            for command in commands:
                results.append(self._one(command, alone=alone))
                self._step("command")
            if self.conn.in_transaction:  # False only when a lone command failed and rolled it back
                self._finish()
                self._step("commit")
                self.tables.commit()
        except Exception as exc:  # noqa: BLE001 -- any failure loses the whole batch: nothing was committed
            self._abort()
            return [(False, _batch_error(exc, self.path, command)) for command in commands]
        self._after_commit()
        self.settled.extend(self._sealed)
        self._sealed.clear()
        self._dirty.clear()
        self._forced.clear()
        self._saved_undict = self.undict_bytes
        if self._installed is not None:  # only now is the dictionary durable: start using it
            self.dictionary, self._installed = self._installed, None
        if self._freed:
            self._freed = False
            self._vacuum_quietly(_KEEP_FREE_PAGES)
        while len(self._cache) > _CACHED_ROWS:
            self._cache.popitem(last=False)
        return results

    # Fault injection, for tests only: ``on_step(step, conn)`` is called before BEGIN ("begin"),
    # after each command ("command"), before COMMIT ("commit") and after it, where SQLite's
    # automatic WAL checkpoint has run ("checkpoint"). Whatever it raises is a failure at that step.
    on_step: Callable[[str, sqlite3.Connection], None] | None = None

    def _step(self, step: str) -> None:
        if self.on_step is not None:
            self.on_step(step, self.conn)

    def _after_commit(self) -> None:
        """After COMMIT the batch is durable: a failure here (a checkpoint's) must not fail its callers."""
        try:
            self._step("checkpoint")
        except Exception:  # noqa: BLE001 -- SQLite retries the checkpoint at a later commit
            pass

    def _begin(self) -> None:
        self.tables.begin(immediate=True)
        # We hold the write lock and our own commits keep data_version: it holds until the next batch.
        version = self.tables.data_version()
        if version != self._version:  # another connection wrote: nothing cached is trusted
            self._cache.clear()
            self._load_settings()
            self._version = version

    def _one(self, command: Any, *, alone: bool = False) -> tuple[bool, Any]:
        """Run one command; alone in its batch, the transaction is its unit (no SAVEPOINT)."""
        if not alone:
            self.tables.savepoint()
        try:
            value = self._apply(self, command)
        except Exception as exc:
            if not self.conn.in_transaction:
                raise _BatchLost(str(exc)) from exc
            if alone:
                self.tables.rollback()
                self.undict_bytes, self._installed = self._saved_undict, None
            else:
                self.tables.rollback_to_savepoint()
            return False, translate(exc)
        if not alone:
            self.tables.release()
        return True, value

    def _finish(self) -> None:
        for entry in self._dirty.values():
            self._settle_tail(entry, entry.tkey in self._forced)
        if self._dirty:
            moved, kept = [], []
            for entry in self._dirty.values():
                row = _row(entry)
                keys = _keys(entry.state)
                if keys == entry.keys:  # an append: leave the index of creation times alone
                    kept.append((*row[1:3], *row[4:], entry.tkey))
                else:
                    moved.append((*row, entry.tkey))
                    entry.keys = keys  # if the batch fails, the cache is dropped
            if moved:
                self.tables.update_threads(moved)
            if kept:
                self.tables.update_threads_in_place(kept)
        if self.undict_bytes - self._stored_undict >= _UNDICT_STEP:  # a counter: not worth a page per batch
            self.tables.set_undict_bytes(self.undict_bytes)
            self._stored_undict = self.undict_bytes

    def vacuum(self, keep: int = 0) -> None:
        """Return free pages beyond ``keep`` to the file system, in a transaction of its own.

        Only databases created by this code (``auto_vacuum = INCREMENTAL``) shrink.
        """
        free = self.tables.free_pages()
        if free > keep and not self.conn.in_transaction:
            self.tables.vacuum(free - keep)

    def _abort(self) -> None:
        if self.conn.in_transaction:
            try:
                self.tables.rollback()
            except sqlite3.Error:
                pass
        self._cache.clear()
        self._dirty.clear()
        self._forced.clear()
        self._sealed.clear()
        self._unpacker.forget()
        self._installed = None
        self._version = -1
        try:
            self._load_settings()
        except sqlite3.Error:
            pass  # reloaded at the next batch (data_version differs from -1)

    def _load_settings(self) -> None:
        row = self.tables.newest_dictionary()
        self.dictionary = Dictionary(row[0], row[1]) if row else NO_DICTIONARY
        self._known = {0, *self.tables.dictionary_ids()}
        self.undict_bytes = self._saved_undict = self._stored_undict = self.tables.undict_bytes()

    # ------------------------------------------------------------------ threads

    def thread(self, thread_id: str) -> Entry:
        """The live thread ``thread_id``. Raises ThreadNotFound."""
        entry = self._cache.get(thread_id)
        if entry is not None:
            self._cache.move_to_end(thread_id)
            return entry
        row = self.tables.thread_by_id(thread_id)
        if row is None or row[6]:
            raise ThreadNotFound(thread_id)
        entry = Entry(row[0], _decode_state(row[1], thread_id), row[2], row[3], row[4], row[5])
        self._cache[thread_id] = entry
        return entry

    def writable(self, thread_id: str) -> Entry:
        """Like :meth:`thread`, and raises ThreadArchived for an archived thread."""
        entry = self.thread(thread_id)
        if entry.state.archived:
            raise ThreadArchived(thread_id)
        return entry

    def insert_thread(self, state: ThreadState, parent: Entry | None = None, upto: int | None = None,
                      packed_upto: int = 0) -> Entry:
        """Insert a new thread row; returns its entry (hand it to :meth:`commit_entry`)."""
        entry = Entry(0, state, parent.tkey if parent else None, upto, packed_upto, 0)
        entry.tkey = self.tables.insert_thread(state.id, entry.parent_tkey, upto, _row(entry))
        return entry

    def commit_entry(self, entry: Entry, *, settle: bool = False) -> None:
        """Cache ``entry`` and mark it for the end-of-batch row update (call last)."""
        self._cache[entry.state.id] = entry
        self._cache.move_to_end(entry.state.id)
        self._dirty[entry.tkey] = entry
        if settle:
            self._forced.add(entry.tkey)

    def forget(self, thread_id: str) -> None:
        """Drop a thread from the cache (it was deleted)."""
        entry = self._cache.pop(thread_id, None)
        if entry is not None:
            self._dirty.pop(entry.tkey, None)

    def meta_payload(self, entry: Entry) -> ev.SessionMeta | None:
        """The whole canonical ``session_meta`` payload of a thread (its line ``meta_seq``)."""
        seq = entry.state.meta_seq
        if not seq:
            return None
        row = self.tables.chunk_at_or_before(entry.tkey, seq)
        if row is None:
            raise CorruptLog(f"thread {entry.state.id}: line {seq} is missing")
        try:
            line = decode_line(self._unpacker.lines(row[1], row[2])[seq - row[0]])
        except (DecodeError, IndexError) as exc:
            raise CorruptLog(f"thread {entry.state.id}: line {seq} does not decode: {exc}") from exc
        return line.payload if isinstance(line, ev.SessionMetaLine) else None

    # ------------------------------------------------------------------ chunks

    def insert_chunk(self, tkey: int, first_seq: int, count: int, packed: Packed) -> None:
        """Store one packed chunk holding lines ``first_seq .. first_seq + count - 1``.

        Raises:
            StoreError: the chunk was compressed with a dictionary this database lacks
                (one whose installing batch failed); nothing is written.
        """
        if packed.zdict not in self._known:
            raise StoreError(f"chunk compressed with unknown dictionary {packed.zdict}; retry the write")
        if packed.blobs:
            for digest, (zdict, data) in packed.blobs.items():
                self.tables.put_blob(digest, zdict, data)
            self.tables.link_blobs(tkey, first_seq, packed.blobs)
        self.tables.insert_chunk(tkey, first_seq, first_seq + count - 1, packed.zdict, packed.frame)
        if packed.zdict == 0:
            self.undict_bytes += packed.size

    def knows(self, packed: Packed) -> bool:
        """Whether ``packed`` (compressed off this thread) used a dictionary this database holds."""
        return packed.zdict in self._known

    def pack(self, lines: list[bytes], *, level: int | None = None) -> Packed:
        """Compress lines into one chunk with the current dictionary."""
        return pack(lines, blob_min=self.tuning.blob_min, dictionary=self.dictionary,
                    level=self.tuning.append_level if level is None else level)

    def _settle_tail(self, entry: Entry, forced: bool) -> None:
        """Seal a long tail, merging it first when it is made of many tiny chunks."""
        action = self.tuning.settle(entry.state.last_seq - entry.packed_upto, entry.tail_chunks, forced=forced)
        if action == "keep":
            return
        if action == "merge":
            self._merge_tail(entry)
        self._sealed.append((entry.tkey, entry.packed_upto + 1, entry.state.last_seq))
        entry.packed_upto, entry.tail_chunks = entry.state.last_seq, 0

    def _merge_tail(self, entry: Entry) -> None:
        lo = entry.packed_upto + 1
        rows = self.tables.chunks_from(entry.tkey, lo)
        if not rows or rows[0][0] != lo or rows[-1][1] != entry.state.last_seq:
            raise CorruptLog(f"thread {entry.state.id}: lines {lo}..{entry.state.last_seq} are not all stored")
        body = b"\n".join(self._unpacker.body(zdict, data) for _, _, zdict, data in rows)
        hashes = self.tables.blob_links_after(entry.tkey, lo - 1)
        self.tables.delete_chunks_after(entry.tkey, lo - 1)
        merged = repack(body, {}, dictionary=self.dictionary, level=self.tuning.append_level, size=0)
        self.insert_chunk(entry.tkey, lo, entry.state.last_seq - lo + 1, merged)
        if hashes:
            self.tables.link_blobs(entry.tkey, lo, hashes)

    def delete_chunks(self, tkey: int, after_seq: int = 0) -> None:
        """Delete a thread's chunks that start after ``after_seq``, and blobs nobody uses any more."""
        hashes = self.tables.blob_links_after(tkey, after_seq)
        self.tables.delete_chunks_after(tkey, after_seq)
        self.tables.delete_unused_blobs(hashes)
        self._freed = True

    # ------------------------------------------------------------------ dictionary

    def install_dictionary(self, data: bytes, created_ms: int) -> int:
        """Record a trained dictionary; new chunks use it once this batch commits. Returns its id."""
        zdict = self.tables.insert_dictionary(data, created_ms)
        self._known.add(zdict)
        self._installed = Dictionary(zdict, data)
        return zdict

    def rewrite(self, zdict: int, rewrites: list[tuple[int, int, bytes, bytes]]) -> None:
        """Swap in chunks recompressed with dictionary ``zdict``.

        ``rewrites`` are ``(tkey, seq, old frame, new frame)`` for chunks stored without a
        dictionary; a chunk changed since (merged, deleted, its key reused) no longer holds
        the old frame and is left alone.
        """
        if zdict not in self._known:
            raise StoreError(f"unknown dictionary {zdict}")
        self.tables.recompress_chunks(zdict, rewrites)
        self._freed = True

    def freed(self) -> None:
        """Note that a command freed pages (returned to the file system after the batch, beyond a reserve)."""
        self._freed = True

    def _vacuum_quietly(self, keep: int) -> None:
        try:
            self.vacuum(keep)
        except sqlite3.Error:
            pass  # space is returned at a later batch or at close; the data is committed

    def close(self) -> None:
        """Store the counters, return free pages and close the connection (the store calls this
        on the writer thread)."""
        try:
            self._store_undict_quietly()
            self._vacuum_quietly(0)
        finally:
            self.conn.close()

    def _store_undict_quietly(self) -> None:
        if self.undict_bytes == self._stored_undict or self.conn.in_transaction:
            return
        try:
            self.tables.begin(immediate=True)
            self.tables.set_undict_bytes(self.undict_bytes)
            self.tables.commit()
        except sqlite3.Error:  # only a counter: training may come a little later
            with contextlib.suppress(sqlite3.Error):
                if self.conn.in_transaction:
                    self.tables.rollback()


def _row(entry: Entry) -> tuple[Any, ...]:
    s = entry.state
    meta = s.meta
    return (
        s.created_ms, s.updated_ms, s.last_seq, int(s.archived), s.source_kind,
        s.model_provider, meta.cwd if meta else None, s.name, s.preview,
        entry.packed_upto, entry.tail_chunks, STATE_ENCODER.encode(s),
    )


def _decode_state(data: bytes, thread_id: str) -> ThreadState:
    try:
        return STATE_DECODER.decode(data)
    except msgspec.DecodeError as exc:
        raise CorruptLog(f"thread {thread_id}: stored state does not decode: {exc}") from exc


def _batch_error(exc: BaseException, path: str, command: Any) -> RolloutError:
    """A fresh exception per caller (so the tracebacks of a failed batch do not pile up), naming the
    database and the caller's thread."""
    cause = exc.__cause__ if isinstance(exc, _BatchLost) and exc.__cause__ else exc
    error = translate(cause)
    thread_id = getattr(command, "thread_id", None) or getattr(getattr(command, "state", None), "id", None)
    where = f"{path}, thread {thread_id}" if thread_id else path
    fresh = (CorruptLog if isinstance(error, CorruptLog) else StoreError)(f"write batch failed ({where}): {error}")
    fresh.__cause__ = cause
    return fresh
