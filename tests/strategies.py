"""Hypothesis strategies for every rollout line type, legacy shapes, unknowns and hostile bytes.

Sections: content and payloads, lines, legacy shapes, unknown data, hostile bytes.
Replay strategies (valid event sequences) live in their own marked section below.
"""

from __future__ import annotations

import json

import msgspec
from hypothesis import strategies as st

from rollout import events as ev

# --------------------------------------------------------------------------- scalars

text = st.text(max_size=40)
short_id = st.text(alphabet="abcdef0123456789-", min_size=1, max_size=12)
opt_text = st.none() | text
unset_or_text = st.just(msgspec.UNSET) | text  # fields Codex leaves out when absent
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
    detail=st.just(msgspec.UNSET) | st.sampled_from(["auto", "low", "high", "original"]),
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
        phase=st.just(msgspec.UNSET) | st.sampled_from(["commentary", "final_answer"]),
    ),
    st.builds(
        ev.Reasoning,
        summary=st.lists(st.builds(ev.SummaryText, text=text), max_size=2),
        content=st.none() | st.lists(st.builds(ev.ReasoningText, text=text), max_size=2),
        encrypted_content=opt_text,
    ),
    st.builds(ev.FunctionCall, name=text, arguments=text, call_id=short_id, namespace=unset_or_text),
    st.builds(ev.FunctionCallOutput, call_id=short_id, output=tool_outputs),
    st.builds(ev.CustomToolCall, call_id=short_id, name=text, input=text, status=unset_or_text),
    st.builds(ev.CustomToolCallOutput, call_id=short_id, output=tool_outputs, name=unset_or_text),
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


def wire_line(kind: str, payload: dict, *, timestamp: str = "2026-06-01T10:00:00.000Z") -> ev.Line:
    """Decode one ``{"timestamp", "type", "payload"}`` envelope built from plain data."""
    from rollout.codec import decode_line

    return decode_line(json.dumps({"timestamp": timestamp, "type": kind, "payload": payload}).encode())


def wire_event(payload: dict) -> ev.Line:
    """An ``event_msg`` line (spec 15 ``E:``)."""
    return wire_line("event_msg", payload)


def wire_item(payload: dict) -> ev.Line:
    """A ``response_item`` line (spec 15 ``R:``)."""
    return wire_line("response_item", payload)


def user_line(message: str, **extra: object) -> ev.Line:
    """A ``user_message`` event line, with no images unless ``extra`` adds them."""
    payload = {"type": "user_message", "message": message, "images": [], "local_images": [], "text_elements": []}
    return wire_event({**payload, **extra})


def agent_line(message: str, phase: str | None = None) -> ev.Line:
    """An ``agent_message`` event line."""
    return wire_event({"type": "agent_message", "message": message, "phase": phase})


def started_line(turn_id: str, **extra: object) -> ev.Line:
    """A ``task_started`` event line."""
    return wire_event({"type": "task_started", "turn_id": turn_id, **extra})


def complete_line(turn_id: str, **extra: object) -> ev.Line:
    """A ``task_complete`` event line."""
    return wire_event({"type": "task_complete", "turn_id": turn_id, **extra})


def _user_item(text_: str) -> dict:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text_}]}


_replay_text = st.sampled_from(["", " ", "ok", "run the tests", "done.", "héllo"])


