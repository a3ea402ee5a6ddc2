"""Legacy upcasting and legacy-tolerant helpers."""

from __future__ import annotations

import rollout
from rollout import compat
from rollout import events as ev

LEGACY_FILE = (
    b'{"id":"abc","timestamp":"2025-09-10T18:58:38.331Z","instructions":null,"git":{"branch":"main"}}\n'
    b'{"record_type":"state"}\n'
    b'{"type":"message","role":"user","content":[{"type":"input_text","text":"<environment_context>\\n  <cwd>/home/u/p</cwd>\\n</environment_context>"}]}\n'
    b'{"type":"message","role":"user","content":[{"type":"input_text","text":"hello"}]}\n'
)

JS_REPL_FLOW = (
    b'{"timestamp":"2024-01-01T00:00:01.000Z","type":"response_item","payload":{"type":"custom_tool_call","call_id":"legacy-js-call","name":"js_repl","input":"console.log(1)"}}\n'
    b'{"timestamp":"2024-01-01T00:00:02.000Z","type":"response_item","payload":{"type":"custom_tool_call_output","call_id":"legacy-js-call","output":"legacy js_repl stdout"}}\n'
    b'{"timestamp":"2024-01-01T00:00:03.000Z","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}]}}\n'
)


def test_pre_envelope_file_upcasts_to_session_meta_and_timestamped_items():
    """The bare header becomes session_meta with cwd; state lines go; items get timestamps."""
    lines = rollout.upcast(rollout.read_rollout(LEGACY_FILE).lines)
    assert [type(line) for line in lines] == [ev.SessionMetaLine, ev.ResponseItemLine, ev.ResponseItemLine]
    meta = lines[0].payload
    assert (meta.id, meta.cwd, lines[0].timestamp) == ("abc", "/home/u/p", "2025-09-10T18:58:38.331Z")
    assert all(line.timestamp == "2025-09-10T18:58:38.331Z" for line in lines)


def test_js_repl_image_flow_keeps_string_output_then_image_message():
    """The legacy injected image message stays a separate item after the string output."""
    lines = rollout.upcast(rollout.read_rollout(JS_REPL_FLOW).lines)
    output, image = lines[1].payload, lines[2].payload
    assert isinstance(output, ev.CustomToolCallOutput) and output.output == "legacy js_repl stdout"
    assert compat.is_injected_image_message(image)
    assert rollout.encode_line(lines[1]).endswith(b'"output":"legacy js_repl stdout"}}')


def test_aliases_are_normalised():
    """turn_started/turn_complete and compaction_summary become today's tags."""
    data = (
        b'{"timestamp":"t","type":"event_msg","payload":{"type":"turn_started","turn_id":"a"}}\n'
        b'{"timestamp":"t","type":"response_item","payload":{"type":"compaction_summary","encrypted_content":"e"}}\n'
        b'{"timestamp":"t","type":"event_msg","payload":{"type":"turn_complete","turn_id":"a"}}\n'
    )
    lines = rollout.upcast(rollout.read_rollout(data).lines)
    assert [type(line.payload) for line in lines] == [ev.TaskStartedEvent, ev.Compaction, ev.TaskCompleteEvent]
    assert lines[0].payload.turn_id == "a"


def test_output_text_joins_non_blank_text_parts():
    """Display text of a list output drops images and blank parts."""
    parts = [ev.InputText(text="a"), ev.InputImage(image_url="x"), ev.InputText(text="  "), ev.InputText(text="b")]
    assert compat.output_text(parts) == "a\nb"
    assert compat.output_text("plain") == "plain"


def test_source_kind_maps_to_v2_names():
    """SessionSource encodings map to the app-server v2 names."""
    assert [compat.source_kind(s) for s in (None, "cli", "mcp", {"subagent": "review"}, "weird")] == [
        "vscode", "cli", "appServer", "subAgent", "unknown"
    ]


def test_preview_strips_the_legacy_request_marker():
    """Preview text drops everything up to '## My request for Codex:'."""
    assert compat.preview_text("ctx\n## My request for Codex:\n  fix it ") == "fix it"
    assert compat.preview_text("", has_images=True) == "[Image]"
