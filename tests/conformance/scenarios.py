"""The scenarios: small scripts of model outputs that the real Codex runs against the scripted model.

Each scenario is a function ``(driver, mode) -> [thread ids]``: it starts a thread in history
mode ``mode`` (``"legacy"`` or ``"paginated"``), runs turns whose model answers it scripts,
and may call other ``thread/*`` methods (interrupt, compact, fork, revert, inject). It returns
the threads whose rollout files are to be compared (the thread itself, then any fork child).
:data:`SCENARIOS` maps names to functions; :class:`Driver` holds the app-server, the scripted
model and a work folder, and knows how to run one turn.

Must not import: the engine's packages (this is the oracle's side).
"""

from __future__ import annotations

import base64
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .codex import AppServer
from .model import Fail, Hold, ScriptedModel, call, reasoning, text

MODES = ("legacy", "paginated")
#: a 1x1 PNG, for images in user input and view_image
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PNG_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()
BASE_INSTRUCTIONS = "You are a scripted test agent."
DYNAMIC_TOOLS = [{"name": "lookup", "description": "Look a word up",
                  "inputSchema": {"type": "object", "properties": {"word": {"type": "string"}}}}]

Scenario = Callable[["Driver", str], list[str]]
SCENARIOS: dict[str, Scenario] = {}
#: scenarios that only make sense in one history mode, and why
ONLY_MODE = {"revert": ("paginated", "thread/revert serves only paginated-history threads in Codex 0.171.0")}


def scenario(fn: Scenario) -> Scenario:
    SCENARIOS[fn.__name__] = fn
    return fn


def mcp_config() -> str:
    """config.toml tables that give Codex the tiny stdio MCP server."""
    server = Path(__file__).with_name("mcp_server.py")
    return f'[mcp_servers.tiny]\ncommand = "{sys.executable}"\nargs = ["{server}"]\n'


class Driver:
    """Runs scenario steps on one app-server and one scripted model."""

    def __init__(self, codex: AppServer, model: ScriptedModel, work: Path) -> None:
        self.codex, self.model, self.work = codex, model, work
        self.tool_answers: list[dict[str, Any]] = []
        codex.on_server_request = self._answer

    def _answer(self, message: dict[str, Any]) -> dict[str, Any] | None:
        if message.get("method") == "item/tool/call":
            word = (message.get("params") or {}).get("arguments", {}).get("word", "")
            return {"success": True, "contentItems": [
                {"type": "inputText", "text": f"{word}: a small word"},
                {"type": "inputImage", "imageUrl": PNG_URL},
            ]}
        return None

    def result(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        reply = self.codex.request(method, params)
        if "error" in reply:
            raise AssertionError(f"{method} failed: {reply['error']}")
        return reply["result"]

    def start(self, mode: str, **params: Any) -> str:
        """Start a thread in ``mode`` and return its id."""
        started = self.result("thread/start", {
            "cwd": str(self.work), "approvalPolicy": "never", "sandbox": "danger-full-access",
            "baseInstructions": BASE_INSTRUCTIONS, "historyMode": mode, **params})
        return started["thread"]["id"]

    def turn(self, thread_id: str, user: str | list[dict[str, Any]], *answers: Any,
             status: str = "completed") -> dict[str, Any]:
        """Run one turn: push ``answers`` to the model, send ``user``, wait for turn/completed."""
        self.model.push(*answers)
        inputs = [{"type": "text", "text": user}] if isinstance(user, str) else user
        mark = len(self.codex.notifications)
        self.result("turn/start", {"threadId": thread_id, "input": inputs})
        done = self.codex.wait_notification("turn/completed", since=mark, timeout=90,
                                            where=lambda n: n["params"]["threadId"] == thread_id)
        turn = done["params"]["turn"]
        assert turn["status"] == status, f"turn ended {turn['status']}, expected {status}: {turn.get('error')}"
        return turn

    def interrupted_turn(self, thread_id: str, user: str, *before: Any) -> dict[str, Any]:
        """A turn interrupted while the model request after ``before`` is still open."""
        hold = Hold()
        self.model.push(*before, hold)
        mark = len(self.codex.notifications)
        turn_id = self.result("turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": user}]})["turn"]["id"]
        self._wait_for(lambda: hold in self.model.holds)
        self.result("turn/interrupt", {"threadId": thread_id, "turnId": turn_id})
        done = self.codex.wait_notification("turn/completed", since=mark, timeout=90,
                                            where=lambda n: n["params"]["threadId"] == thread_id)
        hold.release()
        return done["params"]["turn"]

    def _wait_for(self, condition: Callable[[], bool]) -> None:
        for _ in range(600):
            if condition():
                return
            self.codex.drain(0.05)
        raise AssertionError("the scripted model never saw the awaited request")


