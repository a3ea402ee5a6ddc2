"""Event payloads -> ThreadItems: one pure builder per Codex event shape.

The reducer (:mod:`replay.history`) decides *where* an item goes (which turn,
append or upsert); this module decides *what* it looks like, following spec 8.5:
argv joined with POSIX quoting, ``parsed_cmd`` turned into command actions with
read paths joined onto the cwd, patch changes sorted by path, MCP ``Ok``/``Err``
results, dynamic tool content items, collab agent states in camelCase, and so on.

Nested wire shapes that drift between Codex versions arrive as plain JSON values
(dicts and lists), so every builder reads them defensively.

Must not import: store, replay.history, anything doing I/O.
"""

from __future__ import annotations

import ntpath
import posixpath
from typing import Any

from msgspec import UNSET
from msgspec.structs import replace

from rollout import events as ev

from . import items as it
from .shell import join_command

_REVIEW_REQUESTED = "Review requested."
_REVIEW_FALLBACK = "Reviewer failed to output a response."
_NON_TURN_ERRORS = frozenset({"thread_rollback_failed", "active_turn_not_steerable"})


def camel(name: str) -> str:
    """``snake_case`` -> ``camelCase`` (``user_shell`` -> ``userShell``)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def opt(value: Any) -> Any:
    """``None`` for a field left unset on the wire (``msgspec.UNSET``), else the value."""
    return None if value is UNSET else value


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# Values from untyped payload fields (Any on the wire) reach typed v2 items only through these:
# a wrong type becomes the field's default, as if the key were absent, never a crash or an item
# whose JSON no longer matches its schema.


def as_str(value: Any, default: str = "") -> str:
    """``value`` when it is a string, else ``default``."""
    return value if isinstance(value, str) else default


def opt_str(value: Any) -> str | None:
    """``value`` when it is a string, else ``None``."""
    return value if isinstance(value, str) else None


def as_int(value: Any, default: int = 0) -> int:
    """``value`` when it is an integer (not a bool), else ``default``."""
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a list, else an empty list."""
    return value if isinstance(value, list) else []


def str_list(value: Any) -> list[str]:
    """The strings of ``value`` when it is a list, else an empty list."""
    return [item for item in as_list(value) if isinstance(item, str)]


def millis(duration: Any) -> int | None:
    return duration.millis if isinstance(duration, ev.Duration) else None


# --------------------------------------------------------------------------- messages


def _text_element(raw: Any) -> it.TextElement:
    raw = as_dict(raw)
    span = as_dict(raw.get("byte_range") or raw.get("byteRange"))
    return it.TextElement(
        byte_range=it.ByteRange(start=as_int(span.get("start")), end=as_int(span.get("end"))),
        placeholder=opt_str(raw.get("placeholder")),
    )


def _detail(details: object, index: int) -> Any:
    if not isinstance(details, list) or index >= len(details):
        return None
    return details[index]


def user_inputs(event: ev.UserMessageEvent) -> list[it.UserInput]:
    """The ``content`` of a userMessage: text (if not blank), then images, then local images."""
    content: list[it.UserInput] = []
    if event.message.strip():
        elements = [_text_element(raw) for raw in event.text_elements]
        content.append(it.TextInput(text=event.message, text_elements=elements))
    for index, url in enumerate(event.images or ()):
        content.append(it.ImageInput(url=url, detail=_detail(event.image_details, index)))
    for index, path in enumerate(event.local_images):
        detail = _detail(event.local_image_details, index)
        content.append(it.LocalImageInput(path=path, detail=detail))
    return content


def _either(raw: dict[str, Any], camel_name: str, snake_name: str, default: Any) -> Any:
    """``raw[camel_name]`` (Codex 0.171) or else ``raw[snake_name]`` (older writers)."""
    return raw.get(camel_name, raw.get(snake_name, default))


