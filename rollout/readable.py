"""Which decoded lines Codex 0.171.0's own rollout reader accepts.

This engine decodes far more leniently than Codex: a field Codex requires may be missing,
an enum may hold a value Codex no longer knows. Codex drops such a line when it reads the
file, and a dropped line neither shows in ``thread/read`` nor counts towards the implicit
turn ids (``rollout-<n>``) of legacy streams. :func:`codex_reads` says whether Codex
0.171.0 keeps a line, from rules observed against the real binary (each rule has a test
in ``tests/test_readable.py``; the property suite in ``tests/conformance`` found several):

* ``turn_context``: ``cwd``, ``approval_policy`` and ``model`` are required, ``cwd`` must be
  absolute on a POSIX host (a Windows path is not), the sandbox must be given either as a
  ``sandbox_policy`` with today's ``type`` tag (the old ``mode`` tag is refused) or as a
  ``permission_profile``; ``approval_policy``, ``summary`` and the collaboration ``mode``
  must be values Codex knows;
* events need the fields Codex declares without a default (:data:`REQUIRED`): a
  ``patch_apply_end`` without ``status``, an ``mcp_tool_call_end`` without ``duration``, a
  ``web_search_end`` without ``action``, a ``turn_aborted`` without ``reason``, ... is dropped;
* ``token_count.info`` is ``null`` or carries both ``total_token_usage`` and
  ``last_token_usage`` with all five counters; a rate-limit window needs a numeric
  ``used_percent``;
* ``exited_review_mode.review_output`` is ``null`` or an object; ``thread_goal_updated``
  needs a ``goal``; ``sub_agent_activity`` needs a known ``kind`` and a UUID
  ``agent_thread_id``; an ``mcp_tool_call_end`` invocation must be an object;
  ``item_started``/``item_completed`` need a UUID ``thread_id`` (any thread's); a
  ``task_started.turn_attribution`` needs its ``turn_id``;
* ``agent_message.memory_citation`` must use today's camelCase keys (``lineStart``,
  ``rolloutIds``); the snake_case shape makes Codex drop the whole message.

Field presence is read from the line's original bytes (a line built in code has none and
passes those checks). Lines of a type with no rule here are taken as readable.

Must not import: replay, store, rollout.cli, rich.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from . import events as ev
from .codec import raw_bytes

__all__ = ["REQUIRED", "codex_reads", "reads_turn_context"]

_APPROVALS = frozenset({"untrusted", "on-failure", "on-request", "never"})
_SANDBOXES = frozenset({"danger-full-access", "read-only", "workspace-write", "external-sandbox"})
_SUMMARIES = frozenset({"auto", "concise", "detailed", "none"})
_COLLABORATION_MODES = frozenset({"default", "plan", "code", "pair_programming", "execute", "custom"})
_ACTIVITY_KINDS = frozenset({"started", "interacted", "interrupted", "completed"})
_USAGE = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens", "total_tokens")

#: event ``type`` -> payload keys Codex 0.171.0 requires
REQUIRED: dict[str, frozenset[str]] = {
    "patch_apply_end": frozenset({"call_id", "stdout", "stderr", "success", "changes", "status"}),
    "mcp_tool_call_end": frozenset({"call_id", "invocation", "duration", "result"}),
    "web_search_end": frozenset({"call_id", "query", "action"}),
    "turn_aborted": frozenset({"reason"}),
    "entered_review_mode": frozenset({"target"}),
}
_envelope = msgspec.json.Decoder(dict[str, Any])


def codex_reads(line: object) -> bool:
    """Whether Codex 0.171.0 keeps ``line`` when it reads a rollout (see the module docstring)."""
    match line:
        case ev.TurnContextLine(payload=context):
            return reads_turn_context(context)
        case ev.EventMsgLine(payload=event):
            return _reads_event(event) and _has_required(line, getattr(event, "type", ""))
    return True


def reads_turn_context(context: ev.TurnContext) -> bool:
    """Whether Codex 0.171.0 decodes this ``turn_context`` payload."""
    if not (isinstance(context.cwd, str) and context.cwd.startswith("/")):
        return False
    if context.model is None or not _approval_known(context.approval_policy):
        return False
    if context.summary is not None and context.summary not in _SUMMARIES:
        return False
    if not _sandbox_known(context.sandbox_policy, context.permission_profile):
        return False
    return _collaboration_known(context.collaboration_mode)


def _approval_known(policy: Any) -> bool:
    if isinstance(policy, str):
        return policy in _APPROVALS
    return isinstance(policy, dict) and len(policy) == 1  # e.g. {"granular": {...}}


def _sandbox_known(policy: Any, profile: Any) -> bool:
    if policy is None:
        return isinstance(profile, dict)
    return isinstance(policy, dict) and _one_of(policy.get("type"), _SANDBOXES)


def _collaboration_known(mode: Any) -> bool:
    if mode is None:
        return True
    return isinstance(mode, dict) and _one_of(mode.get("mode"), _COLLABORATION_MODES)


def _one_of(value: Any, names: frozenset[str]) -> bool:
    """``value`` is one of ``names`` (any JSON value may arrive here: a list is simply not one)."""
    return isinstance(value, str) and value in names


def _has_required(line: object, kind: str) -> bool:
    required = REQUIRED.get(kind)
    raw = raw_bytes(line)
    if required is None or raw is None:
        return True
    try:
        payload = _envelope.decode(raw).get("payload")
    except msgspec.DecodeError:
        return True  # not JSON: a line decoded from msgpack; nothing to check
    return isinstance(payload, dict) and required <= payload.keys()


def _reads_event(event: object) -> bool:
    match event:
        case ev.ThreadGoalUpdatedEvent(goal=goal):
            return goal is not None
        case ev.SubAgentActivityEvent(kind=kind, agent_thread_id=agent):
            return kind in _ACTIVITY_KINDS and _is_uuid(agent)
        case ev.AgentMessageEvent(memory_citation=citation):
            return citation is None or _camel_citation(citation)
        case ev.TokenCountEvent(info=info, rate_limits=limits):
            return _usage_info(info) and _rate_limits(limits)
        case ev.ExitedReviewModeEvent(review_output=output):
            return output is None or isinstance(output, dict)
        case ev.McpToolCallEndEvent(invocation=invocation):
            return isinstance(invocation, dict)
        case ev.ItemCompletedEvent(thread_id=thread_id) | ev.ItemStartedEvent(thread_id=thread_id):
            return _is_uuid(thread_id)
        case ev.TaskStartedEvent(turn_attribution=attribution):
            return attribution is msgspec.UNSET or attribution is None or (
                isinstance(attribution, dict) and isinstance(attribution.get("turn_id"), str))
    return True


def _usage_info(info: Any) -> bool:
    if info is None:
        return True
    if not isinstance(info, dict):
        return False
    usages = (info.get("total_token_usage"), info.get("last_token_usage"))
    return all(isinstance(usage, dict) and all(isinstance(usage.get(key), int) for key in _USAGE) for usage in usages)


def _rate_limits(limits: Any) -> bool:
    if limits is None:
        return True
    if not isinstance(limits, dict):
        return False
    windows = (limits.get("primary"), limits.get("secondary"))
    return all(window is None or (isinstance(window, dict) and isinstance(window.get("used_percent"), (int, float)))
               for window in windows)


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _camel_citation(citation: Any) -> bool:
    if not isinstance(citation, dict) or "rollout_ids" in citation:
        return False
    entries = citation.get("entries")
    if entries is None:
        return True
    return isinstance(entries, list) and all(isinstance(e, dict) and "line_start" not in e for e in entries)
