"""Codec: typed round trips, unknown data kept, legacy shapes, msgpack."""

from __future__ import annotations

import json

import msgspec
import pytest
from hypothesis import given

from rollout import events as ev
from rollout.codec import decode_item_payload, decode_line, decode_msgpack, encode_line, encode_msgpack
from rollout.errors import DecodeError
from tests import strategies as s


@given(s.all_lines)
def test_decode_of_encode_is_identity_for_every_line_type(line):
    """decode(encode(x)) == x for every modelled line, legacy ones included."""
    assert decode_line(encode_line(line)) == line


@given(s.all_lines)
def test_msgpack_round_trip_is_identity(line):
    """The msgpack form decodes back to an equal line."""
    assert decode_msgpack(encode_msgpack(line)) == line


@given(s.unknown_json_lines())
def test_unknown_types_and_fields_survive_json_round_trip(raw):
    """Unknown line types, payload types and fields come back JSON-equal."""
    assert json.loads(encode_line(decode_line(raw))) == json.loads(raw)


@given(s.unknown_json_lines())
def test_unknown_types_survive_msgpack_round_trip(raw):
    """Unknown types keep their data through msgpack too."""
    line = decode_line(raw)
    assert decode_msgpack(encode_msgpack(line)) == line


def test_encoded_line_uses_codex_key_order():
    """A line built in code is written timestamp, type, payload, like Codex."""
    line = ev.EventMsgLine(timestamp="2026-01-01T00:00:00.000Z", payload=ev.ThreadRolledBackEvent(num_turns=2))
    assert encode_line(line) == (
        b'{"timestamp":"2026-01-01T00:00:00.000Z","type":"event_msg",'
        b'"payload":{"type":"thread_rolled_back","num_turns":2}}'
    )


def test_decoded_line_reencodes_byte_exact():
    """Original bytes (key order, escapes, unknown fields) are returned unchanged."""
    raw = b'{"payload":{"type":"agent_message","message":"caf\\u00e9","x_new":[1]},"type":"event_msg","timestamp":"t"}'
    line = decode_line(raw + b"\n")
    assert isinstance(line.payload, ev.AgentMessageEvent)
    assert line.payload.message == "café"
    assert encode_line(line) == raw


def test_crlf_line_keeps_its_carriage_return():
    """A CRLF line decodes the same and re-encodes with its \\r, so the writer restores CRLF."""
    raw = b'{"timestamp":"t","type":"event_msg","payload":{"type":"agent_message","message":"hi"}}'
    line = decode_line(raw + b"\r\n")
    assert line == decode_line(raw)
    assert encode_line(line) == raw + b"\r"
    assert encode_line(decode_line(raw + b"\r")) == raw + b"\r"


def test_replace_drops_remembered_bytes():
    """A line derived with structs.replace is encoded from its new fields."""
    line = decode_line(b'{"timestamp":"t","type":"event_msg","payload":{"type":"agent_message","message":"a"}}')
    changed = msgspec.structs.replace(line, payload=ev.AgentMessageEvent(message="b"))
    assert json.loads(encode_line(changed))["payload"]["message"] == "b"


@pytest.mark.parametrize(
    "output",
    ['"legacy js_repl stdout"', '[{"type":"input_text","text":"hi"},{"type":"input_image","image_url":"data:image/png;base64,AA==","detail":"original"}]'],
)
def test_both_tool_output_shapes_decode_into_one_payload_type(output):
    """String and list outputs decode for function and custom tool outputs alike."""
    for kind in ("function_call_output", "custom_tool_call_output"):
        raw = f'{{"timestamp":"t","type":"response_item","payload":{{"type":"{kind}","call_id":"c","output":{output}}}}}'.encode()
        line = decode_line(raw)
        assert line.payload.output == msgspec.json.decode(output, type=ev.FunctionCallOutputPayload)
        fresh = msgspec.structs.replace(line)
        assert json.loads(encode_line(fresh))["payload"]["output"] == json.loads(output)


def test_unknown_event_type_decodes_to_unknown_event_with_data():
    """An event type this version does not model is kept as data."""
    line = decode_line(b'{"timestamp":"t","type":"event_msg","payload":{"type":"brand_new","x":1}}')
    assert isinstance(line.payload, ev.UnknownEvent)
    assert line.payload.type == "brand_new" and line.payload.data["x"] == 1


