"""A ``SqliteStore``'s background upkeep: the zstd dictionary, and replay state that follows the writes.

* **Dictionary.** Once enough is stored without one, a dictionary is trained on a packer
  thread when writes pause (:data:`_TRAIN_QUIET` seconds without a batch), at the latest
  :data:`_TRAIN_LATEST` seconds after it became due, or when the store closes; then what was
  stored without it is recompressed a page at a time.
* **Replay state.** The store's own appends are fed to the thread's cached replay builders
  on the event loop after they commit (:func:`store.sqlite.cache.feed_written`), and the
  builders are snapshotted as the thread grows and on close, so a read after reopening
  replays little or nothing. A snapshot keeps the resume context as line references.

:class:`Upkeep` is a mixin of :class:`store.sqlite.store.SqliteStore`, which provides the
attributes it declares.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from rollout import events as ev
from rollout.codec import decode_line, raw_bytes
from rollout.errors import RolloutError

from ..blobs import recompress, train
from ..tuning import Tuning
from .cache import TurnCache, feed_written, unsaved
from .command import InstallDictionary, Rewrite, SaveSnapshot
from .consolidate import Consolidator
from .group_commit import GroupCommit
from .reader import Reader, pack_snapshot
from .writer import Writer

__all__ = ["Upkeep"]

#: Seconds without a committed batch after which a due dictionary is trained ...
_TRAIN_QUIET = 0.1
#: ... or seconds after it became due, whatever the writes.
_TRAIN_LATEST = 10.0
#: Chunks (each at most ``Tuning.chunk_bytes`` of lines) and stored bytes recompressed with a new
#: dictionary per write command: bounds what is held at once.
_RECOMPRESS_ROWS = 16
_RECOMPRESS_BYTES = 1 << 20
#: Writes waiting for the writer above which it counts as saturated: the store's own appends
#: are then not fed to replay builders (it would cost 64 producers a third of their rate), and
#: consolidation waits (:mod:`store.sqlite.consolidate`).
_BACKLOG = 4


class Upkeep:
    """Dictionary training and write-following replay state (mixin of ``SqliteStore``)."""

    tuning: Tuning
    _writer: Any  # the writer lane: ``.obj`` is the Writer (None when read-only or closed)
    _commits: GroupCommit
    _consolidator: Consolidator
    _cache: TurnCache
    _closed: bool
    _training: asyncio.Task[None] | None
    _train_timer: asyncio.TimerHandle | None
    _train_due: float
    _last_batch: float
    _train_at: int
    _snapshots: set[asyncio.Task[None]]
    _feeds: int
    _read: Callable[..., Any]
    _pack: Callable[..., Any]
    _submit: Callable[..., Any]

    # ------------------------------------------------------------------ after each batch, and the dictionary

    def _committed(self) -> None:
        """After each batch: consolidate the tails it settled, and train the dictionary when due."""
        writer: Writer | None = self._writer.obj
        if writer is not None and writer.settled:
            settled = [writer.settled.popleft() for _ in range(len(writer.settled))]
            if not self._closed:
                self._consolidator.note(settled)
        self._maybe_train()

    def _maybe_train(self) -> None:
        """After each batch: once enough is stored without a dictionary, train one when writes
        pause (:data:`_TRAIN_QUIET` seconds without a batch), or at the latest
        :data:`_TRAIN_LATEST` seconds later, or when the store closes. Training takes a core
        for a while (about 0.1 s per MB of samples): a burst of writes does not share it."""
        loop = asyncio.get_running_loop()
        self._last_batch = loop.time()
        if self._train_timer is None and self._training_due():
            self._train_due = self._last_batch
            self._train_timer = loop.call_later(_TRAIN_QUIET, self._train_when_quiet)

    def _training_due(self) -> bool:
        writer: Writer | None = self._writer.obj
        return (self._training is None and not self._closed and writer is not None
                and writer.dictionary.zdict == 0 and writer.undict_bytes >= self._train_at)

    def _train_when_quiet(self) -> None:
        self._train_timer = None
        now = asyncio.get_running_loop().time()
        quiet = now - self._last_batch
        if quiet >= _TRAIN_QUIET or now - self._train_due >= _TRAIN_LATEST:
            self._train_if_due()
        elif self._training_due():
            self._train_timer = asyncio.get_running_loop().call_later(_TRAIN_QUIET - quiet, self._train_when_quiet)

    def _train_if_due(self) -> None:
        if self._train_timer is not None:
            self._train_timer.cancel()
            self._train_timer = None
        if self._training_due():
            self._training = asyncio.get_running_loop().create_task(self._train(), name="store-dictionary")

    async def _train(self) -> None:
        """Train the dictionary off the writer thread, install it, then recompress what was stored without."""
        level = self.tuning.bulk_level
        try:
            data = await self._pack(train, await self._sample(), self.tuning.dictionary_size, level,
                                    self.tuning.dictionary_after)
            zdict = await self._submit(InstallDictionary(data, []))
            for _ in range(2):  # the second pass: chunks packed without it while it was being installed
                after = (0, 0)
                while page := _first_bytes(await self._read(Reader.undict_frames, after, _RECOMPRESS_ROWS),
                                           _RECOMPRESS_BYTES):
                    await self._submit(Rewrite(zdict, await self._pack(recompress, page, data, level)))
                    after = page[-1][:2]
        except RolloutError:  # too little or too uniform data, or closing: try again with twice as much
            self._train_at = 2 * max(self._writer.obj.undict_bytes, self._train_at)
        finally:
            self._training = None

    async def _sample(self) -> list[tuple[int, int, bytes]]:
        """Chunks stored without a dictionary to train on: the first ones, up to about
        ``dictionary_after`` bytes of lines (a folder imported in one go is not all held at once)."""
        frames: list[tuple[int, int, bytes]] = []
        after, size = (0, 0), 0
        while size < self.tuning.dictionary_after // 3 and (
                page := _first_bytes(await self._read(Reader.undict_frames, after), _RECOMPRESS_BYTES)):
            frames += page
            size += sum(len(frame) for *_, frame in page)
            after = page[-1][:2]
        return frames

    # ------------------------------------------------------------------ replay state kept as lines are written

    def _saturated(self) -> bool:
        """Whether more writes wait for the writer than a few callers make: background work
        (feeding replay builders, consolidating chunks) then gives way to the writes."""
        return self._commits.backlog > _BACKLOG

    def _lines_written(self, thread_id: str, first_seq: int, lines: list[ev.Line], raw: list[bytes]) -> None:
        """Feed the thread's cached builders the lines just committed, soon, on the event loop.

        The caller does not wait: the append has returned, and the feed runs when the loop
        is next free, typically while the writer thread waits on the next commit's fsync.
        It runs on the loop rather than on a thread of its own because it is pure Python:
        a busy thread would hold the GIL against the loop and the writer. A new thread gets
        its builders here, so its replay state is current from its first line; a thread not
        in the cache is left for its next read. Snapshots are saved as the thread grows and
        when the store closes, so a read after reopening replays little or nothing.
        """
        if self._closed or self._writer.obj is None or not self.tuning.follow_writes:
            return
        self._feeds += 1
        asyncio.get_running_loop().call_soon(self._feed_builders, thread_id, first_seq, lines, raw)

    def _feed_builders(self, thread_id: str, first_seq: int, lines: list[ev.Line], raw: list[bytes]) -> None:
        """Run one feed, unless the writer is saturated: then write throughput comes first
        (the builders fall behind and the thread's next read catches them up).

        A line built in code (not decoded) is fed as its stored bytes decode, so the builders
        hold exactly what a replay of the stored thread would."""
        self._feeds -= 1
        if self._saturated():
            return
        entry = self._cache.entry(thread_id) if first_seq == 1 else self._cache.find(thread_id)
        if entry is None:
            return
        try:
            lines = [line if raw_bytes(line) is data else decode_line(data) for line, data in zip(lines, raw, strict=True)]
            due = feed_written(entry, thread_id, first_seq, lines, self.tuning.snapshot_every)
        except Exception:  # noqa: BLE001 - the builders were dropped; the next read replays and reports it
            return
        if due is not None:
            self._snapshot_later(*due)

    async def _settled(self) -> None:
        """Wait until the feeds scheduled so far ran and the snapshots they made are committed."""
        while self._feeds or self._snapshots:
            await asyncio.sleep(0)
            if self._snapshots:
                await asyncio.gather(*self._snapshots, return_exceptions=True)
        await self._commits.drain()

    async def _save_unsaved(self) -> None:
        """Closing: let the feeds run, then snapshot every cached thread fed since its last snapshot."""
        if self._writer.obj is None:
            return
        while self._feeds:
            await asyncio.sleep(0)
        for due in await self._pack(unsaved, self._cache):
            self._snapshot_later(*due)

    def _snapshot_later(self, thread_id: str, seq: int, data: tuple[bytes, bytes]) -> None:
        """Compress a replay snapshot on a packer thread, then queue it (off the reader's path)."""
        if not self._closed and self._writer.obj is not None:
            task = asyncio.get_running_loop().create_task(self._save_snapshot(thread_id, seq, data))
            self._snapshots.add(task)
            task.add_done_callback(self._snapshots.discard)

    async def _save_snapshot(self, thread_id: str, seq: int, data: tuple[bytes, bytes]) -> None:
        try:
            turns, context = await self._pack(pack_snapshot, data, self.tuning.snapshot_level)
        except RolloutError:
            return  # a snapshot is only a cache
        if not self._closed:
            self._commits.queue(SaveSnapshot(thread_id, seq, turns, context))


def _first_bytes(frames: list[tuple[int, int, bytes]], budget: int) -> list[tuple[int, int, bytes]]:
    """The first of ``frames`` holding about ``budget`` bytes (at least one)."""
    size = 0
    for index, (*_, frame) in enumerate(frames):
        size += len(frame)
        if size >= budget:
            return frames[: index + 1]
    return frames
