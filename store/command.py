"""The write commands a ``SqliteStore`` queues for its writer.

Each command is built on the event loop from already validated input and run
by :class:`store.batch.Writer` on the writer thread, inside the batch's
transaction and its own SAVEPOINT. ``run`` raises project errors (``Conflict``,
``ThreadNotFound``, ...) before touching the database, and hands its changed
thread entry to ``writer.commit_entry`` as its very last step.

Must not import: rollout.cli, rich, asyncio.
"""

from __future__ import annotations

from typing import Any

from msgspec.structs import replace

from rollout.codec import encode_line
from rollout.errors import Conflict, InvalidInput

from .batch import Writer
from .blobs import Packed
from .line import aborted_line, fork_meta_line
from .state import Fact, ThreadState, absorb, fork_state, new_thread_id, now_ms

__all__ = [
    "Append",
    "Archive",
    "Delete",
    "Fork",
    "Import",
    "InstallDictionary",
    "Rewrite",
    "SaveSnapshot",
    "SetName",
    "Start",
]


class Start:
    """A new thread whose first line is ``raw`` (state already derived)."""

    def __init__(self, state: ThreadState, raw: bytes) -> None:
        self.state, self.raw = state, raw

    def run(self, writer: Writer) -> ThreadState:
        if writer.exists(self.state.id):
            raise InvalidInput(f"thread {self.state.id} already exists")
        entry = writer.insert_thread(replace(self.state, updated_ms=writer.clock.tick()))
        writer.insert_chunk(entry.tkey, 1, 1, writer.pack([self.raw]))
        entry.tail_chunks = 1
        writer.commit_entry(entry)
        return entry.state


class Append:
    """Lines appended to a thread, with optional expected seq and idempotency key.

    They are stored as one chunk, compressed by the writer once the checks pass
    (zstd releases the GIL, so the event loop keeps running meanwhile).
    """

    __slots__ = ("expected_seq", "facts", "key", "raw", "thread_id")

    def __init__(self, thread_id: str, raw: list[bytes], facts: list[Fact],
                 expected_seq: int | None, key: str | None) -> None:
        self.thread_id, self.raw, self.facts = thread_id, raw, facts
        self.expected_seq, self.key = expected_seq, key

    def run(self, writer: Writer) -> int:
        entry = writer.writable(self.thread_id)
        conn = writer.conn
        if self.key is not None:
            row = conn.execute("SELECT seq FROM idempotency WHERE tkey = ? AND key = ?",
                               (entry.tkey, self.key)).fetchone()
            if row is not None:
                return row[0]
        last = entry.state.last_seq
        if self.expected_seq is not None and self.expected_seq != last:
            raise Conflict(self.thread_id, self.expected_seq, last)
        state = entry.state
        if self.raw:
            writer.insert_chunk(entry.tkey, last + 1, len(self.raw), writer.pack(self.raw))
            state = absorb(state, self.facts, last + 1, len(self.raw), writer.clock.tick())
        if self.key is not None:
            conn.execute("INSERT INTO idempotency (tkey, key, seq) VALUES (?, ?, ?)",
                         (entry.tkey, self.key, state.last_seq))
        if self.raw:
            entry.state = state
            entry.tail_chunks += 1
            writer.commit_entry(entry)
        return state.last_seq


class Fork:
    """A child of ``thread_id``: its own meta, a pointer to ``upto`` source lines, maybe an abort.

    ``upto=None`` forks the whole source as the writer sees it, with the open
    turn it tracks; otherwise the caller computed ``upto`` and ``open_turn``.
    """

    def __init__(self, thread_id: str, upto: int | None, open_turn: str | None) -> None:
        self.thread_id, self.upto, self.open_turn = thread_id, upto, open_turn

    def run(self, writer: Writer) -> ThreadState:
        source = writer.writable(self.thread_id)
        whole = self.upto is None or self.upto > source.state.last_seq
        upto = source.state.last_seq if whole else self.upto
        open_turn = source.state.open_turn if self.upto is None else self.open_turn
        now = writer.clock.tick()
        while writer.exists(child_id := new_thread_id()):
            pass
        meta = fork_meta_line(writer.meta_payload(source), child_id, self.thread_id, now)
        tail = [] if open_turn is None else [aborted_line(open_turn, now)]
        state = fork_state(source.state, meta, upto, tail, now)
        entry = writer.insert_thread(state, source, upto, packed_upto=upto + 1)
        writer.insert_chunk(entry.tkey, 1, 1, writer.pack([encode_line(meta)]))
        if tail:
            writer.insert_chunk(entry.tkey, upto + 2, len(tail), writer.pack([encode_line(l) for l in tail]))
            entry.tail_chunks = 1
        writer.commit_entry(entry)
        return state


