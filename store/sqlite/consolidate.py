"""Consolidation: a thread's settled appends rewritten as fewer chunks at the bulk zstd level.

Each append is stored as one chunk, compressed by the caller at the fast
``Tuning.append_level``. Once the writer settles a thread's tail
(:meth:`store.tuning.Tuning.settle`), those lines never change again, so the store
rewrites them, off the caller's and the writer's hot paths:

1. a reader thread reads the settled range's chunk rows and their bodies
   (:func:`settled_rows_job`);
2. a packer thread joins consecutive chunks into chunks of about ``chunk_lines`` lines
   (or ``chunk_bytes`` bytes), compresses each at ``Tuning.settled_level`` with the
   store's dictionary, and gives up unless that is smaller (:func:`plan`);
3. the writer swaps the rows in one command (:class:`Consolidate`, :func:`apply`), only if
   the range is still settled and held by the same rows: same seqs, dictionary and size.
   A settled line never changes, only how it is stored, and a thread's key is never reused,
   so that check (which reads no chunk data) is enough. A dictionary rewrite or a delete
   that came first wins; the consolidation is then dropped.

Larger chunks compress better (zstd sees more context) and waste less of SQLite's
overflow pages (about half a page per row). Lines keep their seqs and bytes: each chunk
still holds a contiguous seq range, so line-range reads (``chunk_start``), fork pointers
(a fork reads its parent's lines by seq) and exports are unaffected. A swap is one
command inside the writer's transaction: a crash leaves the old rows or the new ones.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rollout.errors import RolloutError

from ..blobs import Dictionary, Packed, compress, references
from ..tuning import Tuning
from .writer import Writer

__all__ = ["ROUND", "Consolidate", "Consolidator", "apply", "plan", "plan_all", "settled_rows_job"]

#: most ranges consolidated in one round
ROUND = 16
#: while the writer is saturated a round waits, looking again every YIELD seconds, for at most
#: YIELD_MOST seconds (or until ROUND_MOST ranges are waiting): a burst of writes goes first
YIELD = 0.02
YIELD_MOST = 2.0
ROUND_MOST = 256
#: a stored chunk row: ``(seq, last, zdict, data)``
ChunkRow = tuple[int, int, int | None, bytes]
#: what identifies a stored chunk row: ``(seq, last, zdict, length of data)``
Shape = tuple[int, int, int | None, int]


@dataclass(frozen=True, slots=True)
class Consolidate:
    """Replace a thread's chunk rows shaped ``old`` by ``new`` (``(first seq, last seq, chunk, blob hashes)``)."""

    tkey: int
    old: list[Shape]
    new: list[tuple[int, int, Packed, frozenset[bytes]]]


def settled_rows_job(reader: Any, ranges: list[tuple[int, int, int]]) -> list[tuple[int, list[ChunkRow], list[bytes]]]:
    """``(tkey, rows, bodies)`` of the chunk rows holding each settled range ``(tkey, lo, hi)``;
    a range is left out if its thread is gone, it is not settled, or its rows do not hold
    exactly ``lo..hi`` (they were consolidated already, or purged)."""
    found = []
    for tkey, lo, hi in ranges:
        upto = reader.tables.settled_upto(tkey)
        if upto is None or upto < hi:
            continue
        rows = list(reader.tables.chunks_between(tkey, lo, hi))
        if _tiles(rows, lo, hi):
            found.append((tkey, rows, [reader.unpacker.body(zdict, data) for _, _, zdict, data in rows]))
    return found


def _tiles(rows: list[ChunkRow], lo: int, hi: int) -> bool:
    if not rows or rows[0][0] != lo or rows[-1][1] != hi:
        return False
    return all(rows[i + 1][0] == rows[i][1] + 1 for i in range(len(rows) - 1))


def plan(tkey: int, rows: list[ChunkRow], bodies: list[bytes], *, dictionary: Dictionary, level: int,
         chunk_lines: int, chunk_bytes: int) -> Consolidate | None:
    """The consolidation of ``rows`` (bodies ``bodies``), or None when it would not be smaller.

    Consecutive chunks are joined until a group holds ``chunk_lines`` lines or
    ``chunk_bytes`` bytes; a chunk is never split, so each append stays in one chunk.
    Thread-safe (runs on a packer thread).

    Raises:
        StoreError: zstd failed.
    """
    new: list[tuple[int, int, Packed, frozenset[bytes]]] = []
    start, size = 0, 0
    for i, (_, last, _, _) in enumerate(rows):
        size += len(bodies[i])
        if last - rows[start][0] + 1 >= chunk_lines or size >= chunk_bytes or i + 1 == len(rows):
            body = b"\n".join(bodies[start : i + 1])
            packed = Packed(dictionary.zdict, compress(body, level, dictionary), {}, 0)
            new.append((rows[start][0], last, packed, frozenset(references(body))))
            start, size = i + 1, 0
    if sum(len(packed.frame) for _, _, packed, _ in new) >= sum(len(row[3]) for row in rows):
        return None
    return Consolidate(tkey, [(seq, last, zdict, len(data)) for seq, last, zdict, data in rows], new)


