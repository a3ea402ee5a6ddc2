"""ContextBuilder equals resume_context at every prefix, across dump/load, on generated and real threads."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replay import ContextBuilder, resume_context
from rollout.errors import CorruptLog
from rollout.reader import read_rollout
from tests.strategies import replay_threads, resume_threads, wire_event, wire_item, wire_line

CORPUS = Path(__file__).parents[2] / "shared" / "corpus" / "codex-real"
FILES = sorted(CORPUS.glob("*.jsonl")) if CORPUS.is_dir() else []
threads = st.one_of(resume_threads(), replay_threads())


def _context(builder: ContextBuilder, lines: list) -> object:
    """The builder's context, rebuilding it from the lines when it is stale (as a store does)."""
    context = builder.context()
    if context is None:
        context = ContextBuilder.of(lines).context()
        assert context is not None, "a freshly built builder is never stale"
    return context


@settings(max_examples=400)
@given(threads)
def test_context_after_each_line_equals_resume_context_of_the_prefix(lines):
    """Fed line by line, the builder's context is resume_context of the lines so far."""
    builder = ContextBuilder()
    assert builder.context() == resume_context([])
    for end, line in enumerate(lines, 1):
        builder.feed(line)
        context = _context(builder, lines[:end])
        assert context == resume_context(lines[:end])
        if builder.context() is None:
            builder = ContextBuilder.of(lines[:end])


@settings(max_examples=300)
@given(threads, st.data())
def test_dump_and_load_anywhere_then_feeding_the_rest_gives_the_same_context(lines, data):
    """A builder restored from dump() continues exactly like the one that was dumped."""
    cut = data.draw(st.integers(0, len(lines)))
    builder = ContextBuilder()
    builder.feed_many(lines[:cut])
    restored = ContextBuilder.load(builder.dump())
    assert restored.lines_seen == cut
    builder.feed_many(lines[cut:])
    restored.feed_many(lines[cut:])
    assert restored.context() == builder.context()
    assert _context(restored, lines) == resume_context(lines)


def _payloads(lines: list, asked: list[list[int]] | None = None):
    """A ``payloads`` callable over ``lines`` (recording what it was asked in ``asked``)."""
    def payloads(indices: list[int]) -> list:
        if asked is not None:
            asked.append(list(indices))
        return [lines[index].payload for index in indices]
    return payloads


@settings(max_examples=300)
@given(threads, st.data())
def test_a_dump_by_reference_loads_into_the_same_builder(lines, data):
    """dump(by_reference=True) + load(payloads) continues exactly like the builder dumped, at any cut."""
    cut = data.draw(st.integers(0, len(lines)))
    builder = ContextBuilder()
    builder.feed_many(lines[:cut])
    asked: list[list[int]] = []
    data = builder.dump(by_reference=True)
    restored = ContextBuilder.load(data, _payloads(lines, asked))
    assert ContextBuilder.references(data) == (asked[0] if asked else [])
    assert ContextBuilder.references(builder.dump()) == []
    assert restored.lines_seen == cut
    assert all(indices == sorted(set(indices)) and indices[-1] < cut for indices in asked)
    assert restored.context() == builder.context()
    builder.feed_many(lines[cut:])
    restored.feed_many(lines[cut:])
    assert restored.context() == builder.context()
    assert _context(restored, lines) == resume_context(lines)


def test_a_dump_by_reference_holds_only_what_no_line_holds():
    """Items that are lines' payloads become line numbers; a compaction's items are kept in the dump."""
    big = "x" * 20_000
    lines = [wire_item({"type": "message", "role": "user", "content": [{"type": "input_text", "text": big}]}),
             wire_event({"type": "task_started", "turn_id": "t1"}),
             wire_item({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": big}]})]
    builder = ContextBuilder()
    builder.feed_many(lines)
    assert len(builder.dump(by_reference=True)) < 1_000 < 40_000 < len(builder.dump())
    asked: list[list[int]] = []
    assert ContextBuilder.load(builder.dump(by_reference=True), _payloads(lines, asked)).context() == builder.context()
    assert asked == [[0, 2]]
    builder.feed(wire_line("compacted", {"message": "s", "replacement_history": [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "kept " + big}]}]}))
    assert len(builder.dump(by_reference=True)) > 20_000  # the checkpoint's item is no line's payload
    assert ContextBuilder.load(builder.dump(by_reference=True)).context() == builder.context()  # asks for nothing


def test_a_dump_by_reference_refuses_payloads_that_do_not_fit():
    """Missing payloads, the wrong number of them or ones that are not response items raise CorruptLog."""
    lines = [wire_item({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "a"}]}),
             wire_item({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "b"}]})]
    builder = ContextBuilder()
    builder.feed_many(lines)
    data = builder.dump(by_reference=True)
    for payloads in (None, lambda indices: [lines[0].payload], lambda indices: ["not an item"] * len(indices)):
        with pytest.raises(CorruptLog):
            ContextBuilder.load(data, payloads)


def test_rollback_across_a_compaction_makes_the_builder_stale_until_rebuilt():
    """A rollback discarding a turn whose checkpoint was applied: context() says so; of() is exact."""
    lines = [
        wire_event({"type": "task_started", "turn_id": "t1"}),
        wire_item({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "one"}]}),
        wire_event({"type": "task_started", "turn_id": "t2"}),
        wire_item({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "two"}]}),
        wire_line("compacted", {"message": "s", "replacement_history": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "summary"}]}]}),
        wire_event({"type": "thread_rolled_back", "num_turns": 1}),
    ]
    builder = ContextBuilder()
    builder.feed_many(lines)
    assert builder.context() is None
    rebuilt = ContextBuilder.of(lines).context()
    assert rebuilt == resume_context(lines)
    assert [item.content[0].text for item in rebuilt.items] == ["one"]


def test_unknown_items_survive_dump_and_load():
    """Items the model does not describe come back as the same UnknownResponseItem."""
    lines = [wire_item({"type": "future_item", "x": [1, 2.5, "y"]}),
             wire_line("compacted", {"message": "s", "replacement_history": [{"type": "future_item", "x": 1}]})]
    builder = ContextBuilder()
    builder.feed_many(lines)
    assert ContextBuilder.load(builder.dump()).context() == resume_context(lines)


def test_load_of_garbage_raises_corrupt_log():
    """Bytes that are not a dumped builder raise CorruptLog."""
    with pytest.raises(CorruptLog):
        ContextBuilder.load(b"\x93\x01\x02")


@pytest.mark.skipif(not FILES, reason=f"rollout corpus not found at {CORPUS}")
@pytest.mark.parametrize("path", FILES or [None], ids=lambda p: p.name[-44:] if p else "no-corpus")
def test_corpus_builder_equals_resume_context_through_dump_and_load(path):
    """Every real rollout: fed in two halves around a dump/load, the context is resume_context's."""
    lines = read_rollout(path).lines
    half = len(lines) // 2
    builder = ContextBuilder()
    builder.feed_many(lines[:half])
    builder = ContextBuilder.load(builder.dump())
    builder.feed_many(lines[half:])
    assert _context(builder, lines) == resume_context(lines)
