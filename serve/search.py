"""``thread/search`` and ``thread/search/stream`` (Codex's experimental content search), with
their cancels, served from the engine's full-text index (``Store.search``).

What Codex 0.171.0 does, observed by driving it (``docs/serve.md``): a search lists the
threads whose visible messages (user messages, assistant answers) hold the term, one
``{"thread", "snippet"}`` per thread, sorted and paged exactly as ``thread/list`` is
(``sortKey``, ``sortDirection``, ``archived``, ``sourceKinds``, cursors of the same form;
no model-provider filter). ``thread/search/stream`` answers the same, and sends
best-effort ``thread/search/partial`` notifications before its reply. A cancel
(``thread/search/cancel`` for ``thread/search`` only, ``thread/search/stream/cancel`` for
the stream only) always answers ``{}``; the search it stops answers -32600
``thread search cancelled``.

Here the matching threads come from the index (the user and assistant roles, one best
hit per thread; a hit on a fork's source counts for the forks that hold it), and
``Store.list`` restricted to those ids sorts, filters and pages them, so cursors are
``thread/list``'s. A search runs in a task of its own that a cancel stops wherever it
awaits; the index is derived data written one thread per transaction, so nothing is
left half-written.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

from rollout.errors import InvalidInput

from . import params as p
from .listing import DEFAULT_LIMIT, MAX_LIMIT
from .rpc import INVALID_PARAMS, METHOD_NOT_FOUND, RpcError, encode_notification
from .shape import thread_json

__all__ = ["thread_search", "thread_search_cancel"]

#: Codex's bound on ``thread/search/stream``'s term (UTF-8 bytes, after trimming)
STREAM_TERM_BYTES = 65_536
#: hits asked of the index at a time (one partial notification per batch, at most): the
#: index's largest page, since each page ranks every match again (200 a page took 3x as long)
BATCH = 1000
#: the index's roles that hold what Codex searches: visible user and assistant messages
ROLES = ("user", "assistant")
_STREAM = "thread/search/stream"
_PLAIN = re.compile(r"[^\W_]+")


def index_query(term: str) -> str:
    """The index query for Codex's term: each plain word becomes a prefix (``pars`` finds
    ``parser``), nearer Codex's substring match; quotes, ``-`` and punctuated words keep
    the engine's meaning (see ``store.search.query``)."""
    if '"' in term:
        return term
    return " ".join(f"{word}*" if _PLAIN.fullmatch(word) else word for word in term.split())


def _key(method: str, request_id: Any) -> tuple[str, str, Any]:
    """A running search's key: its method and id (an int id and a string id never meet)."""
    return method, type(request_id).__name__, request_id


async def thread_search(ctx: Any, q: p.ThreadSearch) -> dict[str, Any]:
    """``thread/search`` and ``thread/search/stream``: one page of matching threads."""
    term = q.search_term.strip()
    if not term:
        raise RpcError.invalid("thread/search requires a non-empty searchTerm")
    if q.limit is not None and not 0 <= q.limit < 2**32:
        raise RpcError.invalid(f"Invalid request: invalid value: integer `{q.limit}`, expected u32")
    stream = ctx.method == _STREAM
    if stream and len(term.encode()) > STREAM_TERM_BYTES:
        raise RpcError(INVALID_PARAMS, f"{_STREAM} searchTerm exceeds {STREAM_TERM_BYTES} UTF-8 bytes")
    running: dict[Any, asyncio.Task[dict[str, Any]]] = ctx.conn.searches
    key = _key(ctx.method, ctx.request_id)
    task = asyncio.get_running_loop().create_task(_search(ctx, q, term, stream), name=f"{ctx.method} {ctx.request_id}")
    running[key] = task
    try:
        return await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise  # the request itself is cancelled (the server is closing): not a client's cancel
        raise RpcError.invalid("thread search cancelled") from None
    finally:
        if running.get(key) is task:
            del running[key]


