"""rollout.readable: which lines Codex 0.171.0's reader accepts (each rule observed against the binary)."""

from __future__ import annotations

import pytest

from rollout.readable import codex_reads
from tests.strategies import wire_event, wire_line

USAGE = {"input_tokens": 1, "cached_input_tokens": 0, "output_tokens": 1, "reasoning_output_tokens": 0, "total_tokens": 2}
THREAD = "01970000-0000-7000-8000-0000000000ff"


def context(**changes):
    payload = {"cwd": "/w", "approval_policy": "never", "sandbox_policy": {"type": "read-only"}, "model": "m",
               "summary": "auto", **changes}
    return wire_line("turn_context", {key: value for key, value in payload.items() if value is not None})


@pytest.mark.parametrize(("changes", "read"), [
    ({}, True),
    ({"sandbox_policy": {"mode": "read-only"}}, False),  # the old tag
    ({"cwd": "C:\\Users\\w"}, False),  # not absolute on a POSIX host
    ({"cwd": "w"}, False),
    ({"model": None}, False),
    ({"approval_policy": "sometimes"}, False),
    ({"summary": "bogus"}, False),
    ({"summary": None}, True),
    ({"sandbox_policy": None, "permission_profile": {"type": "disabled"}}, True),
    ({"sandbox_policy": None}, False),
    ({"collaboration_mode": {"mode": "weird"}}, False),
])
def test_turn_context_rules(changes, read):
    """A turn_context Codex cannot decode is dropped (and not counted for rollout-<n>)."""
    assert codex_reads(context(**changes)) is read


@pytest.mark.parametrize(("payload", "read"), [
    ({"type": "patch_apply_end", "call_id": "p", "stdout": "", "stderr": "", "success": True, "changes": {}}, False),
    ({"type": "patch_apply_end", "call_id": "p", "stdout": "", "stderr": "", "success": True, "changes": {},
      "status": "completed"}, True),
    ({"type": "mcp_tool_call_end", "call_id": "m", "invocation": {"server": "s", "tool": "t"}, "result": {"Err": "x"}}, False),
    ({"type": "mcp_tool_call_end", "call_id": "m", "invocation": None, "duration": {"secs": 0, "nanos": 0},
      "result": {"Err": "x"}}, False),
    ({"type": "web_search_end", "call_id": "w", "query": "q"}, False),
    ({"type": "turn_aborted", "turn_id": "t"}, False),
    ({"type": "entered_review_mode"}, False),
    ({"type": "exited_review_mode", "review_output": "text"}, False),
    ({"type": "thread_goal_updated", "goal": None}, False),
    ({"type": "token_count", "info": {"total_token_usage": {"total_tokens": 1}}}, False),
    ({"type": "token_count", "info": {"total_token_usage": USAGE, "last_token_usage": USAGE}}, True),
    ({"type": "token_count", "info": None, "rate_limits": {"primary": {"used_percent": "x"}}}, False),
    ({"type": "sub_agent_activity", "event_id": "e", "agent_thread_id": "a", "kind": "started"}, False),
    ({"type": "sub_agent_activity", "event_id": "e", "agent_thread_id": THREAD, "kind": "spawned"}, False),
    ({"type": "sub_agent_activity", "event_id": "e", "agent_thread_id": THREAD, "kind": "started"}, True),
    ({"type": "agent_message", "message": "m", "memory_citation": {"entries": [], "rollout_ids": []}}, False),
    ({"type": "agent_message", "message": "m", "memory_citation": {"entries": [], "rolloutIds": []}}, True),
    ({"type": "item_completed", "thread_id": "t", "turn_id": "x", "item": {"type": "Plan", "id": "p", "text": "x"}}, False),
    ({"type": "item_completed", "thread_id": THREAD, "turn_id": "x", "item": {"type": "Plan", "id": "p", "text": "x"}}, True),
    ({"type": "task_started", "turn_id": "t", "turn_attribution": {"root_turn_id": "x"}}, False),
    ({"type": "task_started", "turn_id": "t", "turn_attribution": {"turn_id": "t"}}, True),
])
def test_event_rules(payload, read):
    """Events missing a field Codex requires, or holding a shape it refuses, are dropped."""
    assert codex_reads(wire_event(payload)) is read


def test_other_lines_are_readable():
    """Lines without a rule pass (response items, world_state, an event built in code)."""
    assert codex_reads(wire_line("world_state", {"full": True, "state": {}}))
    assert codex_reads(wire_line("response_item", {"type": "message", "role": "user", "content": []}))
