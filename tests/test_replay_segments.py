"""replay.segments: a paginated thread's history across segment files (revert, fork, a missing base)."""

from __future__ import annotations

import json

from replay import build_turns, segments
from rollout.codec import decode_line

T1, T2 = "01970000-0000-7000-8000-000000000001", "01970000-0000-7000-8000-000000000002"


def line(ordinal, kind, payload, stamp="2026-06-01T10:00:00.000Z"):
    return decode_line(json.dumps({"timestamp": stamp, "ordinal": ordinal, "type": kind, "payload": payload}).encode())


def meta(ordinal, thread, stamp, base=None):
    payload = {"id": thread, "timestamp": stamp, "cwd": "/w", "originator": "o", "cli_version": "0.171.0",
               "source": "cli", "history_mode": "paginated"}
    if base:
        payload["history_base"] = base
    return line(ordinal, "session_meta", payload, stamp)


def turn(first, thread, turn_id, text):
    item = {"type": "AgentMessage", "id": f"a-{turn_id}", "content": [{"type": "Text", "text": text}]}
    return [line(first, "event_msg", {"type": "task_started", "turn_id": turn_id}),
            line(first + 1, "event_msg", {"type": "item_completed", "thread_id": thread, "turn_id": turn_id, "item": item}),
            line(first + 2, "event_msg", {"type": "task_complete", "turn_id": turn_id})]


ROOT = [meta(0, T1, "2026-06-01T10:00:00.000Z"), *turn(1, T1, "t1", "one"), *turn(4, T1, "t2", "two"), *turn(7, T1, "t3", "3")]
REVERT = [meta(4, T1, "2026-06-01T13:00:00.000Z", {"thread_id": T1, "end_ordinal_exclusive": 4}), *turn(5, T1, "t4", "four")]
FORK = [meta(10, T2, "2026-06-01T12:00:00.000Z", {"thread_id": T1, "end_ordinal_exclusive": 10}), *turn(11, T2, "t5", "5")]


def texts(lines):
    return [[item.text for item in turn.items] for turn in build_turns(lines, policy="limited")]


def known(*files):
    described = [segments.describe(name, lines) for name, lines in files]
    return described, {name: lines for name, lines in files}


def resolve(latest, *files):
    described, by_key = known(*files)
    head = next(segment for segment in described if segment.key == latest)
    chain, gap = segments.chain(head, lambda thread: [s for s in described if s.thread_id == thread])
    return [segment.key for segment in chain], gap, segments.join([(s, by_key[s.key]) for s in chain])


def test_a_revert_segment_continues_the_thread_before_the_reverted_turn():
    """The new segment cuts its own thread's earlier segment at the base ordinal."""
    keys, gap, lines = resolve("revert", ("root", ROOT), ("revert", REVERT))
    assert (keys, gap) == (["root", "revert"], None)
    assert texts(lines) == [["one"], ["four"]]


def test_a_fork_child_is_based_on_the_parent_as_it_was_when_forked():
    """The parent's segment created before the child is picked, not its later revert."""
    keys, gap, lines = resolve("fork", ("root", ROOT), ("revert", REVERT), ("fork", FORK))
    assert (keys, gap) == (["root", "fork"], None)
    assert texts(lines) == [["one"], ["two"], ["3"], ["5"]]


def test_a_missing_base_is_reported_and_the_segment_shows_its_own_turns():
    """Without the base segment the chain is the segment alone, with the gap described."""
    keys, gap, lines = resolve("revert", ("revert", REVERT))
    assert keys == ["revert"] and gap is not None and T1 in gap.describe()
    assert texts(lines) == [["four"]]


def test_cut_keeps_lines_below_the_ordinal_or_position():
    """Numbered lines cut by ordinal; unnumbered ones by position."""
    assert len(segments.cut(ROOT, 4)) == 4
    assert segments.cut(["a", "b", "c"], 2) == ["a", "b"]


def test_describe_reads_the_first_session_meta():
    """A segment is known by its thread, creation time, first ordinal and base."""
    found = segments.describe("k", REVERT)
    assert (found.thread_id, found.first_ordinal, found.base.end_ordinal_exclusive) == (T1, 4, 4)
    assert segments.describe("k", turn(0, T1, "t", "x")) is None
