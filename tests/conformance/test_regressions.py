"""The rules learnt from the real Codex, one small rollout each, held against Codex's stored answers.

Fixtures come from ``python -m tests.conformance.regressions --update-golden`` (each rollout as
Codex read it, beside its ``thread/read`` turns). The offline test needs no binary; the live one
asks the installed Codex again, so a rule that changes upstream shows up.
"""

from __future__ import annotations

import json

import pytest

from rollout.reader import read_rollout

from .codex import require_codex
from .engine import canonical, first_difference, turns_json
from .regressions import CASES, FIXTURES, ask_codex
from .schema import turn_errors


def _check(codex_turns: list, lines: list) -> None:
    engine = turns_json(lines)
    assert first_difference(codex_turns, engine) is None
    assert canonical(codex_turns) == canonical(engine)
    assert [error for turn in engine for error in turn_errors(turn)] == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_rule_holds_against_codex_stored_answer(name):
    """The engine's limited view of the case equals what Codex answered when the fixture was made."""
    codex_turns = json.loads((FIXTURES / f"{name}.codex.json").read_text())
    _check(codex_turns, read_rollout(FIXTURES / f"{name}.jsonl").lines)


def test_every_rule_still_holds_against_the_installed_codex(tmp_path):
    """All cases, asked of the real Codex now (one app-server), equal the engine's limited view."""
    require_codex()
    for name, (path, reply) in ask_codex(tmp_path, sorted(CASES)).items():
        assert "error" not in reply, (name, reply)
        _check(reply["result"]["thread"]["turns"], read_rollout(path).lines)
