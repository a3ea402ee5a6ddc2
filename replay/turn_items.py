"""``item_completed`` TurnItems (paginated history) -> ThreadItems, as Codex 0.171 projects them.

In paginated history (``session_meta.history_mode == "paginated"``, Codex 0.152+) every
item of a turn is written once, whole, as an ``item_completed`` event whose ``item`` is a
core ``TurnItem`` (``{"type": "CommandExecution", ...}``: PascalCase tag, snake_case
fields). :func:`thread_item` turns it into the v2 ThreadItem ``thread/read`` returns, with
the event's ``started_at_ms``/``completed_at_ms``. Paths arrive as ``file://`` URLs and
leave as plain paths; argv is joined as Codex displays it; statuses and sources become
camelCase. A TurnItem this module does not know, or one Codex 0.171 refuses to decode
(a command without an argv list, a ``file://`` cwd and a known status; an image view
without a ``file://`` path; a web search without an action; an MCP call whose status is
not final or whose error is not an object; a call output without a name or an output; a
collab call whose thread ids are not UUIDs),
gives ``None``: the item is not shown.

Must not import: store, replay.history, anything doing I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit
from uuid import UUID

from msgspec import UNSET
from msgspec.structs import replace

from . import items as it
from .convert import as_dict, camel, command_action, file_change, memory_citation
from .shell import join_command
from .tools import agent_state, dynamic_content, search_action

__all__ = ["thread_item"]

_EXEC_STATUSES = frozenset({"in_progress", "completed", "failed", "declined"})
_MCP_STATUSES = frozenset({"completed", "failed"})


def thread_item(raw: Any, started_at_ms: int | None, completed_at_ms: int | None) -> it.ThreadItem | None:
    """The ThreadItem for one ``item_completed`` TurnItem, or ``None`` when it shows nothing."""
    raw = as_dict(raw)
    build = _BUILDERS.get(str(raw.get("type", "")))
    item = None if build is None else build(raw)
    if item is None:
        return None
    return replace(item, started_at_ms=started_at_ms, completed_at_ms=completed_at_ms)


def local_path(value: Any) -> str:
    """A ``file://`` URL (how Codex 0.171 writes paths in TurnItems) as a plain path."""
    text = str(value or "")
    if not text.startswith("file://"):
        return text
    return unquote(urlsplit(text).path)


def _millis(raw: Any) -> int | None:
    duration = as_dict(raw)
    if not duration:
        return None
    return int(duration.get("secs", 0)) * 1000 + int(duration.get("nanos", 0)) // 1_000_000


def _user_input(raw: Any) -> it.UserInput | None:
    raw = as_dict(raw)
    match raw.get("type"):
        case "text":
            elements = [it.TextElement(byte_range=it.ByteRange(**as_dict(e.get("byte_range"))),
                                       placeholder=e.get("placeholder"))
                        for e in map(as_dict, raw.get("text_elements") or ())]
            return it.TextInput(text=str(raw.get("text", "")), text_elements=elements)
        case "image":
            return it.ImageInput(url=str(raw.get("image_url", "")), detail=raw.get("detail"))
        case "local_image":
            return it.LocalImageInput(path=local_path(raw.get("path")), detail=raw.get("detail"))
        case "skill":
            return it.SkillInput(name=str(raw.get("name", "")), path=local_path(raw.get("path")))
        case "mention":
            return it.MentionInput(name=str(raw.get("name", "")), path=str(raw.get("path", "")))
    return None


def _user_message(raw: dict[str, Any]) -> it.UserMessage:
    content = [found for found in map(_user_input, raw.get("content") or ()) if found is not None]
    return it.UserMessage(id=str(raw.get("id", "")), client_id=raw.get("client_id"), content=content)


def _agent_message(raw: dict[str, Any]) -> it.AgentMessage:
    text = "".join(str(part.get("text", "")) for part in map(as_dict, raw.get("content") or ()))
    return it.AgentMessage(id=str(raw.get("id", "")), text=text, phase=raw.get("phase"),
                           memory_citation=memory_citation(raw.get("memory_citation")))


def _reasoning(raw: dict[str, Any]) -> it.Reasoning:
    return it.Reasoning(id=str(raw.get("id", "")), summary=list(raw.get("summary_text") or ()),
                        content=list(raw.get("raw_content") or ()))


def _file_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("file://")


def _command(raw: dict[str, Any]) -> it.CommandExecution | None:
    argv, status = raw.get("command"), raw.get("status")
    if not (isinstance(argv, list) and _file_url(raw.get("cwd")) and status in _EXEC_STATUSES):
        return None  # Codex 0.171 refuses the item
    cwd = local_path(raw.get("cwd"))
    command = join_command([str(word) for word in argv])
    output = raw.get("aggregated_output")
    return it.CommandExecution(
        id=str(raw.get("id", "")), plugin_id=raw.get("plugin_id"), script_path=raw.get("script_path"),
        command=command, cwd=cwd, process_id=raw.get("process_id"),
        source=camel(str(raw.get("source") or "agent")), status=camel(status),
        command_actions=[command_action(action, cwd) for action in raw.get("parsed_cmd") or ()],
        aggregated_output=output if output else None, exit_code=raw.get("exit_code"),
        duration_ms=_millis(raw.get("duration")),
    )