def _session_id(body: dict[str, Any]) -> int:
    """The unified-exec session id the last tool output announced."""
    outputs = [item for item in body.get("input", []) if item.get("type") == "function_call_output"]
    found = re.search(r"session ID (\d+)", json.dumps(outputs[-1]["output"]))
    assert found, f"no session id in {outputs[-1]}"
    return int(found[1])


# --------------------------------------------------------------------------- conversation


@scenario
def multi_turn(d: Driver, mode: str) -> list[str]:
    tid = d.start(mode)
    d.turn(tid, "first question", [text("first answer")])
    d.turn(tid, "second question", [text("thinking aloud", phase="commentary"), text("second answer")])
    d.turn(tid, "third question", [text("third answer", phase="final_answer")])
    return [tid]


@scenario
def reasoning_items(d: Driver, mode: str) -> list[str]:
    tid = d.start(mode)
    two_parts = {"type": "reasoning", "summary": [{"type": "summary_text", "text": "plan the reply"},
                                                  {"type": "summary_text", "text": "check it"}],
                 "content": [{"type": "reasoning_text", "text": "raw thoughts"}]}
    d.turn(tid, "think first", [two_parts, reasoning("second thought"), text("thought through")])
    return [tid]


# --------------------------------------------------------------------------- commands


@scenario
def exec_success(d: Driver, mode: str) -> list[str]:
    tid = d.start(mode)
    d.turn(tid, "list", [reasoning("look"), call("exec_command", {"cmd": "echo hello && ls /"}, "call_ok")],
           [text("listed")])
    return [tid]


@scenario
def exec_failure(d: Driver, mode: str) -> list[str]:
    tid = d.start(mode)
    d.turn(tid, "fail", [call("exec_command", {"cmd": "echo oops >&2; exit 3"}, "call_fail")], [text("it failed")])
    return [tid]


@scenario
def exec_long_output(d: Driver, mode: str) -> list[str]:
    tid = d.start(mode)
    d.turn(tid, "count", [call("exec_command", {"cmd": "seq 1 3000", "max_output_tokens": 100}, "call_long")],
           [text("counted")])
    return [tid]


@scenario
def write_stdin(d: Driver, mode: str) -> list[str]:
    tid = d.start(mode)
    start = call("exec_command", {"cmd": "cat", "yield_time_ms": 300, "tty": True}, "call_cat")
    d.turn(tid, "talk to cat", [start],
           lambda body: [call("write_stdin", {"session_id": _session_id(body), "chars": "hello cat\n",
                                              "yield_time_ms": 300}, "call_in")],
           lambda body: [call("write_stdin", {"session_id": _session_id(body), "chars": "\u0004",
                                              "yield_time_ms": 1000}, "call_eof")],
           [text("cat answered")])
    return [tid]


@scenario
def apply_patch(d: Driver, mode: str) -> list[str]:
    tid = d.start(mode)
    patch = "*** Begin Patch\n*** Add File: notes.txt\n+first line\n*** End Patch\n"
    update = "*** Begin Patch\n*** Update File: notes.txt\n@@\n-first line\n+changed line\n*** End Patch\n"
    d.turn(tid, "write a file", [call("exec_command", {"cmd": f"apply_patch <<'EOF'\n{patch}EOF\n"}, "call_patch")],
           [call("exec_command", {"cmd": f"apply_patch <<'EOF'\n{update}EOF\n"}, "call_patch2")], [text("written")])
    return [tid]


# --------------------------------------------------------------------------- images, web, tools


@scenario
def images(d: Driver, mode: str) -> list[str]:
    tid = d.start(mode)
    picture = d.work / "picture.png"
    picture.write_bytes(PNG)
    d.turn(tid, [{"type": "text", "text": "look at these"}, {"type": "image", "url": PNG_URL},
                 {"type": "localImage", "path": str(picture)}], [text("two images")])
    d.turn(tid, "view the file", [call("view_image", {"path": str(picture)}, "call_view")], [text("a dot")])
    return [tid]


@scenario
def web_search(d: Driver, mode: str) -> list[str]:
    tid = d.start(mode)
    search = {"type": "web_search_call", "status": "completed", "action": {"type": "search", "query": "rollout format"}}
    page = {"type": "web_search_call", "status": "completed",
            "action": {"type": "open_page", "url": "https://example.com/"}}
    d.turn(tid, "search", [search, page, text("found it")])
    return [tid]


