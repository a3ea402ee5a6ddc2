"""Opening the store a command works on: ``--codex-home`` (FileStore), ``--postgres`` (PostgresStore)
or ``--db`` (SqliteStore).

The default database is ``$ROLLOUT_DB``, else
``$XDG_DATA_HOME/rollout-engine/threads.db``. Commands that only read never
create a database (nor PostgreSQL tables): a missing one is an error that says
how to make one. A PostgreSQL store keeps its tables in the schema
``$ROLLOUT_PG_SCHEMA`` (default ``rollout``) and is named by its host, port,
database and user, never by its DSN (which may hold a password).

Must not import: rich.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from ..errors import InvalidInput, StoreError, ThreadNotFound
from .failure import CommandError
from .target import default_db_path, is_codex_home

__all__ = ["db_path", "open_store", "pg_schema", "source_missing", "store_label"]


def db_path(args: argparse.Namespace) -> Path:
    """The SQLite database a command uses (``--db``, else the default)."""
    return Path(args.db).expanduser() if getattr(args, "db", None) else default_db_path()


def source_missing(args: argparse.Namespace, thread_ids: list[str]) -> set[str] | None:
    """Which of ``thread_ids`` ``rollout sync`` keeps with every source file gone (source missing).

    Returns None when the store has no sync state beside it (a ``--codex-home`` or
    ``--postgres`` store, or a database never synced): then nothing is known either way.
    """
    if getattr(args, "postgres", None) or getattr(args, "codex_home", None):
        return None
    from store.sync import SourceRecords

    records = SourceRecords.beside(db_path(args))
    if records is None:
        return None
    try:
        return records.missing_threads(thread_ids)
    finally:
        records.close()


def pg_schema() -> str:
    """The PostgreSQL schema of the tables: ``$ROLLOUT_PG_SCHEMA``, else ``rollout``."""
    return os.environ.get("ROLLOUT_PG_SCHEMA") or "rollout"


def store_label(args: argparse.Namespace) -> str:
    """How messages name the store a command uses (a path, or a PostgreSQL server without the password)."""
    if getattr(args, "postgres", None):
        from store.postgres.dsn import target

        return f"PostgreSQL at {target(args.postgres).describe()}"
    if getattr(args, "codex_home", None):
        return str(Path(args.codex_home).expanduser())
    return str(db_path(args))


@contextlib.asynccontextmanager
async def open_store(args: argparse.Namespace, *, create: bool, turn_index: str | None = None,
                     follow: bool = False) -> AsyncIterator[Any]:
    """Open the store named by ``--codex-home`` / ``--db`` for one command.

    Errors name the store: a database that cannot be opened (newer schema, not
    SQLite) becomes ``PATH: reason``, an unknown thread ``thread ID not found in PATH``.
    A folder that is not a Codex home is refused before anything is written there.

    Args:
        args: parsed arguments (``codex_home``, ``postgres``, ``db``).
        create: whether a missing database may be created (``import`` only).
        turn_index: a Codex home writes the turn index of this replay policy as it indexes
            each file (``FileStore``'s option: ``serve`` wants first reads without a replay).
        follow: learn of other processes' writes (``serve``: PostgreSQL's change feed).

    Raises:
        CommandError: no database there (and ``create`` is false), it cannot be
            opened, or an unknown thread.
        FileNotFoundError: the Codex home does not exist.
        CommandError: the folder is not a Codex home.
    """
    import store as backends  # only the commands that need a store pay for loading one

    backend: Any
    if getattr(args, "postgres", None):
        async with _postgres(args.postgres, create, follow) as opened:
            yield opened
        return
    options: dict[str, Any] = {}
    if getattr(args, "codex_home", None):
        where = Path(args.codex_home).expanduser()
        if not where.is_dir():
            raise FileNotFoundError(2, "no such Codex home", str(where))
        if not is_codex_home(where):  # never leave an index behind in a folder that is not one
            raise CommandError(f"{where}: not a Codex home (it has no sessions/ or archived_sessions/ folder)")
        backend, options = backends.FileStore, {"turn_index": turn_index}
    else:
        where, backend = db_path(args), backends.SqliteStore
        if not where.exists():
            if not create:
                raise CommandError(f"{where}: no such database (create it with: rollout import ~/.codex --db {where})")
            where.parent.mkdir(parents=True, exist_ok=True)
    async with contextlib.AsyncExitStack() as stack:
        try:
            opened = await stack.enter_async_context(backend.open(where, **options))
        except (StoreError, OSError) as exc:
            raise CommandError(f"{where}: {exc}" if str(where) not in str(exc) else str(exc)) from exc
        try:
            yield opened
        except ThreadNotFound as exc:
            raise CommandError(f"{exc} in {where}") from exc


@contextlib.asynccontextmanager
async def _postgres(dsn: str, create: bool, follow: bool) -> AsyncIterator[Any]:
    """A ``PostgresStore`` for one command (errors name the server, never the DSN)."""
    try:
        import store as backends

        backend = backends.PostgresStore
    except ImportError as exc:
        raise CommandError(f"--postgres: {exc}") from exc
    from store.postgres.dsn import target

    where = f"PostgreSQL at {target(dsn).describe()}"
    async with contextlib.AsyncExitStack() as stack:
        try:
            opened = await stack.enter_async_context(backend.open(dsn, schema=pg_schema(), listen=follow, create=create))
        except (StoreError, InvalidInput) as exc:
            hint = "" if create else " (create them with: rollout import ~/.codex --postgres DSN)"
            raise CommandError(f"{exc}{hint}" if "no rollout-engine tables" in str(exc) else str(exc)) from exc
        try:
            yield opened
        except ThreadNotFound as exc:
            raise CommandError(f"{exc} in {where}") from exc
