"""``rollout import`` from another store: a SQLite database or a PostgreSQL DSN as a source.

Besides rollout files, folders and Codex homes, ``import`` takes whole stores: a SQLite
database file (recognised by its header, whatever its name) or a ``postgresql://`` URL.
Every thread of such a store is copied with ``store.copy_threads`` (lines byte for byte,
ids, names, archiving, lineage); threads the destination already holds are left alone,
so a copy can be run again. A PostgreSQL source is named by its server, never its DSN.

Must not import: rich.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec

from ..errors import InvalidInput, StoreError
from .failure import CommandError
from .storage import pg_schema

__all__ = ["CopyRecord", "copy_from", "is_store_source", "source_label"]

_SQLITE = b"SQLite format 3\x00"
_URLS = ("postgres://", "postgresql://")


def is_store_source(source: str) -> bool:
    """A PostgreSQL URL, or a file that is a SQLite database."""
    if source.startswith(_URLS):
        return True
    path = Path(source).expanduser()
    try:
        with path.open("rb") as file:
            return path.is_file() and file.read(len(_SQLITE)) == _SQLITE
    except OSError:
        return False


def source_label(source: str) -> str:
    """How messages name a store source (a PostgreSQL URL without its password)."""
    if source.startswith(_URLS):
        from store.postgres.dsn import target

        return f"PostgreSQL at {target(source).describe()}"
    return str(Path(source).expanduser())


class CopyRecord(msgspec.Struct, kw_only=True, rename="camel"):
    """The ``import --json`` record of a store given as a source: ``threads`` new threads copied from it."""

    path: str
    status: str = "copied"
    threads: int = 0
    bytes: int = 0
    lines_added: int = 0


async def copy_from(source: str, dst: Any) -> CopyRecord:
    """Copy every thread of the store at ``source`` into ``dst`` (those it lacks).

    Raises:
        CommandError: the source cannot be opened (the message names it).
    """
    from store import copy_threads

    async with _opened(source) as src:
        copied = await copy_threads(src, dst, skip_existing=True)
    return CopyRecord(path=source_label(source), threads=copied)


@contextlib.asynccontextmanager
async def _opened(source: str) -> AsyncIterator[Any]:
    label = source_label(source)
    async with contextlib.AsyncExitStack() as stack:
        try:
            import store

            opening: Any
            if source.startswith(_URLS):
                opening = store.PostgresStore.open(source, schema=pg_schema(), listen=False, create=False)
            else:
                opening = store.SqliteStore.open(Path(source).expanduser(), readonly=True)
            opened = await stack.enter_async_context(opening)
        except ImportError as exc:
            raise CommandError(f"{label}: {exc}") from exc
        except (StoreError, InvalidInput) as exc:
            raise CommandError(str(exc) if label in str(exc) else f"{label}: {exc}") from exc
        yield opened
