"""Plain-text pieces of every view: one-line previews of items, sizes, counts, times.

Shared by every view that lists things (``inspect --turns``, ``--items``,
``--context``, ``ls``). Plain strings only: colour and truncation to the
terminal width are the renderer's job.

Must not import: rich, store.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import msgspec

from .. import events as ev
from ..compat import output_text

__all__ = [
    "counts", "human_bytes", "item_detail", "item_preview", "item_status", "item_type", "lineage",
    "one_line", "plural", "response_preview", "source_name", "turn_counts", "utc_minute", "utc_second",
]

_SPACE = re.compile(r"\s+")
_json = msgspec.json.Encoder()


def one_line(text: str, limit: int = 240) -> str:
    """Collapse whitespace and cut to ``limit`` characters (with an ellipsis)."""
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _compact_json(value: Any) -> str:
    try:
        return _json.encode(value).decode()
    except (TypeError, msgspec.EncodeError):
        return repr(value)


def item_type(item: Any) -> str:
    """The v2 ``type`` tag of a ThreadItem (``userMessage``, ``commandExecution``, ...)."""
    return item.__struct_config__.tag


def item_status(item: Any) -> str | None:
    """The item's status, for items that have one."""
    status = getattr(item, "status", None)
    return status if isinstance(status, str) and status else None


def _user_text(item: Any) -> str:
    parts = []
    for part in item.content:
        tag = part.__struct_config__.tag
        if tag == "text":
            parts.append(part.text)
        elif tag == "image":
            parts.append("[image]")
        elif tag == "localImage":
            parts.append(f"[image {part.path}]")
        else:
            parts.append(f"[{tag} {getattr(part, 'name', '')}]")
    return " ".join(parts)


def _command(item: Any) -> str:
    extra = []
    if item.exit_code is not None:
        extra.append(f"exit {item.exit_code}")
    if item.duration_ms is not None:
        extra.append(f"{item.duration_ms / 1000:.1f}s")
    return item.command + (f"  ({', '.join(extra)})" if extra else "")


def _file_change(item: Any) -> str:
    return ", ".join(_file_change_one(change) for change in item.changes)


def item_detail(item: Any) -> str:
    """The full text of an item (message text, command output, diffs, results)."""
    tag = item_type(item)
    if tag == "userMessage":
        return _user_text(item)
    if tag == "commandExecution":
        return f"$ {item.command}\n{item.aggregated_output or ''}".rstrip("\n")
    if tag == "fileChange":
        return "\n".join(f"{_file_change_one(c)}\n{c.diff}".rstrip("\n") for c in item.changes)
    if tag == "reasoning":
        return "\n\n".join([*item.summary, *item.content])
    if tag == "mcpToolCall":
        body = item.error.message if item.error else _compact_json(item.result) if item.result else ""
        return f"{item.server}.{item.tool}({_compact_json(item.arguments)})\n{body}".rstrip("\n")
    if tag == "hookPrompt":
        return "\n".join(fragment.text for fragment in item.fragments)
    return item_preview(item, limit=1_000_000)


def _file_change_one(change: Any) -> str:
    letters = {"add": "A", "delete": "D", "update": "M"}
    return f"{letters.get(change.kind.type, '?')} {change.path}"


def item_preview(item: Any, limit: int = 240) -> str:
    """A one-line summary of a ThreadItem."""
    tag = item_type(item)
    if tag == "userMessage":
        text = _user_text(item)
    elif tag in ("agentMessage", "plan"):
        text = item.text
    elif tag == "reasoning":
        text = " ".join(item.summary or item.content)
    elif tag == "commandExecution":
        text = _command(item)
    elif tag == "fileChange":
        text = _file_change(item)
    elif tag == "mcpToolCall":
        text = f"{item.server}.{item.tool} {_compact_json(item.arguments)}"
    elif tag == "dynamicToolCall":
        name = f"{item.namespace}.{item.tool}" if item.namespace else item.tool
        text = f"{name} {_compact_json(item.arguments)}"
    elif tag == "collabAgentToolCall":
        text = f"{item.tool} {item.prompt or ''}"
    elif tag == "webSearch":
        text = item.query or (_compact_json(item.action) if item.action else "")
    elif tag == "imageView":
        text = item.path
    elif tag == "imageGeneration":
        text = item.revised_prompt or ""
    elif tag == "hookPrompt":
        text = " ".join(fragment.text for fragment in item.fragments)
    elif tag in ("enteredReviewMode", "exitedReviewMode"):
        text = item.review
    elif tag == "subAgentActivity":
        text = f"{item.kind} {item.agent_path or item.agent_thread_id}"
    else:
        text = ""
    return one_line(text, limit)