def _file_change(raw: dict[str, Any]) -> it.FileChange:
    return file_change(str(raw.get("id", "")), as_dict(raw.get("changes")), camel(str(raw.get("status") or "")))


def _mcp_call(raw: dict[str, Any]) -> it.McpToolCall | None:
    result, error = raw.get("result"), raw.get("error")
    if raw.get("status") not in _MCP_STATUSES or not isinstance(error, (dict, type(None))):
        return None
    converted = None
    if isinstance(result, dict):
        converted = it.McpToolCallResult(content=list(result.get("content") or ()),
                                         structured_content=result.get("structuredContent"), meta=result.get("_meta"))
    failure = None if error is None else it.McpToolCallError(message=str(as_dict(error).get("message", error)))
    return it.McpToolCall(
        id=str(raw.get("id", "")), server=str(raw.get("server", "")), tool=str(raw.get("tool", "")),
        status=camel(str(raw.get("status") or "inProgress")), arguments=raw.get("arguments"),
        plugin_id=raw.get("plugin_id"), result=converted, error=failure, duration_ms=_millis(raw.get("duration")),
    )


def _dynamic_call(raw: dict[str, Any]) -> it.DynamicToolCall:
    content = raw.get("content_items")
    items = None if content is None else [found for found in map(dynamic_content, content) if found is not None]
    return it.DynamicToolCall(
        id=str(raw.get("id", "")), namespace=raw.get("namespace"), tool=str(raw.get("tool", "")),
        arguments=raw.get("arguments"), status=camel(str(raw.get("status") or "inProgress")),
        content_items=items, success=raw.get("success"), duration_ms=_millis(raw.get("duration")),
    )


def _web_search(raw: dict[str, Any]) -> it.WebSearch | None:
    action = raw.get("action")
    if not isinstance(action, dict):
        return None
    return it.WebSearch(id=str(raw.get("id", "")), query=str(raw.get("query", "")), action=search_action(action),
                        results=raw.get("results"))


def _image_view(raw: dict[str, Any]) -> it.ImageView | None:
    path = raw.get("path")
    return it.ImageView(id=str(raw.get("id", "")), path=local_path(path)) if _file_url(path) else None


def _call_output(raw: dict[str, Any]) -> it.FunctionCallOutput | None:
    if "output" not in raw or not isinstance(raw.get("name"), str):
        return None
    return it.FunctionCallOutput(id=str(raw.get("id", "")), name=raw["name"], namespace=raw.get("namespace"),
                                 output=raw["output"])


def _image_generation(raw: dict[str, Any]) -> it.ImageGeneration:
    saved = raw.get("saved_path")
    return it.ImageGeneration(id=str(raw.get("id", "")), status=str(raw.get("status", "")),
                              revised_prompt=raw.get("revised_prompt"), result=str(raw.get("result", "")),
                              saved_path=UNSET if saved is None else local_path(saved))


def _hook_prompt(raw: dict[str, Any]) -> it.HookPrompt:
    fragments = [it.HookPromptFragment(text=str(f.get("text", "")), hook_run_id=str(f.get("hook_run_id", "")))
                 for f in map(as_dict, raw.get("fragments") or ())]
    return it.HookPrompt(id=str(raw.get("id", "")), fragments=fragments)


def _is_uuid(value: Any) -> bool:
    try:
        UUID(str(value))
    except ValueError:
        return False
    return True


def _collab_call(raw: dict[str, Any]) -> it.CollabAgentToolCall | None:
    receivers = raw.get("receiver_thread_ids") or ()
    if not (_is_uuid(raw.get("sender_thread_id")) and all(map(_is_uuid, receivers))):
        return None  # thread ids Codex cannot parse
    states = {str(key): agent_state(value) for key, value in as_dict(raw.get("agents_states")).items()}
    return it.CollabAgentToolCall(
        id=str(raw.get("id", "")), tool=camel(str(raw.get("tool", ""))), status=camel(str(raw.get("status") or "")),
        sender_thread_id=str(raw.get("sender_thread_id", "")),
        receiver_thread_ids=[str(thread) for thread in raw.get("receiver_thread_ids") or ()],
        prompt=raw.get("prompt"), model=raw.get("model"), reasoning_effort=raw.get("reasoning_effort"),
        agents_states=states,
    )


_BUILDERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "UserMessage": _user_message,
    "AgentMessage": _agent_message,
    "Reasoning": _reasoning,
    "Plan": lambda raw: it.Plan(id=str(raw.get("id", "")), text=str(raw.get("text", ""))),
    "CommandExecution": _command,
    "FileChange": _file_change,
    "McpToolCall": _mcp_call,
    "DynamicToolCall": _dynamic_call,
    "WebSearch": _web_search,
    "ImageView": _image_view,
    "FunctionCallOutput": _call_output,
    "CollabAgentToolCall": _collab_call,
    "ImageGeneration": _image_generation,
    "ContextCompaction": lambda raw: it.ContextCompaction(id=str(raw.get("id", ""))),
    "HookPrompt": _hook_prompt,
    "EnteredReviewMode": lambda raw: it.EnteredReviewMode(id=str(raw.get("id", "")), review=str(raw.get("review", ""))),
    "ExitedReviewMode": lambda raw: it.ExitedReviewMode(id=str(raw.get("id", "")), review=str(raw.get("review", ""))),
}
