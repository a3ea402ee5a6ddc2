"""The ``thread/*`` methods: each takes decoded params and returns the result object.

Every handler is ``async def handler(ctx, params) -> dict`` where ``ctx`` is a
:class:`serve.server.Call` (the server, the calling connection, the method).
Store errors are translated by the dispatcher (:mod:`serve.errors`); a handler
raises :class:`~serve.rpc.RpcError` for what it checks itself. No model runs
here: ``thread/start``/``resume``/``fork`` report the thread's recorded settings
(or Codex's defaults) where Codex would report the live session's.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

from typing import Any

import msgspec

from rollout import events as ev
from rollout.codec import decode_payload
from rollout.codex_home import utc_stamp

from . import params as p
from .errors import check_uuid
from .history import item_page, turn_page
from .listing import DEFAULT_LIMIT, MAX_LIMIT, list_page
from .rpc import RpcError
from .search import thread_search, thread_search_cancel
from .shape import thread_json

__all__ = ["HANDLERS"]


def _u32(value: int | None, default: int | None) -> int | None:
    if value is None:
        return default
    if not 0 <= value < 2**32:
        raise RpcError.invalid(f"Invalid request: invalid value: integer `{value}`, expected u32")
    return value


def _page_size(value: int | None, default: int, cap: int) -> int:
    return min(max(_u32(value, default) or 1, 1), cap)


async def _thread(ctx: Any, thread_id: str, *, turns: bool) -> dict[str, Any]:
    loaded = ctx.server.is_loaded(thread_id)
    if not turns:
        return thread_json(await ctx.server.store.info(thread_id), loaded=loaded)
    info, raw = await ctx.server.whole.get(thread_id)
    return thread_json(info, loaded=loaded, turns=raw)


def _session(thread: dict[str, Any]) -> dict[str, Any]:
    """The settings part of a start/resume/fork reply (what the thread recorded, else Codex's defaults)."""
    return {
        "thread": thread,
        "model": thread["model"] or "",
        "modelProvider": thread["modelProvider"],
        "serviceTier": None,
        "cwd": thread["cwd"] or "/",
        "instructionSources": [],
        "approvalPolicy": "on-request",
        "approvalsReviewer": "user",
        "sandbox": {"type": "readOnly", "networkAccess": False},
        "reasoningEffort": thread["reasoningEffort"],
    }


async def thread_start(ctx: Any, q: p.ThreadStart) -> dict[str, Any]:
    if q.cwd is not None and not q.cwd.startswith("/"):
        raise RpcError.invalid(f"cwd must be an absolute path: {q.cwd}")
    meta = ev.SessionMeta(
        cwd=q.cwd or ctx.server.default_cwd, originator=ctx.conn.client_name, cli_version=ctx.server.version,
        source="vscode", model_provider=q.model_provider or "openai", instructions=q.base_instructions,
    )
    info = await ctx.server.store.start_thread(meta)
    ctx.server.load(info.id, ctx.conn, announce=False)
    return _session(thread_json(info, loaded=True))


async def thread_resume(ctx: Any, q: p.ThreadResume) -> dict[str, Any]:
    thread_id = check_uuid(q.thread_id)
    info = await ctx.server.store.info(thread_id)
    if info.archived:
        raise RpcError.invalid(f"thread {thread_id} is archived; unarchive it first")
    ctx.server.load(thread_id, ctx.conn)
    return _session(await _thread(ctx, thread_id, turns=not q.exclude_turns))


#: what a Codex fork child's ``session_meta`` does not take from its source: it is a new
#: session of the app-server's client (a spawned sub-agent's identity stays with its source)
_FORK_CLEARS = {"agent_nickname": None, "agent_role": None, "agent_path": None, "parent_thread_id": None,
                "thread_source": None}


async def thread_fork(ctx: Any, q: p.ThreadFork) -> dict[str, Any]:
    source = check_uuid(q.thread_id)
    meta = {**_FORK_CLEARS, "source": "vscode", "cli_version": ctx.server.version}
    child = await ctx.server.store.fork(source, at_turn=q.last_turn_id, meta=meta)
    ctx.server.load(child.id, ctx.conn, announce=False)
    return _session(await _thread(ctx, child.id, turns=not q.exclude_turns))


def _read_state(thread: dict[str, Any]) -> dict[str, Any] | None:
    """Codex's read marker of a thread nobody marked read (the engine keeps none); sub-agents have none."""
    if isinstance(thread["source"], dict) and "subAgent" in thread["source"]:
        return None
    return {"firstUnread": None, "revision": f"initial:{thread['id']}"}


async def thread_read(ctx: Any, q: p.ThreadRead) -> dict[str, Any]:
    thread = await _thread(ctx, check_uuid(q.thread_id), turns=q.include_turns)
    return {"thread": thread, "readState": _read_state(thread)}


async def thread_list(ctx: Any, q: p.ThreadList) -> dict[str, Any]:
    page = await list_page(ctx.server.store, q, _page_size(q.limit, DEFAULT_LIMIT, MAX_LIMIT))
    server = ctx.server
    data = [thread_json(info, loaded=server.is_loaded(info.id)) for info in page.data]
    states = {thread["id"]: _read_state(thread) for thread in data}
    return {
        "data": data,
        "readStates": {thread_id: state for thread_id, state in states.items() if state is not None},
        "nextCursor": page.next_cursor,
        "backwardsCursor": page.backwards_cursor,
    }


async def thread_turns_list(ctx: Any, q: p.ThreadTurnsList) -> dict[str, Any]:
    return await turn_page(ctx.server.store, check_uuid(q.thread_id), cursor=q.cursor,
                           limit=_page_size(q.limit, DEFAULT_LIMIT, MAX_LIMIT), descending=q.sort_direction != "asc",
                           items_view=q.items_view or "summary")


async def thread_items_list(ctx: Any, q: p.ThreadItemsList) -> dict[str, Any]:
    return await item_page(ctx.server.store, check_uuid(q.thread_id), turn_id=q.turn_id, cursor=q.cursor,
                           limit=_page_size(q.limit, DEFAULT_LIMIT, MAX_LIMIT), descending=q.sort_direction == "desc")


async def thread_archive(ctx: Any, q: p.ThreadId) -> dict[str, Any]:
    await ctx.server.store.archive(check_uuid(q.thread_id))  # the feed unloads it and announces it
    return {}


async def thread_unarchive(ctx: Any, q: p.ThreadId) -> dict[str, Any]:
    thread_id = check_uuid(q.thread_id)
    store = ctx.server.store
    if not (await store.info(thread_id)).archived:
        raise RpcError.invalid(f"no archived rollout found for thread id {thread_id}")
    info = await store.unarchive(thread_id)
    return {"thread": thread_json(info, loaded=ctx.server.is_loaded(thread_id))}


async def thread_delete(ctx: Any, q: p.ThreadId) -> dict[str, Any]:
    await ctx.server.store.delete(check_uuid(q.thread_id))  # the feed unloads it and announces it
    return {}


async def thread_set_name(ctx: Any, q: p.ThreadSetName) -> dict[str, Any]:
    thread_id = check_uuid(q.thread_id)
    if not q.name.strip():
        raise RpcError.invalid("thread name must not be empty")
    await ctx.server.store.set_name(thread_id, q.name)
    return {}


async def thread_metadata_update(ctx: Any, q: p.ThreadMetadataUpdate) -> dict[str, Any]:
    patch = q.git_info
    fields = {} if patch is None else {name: value for name, value in (
        ("sha", patch.sha), ("branch", patch.branch), ("origin_url", patch.origin_url)) if value is not msgspec.UNSET}
    if not fields:
        raise RpcError.invalid("thread metadata update must include at least one field")
    thread_id = check_uuid(q.thread_id)
    info = await ctx.server.store.update_metadata(thread_id, git=fields)
    return {"thread": thread_json(info, loaded=ctx.server.is_loaded(thread_id))}


def _response_item(index: int, value: Any) -> ev.ResponseItem:
    if not isinstance(value, dict):
        raise RpcError.invalid(f"items[{index}] is not a valid response item: expected a map")
    if not isinstance(value.get("type"), str):
        raise RpcError.invalid(f"items[{index}] is not a valid response item: missing field `type`")
    item = decode_payload("response_item", value)
    if isinstance(item, ev.UnknownResponseItem):
        raise RpcError.invalid(f"items[{index}] is not a valid response item: unknown variant `{value['type']}`")
    return item


async def thread_inject_items(ctx: Any, q: p.ThreadInjectItems) -> dict[str, Any]:
    thread_id = check_uuid(q.thread_id)
    items = [_response_item(i, value) for i, value in enumerate(q.items)]
    if not ctx.server.is_loaded(thread_id):
        raise RpcError.invalid(f"thread not found: {thread_id}")
    stamp = utc_stamp()
    if items:
        await ctx.server.store.append(thread_id, [ev.ResponseItemLine(timestamp=stamp, payload=i) for i in items])
    return {}


async def thread_rollback(ctx: Any, q: p.ThreadRollback) -> dict[str, Any]:
    thread_id = check_uuid(q.thread_id)
    if q.num_turns < 1:
        raise RpcError.invalid("numTurns must be >= 1")
    await ctx.server.store.rollback(thread_id, q.num_turns)
    return {"thread": await _thread(ctx, thread_id, turns=True)}


async def thread_unsubscribe(ctx: Any, q: p.ThreadId) -> dict[str, Any]:
    return {"status": ctx.server.unsubscribe(check_uuid(q.thread_id), ctx.conn)}


async def thread_loaded_list(ctx: Any, q: p.ThreadLoadedList) -> dict[str, Any]:
    ids = sorted(ctx.server.loaded_ids())
    start = 0 if q.cursor is None else next((i for i, t in enumerate(ids) if t > q.cursor), len(ids))
    limit = _u32(q.limit, None)
    page = ids[start:] if limit is None else ids[start : start + max(limit, 1)]
    more = start + len(page) < len(ids)
    return {"data": page, "nextCursor": page[-1] if more and page else None}


#: method -> (params type, handler)
HANDLERS: dict[str, tuple[type, Any]] = {
    "thread/start": (p.ThreadStart, thread_start),
    "thread/resume": (p.ThreadResume, thread_resume),
    "thread/fork": (p.ThreadFork, thread_fork),
    "thread/read": (p.ThreadRead, thread_read),
    "thread/list": (p.ThreadList, thread_list),
    "thread/turns/list": (p.ThreadTurnsList, thread_turns_list),
    "thread/items/list": (p.ThreadItemsList, thread_items_list),
    "thread/archive": (p.ThreadId, thread_archive),
    "thread/unarchive": (p.ThreadId, thread_unarchive),
    "thread/delete": (p.ThreadId, thread_delete),
    "thread/name/set": (p.ThreadSetName, thread_set_name),
    "thread/metadata/update": (p.ThreadMetadataUpdate, thread_metadata_update),
    "thread/inject_items": (p.ThreadInjectItems, thread_inject_items),
    "thread/rollback": (p.ThreadRollback, thread_rollback),
    "thread/unsubscribe": (p.ThreadId, thread_unsubscribe),
    "thread/loaded/list": (p.ThreadLoadedList, thread_loaded_list),
    "thread/search": (p.ThreadSearch, thread_search),
    "thread/search/stream": (p.ThreadSearch, thread_search),
    "thread/search/cancel": (p.ThreadSearchCancel, thread_search_cancel),
    "thread/search/stream/cancel": (p.ThreadSearchCancel, thread_search_cancel),
}
