"""The write commands of a ``FileStore``, as file operations on a Codex home (worker thread).

Each method runs on the store's worker thread (:mod:`store.files.worker`), so it is atomic
within the store: :meth:`FileWrites._apply` dispatches a write command; appends go through
:class:`rollout.RolloutWriter` (flock, torn-line fence, one fsync per batch) and hold their
index update back (:mod:`store.files.pending`); new threads are written under a temporary
name and linked into place; archive and unarchive move files; names go to
``session_index.jsonl``. :class:`FileWrites` is a mixin of :class:`store.files.store.FileStore`,
which provides the plumbing it declares.

Must not import: rollout.cli, rich, asyncio.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from msgspec.structs import replace

from rollout import events as ev
from rollout.codec import decode_line
from rollout.codex_home import CodexHome, touch
from rollout.errors import StoreError
from rollout.reader import ReadResult
from rollout.session_index import append_name
from rollout.writer import Durability, RolloutWriter

from ..clock import new_thread_id, now_ms, parse_ms
from ..line import encode_checked
from ..state import ThreadState
from ..write import (
    Append,
    Appended,
    Command,
    Delete,
    Fork,
    Import,
    SetArchived,
    SetMetadata,
    SetName,
    Start,
    ThreadExists,
)
from .catalog import Catalog, mtime_ms
from .index import ThreadRow
from .pending import Pending, Recent

__all__ = ["FileWrites"]

log = logging.getLogger("store.files")


class FileWrites:
    """Write commands on the files of a Codex home (mixin of ``FileStore``)."""

    home: CodexHome
    durability: Durability

    @property
    def catalog(self) -> Catalog:
        raise NotImplementedError  # provided by FileStore

    @property
    def pending(self) -> Pending:
        raise NotImplementedError  # provided by FileStore

    def _flush(self) -> None:
        raise NotImplementedError  # provided by FileStore

    def _read(self, row: ThreadRow) -> ReadResult:
        raise NotImplementedError  # provided by FileStore

    def _writable(self, thread_id: str) -> ThreadRow:
        raise NotImplementedError  # provided by FileStore

    def _plain(self, row: ThreadRow) -> Path:
        raise NotImplementedError  # provided by FileStore

    def _moved(self, row: ThreadRow, target: Path, segments: list[str] | None = None) -> ThreadRow:
        raise NotImplementedError  # provided by FileStore

    def _apply(self, command: Command) -> Any:
        """Run a write command (``_call`` wrote the held index updates first)."""
        match command:
            case Start():
                return self._new_thread(command.stamped(now_ms()), [command.raw])
            case Import(state=state, raw=raw, segment=segment):
                return self._new_thread(state, raw, segment)
            case Append():
                return self._append(command)
            case Fork():
                return self._fork(command)
            case SetName():
                row = self.catalog.locate(command.thread_id)
                self._name(command.thread_id, command.name)
                return self.catalog.state(row)
            case SetMetadata():
                row = self.catalog.locate(command.thread_id)
                git = command.apply(self.catalog.state(row)).git_edit
                return self.catalog.state(self.catalog.edit(row, git or ev.GitInfo()))
            case SetArchived():
                return self._archive_now(command)
            case Delete():
                return self._delete(command.thread_id)
        raise TypeError(f"not a write command: {command!r}")

    def _new_thread(self, state: ThreadState, raw: list[bytes], segment: str | None = None) -> ThreadState:
        path = self.home.active_path(state.id, state.created_ms, segment)
        if self.catalog.taken(state.id) or path.exists():
            raise ThreadExists(state.id)
        self.home.create(path, raw)
        touch(path, state.updated_ms)
        segments = [self.home.relative(path)] if segment else None
        return self.catalog.state(self.catalog.record(path, state, segments), state.name, named=True)

    def _append(self, command: Append) -> Appended:
        """Append lines: from what the thread's previous append left when its file is untouched
        since (no index read), else from the thread's row in the index. The index update is held
        back (:mod:`store.files.pending`)."""
        if command.new_segment is not None:
            self._flush()
            return self._new_segment(command, command.new_segment)
        recent = self.pending.recent(command.thread_id)
        if recent is not None and (command.archived_ok or not recent.state.archived):
            with RolloutWriter(recent.path, durability=self.durability) as writer:
                if recent.holds(writer.fileno()):  # under the lock: nobody wrote meanwhile
                    return self._append_planned(command, writer, recent.state, recent.segments)
        self._flush()
        return self._append_located(command)

    def _append_located(self, command: Append) -> Appended:
        thread_id = command.thread_id
        locate = self.catalog.locate if command.archived_ok else self._writable
        path = self._plain(locate(thread_id))
        with RolloutWriter(path, durability=self.durability) as writer:
            if writer.fenced_torn_line:
                log.warning("%s: torn last line fenced off before appending", path)
            row = locate(thread_id)  # verified under the lock: nobody appends meanwhile
            moved = self.catalog.path(row) != path
            return self._append_planned(command, writer, self.catalog.state(row), row.segments, moved)

    def _append_planned(self, command: Append, writer: RolloutWriter, state: ThreadState,
                        segments: list[str] | None, moved: bool = False) -> Appended:
        """Plan and write an append to the locked file of a thread whose current state is ``state``
        (``moved``: the file is no longer the thread's, so only a repeat may answer)."""
        thread_id = command.thread_id
        key_seq = None if command.key is None else self.catalog.index.idempotent_seq(thread_id, command.key)
        plan = command.plan(state, key_seq, now_ms())
        if plan.repeat:
            return Appended(plan.last_seq, 0, state)
        if moved:
            raise StoreError(f"thread {thread_id} moved while appending; retry")
        if command.raw:
            writer.write_raw(command.raw)
            self._after_append(writer, replace(plan.state, path=state.path), segments)
        if command.key is not None:  # at once: unlike the row, a key cannot be read back from the file
            self.catalog.index.put_idempotency(thread_id, command.key, plan.last_seq)
        return Appended(plan.last_seq, len(command.raw), replace(plan.state, path=state.path))

    def _after_append(self, writer: RolloutWriter, state: ThreadState, segments: list[str] | None) -> None:
        """The file's time after a write that has succeeded, and its index update held back:
        never raises, since a retry would write the lines twice; the index repairs itself
        from the file later."""
        path, ns = writer.path, state.updated_ms * 1_000_000
        try:
            os.utime(writer.fileno(), ns=(ns, ns))  # the open file, wherever it was moved to
        except OSError as exc:
            log.warning("%s: appended, but its time could not be set: %s", path, exc)
        try:
            stat = os.fstat(writer.fileno())
        except OSError as exc:
            log.warning("%s: appended, but the index is stale until the next lookup: %s", path, exc)
            return
        self.pending.hold(Recent(path, stat, replace(state, updated_ms=mtime_ms(stat)), segments))

    def _new_segment(self, command: Append, segment: str) -> Appended:
        """A later segment of a paginated thread: a new file beside the thread's, as Codex writes it."""
        row = self.catalog.locate(command.thread_id) if command.archived_ok else self._writable(command.thread_id)
        state = self.catalog.state(row)
        plan = command.plan(state, None, now_ms())
        created = parse_ms(decode_line(command.raw[0]).timestamp) or now_ms()
        path = self.home.active_path(row.id, created, segment)
        if row.archived:
            path = self.home.archived_path(path)
        self.home.create(path, command.raw)
        touch(path, plan.state.updated_ms)
        segments = [*(row.segments or [row.path]), self.home.relative(path)]
        self.catalog.record(path, plan.state, segments)
        return Appended(plan.last_seq, len(command.raw), replace(plan.state, path=str(path)))

    def _fork(self, command: Fork) -> ThreadState:
        row = self._writable(command.thread_id)
        source = self.catalog.state(row)
        lines = self._read(row).lines
        while self.catalog.taken(child_id := new_thread_id()):
            pass
        own = lines[source.meta_seq - 1] if source.meta_seq else None
        full = own.payload if isinstance(own, ev.SessionMetaLine) else None
        plan = command.plan(source, full, child_id, now_ms())
        raw = [plan.meta_raw, *(encode_checked(l, i) for i, l in enumerate(lines[: plan.upto])), *plan.tail_raw]
        state = self._new_thread(replace(plan.state, name=None), raw)
        if plan.state.name:
            self._name(child_id, plan.state.name)
            state = replace(state, name=plan.state.name)
        return state

    def _name(self, thread_id: str, name: str | None) -> None:
        append_name(self.home.session_index, thread_id, name)
        self.catalog.sync_names()

    def _archive_now(self, command: SetArchived) -> ThreadState:
        row = self.catalog.locate(command.thread_id)
        path = self.catalog.path(row)
        if command.archived and not row.archived:
            target = self.home.archived_path(path)
            segments = self._move_segments(row, self.home.archived_path)
            self.home.move(path, target)
            row = self._moved(row, target, segments)
        elif not command.archived:
            segments = None
            if row.archived:
                path = self._plain(row)
                target = self.home.unarchived_path(path)
                segments = self._move_segments(self.catalog.locate(command.thread_id), self.home.unarchived_path)
                self.home.move(path, target)
                path = target
            touch(path, command.apply(self.catalog.state(row), now_ms()).updated_ms)
            row = self._moved(row, path, segments)
        return self.catalog.state(row)

    def _move_segments(self, row: ThreadRow, where: Callable[[Path], Path]) -> list[str] | None:
        """Move a segmented thread's earlier segment files (the newest moves last); their new places."""
        if not row.segments:
            return None
        moved = []
        for rel in row.segments[:-1]:
            source = self.home.root / rel
            self.home.move(source, where(source))
            moved.append(self.home.relative(where(source)))
        return [*moved, self.home.relative(where(self.catalog.path(row)))]

    def _delete(self, thread_id: str) -> None:
        row = self.catalog.locate(thread_id)
        index = self.catalog.index
        copies = {row.path, *(f.path for f in index.files_of(thread_id))}
        with index.transaction():
            for rel in copies:
                self.home.remove(self.home.root / rel)
                index.drop_file(rel)
            index.drop_thread(thread_id)
            index.drop_thread_data(thread_id)
        if index.name(thread_id) is not None:
            self._name(thread_id, None)  # a re-created id starts unnamed