@st.composite
def _replay_step(draw: st.DrawFn, turn_id: str, older: list[str], call: str) -> list[ev.Line]:
    """One body step of a turn: an item-producing event, a tool pair, or a no-op line."""
    target = draw(st.sampled_from([turn_id, turn_id, "", *older, "turn-missing"])) if older else turn_id
    kind = draw(
        st.sampled_from(
            [
                "agent", "reasoning", "raw", "exec", "web", "mcp", "patch", "dynamic", "compact_event",
                "compacted", "tokens", "context", "responses", "hook", "error", "review", "steer",
                "view_image", "plan",
            ]
        )
    )
    if kind == "agent":
        return [wire_event({"type": "agent_message", "message": draw(_replay_text), "phase": None})]
    if kind in ("reasoning", "raw"):
        tag = "agent_reasoning" if kind == "reasoning" else "agent_reasoning_raw_content"
        return [wire_event({"type": tag, "text": draw(_replay_text)})]
    if kind == "exec":
        begin = {"type": "exec_command_begin", "call_id": call, "turn_id": target, "command": ["ls", "a b"], "cwd": "/w"}
        end = {**begin, "type": "exec_command_end", "exit_code": draw(st.integers(-1, 2)), "aggregated_output": "x",
               "duration": {"secs": 0, "nanos": 5_000_000}, "status": "completed", "parsed_cmd": []}
        return [wire_event(begin), wire_event(end)] if draw(st.booleans()) else [wire_event(end)]
    if kind == "web":
        return [wire_event({"type": "web_search_end", "call_id": call, "query": "q", "action": {"type": "search", "query": "q"}})]
    if kind == "mcp":
        result = draw(st.sampled_from([{"Err": "boom"}, {"Ok": {"content": [], "isError": False}}]))
        return [wire_event({"type": "mcp_tool_call_end", "call_id": call, "invocation": {"server": "s", "tool": "t"},
                            "duration": {"secs": 0, "nanos": 0}, "result": result})]
    if kind == "patch":
        return [wire_event({"type": "patch_apply_end", "call_id": call, "turn_id": target, "success": True,
                            "changes": {"b.txt": {"type": "update", "unified_diff": "@@", "move_path": None}},
                            "status": "completed", "stdout": "", "stderr": ""})]
    if kind == "dynamic":
        request = {"type": "dynamic_tool_call_request", "callId": call, "turnId": target, "tool": "t", "arguments": {}}
        response = {"type": "dynamic_tool_call_response", "call_id": call, "turn_id": target, "tool": "t",
                    "arguments": {}, "content_items": [{"type": "inputText", "text": "ok"}], "success": draw(st.booleans()),
                    "duration": {"secs": 1, "nanos": 0}}
        return [wire_event(request)] + ([wire_event(response)] if draw(st.booleans()) else [])
    if kind == "compact_event":
        return [wire_event({"type": "context_compacted"})]
    if kind == "compacted":
        history = draw(st.sampled_from([None, [], [_user_item("kept")]]))
        payload = {"message": "summary"} if history is None else {"message": "summary", "replacement_history": history}
        return [wire_line("compacted", payload)]
    if kind == "tokens":
        return [wire_event({"type": "token_count", "info": {"total_token_usage": {"total_tokens": 1}}, "rate_limits": None})]
    if kind == "context":
        return [wire_line("turn_context", {"turn_id": turn_id, "cwd": "/w", "approval_policy": "never",
                                          "sandbox_policy": {"type": "read-only"}, "model": "m", "summary": "auto"})]
    if kind == "responses":
        return [
            wire_item({"type": "function_call", "name": "shell", "arguments": "{}", "call_id": call}),
            wire_item({"type": "function_call_output", "call_id": call, "output": "out"}),
            wire_item({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "hi"}]}),
        ]
    if kind == "hook":
        return [wire_item(_user_item(f'<hook_prompt hook_run_id="{call}">Retry.</hook_prompt>'))]
    if kind == "error":
        info = draw(st.sampled_from([None, "bad_request", "thread_rollback_failed"]))
        return [wire_event({"type": "error", "message": "boom", "codex_error_info": info})]
    if kind == "review":
        return [wire_event({"type": "entered_review_mode", "target": {"type": "uncommittedChanges"}}),
                wire_event({"type": "exited_review_mode", "review_output": None})]
    if kind == "view_image":
        return [wire_event({"type": "view_image_tool_call", "call_id": call, "path": "/tmp/a.png"})]
    if kind == "plan":
        item = {"type": "Plan", "id": call, "text": draw(_replay_text)}
        return [wire_event({"type": "item_completed", "thread_id": "t", "turn_id": target, "item": item})]
    return [user_line(draw(_replay_text))]  # steer


