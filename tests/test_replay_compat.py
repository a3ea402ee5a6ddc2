"""Spec section 15 compatibility cases for the history reducer (TC1-TC27, TC37, TC38).

Each case feeds the spec's items in order and compares the exact v2 JSON. "Raw
reducer" expectations use ``running=True`` (no not-running normalisation) and the
extended policy; "app-server view" expectations use ``policy="limited"`` and
``running=False``, as ``thread/read`` does for a thread that is not loaded.
"""

from __future__ import annotations

import uuid

import msgspec

from replay import build_turns
from tests.strategies import agent_line as agent
from tests.strategies import complete_line, started_line, wire_line
from tests.strategies import user_line as user
from tests.strategies import wire_event as E
from tests.strategies import wire_item as R
from tests.v2 import strip


def as_json(turns):
    return strip(msgspec.json.decode(msgspec.json.encode(turns)))


def raw(lines):
    return as_json(build_turns(lines, running=True))


def started(turn_id, **extra):
    return started_line(turn_id, model_context_window=None, collaboration_mode_kind="default", **extra)


def complete(turn_id, **extra):
    return complete_line(turn_id, last_agent_message=None, **extra)


def text(value):
    return {"type": "text", "text": value, "text_elements": []}


def U(item_id, value, client_id=None):
    return {"type": "userMessage", "id": item_id, "clientId": client_id, "content": [text(value)]}


def A(item_id, value, phase=None):
    return {"type": "agentMessage", "id": item_id, "text": value, "phase": phase, "memoryCitation": None}


def turn(turn_id, items, status="completed", **extra):
    return {"id": turn_id, "items": items, "itemsView": "full", "status": status, "error": None,
            "startedAt": None, "completedAt": None, "durationMs": None, **extra}


EXEC_END = {
    "type": "exec_command_end", "call_id": "exec-1", "process_id": "pid-1", "turn_id": "turn-1",
    "completed_at_ms": 0, "command": ["echo", "hello world"], "cwd": "/tmp",
    "parsed_cmd": [{"type": "unknown", "cmd": "echo hello world"}], "source": "agent", "stdout": "",
    "stderr": "", "aggregated_output": "hello world\n", "exit_code": 0,
    "duration": {"secs": 0, "nanos": 12_000_000}, "formatted_output": "", "status": "completed",
}
EXEC_ITEM = {
    "type": "commandExecution", "id": "exec-1", "command": "echo 'hello world'", "cwd": "/tmp",
    "processId": "pid-1", "source": "agent", "status": "completed",
    "commandActions": [{"type": "unknown", "command": "echo hello world"}],
    "aggregatedOutput": "hello world\n", "exitCode": 0, "durationMs": 12,
}
WEB_END = {"type": "web_search_end", "call_id": "search-1", "query": "codex",
           "action": {"type": "search", "query": "codex"}}
WEB_ITEM = {"type": "webSearch", "id": "search-1", "query": "codex",
            "action": {"type": "search", "query": "codex", "queries": None}}
MCP_END = {"type": "mcp_tool_call_end", "call_id": "mcp-1",
           "invocation": {"server": "docs", "tool": "lookup", "arguments": {"id": "123"}},
           "duration": {"secs": 0, "nanos": 8_000_000}, "result": {"Err": "boom"}}
MCP_ITEM = {"type": "mcpToolCall", "id": "mcp-1", "server": "docs", "tool": "lookup", "status": "failed",
            "arguments": {"id": "123"}, "pluginId": None, "result": None, "error": {"message": "boom"},
            "durationMs": 8}
DYN_REQUEST = {"type": "dynamic_tool_call_request", "callId": "dyn-1", "turnId": "turn-1", "startedAtMs": 0,
               "namespace": "codex_app", "tool": "lookup_ticket", "arguments": {"id": "ABC-123"}}
DYN_RESPONSE = {"type": "dynamic_tool_call_response", "call_id": "dyn-1", "turn_id": "turn-1",
                "completed_at_ms": 0, "namespace": "codex_app", "tool": "lookup_ticket",
                "arguments": {"id": "ABC-123"}, "content_items": [{"type": "inputText", "text": "Ticket is open"}],
                "success": True, "error": None, "duration": {"secs": 0, "nanos": 42_000_000}}
