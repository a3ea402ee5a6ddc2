"""``thread/list`` as Codex answers it, over ``Store.list``.

Codex's params are richer than the store's ``list``: sub-agent source kinds,
included/excluded ids, a default provider, ascending order and backwards
cursors. The store narrows by what it can (archived, cwd, coarse source kind,
search); :class:`Filter` checks the rest on each entry, and :func:`list_page`
pulls store pages until the page is full, so pages are never short.

Cursors are opaque to clients (url-safe base64 of JSON). A forward, newest-first
cursor resumes the store's keyset cursor (``[store cursor, entries to skip]``);
ascending pages and backwards cursors (anchored at a thread id) walk the whole
filtered listing, O(threads): the store has no ascending keyset yet (see the
report to issue 13).

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgspec

from . import params as p
from .rpc import INVALID_PARAMS, RpcError

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Filter", "ListPage", "list_page"]

DEFAULT_LIMIT = 25  # Codex 0.171.0: 25 by default, at most 100 (observed)
MAX_LIMIT = 100
_STORE_PAGE = 200
_INTERACTIVE = ("cli", "vscode")
_DEFAULT_PROVIDERS = ("openai",)
_SUBAGENT_KINDS = {"review": "subAgentReview", "compact": "subAgentCompact", "thread_spawn": "subAgentThreadSpawn"}


class ListPage(msgspec.Struct, frozen=True):
    """One page: store entries, and the cursors Codex returns beside them."""

    entries: list[Any]
    next_cursor: str | None
    backwards_cursor: str | None


def source_kind(source: Any) -> str:
    """Codex's ThreadSourceKind of a v2 ``source`` value."""
    if isinstance(source, str):
        return source if source in ("cli", "vscode", "exec", "appServer") else "unknown"
    if isinstance(source, dict) and "subAgent" in source:
        sub = source["subAgent"]
        key = next(iter(sub), None) if isinstance(sub, dict) else sub
        return _SUBAGENT_KINDS.get(key, "subAgentOther") if isinstance(key, str) else "subAgentOther"
    return "unknown"


class Filter:
    """The parts of Codex's filter the store cannot apply; also the store's own arguments."""

    def __init__(self, q: p.ThreadList) -> None:
        if q.originators:
            raise RpcError(INVALID_PARAMS, "originator filtering is not supported by the local app-server")
        self.kinds = set(q.source_kinds or _INTERACTIVE)
        self.providers = None if q.model_providers == [] else set(q.model_providers or _DEFAULT_PROVIDERS)
        self.included = None if q.included_thread_ids is None else _ids("included", q.included_thread_ids)
        self.excluded = _ids("excluded", q.excluded_thread_ids or [])
        self.in_section = isinstance(q.section_id, str)  # no thread here is in a section
        self.store_args: dict[str, Any] = {
            "archived": bool(q.archived),
            "cwd": q.cwd,
            "search": q.search_term or None,
            "source": sorted({"subAgent" if k.startswith("subAgent") else k for k in self.kinds}),
            "model_provider": [],  # every provider: accepts() applies Codex's provider filter
        }

    def accepts(self, info: Any) -> bool:
        if self.in_section or info.id in self.excluded:
            return False
        if self.included is not None and info.id not in self.included:
            return False
        if self.providers is not None and (info.model_provider or "openai") not in self.providers:
            return False
        return source_kind(info.source) in self.kinds


def _ids(which: str, values: list[str]) -> set[str]:
    if len(values) > 100:
        raise RpcError(INVALID_PARAMS, f"too many {which} thread ids: {len(values)} (at most 100)")
    for value in values:
        try:
            uuid.UUID(value)
        except ValueError as exc:
            raise RpcError(INVALID_PARAMS, f"invalid {which} thread id: {value}") from exc
    return {v.lower() for v in values}


def _encode(cursor: list[Any]) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(cursor)).rstrip(b"=").decode("ascii")


def _decode(cursor: str) -> list[Any]:
    try:
        value = msgspec.json.decode(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, msgspec.DecodeError):
        value = None
    if not (isinstance(value, list) and len(value) == 3 and value[0] in ("page", "anchor")):
        raise RpcError.invalid(f"invalid cursor: {cursor}")
    return value


async def list_page(store: Any, q: p.ThreadList, limit: int) -> ListPage:
    """One page of ``thread/list``.

    Raises:
        RpcError: a bad cursor, sort or filter (Codex's codes and messages).
    """
    flt = Filter(q)
    sort = "updated_at" if q.sort_key in ("updated_at", "recency_at") else "created_at"
    if q.sort_key == "section_position" and q.section_id is msgspec.UNSET:
        raise RpcError.invalid("section-position sorting requires a section filter")
    ascending = q.sort_direction == "asc"
    cursor = _decode(q.cursor) if q.cursor else None
    if (cursor is None and not ascending) or (cursor is not None and cursor[0] == "page"):
        store_cursor, skip = (cursor[1], cursor[2]) if cursor else (None, 0)
        return await _forward(store, flt, sort, limit, store_cursor, skip)
    anchor, inclusive = (cursor[1], cursor[2]) if cursor else (None, True)
    return await _walk(store, flt, sort, limit, ascending, anchor, inclusive)


async def _store_pages(store: Any, flt: Filter, sort: str, cursor: str | None, size: int) -> AsyncIterator[Any]:
    while True:
        try:
            page = await store.list(limit=size, cursor=cursor, sort=sort, **flt.store_args)
        except ValueError as exc:  # the store's InvalidInput: a cursor it did not make
            raise RpcError.invalid(f"invalid cursor: {cursor}") from exc
        yield cursor, page
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


async def _forward(store: Any, flt: Filter, sort: str, limit: int, cursor: str | None, skip: int) -> ListPage:
    out: list[Any] = []
    async for start, page in _store_pages(store, flt, sort, cursor, max(limit, _STORE_PAGE)):
        for index, info in enumerate(page.data[skip:], start=skip):
            if not flt.accepts(info):
                continue
            out.append(info)
            if len(out) == limit:
                more = index + 1 < len(page.data) or page.next_cursor is not None
                nxt = _encode(["page", start, index + 1]) if more else None
                return ListPage(out, nxt, _back(out))
        skip = 0
    return ListPage(out, None, _back(out))


async def _walk(
    store: Any, flt: Filter, sort: str, limit: int, ascending: bool, anchor: str | None, inclusive: bool
) -> ListPage:
    ordered = [info async for info in _all(store, flt, sort)]
    if ascending:
        ordered.reverse()
    start = 0
    if anchor is not None:
        ids = [info.id for info in ordered]
        start = ids.index(anchor) + (0 if inclusive else 1) if anchor in ids else len(ids)
    out = ordered[start : start + limit]
    more = start + limit < len(ordered)
    nxt = _encode(["anchor", out[-1].id, False]) if more and out else None
    return ListPage(out, nxt, _back(out))


async def _all(store: Any, flt: Filter, sort: str) -> AsyncIterator[Any]:
    async for _, page in _store_pages(store, flt, sort, None, 1000):
        for info in page.data:
            if flt.accepts(info):
                yield info


def _back(out: list[Any]) -> str | None:
    """A cursor for the opposite direction that includes this page's first entry again."""
    if not out:
        return None
    # An anchor cursor walks in the direction the client asks for; the anchor is inclusive.
    return _encode(["anchor", out[0].id, True])
