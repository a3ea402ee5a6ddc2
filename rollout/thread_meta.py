"""How Codex 0.171.0 presents a thread's metadata, read from its rollout lines.

The small rules Codex's app-server applies when it turns a rollout into a v2 ``Thread``
object, observed against the real binary (``tests/conformance``):

* the default ``thread/list`` shows the interactive sources (:data:`INTERACTIVE_SOURCES`)
  of the default model provider (:data:`DEFAULT_PROVIDER`, also the provider of a thread
  whose meta names none);
* a guardian sub-agent (``{"subagent": {"other": "guardian"}}``) is shown with a fixed
  preview and name;
* a git origin URL loses its user part (``alice@host:repo`` -> ``host:repo``), except
  the conventional ``git`` user of an ssh or scp-style URL; an all-empty ``git`` is no git;
* a spawned sub-agent's nickname and role come from its source when the meta has none;
* the latest model settings come from ``turn_context`` lines Codex can decode
  (:func:`rollout.readable.reads_turn_context`) and ``thread_settings_applied`` events
  (skipped, too, when their ``cwd`` is not absolute on a POSIX host);
* in today's (paginated) files the first user message is an ``item_completed``
  ``UserMessage`` item.

Must not import: replay, store, rollout.cli, rich.
"""

from __future__ import annotations

import re
from typing import Any

from . import events as ev
from .readable import reads_turn_context

__all__ = [
    "DEFAULT_PROVIDER",
    "GUARDIAN_NAME",
    "GUARDIAN_PREVIEW",
    "INTERACTIVE_SOURCES",
    "is_guardian",
    "redact_origin_url",
    "settings_of",
    "spawn_of",
    "user_item_text",
]

INTERACTIVE_SOURCES = ("cli", "vscode")
DEFAULT_PROVIDER = "openai"
GUARDIAN_PREVIEW = "Approval review"
GUARDIAN_NAME = "Guardian review"
_KEEPS_USER = "git"
_WITH_SCHEME = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)")


def is_guardian(source: Any) -> bool:
    """Whether ``source`` is Codex's guardian (approval review) sub-agent."""
    return isinstance(source, dict) and source.get("subagent") == {"other": "guardian"}


def spawn_of(source: Any) -> dict[str, Any] | None:
    """The ``thread_spawn`` record of a spawned sub-agent's source, or None."""
    sub = source.get("subagent") if isinstance(source, dict) else None
    spawn = sub.get("thread_spawn") if isinstance(sub, dict) else None
    return spawn if isinstance(spawn, dict) else None


def redact_origin_url(url: str | None) -> str | None:
    """``url`` without its user part, as Codex shows a git origin (``git@`` kept for ssh and scp)."""
    if not url or "@" not in url:
        return url
    found = _WITH_SCHEME.match(url)
    if found is not None:
        authority = found["authority"]
        at = authority.rfind("@")
        if at < 0 or (found["scheme"] == "ssh" and authority[:at] == _KEEPS_USER):
            return url
        return url[: found.start("authority")] + url[found.start("authority") + at + 1 :]
    at, colon = url.find("@"), url.find(":")
    if 0 < at < colon and "/" not in url[:at] and url[:at] != _KEEPS_USER:
        return url[at + 1 :]  # scp-style user@host:path
    return url


def _posix_cwd(settings: dict[str, Any]) -> bool:
    """Codex skips settings whose ``cwd`` is not absolute on a POSIX host."""
    cwd = settings.get("cwd")
    return cwd is None or (isinstance(cwd, str) and cwd.startswith("/"))


def settings_of(payload: Any) -> tuple[str | None, str | None] | None:
    """``(model, reasoning effort)`` a line sets for the thread, or None when it sets nothing."""
    match payload:
        case ev.TurnContext() if reads_turn_context(payload):
            return payload.model, payload.effort
        case ev.ThreadSettingsAppliedEvent(thread_settings={"model": str(model)} as settings) if _posix_cwd(settings):
            effort = settings.get("reasoning_effort")
            return model, effort if isinstance(effort, str) else None
    return None


def user_item_text(content: list[Any]) -> str:
    """The text of a ``UserMessage`` item (today's ``item_completed`` events): its text parts, joined."""
    return "\n".join(part["text"] for part in content
                     if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str))
