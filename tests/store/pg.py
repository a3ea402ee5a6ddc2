"""The PostgreSQL server the tests use, and fresh schemas on it (shared by every PostgreSQL test).

The server is ``ROLLOUT_TEST_DSN`` (default ``postgresql://127.0.0.1:5432/test``, trust auth).
:func:`unavailable` says why PostgreSQL tests cannot run here (asyncpg missing, or no server
answering), probing once per session; tests then skip with that reason.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import os
import uuid
from typing import Any

DSN = os.environ.get("ROLLOUT_TEST_DSN", "postgresql://127.0.0.1:5432/test")


@functools.cache
def unavailable() -> str | None:
    """Why no PostgreSQL test can run here, or None."""
    try:
        import asyncpg
    except ImportError:
        return "asyncpg is not installed (pip install -e '.[postgres]')"

    async def probe() -> str | None:
        try:
            conn = await asyncpg.connect(DSN, timeout=3)
        except Exception as exc:  # any failure means: no usable server here
            return f"no PostgreSQL server answers at {DSN}: {type(exc).__name__}: {exc}"
        await conn.close()
        return None

    with concurrent.futures.ThreadPoolExecutor(1) as thread:  # callers may be inside an event loop
        return thread.submit(lambda: asyncio.run(probe())).result()


def new_schema() -> str:
    """A schema name no other test or process uses."""
    return f"t_{uuid.uuid4().hex[:16]}"


async def admin(sql: str, *args: object, dsn: str = DSN) -> list[Any]:
    """Run one statement on a connection of its own (behind the store's back)."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


def drop(schema: str) -> None:
    """Drop a test schema and everything in it (from synchronous code: a fixture's teardown)."""
    asyncio.run(admin(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
