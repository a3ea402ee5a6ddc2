"""What the PostgreSQL peers share: the benchmark's server, one schema per driver, its size, cleanup.

The server is ``ROLLOUT_BENCH_DSN`` (default ``postgresql://127.0.0.1:5432/test``). Each driver
works in a schema of its own named after its directory (so ``reopen`` finds it again), and drops
it in ``destroy``; nothing is left on the server after a run. ``bytes_on_disk`` is the size of
every table of the schema with its indexes and TOAST (``pg_total_relation_size``). ``reopen``
runs ``ANALYZE`` on the schema first, for every PostgreSQL peer alike (see ``OwnSchema.reopen``).

Imports psycopg (sync, for sizes and DDL); nothing from ``store``.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
from pathlib import Path
from urllib.parse import quote

import psycopg

__all__ = ["DSN", "OwnSchema", "analyze_schema", "drop_schema", "ensure_schema", "schema_bytes", "schema_for",
           "with_search_path"]

DSN = os.environ.get("ROLLOUT_BENCH_DSN", "postgresql://127.0.0.1:5432/test")


def schema_for(root: Path) -> str:
    """The schema of the driver working in ``root`` (stable across reopen, unique per run)."""
    return "bench_" + hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:20]


def with_search_path(dsn: str, schema: str) -> str:
    """``dsn`` with ``options=-c search_path=schema`` (libpq/psycopg URL form)."""
    joiner = "&" if "?" in dsn else "?"
    return f"{dsn}{joiner}options={quote(f'-c search_path={schema}')}"


_CREATED: set[str] = set()


def ensure_schema(schema: str) -> None:
    """Create ``schema`` if missing (dropped at exit at the latest, even when a figure failed)."""
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    _CREATED.add(schema)


def drop_schema(schema: str) -> None:
    """Drop ``schema`` and everything in it."""
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    _CREATED.discard(schema)


@atexit.register
def _drop_leftovers() -> None:
    for schema in list(_CREATED):
        with contextlib.suppress(psycopg.Error):
            drop_schema(schema)


def analyze_schema(schema: str) -> None:
    """``ANALYZE`` every table of ``schema``: what autovacuum does within its naptime (a minute by default)."""
    with psycopg.connect(DSN, autocommit=True) as conn:
        tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)).fetchall()
        for (table,) in tables:
            conn.execute(f'ANALYZE "{schema}"."{table}"')


def schema_bytes(schema: str) -> int:
    """Bytes of every table in ``schema``, indexes and TOAST included."""
    with psycopg.connect(DSN, autocommit=True) as conn:
        row = conn.execute(
            "SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'm')",
            (schema,),
        ).fetchone()
    return int(row[0]) if row else 0


class OwnSchema:
    """Mixin for a PostgreSQL peer driver: its schema, its size on disk, its removal."""

    root: Path

    def own_schema(self) -> str:
        """Create (if missing) and return the driver's schema; call from ``open``."""
        self.schema = schema_for(self.root)
        ensure_schema(self.schema)
        return self.schema

    def bytes_on_disk(self) -> int:
        return schema_bytes(schema_for(self.root))

    async def reopen(self) -> None:
        """Close, let the server gather statistics (as autovacuum would by then), open again.

        The harness fills a store and reads it seconds later; without statistics PostgreSQL plans
        every peer's queries for empty tables.
        """
        await self.close()  # type: ignore[attr-defined]
        analyze_schema(schema_for(self.root))
        await self.open()  # type: ignore[attr-defined]

    async def destroy(self) -> None:
        drop_schema(schema_for(self.root))