@st.composite
def replay_threads(draw: st.DrawFn, *, late: bool = True, rollbacks: bool = True) -> list[ev.Line]:
    """A thread as decoded lines: explicit and implicit turns with varied bodies.

    Args:
        late: allow events routed to older (or unknown) turns and late completions.
        rollbacks: allow ``thread_rolled_back`` markers between turns.
    """
    lines = [wire_line("session_meta", {"id": "thread-1", "timestamp": "2026-06-01T10:00:00.000Z", "cwd": "/w",
                                         "originator": "codex_cli_rs", "cli_version": "0.140.0", "source": "cli"})]
    finished: list[str] = []
    for number in range(draw(st.integers(0, 6))):
        turn_id = f"turn-{number}"
        explicit = draw(st.booleans())
        if explicit:
            lines.append(started_line(turn_id, started_at=1000 + number))
        if draw(st.booleans()):
            lines.append(wire_item(_user_item("<environment_context>\n</environment_context>")))
        lines.append(wire_item(_user_item("prompt")))
        lines.append(user_line(draw(_replay_text)))
        older = finished if late else []
        for step in range(draw(st.integers(0, 6))):
            lines.extend(draw(_replay_step(turn_id, older, f"call-{number}-{step}")))
        ending = draw(st.sampled_from(["complete", "abort", "open"]))
        if ending == "complete":
            lines.append(complete_line(turn_id, completed_at=2000, duration_ms=5))
        elif ending == "abort":
            lines.append(wire_event({"type": "turn_aborted", "turn_id": turn_id, "reason": "interrupted"}))
        if late and finished and draw(st.integers(0, 5)) == 0:
            lines.append(complete_line(draw(st.sampled_from(finished))))
        if rollbacks and draw(st.integers(0, 4)) == 0:
            lines.append(wire_event({"type": "thread_rolled_back", "num_turns": draw(st.integers(0, 3))}))
        finished.append(turn_id)
    return lines


_RESUME_IDS = st.sampled_from(["a", "b", ""])


def _resume_line(kind: str, turn_id: str, number: int) -> ev.Line:
    """One line of a kind the resume context looks at (ids may clash on purpose)."""
    if kind == "started":
        return started_line(turn_id)
    if kind == "complete":
        return complete_line(turn_id)
    if kind == "aborted":
        return wire_event({"type": "turn_aborted", "turn_id": turn_id or None, "reason": "interrupted"})
    if kind == "context":
        return wire_line("turn_context", {"turn_id": turn_id or None, "cwd": "/w", "approval_policy": "never",
                                          "sandbox_policy": {"type": "read-only"}, "model": f"m{number}"})
    if kind in ("prompt", "injected", "developer", "system", "assistant"):
        role, body = {"prompt": ("user", f"prompt {number}"), "injected": ("user", "<environment_context>\n</environment_context>"),
                      "developer": ("developer", "<permissions instructions>p</permissions instructions>"),
                      "system": ("system", "s"), "assistant": ("assistant", f"reply {number}")}[kind]
        part = "output_text" if role == "assistant" else "input_text"
        return wire_item({"type": "message", "role": role, "content": [{"type": part, "text": body}]})
    if kind == "user_event":
        return user_line(f"prompt {number}")
    if kind == "checkpoint":
        return wire_line("compacted", {"message": "s", "replacement_history": [_user_item(f"kept {number}")]})
    if kind == "legacy":
        return wire_line("compacted", {"message": f"summary {number}" if number % 2 else ""})
    if kind == "rollback":
        return wire_event({"type": "thread_rolled_back", "num_turns": number % 4})
    if kind == "tokens":
        return wire_event({"type": "token_count", "info": None if number % 3 == 0 else {"n": number}})
    return wire_item({"type": "function_call", "name": "shell", "arguments": "{}", "call_id": f"c{number}"})


@st.composite
def resume_threads(draw: st.DrawFn) -> list[ev.Line]:
    """Arbitrary sequences of the lines the resume context depends on, in any order."""
    kinds = st.sampled_from([
        "started", "started", "complete", "aborted", "context", "prompt", "prompt", "injected", "developer",
        "system", "assistant", "user_event", "checkpoint", "legacy", "rollback", "tokens", "call",
    ])
    steps = draw(st.lists(st.tuples(kinds, _RESUME_IDS), max_size=40))
    return [_resume_line(kind, turn_id, number) for number, (kind, turn_id) in enumerate(steps)]


# --------------------------------------------------------------------------- app-server messages (serve)