def memory_citation(raw: Any) -> it.MemoryCitation | None:
    """Core ``memory_citation`` (``rolloutIds``) -> v2 ``memoryCitation`` (``threadIds``)."""
    if not isinstance(raw, dict):
        return None
    entries = [
        it.MemoryCitationEntry(
            path=as_str(entry.get("path")),
            line_start=as_int(_either(entry, "lineStart", "line_start", 0)),
            line_end=as_int(_either(entry, "lineEnd", "line_end", 0)),
            note=as_str(entry.get("note")),
        )
        for entry in map(as_dict, as_list(raw.get("entries")))
    ]
    return it.MemoryCitation(entries=entries, thread_ids=str_list(_either(raw, "rolloutIds", "rollout_ids", None)))


def _finding(raw: Any) -> str:
    """One review finding: ``- title — path:start-end`` then the body indented by two spaces."""
    raw = as_dict(raw)
    head = f"- {raw.get('title', '')}"
    location = as_dict(raw.get("code_location"))
    if location:
        lines = as_dict(location.get("line_range"))
        head += f" — {location.get('absolute_file_path', '')}:{lines.get('start', 0)}-{lines.get('end', 0)}"
    body = str(raw.get("body", ""))
    return head + "".join(f"\n  {line}" for line in body.split("\n")) if body else head


def exited_review_text(review_output: Any) -> str:
    """The exitedReviewMode text, as Codex renders a review for the UI.

    The trimmed overall explanation, then (after a blank line) ``Review comment:`` for one
    finding or ``Full review comments:`` for several, then the findings separated by blank
    lines; Codex's fallback sentence when there is neither.
    """
    review = as_dict(review_output)
    explanation = review.get("overall_explanation")
    parts = [explanation.strip()] if isinstance(explanation, str) and explanation.strip() else []
    findings = [finding for finding in review.get("findings") or () if isinstance(finding, dict)]
    if findings:
        header = "Full review comments:" if len(findings) > 1 else "Review comment:"
        parts.append(header + "\n\n" + "\n\n".join(map(_finding, findings)))
    return "\n\n".join(parts) or _REVIEW_FALLBACK


def entered_review_text(event: ev.EnteredReviewModeEvent) -> str:
    hint = opt(event.user_facing_hint)
    return hint if hint is not None else _REVIEW_REQUESTED


def plan_item(raw: Any) -> it.Plan | None:
    """A non-empty ``Plan`` item from ``item_started``/``item_completed``, else ``None``."""
    raw = as_dict(raw)
    if raw.get("type") != "Plan" or not as_str(raw.get("text")):
        return None
    return it.Plan(id=str(raw.get("id", "")), text=raw["text"])


# --------------------------------------------------------------------------- errors


def error_affects_turn(info: Any) -> bool:
    """False for the error kinds that never fail a turn (rollback failed, not steerable)."""
    if isinstance(info, str):
        return info not in _NON_TURN_ERRORS
    if isinstance(info, dict):
        return not (info.keys() & _NON_TURN_ERRORS)
    return True


def _camel_fields(value: Any) -> Any:
    if isinstance(value, dict):
        return {camel(key): _camel_fields(inner) for key, inner in value.items()}
    return value


def error_info(info: Any) -> Any:
    """Core ``codex_error_info`` -> v2 ``codexErrorInfo`` (variant and fields camelCased)."""
    if isinstance(info, str):
        return camel(info)
    if isinstance(info, dict):
        return {camel(key): _camel_fields(inner) for key, inner in info.items()}
    return info


def turn_error(event: ev.ErrorEvent) -> it.TurnError:
    return it.TurnError(message=event.message, codex_error_info=error_info(event.codex_error_info))


def completion_error(raw: Any) -> it.TurnError | None:
    """The error a ``task_complete`` carries (Codex 0.153+), if it failed the turn."""
    if not isinstance(raw, dict):
        return None
    return it.TurnError(message=str(raw.get("message", "")), codex_error_info=error_info(raw.get("codex_error_info")))


