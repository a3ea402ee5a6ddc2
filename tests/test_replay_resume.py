"""Resume context (spec 9): base checkpoint, rollbacks by user turn, legacy shapes (TC31, TC32)."""

from __future__ import annotations

import msgspec

from replay import resume_context
from rollout import events as ev
from rollout.codec import encode_payload
from tests.strategies import wire_event as E
from tests.strategies import wire_item as R
from tests.strategies import wire_line

WEBP = "data:image/webp;base64,UklGRg=="


def msg(role, value):
    kind = "output_text" if role == "assistant" else "input_text"
    return {"type": "message", "role": role, "content": [{"type": kind, "text": value}]}


def user_turn(turn_id, prompt, reply, *, model="gpt-5.4"):
    return [
        E({"type": "task_started", "turn_id": turn_id}),
        wire_line("turn_context", {"turn_id": turn_id, "cwd": "/w", "approval_policy": "never",
                                   "sandbox_policy": {"type": "read-only"}, "model": model, "summary": "auto"}),
        R(msg("user", prompt)),
        E({"type": "user_message", "message": prompt, "images": [], "local_images": [], "text_elements": []}),
        R(msg("assistant", reply)),
        E({"type": "task_complete", "turn_id": turn_id}),
    ]


def payloads(context):
    return [msgspec.json.decode(encode_payload(item)) for item in context.items]


def texts(context):
    return [item.content[0].text for item in context.items]


def test_tc31_legacy_js_repl_string_output_and_image_message_survive_in_order():
    """TC31: a string custom_tool_call_output and the standalone image message are replayed verbatim."""
    image = "data:image/png;base64,iVBORw0KGgo="
    lines = [
        wire_line("session_meta", {"id": "t", "timestamp": "2024-01-01T00:00:00.000Z", "cwd": "/w",
                                   "originator": "codex_cli_rs", "cli_version": "0.1.0"}),
        R({"type": "custom_tool_call", "call_id": "legacy-js-call", "name": "js_repl",
           "input": "console.log('legacy image flow')"}),
        R({"type": "custom_tool_call_output", "call_id": "legacy-js-call", "output": "legacy js_repl stdout"}),
        R({"type": "message", "role": "user", "content": [{"type": "input_image", "image_url": image, "detail": "high"}]}),
    ]
    context = resume_context(lines)
    call, output, injected = context.items
    assert (call.call_id, output.output) == ("legacy-js-call", "legacy js_repl stdout")
    assert isinstance(output.output, str)
    assert injected == ev.Message(role="user", content=[ev.InputImage(image_url=image, detail="high")])
    assert all(item is line.payload for item, line in zip(context.items, lines[1:]))


def test_tc32_structured_image_outputs_keep_arrays_and_detail():
    """TC32: function and custom tool outputs holding images stay arrays with detail original."""
    image_output = [{"type": "input_image", "image_url": WEBP, "detail": "original"}]
    lines = [
        R({"type": "function_call", "name": "view_image", "arguments": "{}", "call_id": "view-image-call"}),
        R({"type": "function_call_output", "call_id": "view-image-call", "output": image_output}),
        R({"type": "custom_tool_call", "call_id": "js-repl-call", "name": "js_repl", "input": "show()"}),
        R({"type": "custom_tool_call_output", "call_id": "js-repl-call", "output": image_output}),
    ]
    outputs = [item for item in payloads(resume_context(lines)) if item["type"].endswith("_output")]
    assert [item["output"] for item in outputs] == [image_output, image_output]


def test_newest_replacement_history_is_the_base():
    """Items before the newest compaction are replaced by its replacement_history."""
    lines = [*user_turn("t1", "one", "r1"),
             wire_line("compacted", {"message": "s", "replacement_history": [msg("user", "summary of one")]}),
             *user_turn("t2", "two", "r2")]
    context = resume_context(lines)
    assert texts(context) == ["summary of one", "two", "r2"]
    assert context.base_line == 6


def test_compaction_inside_a_rolled_back_turn_is_not_the_base():
    """A rollback discards the turn holding the newest compaction; the older history stays."""
    compaction = wire_line("compacted", {"message": "s", "replacement_history": [msg("user", "compact")]})
    lines = [*user_turn("t1", "one", "r1"), *user_turn("t2", "two", "r2")[:-1], compaction,
             E({"type": "task_complete", "turn_id": "t2"}), E({"type": "thread_rolled_back", "num_turns": 1})]
    context = resume_context(lines)
    assert context.base_line is None
    assert texts(context) == ["one", "r1"]


def test_rollback_drops_user_turns_and_their_context_updates():
    """thread_rolled_back{n} drops the last n user turns and the settings messages before them."""
    update = R({"type": "message", "role": "developer",
                "content": [{"type": "input_text", "text": "<permissions instructions>x</permissions instructions>"}]})
    lines = [*user_turn("t1", "one", "r1"), update, *user_turn("t2", "two", "r2", model="other"),
             E({"type": "thread_rolled_back", "num_turns": 1})]
    context = resume_context(lines)
    assert texts(context) == ["one", "r1"]
    assert context.turn_context is not None and context.turn_context.model == "gpt-5.4"


def test_rollback_of_everything_keeps_items_before_the_first_user_turn():
    """Rolling back more turns than exist keeps the session prefix (initial context)."""
    prefix = R(msg("user", "<environment_context>\n  <cwd>/w</cwd>\n</environment_context>"))
    lines = [prefix, *user_turn("t1", "one", "r1"), E({"type": "thread_rolled_back", "num_turns": 5})]
    context = resume_context(lines)
    assert texts(context) == ["<environment_context>\n  <cwd>/w</cwd>\n</environment_context>"]
    assert context.turn_context is None


def test_legacy_compaction_rebuilds_user_messages_and_summary():
    """A compacted line without replacement_history keeps user messages plus the summary."""
    lines = [*user_turn("t1", "one", "r1"), *user_turn("t2", "two", "r2"),
             wire_line("compacted", {"message": "what happened"})]
    context = resume_context(lines)
    assert texts(context) == ["one", "two", "what happened"]
    assert context.reinject_context is True


def test_legacy_compaction_with_empty_summary_says_so():
    """An empty legacy summary becomes Codex's placeholder text."""
    assert texts(resume_context([wire_line("compacted", {"message": ""})])) == ["(no summary available)"]


def test_newest_turn_context_and_latest_token_usage_are_returned():
    """turn_context comes from the newest user turn; token_usage is the latest non-null info."""
    usage = {"total_token_usage": {"total_tokens": 42}}
    lines = [*user_turn("t1", "one", "r1"), E({"type": "token_count", "info": usage, "rate_limits": None}),
             *user_turn("t2", "two", "r2", model="gpt-next"), E({"type": "token_count", "info": None})]
    context = resume_context(lines)
    assert context.turn_context.model == "gpt-next"
    assert context.token_usage == usage
    assert context.reinject_context is False


def test_system_messages_and_unknown_items_are_not_sent():
    """System messages, ghost snapshots and unknown response items never reach the model."""
    lines = [R(msg("system", "sys")), R({"type": "ghost_snapshot", "ghost_commit": {}}),
             R({"type": "future_item", "x": 1}), R(msg("user", "hi"))]
    context = resume_context(lines)
    assert [type(item) for item in context.items] == [ev.Message]


def test_empty_rollout_has_an_empty_context():
    """No lines: no items, no settings, full context must be injected."""
    context = resume_context([])
    assert (context.items, context.turn_context, context.reinject_context) == ([], None, True)
