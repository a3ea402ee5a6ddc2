"""Hypothesis strategies for every rollout line type, legacy shapes, unknowns and hostile bytes.

Sections: content and payloads, lines, legacy shapes, unknown data, hostile bytes.
Replay strategies (valid event sequences) live in their own marked section below.
"""

from __future__ import annotations

import json

from hypothesis import strategies as st

from rollout import events as ev

# --------------------------------------------------------------------------- scalars

text = st.text(max_size=40)
short_id = st.text(alphabet="abcdef0123456789-", min_size=1, max_size=12)
opt_text = st.none() | text
timestamps = st.builds(
    "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z".format,
    st.integers(2024, 2027),
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
    st.integers(0, 999),
)
json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | text
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=8,
)
# Field names that no modelled struct uses, for unknown-field tests.
unknown_keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=8).map(
    lambda s: f"x_future_{s}"
)

# --------------------------------------------------------------------------- content

input_text = st.builds(ev.InputText, text=text)
input_image = st.builds(
    ev.InputImage,
    image_url=st.sampled_from(["https://example.com/a.png", "data:image/png;base64,iVBORw0KGgo="]),
    detail=st.none() | st.sampled_from(["auto", "low", "high", "original"]),
)
output_text = st.builds(ev.OutputText, text=text)
encrypted = st.builds(ev.EncryptedContent, encrypted_content=text)
content_items = st.one_of(input_text, input_image, output_text)
# Both output shapes: plain text (the legacy custom-tool shape too) or a list of items.
tool_outputs = text | st.lists(st.one_of(input_text, input_image, encrypted), max_size=3)

# --------------------------------------------------------------------------- response items

response_items = st.one_of(
    st.builds(
        ev.Message,
        role=st.sampled_from(["user", "assistant", "developer", "system"]),
        content=st.lists(content_items, max_size=3),
        phase=st.none() | st.sampled_from(["commentary", "final_answer"]),
    ),
    st.builds(
        ev.Reasoning,
        summary=st.lists(st.builds(ev.SummaryText, text=text), max_size=2),
        content=st.none() | st.lists(st.builds(ev.ReasoningText, text=text), max_size=2),
        encrypted_content=opt_text,
    ),
    st.builds(ev.FunctionCall, name=text, arguments=text, call_id=short_id, namespace=opt_text),
    st.builds(ev.FunctionCallOutput, call_id=short_id, output=tool_outputs),
    st.builds(ev.CustomToolCall, call_id=short_id, name=text, input=text, status=opt_text),
    st.builds(ev.CustomToolCallOutput, call_id=short_id, output=tool_outputs, name=opt_text),
    st.builds(ev.LocalShellCall, call_id=st.none() | short_id, status=opt_text, action=json_values),
    st.builds(ev.WebSearchCall, status=opt_text, action=st.none() | st.just({"type": "search", "query": "q"})),
    st.builds(ev.ToolSearchCall, call_id=short_id, execution=opt_text, arguments=json_values),
    st.builds(ev.ToolSearchOutput, call_id=short_id, tools=st.lists(json_values, max_size=2)),
    st.builds(ev.ImageGenerationCall, id=short_id, status=opt_text, result=text),
    st.builds(ev.Compaction, encrypted_content=text),
    st.builds(ev.CompactionSummary, encrypted_content=text),
    st.builds(ev.ContextCompaction, encrypted_content=opt_text),
    st.builds(ev.GhostSnapshot, ghost_commit=json_values),
)

# --------------------------------------------------------------------------- events

events = st.one_of(
    st.builds(ev.TaskStartedEvent, turn_id=short_id, started_at=st.none() | st.integers(0, 2**40)),
    st.builds(ev.TurnStartedEvent, turn_id=short_id),
    st.builds(ev.TaskCompleteEvent, turn_id=short_id, last_agent_message=opt_text),
    st.builds(ev.TurnCompleteEvent, turn_id=short_id),
    st.builds(ev.TurnAbortedEvent, turn_id=st.none() | short_id, reason=st.sampled_from(["interrupted", "replaced"])),
    st.builds(
        ev.UserMessageEvent,
        message=text,
        images=st.none() | st.lists(text, max_size=2),
        local_images=st.lists(text, max_size=2),
        client_id=opt_text,
    ),
    st.builds(ev.AgentMessageEvent, message=text, phase=st.none() | st.just("final_answer")),
    st.builds(ev.AgentReasoningEvent, text=text),
    st.builds(ev.AgentReasoningRawContentEvent, text=text),
    st.builds(ev.TokenCountEvent, info=json_values, rate_limits=json_values),
    st.builds(ev.ContextCompactedEvent),
    st.builds(ev.ThreadRolledBackEvent, num_turns=st.integers(1, 5)),
    st.builds(ev.ErrorEvent, message=text, codex_error_info=json_values),
    st.builds(
        ev.ExecCommandEndEvent,
        call_id=short_id,
        turn_id=short_id,
        command=st.lists(text, max_size=3),
        exit_code=st.integers(-1, 255),
        duration=st.none() | st.builds(ev.Duration, secs=st.integers(0, 100), nanos=st.integers(0, 999_999_999)),
    ),
    st.builds(ev.PatchApplyEndEvent, call_id=short_id, success=st.booleans(), changes=st.just({"a.txt": {"type": "add", "content": "x"}})),
    st.builds(ev.McpToolCallEndEvent, call_id=short_id, invocation=json_values, result=json_values),
    st.builds(ev.WebSearchEndEvent, call_id=short_id, query=text),
    st.builds(ev.DynamicToolCallRequestEvent, call_id=short_id, turn_id=short_id, tool=text, arguments=json_values),
    st.builds(ev.DynamicToolCallResponseEvent, call_id=short_id, tool=text, success=st.booleans()),
    st.builds(ev.ViewImageToolCallEvent, call_id=short_id, path=text),
    st.builds(ev.ItemCompletedEvent, turn_id=short_id, item=json_values),
)

