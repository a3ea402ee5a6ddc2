"""Tool-call events -> ThreadItems: MCP, dynamic tools, web search, images, collab agents.

Companion of :mod:`replay.convert` (messages, commands, patches). Each builder
takes one event payload and returns the item its begin/request (``inProgress``)
or end/response half produces; the reducer merges the halves by call id.

Must not import: store, replay.history, anything doing I/O.
"""

from __future__ import annotations

from typing import Any

from msgspec import UNSET
from msgspec.structs import replace

from rollout import events as ev

from . import items as it
from .convert import as_dict, as_list, camel, millis, opt, opt_str, str_list

__all__ = [
    "collab_call",
    "dynamic_request",
    "dynamic_response",
    "image_generation",
    "mcp_call",
    "sub_agent_activity",
    "web_search",
]


# --------------------------------------------------------------------------- MCP


def _mcp_result(result: Any) -> tuple[str, it.McpToolCallResult | None, it.McpToolCallError | None]:
    result = as_dict(result)
    if "Err" in result:
        return "failed", None, it.McpToolCallError(message=str(result["Err"]))
    value = as_dict(result.get("Ok"))
    converted = it.McpToolCallResult(
        content=as_list(value.get("content")),
        structured_content=value.get("structuredContent"),
        meta=value.get("_meta"),
    )
    status = "failed" if value.get("isError") is True else "completed"
    return status, converted, None


def mcp_call(event: ev.McpToolCallBeginEvent | ev.McpToolCallEndEvent) -> it.McpToolCall:
    """An mcpToolCall: ``inProgress`` from a begin event, the outcome from an end event."""
    invocation = as_dict(event.invocation)
    uri = opt(event.mcp_app_resource_uri)
    item = it.McpToolCall(
        id=event.call_id,
        server=str(invocation.get("server", "")),
        tool=str(invocation.get("tool", "")),
        arguments=invocation.get("arguments"),
        mcp_app_resource_uri=UNSET if uri is None else uri,
        plugin_id=opt(event.plugin_id),
    )
    if not isinstance(event, ev.McpToolCallEndEvent):
        return item
    status, result, error = _mcp_result(event.result)
    return replace(item, status=status, result=result, error=error, duration_ms=millis(event.duration))


# --------------------------------------------------------------------------- dynamic tools


def dynamic_content(raw: Any) -> it.DynamicContentItem | None:
    raw = as_dict(raw)
    match raw.get("type"):
        case "inputText":
            return it.DynamicInputText(text=str(raw.get("text", "")))
        case "inputImage":
            url = raw.get("imageUrl", raw.get("image_url", ""))
            return it.DynamicInputImage(image_url=str(url))
        case _:
            return None


def dynamic_request(event: ev.DynamicToolCallRequestEvent) -> it.DynamicToolCall:
    """A dynamicToolCall still running: no content, no success, no duration."""
    return it.DynamicToolCall(
        id=event.call_id, namespace=opt(event.namespace), tool=event.tool, arguments=opt(event.arguments)
    )


def dynamic_response(event: ev.DynamicToolCallResponseEvent) -> it.DynamicToolCall:
    """A finished dynamicToolCall; the response repeats tool and arguments, so it stands alone."""
    content = [item for item in map(dynamic_content, event.content_items) if item is not None]
    return it.DynamicToolCall(
        id=event.call_id,
        namespace=opt(event.namespace),
        tool=event.tool,
        arguments=opt(event.arguments),
        status="completed" if event.success else "failed",
        content_items=content,
        success=event.success,
        duration_ms=millis(event.duration),
    )


# --------------------------------------------------------------------------- web, images, agents


def search_action(raw: Any) -> it.WebSearchAction:
    raw = as_dict(raw)
    match raw.get("type"):
        case "search":
            queries = raw.get("queries")
            return it.WebSearchSearch(query=opt_str(raw.get("query")),
                                      queries=str_list(queries) if isinstance(queries, list) else None)
        case "open_page":
            return it.WebSearchOpenPage(url=opt_str(raw.get("url")))
        case "find_in_page":
            return it.WebSearchFindInPage(url=opt_str(raw.get("url")), pattern=opt_str(raw.get("pattern")))
        case _:
            return it.WebSearchOther()


def web_search(event: ev.WebSearchBeginEvent | ev.WebSearchEndEvent) -> it.WebSearch:
    """A webSearch: empty query and no action until the end event arrives."""
    if isinstance(event, ev.WebSearchEndEvent):
        action = search_action(event.action)
        return it.WebSearch(id=event.call_id, query=event.query, action=action, results=event.results)
    return it.WebSearch(id=event.call_id)


