"""Reading a ``SqliteStore``: thread rows, lines across fork pointers, list pages, turns.

Runs on reader threads, each with its own read-only connection; every public
method reads inside one transaction, so it sees a single committed snapshot
(WAL) even while the writer commits.

A fork's lines are stitched from pointers: thread ``T`` with parent ``P`` and
``parent_upto = u`` has its own line 1, then ``P``'s lines 1..u as its lines
2..u+1, then its own lines from u+2 on. :meth:`Reader.raw_lines` resolves a seq
range into ``(thread, range)`` segments up the chain, without recursion.

Replay state is cached per thread (:class:`store.sqlite.cache.TurnCache`): a ``HistoryBuilder``
(turns) and a ``ContextBuilder`` (resume context), so a read after one more
append feeds them one line. A cold read starts from the newest persisted
snapshot of both and replays only the lines after it.

Every statement is a named method of :class:`store.sqlite.tables.Tables`.

Must not import: rollout.cli, rich, asyncio.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import msgspec

from replay import ContextBuilder, HistoryBuilder, MidTurn, ResumeContext, Turn, TurnSpan
from rollout import events as ev
from rollout.codec import decode_item_payload, decode_line
from rollout.compression import ZSTD_MAGIC
from rollout.errors import CorruptLog, DecodeError, ThreadArchived, ThreadNotFound

from ..blobs import Unpacker, compress
from ..listing import ListQuery, folded_contains
from ..state import STATE_DECODER, ThreadState
from .cache import Due, ReplayEntry, TurnCache, dumped
from .tables import Tables

__all__ = [
    "Reader",
    "Row",
    "changes_job",
    "derived_job",
    "last_change_job",
    "open_turn_job",
    "pack_snapshot",
    "raw_lines_job",
    "read_lines_job",
    "resume_job",
    "spans_job",
    "state_job",
    "turns_job",
]


class Row(msgspec.Struct, frozen=True):
    """A live thread row as a reader sees it."""

    tkey: int
    state: ThreadState
    parent_tkey: int | None
    parent_upto: int | None


def pack_snapshot(parts: tuple[bytes, bytes], level: int) -> tuple[bytes, bytes]:
    """The stored ``(data, context)`` of a snapshot's dumps: zstd at ``level`` (0: as they are).

    Thread-safe. Raises StoreError.
    """
    return (compress(parts[0], level), compress(parts[1], level)) if level else parts


class Reader:
    """One reader thread's connection and decoders.

    Args:
        conn: a read-only connection from :func:`store.schema.connect`.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.tables = Tables(conn)
        self.tables.add_function("folded_contains", 2, folded_contains)
        self.unpacker = Unpacker(self.tables.dictionary, self.tables.blob)
        self._forks: dict[int, tuple[int | None, int]] = {}

    def close(self) -> None:
        self.tables.conn.close()

    def snapshot(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` inside one read transaction."""
        self.tables.begin()
        try:
            return fn(*args)
        finally:
            self.tables.commit()

    # ------------------------------------------------------------------ rows

    def row(self, thread_id: str) -> Row:
        """The live thread ``thread_id``. Raises ThreadNotFound."""
        found = self.tables.live_thread(thread_id)
        if found is None:
            raise ThreadNotFound(thread_id)
        try:
            state = STATE_DECODER.decode(found[1])
        except msgspec.DecodeError as exc:
            raise CorruptLog(f"thread {thread_id}: stored state does not decode: {exc}") from exc
        return Row(found[0], state, found[2], found[3])

    def list_page(self, query: ListQuery) -> list[ThreadState]:
        """Up to ``query.limit + 1`` threads matching ``query``, in its order."""
        return [STATE_DECODER.decode(state) for state in self.tables.page(query, query.search)]

    # ------------------------------------------------------------------ lines

    def raw_lines(self, row: Row, lo: int, hi: int) -> list[bytes]:
        """Bytes of the thread's lines ``lo..hi`` (1-based, inclusive), across fork pointers.

        Raises:
            CorruptLog: a line in the range is missing or does not unpack.
        """
        if lo > hi:
            return []
        out: list[bytes] = []
        for _, block in self._blocks(row, lo, hi):
            out += block
        return out

    def lines(self, row: Row, lo: int, hi: int) -> list[ev.Line]:
        """Decoded lines ``lo..hi``. Raises CorruptLog when a stored line does not decode."""
        out = []
        for seq, raw in enumerate(self.raw_lines(row, lo, hi), lo):
            try:
                out.append(decode_line(raw))
            except DecodeError as exc:
                raise CorruptLog(f"thread {row.state.id}: line {seq} does not decode: {exc}") from exc
        return out

    def _segments(self, tkey: int, lo: int, hi: int) -> list[tuple[int, int, int]]:
        heads: list[tuple[int, int, int]] = []
        tails: list[tuple[int, int, int]] = []
        while True:
            parent, upto = self._fork_of(tkey)
            if parent is None:
                heads.append((tkey, lo, hi))
                break
            if lo <= 1:
                heads.append((tkey, 1, 1))
            if max(lo, upto + 2) <= hi:
                tails.append((tkey, max(lo, upto + 2), hi))
            lo, hi = max(lo, 2) - 1, min(hi, upto + 1) - 1
            if lo > hi:
                break
            tkey = parent
        return heads + tails[::-1]

    def _fork_of(self, tkey: int) -> tuple[int | None, int]:
        known = self._forks.get(tkey)
        if known is None:
            found = self.tables.fork_of(tkey)
            if found is None:
                raise CorruptLog(f"thread row {tkey} needed by a fork is missing")
            known = self._forks[tkey] = (found[0], found[1] or 0)
        return known

    def _fetch_blocks(self, tkey: int, lo: int, hi: int) -> Iterator[list[bytes]]:
        """Row ``tkey``'s own lines ``lo..hi``, a chunk's worth at a time (unpacked as they are reached)."""
        first = self.tables.chunk_start(tkey, lo)
        rows = self.tables.chunks_between(tkey, lo if first is None else first, hi)
        expect = lo
        for seq, last, zdict, data in rows:
            if max(lo, seq) != expect or last < expect:
                raise CorruptLog(f"row {tkey}: no chunk holds line {expect}")
            block = self.unpacker.lines(zdict, data)
            if len(block) != last - seq + 1:
                raise CorruptLog(f"block {tkey}:{seq} holds {len(block)} lines, not {last - seq + 1}")
            yield block[expect - seq : min(hi, last) - seq + 1]
            expect = last + 1

    def undict_frames(self, after: tuple[int, int] = (0, 0), limit: int = 64) -> list[tuple[int, int, bytes]]:
        """``(tkey, seq, frame)`` of up to ``limit`` chunks stored without a dictionary, after ``after``."""
        return self.tables.undict_frames(after, limit)

    # ------------------------------------------------------------------ replay

    def turns(self, row: Row, cache: TurnCache, items_view: str, every: int) -> tuple[list[Turn], Any]:
        """The thread's turns; also ``(seq, snapshot)`` when a snapshot is due, else None."""
        entry = cache.entry(row.state.id)
        with entry.lock:
            builder = self._ready(row, entry)
            return builder.snapshot(items_view=items_view), self._due(row, entry, every)  # type: ignore[arg-type]

    def resume(self, row: Row, cache: TurnCache, every: int) -> tuple[list[Turn], Any, ResumeContext]:
        """The thread's turns, the due snapshot (or None) and its resume context."""
        entry = cache.entry(row.state.id)
        with entry.lock:
            builder = self._ready_both(row, entry)
            context = self._context_ready(row, entry).context()
            if context is None:  # a rollback discarded a compaction already applied: rebuild
                entry.context = ContextBuilder.of(self.lines(row, 1, entry.seq))
                context = entry.context.context()
            if context is None:
                raise CorruptLog(f"thread {row.state.id}: its resume context cannot be rebuilt")
            return builder.snapshot(items_view="full"), self._due(row, entry, every), context

    def spans(self, row: Row, cache: TurnCache) -> tuple[list[TurnSpan], MidTurn | None]:
        """``replay.turn_boundaries`` of the thread's lines and where a fork of it ends, from the cached builder."""
        entry = cache.entry(row.state.id)
        with entry.lock:
            builder = self._ready(row, entry)
            return builder.spans(), builder.mid_turn

    def open_turn(self, row: Row, cache: TurnCache) -> MidTurn | None:
        """Where a fork of the whole thread ends (``HistoryBuilder.mid_turn``), from the cached builder."""
        entry = cache.entry(row.state.id)
        with entry.lock:
            return self._ready(row, entry).mid_turn

    def _ready(self, row: Row, entry: ReplayEntry) -> HistoryBuilder:
        """The entry's turn builder, fed through ``row``'s last line (call with ``entry.lock`` held)."""
        if entry.builder is None or entry.seq > row.state.last_seq:  # a newer snapshot than ours: restart
            self._restore(row, entry)
        if entry.seq < row.state.last_seq:
            lines = self.lines(row, entry.seq + 1, row.state.last_seq)
            with_context = entry.context is not None and entry.context_seq == entry.seq  # keep it current too
            try:
                entry.builder.feed_many(lines)  # type: ignore[union-attr]
                if with_context:
                    entry.context.feed_many(lines)  # type: ignore[union-attr]
            except BaseException:
                entry.builder = entry.context = None  # half fed: never reuse them
                raise
            entry.seq = row.state.last_seq
            if with_context:
                entry.context_seq = entry.seq
        return entry.builder  # type: ignore[return-value]

    def _ready_both(self, row: Row, entry: ReplayEntry) -> HistoryBuilder:
        """:meth:`_ready`, and the context builder fed as far, decoding each line once for both."""
        if entry.builder is None or entry.seq > row.state.last_seq:
            self._restore(row, entry)
        if entry.context is None:
            entry.context, entry.context_seq = self._restore_context(row, entry.seq)
        lo = min(entry.seq, entry.context_seq) + 1
        if lo > row.state.last_seq:
            return entry.builder  # type: ignore[return-value]
        lines = self.lines(row, lo, row.state.last_seq)
        for which in ("builder", "context"):
            done = entry.seq if which == "builder" else entry.context_seq
            try:
                getattr(entry, which).feed_many(lines[done + 1 - lo:])
            except BaseException:
                setattr(entry, which, None)  # half fed: never reuse it
                raise
        entry.seq = entry.context_seq = row.state.last_seq
        return entry.builder  # type: ignore[return-value]

    def _context_ready(self, row: Row, entry: ReplayEntry) -> ContextBuilder:
        """The entry's context builder, fed as far as its turn builder (after :meth:`_ready`)."""
        if entry.context is None:
            entry.context, entry.context_seq = self._restore_context(row, entry.seq)
        if entry.context_seq < entry.seq:
            lines = self.lines(row, entry.context_seq + 1, entry.seq)
            try:
                entry.context.feed_many(lines)
            except BaseException:
                entry.context = None  # half fed: never reuse it
                raise
            entry.context_seq = entry.seq
        return entry.context

    def _due(self, row: Row, entry: ReplayEntry, every: int) -> Due | None:
        """The snapshot to save once ``every`` lines were replayed since the last one (else None)."""
        if entry.seq - entry.saved < every:
            return None
        self._context_ready(row, entry)
        return dumped(entry, row.state.id)

    def _restore(self, row: Row, entry: ReplayEntry) -> None:
        """Start the entry's turn builder from the newest persisted snapshot (or from nothing)."""
        found = self.tables.turn_snapshot(row.tkey, row.state.last_seq)
        entry.builder, entry.seq, entry.context = HistoryBuilder(), 0, None
        if found is not None:
            try:
                entry.builder, entry.seq = HistoryBuilder.load(self._unframe(found[1])), found[0]
            except (CorruptLog, msgspec.DecodeError, ValueError):
                pass  # a snapshot is only a cache: replay from the start
        entry.saved = entry.seq

    def _restore_context(self, row: Row, upto: int) -> tuple[ContextBuilder, int]:
        """A context builder from the newest persisted snapshot at or before ``upto`` (or a new one).

        A snapshot keeps the context's items as references to the thread's lines: their
        payloads are read back here.
        """
        found = self.tables.context_snapshot(row.tkey, upto)
        if found is not None:
            try:
                return ContextBuilder.load(self._unframe(found[1]), lambda wanted: self._payloads(row, wanted)), found[0]
            except CorruptLog:
                pass  # a snapshot is only a cache: replay from the start
        return ContextBuilder(), 0

    def _payloads(self, row: Row, indices: list[int]) -> list[Any]:
        """Payloads of the thread's lines at 0-based ``indices`` (ascending); CorruptLog if one is not a response item.

        Chunk by chunk, so a long thread's bytes are never all held at once.
        """
        out: list[Any] = []
        at = 0
        for first, block in self._blocks(row, indices[0] + 1, indices[-1] + 1):
            end = first + len(block)
            while at < len(indices) and indices[at] + 1 < end:
                seq = indices[at] + 1
                try:
                    out.append(decode_item_payload(block[seq - first]))
                except DecodeError as exc:
                    raise CorruptLog(f"thread {row.state.id}: line {seq}: {exc}") from exc
                at += 1
        if at != len(indices):
            raise CorruptLog(f"thread {row.state.id}: line {indices[at] + 1} is not stored")
        return out

    def _blocks(self, row: Row, lo: int, hi: int) -> Iterator[tuple[int, list[bytes]]]:
        """``(seq of the first, lines)`` of consecutive pieces of lines ``lo..hi``, across fork pointers.

        Raises:
            CorruptLog: a piece is missing, or a chunk does not unpack.
        """
        seq = lo
        for tkey, a, b in self._segments(row.tkey, lo, hi):
            for block in self._fetch_blocks(tkey, a, b):
                yield seq, block
                seq += len(block)
        if seq != hi + 1:
            raise CorruptLog(f"thread {row.state.id}: lines {lo}..{hi} are not all stored")

    def _unframe(self, data: bytes) -> bytes:
        """A stored snapshot part, decompressed if it was stored compressed."""
        return self.unpacker.decompress(0, data) if data[:4] == ZSTD_MAGIC else data


# --------------------------------------------------------------------------- jobs (one read transaction each)


def read_lines_job(reader: Reader, thread_id: str, start: int, end: int | None) -> list[ev.Line]:
    row = reader.row(thread_id)
    last = row.state.last_seq if end is None else min(end, row.state.last_seq)
    return reader.lines(row, start + 1, last)


def raw_lines_job(reader: Reader, thread_id: str) -> list[bytes]:
    row = reader.row(thread_id)
    return reader.raw_lines(row, 1, row.state.last_seq)


def turns_job(reader: Reader, cache: TurnCache, thread_id: str, items_view: str, every: int) -> tuple[Any, ...]:
    row = reader.row(thread_id)
    turns, due = reader.turns(row, cache, items_view, every)
    return row, turns, due


def resume_job(reader: Reader, cache: TurnCache, thread_id: str, every: int) -> tuple[Any, ...]:
    row = reader.row(thread_id)
    if row.state.archived:
        raise ThreadArchived(thread_id)
    turns, due, context = reader.resume(row, cache, every)
    return row, turns, due, context


def state_job(reader: Reader, thread_id: str) -> ThreadState:
    return reader.row(thread_id).state


def open_turn_job(reader: Reader, cache: TurnCache, thread_id: str) -> tuple[ThreadState, MidTurn | None]:
    row = reader.row(thread_id)
    return row.state, reader.open_turn(row, cache)


def spans_job(reader: Reader, cache: TurnCache, thread_id: str) -> tuple[ThreadState, list[TurnSpan], MidTurn | None]:
    row = reader.row(thread_id)
    spans, open_turn = reader.spans(row, cache)
    return row.state, spans, open_turn


def derived_job(reader: Reader, thread_id: str, name: str, parts: Any) -> tuple[ThreadState, dict[int, bytes]]:
    row = reader.row(thread_id)
    return row.state, reader.tables.derived(row.tkey, name, parts)


def last_change_job(reader: Reader) -> int:
    return reader.tables.last_change()


def changes_job(reader: Reader, after: int) -> list[tuple[int, str, str, str, int | None, str | None]]:
    return reader.tables.changes_after(after, 1000)
