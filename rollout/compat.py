"""Legacy shapes -> today's model: the one place where old rollouts are upcast.

The codec decodes every version's lines as they are (and re-encodes them as
they were). Consumers that want today's shapes call :func:`upcast`, which:

* pre-envelope (2025) files: turns the bare header into a ``session_meta`` line
  (timestamp from the header, ``cwd`` from the first ``<environment_context>``),
  gives bare response items the newest known timestamp, and drops
  ``{"record_type": "state"}`` lines;
* aliases: ``turn_started``/``turn_complete`` become ``task_started``/
  ``task_complete``; ``compaction_summary`` becomes ``compaction``;
* legacy undo snapshots: drops ``ghost_snapshot`` lines and removes them from
  ``compacted.replacement_history`` (as Codex's reader does);
* tool outputs: a string ``custom_tool_call_output.output`` is already the text
  variant of :data:`~rollout.events.FunctionCallOutputPayload`; it is kept as a
  string, never rewritten into a list;
* the legacy js_repl image flow (a string ``custom_tool_call_output`` followed by
  a standalone user message holding only an ``input_image``) is kept as two
  items in that order; :func:`is_injected_image_message` recognises the second.

Unknown lines and payloads pass through untouched. Also here: small helpers that
interpret legacy-tolerant fields (:func:`output_text`, :func:`v2_source`, :func:`source_kind`,
:func:`list_kind`, :func:`preview_text`).

Must not import: replay, store, rollout.cli, rich.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from . import events as ev

__all__ = [
    "LIST_KINDS",
    "is_injected_image_message",
    "is_pre_envelope_header",
    "iter_upcast",
    "list_kind",
    "output_text",
    "preview_text",
    "source_kind",
    "upcast",
    "v2_source",
]

_CWD = re.compile(r"<cwd>(.*?)</cwd>", re.S)
_REQUEST_MARKER = "## My request for Codex:"


def upcast(lines: Iterable[ev.Line]) -> list[ev.Line]:
    """Return ``lines`` in today's shapes (see the module docstring)."""
    return list(iter_upcast(lines))


_HEADER_LOOKAHEAD = 20  # items searched for the first <environment_context> (the cwd)


def iter_upcast(lines: Iterable[ev.Line]) -> Iterator[ev.Line]:
    """Streaming form of :func:`upcast` (buffers at most a few lines after a bare header)."""
    header: ev.SessionMetaLine | None = None
    held: list[ev.Line] = []
    last_ts: str | None = None
    for line in lines:
        if isinstance(line, ev.LegacyStateLine):
            continue
        if isinstance(line, ev.SessionMetaLine) and line.timestamp is None:
            header, last_ts = line, line.payload.timestamp
            continue
        if line.timestamp is not None:
            last_ts = line.timestamp
        out = _upcast_line(line, last_ts)
        if out is None:
            continue
        if header is None:
            yield out
            continue
        held.append(out)
        cwd = _cwd_of(out)
        if cwd is not None or len(held) >= _HEADER_LOOKAHEAD:
            yield _header_meta(header, cwd)
            yield from held
            header, held = None, []
    if header is not None:
        yield _header_meta(header, None)
        yield from held


def _header_meta(line: ev.SessionMetaLine, cwd: str | None) -> ev.SessionMetaLine:
    meta = line.payload
    return ev.SessionMetaLine(
        timestamp=meta.timestamp,
        payload=ev.SessionMeta(
            id=meta.id,
            timestamp=meta.timestamp,
            cwd=cwd if meta.cwd is None else meta.cwd,
            originator=meta.originator,
            cli_version=meta.cli_version,
            source=meta.source,
            instructions=meta.instructions,
            git=meta.git,
        ),
    )


def _cwd_of(line: ev.Line) -> str | None:
    if isinstance(line, ev.ResponseItemLine) and isinstance(line.payload, ev.Message):
        for part in line.payload.content:
            if isinstance(part, ev.InputText) and "<environment_context>" in part.text:
                found = _CWD.search(part.text)
                if found:
                    return found.group(1).strip()
    return None


def _upcast_line(line: ev.Line, last_ts: str | None) -> ev.Line | None:
    match line:
        case ev.ResponseItemLine(payload=ev.GhostSnapshot()):
            return None
        case ev.ResponseItemLine(payload=ev.CompactionSummary() as item):
            return _with(line, ev.Compaction(encrypted_content=item.encrypted_content), last_ts)
        case ev.ResponseItemLine() if line.timestamp is None:
            return _with(line, line.payload, last_ts)
        case ev.EventMsgLine(payload=ev.TurnStartedEvent() as e):
            return _with(line, _retag(e, ev.TaskStartedEvent), last_ts)
        case ev.EventMsgLine(payload=ev.TurnCompleteEvent() as e):
            return _with(line, _retag(e, ev.TaskCompleteEvent), last_ts)
        case ev.CompactedLine(payload=ev.Compacted(replacement_history=list() as history)):
            kept = [_upcast_item(item) for item in history if not isinstance(item, ev.GhostSnapshot)]
            if kept != history:
                return _with(line, ev.Compacted(message=line.payload.message, replacement_history=kept), last_ts)
    return line


