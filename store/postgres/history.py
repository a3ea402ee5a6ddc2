"""Replay state per thread life, kept warm in memory and persisted as snapshots (O(tail) resume).

For each recently read thread life ``(thread_id, gen)`` :class:`History` keeps a
``HistoryBuilder`` (turns) and, once a resume asked for it, a ``ContextBuilder``
(resume context), each fed up to some seq. A thread's lines never change once
stored (rollback appends a marker, delete ends the life), so a builder stays
right for its life and a read only feeds it the lines after its seq: the row
read with every call says how far the thread goes, so a read never returns a
stale thread. A cold builder starts from the newest snapshot at or before the
thread's last line (a snapshot written by any process), then replays the rest;
after ``every`` newly replayed lines a snapshot is handed to ``save``. The context part
of a snapshot names the lines whose payloads it holds (``ContextBuilder.dump(by_reference=True)``);
restoring it reads those lines back.

Feeding many lines runs through ``compute`` (off the event loop); a lock per life
keeps two reads from feeding one builder at once.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from replay import ContextBuilder, HistoryBuilder, MidTurn, ResumeContext, Turn, TurnSpan
from rollout import events as ev
from rollout.compression import ZSTD_MAGIC
from rollout.errors import CorruptLog

from ..blobs import Unpacker
from .reader import Row

__all__ = ["History"]

#: ``(row, lo, hi) -> lines lo..hi``
LinesFn = Callable[[Row, int, int], Awaitable[list[ev.Line]]]
#: ``(row, upto, turns, context) -> (seq, turns part, context part)`` of the newest snapshot at or before
#: ``upto`` holding the parts asked for (a part not asked for is None), or None
SnapshotFn = Callable[[Row, int, bool, bool], Awaitable[tuple[int, bytes | None, bytes | None] | None]]
#: ``(row, seq, turns dump, context dump)``: persist a snapshot (later, off the read's path)
SaveFn = Callable[[Row, int, bytes, bytes], None]
ComputeFn = Callable[..., Awaitable[Any]]
#: ``row -> the thread's row as it is now``
RefreshFn = Callable[[Row], Awaitable[Row]]

_INLINE = 256  # fewer lines than this are fed on the event loop: a thread hop would cost more


class _Life:
    __slots__ = ("builder", "context", "context_seq", "lock", "saved", "seq")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.builder: HistoryBuilder | None = None
        self.seq = 0
        self.saved = 0
        self.context: ContextBuilder | None = None
        self.context_seq = 0


class History:
    """Replay builders by thread life (LRU).

    Each read returns the row its answer is for: the row it was given, or a newer one read
    again when another read had already fed the builder past it (so concurrent reads of a
    thread being appended to never rebuild it from a snapshot).

    Args:
        capacity: thread lives kept in memory.
        every: replayed lines between two snapshots.
        lines, snapshot, save, compute, refresh: how to read lines and snapshots, persist one,
            run CPU work and read a thread's row again.
    """

    def __init__(self, *, capacity: int, every: int, lines: LinesFn, snapshot: SnapshotFn, save: SaveFn,
                 compute: ComputeFn, refresh: RefreshFn) -> None:
        self._capacity = max(capacity, 1)
        self._every = every
        self._lines = lines
        self._snapshot = snapshot
        self._save = save
        self._compute = compute
        self._refresh = refresh
        self._lives: OrderedDict[tuple[str, int], _Life] = OrderedDict()

    def forget(self, thread_id: str) -> None:
        """Drop every life of a thread (it was deleted)."""
        for key in [key for key in self._lives if key[0] == thread_id]:
            del self._lives[key]

    async def turns(self, row: Row, items_view: str) -> tuple[Row, list[Turn]]:
        """The thread's turns in ``items_view``."""
        life = self._life(row)
        async with life.lock:
            row, builder = await self._ready(row, life)
            turns = builder.snapshot(items_view=items_view)  # type: ignore[arg-type]
            await self._maybe_save(row, life)
            return row, turns

    async def resume(self, row: Row) -> tuple[Row, list[Turn], ResumeContext]:
        """The thread's turns and the model context to continue it.

        Raises:
            CorruptLog: the context cannot be rebuilt.
        """
        life = self._life(row)
        async with life.lock:
            row, builder = await self._ready(row, life, with_context=True)
            context = (await self._context_ready(row, life)).context()
            if context is None:  # a rollback discarded a compaction already applied: rebuild
                life.context = await self._compute(ContextBuilder.of, await self._lines(row, 1, life.seq))
                context = life.context.context()
            if context is None:
                raise CorruptLog(f"thread {row.thread_id}: its resume context cannot be rebuilt")
            turns = builder.snapshot(items_view="full")
            await self._maybe_save(row, life)
            return row, turns, context

    async def spans(self, row: Row) -> tuple[Row, list[TurnSpan], MidTurn | None]:
        """The thread's turn spans and the turn a whole fork ends inside (``HistoryBuilder.mid_turn``)."""
        life = self._life(row)
        async with life.lock:
            row, builder = await self._ready(row, life)
            return row, builder.spans(), builder.mid_turn

    # ------------------------------------------------------------------ builders

    def _life(self, row: Row) -> _Life:
        key = (row.thread_id, row.gen)
        life = self._lives.get(key)
        if life is None:
            life = self._lives[key] = _Life()
            while len(self._lives) > self._capacity:
                self._lives.popitem(last=False)
        self._lives.move_to_end(key)
        return life

    async def _ready(self, row: Row, life: _Life, *, with_context: bool = False) -> tuple[Row, HistoryBuilder]:
        """The row answered for, and the life's turn builder fed through its last line (``life.lock`` held).

        A cold start for a resume (``with_context``) restores both builders from one snapshot.
        """
        if life.builder is not None and life.seq > row.last_seq:  # another read saw a newer row
            newer = await self._refresh(row)
            row = newer if newer.gen == row.gen else row
        if life.builder is None or life.seq > row.last_seq:
            await self._restore(row, life, with_context)
        if life.seq < row.last_seq:
            lines = await self._lines(row, life.seq + 1, row.last_seq)
            builder, life.builder = life.builder, None  # half fed (an error midway) is never reused
            life.builder = await self._feed(builder, lines)
            life.seq = row.last_seq
        return row, life.builder  # type: ignore[return-value]

    async def _context_ready(self, row: Row, life: _Life) -> ContextBuilder:
        """The life's context builder, fed as far as its turn builder (after :meth:`_ready`)."""
        if life.context is None:
            life.context, life.context_seq = await self._restore_context(row, life.seq)
        if life.context_seq < life.seq:
            lines = await self._lines(row, life.context_seq + 1, life.seq)
            context, life.context = life.context, None
            life.context = await self._feed(context, lines)
            life.context_seq = life.seq
        return life.context

    async def _feed(self, builder: Any, lines: list[ev.Line]) -> Any:
        if len(lines) < _INLINE:
            builder.feed_many(lines)
        else:
            await self._compute(builder.feed_many, lines)
        return builder

    async def _restore(self, row: Row, life: _Life, with_context: bool) -> None:
        """Start the turn builder (and the context builder, if asked) from the newest snapshot, or from nothing."""
        life.builder, life.seq, life.context, life.context_seq = HistoryBuilder(), 0, None, 0
        found = await self._snapshot(row, row.last_seq, True, with_context)
        if found is not None:
            seq, turns, context = found
            loads = [self._compute(self._load, HistoryBuilder, turns)]
            if context is not None:
                loads.append(self._load_context(row, context))
            loaded = await asyncio.gather(*loads, return_exceptions=True)  # on two threads at once
            if isinstance(loaded[0], HistoryBuilder):
                life.builder, life.seq = loaded[0], seq
            if len(loaded) > 1 and isinstance(loaded[1], ContextBuilder) and life.seq == seq:
                life.context, life.context_seq = loaded[1], seq
        life.saved = life.seq

    async def _restore_context(self, row: Row, upto: int) -> tuple[ContextBuilder, int]:
        found = await self._snapshot(row, upto, False, True)
        if found is not None and found[2] is not None:
            loaded = await asyncio.gather(self._load_context(row, found[2]), return_exceptions=True)
            if isinstance(loaded[0], ContextBuilder):
                return loaded[0], found[0]
        return ContextBuilder(), 0

    def _load(self, kind: Any, data: bytes | None) -> Any:
        """A builder from a stored snapshot part (a snapshot is only a cache: a bad one is skipped by the caller)."""
        if data is None:
            raise CorruptLog("snapshot part missing")
        return kind.load(self._unframe(data))

    async def _load_context(self, row: Row, data: bytes) -> ContextBuilder:
        """A context builder from a stored snapshot part; a part holding line references has
        those lines read back (a bad part raises CorruptLog: the caller replays instead)."""
        plain = await self._compute(self._unframe, data)
        wanted = ContextBuilder.references(plain)
        found: dict[int, Any] = {}
        if wanted:
            lines = await self._lines(row, wanted[0] + 1, wanted[-1] + 1)
            found = {index: lines[index - wanted[0]] for index in wanted if index - wanted[0] < len(lines)}

        def payloads(indices: list[int]) -> list[Any]:
            return [line.payload if isinstance(line := found.get(index), ev.ResponseItemLine) else None
                    for index in indices]

        return await self._compute(ContextBuilder.load, plain, payloads)

    def _unframe(self, data: bytes) -> bytes:
        """A stored part, decompressed if it was stored compressed (on any thread: a decompressor of its own)."""
        return Unpacker(_none, _none).decompress(0, data) if data[:4] == ZSTD_MAGIC else data

    async def _maybe_save(self, row: Row, life: _Life) -> None:
        """Hand a snapshot of both builders to ``save`` once ``every`` lines were replayed since the last one."""
        if life.seq - life.saved < self._every or life.builder is None:
            return
        life.saved = life.seq
        context = await self._context_ready(row, life)
        turns, resume = await self._compute(_dumps, life.builder, context)
        self._save(row, life.seq, turns, resume)


def _none(key: Any) -> None:
    return None


def _dumps(builder: HistoryBuilder, context: ContextBuilder) -> tuple[bytes, bytes]:
    return builder.dump(), context.dump(by_reference=True)
