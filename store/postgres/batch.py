"""One batch of the core's write commands: planned on thread rows, sent as one statement.

:class:`Batcher` is what the store's group commit runs for each batch. It plans
every command with the core's rules (:mod:`store.write`) on the thread rows it
caches, compresses what the commands write (:mod:`store.blobs`), and sends the
whole batch as one statement (:func:`store.postgres.writer.send`): one round
trip and one commit whenever the rows are cached, one more when some must be
read first. Several commands of one thread in a batch are planned one after the
other and land together or not at all.

Every write is a compare-and-set on the row version the plan was made on. When
it does not land -- another process wrote the thread meanwhile -- the cached
row is dropped and the commands come back as :data:`RETRY`: the store submits
them again and they are planned afresh on the row as it now is. Only a plan
made on a freshly read row (or confirmed by its write landing) is final, so a
``Conflict`` is raised exactly when ``expected_seq`` differs from the thread's
last seq in the database, whichever process moved it.

Settling a thread's tail of small chunks (:meth:`store.tuning.Tuning.settle`)
happens inside the append that makes it due, from the chunk bodies this process
wrote (kept with the cached row), so it costs no read.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rollout import events as ev
from rollout.codec import decode_line
from rollout.errors import CorruptLog, DecodeError, RolloutError, ThreadArchived, ThreadNotFound

from ..blobs import NO_DICTIONARY, Dictionary, Packed, repack, split_lines
from ..clock import Clock, new_thread_id
from ..feed import Change, ChangeKind
from ..state import ThreadState
from ..tuning import Tuning
from ..write import Append, Appended, Fork, Import, SetArchived, SetMetadata, SetName, Start, ThreadExists
from .database import Database
from .entry import Entry, PackedImport
from .feed import notice
from .lines import Lines
from .reader import Row, ancestry_of, rows_with_keys
from .writer import BlobRow, ChunkRow, Lineage, Outcome, ThreadWrite, send

__all__ = ["RETRY", "Batcher"]

RETRY: Any = type("Retry", (), {"__repr__": lambda self: "RETRY"})()
_CACHED_ROWS = 4096


@dataclass(slots=True)
class _Group:
    """One thread's part of a batch."""

    entry: Entry | None  # as planned so far (None: created in this batch, or not stored)
    fresh: bool  # the row was read in this batch
    create: bool = False
    missing: str | None = None  # the id of a thread that is not stored
    members: list[int] = field(default_factory=list)
    writes: list[int] = field(default_factory=list)  # members whose write is in the batch
    delegated: set[int] = field(default_factory=set)  # forks: decided by their child's insert
    outcome: Outcome | RolloutError | None = None


_NOBODY = _Group(None, fresh=True)


def _missing(thread_id: str) -> _Group:
    """The group of a thread that is not stored: its commands fail with ThreadNotFound."""
    return _Group(None, fresh=True, missing=thread_id)


