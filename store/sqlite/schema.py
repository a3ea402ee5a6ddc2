"""The SQLite schema, its migrations, and how connections are opened.

Tables (version 4):

* ``threads``: one row per thread: listing columns (indexed; ``model_provider`` holds
  Codex's default ``openai`` for a thread that names none, from version 3), the fork pointer
  (``parent_tkey``, ``parent_upto``: this thread's lines 2..upto+1 are its
  parent's lines 1..upto), the end of its settled chunks (``packed_upto``) and
  the number of chunks after it, and the msgpack ``ThreadState``.
  A deleted thread that forks still read from stays as a ``deleted = 1`` row.
* ``chunks``: stored lines, keyed ``(tkey, seq)`` with plain INSERTs: one chunk
  holds lines ``seq..last`` (one append's lines, until the thread's tail settles and
  :mod:`store.sqlite.consolidate` joins them), zstd-compressed with dictionary ``zdict``
  (0: none; NULL: not compressed).
* ``blobs`` and ``chunk_blobs``: long JSON strings stored once by SHA-256 and
  the chunks that reference them (see :mod:`store.blobs`).
* ``dictionaries``: trained zstd dictionaries; old ids stay readable.
* ``idempotency``: ``(tkey, key) -> seq`` returned by the first append.
* ``snapshots``: persisted replay state at a seq: ``data`` holds ``HistoryBuilder.dump()``,
  ``context`` (version 2; NULL in older rows) ``ContextBuilder.dump(by_reference=True)``
  (the context's items as the numbers of the lines they are the payloads of; older rows
  hold copies, and still load), each zstd unless stored plain (``Tuning.snapshot_level = 0``);
  separate columns, so a read that only needs turns never reads the context. Saved as a
  thread is written (the store feeds its own appends to the cached builders), as it is
  read, and on close.
* ``derived`` (version 4): a cache beside each thread, ``(tkey, name, part) -> data``: the
  turn index of :mod:`store.turns` (dropped with the thread).
* ``changes`` (version 4): the change log: one row per committed write, ``(origin, kind,
  thread_id, last_seq, source_id)``, so other processes' stores tell their subscribers;
  about the last 10,000 are kept. Version 4 also stores Codex's sub-agent kinds in
  ``source_kind`` (``subAgentReview``, ...: :func:`rollout.compat.list_kind`).
* ``settings``: small counters; ``schema_migrations``: applied versions.
* ``search_marks``, ``search_items``, ``search_text`` (version 4): the full-text search
  index, a projection of the threads (:mod:`store.search.fts5`, :mod:`store.sqlite.search`).

Opening a database whose newest migration is unknown here raises ``SchemaTooNew``.
Also here: the translation of SQLite errors into project errors (:func:`translate`); the
storage knobs (:class:`Tuning`) are :mod:`store.tuning`'s.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import urllib.parse

import msgspec

from rollout.errors import CorruptLog, RolloutError, SchemaTooNew, StoreError

from ..clock import now_ms
from ..search.fts5 import SCHEMA as SEARCH_SCHEMA
from ..state import STATE_DECODER
from ..tuning import Tuning

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SYNCHRONOUS", "Tuning", "connect", "migrate", "translate"]

SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")

_V1 = """
CREATE TABLE threads (
    tkey INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    source_kind TEXT,
    model_provider TEXT,
    cwd TEXT,
    name TEXT,
    preview TEXT,
    parent_tkey INTEGER REFERENCES threads (tkey),
    parent_upto INTEGER,
    packed_upto INTEGER NOT NULL DEFAULT 0,
    tail_chunks INTEGER NOT NULL DEFAULT 0,
    state BLOB NOT NULL
);
CREATE INDEX threads_by_created ON threads (archived, created_ms, id) WHERE deleted = 0;
CREATE INDEX threads_by_updated ON threads (archived, updated_ms, id) WHERE deleted = 0;
CREATE INDEX threads_by_parent ON threads (parent_tkey) WHERE parent_tkey IS NOT NULL;
CREATE TABLE chunks (
    tkey INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    last INTEGER NOT NULL,
    zdict INTEGER,
    data BLOB NOT NULL,
    PRIMARY KEY (tkey, seq)
) WITHOUT ROWID;
CREATE TABLE blobs (
    hash BLOB PRIMARY KEY,
    zdict INTEGER,
    data BLOB NOT NULL
);
CREATE TABLE chunk_blobs (
    tkey INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (tkey, seq, hash)
) WITHOUT ROWID;
CREATE INDEX chunk_blobs_by_hash ON chunk_blobs (hash);
CREATE TABLE dictionaries (
    id INTEGER PRIMARY KEY,
    data BLOB NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE idempotency (
    tkey INTEGER NOT NULL,
    key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (tkey, key)
) WITHOUT ROWID;
CREATE TABLE snapshots (
    tkey INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (tkey, seq)
) WITHOUT ROWID;
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO settings VALUES ('undict_bytes', 0);
"""

#: ``(version, name, sql)`` in order; a database records each one it applied.
_V2 = "ALTER TABLE snapshots ADD COLUMN context BLOB"

_V3 = "UPDATE threads SET model_provider = 'openai' WHERE model_provider IS NULL"

_V5 = """
UPDATE threads SET source_kind = list_kind_of_state(state) WHERE source_kind = 'subAgent';
CREATE TABLE derived (
    tkey INTEGER NOT NULL,
    name TEXT NOT NULL,
    part INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (tkey, name, part)
) WITHOUT ROWID;
CREATE TABLE changes (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    kind TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    last_seq INTEGER,
    source_id TEXT
)
"""

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "initial schema", _V1),
    (2, "resume context snapshots", _V2),
    (3, "default model provider in the listing column", _V3),
    (4, "full-text search index", SEARCH_SCHEMA),
    (5, "sub-agent source kinds, derived data (turn index), change log", _V5),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def connect(path: str, *, synchronous: str = "FULL", readonly: bool = False,
            immutable: bool = False) -> sqlite3.Connection:
    """Open a connection in WAL mode, autocommit (transactions are explicit).

    Args:
        readonly: a reader's connection (``query_only``).
        immutable: the file may not be written by this process: open it read-only, and
            if SQLite cannot even create its shared-memory file there, as an immutable
            file (only when no write-ahead log holds uncheckpointed pages).

    Raises:
        sqlite3.Error: the file cannot be opened (callers translate it).
    """
    conn = _open_file(path, immutable)
    try:
        conn.execute("PRAGMA busy_timeout = 30000")
        if readonly or immutable:
            conn.execute("PRAGMA query_only = 1")
        else:
            if conn.execute("PRAGMA page_count").fetchone()[0] == 0:  # a new file: free pages can be returned
                conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{path}: cannot switch the database to WAL mode (got {mode})")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("PRAGMA foreign_keys = OFF")
    except BaseException:
        conn.close()
        raise
    return conn


def _open_file(path: str, immutable: bool) -> sqlite3.Connection:
    if not immutable:
        return sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    uri = "file:" + urllib.parse.quote(os.path.abspath(path))
    conn = sqlite3.connect(uri + "?mode=ro", uri=True, isolation_level=None, check_same_thread=False, timeout=30.0)
    try:
        conn.execute("PRAGMA schema_version").fetchone()
        return conn
    except sqlite3.OperationalError:
        conn.close()
        wal = path + "-wal"
        if os.path.exists(wal) and os.path.getsize(wal) > 0:
            raise
    return sqlite3.connect(uri + "?immutable=1", uri=True, isolation_level=None, check_same_thread=False)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to :data:`SCHEMA_VERSION`; returns the version found before.

    Raises:
        SchemaTooNew: the database has a migration this code does not know.
    """
    conn.create_function("list_kind_of_state", 1, _list_kind_of_state, deterministic=True)
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = _current_version(conn)
        if found > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"database schema version {found} is newer than this rollout-engine "
                f"supports ({SCHEMA_VERSION}); upgrade rollout-engine to open it"
            )
        for version, name, sql in MIGRATIONS:
            if version > found:
                _apply(conn, version, name, sql)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return found


def _list_kind_of_state(data: bytes) -> str | None:
    """The listing kind of a stored ``ThreadState`` (migration 4); None if it does not decode."""
    try:
        return STATE_DECODER.decode(data).source_kind
    except msgspec.DecodeError:
        return None


def _current_version(conn: sqlite3.Connection) -> int:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)"
    )
    return conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]


def _apply(conn: sqlite3.Connection, version: int, name: str, sql: str) -> None:
    for statement in filter(str.strip, sql.split(";")):
        conn.execute(statement)
    conn.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, now_ms()))


def translate(exc: BaseException) -> RolloutError:
    """A project error for anything a command or SQLite raised."""
    if isinstance(exc, RolloutError):
        return exc
    if isinstance(exc, sqlite3.DatabaseError) and ("malformed" in str(exc) or "not a database" in str(exc)):
        return CorruptLog(f"database is corrupt: {exc}")
    if _disk_full(exc):
        return StoreError(f"the disk is full: {exc}")
    return StoreError(f"storage failed: {type(exc).__name__}: {exc}")


def _disk_full(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
