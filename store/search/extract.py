"""What the search index holds of a thread: one document per item of its rebuilt turns.

The index is a projection of the log: :func:`documents` turns a thread's turns (the
engine's ``read``: extended policy, segments resolved, rolled-back turns gone) into
:class:`Doc` rows with separate fields, so ranking can weigh what a person wrote above
what a tool printed. :func:`signatures` fingerprints each turn, so a catch-up rewrites
only the turns that changed since the thread's watermark, and a fork's turns equal to its
source's are left to the source's rows.

Fields: ``user`` (user messages), ``agent`` (agent messages, plans, review text),
``reasoning`` (summaries and reasoning text), ``tool_in`` (commands, tool names and
arguments, patches, search queries), ``tool_out`` (command output, tool results),
``paths`` (changed files, viewed images). A field holds at most :data:`FIELD_CHARS`
characters (a huge tool output is searchable by its start).

Must not import: rollout.cli, rich, anything doing I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import msgspec

from replay import Turn
from replay import items as it

__all__ = ["FIELDS", "FIELD_CHARS", "ROLES", "Doc", "documents", "signatures"]

#: the indexed text fields, in the order every backend stores them
FIELDS = ("user", "agent", "reasoning", "tool_in", "tool_out", "paths")
#: the ``role`` filter: which fields each role searches
ROLES = {"user": ("user",), "assistant": ("agent", "reasoning"), "tool": ("tool_in", "tool_out", "paths")}
#: the most characters kept of one field of one item
FIELD_CHARS = 64 * 1024

_JSON = msgspec.json.Encoder()


class Doc(msgspec.Struct, frozen=True, kw_only=True):
    """One item as the index stores it.

    Attributes:
        turn_index: the turn's position in the thread (0-based).
        repeat: the item id already belongs to an earlier item of the thread (its
            ``rollout view`` anchor then carries the turn id).
        text: the field texts, in :data:`FIELDS` order ("" for none).
    """

    turn_index: int
    turn_id: str
    item_id: str
    kind: str
    role: str
    time_ms: int | None
    repeat: bool
    text: tuple[str, str, str, str, str, str]


def signatures(turns: list[Turn]) -> list[bytes]:
    """A short fingerprint of each turn (its whole v2 JSON): equal turns, equal rows."""
    return [hashlib.blake2b(_JSON.encode(turn), digest_size=8).digest() for turn in turns]


def documents(turns: list[Turn], first: int = 0, skip_below: int = 0) -> list[Doc]:
    """The documents of ``turns[first:]`` (turns before ``skip_below`` are left out: inherited)."""
    seen: set[str] = set()
    out = []
    for index, turn in enumerate(turns):
        for item in turn.items:
            repeat = item.id in seen
            seen.add(item.id)
            if index < max(first, skip_below):
                continue
            doc = _doc(index, turn, item, repeat)
            if doc is not None:
                out.append(doc)
    return out


def _doc(index: int, turn: Turn, item: Any, repeat: bool) -> Doc | None:
    fields = _fields(item)
    if fields is None or not any(fields.values()):
        return None
    text = tuple(_cap(fields.get(name, "")) for name in FIELDS)
    role = next((role for role, names in ROLES.items() if any(fields.get(name) for name in names)), "tool")
    started = getattr(item, "started_at_ms", None)
    time_ms = started if started is not None else (turn.started_at * 1000 if turn.started_at else None)
    return Doc(turn_index=index, turn_id=turn.id, item_id=item.id, kind=item.__struct_config__.tag, role=role,
               time_ms=time_ms, repeat=repeat, text=text)  # type: ignore[arg-type]


def _fields(item: Any) -> dict[str, str] | None:
    match item:
        case it.UserMessage(content=content):
            return {"user": _join(getattr(part, "text", "") for part in content)}
        case it.AgentMessage(text=text) | it.Plan(text=text):
            return {"agent": text}
        case it.EnteredReviewMode(review=text) | it.ExitedReviewMode(review=text):
            return {"agent": text}
        case it.Reasoning(summary=summary, content=content):
            return {"reasoning": _join([*summary, *content])}
        case it.CommandExecution():
            return {"tool_in": item.command, "tool_out": item.aggregated_output or ""}
        case it.FileChange(changes=changes):
            return {"paths": _join(change.path for change in changes), "tool_in": _join(c.diff for c in changes)}
        case it.McpToolCall():
            out = _json(item.result.content) if item.result else (item.error.message if item.error else "")
            return {"tool_in": _join([f"{item.server}.{item.tool}", _json(item.arguments)]), "tool_out": out}
        case it.DynamicToolCall():
            texts = [getattr(part, "text", "") for part in item.content_items or []]
            return {"tool_in": _join([item.tool, _json(item.arguments)]), "tool_out": _join(texts)}
        case it.FunctionCallOutput():
            return {"tool_in": item.name, "tool_out": _text(item.output)}
        case it.WebSearch():
            return {"tool_in": item.query, "tool_out": _json(item.results)}
        case it.CollabAgentToolCall():
            return {"tool_in": item.prompt or ""}
        case it.ImageView(path=path):
            return {"paths": path}
        case it.ImageGeneration():
            return {"tool_in": item.revised_prompt or ""}
    return None


def _join(parts: Iterable[str]) -> str:
    return "\n".join(part for part in parts if part)


def _json(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else _JSON.encode(value).decode()


def _text(value: Any) -> str:
    """A tool output's text: a string, or the text parts of a content list."""
    if isinstance(value, list):
        return _join(part.get("text", "") if isinstance(part, dict) else str(part) for part in value)
    return _json(value)


def _cap(text: str) -> str:
    return text if len(text) <= FIELD_CHARS else text[:FIELD_CHARS]
