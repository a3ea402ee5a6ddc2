"""Connections to one PostgreSQL schema: a pool that survives lost connections and restarts.

:class:`Database` opens an asyncpg pool whose connections have the schema as
``search_path``, migrates the schema once on open, and runs callables with a
pooled connection:

* ``read(fn, ...)`` retries on another connection when the one it used turned
  out to be dead (the server restarted, or an administrator terminated it):
  a read has no effect to repeat;
* ``write(fn, ...)`` never retries: after a lost connection the outcome of a
  commit is unknown, so the caller gets one clear ``StoreError`` saying so
  (a write is one statement or one transaction: it is all there or not at all).

Either way every other pooled connection is expired at once, so the next call
connects afresh instead of finding the next dead one; no process restart is
needed. :func:`translate` turns asyncpg and OS errors into :mod:`rollout.errors`
at this boundary, naming host and database and never the password.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from asyncpg import exceptions as pgx

from rollout.errors import CorruptLog, InvalidInput, RolloutError, StoreError

from .dsn import Target, connect_args, redact, target
from .schema import DEFAULT_SCHEMA, SCHEMA_VERSION, check_schema, current_version, migrate

__all__ = ["Database", "is_connection_loss", "translate"]

T = TypeVar("T")

_LOSS = (
    pgx.PostgresConnectionError,  # class 08: connection exceptions
    pgx.AdminShutdownError,       # 57P01 pg_terminate_backend, fast shutdown
    pgx.CrashShutdownError,       # 57P02
    pgx.CannotConnectNowError,    # 57P03 the server is starting or stopping
    ConnectionError,
    asyncio.TimeoutError,
)
_READ_ATTEMPTS = 3


def is_connection_loss(exc: BaseException) -> bool:
    """Whether ``exc`` means the connection (or the server) went away, not that the query was wrong."""
    if isinstance(exc, (*_LOSS, pgx.InternalClientError)):  # the latter: a protocol state broken by a dead peer
        return True
    if isinstance(exc, pgx.InterfaceError):
        return "closed" in str(exc) or "connection" in str(exc).lower()
    return isinstance(exc, OSError)


def translate(exc: BaseException, where: Target, dsn: str = "", *, action: str = "query") -> RolloutError:
    """A project error for anything asyncpg or the OS raised (the password never appears).

    Args:
        exc: the error.
        where: the server it came from (named in the message).
        dsn: the DSN used, so its password can be masked out of driver messages.
        action: ``"connect"``, ``"query"`` or ``"write"``, for the message.
    """
    if isinstance(exc, RolloutError):
        return exc
    reason = redact(_reason(exc), dsn)
    place = f"PostgreSQL at {where.describe()}"
    if action == "connect":
        return StoreError(f"cannot connect to {place}: {reason}")
    if is_connection_loss(exc):
        if action == "write":
            return StoreError(f"lost the connection to {place} during a write; it is either wholly committed "
                              f"or not at all (retry with the same idempotency key to be sure): {reason}")
        return StoreError(f"lost the connection to {place}: {reason}")
    if isinstance(exc, pgx.DataCorruptedError | pgx.IndexCorruptedError):
        return CorruptLog(f"{place} reports corrupt data: {reason}")
    if isinstance(exc, pgx.ReadOnlySQLTransactionError | pgx.InsufficientPrivilegeError):
        return StoreError(f"{place} refuses to write: {reason}")
    return StoreError(f"{place} failed: {reason}")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError) or "Connect call failed" in str(exc):
        return "connection refused (is the server running and listening there?)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class Database:
    """A pool of connections to one schema of one PostgreSQL database.

    Open with ``await Database.connect(dsn)``; every connection has
    ``search_path`` set to the schema, so SQL names its tables unqualified.

    Attributes:
        schema: the PostgreSQL schema holding the tables.
        target: the server and database, for messages.
        origin: an id unique to this process's store, to tell its own writes in the change feed.
    """

    def __init__(self, pool: asyncpg.Pool, dsn: str, schema: str, where: Target, settings: dict[str, str]) -> None:
        self.pool = pool
        self.schema = schema
        self.target = where
        self.origin = uuid.uuid4().hex
        self._dsn = dsn
        self._settings = settings
        self._closed = False

    @classmethod
    async def connect(cls, dsn: str, *, schema: str = DEFAULT_SCHEMA, min_size: int = 1, max_size: int = 4,
                      application_name: str = "rollout-engine", timeout: float = 10.0,
                      create: bool = True) -> Database:
        """Open a pool and create or migrate ``schema``.

        Args:
            dsn: a libpq DSN (URL or ``key=value`` form).
            schema: the PostgreSQL schema of the tables (created if missing when ``create``).
            min_size: connections opened at once (at least 1: a wrong DSN fails here, not later).
            max_size: most connections held.
            application_name: shown in ``pg_stat_activity``.
            timeout: seconds to wait for one connection.
            create: create the schema if missing (False: a missing schema is left missing; an
                existing older one is still migrated, a newer one still refused).

        Raises:
            StoreError: the server cannot be reached or refuses (one line: host, database, reason).
            SchemaTooNew: the schema was written by a newer rollout-engine.
            InvalidInput: a bad schema name or pool size.
        """
        check_schema(schema)
        if not 1 <= min_size <= max_size:
            raise InvalidInput(f"pool sizes must satisfy 1 <= min_size <= max_size, not {min_size}, {max_size}")
        where = target(dsn)
        # Generic plans: the batch statement's planning costs more than running it (measured 0.3 ms of
        # 1.1 ms per append); every statement here is a keyed lookup whose plan does not depend on values.
        settings = {"search_path": schema, "application_name": application_name,
                    "plan_cache_mode": "force_generic_plan"}
        url, keywords = connect_args(dsn)
        try:
            pool = await asyncpg.create_pool(url, **keywords, min_size=min_size, max_size=max_size, timeout=timeout,
                                             server_settings=settings, command_timeout=None, reset=_keep)
        except Exception as exc:  # noqa: BLE001 -- every driver or OS error becomes one clear line
            raise translate(exc, where, dsn, action="connect") from None
        db = cls(pool, dsn, schema, where, settings)
        try:
            await db.setup(create=create)
        except BaseException:
            await pool.close()
            raise
        return db

    async def setup(self, *, create: bool = True) -> None:
        """Migrate the schema (with ``create=False``, only one that exists)."""
        async def run(conn: asyncpg.Connection) -> None:
            found = None if create else await current_version(conn, self.schema)
            if found is None or found not in (0, SCHEMA_VERSION):
                await migrate(conn, self.schema)  # an existing older schema is upgraded; a newer one raises

        await self.write(run)

    def translate(self, exc: BaseException, *, action: str = "query") -> RolloutError:
        """A project error for a driver error met on this database (see :func:`translate`)."""
        return translate(exc, self.target, self._dsn, action=action)

    async def connection(self) -> asyncpg.Connection:
        """A dedicated connection outside the pool (the change feed's listener); caller closes it.

        Raises:
            StoreError: the server cannot be reached.
        """
        try:
            url, keywords = connect_args(self._dsn)
            return await asyncpg.connect(url, **keywords, server_settings=self._settings, timeout=10.0)
        except Exception as exc:  # noqa: BLE001 -- see connect
            raise translate(exc, self.target, self._dsn, action="connect") from None

    async def close(self) -> None:
        """Close every connection (waits for calls in progress). Idempotent."""
        if not self._closed:
            self._closed = True
            await self.pool.close()

    async def read(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """``await fn(conn, *args)`` on a pooled connection, again on another if that one was dead."""
        for attempt in range(_READ_ATTEMPTS):
            try:
                return await self._run(fn, args)
            except _Lost as lost:
                if attempt + 1 == _READ_ATTEMPTS:
                    raise translate(lost.cause, self.target, self._dsn) from None
        raise AssertionError("unreachable")

    async def write(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """``await fn(conn, *args)`` once; ``fn`` makes its write one statement or one transaction."""
        try:
            return await self._run(fn, args)
        except _Lost as lost:
            raise translate(lost.cause, self.target, self._dsn, action="write") from None

    async def _run(self, fn: Callable[..., Awaitable[T]], args: tuple[Any, ...]) -> T:
        if self._closed:
            raise StoreError("store is closed")
        try:
            async with self.pool.acquire() as conn:
                return await fn(conn, *args)
        except RolloutError:
            raise
        except Exception as exc:
            if is_connection_loss(exc):
                await self.pool.expire_connections()  # a restart killed them all: do not find them one by one
                raise _Lost(exc) from exc
            if isinstance(exc, pgx.InterfaceError) and self._closed:
                raise StoreError("store is closed") from None
            raise translate(exc, self.target, self._dsn) from exc


async def _keep(conn: asyncpg.Connection) -> None:
    """Return a connection to the pool as it is: asyncpg's default reset costs a round trip per call,
    and pooled connections hold no session state to undo (no LISTEN, no SET, no session locks)."""


class _Lost(Exception):
    """A call failed because its connection was lost (carries the driver's error)."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause
