"""What ``sync`` remembers about each source file, in a small SQLite file beside the store.

One :class:`Source` per rollout file seen: which thread it holds, the file's identity
and size when it was imported (inode, size, mtime_ns), the byte offset just after the
last line imported, a hash of the bytes before that offset (the imported prefix's tail),
the thread's last seq then, and a status (``ok``, ``diverged``, ``failed``, ``skipped``,
``missing``). A pass compares each file's ``stat`` with its record and reads nothing
when they agree; a grown file whose tail hash still matches gets only its new bytes.

The records are a cache of what the store already holds: losing them costs one full
comparison per file (``Store.import_rollout`` compares the stored lines), never data.
So they live in their own file (``<store>.sync``), written after each import, and the
store itself (any backend) needs no table for them. ``names`` keeps each Codex home's
read offset into ``session_index.jsonl`` and the names read so far, so a thread imported
later still gets the name recorded before it.

Synchronous ``sqlite3``, used from the event loop's thread (each call is a few
microseconds). Must not import: rollout.cli, rich, asyncio.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from rollout.errors import StoreError

__all__ = ["TAIL_BYTES", "Source", "SourceRecords", "tail_hash"]

TAIL_BYTES = 4096  # the imported prefix's tail that must still match before bytes are appended

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    path TEXT PRIMARY KEY,
    dir TEXT NOT NULL,
    name TEXT NOT NULL,
    thread_id TEXT,
    inode INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    tail BLOB NOT NULL,
    seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS sources_by_dir ON sources (dir);
CREATE INDEX IF NOT EXISTS sources_by_thread ON sources (thread_id);
CREATE TABLE IF NOT EXISTS name_files (path TEXT PRIMARY KEY, offset INTEGER NOT NULL, size INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS names (id TEXT PRIMARY KEY, name TEXT);
"""
_COLUMNS = "path, dir, name, thread_id, inode, size, mtime_ns, offset, tail, seq, status, detail"