def _content_text(content: list[Any]) -> str:
    parts = []
    for part in content:
        if isinstance(part, (ev.InputText, ev.OutputText)):
            parts.append(part.text)
        elif isinstance(part, ev.InputImage):
            parts.append("[image]")
        elif isinstance(part, ev.Refusal):
            parts.append(f"[refusal] {part.refusal}")
        elif isinstance(part, ev.EncryptedContent):
            parts.append("[encrypted]")
    return " ".join(parts)


def response_preview(item: Any, limit: int = 240) -> tuple[str, str]:
    """(label, one-line text) of a model-visible response item."""
    match item:
        case ev.Message():
            return item.role, one_line(_content_text(item.content), limit)
        case ev.Reasoning():
            text = " ".join(part.text for part in item.summary)
            return "reasoning", one_line(text or ("[encrypted]" if item.encrypted_content else ""), limit)
        case ev.FunctionCall():
            return "function_call", one_line(f"{item.name} {item.arguments}", limit)
        case ev.CustomToolCall():
            return "custom_tool_call", one_line(f"{item.name} {item.input}", limit)
        case ev.FunctionCallOutput() | ev.CustomToolCallOutput():
            return item.type, one_line(output_text(item.output), limit)
        case ev.LocalShellCall():
            return "local_shell_call", one_line(_compact_json(item.action), limit)
        case ev.WebSearchCall():
            return "web_search_call", one_line(_compact_json(item.action), limit)
        case ev.InterAgentMessage():
            return "agent_message", one_line(f"{item.author} → {item.recipient}", limit)
        case ev.Compaction() | ev.ContextCompaction():
            return item.type, "[encrypted]"
        case _:
            label = getattr(item, "type", "") or type(item).__name__
            data = getattr(item, "data", None)
            return label, one_line(_compact_json(data) if data is not None else "", limit)


# --------------------------------------------------------------------------- numbers and labels


def human_bytes(size: int) -> str:
    """``532 B``, ``6.4 kB``, ``1.8 MB`` (decimal units)."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000:
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def plural(count: int, word: str) -> str:
    """``1 file``, ``2 files``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def counts(by_name: dict[str, int]) -> str:
    """``7: 2 userMessage, 5 agentMessage`` (``0`` when empty)."""
    total = sum(by_name.values())
    if not total:
        return "0"
    return f"{total}: " + ", ".join(f"{n} {name}" for name, n in by_name.items())


def turn_counts(summary: Any) -> str:
    """``19: 17 completed, 2 interrupted``."""
    return counts(summary.turn_statuses) if summary.turns else "0"


def lineage(thread: Any) -> str:
    """Where a thread comes from: a fork's source, a sub-agent's spawner, or ``root thread``."""
    parts = []
    if thread.forked_from_id:
        parts.append(f"forked from {thread.forked_from_id}")
    parent = thread.parent_thread_id or _spawner(thread.source)
    if parent:
        role = f"({thread.agent_role})" if thread.agent_role else None
        who = " ".join(x for x in (thread.agent_nickname, role) if x)
        parts.append(f"sub-agent of {parent}" + (f" {who}" if who else ""))
    return "; ".join(parts) or "root thread"


def _spawner(source: Any) -> str | None:
    """The spawning thread named by a v2 ``{"subAgent": {"thread_spawn": ...}}`` source."""
    sub = source.get("subAgent") if isinstance(source, dict) else None
    spawn = sub.get("thread_spawn") if isinstance(sub, dict) else None
    parent = spawn.get("parent_thread_id") if isinstance(spawn, dict) else None
    return parent if isinstance(parent, str) else None


def source_name(source: Any) -> str:
    """A v2 source as one word: ``cli``, ``subAgent``, ``custom`` ..."""
    return source if isinstance(source, str) else next(iter(source), "unknown")


def utc_minute(seconds: int | None) -> str:
    """Unix seconds as ``YYYY-MM-DD hh:mm`` (UTC)."""
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M")


def utc_second(seconds: int | None) -> str:
    """Unix seconds as ``YYYY-MM-DD hh:mm:ss UTC`` (empty when unknown or out of range)."""
    if seconds is None:
        return ""
    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return ""