DYN_ITEM = {"type": "dynamicToolCall", "id": "dyn-1", "namespace": "codex_app", "tool": "lookup_ticket",
            "arguments": {"id": "ABC-123"}, "status": "completed",
            "contentItems": [{"type": "inputText", "text": "Ticket is open"}], "success": True, "durationMs": 42}


def test_tc1_implicit_turns_merge_reasoning_and_number_items():
    """TC1: implicit turns are rollout-<index>; reasoning summary and raw content merge."""
    lines = [
        user("First turn", images=["https://example.com/one.png"]),
        agent("Hi there"),
        E({"type": "agent_reasoning", "text": "thinking"}),
        E({"type": "agent_reasoning_raw_content", "text": "full reasoning"}),
        user("Second turn"),
        agent("Reply two"),
    ]
    first_user = {"type": "userMessage", "id": "item-1", "clientId": None,
                  "content": [text("First turn"), {"type": "image", "url": "https://example.com/one.png"}]}
    reasoning = {"type": "reasoning", "id": "item-3", "summary": ["thinking"], "content": ["full reasoning"]}
    assert raw(lines) == [
        turn("rollout-0", [first_user, A("item-2", "Hi there"), reasoning]),
        turn("rollout-4", [U("item-4", "Second turn"), A("item-5", "Reply two")]),
    ]


def test_tc2_legacy_image_details_are_kept():
    """TC2: image_details and local_image_details become each input's detail."""
    lines = [user("inspect these", images=["https://example.com/image.png"], image_details=["original"],
                  local_images=["/tmp/local.png"], local_image_details=["original"])]
    content = [text("inspect these"),
               {"type": "image", "url": "https://example.com/image.png", "detail": "original"},
               {"type": "localImage", "path": "/tmp/local.png", "detail": "original"}]
    assert raw(lines) == [turn("rollout-0", [{"type": "userMessage", "id": "item-1", "clientId": None,
                                               "content": content}])]


def _item_started(turn_id, item):
    return E({"type": "item_started", "thread_id": "thread-1", "turn_id": turn_id, "item": item, "started_at_ms": 0})


def test_tc3_non_plan_item_lifecycle_events_are_ignored():
    """TC3: item_started for a UserMessage adds nothing; the turn has one userMessage."""
    lines = [started("turn-1"), user("hello"),
             _item_started("turn-1", {"type": "UserMessage", "id": "user-item-id", "content": []}),
             complete("turn-1")]
    assert raw(lines) == [turn("turn-1", [U("item-1", "hello")])]


def test_tc4_client_id_is_preserved():
    """TC4: user_message.client_id becomes userMessage.clientId."""
    lines = [started("turn-1"), user("hello", client_id="client-message-1"),
             _item_started("turn-1", {"type": "UserMessage", "id": "user-item-id", "content": [],
                                      "client_id": "client-message-1"}),
             complete("turn-1")]
    assert raw(lines) == [turn("turn-1", [U("item-1", "hello", client_id="client-message-1")])]


def test_tc5_agent_phase_is_kept():
    """TC5: a lone agent_message opens an implicit turn and keeps its phase."""
    assert raw([agent("Final reply", phase="final_answer")]) == [
        turn("rollout-0", [A("item-1", "Final reply", phase="final_answer")])
    ]


def test_tc6_image_generation_is_replayed():
    """TC6: image_generation_end becomes an imageGeneration item with savedPath."""
    lines = [started("turn-image"), user("generate an image"),
             E({"type": "image_generation_end", "call_id": "ig_123", "status": "completed",
                "revised_prompt": "final prompt", "result": "Zm9v", "saved_path": "/tmp/ig_123.png"}),
             complete("turn-image")]
    image = {"type": "imageGeneration", "id": "ig_123", "status": "completed", "revisedPrompt": "final prompt",
             "result": "Zm9v", "savedPath": "/tmp/ig_123.png"}
    assert raw(lines) == [turn("turn-image", [U("item-1", "generate an image"), image])]


