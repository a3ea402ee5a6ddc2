"""Scenarios run by the real Codex: the engine's ``limited`` view equals Codex's own answers.

The committed fixtures (``fixtures/scenarios/``, written by ``python -m
tests.conformance.generate --update-golden``) hold each scenario thread's rollout as Codex
0.171.0 wrote it, the segments it is based on, and what Codex answered for it from its own
home (``thread/read`` with turns, ``thread/turns/list`` with full items). They are compared
without the binary. The live tests run the scenarios through the binary again, so a
change in what Codex writes or answers shows up even before the fixtures are refreshed;
the default run takes a few scenarios, ``-m slow`` all of them. The live runs also compare
``thread/turns/list`` with its defaults (summary items, newest turn first).

Normalisations: none beyond ``normalise.py``'s (these answers carry no path or mtime field).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .codex import require_codex
from .engine import canonical, first_difference, thread_lines, turns_json
from .generate import FIXTURES, Generated, generate, read_back, runs
from .schema import turn_errors

QUICK = ["multi_turn", "exec_success", "fork", "revert", "failed_request"]


def fixture_keys() -> list[str]:
    return sorted(path.name[: -len(".jsonl")] for path in FIXTURES.glob("*.jsonl") if ".base" not in path.name)


def _assert_equal(codex: list, engine: list, what: str) -> None:
    where = first_difference(codex, engine)
    assert where is None, f"{what}: {where}"
    assert canonical(codex) == canonical(engine)


@pytest.mark.parametrize("key", fixture_keys())
def test_limited_view_of_a_scenario_equals_codex(key):
    """thread/read and thread/turns/list of the scenario thread equal the engine's limited view byte for byte."""
    answer = json.loads((FIXTURES / f"{key}.codex.json").read_text())
    lines, gap = thread_lines(FIXTURES / f"{key}.jsonl", sorted(FIXTURES.glob(f"{key}.base*.jsonl")))
    assert gap is None
    engine = turns_json(lines)
    _assert_equal(answer["read"], engine, "thread/read")
    _assert_equal(answer["turnsList"], engine, "thread/turns/list")
    assert [error for turn in engine for error in turn_errors(turn)] == []


def test_every_line_codex_wrote_reads_without_problems():
    """Every line of every scenario file (0.171's format, both modes) decodes to a modelled type."""
    from rollout.reader import read_rollout

    problems = [(path.name, problem.describe()) for path in sorted(FIXTURES.glob("*.jsonl"))
                for problem in read_rollout(path).problems]
    assert problems == []


def test_fixtures_cover_every_scenario_in_every_mode():
    """Each scenario has a fixture per history mode it supports (forks: parent and child)."""
    expected = {f"{name}.{mode}.0" for name, mode in runs()}
    assert expected <= set(fixture_keys())
    children = {f"{name}.{mode}.1" for name in ("fork", "collab_agent") for mode in ("legacy", "paginated")}
    assert {key for key in fixture_keys() if key.endswith(".1")} == children


def test_paginated_revert_and_fork_replay_through_their_base_segments():
    """A reverted or forked paginated thread shows turns that only its base segment holds."""
    for key in ("revert.paginated.0", "fork.paginated.1"):
        alone = turns_json(thread_lines(FIXTURES / f"{key}.jsonl")[0])
        joined = turns_json(thread_lines(FIXTURES / f"{key}.jsonl", sorted(FIXTURES.glob(f"{key}.base*.jsonl")))[0])
        assert len(joined) > len(alone) >= 1


def _compare_live(tmp_path: Path, names: list[str]) -> list[Generated]:
    require_codex()
    home, generated = generate(tmp_path, runs(names))
    read_back(home, generated)
    for run in generated:
        for index, (path, answer) in enumerate(zip(run.paths, run.answers)):
            lines, gap = thread_lines(path, run.bases[index])
            assert gap is None
            engine = turns_json(lines)
            _assert_equal(answer["read"], engine, f"{run.key(index)} thread/read")
            _assert_equal(answer["turnsList"], engine, f"{run.key(index)} thread/turns/list")
            summary = list(reversed(turns_json(lines, items_view="summary")))  # the defaults: summary, newest first
            _assert_equal(answer["turnsListDefault"], summary, f"{run.key(index)} thread/turns/list (defaults)")
    return generated


def test_live_scenarios_equal_codex(tmp_path):
    """A few scenarios, run now by the real Codex in both modes, read back equal to the engine's view."""
    generated = _compare_live(tmp_path, QUICK)
    assert {(run.name, run.mode) for run in generated} == set(runs(QUICK))


@pytest.mark.slow
def test_all_live_scenarios_equal_codex(tmp_path):
    """Every scenario, run now by the real Codex in both modes, reads back equal to the engine's view."""
    generated = _compare_live(tmp_path, [])
    assert len(generated) == len(runs())
