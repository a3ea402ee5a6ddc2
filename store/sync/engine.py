"""One incremental pass that makes a store mirror Codex homes or folders of rollouts.

A pass lists each source directory (oldest first) and ``stat``s its rollout files; a file
whose inode, size and mtime equal its record (:mod:`store.sync.records`) is not opened.
The rest are handled oldest name first, a few threads at a time (``width``; one thread's
files in turn, so a paginated thread's segments come in creation order), so memory stays
bounded by a few threads, whatever the history's size:

* a **new** file is imported (``Store.import_rollout``); in a Codex home it takes the
  name ``session_index.jsonl`` gives its thread and, under ``archived_sessions/``, the
  archive flag;
* a **grown** file whose imported prefix still ends as recorded (same inode, the hash of
  the bytes before the recorded offset) gets only its new complete lines
  (``Store.import_tail``); anything else is compared in full by ``import_rollout``, which
  appends, or reports a file that no longer matches the stored thread and changes nothing;
* a file that **vanished** while a file of the same name appeared elsewhere was
  **moved**: archived or unarchived in a Codex home, the store follows;
* a file that vanished for good marks its record ``missing``: the stored thread is kept
  (the store is where such a thread is recovered from) and is reported as source missing;
* **renames** come from ``session_index.jsonl``, read from where the last pass stopped.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rollout.codex_home import ARCHIVED, SESSION_INDEX, CodexHome, is_codex_home, parse_rollout_name
from rollout.errors import Conflict, InvalidInput, RolloutError, ThreadNotFound
from rollout.session_index import latest_names, read_entries

from ..core import Store
from ..tasks import run_workers
from ..thread import ImportResult
from .records import Source, SourceRecords, tail_hash

__all__ = ["WIDTH", "SyncReport", "Syncer", "source_dirs"]

_SUFFIXES = (".jsonl", ".jsonl.zst")
Progress = Callable[[int, int], None]  # (files handled, bytes read)
WIDTH = 8  # threads imported at once by default


@dataclass
class SyncReport:
    """What a pass did.

    Attributes:
        files: rollout files seen; ``bytes_read``: bytes read from the changed ones.
        problems: ``(path, why)`` of files that failed or diverged.
        missing_threads: threads every source file of which has vanished (kept in the store).
    """

    files: int = 0
    bytes_read: int = 0
    new: int = 0
    appended: int = 0
    unchanged: int = 0
    diverged: int = 0
    failed: int = 0
    skipped: int = 0
    moved: int = 0
    renamed: int = 0
    missing: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)
    missing_threads: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """The non-zero outcomes, in a fixed order (``unchanged`` counts re-read files only)."""
        names = ("new", "appended", "moved", "renamed", "diverged", "failed", "skipped", "missing")
        return {name: getattr(self, name) for name in names}


@dataclass(frozen=True, slots=True)
class _Work:
    path: str
    stat: os.stat_result
    record: Source | None
    archived: bool


def source_dirs(root: Path) -> Iterator[tuple[str, bool]]:
    """``(directory, archived)`` of every folder that may hold rollouts under a source, oldest first."""
    if is_codex_home(root):
        home = CodexHome(root)
        for rel in sorted(home.rollout_dirs()):
            yield home.absolute(rel), rel == ARCHIVED
        return
    for folder, dirs, _ in os.walk(root):
        dirs.sort()
        yield folder, os.path.basename(folder) == ARCHIVED


def _listing(directory: str) -> list[os.DirEntry[str]]:
    try:
        entries = [e for e in os.scandir(directory) if e.name.endswith(_SUFFIXES) and e.name != SESSION_INDEX]
    except FileNotFoundError:
        return []
    plain = {e.name for e in entries if not e.name.endswith(".zst")}
    return sorted((e for e in entries if e.name.removesuffix(".zst") not in plain or not e.name.endswith(".zst")),
                  key=lambda e: e.name)


def _thread_key(work: _Work) -> str:
    """The thread a file holds, as far as its name or record tells (files of one thread are imported in turn)."""
    parsed = parse_rollout_name(os.path.basename(work.path))
    if parsed is not None:
        return parsed.thread_id.lower()
    if work.record is not None and work.record.thread_id:
        return work.record.thread_id
    return work.path


def _order(work: _Work) -> tuple[str, str]:
    """Oldest first by the stamp in the file name, so a thread's segments come in creation order."""
    name = os.path.basename(work.path)
    parsed = parse_rollout_name(name)
    return (parsed.stamp if parsed else "", name)