def test_tc7_reasoning_splits_when_interleaved():
    """TC7: reasoning after an agent message starts a new reasoning item."""
    lines = [user("Turn start"), E({"type": "agent_reasoning", "text": "first summary"}),
             E({"type": "agent_reasoning_raw_content", "text": "first content"}), agent("interlude"),
             E({"type": "agent_reasoning", "text": "second summary"})]
    assert raw(lines) == [turn("rollout-0", [
        U("item-1", "Turn start"),
        {"type": "reasoning", "id": "item-2", "summary": ["first summary"], "content": ["first content"]},
        A("item-3", "interlude"),
        {"type": "reasoning", "id": "item-4", "summary": ["second summary"], "content": []},
    ])]


def test_tc8_abort_interrupts_the_current_implicit_turn():
    """TC8: turn_aborted with an unknown id interrupts the current turn."""
    lines = [user("Please do the thing"), agent("Working..."),
             E({"type": "turn_aborted", "turn_id": "turn-1", "reason": "replaced"}),
             user("Let's try again"), agent("Second attempt complete.")]
    assert raw(lines) == [
        turn("rollout-0", [U("item-1", "Please do the thing"), A("item-2", "Working...")], status="interrupted"),
        turn("rollout-3", [U("item-3", "Let's try again"), A("item-4", "Second attempt complete.")]),
    ]


def test_tc9_rollback_drops_the_newest_turn_and_resets_item_ids():
    """TC9: thread_rolled_back{1} drops a turn; the next item is item-3."""
    lines = [user("First"), agent("A1"), user("Second"), agent("A2"),
             E({"type": "thread_rolled_back", "num_turns": 1}), user("Third"), agent("A3")]
    assert raw(lines) == [
        turn("rollout-0", [U("item-1", "First"), A("item-2", "A1")]),
        turn("rollout-5", [U("item-3", "Third"), A("item-4", "A3")]),
    ]


def test_tc10_rollback_larger_than_history_clears_it():
    """TC10: rolling back more turns than exist leaves no turns."""
    lines = [user("One"), agent("A1"), user("Two"), agent("A2"),
             E({"type": "thread_rolled_back", "num_turns": 99})]
    assert raw(lines) == []


def test_tc11_steering_stays_inside_the_explicit_turn():
    """TC11: a second user_message inside an explicit turn appends to it."""
    lines = [started("turn-a"), user("Start"), user("Steer"), complete("turn-a")]
    assert raw(lines) == [turn("turn-a", [U("item-1", "Start"), U("item-2", "Steer")])]


def test_tc12_tool_completions_in_a_legacy_extended_file():
    """TC12: web search, exec and MCP ends become items; the app-server view drops exec."""
    lines = [started("turn-1"), user("run tools"), E(WEB_END), E(EXEC_END), E(MCP_END)]
    assert raw(lines) == [turn("turn-1", [U("item-1", "run tools"), WEB_ITEM, EXEC_ITEM, MCP_ITEM],
                               status="inProgress")]
    app_view = as_json(build_turns(lines, policy="limited"))
    assert app_view == [turn("turn-1", [U("item-1", "run tools"), WEB_ITEM, MCP_ITEM], status="interrupted")]


def test_tc13_mcp_success_keeps_meta_uri_and_plugin():
    """TC13: an Ok MCP result is completed with content, structuredContent and _meta."""
    meta = {"ui/resourceUri": "ui://widget/lookup.html"}
    end = {**MCP_END, "mcp_app_resource_uri": "ui://widget/lookup.html", "plugin_id": "sample@test",
           "result": {"Ok": {"content": [{"type": "text", "text": "result"}], "structuredContent": {"id": "123"},
                             "isError": False, "_meta": meta}}}
    lines = [started("turn-1"), user("look"), E(end), complete("turn-1")]
    item = {**MCP_ITEM, "status": "completed", "mcpAppResourceUri": "ui://widget/lookup.html",
            "pluginId": "sample@test", "error": None,
            "result": {"content": [{"type": "text", "text": "result"}], "structuredContent": {"id": "123"},
                       "_meta": meta}}
    assert raw(lines)[0]["items"][1] == item


