"""Bounded reading: long lines, problem floods, zstd bombs and truncated or odd zstd streams.

Memory is measured in a child process with tracemalloc (peak of Python allocations,
which include every bytes/str object the reader makes), never by timing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import zstandard

import rollout
from rollout import ReadLimits
from rollout.errors import EmptyRollout, UnreadableRollout

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = (ROOT / "examples").glob("rollout-*.jsonl").__next__().read_bytes()
SAMPLE_LINES = SAMPLE.count(b"\n")
MiB = 1 << 20


def _zst(data: bytes, level: int = 3) -> bytes:
    return zstandard.ZstdCompressor(level=level).compress(data)


def _peak_mib(code: str, *args: object) -> tuple[float, dict]:
    """Run ``code`` in a fresh interpreter under tracemalloc; returns its peak (MiB) and its JSON result.

    The code gets ``args`` (as strings) and sets ``result`` to something JSON-encodable.
    """
    script = textwrap.dedent(
        """
        import json, sys, tracemalloc
        import rollout
        from rollout import ReadLimits
        args = sys.argv[1:]
        tracemalloc.start()
        {code}
        peak = tracemalloc.get_traced_memory()[1]
        print(json.dumps({"peak": peak, "result": result}))
        """
    ).replace("{code}", textwrap.dedent(code).strip())
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    return report["peak"] / MiB, report["result"]


def _write_long_line_file(path: Path, size: int) -> None:
    """A valid rollout with one ``size``-byte line in the middle, written without holding it."""
    with open(path, "wb") as file:
        file.write(SAMPLE)
        file.write(b'{"timestamp":"2026-06-01T10:00:00.000Z","type":"event_msg","payload":{"type":"agent_message","message":"')
        for _ in range(size // MiB):
            file.write(b"y" * MiB)
        file.write(b'"}}\n')
        file.write(SAMPLE)


# --------------------------------------------------------------------------- long lines


def test_a_line_over_the_limit_is_a_too_long_problem_and_the_rest_reads():
    """The long line is reported with its size; the lines on both sides decode."""
    data = SAMPLE + b'{"type":"event_msg","payload":"' + b"x" * 5000 + b'"}\n' + SAMPLE
    result = rollout.read_rollout(data, limits=ReadLimits(max_line_bytes=4096))
    assert len(result.lines) == 2 * SAMPLE_LINES
    [problem] = result.problems
    assert (problem.kind, problem.line, problem.offset) == ("too_long", SAMPLE_LINES + 1, len(SAMPLE))
    assert "5033 bytes" in problem.reason and "4096-byte limit" in problem.reason


def test_a_line_at_the_limit_is_decoded():
    """The limit is inclusive: a line of exactly max_line_bytes is read."""
    line = b'{"type":"event_msg","payload":{"type":"agent_message","message":"' + b"x" * 100 + b'"}}'
    result = rollout.read_rollout(line + b"\n", limits=ReadLimits(max_line_bytes=len(line)))
    assert len(result.lines) == 1 and result.problems == []


def test_a_long_line_across_chunks_of_a_file_is_measured_exactly(tmp_path):
    """Offsets after a skipped multi-chunk line stay right, and a long torn tail is reported once."""
    path = tmp_path / "long.jsonl"
    _write_long_line_file(path, 3 * MiB)
    with open(path, "ab") as file:
        file.write(b"z" * (2 * MiB + 7))  # an unterminated long tail
    result = rollout.read_rollout(path, limits=ReadLimits(max_line_bytes=MiB))
    assert len(result.lines) == 2 * SAMPLE_LINES
    assert [p.kind for p in result.problems] == ["too_long", "too_long"]
    assert "incomplete last line" in result.problems[1].reason
    assert result.problems[1].offset == path.stat().st_size - (2 * MiB + 7)


def test_a_file_holding_only_a_too_long_line_is_not_empty():
    """A skipped line still counts as content: a problem, not EmptyRollout."""
    result = rollout.read_rollout(b"x" * 100 + b"\n", limits=ReadLimits(max_line_bytes=10))
    assert result.lines == [] and [p.kind for p in result.problems] == ["too_long"]


def test_a_300_mib_line_over_a_1_mib_limit_costs_a_few_mib(tmp_path):
    """Skipping a line never holds it: peak memory stays near the limit, not the line."""
    path = tmp_path / "long.jsonl"
    _write_long_line_file(path, 300 * MiB)
    peak, kinds = _peak_mib(
        """
        found = rollout.read_rollout(args[0], limits=ReadLimits(max_line_bytes=1 << 20))
        result = [p.kind for p in found.problems]
        """,
        path,
    )
    assert kinds == ["too_long"]
    assert peak < 8, f"peak {peak:.1f} MiB"


@pytest.mark.slow
def test_a_300_mb_line_costs_at_most_the_default_limit(tmp_path):
    """With the default 256 MiB limit a 300 MiB line is refused at about the limit (it used to cost 900 MB)."""
    path = tmp_path / "long.jsonl"
    _write_long_line_file(path, 300 * MiB)
    peak, kinds = _peak_mib("result = [p.kind for p in rollout.read_rollout(args[0]).problems]", path)
    assert kinds == ["too_long"]
    assert peak < 256 + 16, f"peak {peak:.1f} MiB"


# --------------------------------------------------------------------------- problem floods


def test_problems_past_the_cap_are_counted_in_one_omitted_problem():
    """Blank lines beyond max_problems are counted, not listed, and the lines after still read."""
    result = rollout.read_rollout(SAMPLE + b"\n" * 1000 + SAMPLE, limits=ReadLimits(max_problems=10))
    assert len(result.lines) == 2 * SAMPLE_LINES
    assert [p.kind for p in result.problems] == ["blank"] * 10 + ["omitted"]
    assert result.problems_omitted == 990
    assert result.problems[-1].line == SAMPLE_LINES + 11
    assert "990 more problems" in result.problems[-1].reason


def test_a_flood_of_blank_lines_keeps_a_bounded_problem_list():
    """300,000 blank lines cost a bounded list (a Problem each used to cost ~150 bytes per 1-byte line)."""
    peak, result = _peak_mib(
        """
        found = rollout.read_rollout(b"\\n" * 300_000 + b'{"type":"x","payload":1}\\n')
        result = [len(found.problems), found.problems_omitted, len(found.lines)]
        """
    )
    assert result == [10_001, 290_001, 1]  # the unknown-type line is a (kept) problem too
    assert peak < 8, f"peak {peak:.1f} MiB"


# --------------------------------------------------------------------------- zstd


def test_a_truncated_small_zst_is_reported_truncated_not_empty():
    """Issue 17's rough edge: a cut .zst says it is truncated."""
    packed = _zst(SAMPLE)
    for cut in (4, 10, len(packed) // 2, len(packed) - 1):
        with pytest.raises(UnreadableRollout, match="truncated zstd data"):
            rollout.read_rollout(packed[:cut])


def test_a_truncated_zst_file_names_its_path(tmp_path):
    """The error names the file."""
    path = tmp_path / "rollout-cut.jsonl.zst"
    path.write_bytes(_zst(SAMPLE)[:-5])
    with pytest.raises(UnreadableRollout, match=r"rollout-cut\.jsonl\.zst: truncated"):
        rollout.read_rollout(path)


def test_a_zst_of_only_blank_lines_is_still_empty():
    """A complete frame with nothing but whitespace remains an empty rollout."""
    with pytest.raises(EmptyRollout):
        rollout.read_rollout(_zst(b"\n\n  \n"))


def test_concatenated_and_skippable_frames_read_as_one_stream(tmp_path):
    """Frames are read one after another (Codex may append frames); skippable frames are ignored."""
    skippable = b"\x50\x2a\x4d\x18" + (3).to_bytes(4, "little") + b"abc"
    head, tail = SAMPLE[: len(SAMPLE) // 3], SAMPLE[len(SAMPLE) // 3 :]
    path = tmp_path / "frames.jsonl.zst"
    path.write_bytes(_zst(head) + skippable + _zst(tail, level=19))
    result = rollout.read_rollout(path)
    assert len(result.lines) == SAMPLE_LINES and result.problems == []


def test_garbage_after_a_frame_is_reported_not_ignored():
    """Bytes after the last frame that are not a frame make the read fail, naming zstd."""
    with pytest.raises(UnreadableRollout, match="cannot decompress"):
        rollout.read_rollout(_zst(SAMPLE) + b"not zstd")


def test_a_zst_bomb_of_newlines_is_refused_past_the_grace():
    """1 GiB of newlines in ~33 KB is refused once it passes 100x its compressed size (after the grace)."""
    bomb = _zst(SAMPLE) + _zst(b"\n" * (16 * MiB)) * 64
    assert len(bomb) < 64 * 1024
    with pytest.raises(UnreadableRollout, match="decompression bomb") as caught:
        rollout.read_rollout(bomb, limits=ReadLimits(expansion_grace=256 * 1024))
    assert "over 100x" in str(caught.value)


def test_reading_a_tens_of_gb_zst_bomb_holds_a_bounded_buffer(tmp_path):
    """A file that would expand to 32 GiB: refused with a few MiB of memory, never inflated whole."""
    path = tmp_path / "bomb.jsonl.zst"
    chunk = _zst(b"x" * (128 * MiB))  # one frame: a 128 MiB line of 'x'
    path.write_bytes(_zst(SAMPLE) + chunk * 256)
    peak, message = _peak_mib(
        """
        try:
            rollout.read_rollout(args[0])
            result = "read"
        except rollout.UnreadableRollout as exc:
            result = str(exc)
        """,
        path,
    )
    assert "decompression bomb" in message and str(path) in message
    assert peak < 32, f"peak {peak:.1f} MiB"


def test_a_large_expansion_is_read_when_the_limit_allows_it():
    """max_expansion is a setting: raise it and the same bytes read, line by line."""
    data = SAMPLE + b'{"type":"x","payload":1}\n' * 100_000
    packed = _zst(data)
    with pytest.raises(UnreadableRollout):
        rollout.read_rollout(packed, limits=ReadLimits(max_expansion=100, expansion_grace=MiB))
    result = rollout.read_rollout(packed, limits=ReadLimits(max_expansion=100_000))
    assert len(result.lines) == SAMPLE_LINES + 100_000


def test_iter_rollout_streams_a_bomb_of_valid_lines_in_bounded_memory():
    """Streaming a permitted 256 MiB expansion keeps only a chunk and a line in memory."""
    message = b"hi " * 1500  # 4.5 KB lines: few enough to decode quickly
    line = b'{"timestamp":"2026-06-01T10:00:00.000Z","type":"event_msg","payload":{"type":"agent_message","message":"' + message + b'"}}\n'
    peak, count = _peak_mib(
        """
        import zstandard
        line = args[0].encode()
        frame = zstandard.ZstdCompressor().compress(line * (2**20 // len(line)))
        packed = frame * 256  # 256 frames of 1 MiB each
        tracemalloc.reset_peak()
        result = sum(1 for _ in rollout.iter_rollout(packed, limits=ReadLimits(max_expansion=10**6)))
        """,
        line.decode(),
    )
    assert count == 256 * (MiB // len(line))
    assert peak < 16, f"peak {peak:.1f} MiB"
