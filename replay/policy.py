"""Which decoded lines the history reducer sees, per replay policy.

``"limited"`` re-applies Codex's current persistence filter (spec 3.7, 3.8, 8.1
step 2) so rebuilt history equals today's app-server view: events that only the
old "extended" mode wrote (exec ends, dynamic tools, errors, collab ends, ...) and
``Other`` response items are dropped before the reducer runs.

``"extended"`` (our default) keeps every line Codex itself could have decoded, so
old extended rollouts rebuild their command executions, dynamic tool calls, etc.

Both policies drop what Codex's reader never yields: ``ghost_snapshot`` items,
unknown envelope types, unknown event types, pre-envelope state records and
``world_state`` lines (unknown to Codex at the reference commit). What is dropped
is not counted either: implicit turn ids (``rollout-<index>``) number the lines
the reducer sees, exactly as Codex numbers its filtered item list.

Must not import: store, anything doing I/O.
"""

from __future__ import annotations

from typing import Literal

from rollout import events as ev

__all__ = ["Policy", "keeps"]

Policy = Literal["limited", "extended"]

_LIMITED_EVENTS = frozenset(
    {
        ev.TaskStartedEvent,
        ev.TurnStartedEvent,
        ev.TaskCompleteEvent,
        ev.TurnCompleteEvent,
        ev.TurnAbortedEvent,
        ev.UserMessageEvent,
        ev.AgentMessageEvent,
        ev.AgentReasoningEvent,
        ev.AgentReasoningRawContentEvent,
        ev.TokenCountEvent,
        ev.ContextCompactedEvent,
        ev.ThreadRolledBackEvent,
        ev.EnteredReviewModeEvent,
        ev.ExitedReviewModeEvent,
        ev.PatchApplyEndEvent,
        ev.McpToolCallEndEvent,
        ev.WebSearchEndEvent,
        ev.ImageGenerationEndEvent,
        ev.ThreadGoalUpdatedEvent,
        ev.SubAgentActivityEvent,
    }
)
_DROPPED_RESPONSES = frozenset({ev.GhostSnapshot})
_LIMITED_DROPPED_RESPONSES = frozenset(
    {ev.GhostSnapshot, ev.CompactionTrigger, ev.UnknownResponseItem}
)
_ALWAYS = (ev.SessionMetaLine, ev.TurnContextLine, ev.CompactedLine)


def _is_plan_completion(payload: object) -> bool:
    if not isinstance(payload, ev.ItemCompletedEvent):
        return False
    item = payload.item
    return isinstance(item, dict) and item.get("type") == "Plan"


def keeps(line: object, policy: Policy) -> bool:
    """Return whether the reducer sees ``line`` under ``policy``.

    Args:
        line: A decoded rollout line.
        policy: ``"limited"`` (today's persistence filter) or ``"extended"``.

    Returns:
        ``True`` when the line is fed to the reducer (and counted for ``rollout-<n>``).
    """
    match line:
        case ev.EventMsgLine(payload=payload):
            if isinstance(payload, ev.UnknownEvent):
                return False
            if policy == "extended":
                return True
            return type(payload) in _LIMITED_EVENTS or _is_plan_completion(payload)
        case ev.ResponseItemLine(payload=payload):
            dropped = _DROPPED_RESPONSES if policy == "extended" else _LIMITED_DROPPED_RESPONSES
            return type(payload) not in dropped
        case _:
            return isinstance(line, _ALWAYS)
