"""Which decoded lines Codex 0.171.0's own rollout reader accepts.

This engine decodes far more leniently than Codex: a field Codex requires may be missing,
an enum may hold a value Codex no longer knows. Codex drops such a line when it reads the
file, and a dropped line neither shows in ``thread/read`` nor counts towards the implicit
turn ids (``rollout-<n>``) of legacy streams. :func:`codex_reads` says whether Codex
0.171.0 keeps a line, from rules observed against the real binary (every rule has a
test in ``tests/test_readable.py``):

* ``turn_context``: ``cwd``, ``approval_policy`` and ``model`` are required, ``cwd`` must be
  absolute on a POSIX host (a Windows path is not), the sandbox must be given either as a
  ``sandbox_policy`` with today's ``type`` tag (the old ``mode`` tag is refused) or as a
  ``permission_profile``; ``approval_policy``, ``summary`` and the collaboration ``mode``
  must be values Codex knows;
* ``patch_apply_end`` needs its ``status``; ``thread_goal_updated`` needs a ``goal``;
  ``sub_agent_activity`` needs a known ``kind``;
* ``agent_message.memory_citation`` must use today's camelCase keys (``lineStart``,
  ``rolloutIds``); the snake_case shape makes Codex drop the whole message.

Lines of a type this module has no rule for are taken as readable.

Must not import: replay, store, rollout.cli, rich.
"""

from __future__ import annotations

from typing import Any

from . import events as ev

__all__ = ["codex_reads", "reads_turn_context"]

_APPROVALS = frozenset({"untrusted", "on-failure", "on-request", "never"})
_SANDBOXES = frozenset({"danger-full-access", "read-only", "workspace-write", "external-sandbox"})
_SUMMARIES = frozenset({"auto", "concise", "detailed", "none"})
_COLLABORATION_MODES = frozenset({"default", "plan", "code", "pair_programming", "execute", "custom"})
_ACTIVITY_KINDS = frozenset({"started", "interacted", "interrupted", "completed"})


def codex_reads(line: object) -> bool:
    """Whether Codex 0.171.0 keeps ``line`` when it reads a rollout (see the module docstring)."""
    match line:
        case ev.TurnContextLine(payload=context):
            return reads_turn_context(context)
        case ev.EventMsgLine(payload=event):
            return _reads_event(event)
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
    return isinstance(policy, dict) and policy.get("type") in _SANDBOXES


def _collaboration_known(mode: Any) -> bool:
    if mode is None:
        return True
    return isinstance(mode, dict) and mode.get("mode") in _COLLABORATION_MODES


def _reads_event(event: object) -> bool:
    match event:
        case ev.PatchApplyEndEvent(status=status):
            return status is not None
        case ev.ThreadGoalUpdatedEvent(goal=goal):
            return goal is not None
        case ev.SubAgentActivityEvent(kind=kind):
            return kind in _ACTIVITY_KINDS
        case ev.AgentMessageEvent(memory_citation=citation):
            return citation is None or _camel_citation(citation)
    return True


def _camel_citation(citation: Any) -> bool:
    if not isinstance(citation, dict) or "rollout_ids" in citation:
        return False
    entries = citation.get("entries") or ()
    return all(isinstance(entry, dict) and "line_start" not in entry for entry in entries)
