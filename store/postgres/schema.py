"""The PostgreSQL schema, its versioned migrations, and how a connection reaches it.

Every table is keyed by thread first -- ``(thread_id, gen, ...)`` -- so the
schema can be distributed by ``thread_id`` (Citus ``create_distributed_table``)
without rewriting a query: each thread's rows live on one node. ``gen`` tells
apart the lives of one id: a deleted thread whose lines a fork still reads stays
as a ``deleted`` row, and the id may be used again by a new thread (next gen).

Tables (version 1), in one PostgreSQL schema (``rollout`` unless told):

* ``threads``: one row per thread life: listing columns with ``(key, id)``
  keyset indexes (``name_folded`` and ``preview_folded`` hold the name and preview
  case-folded, as ``list(search=...)`` matches them), the fork pointer (``parent_id``, ``parent_gen``,
  ``parent_upto``: this thread's lines 2..upto+1 are its parent's lines 1..upto)
  and the whole ancestry (``ancestry``: msgpack ``[[id, gen, upto], ...]``,
  nearest first, so reading a fork needs no recursive query, which a
  distributed database cannot run), ``packed_upto``/``tail_chunks`` (settled
  chunks), ``version`` (bumped by every write: the compare-and-set that keeps
  writers in several processes from overwriting each other), the msgpack state.
* ``chunks``: lines ``seq..last`` joined by newlines, zstd with dictionary
  ``zdict`` (0: none; NULL: stored plain); plain INSERTs on the primary key
  ``(thread_id, gen, seq)``, never an upsert, so two writers cannot both land
  the same seq.
* ``blobs``: long JSON strings cut out of lines, by SHA-256, per thread life
  (shared by that life's lines and read by its forks through the ancestry).
* ``idempotency``: ``(thread_id, gen, key) -> seq``, unique per thread.
* ``snapshots``: replay state at a seq (``data`` turns, ``context`` resume).
* ``dictionaries``: trained zstd dictionaries (small, global: a reference table
  when distributed); ``schema_migrations``: applied versions.

Version 2 adds the search index (:mod:`store.postgres.search`): ``search_marks``
(a thread's watermark: the life ``gen`` and ``last_seq`` it was projected at, a
fingerprint per turn, its cwd and fork source) and ``search_items`` (one row per
indexed item: where it is, its field texts, ``doc``, a ``tsvector`` built in
Python, with a GIN index, and ``words``, the item's words in order, where phrases are
checked).

Already compressed columns are ``STORAGE EXTERNAL`` (no second compression by
TOAST). Opening a schema whose newest migration is unknown here raises
``SchemaTooNew``. Migrations run under a transaction-scoped advisory lock, so
processes opening one schema at once apply each migration once.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import re
import time
from typing import Any

from rollout.errors import InvalidInput, SchemaTooNew

__all__ = ["DEFAULT_SCHEMA", "MIGRATIONS", "SCHEMA_VERSION", "channel", "check_schema", "current_version", "migrate"]

DEFAULT_SCHEMA = "rollout"
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,47}")

_V1 = """
CREATE TABLE threads (
    thread_id uuid NOT NULL,
    gen integer NOT NULL DEFAULT 0,
    version bigint NOT NULL DEFAULT 1,
    created_ms bigint NOT NULL,
    updated_ms bigint NOT NULL,
    last_seq bigint NOT NULL,
    archived boolean NOT NULL DEFAULT false,
    deleted boolean NOT NULL DEFAULT false,
    source_kind text,
    model_provider text,
    cwd text,
    name_folded text,
    preview_folded text,
    parent_id uuid,
    parent_gen integer,
    parent_upto bigint,
    ancestry bytea,
    packed_upto bigint NOT NULL DEFAULT 0,
    tail_chunks integer NOT NULL DEFAULT 0,
    state bytea NOT NULL,
    PRIMARY KEY (thread_id, gen),
    CHECK ((parent_id IS NULL) = (parent_upto IS NULL) AND (parent_id IS NULL) = (parent_gen IS NULL))
);
CREATE UNIQUE INDEX threads_live ON threads (thread_id) WHERE NOT deleted;
CREATE INDEX threads_by_created ON threads (archived, created_ms, thread_id) WHERE NOT deleted;
CREATE INDEX threads_by_updated ON threads (archived, updated_ms, thread_id) WHERE NOT deleted;
CREATE INDEX threads_by_parent ON threads (parent_id, parent_gen) WHERE parent_id IS NOT NULL;
CREATE TABLE chunks (
    thread_id uuid NOT NULL,
    gen integer NOT NULL,
    seq bigint NOT NULL,
    last bigint NOT NULL,
    zdict integer,
    data bytea NOT NULL,
    PRIMARY KEY (thread_id, gen, seq),
    CHECK (last >= seq)
);
ALTER TABLE chunks ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE TABLE blobs (
    thread_id uuid NOT NULL,
    gen integer NOT NULL,
    hash bytea NOT NULL,
    zdict integer,
    data bytea NOT NULL,
    PRIMARY KEY (thread_id, gen, hash)
);
ALTER TABLE blobs ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE TABLE idempotency (
    thread_id uuid NOT NULL,
    gen integer NOT NULL,
    key text NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (thread_id, gen, key)
);
CREATE TABLE snapshots (
    thread_id uuid NOT NULL,
    gen integer NOT NULL,
    seq bigint NOT NULL,
    data bytea NOT NULL,
    context bytea,
    PRIMARY KEY (thread_id, gen, seq)
);
ALTER TABLE snapshots ALTER COLUMN data SET STORAGE EXTERNAL;
ALTER TABLE snapshots ALTER COLUMN context SET STORAGE EXTERNAL;
CREATE TABLE dictionaries (
    id integer PRIMARY KEY,
    data bytea NOT NULL,
    created_ms bigint NOT NULL
)
"""

_V2 = """
CREATE TABLE search_marks (
    thread_id uuid PRIMARY KEY,
    gen integer NOT NULL,
    seq bigint NOT NULL,
    sigs bytea NOT NULL,
    cwd text,
    forked_from text,
    inherited integer NOT NULL DEFAULT 0
);
CREATE INDEX search_marks_by_source ON search_marks (forked_from) WHERE forked_from IS NOT NULL;
CREATE TABLE search_items (
    thread_id uuid NOT NULL,
    turn_index integer NOT NULL,
    ord integer NOT NULL,
    turn_id text NOT NULL,
    item_id text NOT NULL,
    kind text NOT NULL,
    role text NOT NULL,
    time_ms bigint,
    repeated boolean NOT NULL,
    user_text text NOT NULL,
    agent_text text NOT NULL,
    reasoning_text text NOT NULL,
    tool_in text NOT NULL,
    tool_out text NOT NULL,
    paths text NOT NULL,
    doc tsvector NOT NULL,
    words text NOT NULL,
    PRIMARY KEY (thread_id, turn_index, ord)
);
CREATE INDEX search_items_doc ON search_items USING gin (doc)
"""

#: ``(version, name, sql)`` in order; a schema records each one it applied.
MIGRATIONS: list[tuple[int, str, str]] = [(1, "initial schema", _V1), (2, "search index", _V2)]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def check_schema(name: Any) -> str:
    """A schema name safe to splice into SQL (lower-case identifier, at most 48 characters).

    Raises:
        InvalidInput: anything else.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInput(f"schema must be a lower-case SQL identifier ([a-z_][a-z0-9_]*), not {name!r}")
    return name


def channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel of a schema's change feed."""
    return f"rollout_{check_schema(schema)}"


async def current_version(conn: Any, schema: str) -> int:
    """The newest migration applied to ``schema`` (0: none, or no such schema)."""
    exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{check_schema(schema)}.schema_migrations")
    if not exists:
        return 0
    return await conn.fetchval(f"SELECT COALESCE(MAX(version), 0) FROM {schema}.schema_migrations")


async def migrate(conn: Any, schema: str) -> int:
    """Create or bring ``schema`` up to :data:`SCHEMA_VERSION`; returns the version found before.

    Args:
        conn: an asyncpg connection, not inside a transaction.
        schema: the PostgreSQL schema holding the tables (created if missing).

    Raises:
        SchemaTooNew: the schema has a migration this code does not know (nothing is changed).
        asyncpg.PostgresError: the server refused (callers translate it).
    """
    check_schema(schema)
    found = await current_version(conn, schema)
    if found > SCHEMA_VERSION:  # checked before taking any lock: a read-only user can be told too
        raise _too_new(found)
    if found == SCHEMA_VERSION:
        return found
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"rollout-migrate:{schema}")
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {schema}.schema_migrations "
            "(version integer PRIMARY KEY, name text NOT NULL, applied_ms bigint NOT NULL)"
        )
        found = await current_version(conn, schema)  # another process may have migrated meanwhile
        if found > SCHEMA_VERSION:
            raise _too_new(found)
        await conn.execute(f"SET LOCAL search_path TO {schema}")
        for version, name, sql in MIGRATIONS:
            if version > found:
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations VALUES ($1, $2, $3)", version, name, time.time_ns() // 1_000_000
                )
    return found


def _too_new(found: int) -> SchemaTooNew:
    return SchemaTooNew(
        f"database schema version {found} is newer than this rollout-engine supports "
        f"({SCHEMA_VERSION}); upgrade rollout-engine to open it"
    )
