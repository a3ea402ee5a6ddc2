"""Schema creation, versioned migrations and SchemaTooNew on PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from rollout.errors import InvalidInput, SchemaTooNew
from store.postgres.database import Database
from store.postgres.schema import SCHEMA_VERSION

from .conftest import admin

TABLES = {"schema_migrations", "threads", "chunks", "blobs", "idempotency", "snapshots", "dictionaries", "search_marks", "search_items"}


async def tables(dsn: str, schema: str) -> set[str]:
    rows = await admin(dsn, "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema)
    return {row["table_name"] for row in rows}


async def test_opening_creates_every_table_and_records_the_version(dsn, schema):
    """A fresh schema gets every table and one schema_migrations row per migration."""
    db = await Database.connect(dsn, schema=schema)
    await db.close()
    assert await tables(dsn, schema) == TABLES
    rows = await admin(dsn, f"SELECT version FROM {schema}.schema_migrations ORDER BY version")
    assert [row["version"] for row in rows] == list(range(1, SCHEMA_VERSION + 1))


async def test_reopening_applies_nothing_twice(dsn, schema):
    """A second open finds the schema current and changes nothing."""
    for _ in range(2):
        await (await Database.connect(dsn, schema=schema)).close()
    rows = await admin(dsn, f"SELECT count(*) AS n FROM {schema}.schema_migrations")
    assert rows[0]["n"] == SCHEMA_VERSION


async def test_processes_opening_at_once_migrate_once(dsn, schema):
    """Concurrent opens of a new schema serialise on the advisory lock: no error, one row per version."""
    opened = await asyncio.gather(*(Database.connect(dsn, schema=schema) for _ in range(4)))
    for db in opened:
        await db.close()
    rows = await admin(dsn, f"SELECT count(*) AS n FROM {schema}.schema_migrations")
    assert rows[0]["n"] == SCHEMA_VERSION


async def test_a_newer_schema_raises_schema_too_new_and_changes_nothing(dsn, schema):
    """A schema with an unknown migration is refused, whether or not the store may create."""
    await (await Database.connect(dsn, schema=schema)).close()
    await admin(dsn, f"INSERT INTO {schema}.schema_migrations VALUES ($1, 'from the future', 0)", SCHEMA_VERSION + 1)
    for create in (True, False):
        with pytest.raises(SchemaTooNew, match=f"version {SCHEMA_VERSION + 1} is newer"):
            await Database.connect(dsn, schema=schema, create=create)
    assert await tables(dsn, schema) == TABLES


async def test_create_false_leaves_a_missing_schema_missing(dsn, schema):
    """Opening without ``create`` does not make the schema."""
    await (await Database.connect(dsn, schema=schema, create=False)).close()
    assert await tables(dsn, schema) == set()


@pytest.mark.parametrize("name", ["Public", "a-b", "x; DROP TABLE y", "", "1abc", "a" * 49, 7])
async def test_unsafe_schema_names_are_refused(dsn, name):
    """Only plain lower-case identifiers reach SQL."""
    with pytest.raises(InvalidInput, match="schema must be"):
        await Database.connect(dsn, schema=name)