class SetName:
    """Rename a thread."""

    def __init__(self, thread_id: str, name: str) -> None:
        self.thread_id, self.name = thread_id, name

    def run(self, writer: Writer) -> ThreadState:
        entry = writer.thread(self.thread_id)
        entry.state = replace(entry.state, name=self.name)
        writer.commit_entry(entry)
        return entry.state


class Archive:
    """Archive (and settle the tail of) a thread, or unarchive it."""

    def __init__(self, thread_id: str, archived: bool) -> None:
        self.thread_id, self.archived = thread_id, archived

    def run(self, writer: Writer) -> ThreadState:
        entry = writer.thread(self.thread_id)
        state = entry.state
        if self.archived:
            state = replace(state, archived=True)
        else:
            state = replace(state, archived=False, updated_ms=max(writer.clock.tick(), state.updated_ms))
        entry.state = state
        writer.commit_entry(entry, settle=self.archived)
        return state


class Delete:
    """Delete a thread; keep what its forks still read, and free what nobody reads."""

    def __init__(self, thread_id: str) -> None:
        self.thread_id = thread_id

    def run(self, writer: Writer) -> int:
        entry = writer.thread(self.thread_id)
        conn = writer.conn
        conn.execute("DELETE FROM idempotency WHERE tkey = ?", (entry.tkey,))
        conn.execute("DELETE FROM snapshots WHERE tkey = ?", (entry.tkey,))
        conn.execute(
            "UPDATE threads SET deleted = 1, id = id || char(0) || tkey WHERE tkey = ?", (entry.tkey,)
        )
        _collect(writer, entry.tkey)
        writer.forget(self.thread_id)
        return entry.tkey


def _collect(writer: Writer, tkey: int | None) -> None:
    """Purge deleted rows nobody reads from any more, walking up the fork chain."""
    conn = writer.conn
    while tkey is not None:
        row = conn.execute("SELECT deleted, parent_tkey FROM threads WHERE tkey = ?", (tkey,)).fetchone()
        if row is None or not row[0]:
            return
        need = conn.execute("SELECT MAX(parent_upto) FROM threads WHERE parent_tkey = ?", (tkey,)).fetchone()[0]
        if need is not None:
            writer.delete_chunks(tkey, after_seq=need)
            return
        writer.delete_chunks(tkey)
        conn.execute("DELETE FROM threads WHERE tkey = ?", (tkey,))
        tkey = row[1]


class Import:
    """A whole imported thread, already packed as ``(first seq, line count, chunk)``."""

    def __init__(self, state: ThreadState, chunks: list[tuple[int, int, Packed]]) -> None:
        self.state, self.chunks = state, chunks

    def run(self, writer: Writer) -> ThreadState:
        if writer.exists(self.state.id):
            raise InvalidInput(f"thread {self.state.id} already exists")
        entry = writer.insert_thread(self.state, packed_upto=self.state.last_seq)
        for first, count, packed in self.chunks:
            writer.insert_chunk(entry.tkey, first, count, packed)
        writer.commit_entry(entry)
        return self.state


class InstallDictionary:
    """A trained dictionary, and chunks recompressed with it (see ``Writer.rewrite``)."""

    def __init__(self, data: bytes, rewrites: list[tuple[int, int, bytes, bytes]]) -> None:
        self.data, self.rewrites = data, rewrites

    def run(self, writer: Writer) -> int:
        zdict = writer.install_dictionary(self.data, now_ms())
        writer.rewrite(zdict, self.rewrites)
        return zdict


class Rewrite:
    """Chunks stored without a dictionary, recompressed with dictionary ``zdict``."""

    def __init__(self, zdict: int, rewrites: list[tuple[int, int, bytes, bytes]]) -> None:
        self.zdict, self.rewrites = zdict, rewrites

    def run(self, writer: Writer) -> None:
        writer.rewrite(self.zdict, self.rewrites)


class SaveSnapshot:
    """Persist replay builders' state for a thread (a cache: skipped if the thread is gone)."""

    def __init__(self, tkey: int, seq: int, data: bytes, context: bytes) -> None:
        self.tkey, self.seq, self.data, self.context = tkey, seq, data, context

    def run(self, writer: Writer) -> Any:
        conn = writer.conn
        row = conn.execute("SELECT deleted FROM threads WHERE tkey = ?", (self.tkey,)).fetchone()
        if row is None or row[0]:
            return None
        conn.execute("INSERT INTO snapshots (tkey, seq, data, context) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT (tkey, seq) DO UPDATE SET data = excluded.data, context = excluded.context",
                     (self.tkey, self.seq, self.data, self.context))
        conn.execute("DELETE FROM snapshots WHERE tkey = ? AND seq < ?", (self.tkey, self.seq))
        return None
