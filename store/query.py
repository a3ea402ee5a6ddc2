"""Reading a ``SqliteStore``: thread rows, lines across fork pointers, list pages, turns.

Runs on reader threads, each with its own read-only connection; every public
method reads inside one transaction, so it sees a single committed snapshot
(WAL) even while the writer commits.

A fork's lines are stitched from pointers: thread ``T`` with parent ``P`` and
``parent_upto = u`` has its own line 1, then ``P``'s lines 1..u as its lines
2..u+1, then its own lines from u+2 on. :meth:`Reader.raw_lines` resolves a seq
range into ``(thread, range)`` segments up the chain, without recursion.

Replay state is cached per thread (:class:`TurnCache`): a read after one more
append feeds the builder one line. A cold read starts from the newest persisted
snapshot and replays only the lines after it.

Must not import: rollout.cli, rich, asyncio.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import msgspec
import zstandard

from replay import HistoryBuilder, Turn, TurnSpan, resume_context
from rollout import events as ev
from rollout.codec import decode_line
from rollout.errors import CorruptLog, DecodeError, StoreError, ThreadArchived, ThreadNotFound

from .blobs import Unpacker
from .listing import ListQuery, folded_contains
from .state import STATE_DECODER, ThreadState, fork_span, open_turn_after

__all__ = [
    "Reader", "Row", "TurnCache",
    "read_lines_job", "raw_lines_job", "turns_job", "resume_job", "fork_point_job",
]

_ROW = "SELECT tkey, state, parent_tkey, parent_upto FROM threads WHERE id = ? AND deleted = 0"


class Row(msgspec.Struct, frozen=True):
    """A live thread row as a reader sees it."""

    tkey: int
    state: ThreadState
    parent_tkey: int | None
    parent_upto: int | None


class _Builder:
    __slots__ = ("lock", "builder", "seq", "saved")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.builder: HistoryBuilder | None = None
        self.seq = 0
        self.saved = 0


class TurnCache:
    """Replay builders by thread (LRU), shared by every reader thread."""

    def __init__(self, capacity: int) -> None:
        self._capacity = max(capacity, 1)
        self._lock = threading.Lock()
        self._entries: OrderedDict[int, _Builder] = OrderedDict()

    def entry(self, tkey: int) -> _Builder:
        with self._lock:
            entry = self._entries.get(tkey)
            if entry is None:
                entry = self._entries[tkey] = _Builder()
                if len(self._entries) > self._capacity:
                    self._entries.popitem(last=False)
            self._entries.move_to_end(tkey)
            return entry

    def drop(self, tkey: int) -> None:
        with self._lock:
            self._entries.pop(tkey, None)


class Reader:
    """One reader thread's connection and decoders.

    Args:
        conn: a read-only connection from :func:`store.schema.connect`.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        conn.create_function("folded_contains", 2, folded_contains, deterministic=True)
        self.unpacker = Unpacker(self._dictionary, self._blob)
        self._forks: dict[int, tuple[int | None, int | None]] = {}
        self._compressor = zstandard.ZstdCompressor(level=3)

    def close(self) -> None:
        self.conn.close()

    def snapshot(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` inside one read transaction."""
        self.conn.execute("BEGIN")
        try:
            return fn(*args)
        finally:
            self.conn.execute("COMMIT")

    # ------------------------------------------------------------------ rows

    def row(self, thread_id: str) -> Row:
        """The live thread ``thread_id``. Raises ThreadNotFound."""
        found = self.conn.execute(_ROW, (thread_id,)).fetchone()
        if found is None:
            raise ThreadNotFound(thread_id)
        try:
            state = STATE_DECODER.decode(found[1])
        except msgspec.DecodeError as exc:
            raise CorruptLog(f"thread {thread_id}: stored state does not decode: {exc}") from exc
        return Row(found[0], state, found[2], found[3])

    def list_page(self, query: ListQuery) -> list[ThreadState]:
        """Up to ``query.limit + 1`` threads matching ``query``, newest first."""
        column = "created_ms" if query.sort == "created_at" else "updated_ms"
        where, args = ["deleted = 0"], []
        if query.archived is not None:
            where.append("archived = ?")
            args.append(int(query.archived))
        for name, values in (("source_kind", query.sources), ("model_provider", query.providers),
                             ("cwd", query.cwds)):
            if values is not None:
                where.append(f"{name} IN ({', '.join('?' * len(values))})")
                args += values
        if query.search is not None:
            where.append("(folded_contains(name, ?) OR folded_contains(preview, ?))")
            args += (query.search, query.search)
        if query.after is not None:
            where.append(f"({column}, id) < (?, ?)")
            args += query.after
        sql = (f"SELECT state FROM threads WHERE {' AND '.join(where)} "
               f"ORDER BY {column} DESC, id DESC LIMIT ?")
        rows = self.conn.execute(sql, (*args, query.limit + 1)).fetchall()
        return [STATE_DECODER.decode(state) for (state,) in rows]

    # ------------------------------------------------------------------ lines

    def raw_lines(self, row: Row, lo: int, hi: int) -> list[bytes]:
        """Bytes of the thread's lines ``lo..hi`` (1-based, inclusive), across fork pointers.

        Raises:
            CorruptLog: a line in the range is missing or does not unpack.
        """
        if lo > hi:
            return []
        out: list[bytes] = []
        for tkey, a, b in self._segments(row.tkey, lo, hi):
            out += self._fetch(tkey, a, b)
        if len(out) != hi - lo + 1:
            raise CorruptLog(f"thread {row.state.id}: lines {lo}..{hi} are not all stored")
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

    def _fork_of(self, tkey: int) -> tuple[int | None, int | None]:
        known = self._forks.get(tkey)
        if known is None:
            found = self.conn.execute(
                "SELECT parent_tkey, parent_upto FROM threads WHERE tkey = ?", (tkey,)
            ).fetchone()
            if found is None:
                raise CorruptLog(f"thread row {tkey} needed by a fork is missing")
            known = self._forks[tkey] = (found[0], found[1] or 0)
        return known

    def _fetch(self, tkey: int, lo: int, hi: int) -> list[bytes]:
        first = self.conn.execute(
            "SELECT seq FROM chunks WHERE tkey = ? AND seq <= ? ORDER BY seq DESC LIMIT 1", (tkey, lo)
        ).fetchone()
        rows = self.conn.execute(
            "SELECT seq, last, zdict, data FROM chunks WHERE tkey = ? AND seq BETWEEN ? AND ? ORDER BY seq",
            (tkey, first[0] if first else lo, hi),
        )
        out: list[bytes] = []
        for seq, last, zdict, data in rows:
            block = self.unpacker.lines(zdict, data)
            if len(block) != last - seq + 1:
                raise CorruptLog(f"block {tkey}:{seq} holds {len(block)} lines, not {last - seq + 1}")
            out += block[max(lo, seq) - seq : min(hi, last) - seq + 1]
        return out

    def undict_frames(self) -> list[tuple[int, int, bytes]]:
        """``(tkey, seq, frame)`` of every chunk stored without a dictionary."""
        return self.conn.execute("SELECT tkey, seq, data FROM chunks WHERE zdict = 0").fetchall()

    def _dictionary(self, zdict: int) -> bytes | None:
        found = self.conn.execute("SELECT data FROM dictionaries WHERE id = ?", (zdict,)).fetchone()
        return None if found is None else found[0]

    def _blob(self, digest: bytes) -> tuple[int | None, bytes] | None:
        return self.conn.execute("SELECT zdict, data FROM blobs WHERE hash = ?", (digest,)).fetchone()

    # ------------------------------------------------------------------ replay

    def turns(self, row: Row, cache: TurnCache, items_view: str, every: int) -> tuple[list[Turn], Any]:
        """The thread's turns; also ``(seq, dump)`` when a snapshot is due, else None."""
        entry = cache.entry(row.tkey)
        with entry.lock:
            builder = self._ready(row, entry)
            turns = builder.snapshot(items_view=items_view)  # type: ignore[arg-type]
            due = None
            if entry.seq - entry.saved >= every:
                due, entry.saved = (entry.seq, self._compress(builder.dump())), entry.seq
            return turns, due

    def spans(self, row: Row, cache: TurnCache) -> list[TurnSpan]:
        """``replay.turn_boundaries`` of the thread's lines, from the cached builder."""
        entry = cache.entry(row.tkey)
        with entry.lock:
            return self._ready(row, entry).spans()

    def _ready(self, row: Row, entry: _Builder) -> HistoryBuilder:
        """The entry's builder, fed through ``row``'s last line (call with ``entry.lock`` held)."""
        if entry.builder is None or entry.seq > row.state.last_seq:  # a newer snapshot than ours: restart
            entry.builder, entry.seq = self._restore(row)
            entry.saved = entry.seq
        if entry.seq < row.state.last_seq:
            lines = self.lines(row, entry.seq + 1, row.state.last_seq)
            try:
                entry.builder.feed_many(lines)
            except BaseException:
                entry.builder = None  # half fed: never reuse it
                raise
            entry.seq = row.state.last_seq
        return entry.builder

    def _restore(self, row: Row) -> tuple[HistoryBuilder, int]:
        found = self.conn.execute(
            "SELECT seq, data FROM snapshots WHERE tkey = ? AND seq <= ? ORDER BY seq DESC LIMIT 1",
            (row.tkey, row.state.last_seq),
        ).fetchone()
        if found is not None:
            try:
                return HistoryBuilder.load(self.unpacker.decompress(0, found[1])), found[0]
            except (CorruptLog, msgspec.DecodeError, ValueError):
                pass  # a snapshot is only a cache: replay from the start instead
        return HistoryBuilder(), 0

    def _compress(self, data: bytes) -> bytes:
        try:
            return self._compressor.compress(data)
        except zstandard.ZstdError as exc:
            raise StoreError(f"zstd compression failed: {exc}") from exc


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
    turns, due = reader.turns(row, cache, "full", every)
    context = resume_context(reader.lines(row, 1, row.state.last_seq))
    return row, turns, due, context


def fork_point_job(reader: Reader, cache: TurnCache, thread_id: str, at_turn: int | str) -> tuple[int, str | None]:
    row = reader.row(thread_id)
    if row.state.archived:
        raise ThreadArchived(thread_id)
    span = fork_span(reader.spans(row, cache), at_turn)
    return span.end, open_turn_after(reader.lines(row, span.start + 1, span.end))