# --------------------------------------------------------------------------- lines

session_metas = st.builds(
    ev.SessionMeta,
    id=short_id,
    timestamp=timestamps,
    cwd=text,
    originator=st.just("codex_cli_rs"),
    cli_version=st.just("0.140.0"),
    source=st.sampled_from(["cli", "vscode", "exec", {"subagent": "review"}]),
    model_provider=st.none() | st.just("openai"),
    forked_from_id=st.none() | short_id,
    git=st.none() | st.builds(ev.GitInfo, commit_hash=opt_text, branch=opt_text),
)
turn_contexts = st.builds(
    ev.TurnContext, turn_id=short_id, cwd=text, model=text, approval_policy=st.just("never"),
    sandbox_policy=st.just({"type": "read-only"}), summary=st.just("auto"),
)
compacted = st.builds(
    ev.Compacted, message=text, replacement_history=st.none() | st.lists(response_items, max_size=3)
)
ordinals = st.none() | st.integers(0, 10_000)

envelope_lines = st.one_of(
    st.builds(ev.SessionMetaLine, timestamp=timestamps, payload=session_metas, ordinal=ordinals),
    st.builds(ev.ResponseItemLine, timestamp=timestamps, payload=response_items, ordinal=ordinals),
    st.builds(ev.EventMsgLine, timestamp=timestamps, payload=events, ordinal=ordinals),
    st.builds(ev.TurnContextLine, timestamp=timestamps, payload=turn_contexts),
    st.builds(ev.CompactedLine, timestamp=timestamps, payload=compacted),
    st.builds(ev.WorldStateLine, timestamp=timestamps, payload=st.builds(ev.WorldState, full=st.booleans(), state=json_values)),
)

# --------------------------------------------------------------------------- legacy shapes

legacy_lines = st.one_of(
    # the bare 2025 header, bare response items, and state records
    st.builds(
        ev.SessionMetaLine,
        timestamp=st.none(),
        payload=st.builds(ev.SessionMeta, id=short_id, timestamp=timestamps, instructions=opt_text),
    ),
    st.builds(ev.ResponseItemLine, timestamp=st.none(), payload=response_items),
    st.builds(ev.LegacyStateLine, data=st.just({"record_type": "state"})),
)

all_lines = envelope_lines | legacy_lines

# --------------------------------------------------------------------------- unknown data (raw JSON)


@st.composite
def unknown_json_lines(draw: st.DrawFn) -> bytes:
    """A JSON line with an unknown envelope type, unknown payload type or unknown fields."""
    choice = draw(st.sampled_from(["line_type", "event_type", "item_type", "field"]))
    ts = draw(timestamps)
    extra = draw(st.dictionaries(unknown_keys, json_values, min_size=1, max_size=3))
    if choice == "line_type":
        obj = {"timestamp": ts, "type": draw(unknown_keys), "payload": extra}
    elif choice == "event_type":
        obj = {"timestamp": ts, "type": "event_msg", "payload": {"type": draw(unknown_keys), **extra}}
    elif choice == "item_type":
        obj = {"timestamp": ts, "type": "response_item", "payload": {"type": draw(unknown_keys), **extra}}
    else:
        obj = {
            "timestamp": ts,
            "type": "event_msg",
            "payload": {"type": "agent_message", "message": draw(text), **extra},
            **draw(st.dictionaries(unknown_keys, json_values, max_size=2)),
        }
    return json.dumps(obj, ensure_ascii=draw(st.booleans())).encode()


# --------------------------------------------------------------------------- hostile bytes

hostile_lines = st.one_of(
    st.binary(max_size=200),
    st.just(b"\xff\xfe{not utf8}"),
    st.just(b'{"timestamp":"t","type":"event_msg","payload":{"type":"agent_message","message":"a\x00b"}}'),
    st.integers(1, 5000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(1, 5000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.just(b'{"timestamp":"t","type":"event_msg","payload":{"type":"thread_rolled_back","num_turns":1' + b"0" * 400 + b"}}"),
    st.just(b'{"timestamp":"t","type":"event_msg","payload":{"type":"token_count","info":1e99999}}'),
    st.just(b'{"timestamp":12,"type":"event_msg","payload":{}}'),
    st.just(b'{"type":"event_msg","payload":[]}'),
    st.just(b"null"),
)

# ============================================================================ replay strategies
# (maintained by the replay package; append below this line)
