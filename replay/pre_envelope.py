"""Pre-envelope (2025) rollouts: ThreadItems rebuilt from their response items.

Files written before the ``{"timestamp", "type", "payload"}`` envelope hold a bare header
and bare response items, with no events at all. Codex 0.171.0 answers "rollout is empty"
for them and hides them from ``thread/list``; the engine rebuilds their turns instead (a
documented superset, under both policies): every real user message opens a turn, and
the model's messages, reasoning and tool calls become its items.

* user message (not an injected context fragment) -> ``userMessage`` (text parts joined
  by newlines, then images);
* assistant message -> ``agentMessage``; reasoning -> ``reasoning`` (summary and content);
* ``shell`` function call / ``local_shell_call`` and their output -> ``commandExecution``
  (exit code and duration from the output's ``metadata``);
* ``<server>__<tool>`` function call and its output -> ``mcpToolCall``;
* other calls (``update_plan``, ...) show nothing, as they never did in Codex.

:meth:`PendingCalls.item_for` gives the item a response item starts or completes (the
builder upserts it by call id); ``None`` means nothing to show.

Must not import: store, replay.history, anything doing I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rollout import events as ev
from rollout.compat import output_text

from . import items as it
from .fragments import is_user_turn_boundary
from .shell import join_command

__all__ = ["PendingCalls", "is_turn_start", "user_message"]


def is_turn_start(item: object) -> bool:
    """Whether this response item opens a turn (a real user message)."""
    return isinstance(item, ev.Message) and item.role == "user" and is_user_turn_boundary(item)


def user_message(item: ev.Message, item_id: str) -> it.UserMessage:
    texts = [part.text for part in item.content if isinstance(part, ev.InputText) and part.text.strip()]
    content: list[it.UserInput] = [it.TextInput(text="\n".join(texts))] if texts else []
    content += [it.ImageInput(url=part.image_url) for part in item.content if isinstance(part, ev.InputImage)]
    return it.UserMessage(id=item_id, content=content)


def _arguments(raw: str) -> Any:
    import json  # here: only 2025 files' tool calls need it, and start-up need not load it

    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _shell(call_id: str, argv: Any, workdir: Any) -> it.CommandExecution:
    words = [str(word) for word in argv] if isinstance(argv, list) else [str(argv or "")]
    command = join_command(words)
    return it.CommandExecution(id=call_id, command=command, cwd=str(workdir or ""),
                               command_actions=[it.UnknownAction(command=command)])


def _shell_done(call: it.CommandExecution, output: ev.FunctionCallOutputPayload) -> it.CommandExecution:
    text = output_text(output)
    parsed = _arguments(text)
    body = parsed if isinstance(parsed, dict) else {"output": text}
    found = body.get("metadata")
    metadata: dict[str, Any] = found if isinstance(found, dict) else {}
    code = metadata.get("exit_code")
    seconds = metadata.get("duration_seconds")
    return it.CommandExecution(
        id=call.id, command=call.command, cwd=call.cwd, command_actions=call.command_actions,
        status="completed" if code in (0, None) else "failed", aggregated_output=str(body.get("output", "")) or None,
        exit_code=code if isinstance(code, int) else None,
        duration_ms=round(seconds * 1000) if isinstance(seconds, (int, float)) else None,
    )


class PendingCalls:
    """Tool calls waiting for their output, by call id (kept in a builder dump as :attr:`calls`)."""

    def __init__(self, calls: list[it.ThreadItem] | None = None) -> None:
        self._calls: dict[str, it.ThreadItem] = {call.id: call for call in calls or ()}

    @property
    def calls(self) -> list[it.ThreadItem]:
        return list(self._calls.values())

    def item_for(self, item: object, next_id: Callable[[], str]) -> it.ThreadItem | None:
        """The item a non-user response item adds or completes (``next_id`` names messages and reasoning)."""
        match item:
            case ev.Message(role="assistant", content=content):
                text = "".join(part.text for part in content if isinstance(part, ev.OutputText))
                return it.AgentMessage(id=next_id(), text=text) if text else None
            case ev.Reasoning(summary=summary, content=content):
                raw = [part.text for part in content or () if isinstance(part, (ev.ReasoningText, ev.Text))]
                return it.Reasoning(id=next_id(), summary=[part.text for part in summary], content=raw)
            case ev.FunctionCall() | ev.LocalShellCall():
                return self._start(item)
            case ev.FunctionCallOutput(call_id=call_id, output=output):
                return self._finish(call_id, output)
        return None

    def _start(self, item: ev.FunctionCall | ev.LocalShellCall) -> it.ThreadItem | None:
        started: it.ThreadItem | None = None
        if isinstance(item, ev.LocalShellCall):
            action = item.action if isinstance(item.action, dict) else {}
            started = _shell(item.call_id or "", action.get("command"), action.get("working_directory"))
        elif item.name in ("shell", "container.exec"):
            arguments = _arguments(item.arguments)
            arguments = arguments if isinstance(arguments, dict) else {}
            started = _shell(item.call_id, arguments.get("command"), arguments.get("workdir"))
        elif "__" in item.name:
            server, tool = item.name.split("__", 1)
            started = it.McpToolCall(id=item.call_id, server=server, tool=tool, arguments=_arguments(item.arguments))
        if started is not None:
            self._calls[started.id] = started
        return started

    def _finish(self, call_id: str, output: ev.FunctionCallOutputPayload) -> it.ThreadItem | None:
        call = self._calls.pop(call_id, None)
        if isinstance(call, it.CommandExecution):
            return _shell_done(call, output)
        if isinstance(call, it.McpToolCall):
            result = it.McpToolCallResult(content=[{"type": "text", "text": output_text(output)}])
            return it.McpToolCall(id=call.id, server=call.server, tool=call.tool, arguments=call.arguments,
                                  status="completed", result=result)
        return None