#: thread ids a fuzzed request may name: the seeded thread, an unknown one, junk
SEEDED_THREAD = "019e2a5c-0000-7000-8000-000000000001"
_thread_ids = st.sampled_from([SEEDED_THREAD, "019e2a5c-0000-7000-8000-00000000dead", "not-a-uuid", ""]) | text
_rpc_methods = st.sampled_from([
    "initialize", "thread/start", "thread/resume", "thread/fork", "thread/read", "thread/list", "thread/turns/list",
    "thread/items/list", "thread/archive", "thread/unarchive", "thread/delete", "thread/name/set",
    "thread/metadata/update", "thread/inject_items", "thread/rollback", "thread/unsubscribe",
    "thread/loaded/list", "turn/start", "thread/search", "nope/nope",
]) | text
_param_values = st.fixed_dictionaries({}, optional={
    "threadId": _thread_ids, "includeTurns": st.booleans() | json_values, "limit": st.integers(-5, 2**33) | json_values,
    "cursor": st.none() | text | json_values, "name": text | json_values, "numTurns": st.integers(-2, 5),
    "items": st.lists(st.just({"type": "message", "role": "user", "content": []}) | json_values, max_size=3),
    "sortDirection": st.sampled_from(["asc", "desc", "sideways"]), "sortKey": st.sampled_from(
        ["created_at", "updated_at", "recency_at", "section_position", "x"]),
    "sourceKinds": st.lists(st.sampled_from(["cli", "exec", "subAgent", "bogus"]), max_size=2),
    "gitInfo": st.none() | st.fixed_dictionaries({}, optional={"branch": opt_text, "sha": opt_text}),
    "lastTurnId": opt_text, "clientInfo": st.fixed_dictionaries({"name": text, "version": text}) | json_values,
})
_request_ids = st.integers(-(2**31), 2**31) | st.text(max_size=8)


@st.composite
def rpc_requests(draw: st.DrawFn) -> dict:
    """A request: valid id and method, params well formed or not, sometimes absent."""
    message: dict = {"id": draw(_request_ids), "method": draw(_rpc_methods)}
    if draw(st.integers(0, 9)):
        message["params"] = draw(_param_values | json_values)
    return message