# --------------------------------------------------------------------------- commands


def _join_path(cwd: str, path: str) -> str:
    windows = "\\" in cwd and "/" not in cwd
    return (ntpath if windows else posixpath).join(cwd, path) if cwd else path


def command_action(raw: Any, cwd: str) -> it.CommandAction:
    raw = as_dict(raw)
    command = as_str(raw.get("cmd"))
    match raw.get("type"):
        case "read":
            path = _join_path(cwd, str(raw.get("path", "")))
            return it.ReadAction(command=command, name=as_str(raw.get("name")), path=path)
        case "list_files":
            return it.ListFilesAction(command=command, path=opt_str(raw.get("path")))
        case "search":
            return it.SearchAction(command=command, query=opt_str(raw.get("query")), path=opt_str(raw.get("path")))
        case _:
            return it.UnknownAction(command=command)


def _exec_status(event: ev.ExecCommandEndEvent) -> str:
    if event.status:
        return camel(event.status)
    return "completed" if event.exit_code == 0 else "failed"


def command_execution(
    event: ev.ExecCommandBeginEvent | ev.ExecCommandEndEvent,
) -> it.CommandExecution:
    """A commandExecution from an exec begin (``inProgress``) or end event."""
    base = it.CommandExecution(
        id=event.call_id,
        command=join_command(event.command),
        cwd=event.cwd,
        process_id=opt(event.process_id),
        source=camel(event.source or "agent"),
        command_actions=[command_action(raw, event.cwd) for raw in event.parsed_cmd],
    )
    if not isinstance(event, ev.ExecCommandEndEvent):
        return base
    return replace(
        base,
        status=_exec_status(event),
        aggregated_output=event.aggregated_output or None,
        exit_code=event.exit_code,
        duration_ms=millis(event.duration) or 0,
    )


_GUARDIAN_STATUS = {
    "in_progress": "inProgress",
    "denied": "declined",
    "aborted": "declined",
    "timed_out": "failed",
}


def guardian_command(event: ev.GuardianAssessmentEvent) -> it.CommandExecution | None:
    """The commandExecution a non-approved guardian review implies, if any."""
    status = _GUARDIAN_STATUS.get(event.status or "")
    action = as_dict(event.action)
    if status is None or not event.target_item_id:
        return None
    match action.get("type"):
        case "command":
            command = str(action.get("command", ""))
        case "execve":
            argv = [str(arg) for arg in as_list(action.get("argv"))]
            command = join_command([str(action.get("program", "")), *argv[1:]])
        case _:
            return None
    return it.CommandExecution(
        id=event.target_item_id,
        command=command,
        cwd=str(action.get("cwd", "")),
        status=status,
        command_actions=[it.UnknownAction(command=command)],
    )


# --------------------------------------------------------------------------- patches


def _file_change(path: str, raw: Any) -> it.FileUpdateChange:
    raw = as_dict(raw)
    kind = as_str(raw.get("type"), "add")
    if kind != "update":
        return it.FileUpdateChange(
            path=path, kind=it.PatchChangeKind(type=kind), diff=as_str(raw.get("content"))
        )
    move_path = raw.get("move_path") if isinstance(raw.get("move_path"), str) else None
    diff = as_str(raw.get("unified_diff"))
    if move_path:
        diff = f"{diff}\n\nMoved to: {move_path}"
    change_kind = it.PatchChangeKind(type="update", move_path=move_path)
    return it.FileUpdateChange(path=path, kind=change_kind, diff=diff)


def file_change(call_id: str, changes: dict[str, Any], status: str) -> it.FileChange:
    """A fileChange whose changes are sorted by path."""
    converted = [_file_change(path, changes[path]) for path in sorted(changes)]
    return it.FileChange(id=call_id, changes=converted, status=status)


def patch_end_status(event: ev.PatchApplyEndEvent) -> str:
    if event.status:
        return camel(event.status)
    return "completed" if event.success else "failed"