def image_generation(
    event: ev.ImageGenerationBeginEvent | ev.ImageGenerationEndEvent,
) -> it.ImageGeneration:
    if not isinstance(event, ev.ImageGenerationEndEvent):
        return it.ImageGeneration(id=event.call_id)
    return it.ImageGeneration(
        id=event.call_id,
        status=event.status,
        revised_prompt=opt(event.revised_prompt),
        result=event.result,
        saved_path=UNSET if event.saved_path is None else event.saved_path,
    )


def sub_agent_activity(event: ev.SubAgentActivityEvent) -> it.SubAgentActivity:
    return it.SubAgentActivity(
        id=event.event_id,
        kind=camel(event.kind or ""),
        agent_thread_id=event.agent_thread_id or "",
        agent_path="" if event.agent_path is None else str(event.agent_path),
        completed_at_ms=event.occurred_at_ms,
    )


def agent_state(raw: Any) -> it.CollabAgentState:
    """Core ``AgentStatus`` (``"running"``, ``{"errored": "msg"}``, ...) -> v2 state."""
    if isinstance(raw, dict) and raw:
        name, message = next(iter(raw.items()))
        return it.CollabAgentState(
            status=camel(name), message=message if isinstance(message, str) else None
        )
    return it.CollabAgentState(status=camel(raw) if isinstance(raw, str) else "pendingInit")


def _agent_failed(raw: Any) -> bool:
    return agent_state(raw).status in ("errored", "notFound")


COLLAB_TOOLS = {
    ev.CollabAgentSpawnBeginEvent: "spawnAgent",
    ev.CollabAgentSpawnEndEvent: "spawnAgent",
    ev.CollabAgentInteractionBeginEvent: "sendInput",
    ev.CollabAgentInteractionEndEvent: "sendInput",
    ev.CollabWaitingBeginEvent: "wait",
    ev.CollabWaitingEndEvent: "wait",
    ev.CollabCloseBeginEvent: "closeAgent",
    ev.CollabCloseEndEvent: "closeAgent",
    ev.CollabResumeBeginEvent: "resumeAgent",
    ev.CollabResumeEndEvent: "resumeAgent",
}
_COLLAB_ENDS = (
    ev.CollabAgentSpawnEndEvent,
    ev.CollabAgentInteractionEndEvent,
    ev.CollabWaitingEndEvent,
    ev.CollabCloseEndEvent,
    ev.CollabResumeEndEvent,
)


def _collab_outcome(event: Any) -> tuple[str, list[str], dict[str, it.CollabAgentState]]:
    """Status, receivers and agent states of a collab end event."""
    if isinstance(event, ev.CollabWaitingEndEvent):
        statuses = as_dict(event.statuses if event.statuses is not None else event.agent_statuses)
        failed = any(_agent_failed(raw) for raw in statuses.values())
        states = {key: agent_state(raw) for key, raw in statuses.items()}
        return ("failed" if failed else "completed"), sorted(statuses), states
    receiver = event.new_thread_id if isinstance(event, ev.CollabAgentSpawnEndEvent) else (
        event.receiver_thread_id
    )
    failed = _agent_failed(event.status) or receiver is None
    if receiver is None:
        return "failed", [], {}
    return ("failed" if failed else "completed"), [receiver], {receiver: agent_state(event.status)}


def _collab_receivers(event: Any) -> list[str]:
    if isinstance(event, ev.CollabWaitingBeginEvent):
        return list(event.receiver_thread_ids or ())
    if isinstance(event, ev.CollabAgentSpawnBeginEvent) or event.receiver_thread_id is None:
        return []
    return [event.receiver_thread_id]


def collab_call(event: Any) -> it.CollabAgentToolCall:
    """A collabAgentToolCall from any ``collab_*_begin`` / ``collab_*_end`` event."""
    tool = COLLAB_TOOLS[type(event)]
    carries_prompt = tool in ("spawnAgent", "sendInput")
    spawn = tool == "spawnAgent"
    if isinstance(event, _COLLAB_ENDS):
        status, receivers, states = _collab_outcome(event)
    else:
        status, receivers, states = "inProgress", _collab_receivers(event), {}
    return it.CollabAgentToolCall(
        id=event.call_id,
        tool=tool,
        status=status,
        sender_thread_id=event.sender_thread_id or "",
        receiver_thread_ids=receivers,
        prompt=(event.prompt or "") if carries_prompt else None,
        model=(event.model or "") if spawn else None,
        reasoning_effort=opt(event.reasoning_effort) if spawn else None,
        agents_states=states,
    )