def test_unknown_line_type_decodes_to_unknown_line():
    """An envelope type this version does not model is kept as an UnknownLine."""
    line = decode_line(b'{"timestamp":"t","type":"inter_agent_future","payload":{"a":[1,2]}}')
    assert isinstance(line, ev.UnknownLine) and line.payload == {"a": [1, 2]}
    assert json.loads(encode_line(msgspec.structs.replace(line))) == {
        "timestamp": "t", "type": "inter_agent_future", "payload": {"a": [1, 2]}
    }


def test_compacted_history_keeps_unknown_items_in_place():
    """An unknown item inside replacement_history does not sink the line."""
    raw = b'{"timestamp":"t","type":"compacted","payload":{"message":"m","replacement_history":[{"type":"mystery","v":1},{"type":"message","role":"user","content":[]}]}}'
    line = decode_line(raw)
    history = line.payload.replacement_history
    assert isinstance(history[0], ev.UnknownResponseItem) and isinstance(history[1], ev.Message)
    rebuilt = json.loads(encode_line(msgspec.structs.replace(line)))["payload"]["replacement_history"]
    assert rebuilt[0] == {"type": "mystery", "v": 1}
    assert rebuilt[1]["content"] == [] and rebuilt[1]["role"] == "user"


def test_pre_envelope_shapes_decode_with_no_timestamp():
    """The 2025 bare header, bare items and state records all decode."""
    header = decode_line(b'{"id":"abc","timestamp":"2025-09-10T18:58:38.331Z","instructions":null,"git":{"branch":"main"}}')
    item = decode_line(b'{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}')
    state = decode_line(b'{"record_type":"state"}')
    assert isinstance(header, ev.SessionMetaLine) and header.timestamp is None and header.payload.id == "abc"
    assert isinstance(item, ev.ResponseItemLine) and item.timestamp is None
    assert isinstance(state, ev.LegacyStateLine)


def test_dynamic_tool_request_uses_camel_case_on_the_wire():
    """dynamic_tool_call_request is the one camelCase event."""
    line = decode_line(b'{"timestamp":"t","type":"event_msg","payload":{"type":"dynamic_tool_call_request","callId":"d1","turnId":"t1","startedAtMs":5,"tool":"x","arguments":{}}}')
    assert line.payload.call_id == "d1" and line.payload.turn_id == "t1" and line.payload.started_at_ms == 5


@pytest.mark.parametrize(
    "raw, kind",
    [
        (b"{not json", "malformed"),
        (b"[1,2]", "invalid"),
        (b'{"timestamp":5,"type":"event_msg","payload":{}}', "invalid"),
        (b'{"timestamp":"t","type":"session_meta","payload":{"id":5}}', "invalid"),
        (b'{"hello":"world"}', "invalid"),
        (b"\xff\xfe", "malformed"),
    ],
)
def test_undecodable_lines_raise_decode_error_with_kind(raw, kind):
    """Bytes that are no rollout line raise DecodeError saying why."""
    with pytest.raises(DecodeError) as info:
        decode_line(raw)
    assert info.value.kind == kind


def test_decoded_payloads_are_not_tracked_by_the_garbage_collector():
    """Payloads are immutable data without cycles (msgspec gc=False): a long thread's items add no GC work."""
    import gc

    from replay import build_turns

    line = decode_line(b'{"timestamp":"2026-06-01T10:00:00.000Z","type":"response_item","payload":'
                       b'{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}}')
    assert not gc.is_tracked(line.payload)
    assert not gc.is_tracked(line.payload.content[0])
    events = [b'{"timestamp":"2026-06-01T10:00:00.000Z","type":"event_msg","payload":{"type":"task_started","turn_id":"t"}}',
              b'{"timestamp":"2026-06-01T10:00:00.000Z","type":"event_msg","payload":'
              b'{"type":"user_message","message":"hi","images":[],"local_images":[]}}',
              b'{"timestamp":"2026-06-01T10:00:01.000Z","type":"event_msg","payload":{"type":"agent_message","message":"ok"}}']
    turns = build_turns([decode_line(raw) for raw in events])
    items = [item for turn in turns for item in turn.items]
    assert len(items) == 2 and not any(gc.is_tracked(item) for item in items)


@given(s.all_lines | s.unknown_json_lines())
def test_decode_item_payload_equals_decode_line_payload(line):
    """decode_item_payload gives decode_line's payload for response_item lines and refuses the others."""
    raw = line if isinstance(line, bytes) else encode_line(line)
    decoded = decode_line(raw)
    if isinstance(decoded, ev.ResponseItemLine):
        assert decode_item_payload(raw) == decoded.payload
    else:
        with pytest.raises(DecodeError):
            decode_item_payload(raw)
