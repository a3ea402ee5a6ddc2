"""RolloutWriter: torn-tail fencing, batching, durability modes, one writer per file."""

from __future__ import annotations

import pytest

import rollout
from rollout import events as ev
from rollout.errors import WriterError, WriterLocked


def _line(n: int) -> ev.Line:
    return ev.EventMsgLine(timestamp="2026-01-01T00:00:00.000Z", payload=ev.AgentMessageEvent(message=f"m{n}"))


@pytest.mark.parametrize("durability", ["batch", "line", "none"])
def test_written_lines_read_back_equal(tmp_path, durability):
    """What the writer appends reads back as the same lines, in order."""
    path = tmp_path / "sub" / "r.jsonl"
    with rollout.RolloutWriter(path, durability=durability) as writer:
        writer.write([_line(1), _line(2)])
        writer.write([_line(3)])
    assert rollout.read_rollout(path).lines == [_line(1), _line(2), _line(3)]


def test_torn_last_line_is_fenced_before_the_next_record(tmp_path):
    """A crash fragment stays one problem; the next append is readable."""
    path = tmp_path / "r.jsonl"
    path.write_bytes(rollout.encode_line(_line(1)) + b"\n" + b'{"timestamp":"2026-01-01T00:0')
    with rollout.RolloutWriter(path) as writer:
        assert writer.fenced_torn_line
        writer.write([_line(2)])
    result = rollout.read_rollout(path)
    assert result.lines == [_line(1), _line(2)]
    assert [p.kind for p in result.problems] == ["malformed"]


def test_second_writer_on_the_same_file_is_refused(tmp_path):
    """Two writers never interleave: the second gets WriterLocked."""
    path = tmp_path / "r.jsonl"
    with rollout.RolloutWriter(path), pytest.raises(WriterLocked, match=r"r\.jsonl"):
        rollout.RolloutWriter(path)
    rollout.RolloutWriter(path).close()


def test_decoded_lines_are_written_byte_exact(tmp_path):
    """Appending decoded lines keeps their original bytes."""
    raw = b'{"type":"event_msg","timestamp":"t","payload":{"type":"agent_message","message":"x","x_new":1}}'
    path = tmp_path / "r.jsonl"
    with rollout.RolloutWriter(path) as writer:
        writer.write([rollout.decode_line(raw)])
    assert path.read_bytes() == raw + b"\n"


def test_record_with_newline_is_rejected_and_nothing_written(tmp_path):
    """write_raw refuses a record that would split into two lines."""
    path = tmp_path / "r.jsonl"
    with rollout.RolloutWriter(path) as writer, pytest.raises(WriterError):
        writer.write_raw([b"{}", b'{"a":\n1}'])
    assert path.read_bytes() == b""


def test_bad_durability_is_a_value_error(tmp_path):
    """Only batch, line and none are accepted."""
    with pytest.raises(ValueError):
        rollout.RolloutWriter(tmp_path / "r.jsonl", durability="always")  # type: ignore[arg-type]
