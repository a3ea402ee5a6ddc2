"""Parse yield: how much of a file this version actually read.

New Codex versions have moved messages between record types, and a reader that
does not know the new place reads zero messages without a word. The yield puts
numbers on it per file: the messages and tool calls replay rebuilt, beside the
message and tool-call records the file holds, and the records of a type this
version does not model (counted, and kept: nothing is dropped). A file with
lines but no messages gets a warning.

Must not import: rich, store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import msgspec

from replay.fragments import is_contextual_user_message

from .. import events as ev

__all__ = ["MESSAGE_ITEMS", "TOOL_ITEMS", "ParseYield", "YieldCounter", "read_counts"]

#: ThreadItem types that are a person's or the agent's words.
MESSAGE_ITEMS = frozenset({"userMessage", "agentMessage"})
#: ThreadItem types that are a tool call.
TOOL_ITEMS = frozenset({
    "commandExecution", "fileChange", "mcpToolCall", "dynamicToolCall", "collabAgentToolCall",
    "webSearch", "imageView", "imageGeneration",
})
_CALLS = (ev.FunctionCall, ev.CustomToolCall, ev.LocalShellCall, ev.ToolSearchCall, ev.WebSearchCall)


class ParseYield(msgspec.Struct, kw_only=True, rename="camel"):
    """What was read from one file (``--json``: camelCase).

    Attributes:
        lines: lines read.
        messages: user and agent messages in the rebuilt turns.
        tool_calls: tool calls in the rebuilt turns.
        unknown: records of a type this version does not model (kept, not dropped).
        unknown_types: those records by type.
        message_records: ``response_item`` messages from the user (context excluded) or the assistant.
        tool_call_records: ``response_item`` tool calls.
    """

    lines: int = 0
    messages: int = 0
    tool_calls: int = 0
    unknown: int = 0
    unknown_types: dict[str, int] = {}
    message_records: int = 0
    tool_call_records: int = 0

    def warning(self) -> str | None:
        """Why this yield looks wrong (lines but no messages), or None."""
        if not self.lines or self.messages:
            return None
        reason = f"{self.lines} lines but no messages read"
        if self.message_records:
            records = "1 message record" if self.message_records == 1 else f"{self.message_records} message records"
            reason += f" although the file holds {records} (a format this version may not read)"
        return reason


def _unknown_type(line: Any) -> str | None:
    if isinstance(line, ev.UnknownLine):
        return line.type
    payload = getattr(line, "payload", None)
    if isinstance(payload, (ev.UnknownEvent, ev.UnknownResponseItem)):
        return f"{line.type}/{payload.type}"
    return None


class YieldCounter:
    """Counts records as lines stream past; :meth:`result` adds what replay rebuilt."""

    def __init__(self) -> None:
        self.lines = 0
        self.message_records = 0
        self.tool_call_records = 0
        self.unknown: Counter[str] = Counter()

    def see(self, line: Any) -> None:
        """Take the next line."""
        self.lines += 1
        payload = getattr(line, "payload", None)
        if isinstance(payload, ev.Message):
            if payload.role == "assistant" or (payload.role == "user" and not is_contextual_user_message(payload.content)):
                self.message_records += 1
        elif isinstance(payload, _CALLS):
            self.tool_call_records += 1
        unknown = _unknown_type(line)
        if unknown is not None:
            self.unknown[unknown] += 1

    def result(self, turns: Iterable[Any]) -> ParseYield:
        """The yield, given the turns replay rebuilt from the same lines."""
        tags = Counter(item.__struct_config__.tag for turn in turns for item in turn.items)
        return ParseYield(
            lines=self.lines,
            messages=sum(tags[t] for t in MESSAGE_ITEMS),
            tool_calls=sum(tags[t] for t in TOOL_ITEMS),
            unknown=sum(self.unknown.values()),
            unknown_types=dict(self.unknown.most_common()),
            message_records=self.message_records,
            tool_call_records=self.tool_call_records,
        )


def read_counts(y: ParseYield) -> str:
    """``65 messages · 71 tool calls · 2 unknown records (kept)``."""
    parts = [f"{y.messages} messages", f"{y.tool_calls} tool calls"]
    if y.unknown:
        parts.append(f"{y.unknown} unknown records (kept: {', '.join(y.unknown_types)})")
    return " · ".join(parts)
