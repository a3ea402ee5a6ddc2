"""Which decoded lines the history reducer sees, per replay policy and history mode.

Legacy history (no ``history_mode``, or ``"legacy"``): Codex rebuilds turns from events.

* ``"limited"`` is exactly what Codex 0.171.0's ``thread/read`` sees: its persistence filter
  (events that only the old "extended" mode wrote -- exec begin/end, dynamic tools,
  errors, collab calls, view_image, guardian reviews -- are dropped, as are ``Other``
  response items), then its own decoder (:func:`rollout.readable.codex_reads`: a line
  Codex cannot decode is dropped).
* ``"extended"`` (the store and CLI default) keeps every line any Codex could have
  written, so old extended rollouts rebuild their command executions, dynamic tool
  calls, collab calls and failed turns: a documented superset of Codex's view.

Both drop what Codex's reader never yields: ``ghost_snapshot`` items, unknown envelope
types, unknown event types and pre-envelope state records. Implicit turn ids
(``rollout-<index>``) number the lines ``limited`` keeps, exactly as Codex numbers its
filtered list, under both policies: ``extended`` adds items to Codex's turns without
renaming them.

Paginated history (``"paginated"``, Codex 0.152+) is projected from turn boundaries and
``item_completed`` events only (see :mod:`replay.history`); ``"extended"`` also honours a
``thread_rolled_back`` marker there (Codex 0.171.0 reverts paginated threads by writing
a new segment instead, and ignores the marker).

Must not import: store, anything doing I/O.
"""

from __future__ import annotations

from typing import Literal

from rollout import events as ev
from rollout.readable import codex_reads

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
_PAGINATED_EVENTS = frozenset(
    {
        ev.TaskStartedEvent,
        ev.TurnStartedEvent,
        ev.TaskCompleteEvent,
        ev.TurnCompleteEvent,
        ev.TurnAbortedEvent,
        ev.ItemCompletedEvent,
    }
)
_DROPPED_RESPONSES = frozenset({ev.GhostSnapshot})
_LIMITED_DROPPED_RESPONSES = frozenset(
    {ev.GhostSnapshot, ev.CompactionTrigger, ev.UnknownResponseItem}
)
_ALWAYS = (ev.SessionMetaLine, ev.TurnContextLine, ev.CompactedLine, ev.WorldStateLine, ev.TokenUsageRecordLine)


def _is_plan_completion(payload: object) -> bool:
    if not isinstance(payload, ev.ItemCompletedEvent):
        return False
    item = payload.item
    return isinstance(item, dict) and item.get("type") == "Plan"


def keeps(line: object, policy: Policy, *, paginated: bool = False) -> bool:
    """Return whether the reducer sees ``line`` under ``policy``.

    Args:
        line: A decoded rollout line.
        policy: ``"limited"`` (Codex 0.171.0's view) or ``"extended"``.
        paginated: whether the thread's history mode is ``"paginated"``.

    Returns:
        ``True`` when the line is fed to the reducer (under ``"limited"``: and counted for
        ``rollout-<n>``, which both policies number the same way).
    """
    if paginated:
        return _keeps_paginated(line, policy)
    match line:
        case ev.EventMsgLine(payload=payload):
            if isinstance(payload, ev.UnknownEvent):
                return False
            if policy == "extended":
                return True
            known = type(payload) in _LIMITED_EVENTS or _is_plan_completion(payload)
            return known and codex_reads(line)
        case ev.ResponseItemLine(payload=payload):
            dropped = _DROPPED_RESPONSES if policy == "extended" else _LIMITED_DROPPED_RESPONSES
            return type(payload) not in dropped
        case ev.TurnContextLine() if policy == "limited":
            return codex_reads(line)
        case _:
            return isinstance(line, _ALWAYS)


def _keeps_paginated(line: object, policy: Policy) -> bool:
    if isinstance(line, ev.SessionMetaLine):
        return True
    if not isinstance(line, ev.EventMsgLine):
        return False
    payload = line.payload
    if policy == "extended":
        return type(payload) in _PAGINATED_EVENTS or isinstance(payload, ev.ThreadRolledBackEvent)
    return type(payload) in _PAGINATED_EVENTS and codex_reads(line)
