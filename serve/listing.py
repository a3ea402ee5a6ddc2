"""``thread/list`` as Codex answers it, over ``Store.list``.

The store applies every filter Codex has (source kinds, sub-agent kinds included,
providers with the default one, cwd, search, included and excluded ids) and pages by
keyset in either direction, so each page costs O(page). What is left here is Codex's
wording and defaults: an empty ``sourceKinds`` means the interactive kinds, ``limit``
is 25 by default and at most 100, a section filter matches nothing (no thread here is
in a section), and every refused argument gets Codex's error. Cursors are the store's
(opaque to clients); ``backwardsCursor`` is the store's too.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from rollout.errors import InvalidInput

from . import params as p
from .rpc import INVALID_PARAMS, RpcError

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "list_page"]

DEFAULT_LIMIT = 25  # Codex 0.171.0: 25 by default, at most 100 (observed)
MAX_LIMIT = 100


def _ids(which: str, values: list[str]) -> list[str]:
    """Codex's checks of included/excluded thread ids."""
    if len(values) > 100:
        raise RpcError(INVALID_PARAMS, f"too many {which} thread ids: {len(values)} (at most 100)")
    for value in values:
        try:
            uuid.UUID(value)
        except ValueError as exc:
            raise RpcError(INVALID_PARAMS, f"invalid {which} thread id: {value}") from exc
    return values


def store_args(q: p.ThreadList) -> dict[str, Any]:
    """``Store.list`` keyword arguments for Codex's ``thread/list`` params (not the cursor or limit).

    Raises:
        RpcError: a filter Codex refuses, in Codex's words.
    """
    if q.originators:
        raise RpcError(INVALID_PARAMS, "originator filtering is not supported by the local app-server")
    if q.sort_key == "section_position" and q.section_id is msgspec.UNSET:
        raise RpcError.invalid("section-position sorting requires a section filter")
    return {
        "sort": "updated_at" if q.sort_key in ("updated_at", "recency_at") else "created_at",
        "direction": q.sort_direction or "desc",
        "archived": bool(q.archived),
        "cwd": q.cwd,
        "search": q.search_term or None,
        "source": list(q.source_kinds or ()) or None,  # Codex: none or [] lists the interactive kinds
        "model_provider": q.model_providers,
        "ids": None if q.included_thread_ids is None else _ids("included", q.included_thread_ids),
        "exclude_ids": _ids("excluded", q.excluded_thread_ids or []) or None,
    }


async def list_page(store: Any, q: p.ThreadList, limit: int) -> Any:
    """One page of ``thread/list``: the store's ``Page`` (entries and both cursors).

    Raises:
        RpcError: a bad cursor, sort or filter (Codex's codes and messages).
    """
    args = store_args(q)
    if isinstance(q.section_id, str):  # no thread here is in a section
        args["ids"] = []
    try:
        return await store.list(limit=limit, cursor=q.cursor, **args)
    except InvalidInput as exc:
        if q.cursor is not None and "cursor" in str(exc):
            raise RpcError.invalid(f"invalid cursor: {q.cursor}") from exc
        raise
