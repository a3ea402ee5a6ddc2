"""Tolerant reading: the real corpus, torn tails, hostile bytes, sources and legacy files."""

from __future__ import annotations

import io
import json

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

import rollout
from rollout import events as ev
from rollout.errors import EmptyRollout, UnreadableRollout
from tests import strategies as s
from tests.corpus import corpus_files, corpus_params

SAMPLE = (
    b'{"timestamp":"2026-06-01T10:00:00.120Z","type":"session_meta","payload":{"id":"019e0000-0000-7000-8000-000000000001","timestamp":"2026-06-01T10:00:00.100Z","cwd":"/p","originator":"codex_cli_rs","cli_version":"0.140.0","source":"cli"}}\n'
    b'{"timestamp":"2026-06-01T10:00:05.001Z","type":"event_msg","payload":{"type":"task_started","turn_id":"t-1"}}\n'
    b'{"timestamp":"2026-06-01T10:00:05.021Z","type":"event_msg","payload":{"type":"user_message","message":"list the files","images":[],"local_images":[],"text_elements":[]}}\n'
    b'{"timestamp":"2026-06-01T10:00:09.020Z","type":"event_msg","payload":{"type":"task_complete","turn_id":"t-1","last_agent_message":null}}\n'
)


@pytest.mark.parametrize("path", corpus_params())
def test_corpus_file_reads_with_no_problems_and_round_trips(path):
    """Every real rollout reads cleanly and each line re-encodes JSON-equal."""
    result = rollout.read_rollout(path)
    assert result.problems == []
    assert result.thread_id is not None
    raw_lines = path.read_bytes().split(b"\n")
    assert len(result.lines) == sum(1 for raw in raw_lines if raw.strip())
    for line, number in zip(result.lines, result.line_numbers):
        assert json.loads(rollout.encode_line(line)) == json.loads(raw_lines[number - 1])


@pytest.mark.parametrize("path", corpus_params())
def test_corpus_file_reads_the_same_compressed(path, tmp_path):
    """A .jsonl.zst copy reads to the same lines as the plain file."""
    packed = tmp_path / (path.name + ".zst")
    packed.write_bytes(zstandard.ZstdCompressor(level=3).compress(path.read_bytes()))
    plain, compressed = rollout.read_rollout(path), rollout.read_rollout(packed)
    assert compressed.lines == plain.lines and compressed.problems == []


def _largest_corpus_bytes() -> bytes:
    files = corpus_files()
    if not files:
        return SAMPLE
    return max(files, key=lambda p: p.stat().st_size).read_bytes()


_CUT_SOURCE = _largest_corpus_bytes()


@settings(max_examples=60)
@given(st.integers(1, len(_CUT_SOURCE) - 1))
def test_truncation_at_any_byte_reads_to_last_complete_line(cut):
    """A torn copy gives every complete line and at most one 'torn' problem."""
    data = _CUT_SOURCE[:cut]
    complete = data[: data.rfind(b"\n") + 1]
    expected = rollout.read_rollout(complete).lines if complete.strip() else []
    result = rollout.read_rollout(data)
    assert result.lines[: len(expected)] == expected
    tail = data[len(complete):]
    if tail.strip() and len(result.lines) == len(expected):
        assert [p.kind for p in result.problems] == ["torn"]
        assert result.problems[0].raw == tail and result.problems[0].offset == len(complete)
    else:
        assert result.problems == []


@given(st.lists(s.hostile_lines, min_size=1, max_size=5))
def test_hostile_bytes_become_problems_never_crashes(lines):
    """Garbage, deep nesting, huge numbers and NULs are reported, not raised."""
    data = SAMPLE + b"\n".join(lines) + b"\n"
    result = rollout.read_rollout(data)
    assert result.lines[:4] == rollout.read_rollout(SAMPLE).lines
    assert all(p.kind in {"blank", "malformed", "invalid", "unknown_type"} for p in result.problems)


def test_a_50_mb_line_reads_without_trouble():
    """One enormous (valid) line decodes, as does the line after it."""
    big = b'{"timestamp":"t","type":"response_item","payload":{"type":"function_call_output","call_id":"c","output":"' + b"x" * (50 << 20) + b'"}}\n'
    result = rollout.read_rollout(SAMPLE + big + SAMPLE)
    assert len(result.lines) == 9 and result.problems == []
    assert len(result.lines[4].payload.output) == 50 << 20


def test_a_50_mb_garbage_line_is_one_problem():
    """An enormous malformed line is one problem, with its bytes kept."""
    result = rollout.read_rollout(SAMPLE + b"{" + b"a" * (50 << 20) + b"\n" + SAMPLE)
    assert len(result.lines) == 8
    assert [p.kind for p in result.problems] == ["malformed"] and result.problems[0].line == 5


def test_blank_and_unknown_lines_are_reported_and_unknowns_kept():
    """Blank lines are problems; unknown types are problems but the line is kept."""
    data = SAMPLE + b"   \n" + b'{"timestamp":"t","type":"event_msg","payload":{"type":"future_event"}}\n'
    result = rollout.read_rollout(data)
    assert [(p.kind, p.line, p.kept) for p in result.problems] == [("blank", 5, False), ("unknown_type", 6, True)]
    assert isinstance(result.lines[-1].payload, ev.UnknownEvent)


def test_sources_path_bytes_and_stream_read_alike(tmp_path):
    """A path, bytes and a binary stream give the same result."""
    path = tmp_path / "r.jsonl"
    path.write_bytes(SAMPLE)
    by_path = rollout.read_rollout(path)
    assert by_path.path == str(path)
    assert rollout.read_rollout(SAMPLE).lines == by_path.lines
    assert rollout.read_rollout(io.BytesIO(SAMPLE)).lines == by_path.lines
    assert rollout.read_rollout(zstandard.ZstdCompressor().compress(SAMPLE)).lines == by_path.lines


def test_iter_rollout_streams_and_collects_problems():
    """iter_rollout yields lines lazily and fills .problems as it goes."""
    it = rollout.iter_rollout(io.BytesIO(SAMPLE + b"oops\n"))
    assert isinstance(next(it), ev.SessionMetaLine) and it.problems == []
    rest = list(it)
    assert len(rest) == 3 and [p.kind for p in it.problems] == ["malformed"]


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", b"\r\n"])
def test_empty_source_raises_empty_rollout(data):
    """An empty or whitespace-only source is 'empty session file' (TC40)."""
    with pytest.raises(EmptyRollout):
        rollout.read_rollout(data)


def test_all_undecodable_lines_give_no_lines_and_no_thread_id():
    """A file of garbage loads with zero lines and no thread id (TC40)."""
    result = rollout.read_rollout(b"junk\n{]\n")
    assert result.lines == [] and result.thread_id is None and len(result.problems) == 2


def test_missing_file_raises_unreadable_naming_the_path(tmp_path):
    """A missing path raises UnreadableRollout with the path in the message."""
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(UnreadableRollout, match=r"nope\.jsonl"):
        rollout.read_rollout(missing)


def test_corrupt_zst_raises_unreadable(tmp_path):
    """A .zst file that is not zstd raises UnreadableRollout."""
    bad = tmp_path / "r.jsonl.zst"
    bad.write_bytes(b"\x28\xb5\x2f\xfd" + b"garbage" * 10)
    with pytest.raises(UnreadableRollout):
        rollout.read_rollout(bad)


def test_ghost_snapshots_decode_without_problems():
    """Legacy ghost snapshot lines and history entries are not errors (TC28, TC29)."""
    data = (
        b'{"timestamp":"t","type":"session_meta","payload":{"id":"m1","timestamp":"t","cwd":".","originator":"o","cli_version":"1","source":"cli","model_provider":"openai"}}\n'
        b'{"timestamp":"t","type":"response_item","payload":{"type":"ghost_snapshot","ghost_commit":{"id":"deadbeef","preexisting_untracked_dirs":[],"preexisting_untracked_files":[]}}}\n'
        b'{"timestamp":"t","type":"compacted","payload":{"message":"summary","replacement_history":[{"type":"message","role":"assistant","content":[{"type":"output_text","text":"kept"}]},{"type":"ghost_snapshot","ghost_commit":{}}]}}\n'
    )
    result = rollout.read_rollout(data)
    assert result.problems == [] and result.thread_id == "m1"
    upcast = rollout.upcast(result.lines)
    assert [line.type for line in upcast] == ["session_meta", "compacted"]
    assert len(upcast[1].payload.replacement_history) == 1


def test_legacy_guardian_line_without_started_at_defaults_to_zero():
    """guardian_assessment without started_at_ms decodes with 0 (TC30)."""
    raw = b'{"timestamp":"t","type":"event_msg","payload":{"type":"guardian_assessment","id":"guardian-1","turn_id":"turn-1","status":"in_progress","action":{"type":"command","source":"shell","command":"rm -rf /tmp/guardian","cwd":"/tmp"}}}\n'
    result = rollout.read_rollout(raw)
    assert result.problems == [] and result.lines[0].payload.started_at_ms == 0


def test_pre_envelope_file_is_flagged_legacy():
    """A 2025 file (bare header first) reads with legacy=True and its thread id."""
    data = b'{"id":"abc","timestamp":"2025-09-10T18:58:38.331Z","instructions":null}\n{"record_type":"state"}\n{"type":"message","role":"user","content":[]}\n'
    result = rollout.read_rollout(data)
    assert result.legacy and result.thread_id == "abc" and result.problems == []
