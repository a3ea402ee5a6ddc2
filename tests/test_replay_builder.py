"""HistoryBuilder behaviour beyond the spec cases: policies, views, state, spans, item shapes."""

from __future__ import annotations

import msgspec
import pytest

from replay import HistoryBuilder, MidTurn, build_turns, fork_end, rollback_start, turn_boundaries
from replay.shell import join_command
from rollout.errors import CorruptLog, InvalidInput
from tests.strategies import agent_line as agent
from tests.strategies import complete_line as complete
from tests.strategies import started_line as started
from tests.strategies import user_line as user
from tests.strategies import wire_event as E
from tests.strategies import wire_item as R
from tests.strategies import wire_line
from tests.v2 import strip


def as_json(value):
    return strip(msgspec.json.decode(msgspec.json.encode(value)))


def items_of(lines, **options):
    return as_json(build_turns(lines, running=True, **options))[0]["items"]


def test_implicit_turns_number_the_lines_codex_reads_under_both_policies():
    """Lines Codex filters out are not counted, so extended turns keep Codex's rollout-<n> ids."""
    exec_end = E({"type": "exec_command_end", "call_id": "c", "turn_id": "x", "command": ["ls"], "cwd": "/"})
    lines = [exec_end, exec_end, user("hi")]
    assert [t.id for t in build_turns(lines)] == ["rollout-0"]
    assert [t.id for t in build_turns(lines, policy="limited")] == ["rollout-0"]


def test_unknown_events_and_lines_are_neither_reduced_nor_counted():
    """Lines Codex cannot decode (unknown event types) do not shift implicit turn ids."""
    lines = [E({"type": "future_event", "x": 1}), user("hi")]
    assert [t.id for t in build_turns(lines)] == ["rollout-0"]


def test_summary_view_keeps_first_user_and_last_agent_message():
    """itemsView summary: first userMessage and last agentMessage only; notLoaded: none."""
    lines = [started("t"), user("a"), agent("b"), user("c"), agent("d"), complete("t")]
    summary = as_json(build_turns(lines, items_view="summary"))[0]
    assert [item["text"] if "text" in item else item["content"][0]["text"] for item in summary["items"]] == ["a", "d"]
    assert summary["itemsView"] == "summary"
    assert as_json(build_turns(lines, items_view="notLoaded"))[0]["items"] == []


def test_unknown_policy_or_view_is_rejected():
    """A policy or items view outside the documented values raises InvalidInput."""
    with pytest.raises(InvalidInput):
        HistoryBuilder("everything")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        HistoryBuilder().snapshot(items_view="some")  # type: ignore[arg-type]


def test_snapshot_reuses_unchanged_finished_turns():
    """Finished turns that did not change are the same objects across snapshots."""
    builder = HistoryBuilder().feed_many([started("a"), user("x"), complete("a"), started("b")])
    first = builder.snapshot()
    builder.feed(user("y"))
    second = builder.snapshot()
    assert second[0] is first[0] and second[1] is not first[1]


def test_late_completion_updates_the_finished_turn_and_its_timestamps():
    """task_complete for an older turn completes it (with timestamps) without closing the current one."""
    lines = [started("a"), user("x"), started("b"), complete("a", completed_at=7, duration_ms=3), user("y")]
    turn_a, turn_b = as_json(build_turns(lines, running=True))
    assert (turn_a["status"], turn_a["completedAt"], turn_a["durationMs"]) == ("completed", 7, 3)
    assert (turn_b["status"], len(turn_b["items"])) == ("inProgress", 1)


def test_dump_and_load_round_trip_the_builder_state():
    """A loaded builder continues exactly like the original."""
    lines = [user("one"), agent("a"), started("t"), user("two")]
    builder = HistoryBuilder("limited").feed_many(lines)
    loaded = HistoryBuilder.load(builder.dump())
    for target in (builder, loaded):
        target.feed_many([agent("b"), complete("t"), E({"type": "thread_rolled_back", "num_turns": 1}), user("3")])
    assert loaded.snapshot() == builder.snapshot() and loaded.policy == "limited"
    assert loaded.spans() == builder.spans() and loaded.lines_seen == builder.lines_seen


def test_implicit_turn_span_starts_at_the_response_items_before_its_user_message():
    """A legacy turn's span starts at the response items that precede its user_message."""
    lines = [R({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "one"}]}), user("one"),
             agent("a"),
             R({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "two"}]}), user("two")]
    spans = turn_boundaries(lines)
    assert [(s.turn_id, s.start, s.end) for s in spans] == [("rollout-1", 0, 3), ("rollout-4", 3, 5)]


