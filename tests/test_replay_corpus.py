"""Every real rollout in ../shared/corpus/codex-real rebuilds, with consistent ids.

The corpus is read in place (never copied). When ``../shared`` is absent beside
the checkout, every test here is skipped with the path it looked for.
"""

from __future__ import annotations

import collections
import itertools
import re
from pathlib import Path

import msgspec
import pytest

from replay import HistoryBuilder, build_turns, resume_context, turn_boundaries
from replay.items import Turn
from rollout import events as ev
from rollout.reader import read_rollout

CORPUS = Path(__file__).parents[2] / "shared" / "corpus" / "codex-real"
FILES = sorted(CORPUS.glob("*.jsonl")) if CORPUS.is_dir() else []
pytestmark = pytest.mark.skipif(not FILES, reason=f"rollout corpus not found at {CORPUS}")
IMPLICIT = re.compile(r"rollout-\d+")
# Events whose call id names the ThreadItem they build, and the turn they are routed to.
ITEM_EVENTS = (ev.ExecCommandEndEvent, ev.PatchApplyEndEvent, ev.McpToolCallEndEvent, ev.WebSearchEndEvent,
               ev.DynamicToolCallResponseEvent)
FIRST_HALVES = (ev.FunctionCall, ev.CustomToolCall, ev.LocalShellCall)


def _lines(path: Path) -> list:
    return read_rollout(path).lines


def _ids(files):
    return [pytest.param(path, id=path.name[-44:]) for path in files] or [pytest.param(None, id="no-corpus")]


def _expected_explicit_ids(lines) -> list[str]:
    """task_started ids in file order, with rolled-back turns removed (an independent oracle)."""
    kept: list[str] = []
    for line in lines:
        match line:
            case ev.EventMsgLine(payload=ev.TaskStartedEvent(turn_id=turn_id)):
                kept.append(turn_id)
            case ev.EventMsgLine(payload=ev.ThreadRolledBackEvent(num_turns=n)) if n > 0:
                del kept[max(len(kept) - n, 0):]
    return kept


@pytest.mark.parametrize("path", _ids(FILES))
@pytest.mark.parametrize("policy", ["extended", "limited"])
def test_corpus_file_rebuilds_and_encodes_as_v2_turns(path, policy):
    """Each file rebuilds under both policies and its JSON decodes back as v2 Turns."""
    turns = build_turns(_lines(path), policy=policy)
    encoded = msgspec.json.encode(turns)
    assert msgspec.json.encode(msgspec.json.decode(encoded, type=list[Turn])) == encoded


@pytest.mark.parametrize("path", _ids(FILES))
def test_corpus_explicit_turn_ids_follow_task_started(path):
    """Explicit turn ids are the task_started ids in file order, minus rolled-back turns."""
    lines = _lines(path)
    explicit = [turn.id for turn in build_turns(lines) if not IMPLICIT.fullmatch(turn.id)]
    assert explicit == _expected_explicit_ids(lines)


@pytest.mark.parametrize("path", _ids(FILES))
def test_corpus_item_ids_are_unique_within_the_thread(path):
    """No two items of a thread share an id."""
    ids = [item.id for turn in build_turns(_lines(path)) for item in turn.items]
    assert [item_id for item_id, count in collections.Counter(ids).items() if count > 1] == []


@pytest.mark.parametrize("path", _ids(FILES))
def test_corpus_call_with_both_halves_yields_one_item(path):
    """A call id seen as call and completion (or begin and end) yields exactly one item."""
    lines = _lines(path)
    starts = {line.payload.call_id for line in lines
              if isinstance(line, ev.ResponseItemLine) and isinstance(line.payload, FIRST_HALVES)}
    known_turns = {"", *_expected_explicit_ids(lines)}
    ends = {line.payload.call_id for line in lines
            if isinstance(line, ev.EventMsgLine) and isinstance(line.payload, ITEM_EVENTS)
            and getattr(line.payload, "turn_id", "") in known_turns}
    counts = collections.Counter(item.id for turn in build_turns(lines) for item in turn.items)
    assert {call_id: counts[call_id] for call_id in starts & ends if counts[call_id] != 1} == {}


@pytest.mark.parametrize("path", _ids(FILES))
def test_corpus_incremental_builder_matches_one_shot_and_survives_dump(path):
    """Feeding a file in two halves, through dump/load, equals build_turns of the whole."""
    lines = _lines(path)
    half = len(lines) // 2
    first = HistoryBuilder().feed_many(lines[:half])
    resumed = HistoryBuilder.load(first.dump()).feed_many(lines[half:])
    assert resumed.snapshot() == build_turns(lines)


@pytest.mark.parametrize("path", _ids(FILES))
def test_corpus_spans_and_resume_context_are_consistent(path):
    """Turn spans match the turns and tile the file; resume_context never fails."""
    lines = _lines(path)
    spans = turn_boundaries(lines)
    assert [span.turn_id for span in spans] == [turn.id for turn in build_turns(lines)]
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    assert all(span.start < span.end <= len(lines) for span in spans)
    resume_context(lines)