rpc_messages = st.one_of(
    rpc_requests().map(lambda m: json.dumps(m).encode()),
    st.just(b'{"method":"initialized"}'),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
    rpc_requests().map(lambda m: json.dumps(m).encode()[: max(1, len(json.dumps(m)) // 2)]),
)


# ============================================================================ Codex 0.171 shapes
# Threads in today's format, for the property suite that compares the engine with the real
# Codex (tests/conformance/test_properties.py). Ids that are not UUIDs are fine: the suite
# gives each written thread a fresh UUID.

_THREAD_META = {"id": "thread-1", "timestamp": "2026-06-01T10:00:00.000Z", "cwd": "/w", "originator": "codex_cli_rs",
                "cli_version": "0.171.0", "source": "cli", "model_provider": "openai"}


def _turn_item(draw: st.DrawFn, kind: str, item_id: str) -> dict:
    """A core TurnItem as Codex 0.171 writes it in ``item_completed``."""
    text_ = draw(_replay_text)
    if kind == "agent":
        return {"type": "AgentMessage", "id": item_id, "content": [{"type": "Text", "text": text_}],
                **({"phase": "commentary"} if draw(st.booleans()) else {})}
    if kind == "reasoning":
        return {"type": "Reasoning", "id": item_id, "summary_text": [text_], "raw_content": draw(st.sampled_from([[], ["raw"]]))}
    if kind == "command":
        return {"type": "CommandExecution", "id": item_id, "process_id": "42", "command": ["/bin/bash", "-lc", "echo 'a b'"],
                "cwd": "file:///w/a%20b", "parsed_cmd": [{"type": "unknown", "cmd": "echo 'a b'"}],
                "source": draw(st.sampled_from(["agent", "unified_exec_startup"])),
                "status": draw(st.sampled_from(["completed", "failed"])), "aggregated_output": draw(st.sampled_from(["", "a b\n"])),
                "exit_code": draw(st.integers(0, 2)), "duration": {"secs": 0, "nanos": 12_345_678}}
    if kind == "patch":
        return {"type": "FileChange", "id": item_id, "status": "completed", "stdout": "", "stderr": "",
                "changes": {"/w/b.txt": {"type": "add", "content": "x\n"}, "/w/a.txt": {"type": "delete", "content": "y"}}}
    if kind == "mcp":
        return {"type": "McpToolCall", "id": item_id, "server": "tiny", "tool": "echo", "arguments": {"text": text_},
                "status": "completed", "result": {"content": [{"type": "text", "text": text_}], "isError": False},
                "duration": {"secs": 0, "nanos": 1_000_000}}
    if kind == "dynamic":
        return {"type": "DynamicToolCall", "id": item_id, "tool": "lookup", "arguments": {"word": text_},
                "status": "completed", "content_items": [{"type": "inputText", "text": text_}], "success": True,
                "duration": {"secs": 0, "nanos": 3_000_000}}
    if kind == "web":
        return {"type": "WebSearch", "id": item_id, "query": text_, "action": {"type": "search", "query": text_}}
    if kind == "image":
        return {"type": "ImageView", "id": item_id, "path": "file:///w/p.png"}
    if kind == "compaction":
        return {"type": "ContextCompaction", "id": item_id}
    if kind == "plan":
        return {"type": "Plan", "id": item_id, "text": text_ or "plan"}
    if kind == "collab":
        agent = "01970000-0000-7000-8000-0000000000ff"
        state = draw(st.sampled_from(["pending_init", "running", {"completed": text_}, {"errored": "no"}]))
        return {"type": "CollabAgentToolCall", "id": item_id, "tool": draw(st.sampled_from(["spawn_agent", "wait"])),
                "status": draw(st.sampled_from(["completed", "failed", "in_progress"])),
                "sender_thread_id": draw(st.sampled_from([agent, "thread-1"])),
                "receiver_thread_ids": [agent], "receiver_agents": [], "prompt": text_ or None, "model": None,
                "reasoning_effort": None, "agents_states": {agent: state}}
    if kind == "output":
        return {"type": "FunctionCallOutput", "id": item_id, "name": "lookup", "output": text_}
    return {"type": "UserMessage", "id": item_id, "content": [{"type": "text", "text": text_, "text_elements": []}]}


def _completed(turn_id: str, item: dict, at: int) -> ev.Line:
    return wire_event({"type": "item_completed", "thread_id": "thread-1", "turn_id": turn_id, "item": item,
                       "started_at_ms": at, "completed_at_ms": at + 1})


@st.composite
def _paginated_step(draw: st.DrawFn, turn_id: str, older: list[str], number: int) -> list[ev.Line]:
    kind = draw(st.sampled_from(["agent", "reasoning", "command", "patch", "mcp", "dynamic", "web", "image",
                                 "compaction", "plan", "user", "started_only", "late", "unknown_turn", "duplicate",
                                 "legacy_event", "tokens", "response", "rollback", "compacted", "context", "usage",
                                 "world", "other_thread", "collab", "output"]))
    item_id = f"item-{turn_id}-{number}"
    at = 1_780_000_000_000 + number
    if kind in ("late", "unknown_turn"):
        target = draw(st.sampled_from(older)) if kind == "late" and older else "turn-missing"
        return [_completed(target, _turn_item(draw, "agent", item_id), at)]
    if kind == "duplicate":
        first = _turn_item(draw, "agent", item_id)
        return [_completed(turn_id, first, at), _completed(turn_id, _turn_item(draw, "agent", item_id), at + 5)]
    if kind == "started_only":
        return [wire_event({"type": "item_started", "thread_id": "thread-1", "turn_id": turn_id,
                            "item": _turn_item(draw, "agent", item_id), "started_at_ms": at})]
    if kind == "legacy_event":
        return [agent_line(draw(_replay_text)), user_line("steer")]
    if kind == "tokens":
        return [wire_event({"type": "token_count", "info": None, "rate_limits": None})]
    if kind == "response":
        return [wire_item({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "hi"}]})]
    if kind == "rollback":
        return [wire_event({"type": "thread_rolled_back", "num_turns": 1})]
    if kind == "compacted":
        return [wire_line("compacted", {"message": "summary", "replacement_history": []})]
    if kind == "context":
        return [_legacy_context(draw)]
    if kind == "usage":
        usage = {"input_tokens": 1, "cached_input_tokens": 0, "output_tokens": 1, "reasoning_output_tokens": 0, "total_tokens": 2}
        return [wire_line("token_usage_record", {"thread_id": "thread-1", "turn_id": turn_id, "usage": usage})]
    if kind == "world":
        return [wire_line("world_state", {"full": True, "state": {}})]
    if kind == "other_thread":
        item = _turn_item(draw, "agent", item_id)
        thread = draw(st.sampled_from(["01970000-0000-7000-8000-0000000000aa", "t", None]))
        return [wire_event({"type": "item_completed", "thread_id": thread, "turn_id": turn_id, "item": item})]
    return [_completed(turn_id, _turn_item(draw, kind, item_id), at)]


@st.composite
def paginated_threads(draw: st.DrawFn) -> list[ev.Line]:
    """A paginated-history thread (Codex 0.152+): items only in ``item_completed`` events."""
    lines = [wire_line("session_meta", {**_THREAD_META, "history_mode": "paginated"})]
    finished: list[str] = []
    for number in range(draw(st.integers(0, 4))):
        turn_id = f"turn-{number}"
        root = draw(st.sampled_from([None, turn_id, "root-0"]))
        lines.append(started_line(turn_id, started_at=1000 + number, **({"root_turn_id": root} if root else {})))
        lines.append(wire_item(_user_item("prompt")))
        lines.append(_completed(turn_id, _turn_item(draw, "user", f"user-{number}"), 1_780_000_000_000))
        for step in range(draw(st.integers(0, 5))):
            lines.extend(draw(_paginated_step(turn_id, finished, step)))
        ending = draw(st.sampled_from(["complete", "failed", "abort", "open"]))
        if ending == "complete":
            lines.append(complete_line(turn_id, completed_at=2000, duration_ms=5))
        elif ending == "failed":
            lines.append(complete_line(turn_id, error={"message": "boom", "codex_error_info": "other"}))
        elif ending == "abort":
            lines.append(wire_event({"type": "turn_aborted", "turn_id": turn_id, "reason": "interrupted",
                                     "completed_at": 2000, "duration_ms": 7}))
        finished.append(turn_id)
    return lines


def _legacy_context(draw: st.DrawFn) -> ev.Line:
    """A turn_context Codex 0.171 may or may not decode (old sandbox tag, Windows or relative cwd)."""
    cwd = draw(st.sampled_from(["/w", "/w", "C:\\w", "w"]))
    sandbox = draw(st.sampled_from([{"type": "read-only"}, {"type": "danger-full-access"}, {"mode": "read-only"}]))
    return wire_line("turn_context", {"cwd": cwd, "approval_policy": "never", "sandbox_policy": sandbox,
                                      "model": "m", "summary": "auto"})


@st.composite
def codex_threads(draw: st.DrawFn) -> list[ev.Line]:
    """A legacy-history thread with the shapes only Codex 0.153+ writes or refuses, mixed into replay_threads."""
    lines = draw(replay_threads())
    extras: list[ev.Line] = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["context", "null_id", "failed", "citation", "activity", "search", "review"]))
        if kind == "context":
            extras += [_legacy_context(draw), user_line("after context")]
        elif kind == "null_id":
            extras += [wire_item({"type": "message", "id": None, "role": "user",
                                  "content": [{"type": "input_text", "text": "2025 words"}]}), user_line("2025 words")]
        elif kind == "failed":
            extras += [started_line("turn-f"), user_line("fails"),
                       complete_line("turn-f", error={"message": "no", "codex_error_info": {"http_connection_failed": {"http_status_code": 500}}})]
        elif kind == "citation":
            keys = draw(st.sampled_from([("lineStart", "lineEnd", "rolloutIds"), ("line_start", "line_end", "rollout_ids")]))
            citation = {"entries": [{"path": "p", keys[0]: 1, keys[1]: 2, "note": "n"}], keys[2]: ["r"]}
            extras += [wire_event({"type": "agent_message", "message": "cited", "memory_citation": citation})]
        elif kind == "activity":
            extras += [wire_event({"type": "sub_agent_activity", "event_id": "e", "occurred_at_ms": 5, "agent_thread_id": "a",
                                   "agent_path": "/root/a", "kind": draw(st.sampled_from(["started", "completed", "spawned"]))})]
        elif kind == "search":
            extras += [wire_event({"type": "web_search_end", "call_id": "ws", "query": "q", "action": {"type": "other"},
                                   "results": [{"type": "text_result", "title": "t"}]})]
        else:
            findings = [{"title": f"F{n}", "body": "b\nc", "confidence_score": 0.5, "priority": 1,
                         "code_location": {"absolute_file_path": "/w/a.py", "line_range": {"start": n, "end": n + 1}}}
                        for n in range(draw(st.integers(0, 2)))]
            extras += [wire_event({"type": "exited_review_mode", "review_output": {
                "findings": findings, "overall_correctness": "c", "overall_explanation": draw(_replay_text),
                "overall_confidence_score": 0.5}})]
    position = draw(st.integers(1, len(lines)))
    return [*lines[:position], *extras, *lines[position:]]
