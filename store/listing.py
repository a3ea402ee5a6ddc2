"""``list`` arguments, keyset cursors and filters, written once for every backend.

A cursor is the sort key and id of the last thread on a page, so threads that share a
millisecond are neither skipped nor repeated across pages; it is opaque to callers
(url-safe base64 of ``[sort, ms, id]``). Pages run newest first by ``(sort key, id)``.

Filters, as Codex's ``thread/list`` applies them: ``archived`` (False: active only, True:
archived only, None: both); ``source`` (v2 source kinds: ``cli``, ``vscode``, ``exec``,
``appServer``, ``custom``, ``subAgent``, ``unknown``; None: the interactive ones, ``cli``
and ``vscode``; an empty list: every kind); ``model_provider`` (None: the default
provider ``openai``, which a thread naming none has; an empty list: every provider);
``cwd`` (exact match); ``search`` (case-insensitive substring of the name or preview).

SQL backends get the filter and keyset conditions from :func:`sql_conditions` (their
tables share the column names); :func:`matches` and :meth:`ListQuery.after_key` are the
same rules in Python.

Must not import: rollout.cli, rich, anything doing I/O.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import Any

import msgspec

from rollout.errors import InvalidInput
from rollout.thread_meta import DEFAULT_PROVIDER, INTERACTIVE_SOURCES

from .state import ThreadState

__all__ = [
    "MAX_LIMIT",
    "SORT_COLUMNS",
    "ListQuery",
    "encode_cursor",
    "folded_contains",
    "list_query",
    "matches",
    "sort_ms",
    "sql_conditions",
]

MAX_LIMIT = 1000
#: sort key -> the column (and ThreadState field) holding it, in ms
SORT_COLUMNS = {"created_at": "created_ms", "updated_at": "updated_ms"}


class ListQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Validated ``list`` arguments (a filter of None lets everything through)."""

    limit: int
    sort: str
    archived: bool | None
    sources: tuple[str, ...] | None
    providers: tuple[str, ...] | None
    cwds: tuple[str, ...] | None
    search: str | None
    after: tuple[int, str] | None  # (sort ms, id) of the last thread already returned

    @property
    def column(self) -> str:
        """The sort column (``created_ms`` or ``updated_ms``)."""
        return SORT_COLUMNS[self.sort]

    def after_key(self, state: ThreadState) -> bool:
        """Whether ``state`` comes after the cursor (the keyset condition)."""
        return self.after is None or (sort_ms(state, self.sort), state.id) < self.after


def list_query(
    *,
    limit: Any,
    cursor: Any,
    sort: Any,
    archived: Any,
    source: Any,
    model_provider: Any,
    cwd: Any,
    search: Any,
) -> ListQuery:
    """Check ``list`` arguments.

    Raises:
        InvalidInput: a bad limit, sort key, cursor or filter value.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be an int in 1..{MAX_LIMIT}, not {limit!r}")
    if sort not in SORT_COLUMNS:
        raise InvalidInput(f"sort must be one of {tuple(SORT_COLUMNS)}, not {sort!r}")
    if archived is not None and not isinstance(archived, bool):
        raise InvalidInput(f"archived must be a bool or None, not {archived!r}")
    if search is not None and not isinstance(search, str):
        raise InvalidInput(f"search must be a string or None, not {search!r}")
    return ListQuery(
        limit=limit,
        sort=sort,
        archived=archived,
        sources=_values("source", source, INTERACTIVE_SOURCES),
        providers=_values("model_provider", model_provider, (DEFAULT_PROVIDER,)),
        cwds=_values("cwd", cwd, None),
        search=search.casefold() if search else None,
        after=None if cursor is None else _decode_cursor(cursor, sort),
    )


def _values(name: str, value: Any, default: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if value is None:
        return default
    values = (value,) if isinstance(value, str) else value
    if not isinstance(values, Iterable) or not all(isinstance(v, str) for v in values):
        raise InvalidInput(f"{name} must be a string or a list of strings, not {value!r}")
    return tuple(values) or None


def encode_cursor(sort: str, ms: int, thread_id: str) -> str:
    """Opaque cursor for the page that follows the thread ``(ms, thread_id)``."""
    raw = msgspec.json.encode([sort, ms, thread_id])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode_cursor(cursor: Any, sort: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, ms, thread_id = msgspec.json.decode(raw, type=tuple[str, int, str])
    except (TypeError, ValueError, binascii.Error, msgspec.DecodeError) as exc:
        raise InvalidInput(f"not a cursor: {cursor!r}") from exc
    if kind != sort:
        raise InvalidInput(f"cursor was made for sort={kind!r}, not sort={sort!r}")
    return ms, thread_id


def folded_contains(haystack: str | None, needle: str) -> bool:
    """Case-insensitive substring test (``needle`` already casefolded)."""
    return haystack is not None and needle in haystack.casefold()


def sort_ms(state: ThreadState, sort: str) -> int:
    """The sort key of a thread, in ms."""
    return state.created_ms if sort == "created_at" else state.updated_ms


def matches(query: ListQuery, state: ThreadState) -> bool:
    """Whether a thread passes every filter of ``query`` (the cursor excluded)."""
    meta = state.meta
    if query.archived is not None and state.archived != query.archived:
        return False
    if query.sources is not None and state.source_kind not in query.sources:
        return False
    if query.providers is not None and state.model_provider not in query.providers:
        return False
    if query.cwds is not None and (meta is None or meta.cwd not in query.cwds):
        return False
    if query.search is not None:
        return folded_contains(state.name, query.search) or folded_contains(state.preview, query.search)
    return True


def sql_conditions(query: ListQuery, *, numbered: int | None = None) -> tuple[list[str], list[Any]]:
    """The WHERE conditions (to AND) and parameters of a page: filters and the keyset.

    For tables with the columns ``archived``, ``source_kind``, ``model_provider`` (the
    default provider filled in), ``cwd``, ``id`` and the sort columns; ``search`` is left
    to the backend (names may live elsewhere).

    Args:
        numbered: None for ``?`` placeholders (sqlite3); else the number of the first
            ``$n`` placeholder (asyncpg), the rest following in order.
    """
    where: list[str] = []
    params: list[Any] = []

    def mark(value: Any) -> str:
        params.append(value)
        return "?" if numbered is None else f"${numbered + len(params) - 1}"

    if query.archived is not None:
        where.append(f"archived = {mark(int(query.archived))}")
    for column, values in (("source_kind", query.sources), ("model_provider", query.providers),
                           ("cwd", query.cwds)):
        if values is not None:
            where.append(f"{column} IN ({', '.join(mark(v) for v in values)})")
    if query.after is not None:
        ms, thread_id = query.after
        where.append(f"({query.column}, id) < ({mark(ms)}, {mark(thread_id)})")
    return where, params