@scenario
def dynamic_tool(d: Driver, mode: str) -> list[str]:
    tid = d.start(mode, dynamicTools=DYNAMIC_TOOLS)
    d.turn(tid, "look up a word", [call("lookup", {"word": "cat"}, "call_dyn")], [text("looked up")])
    return [tid]


@scenario
def mcp_tool(d: Driver, mode: str) -> list[str]:
    tid = d.start(mode)
    echo = call("echo", {"text": "ping"}, "call_mcp")
    echo["namespace"] = "mcp__tiny"
    d.turn(tid, "echo via mcp", [echo], [text("echoed")])
    return [tid]


# --------------------------------------------------------------------------- turn outcomes


@scenario
def interrupted(d: Driver, mode: str) -> list[str]:
    tid = d.start(mode)
    d.turn(tid, "first", [text("fine")])
    d.interrupted_turn(tid, "second, to be interrupted", [reasoning("working"), call("exec_command", {"cmd": "true"}, "call_i")])
    d.turn(tid, "third", [text("back")])
    return [tid]


@scenario
def failed_request(d: Driver, mode: str) -> list[str]:
    tid = d.start(mode)
    d.turn(tid, "first", [text("fine")])
    d.turn(tid, "this one fails", Fail(400, "scripted bad request"), status="failed")
    return [tid]


# --------------------------------------------------------------------------- thread methods


@scenario
def compact(d: Driver, mode: str) -> list[str]:
    tid = d.start(mode)
    d.turn(tid, "before compaction", [text("noted")])
    d.model.push([text("Summary: the user said hello.")])
    mark = len(d.codex.notifications)
    d.result("thread/compact/start", {"threadId": tid})
    d.codex.wait_notification("turn/completed", since=mark, timeout=90,
                              where=lambda n: n["params"]["threadId"] == tid)
    d.turn(tid, "after compaction", [text("still here")])
    return [tid]


@scenario
def fork(d: Driver, mode: str) -> list[str]:
    tid = d.start(mode)
    d.turn(tid, "one", [text("answer one")])
    d.turn(tid, "two", [call("exec_command", {"cmd": "echo two"}, "call_f")], [text("answer two")])
    child = d.result("thread/fork", {"threadId": tid})["thread"]["id"]
    d.turn(child, "three, in the fork", [text("answer three")])
    return [tid, child]


@scenario
def revert(d: Driver, mode: str) -> list[str]:
    tid = d.start(mode)
    d.turn(tid, "keep me", [text("kept")])
    dropped = d.turn(tid, "drop me", [text("dropped")])
    d.turn(tid, "drop me too", [text("dropped too")])
    d.result("thread/revert", {"threadId": tid, "beforeTurnId": dropped["id"]})
    d.turn(tid, "after revert", [text("reverted")])
    return [tid]


@scenario
def inject_items(d: Driver, mode: str) -> list[str]:
    tid = d.start(mode)
    d.turn(tid, "hello", [text("hi")])
    d.result("thread/inject_items", {"threadId": tid, "items": [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "injected note"}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "injected reply"}]},
    ]})
    d.turn(tid, "after injection", [text("saw it")])
    return [tid]


@scenario
def collab_agent(d: Driver, mode: str) -> list[str]:
    """A sub-agent spawned and waited for (multi-agent tools); the child thread is compared too."""
    tid = d.start(mode)
    spawned: list[str] = []

    def route(body: dict[str, Any]) -> list[dict[str, Any]]:
        inputs = body.get("input", [])
        texts = [part.get("text") for item in inputs if item.get("role") == "user" for part in item.get("content", [])]
        if "child task" in texts:
            return [text("child done")]
        outputs = [item for item in inputs if item.get("type") == "function_call_output"]
        if not outputs:
            return [_agent_call("spawn_agent", {"message": "child task"}, "call_spawn")]
        if len(outputs) == 1:
            spawned.append(json.loads(outputs[0]["output"])["agent_id"])
            return [_agent_call("wait_agent", {"targets": spawned, "timeout_ms": 30000}, "call_wait")]
        return [text("the helper is done")]

    d.turn(tid, "use a helper", route, route, route, route)
    return [tid, *spawned]


def _agent_call(name: str, arguments: dict[str, Any], call_id: str) -> dict[str, Any]:
    item = call(name, arguments, call_id)
    item["namespace"] = "multi_agent_v1"
    return item