def test_tc14_dynamic_tool_request_and_response_merge():
    """TC14: request + response make one dynamicToolCall; the app-server view has none."""
    lines = [started("turn-1"), user("ticket"), E(DYN_REQUEST), E(DYN_RESPONSE)]
    assert raw(lines)[0]["items"] == [U("item-1", "ticket"), DYN_ITEM]
    assert as_json(build_turns(lines, policy="limited"))[0]["items"] == [U("item-1", "ticket")]


def test_tc14_dynamic_tool_request_alone_is_in_progress():
    """TC14: with only the request the call is inProgress with null outcome fields."""
    lines = [started("turn-1"), user("ticket"), E(DYN_REQUEST)]
    pending = {**DYN_ITEM, "status": "inProgress", "contentItems": None, "success": None, "durationMs": None}
    assert raw(lines)[0]["items"][1] == pending


def test_tc14_dynamic_tool_failure_and_images():
    """TC14: success false means failed; image content items keep their URL."""
    response = {**DYN_RESPONSE, "success": False,
                "content_items": [{"type": "inputImage", "imageUrl": "data:image/png;base64,AA=="}]}
    lines = [started("turn-1"), user("ticket"), E(DYN_REQUEST), E(response)]
    item = raw(lines)[0]["items"][1]
    assert item["status"] == "failed" and item["success"] is False
    assert item["contentItems"] == [{"type": "inputImage", "imageUrl": "data:image/png;base64,AA=="}]


def test_tc15_declined_exec_and_patch():
    """TC15: declined exec and patch keep status declined and their outputs."""
    exec_end = {**EXEC_END, "status": "declined", "exit_code": -1, "duration": {"secs": 0, "nanos": 0},
                "aggregated_output": "exec command rejected by user"}
    patch_end = {"type": "patch_apply_end", "call_id": "patch-declined", "turn_id": "turn-1", "stdout": "",
                 "stderr": "", "success": False, "changes": {"README.md": {"type": "add", "content": "hello\n"}},
                 "status": "declined"}
    lines = [started("turn-1"), user("go"), E(exec_end), E(patch_end), complete("turn-1")]
    command, change = raw(lines)[0]["items"][1:]
    assert command == {**EXEC_ITEM, "status": "declined", "exitCode": -1, "durationMs": 0,
                       "aggregatedOutput": "exec command rejected by user"}
    assert change == {"type": "fileChange", "id": "patch-declined", "status": "declined",
                      "changes": [{"path": "README.md", "kind": {"type": "add"}, "diff": "hello\n"}]}


def _guardian(status, action):
    return E({"type": "guardian_assessment", "id": "review-guardian-exec", "target_item_id": "guardian-exec",
              "turn_id": "turn-1", "status": status, "action": action})


def test_tc16_guardian_denied_command_is_declined():
    """TC16: in_progress then denied guardian reviews make one declined commandExecution."""
    action = {"type": "command", "source": "shell", "command": "rm -rf /tmp/guardian", "cwd": "/tmp"}
    lines = [started("turn-1"), user("clean"), _guardian("in_progress", action), _guardian("denied", action)]
    assert raw(lines)[0]["items"][1:] == [{
        "type": "commandExecution", "id": "guardian-exec", "command": "rm -rf /tmp/guardian", "cwd": "/tmp",
        "processId": None, "source": "agent", "status": "declined",
        "commandActions": [{"type": "unknown", "command": "rm -rf /tmp/guardian"}],
        "aggregatedOutput": None, "exitCode": None, "durationMs": None,
    }]


