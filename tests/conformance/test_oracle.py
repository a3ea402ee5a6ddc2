"""The oracle harness itself: the real Codex reads a placed file and runs a scripted turn offline."""

from __future__ import annotations

from pathlib import Path

from .codex import AppServer
from .home import make_home, place
from .model import ScriptedModel, call, reasoning, text

EXAMPLE = Path(__file__).resolve().parents[2] / "examples"


def test_codex_lists_and_reads_a_placed_file(tmp_path):
    """A file placed by `place` is listed and read by Codex, with the fixed mtime as updatedAt."""
    home = make_home(tmp_path / "home")
    sample = next(EXAMPLE.glob("rollout-*.jsonl"))
    place(home, sample)
    with AppServer(home) as codex:
        listed = codex.request("thread/list", {})["result"]["data"]
        assert [entry["id"] for entry in listed] == [sample.stem[-36:]]
        assert listed[0]["updatedAt"] == 1780272000
        thread = codex.request("thread/read", {"threadId": listed[0]["id"], "includeTurns": True})["result"]["thread"]
        assert [turn["status"] for turn in thread["turns"]] == ["completed", "completed"]


def test_scripted_model_runs_a_tool_call_through_codex(tmp_path):
    """Codex runs a scripted exec_command and records it, offline."""
    script = [[reasoning("checking"), call("exec_command", {"cmd": "echo hi"}, "call_1")], [text("It printed hi.")]]
    with ScriptedModel(script) as model:
        home = make_home(tmp_path / "home", model_url=model.url)
        with AppServer(home, env={"FAKE_API_KEY": "x"}) as codex:
            started = codex.request("thread/start", {"cwd": str(home), "approvalPolicy": "never",
                                                    "sandbox": "danger-full-access"})
            thread_id = started["result"]["thread"]["id"]
            codex.request("turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": "say hi"}]})
            codex.wait_notification("turn/completed", timeout=90)
            turns = codex.request("thread/read", {"threadId": thread_id, "includeTurns": True})["result"]["thread"]["turns"]
    kinds = [item["type"] for item in turns[0]["items"]]
    assert kinds == ["userMessage", "reasoning", "commandExecution", "agentMessage"]
    assert turns[0]["items"][2]["aggregatedOutput"] == "hi\n"
    assert len(model.requests) == 2