def _upcast_item(item: Any) -> Any:
    if isinstance(item, ev.CompactionSummary):
        return ev.Compaction(encrypted_content=item.encrypted_content)
    return item


def _retag(event: Any, cls: Any) -> Any:
    return cls(**{name: getattr(event, name) for name in cls.__struct_fields__})


def _with(line: Any, payload: Any, last_ts: str | None) -> ev.Line:
    return type(line)(timestamp=line.timestamp or last_ts, ordinal=line.ordinal, payload=payload)


def is_pre_envelope_header(line: Any) -> bool:
    """Whether a ``session_meta`` line is a pre-envelope (2025) header, bare or upcast.

    A bare header decodes with ``timestamp=None``; :func:`upcast` gives it a timestamp but
    leaves ``originator`` and ``cli_version`` unset, which every envelope header carries.
    """
    if not isinstance(line, ev.SessionMetaLine):
        return False
    meta = line.payload
    return line.timestamp is None or (meta.originator is None and meta.cli_version is None)


def is_injected_image_message(item: Any) -> bool:
    """True for the legacy standalone user message that carries only images."""
    return (
        isinstance(item, ev.Message)
        and item.role == "user"
        and bool(item.content)
        and all(isinstance(part, ev.InputImage) for part in item.content)
    )


def output_text(output: ev.FunctionCallOutputPayload) -> str:
    """Display text of a tool output: the string, or non-blank text parts joined by newlines."""
    if isinstance(output, str):
        return output
    return "\n".join(p.text for p in output if isinstance(p, ev.InputText) and p.text.strip())


_V2_NAMES = {"cli": "cli", "vscode": "vscode", "exec": "exec", "mcp": "appServer"}


def v2_source(source: Any) -> Any:
    """A ``SessionSource`` as the v2 API shows it (spec 3.3; missing means ``"vscode"``).

    Strings map to ``cli``/``vscode``/``exec``/``appServer``/``unknown``; ``{"custom": x}``
    stays, ``{"subagent": x}`` becomes ``{"subAgent": x}``; anything else is ``"unknown"``.
    """
    if source is None:
        return "vscode"
    if isinstance(source, str):
        return _V2_NAMES.get(source, "unknown")
    if isinstance(source, dict) and len(source) == 1:
        (key, value), = source.items()
        if key == "custom":
            return {"custom": value}
        if key == "subagent":
            return {"subAgent": _sub_agent(value)}
    return "unknown"


_SPAWN_KEYS = ("parent_thread_id", "depth", "agent_path", "agent_nickname", "agent_role")


def _sub_agent(value: Any) -> Any:
    """A sub-agent source as Codex sends it: a spawn's fields in Codex's order, nulls included."""
    spawn = value.get("thread_spawn") if isinstance(value, dict) and len(value) == 1 else None
    if not isinstance(spawn, dict):
        return value
    return {"thread_spawn": {key: spawn.get(key) for key in _SPAWN_KEYS} | spawn}


def source_kind(source: Any) -> str:
    """The coarse v2 kind of a ``SessionSource``: a v2 name, ``"custom"`` or ``"subAgent"``."""
    shown = v2_source(source)
    return shown if isinstance(shown, str) else next(iter(shown))


#: Codex's ``ThreadSourceKind`` of each sub-agent source (any other sub-agent is ``subAgentOther``)
_SUB_AGENT_KINDS = {"review": "subAgentReview", "compact": "subAgentCompact", "thread_spawn": "subAgentThreadSpawn"}
#: the kinds :func:`list_kind` gives: Codex's ``ThreadSourceKind`` values (the coarse ``subAgent``
#: excepted) plus ``custom``, which no Codex kind names
LIST_KINDS = ("cli", "vscode", "exec", "appServer", "custom", "subAgentReview", "subAgentCompact",
              "subAgentThreadSpawn", "subAgentOther", "unknown")


def list_kind(source: Any) -> str:
    """The kind ``thread/list`` filters a ``SessionSource`` by: a sub-agent's own kind
    (``subAgentReview``, ``subAgentCompact``, ``subAgentThreadSpawn`` or ``subAgentOther``,
    which Codex's ``subAgent`` filter takes together), else :func:`source_kind`."""
    kind = source_kind(source)
    if kind != "subAgent":
        return kind
    sub = source.get("subagent") if isinstance(source, dict) else None
    key = next(iter(sub), None) if isinstance(sub, dict) and len(sub) == 1 else sub
    return _SUB_AGENT_KINDS.get(key, "subAgentOther") if isinstance(key, str) else "subAgentOther"


def preview_text(message: str, *, has_images: bool = False) -> str:
    """Preview of a user message as Codex lists it (legacy request marker stripped)."""
    text = message
    marker = text.find(_REQUEST_MARKER)
    if marker >= 0:
        text = text[marker + len(_REQUEST_MARKER):]
    text = text.strip()
    if not text and has_images:
        return "[Image]"
    return text
