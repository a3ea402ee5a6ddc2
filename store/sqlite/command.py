"""How the writer applies each write command (the core's, and three of its own).

:func:`apply` runs on the writer thread, inside the batch's transaction and the command's
SAVEPOINT. The rules come from the core's commands (:mod:`store.write`); this module only
looks up what they need and stores what they decide, through the writer and its named
statements: no SQL here. Each command raises project errors (``Conflict``,
``ThreadNotFound``, ...) before touching the database, and hands its changed thread entry
to ``writer.commit_entry`` as its very last step.

The SQLite-only commands are frozen dataclasses too: :class:`InstallDictionary`,
:class:`Rewrite`, :class:`SaveSnapshot`, :class:`SaveDerived` and
:class:`store.sqlite.consolidate.Consolidate`. Every command that changes
a thread also records its change in the change log, in the same transaction (``origin``
names the store that wrote it), so other processes' stores tell their subscribers.

Must not import: rollout.cli, rich, asyncio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..blobs import Packed
from ..clock import new_thread_id, now_ms
from ..feed import Change
from ..search.fts5 import Fts5Index
from ..state import ThreadState
from ..write import (
    Append,
    Appended,
    Delete,
    Fork,
    SetArchived,
    SetMetadata,
    SetName,
    Start,
    ThreadExists,
    change_of,
)
from . import consolidate
from .search import IndexSeal, IndexWrite
from .writer import Writer

__all__ = ["CHANGES_KEPT", "InstallDictionary", "PackedAppend", "PackedImport", "Rewrite", "SaveDerived", "SaveSnapshot", "apply"]

#: about how many changes the change log keeps (a process that falls further behind misses some)
CHANGES_KEPT = 10_000


@dataclass(frozen=True, slots=True)
class PackedImport:
    """An :class:`~store.write.Import` whose lines were packed off the writer thread."""

    state: ThreadState
    chunks: list[tuple[int, int, Packed]]


@dataclass(frozen=True, slots=True)
class PackedAppend:
    """An :class:`~store.write.Append` whose lines were packed by the caller, before queuing.

    The writer thread then only runs SQL. ``packed`` is None for an append of no lines.
    """

    append: Append
    packed: Packed | None

    @property
    def thread_id(self) -> str:
        return self.append.thread_id


@dataclass(frozen=True, slots=True)
class InstallDictionary:
    """A trained dictionary, and chunks recompressed with it (see ``Writer.rewrite``)."""

    data: bytes
    rewrites: list[tuple[int, int, bytes, bytes]]


@dataclass(frozen=True, slots=True)
class Rewrite:
    """Chunks stored without a dictionary, recompressed with dictionary ``zdict``."""

    zdict: int
    rewrites: list[tuple[int, int, bytes, bytes]]


@dataclass(frozen=True, slots=True)
class SaveSnapshot:
    """Replay builders' state for a thread at ``seq`` (a cache: skipped if the thread is gone)."""

    thread_id: str
    seq: int
    data: bytes
    context: bytes


@dataclass(frozen=True, slots=True)
class SaveDerived:
    """Parts of a thread's derived data (a cache: skipped if the thread is gone)."""

    thread_id: str
    name: str
    parts: dict[int, bytes]
    count: int


def apply(writer: Writer, command: Any, origin: str = "") -> Any:
    """Run one command on the writer thread and log the change it made; returns what the
    core expects of ``_write``."""
    result = _run(writer, command)
    if isinstance(command, PackedAppend):
        command = command.append
    change = Change(kind="started", thread_id=result.id, last_seq=result.last_seq) if isinstance(
        command, PackedImport) else change_of(command, result) if isinstance(command, _LOGGED) else None
    if change is not None:
        writer.tables.log_change(origin, change, CHANGES_KEPT)
    return result


_LOGGED = (Append, Start, Fork, SetName, SetMetadata, SetArchived, Delete)