class Source(msgspec.Struct):
    """One source file as the last pass left it."""

    path: str
    dir: str
    name: str
    thread_id: str | None
    inode: int
    size: int
    mtime_ns: int
    offset: int
    tail: bytes
    seq: int
    status: str
    detail: str | None = None

    def unchanged(self, stat: os.stat_result) -> bool:
        return (self.inode, self.size, self.mtime_ns) == (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def tail_hash(path: Path | str, offset: int) -> bytes:
    """BLAKE2b of the :data:`TAIL_BYTES` bytes before ``offset`` (b"" for nothing)."""
    start = max(0, offset - TAIL_BYTES)
    with open(path, "rb") as file:
        file.seek(start)
        data = file.read(offset - start)
    return hashlib.blake2b(data, digest_size=16).digest() if data else b""


class SourceRecords:
    """The sync state file.

    Args:
        path: the file (created if missing); ``":memory:"`` keeps nothing.
        readonly: only read an existing file (``ls`` and ``inspect`` while a ``sync --follow``
            may be writing it); nothing is created.

    Raises:
        StoreError: it cannot be opened.
    """

    def __init__(self, path: str | os.PathLike[str], *, readonly: bool = False) -> None:
        self.path = os.fspath(path)
        self._every = self._pending = 0
        try:
            if readonly:
                self._db = sqlite3.connect(f"{Path(self.path).absolute().as_uri()}?mode=ro", uri=True,
                                           isolation_level=None)
                self._db.execute("SELECT 1 FROM sources LIMIT 1").fetchall()
                return
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # a cache: a lost commit costs one comparison
            self._db.executescript(f"BEGIN; {_SCHEMA} COMMIT;")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the sync state: {exc}") from exc

    @classmethod
    def beside(cls, database: str | os.PathLike[str]) -> SourceRecords | None:
        """The sync state of the store at ``database`` (``<database>.sync``) opened to read, or None without one."""
        path = Path(database).with_name(Path(database).name + ".sync")
        if not path.is_file():
            return None
        try:
            return cls(path, readonly=True)
        except StoreError:
            return None  # not a sync state (or an older one without the table): nothing to report

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def grouped(self, every: int = 256) -> Iterator[None]:
        """Commit writes ``every`` at a time, and what is left at the end (even on an error: each record
        describes an import the store has committed). A crash loses at most ``every`` records: a full
        comparison of each of those files next time, never data."""
        self._every, self._pending = every, 0
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            self._every = 0
            self._db.execute("COMMIT")

    def _wrote(self) -> None:
        if self._every:
            self._pending += 1
            if self._pending >= self._every:
                self._db.execute("COMMIT")
                self._db.execute("BEGIN")
                self._pending = 0

    def stamps_in_dir(self, directory: str) -> dict[str, tuple[int, int, int, str]]:
        """``path -> (inode, size, mtime_ns, status)`` of the records of one directory: what a pass
        compares with each file's ``stat`` (the whole record is read only for a file that changed)."""
        return {row[0]: row[1:] for row in self._db.execute(
            "SELECT path, inode, size, mtime_ns, status FROM sources WHERE dir = ?", (directory,))}

    def in_dir(self, directory: str) -> dict[str, Source]:
        return {row[0]: Source(*row) for row in self._db.execute(
            f"SELECT {_COLUMNS} FROM sources WHERE dir = ?", (directory,))}

    def dirs_under(self, root: str) -> set[str]:
        """Directories with records at or below ``root``."""
        prefix = root.rstrip(os.sep) + os.sep
        return {d for (d,) in self._db.execute("SELECT DISTINCT dir FROM sources WHERE dir = ? OR "
                                               "substr(dir, 1, ?) = ?", (root, len(prefix), prefix))}

    def get(self, path: str) -> Source | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM sources WHERE path = ?", (path,)).fetchone()
        return None if row is None else Source(*row)

    def put(self, source: Source) -> None:
        self._db.execute(f"INSERT OR REPLACE INTO sources ({_COLUMNS}) VALUES ({', '.join('?' * 12)})",
                         msgspec.structs.astuple(source))
        self._wrote()

    def drop(self, path: str) -> None:
        self._db.execute("DELETE FROM sources WHERE path = ?", (path,))
        self._wrote()

    def missing(self) -> list[Source]:
        """Every record whose file has vanished."""
        return [Source(*row) for row in self._db.execute(
            f"SELECT {_COLUMNS} FROM sources WHERE status = 'missing' ORDER BY path")]

    def missing_threads(self, thread_ids: Iterable[str]) -> set[str]:
        """Those of ``thread_ids`` every source file of which has vanished (a thread ``sync`` keeps, source missing).

        A thread with no record at all was never synced from a file, so it is not missing.
        """
        wanted = list(dict.fromkeys(thread_ids))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            found.update(thread_id for (thread_id,) in self._db.execute(
                f"SELECT thread_id FROM sources WHERE thread_id IN ({', '.join('?' * len(chunk))}) "
                "GROUP BY thread_id HAVING SUM(status != 'missing') = 0", chunk))
        return found

    def of_thread(self, thread_id: str) -> list[Source]:
        return [Source(*row) for row in self._db.execute(
            f"SELECT {_COLUMNS} FROM sources WHERE thread_id = ?", (thread_id,))]

    # ------------------------------------------------------------------ names

    def name_file(self, path: str) -> tuple[int, int]:
        """``(offset read up to, size then)`` of a ``session_index.jsonl``."""
        row = self._db.execute("SELECT offset, size FROM name_files WHERE path = ?", (path,)).fetchone()
        return (0, 0) if row is None else (row[0], row[1])

    def put_name_file(self, path: str, offset: int, size: int) -> None:
        self._db.execute("INSERT OR REPLACE INTO name_files VALUES (?, ?, ?)", (path, offset, size))

    def put_names(self, names: dict[str, str | None]) -> None:
        self._db.executemany("INSERT OR REPLACE INTO names VALUES (?, ?)", names.items())

    def name(self, thread_id: str) -> str | None:
        row = self._db.execute("SELECT name FROM names WHERE id = ?", (thread_id,)).fetchone()
        return None if row is None else row[0]

    def execute(self, sql: str, args: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """A read for diagnostics and tests."""
        return self._db.execute(sql, tuple(args)).fetchall()
