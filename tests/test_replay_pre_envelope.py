"""Pre-envelope (2025) files: turns rebuilt from their response items (Codex says "rollout is empty")."""

from __future__ import annotations

import json

from replay import HistoryBuilder, build_turns
from rollout.codec import decode_line
from rollout.compat import is_pre_envelope_header, upcast


def bare(obj):
    return decode_line(json.dumps(obj).encode())


FILE = [
    bare({"id": "0199ba23-1445-7403-9975-b3c8aad1c0df", "timestamp": "2025-09-24T02:55:32.000Z", "instructions": None}),
    bare({"record_type": "state"}),
    bare({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "<environment_context>\n<cwd>/w</cwd>\n</environment_context>"}]}),
    bare({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list files"}]}),
    bare({"type": "reasoning", "summary": [{"type": "summary_text", "text": "use ls"}], "encrypted_content": None}),
    bare({"type": "function_call", "name": "shell", "arguments": json.dumps({"command": ["ls", "-a"], "workdir": "/w"}), "call_id": "c1"}),
    bare({"type": "function_call_output", "call_id": "c1", "output": json.dumps({"output": "a\nb\n", "metadata": {"exit_code": 0, "duration_seconds": 0.25}})}),
    bare({"type": "function_call", "name": "docs__lookup", "arguments": "{\"q\": 1}", "call_id": "c2"}),
    bare({"type": "function_call_output", "call_id": "c2", "output": "found"}),
    bare({"type": "function_call", "name": "update_plan", "arguments": "{}", "call_id": "c3"}),
    bare({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "two files"}]}),
    bare({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "thanks"}]}),
]


def kind(item):
    return item.__struct_config__.tag


def test_pre_envelope_file_rebuilds_turns_from_messages_and_calls():
    """Each real user message opens a turn; reasoning, shell and MCP calls and replies become items."""
    turns = build_turns(FILE, policy="limited")
    assert [turn.id for turn in turns] == ["rollout-2", "rollout-10"]  # state records are not counted
    first = turns[0].items
    assert [kind(item) for item in first] == ["userMessage", "reasoning", "commandExecution", "mcpToolCall", "agentMessage"]
    command = first[2]
    assert (command.command, command.cwd, command.status, command.exit_code, command.duration_ms,
            command.aggregated_output) == ("ls -a", "/w", "completed", 0, 250, "a\nb\n")
    assert (first[3].server, first[3].tool, first[3].status) == ("docs", "lookup", "completed")
    assert [kind(item) for item in turns[1].items] == ["userMessage"]


def test_upcast_header_is_still_recognised():
    """An upcast header (timestamped, no originator or cli_version) still marks a pre-envelope file."""
    upcast_lines = upcast(FILE)
    assert is_pre_envelope_header(upcast_lines[0])
    assert [turn.id for turn in build_turns(upcast_lines)] == [turn.id for turn in build_turns(FILE)]


def test_pending_calls_survive_a_builder_dump():
    """A call waiting for its output is kept in the builder's persisted state."""
    builder = HistoryBuilder().feed_many(FILE[:6])
    restored = HistoryBuilder.load(builder.dump()).feed_many(FILE[6:])
    assert restored.snapshot() == build_turns(FILE)