async def thread_search_cancel(ctx: Any, q: p.ThreadSearchCancel) -> dict[str, Any]:
    """Stop a running search of this connection; idempotent, and ``{}`` whatever it found."""
    target = _STREAM if ctx.method == f"{_STREAM}/cancel" else "thread/search"
    task = ctx.conn.searches.get(_key(target, q.request_id))
    if task is not None:
        task.cancel()
    return {}


async def _search(ctx: Any, q: p.ThreadSearch, term: str, stream: bool) -> dict[str, Any]:
    limit = min(max(q.limit if q.limit is not None else DEFAULT_LIMIT, 1), MAX_LIMIT)
    snippets: dict[str, tuple[tuple[int, int], str]] = {}  # thread id -> (where, snippet)
    budget = limit  # partial rows: a few, as Codex sends
    async for hits in _hits(ctx.server.store, term):
        fresh = _merge(snippets, hits)
        if stream and fresh and budget > 0:
            budget -= await _partial(ctx, q, fresh, budget, snippets)
    page = await _list(ctx.server.store, q, list(snippets), limit, q.cursor)
    return {
        "data": _results(ctx, page.data, snippets),
        "nextCursor": page.next_cursor,
        "backwardsCursor": page.backwards_cursor,
    }


async def _hits(store: Any, term: str) -> AsyncIterator[list[Any]]:
    """Every thread's best hit per role, in batches; nothing for a term the index cannot search."""
    if not getattr(store, "searchable", False):
        raise RpcError(METHOD_NOT_FOUND, f"thread/search is not served over {type(store).__name__}: "
                       "it keeps no full-text index")
    for role in ROLES:
        cursor: str | None = None
        while True:
            try:
                found = await store.search(index_query(term), role=role, threads=True, limit=BATCH, cursor=cursor)
            except InvalidInput:  # no word to search for (punctuation only, exclusions only)
                return
            if found.hits:
                yield found.hits
            if (cursor := found.next_cursor) is None:
                break


def _merge(snippets: dict[str, tuple[tuple[int, int], str]], hits: list[Any]) -> list[str]:
    """Record each hit's threads (its own and the forks that inherit it); returns the new ones.

    A thread's snippet is its earliest hit (Codex shows the first matching message),
    a user message before an answer of the same turn.
    """
    fresh: list[str] = []
    for hit in hits:
        where = (hit.turn_index, ROLES.index(hit.role) if hit.role in ROLES else len(ROLES))
        for thread_id in (hit.thread_id, *hit.inherited_by):
            known = snippets.get(thread_id)
            if known is None:
                fresh.append(thread_id)
            if known is None or where < known[0]:
                snippets[thread_id] = (where, hit.snippet)
    return fresh


async def _list(store: Any, q: p.ThreadSearch, ids: list[str], limit: int, cursor: str | None) -> Any:
    """``Store.list`` over the matching threads, with Codex's search filters (no provider filter)."""
    try:
        return await store.list(
            limit=limit, cursor=cursor, ids=ids, model_provider=[],
            sort="updated_at" if q.sort_key in ("updated_at", "recency_at") else "created_at",
            direction=q.sort_direction or "desc", archived=bool(q.archived),
            source=list(q.source_kinds or ()) or None,
        )
    except InvalidInput as exc:
        if cursor is not None and "cursor" in str(exc):
            raise RpcError.invalid(f"invalid cursor: {cursor}") from exc
        raise


def _results(ctx: Any, infos: list[Any], snippets: dict[str, tuple[tuple[int, int], str]]) -> list[dict[str, Any]]:
    server = ctx.server
    return [{"thread": thread_json(info, loaded=server.is_loaded(info.id)), "snippet": snippets[info.id][1]}
            for info in infos]


async def _partial(ctx: Any, q: p.ThreadSearch, fresh: list[str], budget: int,
                   snippets: dict[str, tuple[tuple[int, int], str]]) -> int:
    """Send the newly found threads that pass the filters (at most ``budget``); returns how many."""
    page = await _list(ctx.server.store, q, fresh, budget, None)
    if page.data:
        params = {"requestId": ctx.request_id, "data": _results(ctx, page.data, snippets)}
        ctx.conn.notify(encode_notification("thread/search/partial", params))
    return len(page.data)
