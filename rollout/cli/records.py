"""Tool calls, messages and images as the ``response_item`` records hold them.

Replay rebuilds a thread from Codex's events; some calls have no event (a plan
update, a code-mode cell, a tool of today's format), some outputs carry what no
item holds (the images of ``view_image`` and of ``custom_tool_call_output``
content), and a file in a format replay does not read yields no messages at all.
:class:`RecordLog` reads the records as lines stream past and keeps, by call id:
the call (name, arguments or input), its output text and images, the line it
was on and the turn that was open; and, by turn: the user's and the assistant's
message records, reasoning summaries, and the images of the user's messages.
The legacy js_repl flow (a string tool output followed by a user message holding
only images) gives those images to the tool call.

Must not import: rich, store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from replay.fragments import is_contextual_user_message

from .. import events as ev
from ..compat import is_injected_image_message, output_text
from . import images

__all__ = ["RecordLog", "ToolCall"]

_json = msgspec.json.Encoder()


def _compact(value: Any) -> str:
    try:
        return _json.encode(value).decode()
    except (TypeError, msgspec.EncodeError):
        return repr(value)


@dataclass
class ToolCall:
    """One call from its records.

    Attributes:
        call_id: the call id (for a web search, which has none: ``web-search-<line>``).
        kind: the record type (``function_call``, ``custom_tool_call``, ...).
        name: the tool (``namespace.name`` when namespaced).
        arguments: its JSON arguments, its free-form input, or its action as JSON.
        line: index of the call's line; turn_id: the turn open then (None before any).
        output: the output text, None while there is none.
    """

    call_id: str
    kind: str
    name: str
    arguments: str
    line: int
    turn_id: str | None
    output: str | None = None
    status: str | None = None
    images: list[images.Image] = field(default_factory=list)


def _output_images(output: Any) -> list[images.Image]:
    if isinstance(output, str):
        return []
    return [images.from_url(part.image_url) for part in output if isinstance(part, ev.InputImage)]


def _call(payload: Any, index: int, turn_id: str | None) -> ToolCall | None:
    match payload:
        case ev.FunctionCall():
            name = f"{payload.namespace}.{payload.name}" if isinstance(payload.namespace, str) else payload.name
            return ToolCall(payload.call_id, payload.type, name, payload.arguments, index, turn_id)
        case ev.CustomToolCall():
            status = payload.status if isinstance(payload.status, str) else None
            return ToolCall(payload.call_id, payload.type, payload.name, payload.input, index, turn_id, status=status)
        case ev.LocalShellCall():
            call_id = payload.call_id or (payload.id if isinstance(payload.id, str) else f"local-shell-{index}")
            return ToolCall(call_id, payload.type, "local_shell", _compact(payload.action), index, turn_id, status=payload.status)
        case ev.ToolSearchCall():
            call_id = payload.call_id or f"tool-search-{index}"
            return ToolCall(call_id, payload.type, "tool_search", _compact(payload.arguments), index, turn_id, status=payload.status)
        case ev.WebSearchCall():
            call_id = payload.id if isinstance(payload.id, str) else f"web-search-{index}"
            return ToolCall(call_id, payload.type, "web_search", _compact(payload.action), index, turn_id, status=payload.status)
        case ev.ImageGenerationCall():
            call = ToolCall(payload.id or f"image-generation-{index}", payload.type, "image_generation",
                            payload.revised_prompt or "", index, turn_id, status=payload.status)
            if payload.result:
                call.images.append(images.from_base64(payload.result, "image/png"))
            return call
    return None


class RecordLog:
    """Tool calls, outputs, messages and user images from ``response_item`` records, in file order."""

    def __init__(self) -> None:
        self._calls: dict[str, ToolCall] = {}
        self._by_turn: dict[str | None, list[ToolCall]] = {}
        self._user_images: dict[str | None, list[tuple[int, list[images.Image]]]] = {}
        self._last_output: ToolCall | None = None
        self._messages: dict[str | None, list[tuple[int, Any]]] = {}

    def see(self, index: int, line: Any, turn_id: str | None) -> None:
        """Take line ``index``, read while ``turn_id`` was the open turn."""
        if not isinstance(line, ev.ResponseItemLine):
            return
        payload = line.payload
        follows_output, self._last_output = self._last_output, None
        call = _call(payload, index, turn_id)
        if call is not None:
            self._add(call)
        elif isinstance(payload, (ev.FunctionCallOutput, ev.CustomToolCallOutput)):
            self._output(payload.call_id, index, turn_id, output_text(payload.output), _output_images(payload.output))
        elif isinstance(payload, ev.ToolSearchOutput):
            self._output(payload.call_id or "", index, turn_id, _compact(payload.tools), [])
        elif isinstance(payload, ev.Message):
            self._message(index, payload, turn_id, follows_output)
        elif isinstance(payload, ev.Reasoning) and any(part.text for part in payload.summary):
            self._messages.setdefault(turn_id, []).append((index, payload))

    def _add(self, call: ToolCall) -> None:
        if call.call_id not in self._calls:
            self._calls[call.call_id] = call
            self._by_turn.setdefault(call.turn_id, []).append(call)

    def _output(self, call_id: str, index: int, turn_id: str | None, text: str, found: list[images.Image]) -> None:
        call = self._calls.get(call_id)
        if call is None:  # an output whose call is not in this file (compacted away, copied without it)
            call = ToolCall(call_id, "output", "", "", index, turn_id)
            self._add(call)
        call.output = text if call.output is None else call.output + "\n" + text
        call.images += found
        self._last_output = call

    def _message(self, index: int, message: ev.Message, turn_id: str | None, follows: ToolCall | None) -> None:
        if message.role == "assistant":
            self._messages.setdefault(turn_id, []).append((index, message))
        if message.role != "user":
            return
        found = [images.from_url(p.image_url) for p in message.content if isinstance(p, ev.InputImage)]
        if is_injected_image_message(message) and follows is not None:  # right after its tool's output
            follows.images += found
            return
        if not is_contextual_user_message(message.content):
            self._messages.setdefault(turn_id, []).append((index, message))
        if found:
            self._user_images.setdefault(turn_id, []).append((index, found))

    def get(self, call_id: str) -> ToolCall | None:
        """The call with this id, if its records are in the file."""
        return self._calls.get(call_id)

    def calls_in(self, turn_id: str | None) -> list[ToolCall]:
        """The calls made while ``turn_id`` was open (None: before the first turn), in file order."""
        return self._by_turn.get(turn_id, [])

    def messages_in(self, turn_id: str | None) -> list[tuple[int, Any]]:
        """(line, record) of the turn's user and assistant messages and reasoning summaries."""
        return self._messages.get(turn_id, [])

    def user_images(self, turn_id: str) -> list[tuple[int, list[images.Image]]]:
        """(line, images) of each user message record of the turn that carried images."""
        return self._user_images.get(turn_id, [])