def test_fork_end_and_rollback_start_follow_the_spans():
    """lines[:fork_end(k)] replays the first k+1 turns; rollback_start is the first hidden line."""
    lines = [wire_line("session_meta", {"id": "t1"}), started("a"), user("x"), complete("a"), started("b"), user("y"),
             complete("b"), E({"type": "token_count", "info": None}), started("c"), user("z")]
    spans = turn_boundaries(lines)
    assert [t.id for t in build_turns(lines[: fork_end(spans, 1)])] == ["a", "b"]
    assert fork_end(spans, "a") == 4 and fork_end(spans, -1) == len(lines)
    assert rollback_start(spans, 2) == 4 and rollback_start(spans, 0) is None
    with pytest.raises(InvalidInput):
        fork_end(spans, "missing")


def test_exec_begin_then_end_upsert_one_item_with_command_actions():
    """Begin and end share the call id; read paths are joined onto the cwd."""
    begin = {"type": "exec_command_begin", "call_id": "c1", "turn_id": "t", "command": ["cat", "a.py"],
             "cwd": "/repo", "parsed_cmd": [{"type": "read", "cmd": "cat a.py", "name": "a.py", "path": "a.py"},
                                            {"type": "list_files", "cmd": "ls", "path": None},
                                            {"type": "search", "cmd": "rg x", "query": "x", "path": "src"}]}
    end = {**begin, "type": "exec_command_end", "exit_code": 1, "aggregated_output": "",
           "duration": {"secs": 1, "nanos": 500_000_000}, "status": "failed", "source": "user_shell"}
    in_progress = items_of([started("t"), E(begin)])[0]
    assert (in_progress["status"], in_progress["exitCode"], in_progress["durationMs"]) == ("inProgress", None, None)
    (item,) = items_of([started("t"), E(begin), E(end)])
    assert item["commandActions"] == [
        {"type": "read", "command": "cat a.py", "name": "a.py", "path": "/repo/a.py"},
        {"type": "listFiles", "command": "ls", "path": None},
        {"type": "search", "command": "rg x", "query": "x", "path": "src"},
    ]
    assert (item["status"], item["source"], item["aggregatedOutput"], item["durationMs"]) == (
        "failed", "userShell", None, 1500)


def test_file_change_update_with_move_is_sorted_and_annotated():
    """Changes are sorted by path; a moved update carries move_path and a 'Moved to' note."""
    end = {"type": "patch_apply_end", "call_id": "p", "turn_id": "", "success": True, "status": "completed",
           "changes": {"z.txt": {"type": "delete", "content": "old"},
                       "a.txt": {"type": "update", "unified_diff": "@@ -1 +1 @@", "move_path": "b.txt"}}}
    (item,) = items_of([E(end)])
    assert item["changes"] == [
        {"path": "a.txt", "kind": {"type": "update", "move_path": "b.txt"}, "diff": "@@ -1 +1 @@\n\nMoved to: b.txt"},
        {"path": "z.txt", "kind": {"type": "delete"}, "diff": "old"},
    ]


def test_collab_spawn_and_wait_items():
    """spawnAgent completes with the new thread; wait fails when an agent errored, receivers sorted."""
    spawn = {"call_id": "s", "sender_thread_id": "me", "prompt": "go", "model": "m", "reasoning_effort": "high"}
    wait = {"call_id": "w", "sender_thread_id": "me", "receiver_thread_ids": ["b", "a"]}
    statuses = {"b": {"completed": "done"}, "a": {"errored": "boom"}}
    lines = [E({"type": "collab_agent_spawn_begin", **spawn}),
             E({"type": "collab_agent_spawn_end", **spawn, "new_thread_id": "child", "status": "running"}),
             E({"type": "collab_waiting_begin", **wait}),
             E({"type": "collab_waiting_end", **wait, "statuses": statuses}),
             E({"type": "collab_close_end", "call_id": "c", "sender_thread_id": "me", "receiver_thread_id": "a",
                "status": "not_found"})]
    spawned, waited, closed = items_of(lines)
    assert (spawned["status"], spawned["receiverThreadIds"], spawned["model"]) == ("completed", ["child"], "m")
    assert spawned["agentsStates"] == {"child": {"status": "running", "message": None}}
    assert (waited["status"], waited["receiverThreadIds"]) == ("failed", ["a", "b"])
    assert waited["agentsStates"]["b"] == {"status": "completed", "message": "done"}
    assert (closed["tool"], closed["status"], closed["prompt"]) == ("closeAgent", "failed", None)


