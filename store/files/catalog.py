"""The catalog of a Codex home: the sidecar index kept in step with the rollout files.

The files are the truth. The catalog finds what changed without reading every file:

* a directory whose ``mtime`` moved is listed again (new, vanished or renamed files);
  a file is re-read only when its ``(size, mtime_ns)`` differs from the index;
* every row about to be used (a lookup by id, the threads of a listed page) is
  checked against its file first and re-read if it went stale or missing
  ("read-repair", as Codex repairs ``state_5.sqlite``);
* with ``turn_index`` (a replay policy), a file read to index it also gets its turn index
  (:mod:`store.turns`) written, so the first read of the thread needs no replay;
* names are read incrementally from ``session_index.jsonl``; git metadata edited in
  place (``update_metadata``) lives in the index beside the row, and is laid over the
  state read from the file each time the row is written.

What a thread is comes from the shared :mod:`store.state` folding, with one file
specific rule: a thread was last updated when its file was (``mtime``), as for Codex.
The states the catalog hands out carry the thread's name, archive flag and file path.
When one id has several files, the active one wins over an archived copy, then the
larger, except for a paginated thread's segment files, which together make its log
(:mod:`store.files.segments`). Everything repaired is counted in :class:`IndexReport` and logged.

Synchronous; used from :class:`store.files.FileStore`'s worker thread.
Must not import: rollout.cli, rich, asyncio.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import msgspec
from msgspec.structs import replace

import replay
from rollout import events as ev
from rollout.codex_home import CodexHome, RolloutFile, parse_rollout_name
from rollout.errors import EmptyRollout, StoreError, ThreadNotFound, UnreadableRollout
from rollout.reader import Problem, read_rollout
from rollout.session_index import file_signature, ids_by_name, latest_names, read_entries

from ..listing import ListQuery, matches
from ..segmented import continues_itself
from ..state import STATE_DECODER, STATE_ENCODER, ThreadState, initial_state
from ..turns import index_parts, kind
from .index import FileIndex, FileRow, Filters, ThreadRow
from .segments import segment_files

__all__ = ["Catalog", "IndexReport", "mtime_ms"]

log = logging.getLogger("store.files")

_GIT = msgspec.msgpack.Decoder(ev.GitInfo)
_RACY_NS = 2_000_000_000  # a directory changed this recently may change again within its mtime tick


@dataclass
class IndexReport:
    """What keeping the index in step with the files has done since the store was opened.

    Attributes:
        rebuilt: why the index was created from scratch (None: an existing index was reused).
        indexed: files read because they were new or changed.
        dropped: index entries removed because their file vanished.
        torn: files found ending in a torn (incomplete) line.
    """

    rebuilt: str | None = None
    indexed: int = 0
    dropped: int = 0
    torn: list[str] = field(default_factory=list)

    @property
    def repaired(self) -> int:
        """Index entries added, refreshed or removed from the files."""
        return self.indexed + self.dropped


def mtime_ms(stat: os.stat_result) -> int:
    return stat.st_mtime_ns // 1_000_000


class Catalog:
    """The index of one Codex home, repaired from its files on use."""

    def __init__(self, home: CodexHome, index: FileIndex, *, turn_index: str | None = None) -> None:
        self.home = home
        self.index = index
        self.turn_index = turn_index
        self.report = IndexReport(rebuilt=index.rebuilt)
        self._announce = index.rebuilt is not None

    # ------------------------------------------------------------------ sync

    def sync(self, *, deep: bool = False) -> IndexReport:
        """Bring the index in step with the files.

        Args:
            deep: list every directory and stat every file, not only directories
                whose mtime moved (finds appends made by other programs).

        Returns:
            The cumulative report (also logged when something was repaired).
        """
        before = self.report.repaired
        self.sync_names(reread=deep)
        known = self.index.dirs()
        seen: set[str] = set()
        for rel in self.home.rollout_dirs():
            seen.add(rel)
            try:
                stamp = os.stat(self.home.absolute(rel)).st_mtime_ns
            except FileNotFoundError:
                continue
            if deep or known.get(rel) != stamp:
                with self.index.transaction():
                    self._sync_dir(rel)
                    racy = time.time_ns() - stamp < _RACY_NS
                    self.index.put_dir(rel, 0 if racy else stamp)
        for rel in known.keys() - seen:
            with self.index.transaction():
                for path in self.index.files_in(rel):
                    self._forget_file(path)
                self.index.drop_dir(rel)
        if self._announce:
            self._announce = False
            level = logging.WARNING if self.report.indexed else logging.INFO
            log.log(level, "%s: %s; index rebuilt from the rollout files (%d read)",
                    self.home.root, self.report.rebuilt, self.report.indexed)
        elif self.report.repaired != before:
            log.info(
                "%s: index repaired from the files (%d read, %d dropped so far)",
                self.home.root, self.report.indexed, self.report.dropped,
            )
        return self.report

    def sync_names(self, *, reread: bool = False) -> None:
        """Read what was appended to ``session_index.jsonl`` since the last call."""
        signature = file_signature(self.home.session_index)
        stored = self.index.get_state("names_signature")
        if not reread and stored == repr(signature):
            return
        offset = 0 if reread else self.index.get_state("names_offset") or 0
        with self.index.transaction():
            if signature is None or signature[0] < offset or offset == 0:
                self.index.clear_names()
                offset = 0
            if signature is not None:
                entries, offset = read_entries(self.home.session_index, offset)
                self.index.put_names(latest_names(entries))
            self.index.set_state("names_offset", offset)
            self.index.set_state("names_signature", repr(signature))

    def _sync_dir(self, rel: str) -> None:
        on_disk = {self.home.relative(f.path): f for f in self.home.files_in(rel)}
        known = self.index.files_in(rel)
        for path in known.keys() - on_disk.keys():
            self._forget_file(path)
        for path, found in on_disk.items():
            try:
                stat = found.path.stat()
            except FileNotFoundError:
                self._forget_file(path)
                continue
            row = known.get(path)
            if row is None or (row.size, row.mtime_ns) != (stat.st_size, stat.st_mtime_ns):
                self._index_file(found, stat)

    # ------------------------------------------------------------------ files

    def _index_file(self, found: RolloutFile, stat: os.stat_result) -> ThreadRow | None:
        """Read one file and record what it holds."""
        rel = self.home.relative(found.path)
        state, lines = self._read_state(found, stat)
        self.report.indexed += 1
        self.index.put_file(FileRow(rel, self.home.relative(found.path.parent), stat.st_size, stat.st_mtime_ns,
                                    state.id if state else None))
        previous = self.index.thread_at(rel)
        if previous is not None and (state is None or previous.id != state.id):
            self.index.drop_thread(previous.id)  # the file now holds another thread, or none
        if state is None:
            return None
        current = self.index.thread(state.id)
        if continues_itself(state) or (current is not None and current.segments is not None):
            return self._index_segments(state.id)
        if current is not None and current.path != rel and not self._prefer(found, stat, current):
            log.warning("%s: thread %s also lives in %s; keeping that one", rel, state.id, current.path)
            return None
        row = self.row(found.path, state, stat)
        self._put(row, state)
        if self.turn_index is not None:
            self._index_turns(row, lines, self.turn_index)
        return row

    def _index_segments(self, thread_id: str) -> ThreadRow | None:
        """Read every file of a paginated thread kept in segments and record them as one log."""
        group = segment_files(self.home, {f.path for f in self.index.files_of(thread_id)}, thread_id)
        if group is None:
            self.index.drop_thread(thread_id)
            return None
        current = group.current
        root = self._file(self.home.root / group.parts[0].rel)
        state = initial_state(group.meta, group.lines, mtime_ms(current.stat), created_ms=_stamp_ms(root.stamp))
        row = self.row(self.home.root / current.rel, state, current.stat, group.rels)
        self._put(row, state)
        return row

    def _index_turns(self, row: ThreadRow, lines: list[ev.Line], policy: str) -> None:
        """Write the thread's turn index (:mod:`store.turns`) from the lines just read, so its
        first read needs no replay."""
        state = STATE_DECODER.decode(row.info)
        parts, count = index_parts(state, replay.build_turns(lines, policy=policy), None)  # type: ignore[arg-type]
        self.index.save_derived(row.id, kind(policy), parts, count)

    def _prefer(self, found: RolloutFile, stat: os.stat_result, current: ThreadRow) -> bool:
        """Whether ``found`` should replace ``current`` as the file of a thread."""
        try:
            other = (self.home.root / current.path).stat()
        except FileNotFoundError:
            return True
        return (not found.archived, stat.st_size) > (not current.archived, other.st_size)

    def _read_state(self, found: RolloutFile, stat: os.stat_result) -> tuple[ThreadState | None, list[ev.Line]]:
        try:
            result = read_rollout(found.path)
        except (EmptyRollout, UnreadableRollout) as exc:
            log.warning("%s: not indexed: %s", found.path, exc)
            return None, []
        self._note_problems(found.path, result.problems)
        meta = next(
            (l for l in result.lines if isinstance(l, ev.SessionMetaLine) and l.payload.id == result.thread_id),
            None,
        )
        if meta is None:
            log.warning("%s: not indexed: no session_meta", found.path)
            return None, []
        return initial_state(meta, result.lines, mtime_ms(stat), created_ms=_stamp_ms(found.stamp)), result.lines

    def _note_problems(self, path: Path, problems: list[Problem]) -> None:
        torn = [p for p in problems if p.kind == "torn"]
        if torn and str(path) not in self.report.torn:
            self.report.torn.append(str(path))
            log.warning("%s", torn[-1].describe(str(path)))
        skipped = sum(1 for p in problems if not p.kept and p.kind != "blank")
        if skipped > len(torn):
            log.info("%s: %d undecodable line(s) skipped", path, skipped - len(torn))

    def _forget_file(self, rel: str) -> None:
        known = self.index.file(rel)
        self.index.drop_file(rel)
        row = self.index.thread_at(rel)
        if row is None:
            owner = self.index.thread(known.thread_id) if known and known.thread_id else None
            if owner is not None and owner.segments and rel in owner.segments:
                self._index_segments(owner.id)  # an earlier segment went: the log is read again
            return
        self.index.drop_thread(row.id)
        self.report.dropped += 1
        for other in self.index.files_of(row.id):  # another copy of the thread takes over
            found = self._file(self.home.root / other.path)
            try:
                self._index_file(found, found.path.stat())
            except FileNotFoundError:
                self.index.drop_file(other.path)

    def _file(self, path: Path) -> RolloutFile:
        parsed = parse_rollout_name(path.name)
        stamp, thread_id = (parsed.stamp, parsed.thread_id) if parsed else ("", "")
        return RolloutFile(path, thread_id, stamp, self.home.is_archived(path))

    # ------------------------------------------------------------------ rows

    def row(self, path: Path, state: ThreadState, stat: os.stat_result,
            segments: list[str] | None = None) -> ThreadRow:
        """The index row of a thread stored in ``path`` (updated = the file's mtime); ``segments``:
        its segment files, oldest first, when it is kept in several."""
        archived = self.home.is_archived(path)
        state = replace(state, name=None, path=None, archived=archived, updated_ms=mtime_ms(stat))
        return ThreadRow(
            id=state.id,
            path=self.home.relative(path),
            archived=archived,
            size=stat.st_size,
            mtime_ns=stat.st_mtime_ns,
            created_ms=state.created_ms,
            updated_ms=state.updated_ms,
            info=STATE_ENCODER.encode(state),
            segments=segments,
        )

    def _put(self, row: ThreadRow, state: ThreadState) -> None:
        edit = self.index.edit(row.id)  # kept apart from the file, so it outlives re-reading it
        if edit is not None:
            git = _GIT.decode(edit)
            row.info = STATE_ENCODER.encode(replace(STATE_DECODER.decode(row.info), git_edit=git))
        meta = state.meta
        filters = Filters(
            line_count=state.last_seq,
            source_kind=state.source_kind,
            model_provider=state.model_provider,
            cwd=meta.cwd if meta else None,
            preview=state.preview,
        )
        self.index.put_thread(row, filters)

    def edit(self, row: ThreadRow, git: ev.GitInfo) -> ThreadRow:
        """Record a thread's git metadata edit (``update_metadata``) and re-index its row."""
        with self.index.transaction():
            self.index.put_edit(row.id, msgspec.msgpack.encode(git))
            self._put(row, self.state(row))
        return row

    def record(self, path: Path, state: ThreadState, segments: list[str] | None = None,
               stat: os.stat_result | None = None) -> ThreadRow:
        """Index a file this store has just written, without reading it back (``segments``: all the
        thread's files, oldest first, ``path`` last, when it is kept in several; ``stat``: the
        file's, taken right after the write, else taken now)."""
        stat = path.stat() if stat is None else stat
        row = self.row(path, state, stat, segments)
        with self.index.transaction():
            self.index.put_file(FileRow(row.path, self.home.relative(path.parent), row.size, row.mtime_ns, row.id))
            previous = self.index.thread_at(row.path)
            if previous is not None and previous.id != row.id:
                self.index.drop_thread(previous.id)
            self._put(row, state)
        return row

    def state(self, row: ThreadRow, name: str | None = None, *, named: bool = False) -> ThreadState:
        """The thread state of a row, with its current name (looked up unless ``named``),
        archive flag and absolute path."""
        state = STATE_DECODER.decode(row.info)
        name = name if named else self.index.name(row.id)
        return replace(state, name=name, archived=row.archived, path=self.home.absolute(row.path))

    def path(self, row: ThreadRow) -> Path:
        return self.home.root / row.path

    # ------------------------------------------------------------------ lookups

    def locate(self, thread_id: str) -> ThreadRow:
        """The current, verified row of a thread.

        Raises:
            ThreadNotFound: no file holds the thread.
        """
        row = self._verified(self.index.thread(thread_id))
        if row is None:
            self.sync()
            row = self._verified(self.index.thread(thread_id))
        if row is None:
            raise ThreadNotFound(thread_id)
        return row

    def taken(self, thread_id: str) -> bool:
        """Whether the index knows a file for ``thread_id`` that still exists."""
        row = self.index.thread(thread_id)
        return row is not None and os.path.exists(self.home.absolute(row.path))

    def find_by_name(self, name: str) -> str | None:
        """The newest thread whose current name is ``name`` and whose file is readable (spec 7)."""
        self.sync_names()
        entries, _ = read_entries(self.home.session_index)
        for thread_id in ids_by_name(entries, name):
            try:
                self.locate(thread_id)
            except ThreadNotFound:
                continue  # an unsaved or unreadable thread: an older one may answer
            return thread_id
        return None

    def _verified(self, row: ThreadRow | None) -> ThreadRow | None:
        """``row`` if its file is unchanged, else the row re-read from the files."""
        for _ in range(3):  # a vanished file may hand the thread to another copy
            if row is None or self._fresh(row):
                return row
            with self.index.transaction():
                path = self.path(row)
                try:
                    self._index_file(self._file(path), path.stat())
                except FileNotFoundError:
                    self._forget_file(row.path)
            row = self.index.thread(row.id)
        return row

    def _fresh(self, row: ThreadRow) -> bool:
        try:
            stat = os.stat(self.home.absolute(row.path))
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StoreError(f"{self.path(row)}: cannot stat: {exc}") from exc
        return (stat.st_size, stat.st_mtime_ns) == (row.size, row.mtime_ns)

    def page(self, query: ListQuery) -> list[ThreadState]:
        """Up to ``query.limit + 1`` threads matching ``query``, in its order; the first
        ``limit`` rows are verified against their files (the extra one only says "more")."""
        for _ in range(3):
            found = self._candidates(query)
            stale = [row for row, _ in found[: query.limit] if not self._fresh(row)]
            if not stale:
                break
            for row in stale:
                self._verified(row)
        return [state for _, state in found]

    def _candidates(self, query: ListQuery) -> list[tuple[ThreadRow, ThreadState]]:
        batch = query.limit + 1 if query.search is None else max(4 * (query.limit + 1), 256)
        found: list[tuple[ThreadRow, ThreadState]] = []
        while len(found) <= query.limit:
            rows = self.index.page(query, batch)
            names = self.index.names(row.id for row in rows)
            for row in rows:
                state = self.state(row, names.get(row.id), named=True)
                if matches(query, state):
                    found.append((row, state))
            if len(rows) < batch:
                break
            last = rows[-1]
            query = replace(query, after=(last.created_ms if query.sort == "created_at" else last.updated_ms, last.id),
                            inclusive=False)
        return found[: query.limit + 1]


def _stamp_ms(stamp: str) -> int | None:
    """A file-name stamp (local time) in unix ms."""
    try:
        return int(datetime.strptime(stamp, "%Y-%m-%dT%H-%M-%S").astimezone().timestamp() * 1000)
    except ValueError:
        return None