def test_tc16_guardian_execve_replaces_argv0_with_program():
    """TC16: an execve action still in progress shows program + argv[1:]."""
    action = {"type": "execve", "source": "shell", "program": "/bin/rm",
              "argv": ["/usr/bin/rm", "-f", "/tmp/file.sqlite"], "cwd": "/tmp"}
    item = raw([started("turn-1"), user("clean"), _guardian("in_progress", action)])[0]["items"][1]
    assert (item["command"], item["status"]) == ("/bin/rm -f /tmp/file.sqlite", "inProgress")


def _two_turns_with_late_exec(target):
    late = {**EXEC_END, "turn_id": target}
    return [started("turn-a"), user("first"), complete("turn-a"),
            started("turn-b"), user("second"), E(late), complete("turn-b")]


def test_tc17_late_exec_completion_goes_to_its_own_turn():
    """TC17: exec_command_end for turn-a arriving during turn-b lands in turn-a."""
    turn_a, turn_b = raw(_two_turns_with_late_exec("turn-a"))
    assert turn_a["items"] == [U("item-1", "first"), EXEC_ITEM]
    assert turn_b["items"] == [U("item-2", "second")]


def test_tc18_turn_scoped_item_for_unknown_turn_is_dropped():
    """TC18: an exec end naming an unknown turn is dropped."""
    turn_a, turn_b = raw(_two_turns_with_late_exec("turn-missing"))
    assert turn_a["items"] == [U("item-1", "first")]
    assert turn_b["items"] == [U("item-2", "second")]


def test_tc19_late_task_complete_does_not_close_the_current_turn():
    """TC19: task_complete for an older turn leaves the current turn open."""
    lines = [started("turn-a"), user("first"), complete("turn-a"), started("turn-b"), user("second"),
             complete("turn-a"), agent("still in b"), complete("turn-b")]
    turns = raw(lines)
    assert [t["id"] for t in turns] == ["turn-a", "turn-b"]
    assert turns[1]["items"] == [U("item-2", "second"), A("item-3", "still in b")]


def test_tc20_late_turn_aborted_interrupts_the_older_turn():
    """TC20: turn_aborted for turn-a interrupts it; turn-b stays inProgress (interrupted when not running)."""
    lines = [started("turn-a"), user("first"), complete("turn-a"), started("turn-b"), user("second"),
             E({"type": "turn_aborted", "turn_id": "turn-a", "reason": "replaced"}), agent("still in b")]
    turn_a, turn_b = raw(lines)
    assert (turn_a["status"], turn_b["status"], len(turn_b["items"])) == ("interrupted", "inProgress", 2)
    assert [t["status"] for t in as_json(build_turns(lines))] == ["interrupted", "interrupted"]


def test_tc21_compaction_only_turn_is_kept():
    """TC21: an explicit turn holding only a compaction is kept with no items."""
    lines = [started("turn-compact"), wire_line("compacted", {"message": ""}), complete("turn-compact")]
    assert raw(lines) == [turn("turn-compact", [])]


def test_tc21_legacy_implicit_compaction_is_kept():
    """TC21: a lone legacy compacted line yields a kept, empty implicit turn."""
    assert raw([wire_line("compacted", {"message": "summary"})]) == [turn("rollout-0", [])]


def test_tc22_interrupted_send_input_collab_call_is_completed():
    """TC22: an interrupted receiver still makes sendInput completed."""
    base = {"call_id": "send-1", "sender_thread_id": "sender", "receiver_thread_id": "receiver", "prompt": "new task"}
    lines = [user("redirect"), E({"type": "collab_agent_interaction_begin", **base}),
             E({"type": "collab_agent_interaction_end", **base, "status": "interrupted"})]
    assert raw(lines)[0]["items"][1] == {
        "type": "collabAgentToolCall", "id": "send-1", "tool": "sendInput", "status": "completed",
        "senderThreadId": "sender", "receiverThreadIds": ["receiver"], "prompt": "new task", "model": None,
        "reasoningEffort": None, "agentsStates": {"receiver": {"status": "interrupted", "message": None}},
    }


def test_tc23_rollback_failed_error_does_not_fail_the_turn():
    """TC23: an error with thread_rollback_failed leaves the turn completed."""
    lines = [user("hi"), agent("hello"),
             E({"type": "error", "message": "rollback failed", "codex_error_info": "thread_rollback_failed"})]
    assert raw(lines) == [turn("rollout-0", [U("item-1", "hi"), A("item-2", "hello")])]


