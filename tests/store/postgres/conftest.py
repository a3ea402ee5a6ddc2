"""PostgreSQL fixtures: a fresh schema per test on the local server, dropped afterwards.

The server is ``ROLLOUT_TEST_DSN`` (default ``postgresql://127.0.0.1:5432/test``, trust
auth). When asyncpg is missing or no server answers, every test here skips saying why.
Each test's connections carry a unique ``application_name``, so a test that terminates
"the store's connections" never touches another process's.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from .. import pg

asyncpg = pytest.importorskip("asyncpg", reason="asyncpg is not installed (pip install -e '.[postgres]')")

DSN = pg.DSN


@pytest.fixture(scope="session")
def dsn() -> str:
    """The test server's DSN; skips the test when no server answers."""
    reason = pg.unavailable()
    if reason is not None:
        pytest.skip(reason)
    return DSN


@pytest.fixture
def schema(dsn: str) -> Iterator[str]:
    """A schema name no other test or process uses; the schema is dropped after the test."""
    name = pg.new_schema()
    yield name
    pg.drop(name)


@pytest.fixture
def app_name() -> str:
    """An ``application_name`` unique to this test, to find its connections on the server."""
    return f"rollout-test-{uuid.uuid4().hex[:12]}"


async def admin(dsn: str, sql: str, *args: object) -> list[asyncpg.Record]:
    """Run one statement on a connection of its own (behind the store's back)."""
    return await pg.admin(sql, *args, dsn=dsn)


async def terminate(dsn: str, app_name: str) -> int:
    """``pg_terminate_backend`` every connection named ``app_name``; returns how many."""
    rows = await admin(dsn, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                       app_name)
    return len(rows)


@pytest.fixture
async def db(dsn: str, schema: str, app_name: str) -> AsyncIterator[object]:
    """A migrated :class:`store.postgres.database.Database` on the fresh schema."""
    from store.postgres.database import Database

    opened = await Database.connect(dsn, schema=schema, application_name=app_name)
    try:
        yield opened
    finally:
        await opened.close()


def write(thread_id: str, version: int | None, last_seq: int, *chunks: tuple[int, int, bytes], gen: int = 0,
          **fields: object) -> object:
    """A ``ThreadWrite`` of plain (uncompressed) chunks ``(seq, last, data)``; ``fields`` go to the write."""
    from store.postgres.writer import ChunkRow, ThreadRow, ThreadWrite

    row = ThreadRow(created_ms=1_000, updated_ms=1_000 + last_seq, last_seq=last_seq, state=b"state")
    rows = tuple(ChunkRow(seq, last, None, data) for seq, last, data in chunks)
    return ThreadWrite(thread_id=thread_id, version=version, gen=gen, row=fields.pop("row", row), chunks=rows,
                       **fields)
