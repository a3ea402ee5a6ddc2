"""``rollout inspect`` on files Codex 0.171 wrote (paginated and legacy history): messages and tool calls show."""

from __future__ import annotations

import json

import pytest

from .conftest import ROOT

SCENARIOS = ROOT / "tests" / "conformance" / "fixtures" / "scenarios"


@pytest.mark.parametrize("mode", ["paginated", "legacy"])
def test_summary_of_a_current_file_counts_its_items_and_no_problems(cli, mode):
    """The summary of a 0.171 file has its turn, its items and no problems."""
    result = cli("inspect", SCENARIOS / f"mcp_tool.{mode}.0.jsonl")
    assert result.code == 0, result.err
    assert "problems   none" in result.out
    assert "1 mcpToolCall" in result.out and "1 userMessage" in result.out and "1 agentMessage" in result.out


def test_turn_tree_of_a_paginated_file_shows_messages_and_tool_calls(cli):
    """--turns lists the user message, the command execution and the reply of a paginated turn."""
    result = cli("inspect", "--turns", SCENARIOS / "exec_success.paginated.0.jsonl")
    assert result.code == 0, result.err
    lines = [line for line in result.out.splitlines() if "──" in line]
    kinds = [line.split("── ")[1].split()[0] for line in lines[1:]]
    assert kinds == ["userMessage", "reasoning", "commandExecution", "agentMessage"]
    assert "echo hello" in result.out and "listed" in result.out


def test_items_json_of_a_paginated_turn_are_codex_items(cli):
    """--items --json gives the items Codex's thread/read gives for that turn."""
    result = cli("inspect", "--items", "1", "--json", "--policy", "limited", SCENARIOS / "dynamic_tool.paginated.0.jsonl")
    assert result.code == 0, result.err
    shown = [json.loads(line) for line in result.out.splitlines()]
    codex = json.loads((SCENARIOS / "dynamic_tool.paginated.0.codex.json").read_text())["read"][0]["items"]
    assert shown == codex