class Syncer:
    """Keeps ``store`` in step with ``sources`` (Codex homes, folders or files).

    Args:
        store: the store written to.
        records: the sync state (:class:`store.sync.records.SourceRecords`).
        sources: Codex homes, folders of rollouts, or rollout files.
        width: how many threads' files are imported at once (memory holds about that many threads).
    """

    def __init__(self, store: Store, records: SourceRecords, sources: list[Path], *, width: int = WIDTH) -> None:
        self.store = store
        self.records = records
        self.sources = [Path(source).absolute() for source in sources]
        self.width = max(1, width)

    async def run(self, *, only: set[str] | None = None, progress: Progress | None = None,
                  planned: Callable[[int, int], None] | None = None) -> SyncReport:
        """One pass.

        Args:
            only: directories to look at (``--follow`` passes those a change was seen in);
                None: every directory of every source.
            progress: called with (files handled, bytes read) as the pass goes.
            planned: called once with (files to handle, their bytes) before any is read.
        """
        report = SyncReport()
        with self.records.grouped():
            for source in self.sources:
                if is_codex_home(source):
                    await self._names(source / SESSION_INDEX, report)
            work, vanished = self._scan(report, only)
            work = self._moves(work, vanished, report)
            if planned is not None:
                planned(len(work), sum(item.stat.st_size for item in work))
            await self._handle(work, report, progress)
            await self._vanish(vanished, report)
        return report

    async def _handle(self, work: list[_Work], report: SyncReport, progress: Progress | None) -> None:
        """Import the changed files, a few threads at a time (one thread's files in order, by one worker).

        Imports of different threads overlap, so the store's group commit writes several in one
        transaction and the event loop is not idle while a file is decoded or a commit syncs.
        """
        groups: dict[str, list[_Work]] = {}
        for item in sorted(work, key=_order):
            groups.setdefault(_thread_key(item), []).append(item)
        pending = iter(list(groups.values()))  # shared by the workers: each thread goes to one of them
        done = 0

        async def worker() -> None:
            nonlocal done
            for group in pending:
                for item in group:
                    await self._one(item, report)
                    done += 1
                    if progress is not None:
                        progress(done, report.bytes_read)

        await run_workers(worker, min(self.width, len(groups)))

    # ------------------------------------------------------------------ scanning

    def _scan(self, report: SyncReport, only: set[str] | None) -> tuple[list[_Work], dict[str, Source]]:
        work: list[_Work] = []
        vanished: dict[str, Source] = {}
        for source in self.sources:
            if source.is_file():
                seen = [(str(source.parent), False, [e for e in _listing(str(source.parent)) if e.path == str(source)])]
            else:
                seen = [(d, archived, _listing(d)) for d, archived in source_dirs(source)
                        if only is None or os.path.realpath(d) in only]
            for directory, archived, entries in seen:
                known = self.records.stamps_in_dir(directory)
                for entry in entries:
                    report.files += 1
                    stamp = known.pop(entry.path, None)
                    stat = entry.stat()
                    if stamp is None or stamp != (stat.st_ino, stat.st_size, stat.st_mtime_ns, stamp[3]) \
                            or stamp[3] == "missing":
                        record = None if stamp is None else self.records.get(entry.path)
                        work.append(_Work(entry.path, stat, record, archived))
                if not source.is_file():
                    vanished.update({path: r for path in known if (r := self.records.get(path)) and r.status != "missing"})
            if not source.is_file() and only is None:
                visited = {directory for directory, _, _ in seen}
                for directory in self.records.dirs_under(str(source)) - visited:
                    vanished.update({p: r for p, r in self.records.in_dir(directory).items() if r.status != "missing"})
        return work, vanished

    def _moves(self, work: list[_Work], vanished: dict[str, Source], report: SyncReport) -> list[_Work]:
        """New files that are vanished ones moved (archived, unarchived, compressed) take their records."""
        by_name = {record.name.removesuffix(".zst"): record for record in vanished.values()}
        out = []
        for item in work:
            record = by_name.pop(os.path.basename(item.path).removesuffix(".zst"), None) if item.record is None \
                else None
            if record is not None:
                del vanished[record.path]
                self.records.drop(record.path)
                report.moved += 1
                item = _Work(item.path, item.stat, record, item.archived)
            out.append(item)
        return out

    # ------------------------------------------------------------------ one file

    async def _one(self, item: _Work, report: SyncReport) -> None:
        record = item.record
        try:
            result, offset = await self._import(item, report)
        except InvalidInput as exc:
            reason = str(exc).removeprefix(f"{item.path}: ")
            skipped = reason.startswith("not a rollout") and not os.path.basename(item.path).startswith("rollout-")
            report.skipped += skipped
            report.failed += not skipped
            if not skipped:
                report.problems.append((item.path, reason))
            self._record(item, None, 0, 0, "skipped" if skipped else "failed", reason)
            return
        status = {"new": "new", "appended": "appended", "unchanged": "unchanged", "diverged": "diverged"}[result.status]
        setattr(report, status, getattr(report, status) + 1)
        if result.status == "diverged":
            report.problems.append((item.path, (result.detail or "").removeprefix(f"{item.path}: ")))
        thread_id = result.thread_id
        if result.status == "new" or (record is not None and record.path != item.path):
            await self._carry_over(thread_id, item.archived, new=result.status == "new")
        state = "diverged" if result.status == "diverged" else "ok"
        self._record(item, thread_id, offset, result.last_seq, state, result.detail)

    async def _import(self, item: _Work, report: SyncReport) -> tuple[ImportResult, int]:
        """Import what is new in the file; returns the result and the offset after its last complete line."""
        record, size = item.record, item.stat.st_size
        if (record is not None and record.thread_id and record.status == "ok" and record.inode == item.stat.st_ino
                and record.offset <= size and not item.path.endswith(".zst")
                and tail_hash(item.path, record.offset) == record.tail):
            with open(item.path, "rb") as file:
                file.seek(record.offset)
                data = file.read(size - record.offset)
            complete = data[: data.rfind(b"\n") + 1]
            try:
                result = await self.store.import_tail(record.thread_id, complete, expected_seq=record.seq,
                                                      written_at=item.stat.st_mtime_ns // 1_000_000)
                report.bytes_read += len(complete)
                return result, record.offset + len(complete)
            except (Conflict, ThreadNotFound):
                pass  # the thread changed in the store meanwhile: compare the whole file
        result = await self.store.import_rollout(item.path)
        report.bytes_read += size
        return result, _complete_end(item)

    async def _carry_over(self, thread_id: str, archived: bool, *, new: bool) -> None:
        """A Codex home keeps a thread's name in ``session_index.jsonl`` and its archive flag in the folder."""
        if new and (name := self.records.name(thread_id)):
            await self.store.set_name(thread_id, name)
        if new:  # an imported thread starts unarchived
            if archived:
                await self.store.archive(thread_id)
            return
        info = await self.store.info(thread_id)
        if archived and not info.archived:
            await self.store.archive(thread_id)
        elif not archived and info.archived and not new:
            await self.store.unarchive(thread_id)

    def _record(self, item: _Work, thread_id: str | None, offset: int, seq: int, status: str,
                detail: str | None) -> None:
        try:
            now = os.stat(item.path)
        except FileNotFoundError:
            return
        stable = (now.st_size, now.st_mtime_ns) == (item.stat.st_size, item.stat.st_mtime_ns)
        # A file written while it was imported is compared in full next time (size -1 never matches).
        size = item.stat.st_size if stable else -1
        tail = tail_hash(item.path, offset) if status == "ok" and stable and offset else b""
        self.records.put(Source(path=item.path, dir=os.path.dirname(item.path), name=os.path.basename(item.path),
                                thread_id=thread_id, inode=item.stat.st_ino, size=size,
                                mtime_ns=item.stat.st_mtime_ns, offset=offset if stable else 0, tail=tail, seq=seq,
                                status=status if stable else "failed", detail=detail))

    # ------------------------------------------------------------------ vanished files and names

    async def _vanish(self, vanished: dict[str, Source], report: SyncReport) -> None:
        threads = set()
        for record in vanished.values():
            record.status, record.detail = "missing", "the file is gone; the stored thread is kept"
            self.records.put(record)
            report.missing += 1
            if record.thread_id:
                threads.add(record.thread_id)
        for thread_id in sorted(threads):
            if all(source.status == "missing" for source in self.records.of_thread(thread_id)):
                report.missing_threads.append(thread_id)

    async def _names(self, index: Path, report: SyncReport) -> None:
        """Names appended to a home's ``session_index.jsonl`` since the last pass, applied to stored threads."""
        offset, size = self.records.name_file(str(index))
        try:
            now = index.stat().st_size
        except FileNotFoundError:
            return
        if now < size:  # rewritten: read it again from the start
            offset = 0
        entries, end = read_entries(index, offset)
        names = latest_names(entries)
        self.records.put_names(names)
        self.records.put_name_file(str(index), end, now)
        for thread_id, name in names.items():
            if not name:
                continue
            try:
                info = await self.store.info(thread_id)
                if info.name != name:
                    await self.store.set_name(thread_id, name)
                    report.renamed += 1
            except (ThreadNotFound, InvalidInput):
                continue  # not stored yet (it takes the name when imported), or not a thread id
            except RolloutError as exc:
                report.problems.append((str(index), f"thread {thread_id}: cannot rename: {exc}"))


def _complete_end(item: _Work) -> int:
    """The offset after the file's last complete line (its size for a compressed file)."""
    size = item.stat.st_size
    if item.path.endswith(".zst") or size == 0:
        return size
    with open(item.path, "rb") as file:
        step = 4096  # most files end with a newline: one small read
        end = size
        while end > 0:
            start = max(0, end - step)
            file.seek(start)
            found = file.read(end - start).rfind(b"\n")
            if found >= 0:
                return start + found + 1
            end = start
            step = min(step * 4, 1 << 20)
    return 0