def _run(writer: Writer, command: Any) -> Any:
    match command:
        case PackedAppend():
            return _append(writer, command.append, command.packed)
        case Append():
            return _append(writer, command, None)
        case Start():
            return _start(writer, command)
        case Fork():
            return _fork(writer, command)
        case SetName() | SetMetadata():
            entry = writer.thread(command.thread_id)
            entry.state = command.apply(entry.state)
            writer.commit_entry(entry)
            return entry.state
        case SetArchived():
            entry = writer.thread(command.thread_id)
            entry.state = command.apply(entry.state, writer.clock.tick())
            writer.commit_entry(entry, settle=command.archived)
            return entry.state
        case Delete():
            return _delete(writer, command)
        case PackedImport():
            return _import(writer, command)
        case InstallDictionary():
            zdict = writer.install_dictionary(command.data, now_ms())
            writer.rewrite(zdict, command.rewrites)
            return zdict
        case Rewrite():
            writer.rewrite(command.zdict, command.rewrites)
            return None
        case consolidate.Consolidate():
            return consolidate.apply(writer, command)
        case IndexWrite() | IndexSeal():  # the search projection (store.search): its own tables only
            return command.apply(Fts5Index(writer.conn))
        case SaveSnapshot():
            found = writer.tables.live_thread(command.thread_id)
            if found is not None:
                writer.tables.save_snapshot(found[0], command.seq, command.data, command.context)
            return None
        case SaveDerived():
            found = writer.tables.live_thread(command.thread_id)
            if found is not None:
                writer.tables.save_derived(found[0], command.name, command.parts, command.count)
            return None
    raise TypeError(f"not a write command: {command!r}")


def _start(writer: Writer, command: Start) -> ThreadState:
    if writer.tables.id_taken(command.state.id):
        raise ThreadExists(command.state.id)
    entry = writer.insert_thread(command.stamped(writer.clock.tick()))
    writer.insert_chunk(entry.tkey, 1, 1, writer.pack([command.raw]))
    entry.tail_chunks = 1
    writer.commit_entry(entry)
    return entry.state


def _append(writer: Writer, command: Append, packed: Packed | None) -> Appended:
    """Stored as one chunk: ``packed`` by the caller, else compressed here once the checks pass."""
    entry = writer.thread(command.thread_id) if command.archived_ok else writer.writable(command.thread_id)
    key_seq = None if command.key is None else writer.tables.key_seq(entry.tkey, command.key)
    plan = command.plan(entry.state, key_seq, writer.clock.tick())
    if plan.repeat:
        return Appended(plan.last_seq, 0, entry.state)
    if command.raw:
        if packed is None or not writer.knows(packed):  # packed with a dictionary whose install failed
            packed = writer.pack(command.raw)
        writer.insert_chunk(entry.tkey, plan.first_seq, len(command.raw), packed)
    if command.key is not None:
        writer.tables.put_key(entry.tkey, command.key, plan.last_seq)
    if command.raw:
        entry.state = plan.state
        entry.tail_chunks += 1
        writer.commit_entry(entry)
    return Appended(plan.last_seq, len(command.raw), entry.state)


def _fork(writer: Writer, command: Fork) -> ThreadState:
    """The child points at the source's first ``upto`` lines; only its meta (and tail) are stored."""
    source = writer.writable(command.thread_id)
    while writer.tables.id_taken(child_id := new_thread_id()):
        pass
    plan = command.plan(source.state, writer.meta_payload(source), child_id, writer.clock.tick())
    entry = writer.insert_thread(plan.state, source, plan.upto, packed_upto=plan.upto + 1)
    writer.insert_chunk(entry.tkey, 1, 1, writer.pack([plan.meta_raw]))
    if plan.tail_raw:
        writer.insert_chunk(entry.tkey, plan.upto + 2, len(plan.tail_raw), writer.pack(plan.tail_raw))
        entry.tail_chunks = 1
    writer.commit_entry(entry)
    return plan.state


def _delete(writer: Writer, command: Delete) -> int:
    """Hide the row; purge what no fork reads any more. Returns the deleted row's tkey."""
    entry = writer.thread(command.thread_id)
    writer.tables.drop_keys_and_snapshots(entry.tkey)
    writer.tables.mark_deleted(entry.tkey)
    _collect(writer, entry.tkey)
    writer.forget(command.thread_id)
    return entry.tkey


def _collect(writer: Writer, tkey: int | None) -> None:
    """Purge deleted rows nobody reads from any more, walking up the fork chain."""
    tables = writer.tables
    while tkey is not None:
        row = tables.deleted_parent(tkey)
        if row is None or not row[0]:
            return
        need = tables.furthest_child_read(tkey)
        if need is not None:
            writer.delete_chunks(tkey, after_seq=need)
            return
        writer.delete_chunks(tkey)
        tables.drop_thread_row(tkey)
        tkey = row[1]


def _import(writer: Writer, command: PackedImport) -> ThreadState:
    if writer.tables.id_taken(command.state.id):
        raise ThreadExists(command.state.id)
    entry = writer.insert_thread(command.state, packed_upto=command.state.last_seq)
    for first, count, packed in command.chunks:
        writer.insert_chunk(entry.tkey, first, count, packed)
    writer.commit_entry(entry)
    return command.state

