"""``list`` arguments, keyset cursors and filters, written once for every backend.

A cursor is the sort key and id of a thread on a page (the last one, for the next page;
the first one, kept, for the way back), so threads that share a millisecond are neither
skipped nor repeated across pages; it is opaque to callers (url-safe base64 of
``[sort, ms, id]``, plus ``1`` when the anchor thread itself is included again). Pages run
newest first by ``(sort key, id)``, or oldest first with ``direction="asc"``; either way a
page costs O(page) (the keyset condition and the order are the backends' indexes).

Filters, as Codex's ``thread/list`` applies them: ``archived`` (False: active only, True:
archived only, None: both); ``source`` (kinds of :data:`SOURCE_KINDS`: Codex's
``ThreadSourceKind`` values, where ``subAgent`` takes every sub-agent kind, plus ``custom``;
None: the interactive ones, ``cli`` and ``vscode``; an empty list: every kind);
``model_provider`` (None: the default provider ``openai``, which a thread naming none has;
an empty list: every provider); ``cwd`` (exact match); ``search`` (case-insensitive
substring of the name or preview); ``ids`` (only these threads) and ``exclude_ids``.

SQL backends get the filter and keyset conditions from :func:`sql_conditions` and the order
from :attr:`ListQuery.order` (their tables share the column names; ``source_kind`` holds
:attr:`ThreadState.source_kind <store.state.ThreadState.source_kind>`); :func:`matches` and
:meth:`ListQuery.after_key` are the same rules in Python.

Must not import: rollout.cli, rich, anything doing I/O.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import Any

import msgspec

from rollout.compat import LIST_KINDS
from rollout.errors import InvalidInput
from rollout.thread_meta import DEFAULT_PROVIDER, INTERACTIVE_SOURCES

from .clock import thread_key
from .state import ThreadState

__all__ = [
    "MAX_LIMIT",
    "SORT_COLUMNS",
    "SOURCE_KINDS",
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
_SUB_AGENT_KINDS = tuple(kind for kind in LIST_KINDS if kind.startswith("subAgent"))
#: the values ``source`` takes: the kinds threads have, and ``subAgent`` for all four sub-agent kinds
SOURCE_KINDS = (*LIST_KINDS, "subAgent")


class ListQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Validated ``list`` arguments (a filter of None lets everything through).

    Attributes:
        after: ``(sort ms, id)`` of the cursor's anchor thread: the page holds the threads
            beyond it in the walking direction (and the anchor too when ``inclusive``).
        ascending: walk oldest first.
    """

    limit: int
    sort: str
    archived: bool | None
    sources: tuple[str, ...] | None
    providers: tuple[str, ...] | None
    cwds: tuple[str, ...] | None
    search: str | None
    ids: tuple[str, ...] | None = None
    exclude_ids: tuple[str, ...] | None = None
    after: tuple[int, str] | None = None
    inclusive: bool = False
    ascending: bool = False

    @property
    def column(self) -> str:
        """The sort column (``created_ms`` or ``updated_ms``)."""
        return SORT_COLUMNS[self.sort]

    @property
    def order(self) -> str:
        """The SQL ``ORDER BY`` terms of a page (``created_ms DESC, id DESC``, say)."""
        return self.order_on("id")

    def order_on(self, id_column: str) -> str:
        """:attr:`order` for a table whose thread id column is ``id_column``."""
        way = "ASC" if self.ascending else "DESC"
        return f"{self.column} {way}, {id_column} {way}"

    def after_key(self, state: ThreadState) -> bool:
        """Whether ``state`` comes after the cursor (the keyset condition)."""
        if self.after is None:
            return True
        key = (sort_ms(state, self.sort), state.id)
        if self.inclusive and key == self.after:
            return True
        return key > self.after if self.ascending else key < self.after

    def beyond(self, state: ThreadState) -> ListQuery:
        """The same query continued after ``state`` (exclusive): the next page's query."""
        return msgspec.structs.replace(self, after=(sort_ms(state, self.sort), state.id), inclusive=False)


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
    ids: Any = None,
    exclude_ids: Any = None,
    direction: Any = "desc",
) -> ListQuery:
    """Check ``list`` arguments.

    Raises:
        InvalidInput: a bad limit, sort key, direction, cursor, thread id or filter value.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be an int in 1..{MAX_LIMIT}, not {limit!r}")
    if sort not in SORT_COLUMNS:
        raise InvalidInput(f"sort must be one of {tuple(SORT_COLUMNS)}, not {sort!r}")
    if direction not in ("asc", "desc"):
        raise InvalidInput(f"direction must be 'asc' or 'desc', not {direction!r}")
    if archived is not None and not isinstance(archived, bool):
        raise InvalidInput(f"archived must be a bool or None, not {archived!r}")
    if search is not None and not isinstance(search, str):
        raise InvalidInput(f"search must be a string or None, not {search!r}")
    after, inclusive = (None, False) if cursor is None else _decode_cursor(cursor, sort)
    return ListQuery(
        limit=limit,
        sort=sort,
        archived=archived,
        sources=_kinds(source),
        providers=_values("model_provider", model_provider, (DEFAULT_PROVIDER,)),
        cwds=_values("cwd", cwd, None),
        search=search.casefold() if search else None,
        ids=None if ids is None else tuple(thread_key(i) for i in _values("ids", ids, ()) or ()),
        exclude_ids=tuple(thread_key(i) for i in _values("exclude_ids", exclude_ids, ()) or ()) or None,
        after=after,
        inclusive=inclusive,
        ascending=direction == "asc",
    )


def _kinds(source: Any) -> tuple[str, ...] | None:
    kinds = _values("source", source, INTERACTIVE_SOURCES)
    if kinds is None:
        return None
    unknown = [kind for kind in kinds if kind not in SOURCE_KINDS]
    if unknown:
        raise InvalidInput(f"source kinds must be among {SOURCE_KINDS}, not {unknown[0]!r}")
    expanded = (_SUB_AGENT_KINDS if kind == "subAgent" else (kind,) for kind in kinds)
    return tuple(dict.fromkeys(kind for group in expanded for kind in group))


def _values(name: str, value: Any, default: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if value is None:
        return default
    values = (value,) if isinstance(value, str) else value
    if not isinstance(values, Iterable) or not all(isinstance(v, str) for v in values):
        raise InvalidInput(f"{name} must be a string or a list of strings, not {value!r}")
    return tuple(values) or None


def encode_cursor(sort: str, ms: int, thread_id: str, *, inclusive: bool = False) -> str:
    """Opaque cursor for the page beyond the thread ``(ms, thread_id)`` (``inclusive``: from it on)."""
    raw = msgspec.json.encode([sort, ms, thread_id, 1] if inclusive else [sort, ms, thread_id])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


_CURSOR = msgspec.json.Decoder(list[str | int])


def _decode_cursor(cursor: Any, sort: str) -> tuple[tuple[int, str], bool]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, ms, thread_id, *rest = _CURSOR.decode(raw)
    except (TypeError, ValueError, binascii.Error, msgspec.DecodeError) as exc:
        raise InvalidInput(f"not a cursor: {cursor!r}") from exc
    shapes = (type(kind), type(ms), type(thread_id), *map(type, rest))
    if shapes not in ((str, int, str), (str, int, str, int)):
        raise InvalidInput(f"not a cursor: {cursor!r}")
    if kind != sort:
        raise InvalidInput(f"cursor was made for sort={kind!r}, not sort={sort!r}")
    return (ms, thread_id), bool(rest and rest[0])  # type: ignore[return-value]


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
    if (query.ids is not None and state.id not in query.ids) or (query.exclude_ids and state.id in query.exclude_ids):
        return False
    if query.search is not None:
        return folded_contains(state.name, query.search) or folded_contains(state.preview, query.search)
    return True


def sql_conditions(query: ListQuery, *, numbered: int | None = None, id_column: str = "id") -> tuple[list[str], list[Any]]:
    """The WHERE conditions (to AND) and parameters of a page: filters and the keyset.

    For tables with the columns ``archived`` (a bool, or 0/1), ``source_kind``,
    ``model_provider`` (the default provider filled in), ``cwd``, the thread id and the sort
    columns; ``search`` is left to the backend (names may live elsewhere).

    Args:
        numbered: None for ``?`` placeholders (sqlite3); else the number of the first
            ``$n`` placeholder (asyncpg), the rest following in order.
        id_column: the column holding the thread id.
    """
    where: list[str] = []
    params: list[Any] = []

    def mark(value: Any) -> str:
        params.append(value)
        return "?" if numbered is None else f"${numbered + len(params) - 1}"

    if query.archived is not None:
        where.append(f"archived = {mark(query.archived)}")
    for column, values in (("source_kind", query.sources), ("model_provider", query.providers),
                           ("cwd", query.cwds), (id_column, query.ids)):
        if values is not None:
            where.append(f"{column} IN ({', '.join(mark(v) for v in values)})" if values else "0 = 1")
    if query.exclude_ids:
        where.append(f"{id_column} NOT IN ({', '.join(mark(v) for v in query.exclude_ids)})")
    if query.after is not None:
        ms, thread_id = query.after
        sign = (">" if query.ascending else "<") + ("=" if query.inclusive else "")
        where.append(f"({query.column}, {id_column}) {sign} ({mark(ms)}, {mark(thread_id)})")
    return where, params
