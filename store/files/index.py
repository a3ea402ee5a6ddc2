"""The SQLite sidecar index of a Codex home: ``$CODEX_HOME/.rollout-engine/index.sqlite``.

The rollout files are the truth; this database is a cache of what listing and lookup by
id need, so it can always be thrown away and rebuilt. It never touches Codex's own
``state_5.sqlite``. Tables:

* ``threads``: one row per thread id: its file, the file's ``(size, mtime_ns)`` when it was
  indexed, sort keys (``created_ms``, ``updated_ms``), filter columns, line count and the
  listing record (an opaque blob the caller encodes); for a paginated thread kept in
  several segment files, ``segments`` lists them oldest first (the file is the newest);
* ``files``: every rollout file seen with its ``(size, mtime_ns)``, including files that
  hold no usable thread, so unchanged files are never re-read;
* ``dirs``: ``mtime_ns`` of every rollout directory, to find new or removed files by
  listing only the directories that changed;
* ``names``: the newest name per id from ``session_index.jsonl``, and in ``state`` the
  byte offset up to which that file has been read;
* ``idempotency``: append idempotency keys;
* ``edits``: git metadata edited in place (``update_metadata``), per id (schema 3);
* ``derived``: derived data per thread, the turn index of :mod:`store.turns` (schema 3).

Stale rows are found by comparing ``(path, size, mtime_ns)`` with the file system and
repaired by the caller (:mod:`store.files.catalog`). A sidecar that is missing, unreadable or of an
unknown schema is replaced by an empty one, and :attr:`FileIndex.rebuilt` says so.

Synchronous ``sqlite3``; one connection, used from one worker thread. ``sqlite3`` errors
are translated to :class:`~rollout.errors.StoreError`. Must not import: replay,
rollout.cli, rich, asyncio.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rollout.errors import StoreError

from ..listing import ListQuery, sql_conditions

__all__ = ["SCHEMA_VERSION", "FileIndex", "FileRow", "Filters", "ThreadRow", "translated_sqlite"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 4  # 2: default provider, model settings; 3: paginated threads' segment files; 4: sub-agent kinds, edits, derived data

_SCHEMA = """
CREATE TABLE threads (
    id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    archived INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    line_count INTEGER NOT NULL,
    source_kind TEXT,
    model_provider TEXT,
    cwd TEXT,
    preview TEXT NOT NULL DEFAULT '',
    info BLOB NOT NULL,
    segments TEXT
);
CREATE INDEX threads_by_created ON threads (archived, created_ms DESC, id DESC);
CREATE INDEX threads_by_updated ON threads (archived, updated_ms DESC, id DESC);
CREATE INDEX threads_by_path ON threads (path);
CREATE INDEX threads_all_by_created ON threads (created_ms DESC, id DESC);
CREATE INDEX threads_all_by_updated ON threads (updated_ms DESC, id DESC);
CREATE TABLE files (
    path TEXT PRIMARY KEY,
    dir TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    thread_id TEXT
);
CREATE INDEX files_by_dir ON files (dir);
CREATE TABLE dirs (path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL);
CREATE TABLE names (id TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE state (key TEXT PRIMARY KEY, value);
CREATE TABLE idempotency (
    thread_id TEXT NOT NULL,
    key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (thread_id, key)
);
CREATE TABLE edits (id TEXT PRIMARY KEY, git BLOB NOT NULL);
CREATE TABLE derived (
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    part INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (id, name, part)
) WITHOUT ROWID;
"""

_THREAD_COLUMNS = "id, path, archived, size, mtime_ns, created_ms, updated_ms, info, segments"
_FILTER_COLUMNS = "line_count, source_kind, model_provider, cwd, preview"


@dataclass(slots=True)
class ThreadRow:
    """What the index knows about one thread; ``path`` is relative to the home.

    ``info`` is the caller's encoded record (the thread state). The filter columns
    (:class:`Filters`) are written beside it for SQL and never read back. ``segments``:
    the files of a thread kept in segments, oldest first (``path`` is the last), else None.
    """

    id: str
    path: str
    archived: bool
    size: int
    mtime_ns: int
    created_ms: int
    updated_ms: int
    info: bytes
    segments: list[str] | None = None

    def values(self) -> tuple[Any, ...]:
        segments = None if self.segments is None else "\n".join(self.segments)
        return (self.id, self.path, int(self.archived), self.size, self.mtime_ns, self.created_ms,
                self.updated_ms, self.info, segments)

    @classmethod
    def from_values(cls, row: tuple[Any, ...]) -> ThreadRow:
        segments = None if row[8] is None else row[8].split("\n")
        return cls(row[0], row[1], bool(row[2]), row[3], row[4], row[5], row[6], row[7], segments)


@dataclass(slots=True)
class Filters:
    """Columns ``list`` filters on in SQL."""

    line_count: int
    source_kind: str | None
    model_provider: str | None
    cwd: str | None
    preview: str

    def values(self) -> tuple[Any, ...]:
        return (self.line_count, self.source_kind, self.model_provider, self.cwd, self.preview)


@dataclass(slots=True)
class FileRow:
    """One indexed rollout file (``thread_id`` None: it holds no usable thread)."""

    path: str
    dir: str
    size: int
    mtime_ns: int
    thread_id: str | None


class FileIndex:
    """The sidecar database.

    Args:
        path: the database file, or ``":memory:"``.

    Attributes:
        rebuilt: why the database was (re)created empty, or None when it was reused.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self.rebuilt: str | None = None
        self._db = self._connect()

    # ------------------------------------------------------------------ lifecycle

    def _connect(self) -> sqlite3.Connection:
        if self.path == ":memory:":
            self.rebuilt = "in-memory index"
            return self._create(sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False))
        path = Path(self.path)
        existed = path.exists()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA synchronous=NORMAL")  # a cache: losing the last commit is harmless
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:
                return db
        except sqlite3.DatabaseError as exc:
            log.warning("index %s is unreadable (%s); rebuilding it from the rollout files", path, exc)
            return self._replace(path, f"unreadable index ({exc})")
        except OSError as exc:
            raise StoreError(f"{path}: cannot open the index: {exc}") from exc
        if version > SCHEMA_VERSION:
            db.close()
            log.warning("index %s has schema %d (newer); using an in-memory index", path, version)
            self.rebuilt = f"index schema {version} is newer than {SCHEMA_VERSION}"
            return self._create(sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False))
        if version != 0 or existed:
            db.close()
            return self._replace(path, f"index schema {version} replaced by {SCHEMA_VERSION}")
        self.rebuilt = "no index"
        with translated_sqlite("create the index"):
            db.execute("PRAGMA journal_mode=WAL")  # persistent: set once, when created
        return self._create(db)

    def _replace(self, path: Path, reason: str) -> sqlite3.Connection:
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        self.rebuilt = reason
        try:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            return self._create(db)
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot create the index: {exc}") from exc

    @staticmethod
    def _create(db: sqlite3.Connection) -> sqlite3.Connection:
        with translated_sqlite("create the index"):
            db.executescript(f"BEGIN; {_SCHEMA} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;")
        return db

    def close(self) -> None:
        with translated_sqlite("close the index"):
            self._db.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """The sidecar's connection, for the search index's tables (:mod:`store.search.fts5`)."""
        return self._db

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction (nested use joins the outer one)."""
        if self._db.in_transaction:
            yield
            return
        with translated_sqlite("write the index"):
            self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        with translated_sqlite("commit the index"):
            self._db.execute("COMMIT")

    # ------------------------------------------------------------------ threads

    def thread(self, thread_id: str) -> ThreadRow | None:
        row = self._one(f"SELECT {_THREAD_COLUMNS} FROM threads WHERE id = ?", (thread_id,))
        return None if row is None else ThreadRow.from_values(row)

    def put_thread(self, row: ThreadRow, filters: Filters) -> None:
        self._exec(
            f"INSERT OR REPLACE INTO threads ({_THREAD_COLUMNS}, {_FILTER_COLUMNS}) VALUES ({', '.join('?' * 14)})",
            (*row.values(), *filters.values()),
        )

    def thread_at(self, path: str) -> ThreadRow | None:
        row = self._one(f"SELECT {_THREAD_COLUMNS} FROM threads WHERE path = ?", (path,))
        return None if row is None else ThreadRow.from_values(row)

    def drop_thread(self, thread_id: str) -> None:
        self._exec("DELETE FROM threads WHERE id = ?", (thread_id,))

    def page(self, query: ListQuery, limit: int) -> list[ThreadRow]:
        """Up to ``limit`` rows passing ``query``'s SQL conditions, in its order by ``(sort key, id)``.

        ``query.search`` is left to the caller (names live in their own table).
        """
        where, params = sql_conditions(query)
        sql = (
            f"SELECT {_THREAD_COLUMNS} FROM threads WHERE {' AND '.join(where) or '1'} "
            f"ORDER BY {query.order} LIMIT ?"
        )
        return [ThreadRow.from_values(r) for r in self._all(sql, (*params, limit))]

    # ------------------------------------------------------------------ files and dirs

    def files_in(self, directory: str) -> dict[str, FileRow]:
        rows = self._all("SELECT path, dir, size, mtime_ns, thread_id FROM files WHERE dir = ?", (directory,))
        return {r[0]: FileRow(*r) for r in rows}

    def file(self, path: str) -> FileRow | None:
        row = self._one("SELECT path, dir, size, mtime_ns, thread_id FROM files WHERE path = ?", (path,))
        return None if row is None else FileRow(*row)

    def files_of(self, thread_id: str) -> list[FileRow]:
        rows = self._all("SELECT path, dir, size, mtime_ns, thread_id FROM files WHERE thread_id = ?", (thread_id,))
        return [FileRow(*r) for r in rows]

    def put_file(self, row: FileRow) -> None:
        self._exec(
            "INSERT OR REPLACE INTO files (path, dir, size, mtime_ns, thread_id) VALUES (?, ?, ?, ?, ?)",
            (row.path, row.dir, row.size, row.mtime_ns, row.thread_id),
        )

    def drop_file(self, path: str) -> None:
        self._exec("DELETE FROM files WHERE path = ?", (path,))

    def dirs(self) -> dict[str, int]:
        return dict(self._all("SELECT path, mtime_ns FROM dirs", ()))

    def put_dir(self, path: str, mtime_ns: int) -> None:
        self._exec("INSERT OR REPLACE INTO dirs (path, mtime_ns) VALUES (?, ?)", (path, mtime_ns))

    def drop_dir(self, path: str) -> None:
        self._exec("DELETE FROM dirs WHERE path = ?", (path,))

    # ------------------------------------------------------------------ names and state

    def name(self, thread_id: str) -> str | None:
        row = self._one("SELECT name FROM names WHERE id = ?", (thread_id,))
        return None if row is None else row[0]

    def names(self, ids: Iterable[str]) -> dict[str, str]:
        ids = list(ids)
        if not ids:
            return {}
        marks = ", ".join("?" * len(ids))
        return dict(self._all(f"SELECT id, name FROM names WHERE id IN ({marks})", ids))

    def put_names(self, names: dict[str, str | None]) -> None:
        for thread_id, name in names.items():
            if name is None:
                self._exec("DELETE FROM names WHERE id = ?", (thread_id,))
            else:
                self._exec("INSERT OR REPLACE INTO names (id, name) VALUES (?, ?)", (thread_id, name))

    def clear_names(self) -> None:
        self._exec("DELETE FROM names", ())

    def get_state(self, key: str) -> Any:
        row = self._one("SELECT value FROM state WHERE key = ?", (key,))
        return None if row is None else row[0]

    def set_state(self, key: str, value: Any) -> None:
        self._exec("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)", (key, value))

    # ------------------------------------------------------------------ idempotency

    def idempotent_seq(self, thread_id: str, key: str) -> int | None:
        row = self._one("SELECT seq FROM idempotency WHERE thread_id = ? AND key = ?", (thread_id, key))
        return None if row is None else row[0]

    def put_idempotency(self, thread_id: str, key: str, seq: int) -> None:
        self._exec("INSERT INTO idempotency (thread_id, key, seq) VALUES (?, ?, ?)", (thread_id, key, seq))

    # ------------------------------------------------------------------ edits and derived data

    def edit(self, thread_id: str) -> bytes | None:
        row = self._one("SELECT git FROM edits WHERE id = ?", (thread_id,))
        return None if row is None else row[0]

    def put_edit(self, thread_id: str, git: bytes) -> None:
        self._exec("INSERT OR REPLACE INTO edits (id, git) VALUES (?, ?)", (thread_id, git))

    def derived(self, thread_id: str, name: str, parts: Sequence[int] | None) -> dict[int, bytes]:
        sql = "SELECT part, data FROM derived WHERE id = ? AND name = ?"
        if parts is None:
            return dict(self._all(sql, (thread_id, name)))
        if not parts:
            return {}
        marks = ", ".join("?" * len(parts))
        return dict(self._all(f"{sql} AND part IN ({marks})", (thread_id, name, *parts)))

    def save_derived(self, thread_id: str, name: str, parts: dict[int, bytes], count: int) -> None:
        with self.transaction():
            for part, data in parts.items():
                self._exec("INSERT OR REPLACE INTO derived (id, name, part, data) VALUES (?, ?, ?, ?)",
                           (thread_id, name, part, data))
            self._exec("DELETE FROM derived WHERE id = ? AND name = ? AND part >= ?", (thread_id, name, count))

    def drop_thread_data(self, thread_id: str) -> None:
        """Forget a deleted thread's idempotency keys, edits and derived data."""
        for table, column in (("idempotency", "thread_id"), ("edits", "id"), ("derived", "id")):
            self._exec(f"DELETE FROM {table} WHERE {column} = ?", (thread_id,))

    # ------------------------------------------------------------------ plumbing

    def _exec(self, sql: str, params: Iterable[Any]) -> None:
        with translated_sqlite("write the index"):
            self._db.execute(sql, tuple(params))

    def _one(self, sql: str, params: Iterable[Any]) -> tuple[Any, ...] | None:
        with translated_sqlite("read the index"):
            return self._db.execute(sql, tuple(params)).fetchone()

    def _all(self, sql: str, params: Iterable[Any]) -> list[tuple[Any, ...]]:
        with translated_sqlite("read the index"):
            return self._db.execute(sql, tuple(params)).fetchall()


@contextmanager
def translated_sqlite(action: str) -> Iterator[None]:
    """``sqlite3`` errors inside become ``StoreError("cannot <action>: ...")``."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(f"cannot {action}: {exc}") from exc