class Batcher:
    """Plans batches of commands on cached rows and sends them.

    Args:
        db: the database.
        lines: reads stored lines (a fork's source meta).
        tuning: storage knobs.
        decode_state: a row's stored state, decoded.
        wrote_plain: told the raw bytes of every chunk stored without a dictionary.
    """

    def __init__(self, db: Database, lines: Lines, tuning: Tuning, decode_state: Callable[[Row], ThreadState],
                 wrote_plain: Callable[[int], None]) -> None:
        self.db = db
        self.lines = lines
        self.tuning = tuning
        self.dictionary: Dictionary = NO_DICTIONARY
        self.clock = Clock()
        self._decode_state = decode_state
        self._wrote_plain = wrote_plain
        self._cache: OrderedDict[str, Entry] = OrderedDict()
        self._metas: OrderedDict[tuple[str, int], ev.SessionMeta | None] = OrderedDict()
        self._child: Entry | None = None  # the entry of the fork planned last

    def forget(self, thread_id: str) -> None:
        """Drop a cached row (another process wrote the thread, or it was deleted)."""
        self._cache.pop(thread_id, None)

    def clear(self) -> None:
        """Drop every cached row (changes may have been missed)."""
        self._cache.clear()

    async def run(self, commands: list[Any]) -> list[Any]:
        """Plan and send one batch; per command its result, its error, or :data:`RETRY`.

        Raises:
            StoreError: the batch as a whole failed (a lost connection: every caller is told).
        """
        try:
            return await self._run(commands)
        except BaseException:
            for command in commands:  # whether it committed is unknown: never trust these rows
                self.forget(getattr(command, "thread_id", ""))
            raise

    async def _run(self, commands: list[Any]) -> list[Any]:
        groups = await self._groups(commands)
        results: list[Any] = [RETRY] * len(commands)
        writes: list[ThreadWrite] = []
        owners: list[_Group] = []  # the group each write belongs to
        created: set[str] = set()
        for index, command in enumerate(commands):
            if _creates(command):
                thread_id = command.state.id
                if thread_id in created or (groups.get(thread_id) or _NOBODY).members:
                    continue  # the id is already written in this batch: wait for the next one
                created.add(thread_id)
                group = _Group(None, fresh=True, create=True)
            else:
                group = groups[command.thread_id] or _missing(command.thread_id)
                if command.thread_id in created or (isinstance(command, Fork) and group.writes):
                    continue  # after what this batch writes to that thread has landed
            group.members.append(index)
            try:
                write, results[index] = await self._plan(command, group)
            except RolloutError as exc:
                results[index] = exc
                continue
            if write is None:
                continue
            if isinstance(command, Fork):  # its fate is the child's insert, not the source's row
                group.delegated.add(index)
                group = _Group(self._child, fresh=True, create=True, members=[index])
            group.writes.append(index)
            writes.append(write)
            owners.append(group)
        outcomes = await send(self.db, writes) if writes else []
        for group, outcome in zip(owners, outcomes):
            group.outcome = outcome
        for group in {id(g): g for g in [*owners, *filter(None, groups.values())]}.values():
            self._settle(group, commands, results)
        return results

    async def _groups(self, commands: list[Any]) -> dict[str, _Group | None]:
        """Each existing thread the batch plans on, its row cached or read now (None: no such thread)."""
        cached: dict[str, Entry | None] = {}
        wanted: dict[str, list[str | None]] = {}
        for command in commands:
            if _creates(command):
                continue
            entry = cached[command.thread_id] = self._cache.get(command.thread_id)
            if entry is None:
                asked = wanted.setdefault(command.thread_id, [None])
                if isinstance(command, Append) and command.key is not None:
                    asked.append(command.key)
        # Taken before awaiting: the change feed may drop cached rows meanwhile (they stay CAS-guarded).
        pairs = [(t, k) for t, ks in wanted.items() for k in ks]
        rows, found = await self.db.read(rows_with_keys, pairs) if pairs else ({}, {})
        groups: dict[str, _Group | None] = {}
        for thread_id, entry in cached.items():
            row = rows.get(thread_id)
            if row is not None:
                entry = Entry.of(row, self._decode_state(row), found.get(thread_id, {}))
                self._remember(entry)
            groups[thread_id] = None if entry is None else _Group(entry.copy(), fresh=row is not None)
        return groups

    def _remember(self, entry: Entry) -> None:
        self._cache[entry.thread_id] = entry
        self._cache.move_to_end(entry.thread_id)
        while len(self._cache) > _CACHED_ROWS:
            self._cache.popitem(last=False)

    # ------------------------------------------------------------------ outcomes

    def _settle(self, group: _Group, commands: list[Any], results: list[Any]) -> None:
        """Final results for a group's commands, or RETRY; the cache follows what landed."""
        outcome = group.outcome
        if isinstance(outcome, RolloutError):  # that thread's statement failed: nothing of it was written
            for index in group.writes:
                results[index] = outcome
            self._unsure(group, commands, results)
        elif outcome is None:  # nothing of this thread was sent
            self._unsure(group, commands, results)
        elif outcome.applied:  # planned on the row as it was: every result of the group stands
            if group.entry is not None:
                group.entry.gen, group.entry.version = outcome.gen or 0, outcome.version or 0
                self._remember(group.entry)
        elif group.create and not isinstance(commands[group.writes[0]], Fork):
            results[group.writes[0]] = ThreadExists(commands[group.writes[0]].state.id)
        else:  # another process wrote the thread (or the fork's source) first: plan again on a fresh row
            for index in group.members:
                if index not in group.delegated:
                    self.forget(commands[index].thread_id)
                    results[index] = RETRY

    def _unsure(self, group: _Group, commands: list[Any], results: list[Any]) -> None:
        """Results judged on a cached row that no landed write confirmed are planned again on a fresh one."""
        if group.fresh:
            return
        for index in group.members:
            if index not in group.delegated and index not in group.writes:
                self.forget(commands[index].thread_id)
                results[index] = RETRY

    # ------------------------------------------------------------------ planning

    async def _plan(self, command: Any, group: _Group) -> tuple[ThreadWrite | None, Any]:
        """``(write, result once it lands)`` of one command, planned on ``group.entry`` (updated)."""
        match command:
            case Append():
                return self._append(command, group)
            case Start() | PackedImport():
                return self._create(command, group)
            case Fork():
                return await self._fork(command, group)
            case SetName() | SetMetadata():
                entry = _live(group)
                entry.state = command.apply(entry.state)
                return self._update(entry, "named" if isinstance(command, SetName) else "metadata"), entry.state
            case SetArchived():
                entry = _live(group)
                entry.state = command.apply(entry.state, self.clock.tick())
                merged = self._seal(entry, forced=command.archived)
                kind: ChangeKind = "archived" if command.archived else "unarchived"
                return self._update(entry, kind, merged), entry.state
        raise TypeError(f"not a write command: {command!r}")

    def _append(self, command: Append, group: _Group) -> tuple[ThreadWrite | None, Any]:
        entry = _live(group)
        if entry.state.archived and not command.archived_ok:
            raise ThreadArchived(command.thread_id)
        key_seq = None if command.key is None else entry.keys.get(command.key)
        plan = command.plan(entry.state, key_seq, self.clock.tick())
        if plan.repeat or (not command.raw and command.key is None):
            return None, Appended(plan.last_seq, 0, entry.state)
        keys = () if command.key is None else ((command.key, plan.last_seq),)
        if command.key is not None:
            entry.keys[command.key] = plan.last_seq
        if not command.raw:
            return self._update(entry, None, keys=keys), Appended(plan.last_seq, 0, entry.state)
        body, found = split_lines(command.raw, self.tuning.blob_min)
        packed = self._pack(body, found, sum(map(len, command.raw)))
        entry.state = plan.state
        entry.tail_chunks += 1
        if entry.tail is not None:
            entry.tail.append(body)
        chunk = ChunkRow(plan.first_seq, plan.last_seq, packed.zdict, packed.frame)
        merged = self._seal(entry, forced=False)
        write = self._update(entry, command.kind, merged, chunk=chunk, blobs=_blob_rows(packed), keys=keys)
        return write, Appended(plan.last_seq, len(command.raw), plan.state)

    def _create(self, command: Start | PackedImport, group: _Group) -> tuple[ThreadWrite, ThreadState]:
        if isinstance(command, Start):
            state = command.stamped(self.clock.tick())
            body, found = split_lines([command.raw], self.tuning.blob_min)
            packed = self._pack(body, found, len(command.raw))
            chunks = [(1, 1, packed)]
            entry = Entry(state.id, 0, 0, state, 0, 1, [], [body])
        else:
            state, chunks = command.state, command.chunks
            entry = Entry(state.id, 0, 0, state, state.last_seq, 0, [], [])
        group.entry = entry
        rows = tuple(ChunkRow(first, first + count - 1, p.zdict, p.frame) for first, count, p in chunks)
        blobs = tuple(blob for *_, p in chunks for blob in _blob_rows(p))
        return ThreadWrite(thread_id=state.id, version=None, row=entry.row(), chunks=rows, blobs=blobs,
                           notice=self._notice("started", state.id, state.last_seq)), state

    async def _fork(self, command: Fork, group: _Group) -> tuple[ThreadWrite, ThreadState]:
        source = _live(group)
        if source.state.archived:
            raise ThreadArchived(command.thread_id)
        meta = await self._meta(source)
        plan = command.plan(source.state, meta, new_thread_id(), self.clock.tick())
        tail = [split_lines(plan.tail_raw, self.tuning.blob_min)] if plan.tail_raw else []
        head = self._pack(*split_lines([plan.meta_raw], self.tuning.blob_min), len(plan.meta_raw))
        packs = [(1, 1, head)] + [(plan.upto + 2, len(plan.tail_raw), self._pack(b, f, 0)) for b, f in tail]
        child = Entry(plan.state.id, 0, 0, plan.state, plan.upto + 1, len(tail), [], [b for b, _ in tail])
        child.ancestry = [(source.thread_id, source.gen, plan.upto), *source.ancestry]
        lineage = Lineage(parent_id=source.thread_id, parent_gen=source.gen, parent_upto=plan.upto,
                          ancestry=ancestry_of(source, plan.upto), parent_version=source.version)
        chunks = tuple(ChunkRow(first, first + count - 1, p.zdict, p.frame) for first, count, p in packs)
        write = ThreadWrite(
            thread_id=child.thread_id, version=None, row=child.row(), lineage=lineage, chunks=chunks,
            blobs=tuple(b for *_, p in packs for b in _blob_rows(p)),
            notice=self._notice("forked", child.thread_id, plan.state.last_seq, source.thread_id),
        )
        self._child = child
        return write, plan.state

    async def _meta(self, source: Entry) -> ev.SessionMeta | None:
        """The source's whole canonical ``session_meta`` payload (its line ``meta_seq``), cached per life."""
        key = (source.thread_id, source.gen)
        if key not in self._metas:
            seq = source.state.meta_seq
            meta = None
            if seq:
                [data] = await self.db.read(self.lines.raw, source, seq, seq)
                try:
                    line = decode_line(data)
                except DecodeError as exc:
                    raise CorruptLog(f"thread {source.thread_id}: line {seq} does not decode: {exc}") from exc
                meta = line.payload if isinstance(line, ev.SessionMetaLine) else None
            self._metas[key] = meta
            while len(self._metas) > _CACHED_ROWS:
                self._metas.popitem(last=False)
        return self._metas[key]

    # ------------------------------------------------------------------ pieces

    def _update(self, entry: Entry, kind: ChangeKind | None, merged: ChunkRow | None = None, *,
                chunk: ChunkRow | None = None, blobs: tuple[BlobRow, ...] = (),
                keys: tuple[tuple[str, int], ...] = ()) -> ThreadWrite:
        """A compare-and-set write of ``entry``'s row (planned on its cached version)."""
        chunks = (merged,) if merged is not None else (chunk,) if chunk is not None else ()
        said = None if kind is None else self._notice(kind, entry.thread_id, entry.state.last_seq)
        return ThreadWrite(thread_id=entry.thread_id, version=entry.version, gen=entry.gen, row=entry.row(),
                           chunks=chunks, blobs=blobs, keys=keys,
                           settle_from=None if merged is None else merged.seq, notice=said)

    def _seal(self, entry: Entry, *, forced: bool) -> ChunkRow | None:
        """Settle the entry's tail when due; returns the merged chunk replacing it, if merged."""
        last = entry.state.last_seq
        action = self.tuning.settle(last - entry.packed_upto, entry.tail_chunks, forced=forced)
        if action == "keep":
            return None
        merged = None
        if action == "merge" and entry.tail is not None and len(entry.tail) == entry.tail_chunks:
            packed = self._pack(b"\n".join(entry.tail), {}, 0)
            merged = ChunkRow(entry.packed_upto + 1, last, packed.zdict, packed.frame)
        entry.packed_upto, entry.tail_chunks, entry.tail = last, 0, []
        return merged

    def _pack(self, body: bytes, found: dict[bytes, bytes], size: int) -> Packed:
        newest = max(self.lines.dictionaries, default=0)  # trained by any process, committed before we knew it
        if newest != self.dictionary.zdict:
            self.dictionary = Dictionary(newest, self.lines.dictionaries[newest])
        packed = repack(body, found, dictionary=self.dictionary, level=self.tuning.append_level, size=size)
        if packed.zdict == 0 and size:
            self._wrote_plain(size)
        return packed

    def _notice(self, kind: ChangeKind, thread_id: str, last_seq: int | None, source_id: str | None = None) -> str:
        return notice(Change(kind=kind, thread_id=thread_id, last_seq=last_seq, source_id=source_id), self.db.origin)


def _subject(command: Any) -> str | None:
    """The existing thread a command plans on (a fork: its source); None for a thread it creates."""
    return None if _creates(command) else command.thread_id


def _creates(command: Any) -> bool:
    return isinstance(command, (Start, Import, PackedImport))


def _live(group: _Group) -> Entry:
    if group.entry is None:
        raise ThreadNotFound(group.missing or "?")
    return group.entry


def _blob_rows(packed: Packed) -> tuple[BlobRow, ...]:
    return tuple(BlobRow(digest, zdict, data) for digest, (zdict, data) in packed.blobs.items())