def test_review_mode_sub_agent_plan_and_image_view_items():
    """Review items use item-N ids and Codex's fallback texts; other items use their event ids."""
    lines = [started("t"), E({"type": "entered_review_mode", "target": {"type": "uncommittedChanges"}}),
             E({"type": "exited_review_mode", "review_output": {"overall_explanation": "  fine  "}}),
             E({"type": "exited_review_mode", "review_output": None}),
             E({"type": "sub_agent_activity", "event_id": "e1", "occurred_at_ms": 1, "agent_thread_id": "child",
                "agent_path": "/root/child", "kind": "started"}),
             E({"type": "item_completed", "thread_id": "x", "turn_id": "t", "item": {"type": "Plan", "id": "p",
                                                                                      "text": "1. do"}}),
             E({"type": "view_image_tool_call", "call_id": "v", "path": "/tmp/a.png"})]
    assert items_of(lines) == [
        {"type": "enteredReviewMode", "id": "item-1", "review": "Review requested."},
        {"type": "exitedReviewMode", "id": "item-2", "review": "fine"},
        {"type": "exitedReviewMode", "id": "item-3", "review": "Reviewer failed to output a response."},
        {"type": "subAgentActivity", "id": "e1", "kind": "started", "agentThreadId": "child",
         "agentPath": "/root/child", "completedAtMs": 1},  # Codex shows occurred_at_ms as completedAtMs
        {"type": "plan", "id": "p", "text": "1. do"},
        {"type": "imageView", "id": "v", "path": "/tmp/a.png"},
    ]


def test_web_search_and_mcp_begin_are_in_progress_until_their_end():
    """Begin events make placeholder items that the end event replaces in place."""
    lines = [started("t"), E({"type": "web_search_begin", "call_id": "w"}),
             E({"type": "mcp_tool_call_begin", "call_id": "m", "invocation": {"server": "s", "tool": "t"}})]
    web, mcp = items_of(lines)
    assert web == {"type": "webSearch", "id": "w", "query": "", "action": None}
    assert (mcp["status"], mcp["arguments"], mcp["result"]) == ("inProgress", None, None)


def test_error_without_info_fails_the_turn_but_not_steerable_does_not():
    """Errors fail the current turn unless their info is a non-turn kind."""
    failed = [started("t"), E({"type": "error", "message": "x"})]
    kept = [started("t"), E({"type": "error", "message": "x",
                             "codex_error_info": {"active_turn_not_steerable": {"turn_kind": "review"}}})]
    assert as_json(build_turns(failed, running=True))[0]["error"] == {
        "message": "x", "codexErrorInfo": None, "additionalDetails": None}
    assert as_json(build_turns(kept, running=True))[0]["status"] == "inProgress"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["echo", "hello world"], "echo 'hello world'"),
        (["printf", "it's"], 'printf "it\'s"'),
        (["a", ""], "a ''"),
        (["x", "$HOME"], "x '$HOME'"),
        (["x", "a\\b"], 'x "a\\\\b"'),
        (["x", "^a"], "x '^a'"),
        (["bad\0arg"], "bad\0arg"),
    ],
)
def test_commands_are_joined_with_rust_shlex_quoting(argv, expected):
    """argv is joined the way Codex's shlex crate quotes words (NUL falls back to spaces)."""
    assert join_command(argv) == expected


def test_loading_bytes_that_are_not_a_builder_state_raises_corrupt_log():
    """HistoryBuilder.load translates msgpack errors into CorruptLog."""
    with pytest.raises(CorruptLog):
        HistoryBuilder.load(b"\xc1not msgpack")


def test_hook_prompt_ids_are_stable_across_rebuilds():
    """A hook prompt without a persisted id gets the same UUID on every rebuild of the same lines."""
    hook = R({"type": "message", "role": "user",
              "content": [{"type": "input_text", "text": '<hook_prompt hook_run_id="h">Go.</hook_prompt>'}]})
    lines = [started("t"), user("hi"), hook]
    assert build_turns(lines)[0].items[1].id == build_turns(lines)[0].items[1].id


def _said(text):
    return R({"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]})


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([], None),
        ([started("t1"), user("a")], MidTurn("t1")),
        ([started("t1"), user("a"), complete("t1")], None),
        ([started("t1"), user("a"), E({"type": "turn_aborted", "turn_id": "t1", "reason": "interrupted"})], None),
        ([_said("a"), user("a"), agent("b")], MidTurn(None)),
        ([_said("a"), user("a"), agent("b"), complete("t1")], None),
        ([_said("<environment_context>x</environment_context>"), agent("b")], None),
        ([_said("a"), complete("t1"), _said("b"), E({"type": "thread_rolled_back", "num_turns": 1})], None),
        ([_said("a"), _said("b"), E({"type": "thread_rolled_back", "num_turns": 1})], MidTurn(None)),
    ],
    ids=["empty", "explicit-open", "explicit-done", "explicit-aborted", "legacy-open", "legacy-done",
         "no-real-user-message", "rolled-back-to-done", "rolled-back-to-open"],
)
def test_mid_turn_is_codexs_fork_rule(lines, expected):
    """A fork ends mid-turn inside an explicit turn in progress, or after a real user message nothing completed."""
    builder = HistoryBuilder().feed_many(lines)
    assert builder.mid_turn == expected
    assert HistoryBuilder.load(builder.dump()).mid_turn == expected