def plan_all(found: list[tuple[int, list[ChunkRow], list[bytes]]], **options: Any) -> list[Consolidate]:
    """:func:`plan` for each ``(tkey, rows, bodies)``, leaving out those not worth it."""
    return [command for args in found if (command := plan(*args, **options)) is not None]


def apply(writer: Writer, command: Consolidate) -> bool:
    """Swap the rows on the writer thread; False (nothing written) if they changed since they were read."""
    tables, tkey = writer.tables, command.tkey
    lo, hi = command.old[0][0], command.old[-1][1]
    upto = tables.settled_upto(tkey)
    if upto is None or upto < hi or not all(writer.knows(packed) for _, _, packed, _ in command.new):
        return False
    if tables.chunk_shapes(tkey, lo, hi) != command.old:
        return False
    tables.delete_chunks_between(tkey, lo, hi)
    for first, last, packed, links in command.new:
        tables.insert_chunk(tkey, first, last, packed.zdict, packed.frame)
        if links:
            tables.link_blobs(tkey, first, links)
    writer.freed()
    return True


class Consolidator:
    """Consolidates settled ranges on the event loop's side: whatever is queued, up to
    :data:`ROUND` ranges, is read in one reader job, packed in one packer job and swapped in
    one batch, so the work keeps up with many writers at a few thread hops per round.

    Args:
        read: runs a job on a reader thread (``SqliteStore._read``).
        pack: runs a function on a packer thread (``SqliteStore._pack``).
        submit: queues a write command and waits for its commit (``SqliteStore._submit``).
        dictionary: the dictionary new chunks are compressed with, now.
        tuning: the store's knobs (``settled_level``: 0 turns consolidation off; ``chunk_lines``, ``chunk_bytes``).
        busy: whether the writer is saturated now; a round then waits (see :data:`YIELD`).
    """

    def __init__(self, read: Callable[..., Awaitable[Any]], pack: Callable[..., Awaitable[Any]],
                 submit: Callable[[Any], Awaitable[Any]], dictionary: Callable[[], Dictionary], tuning: Tuning,
                 busy: Callable[[], bool] = lambda: False) -> None:
        self._read, self._pack, self._submit = read, pack, submit
        self._busy = busy
        self._closing = False
        self._dictionary = dictionary
        self._tuning = tuning
        self._pending: deque[tuple[int, int, int]] = deque()
        self._task: asyncio.Task[None] | None = None
        self.done = 0

    def note(self, ranges: Iterable[tuple[int, int, int]]) -> None:
        """Queue settled ``(tkey, first seq, last seq)`` ranges (call on the event loop)."""
        if self._tuning.settled_level <= 0:
            return
        self._pending.extend(ranges)
        if self._pending and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="store-consolidate")

    async def close(self) -> None:
        """Wait until every range queued so far is consolidated (or dropped)."""
        self._closing = True
        while self._task is not None:
            await asyncio.shield(self._task)

    async def _run(self) -> None:
        try:
            while self._pending:
                waited = 0.0
                while (self._busy() and not self._closing and waited < YIELD_MOST
                       and len(self._pending) < ROUND_MOST):
                    await asyncio.sleep(YIELD)
                    waited += YIELD
                ranges = [self._pending.popleft() for _ in range(min(ROUND, len(self._pending)))]
                try:
                    await self._round(ranges)
                except RolloutError:
                    pass  # only a saving: the ranges stay as they were
        finally:
            self._task = None

    async def _round(self, ranges: list[tuple[int, int, int]]) -> None:
        found = await self._read(settled_rows_job, ranges)
        if not found:
            return
        t = self._tuning
        commands = await self._pack(plan_all, found, dictionary=self._dictionary(), level=t.settled_level,
                                    chunk_lines=t.chunk_lines, chunk_bytes=t.chunk_bytes)
        swapped = await asyncio.gather(*map(self._submit, commands), return_exceptions=True)
        self.done += sum(result is True for result in swapped)