def test_tc24_error_outside_a_turn_is_ignored():
    """TC24: an error after the turn completed creates nothing."""
    lines = [started("turn-a"), user("hi"), complete("turn-a"),
             E({"type": "error", "message": "bad", "codex_error_info": "bad_request"})]
    assert raw(lines) == [turn("turn-a", [U("item-1", "hi")])]


def test_tc25_error_then_completion_keeps_failed():
    """TC25: a turn that errored stays failed after task_complete, with the camelCase error."""
    info = {"response_stream_disconnected": {"http_status_code": 502}}
    lines = [started("turn-a"), user("hi"), E({"type": "error", "message": "stream failure", "codex_error_info": info}),
             complete("turn-a")]
    error = {"message": "stream failure", "codexErrorInfo": {"responseStreamDisconnected": {"httpStatusCode": 502}},
             "additionalDetails": None}
    assert raw(lines) == [turn("turn-a", [U("item-1", "hi")], status="failed", error=error)]


def test_tc26_hook_prompt_response_item_becomes_an_item():
    """TC26: a user message made of hook_prompt fragments becomes hookPrompt (id: a UUID)."""
    content = [{"type": "input_text", "text": '<hook_prompt hook_run_id="hook-run-1">Retry with tests.</hook_prompt>'},
               {"type": "input_text", "text": '<hook_prompt hook_run_id="hook-run-2">Then summarize cleanly.</hook_prompt>'}]
    lines = [started("turn-a"), user("hello"), R({"type": "message", "role": "user", "content": content}),
             complete("turn-a")]
    items = raw(lines)[0]["items"]
    assert items[0] == U("item-1", "hello")
    hook = items[1]
    uuid.UUID(hook.pop("id"))
    assert hook == {"type": "hookPrompt", "fragments": [{"text": "Retry with tests.", "hookRunId": "hook-run-1"},
                                                       {"text": "Then summarize cleanly.", "hookRunId": "hook-run-2"}]}


def test_tc27_plain_user_response_item_is_not_an_item():
    """TC27: a plain user response item adds nothing; the explicit turn is kept empty."""
    lines = [started("turn-a"), R({"type": "message", "role": "user",
                                   "content": [{"type": "input_text", "text": "plain text"}]}), complete("turn-a")]
    assert raw(lines) == [turn("turn-a", [])]


def test_tc37_crashed_turn_is_in_progress_raw_and_interrupted_when_not_loaded():
    """TC37: a turn with no completion is inProgress raw and interrupted for a not-running thread."""
    lines = [started("t-1"), user("go"), agent("partial")]
    assert raw(lines)[0]["status"] == "inProgress"
    assert as_json(build_turns(lines, running=False))[0]["status"] == "interrupted"


def test_tc38_fork_of_a_mid_turn_source_rebuilds_the_turn_interrupted():
    """TC38: a fork copy ending with the interruption marker and turn_aborted rebuilds t-9 interrupted."""
    meta = {"id": "fork-id", "forked_from_id": "source-id", "timestamp": "2026-06-01T12:00:00.000Z", "cwd": "/w",
            "originator": "codex_cli_rs", "cli_version": "0.140.0", "source": "cli"}
    source = [started("t-8"), user("earlier"), complete("t-8"), started("t-9"), user("partial work"), agent("half")]
    marker = R({"type": "message", "role": "user",
                "content": [{"type": "input_text", "text": "<turn_aborted>\ninterrupted\n</turn_aborted>"}]})
    fork = [wire_line("session_meta", meta), *source, marker,
            E({"type": "turn_aborted", "turn_id": "t-9", "reason": "interrupted"})]
    turns = raw(fork)
    assert [(t["id"], t["status"]) for t in turns] == [("t-8", "completed"), ("t-9", "interrupted")]
    assert turns[1]["items"] == [U("item-2", "partial work"), A("item-3", "half")]
