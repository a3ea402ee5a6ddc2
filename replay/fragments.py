"""Recognising the injected (non-user) context fragments inside model-visible messages.

Codex stores context it injects on the user's behalf as ordinary ``user`` or
``developer`` messages: ``<environment_context>``, AGENTS.md instructions, skill
bodies, ``<turn_aborted>`` markers, hook prompts, ... The UI reducer turns only hook
prompts into items, and the resume rebuild must not count any of them as a user
turn. This module holds those predicates and the hook-prompt parser.

Must not import: store, replay.history, anything doing I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rollout.events import InputText, InterAgentMessage, Message, OutputText

from .items import HookPromptFragment

__all__ = [
    "is_contextual_developer_message",
    "is_contextual_user_message",
    "is_user_turn_boundary",
    "parse_hook_prompt",
]

# (open tag, close tag) pairs that wrap a whole injected user fragment.
_MARKED = (
    ("<environment_context>", "</environment_context>"),
    ("<user_instructions>", "</user_instructions>"),
    ("<skills_instructions>", "</skills_instructions>"),
    ("<skill>", "</skill>"),
    ("<user_shell_command>", "</user_shell_command>"),
    ("<subagent_notification>", "</subagent_notification>"),
    ("<recommended_plugins>", "</recommended_plugins>"),
    ("<goal_context>", "</goal_context>"),
)
_DEVELOPER_PREFIXES = (
    "<permissions instructions>",
    "<model_switch>",
    "<collaboration_mode>",
    "<realtime_conversation>",
    "<skills_instructions>",
    "<personality_spec>",
    "<token_budget>",
)
_LEGACY_WARNINGS = (
    "Warning: The maximum number of unified exec processes you can keep open is",
    "Warning: Your account was flagged for potentially high-risk cyber activity",
)
_EXTERNAL = re.compile(r"<external_([^>]+)>.*</external_\1>\Z", re.DOTALL)
_INTERNAL = re.compile(
    r'<codex_internal_context source="[a-z][a-z0-9_]*">.*</codex_internal_context>\Z', re.DOTALL
)
_HOOK_OPEN, _HOOK_CLOSE = "<hook_prompt", "</hook_prompt>"
_ENTITIES = (("&quot;", '"'), ("&apos;", "'"), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def _marked(text: str, open_tag: str, close_tag: str) -> bool:
    body = text.strip()
    return body[: len(open_tag)].lower() == open_tag and body[-len(close_tag) :].lower() == close_tag


def _is_contextual_text(text: str) -> bool:
    stripped = text.strip()
    if stripped.startswith("<turn_aborted>"):
        return True
    if any(_marked(text, open_tag, close_tag) for open_tag, close_tag in _MARKED):
        return True
    if stripped.startswith("# AGENTS.md instructions") and stripped.endswith("</INSTRUCTIONS>"):
        return True
    if _EXTERNAL.match(stripped) or _INTERNAL.match(stripped):
        return True
    if stripped.startswith(_LEGACY_WARNINGS):
        return True
    return _parse_fragment(text) is not None


def is_contextual_user_message(content: Sequence[object]) -> bool:
    """True when any text part of a user message is an injected fragment."""
    return any(isinstance(part, (InputText, OutputText)) and _is_contextual_text(part.text) for part in content)


def is_contextual_developer_message(content: Sequence[object]) -> bool:
    """True when any text part of a developer message is a settings/context fragment."""
    for part in content:
        if isinstance(part, InputText):
            head = part.text.lstrip()[:32].lower()
            if head.startswith(_DEVELOPER_PREFIXES):
                return True
    return False


def is_user_turn_boundary(item: object) -> bool:
    """True for a model-visible item that starts a user turn (real input, not injected)."""
    match item:
        case InterAgentMessage():
            return True
        case Message(role="user", content=content):
            return not is_contextual_user_message(content)
        case _:
            return False


def _decode_entities(text: str) -> str:
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text


def _parse_fragment(text: str) -> HookPromptFragment | None:
    body = text.strip()
    open_end = body.find(">")
    if open_end < 0 or not body.startswith(_HOOK_OPEN) or not body.endswith(_HOOK_CLOSE):
        return None
    open_tag = body[: open_end + 1]
    match_id = re.search(r'hook_run_id="([^"]*)"', open_tag)
    if match_id is None or not match_id.group(1).strip():
        return None
    inner = body[open_end + 1 : len(body) - len(_HOOK_CLOSE)]
    return HookPromptFragment(
        text=_decode_entities(inner), hook_run_id=_decode_entities(match_id.group(1))
    )


def parse_hook_prompt(message: Message) -> list[HookPromptFragment] | None:
    """Parse a user message made only of ``<hook_prompt>`` fragments.

    Args:
        message: A ``response_item`` message.

    Returns:
        The fragments, or ``None`` unless every part is a hook-prompt fragment.
    """
    if message.role != "user" or not message.content:
        return None
    fragments = []
    for part in message.content:
        fragment = _parse_fragment(part.text) if isinstance(part, InputText) else None
        if fragment is None:
            return None
        fragments.append(fragment)
    return fragments
