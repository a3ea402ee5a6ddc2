"""Properties of the history reducer over generated threads (strategies in tests/strategies.py)."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from replay import HistoryBuilder, build_turns, turn_boundaries
from replay.items import Turn
from tests.conformance.schema import turn_errors
from tests.strategies import replay_threads, wire_event

policies = st.sampled_from(["extended", "limited"])

STATUSES = {"completed", "interrupted", "failed", "inProgress"}


@given(replay_threads(), policies, st.data())
def test_feeding_lines_one_by_one_equals_build_turns(lines, policy, data):
    """Incremental feeding (with snapshots and a dump/load on the way) equals one-shot build_turns."""
    builder = HistoryBuilder(policy)
    cut = data.draw(st.integers(0, len(lines)))
    for index, line in enumerate(lines):
        if index == cut:
            builder = HistoryBuilder.load(builder.dump())
        builder.feed(line)
        if data.draw(st.booleans()):
            builder.snapshot(running=data.draw(st.booleans()))
    assert builder.snapshot() == build_turns(lines, policy=policy)


@given(replay_threads(), policies)
def test_earlier_snapshots_never_change(lines, policy):
    """A snapshot taken mid-thread is not altered by lines fed afterwards."""
    builder = HistoryBuilder(policy)
    taken = []
    for line in lines:
        builder.feed(line)
        snapshot = builder.snapshot(running=True)
        taken.append((snapshot, msgspec.json.encode(snapshot)))
    assert all(msgspec.json.encode(snapshot) == encoded for snapshot, encoded in taken)


@given(replay_threads(late=False, rollbacks=False), policies)
def test_turns_of_a_prefix_cut_at_a_turn_boundary_are_a_prefix(lines, policy):
    """Replaying lines[:span.end] gives exactly the first turns through that span's turn."""
    whole = build_turns(lines, running=True, policy=policy)
    for position, span in enumerate(turn_boundaries(lines, policy=policy)):
        assert build_turns(lines[: span.end], running=True, policy=policy) == whole[: position + 1]


@given(replay_threads(), policies, st.integers(1, 4))
def test_appending_a_rollback_drops_the_last_turns(lines, policy, num_turns):
    """thread_rolled_back{n} at the end equals the replay without its last n turns."""
    before = build_turns(lines, running=True, policy=policy)
    rolled = [*lines, wire_event({"type": "thread_rolled_back", "num_turns": num_turns})]
    after = build_turns(rolled, running=True, policy=policy)
    assert after == before[: max(len(before) - num_turns, 0)]


@given(replay_threads(), policies, st.sampled_from(["full", "summary", "notLoaded"]), st.booleans())
def test_output_json_is_valid_against_codex_schema(lines, policy, items_view, running):
    """Every turn validates against Codex 0.171.0's Turn schema and decodes back unchanged."""
    turns = build_turns(lines, policy=policy, items_view=items_view, running=running)
    encoded = msgspec.json.encode(turns)
    assert msgspec.json.encode(msgspec.json.decode(encoded, type=list[Turn])) == encoded
    for turn in msgspec.json.decode(encoded):
        assert turn_errors(turn) == []
        assert turn["status"] in STATUSES
        assert turn["itemsView"] == items_view and (running or turn["status"] != "inProgress")
