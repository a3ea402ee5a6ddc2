"""Small rollouts, one per rule learnt from the real Codex, kept with Codex's answers for them.

Every rule the engine follows because Codex 0.171.0 was seen to follow it -- by a probe,
or by the property suite shrinking a counterexample -- has a minimal rollout here
(:data:`CASES`: lines as plain JSON, the session_meta added by :func:`rollout_lines`).
``python -m tests.conformance.regressions --update-golden`` writes each into one Codex home,
asks Codex (``thread/resume`` first for paginated ones), and stores the file as read and
Codex's turns in ``fixtures/regressions/``; ``test_regressions.py`` holds the engine to
them without the binary, and once more against the binary when it is installed.

Must not import: the engine's packages (this is the oracle's side).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from .codex import AppServer
from .home import make_home

FIXTURES = Path(__file__).with_name("fixtures") / "regressions"
_STAMP = "2026-06-01T10:00:00.000Z"


def _event(payload: dict[str, Any]) -> dict[str, Any]:
    return {"timestamp": _STAMP, "type": "event_msg", "payload": payload}


def _line(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"timestamp": _STAMP, "type": kind, "payload": payload}


def _user(text: str = "hello") -> dict[str, Any]:
    return _event({"type": "user_message", "message": text, "images": [], "local_images": [], "text_elements": []})


def _agent(text: str = "hi", **extra: Any) -> dict[str, Any]:
    return _event({"type": "agent_message", "message": text, **extra})


def _started(turn_id: str = "turn-a", **extra: Any) -> dict[str, Any]:
    return _event({"type": "task_started", "turn_id": turn_id, "started_at": 1780308000, **extra})


def _complete(turn_id: str = "turn-a", **extra: Any) -> dict[str, Any]:
    return _event({"type": "task_complete", "turn_id": turn_id, "started_at": 1780308000, "completed_at": 1780308001,
                   "duration_ms": 1000, **extra})


def _context(**extra: Any) -> dict[str, Any]:
    return _line("turn_context", {"cwd": "/w", "approval_policy": "never", "sandbox_policy": {"type": "read-only"},
                                  "model": "m", "summary": "auto", **extra})


def _turn(*body: dict[str, Any], turn_id: str = "turn-a") -> list[dict[str, Any]]:
    return [_started(turn_id), _user(), *body, _complete(turn_id)]


def _review(findings: int, explanation: str) -> dict[str, Any]:
    found = [{"title": f"Bug {n}", "body": f"body {n}\nmore", "confidence_score": 0.5, "priority": 1,
              "code_location": {"absolute_file_path": "/w/a.py", "line_range": {"start": n, "end": n + 2}}}
             for n in range(findings)]
    return _event({"type": "exited_review_mode", "review_output": {
        "findings": found, "overall_correctness": "c", "overall_explanation": explanation, "overall_confidence_score": 0.5}})


def _item(item: dict[str, Any], turn_id: str = "turn-a", thread: str | None = "$THREAD", **times: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"type": "item_completed", "thread_id": thread, "turn_id": turn_id, "item": item}
    return _event({**payload, **times})


def _agent_item(text: str = "hi", item_id: str = "a1") -> dict[str, Any]:
    return {"type": "AgentMessage", "id": item_id, "content": [{"type": "Text", "text": text}]}


_USER_ITEM = {"type": "UserMessage", "id": "u1", "content": [{"type": "text", "text": "hello", "text_elements": []}]}
_CITATION_CAMEL = {"entries": [{"path": "p", "lineStart": 1, "lineEnd": 2, "note": "n"}], "rolloutIds": ["r"]}
_CITATION_SNAKE = {"entries": [{"path": "p", "line_start": 1, "line_end": 2, "note": "n"}], "rollout_ids": ["r"]}
_AGENT_THREAD = "01970000-0000-7000-8000-0000000000ff"
_USAGE = {"input_tokens": 1, "cached_input_tokens": 0, "output_tokens": 1, "reasoning_output_tokens": 0, "total_tokens": 2}

#: name -> (history mode, lines after the session_meta); "$THREAD" stands for the thread's id
CASES: dict[str, tuple[str, list[dict[str, Any]]]] = {
    # ------------------------------------------------------------------ legacy: implicit turn ids
    "null_id_message_counts": ("legacy", [
        _line("response_item", {"type": "message", "id": None, "role": "user",
                                "content": [{"type": "input_text", "text": "2025 words"}]}), _user("2025 words"), _agent()]),
    "old_mode_sandbox_not_counted": ("legacy", [_context(), _user("a"), _context(sandbox_policy={"mode": "read-only"}), _user("b")]),
    "windows_cwd_not_counted": ("legacy", [_context(cwd="C:\\Users\\w"), _user("a"), _context(), _user("b")]),
    "relative_cwd_not_counted": ("legacy", [_context(cwd="w"), _user("a")]),
    "partial_token_count_not_counted": ("legacy", [
        _event({"type": "token_count", "info": {"total_token_usage": {"total_tokens": 1}}, "rate_limits": None}), _user("a"),
        _event({"type": "token_count", "info": {"total_token_usage": _USAGE, "last_token_usage": _USAGE}, "rate_limits": None}),
        _user("b")]),
    "plan_with_non_uuid_thread_not_counted": ("legacy", [
        _item({"type": "Plan", "id": "p", "text": "plan"}, turn_id="x", thread="t"), _user("a")]),
    # ------------------------------------------------------------------ legacy: items
    "web_search_results_pass_through": ("legacy", _turn(_event({
        "type": "web_search_end", "call_id": "ws", "query": "q", "action": {"type": "search", "query": "q"},
        "results": [{"type": "text_result", "title": "t", "url": "https://example.com/"}]}))),
    "review_one_finding": ("legacy", _turn(_review(1, "  Explained.  "))),
    "review_two_findings": ("legacy", _turn(_review(2, "Explained."))),
    "review_findings_without_explanation": ("legacy", _turn(_review(1, ""))),
    "review_explanation_only": ("legacy", _turn(_review(0, "All good."))),
    "review_nothing_falls_back": ("legacy", _turn(_event({"type": "exited_review_mode", "review_output": None}))),
    "memory_citation_camel_case": ("legacy", _turn(_agent("cited", memory_citation=_CITATION_CAMEL))),
    "memory_citation_snake_case_drops_the_message": ("legacy", _turn(_agent("cited", memory_citation=_CITATION_SNAKE))),
    "sub_agent_activity": ("legacy", _turn(_event({"type": "sub_agent_activity", "event_id": "e", "occurred_at_ms": 5,
                                                   "agent_thread_id": _AGENT_THREAD, "agent_path": "/root/w", "kind": "started"}))),
    "sub_agent_activity_refused": ("legacy", _turn(
        _event({"type": "sub_agent_activity", "event_id": "e", "occurred_at_ms": 5, "agent_thread_id": "a",
                "agent_path": "/root/w", "kind": "started"}),
        _event({"type": "sub_agent_activity", "event_id": "f", "occurred_at_ms": 5, "agent_thread_id": _AGENT_THREAD,
                "agent_path": "/root/w", "kind": "spawned"}))),
    "tool_ends_missing_fields_dropped": ("legacy", _turn(
        _event({"type": "mcp_tool_call_end", "call_id": "m", "invocation": {"server": "s", "tool": "t"}, "result": {"Err": "x"}}),
        _event({"type": "web_search_end", "call_id": "w", "query": "q"}),
        _event({"type": "patch_apply_end", "call_id": "p", "turn_id": "turn-a", "stdout": "", "stderr": "", "success": True,
                "changes": {"/w/a": {"type": "add", "content": "x"}}}))),
    "image_details_explicit_null": ("legacy", [_started(), _event({
        "type": "user_message", "message": "see", "images": ["data:image/png;base64,AA"], "image_details": ["high"],
        "local_images": ["/w/a.png"], "local_image_details": [None], "text_elements": []}), _complete()]),
    "hook_prompt_with_id": ("legacy", _turn(_line("response_item", {
        "type": "message", "id": "msg_hook", "role": "user",
        "content": [{"type": "input_text", "text": '<hook_prompt hook_run_id="h1">do it</hook_prompt>'}]}))),
    # ------------------------------------------------------------------ legacy: turn outcomes
    "task_complete_error_fails_the_turn": ("legacy", [_started(), _user(), _event({
        "type": "task_complete", "turn_id": "turn-a", "error": {"message": "boom", "codex_error_info": {
            "http_connection_failed": {"http_status_code": 500}}}})]),
    "error_event_does_not_fail_the_turn": ("legacy", _turn(_event({"type": "error", "message": "bad",
                                                                    "codex_error_info": "internal_server_error"}))),
    "root_turn_id_from_task_started": ("legacy", [
        _started(root_turn_id="root-1", turn_attribution={"turn_id": "turn-a", "root_turn_id": "x"}), _user(), _complete()]),
    "task_started_with_incomplete_attribution_dropped": ("legacy", [
        _started(root_turn_id="root-1", turn_attribution={"root_turn_id": "x"}), _user(), _complete()]),
    "abort_closes_the_current_turn": ("legacy", [_started(), _user(), _event({"type": "turn_aborted", "turn_id": "turn-a",
                                                                             "reason": "interrupted"}), _user("next")]),
    "abort_with_unknown_id_spares_an_explicit_turn": ("legacy", [_started(), _user(), _event({
        "type": "turn_aborted", "turn_id": "turn-z", "reason": "interrupted"}), _agent("still here"), _complete()]),
    "abort_with_unknown_id_ends_an_implicit_turn": ("legacy", [_user(), _event({
        "type": "turn_aborted", "turn_id": "turn-z", "reason": "interrupted"}), _agent("new turn")]),
    # ------------------------------------------------------------------ paginated
    "paginated_items_from_item_completed": ("paginated", [_started(), _item(_USER_ITEM, started_at_ms=1, completed_at_ms=2),
                                                          _item(_agent_item(), started_at_ms=3, completed_at_ms=4), _complete()]),
    "paginated_completion_restamps_start": ("paginated", [_started(), _item(_USER_ITEM), _event({
        "type": "task_complete", "turn_id": "turn-a", "completed_at": 1780308009})]),
    "paginated_recompleted_item_keeps_first_times": ("paginated", [
        _started(), _item(_agent_item("v1"), started_at_ms=1, completed_at_ms=2),
        _item(_agent_item("v2"), started_at_ms=7, completed_at_ms=8), _complete()]),
    "paginated_item_thread_must_be_a_uuid": ("paginated", [
        _started(), _item(_agent_item("kept", "k"), thread=_AGENT_THREAD), _item(_agent_item("dropped", "d"), thread="t"),
        _item(_agent_item("dropped too", "n"), thread=None), _complete()]),
    "paginated_ignores_legacy_events_and_rollback": ("paginated", [
        *_turn(_agent("legacy event")), _event({"type": "thread_rolled_back", "num_turns": 1}),
        _started("turn-b"), _item(_agent_item("b", "b1"), turn_id="turn-b"), _complete("turn-b")]),
    "paginated_late_item_and_unknown_turn": ("paginated", [
        _started("turn-a"), _complete("turn-a"), _started("turn-b"), _item(_agent_item("late", "l"), turn_id="turn-a"),
        _item(_agent_item("lost", "x"), turn_id="turn-missing"),
        _event({"type": "item_started", "thread_id": "$THREAD", "turn_id": "turn-b", "item": _agent_item("started", "s")}),
        _complete("turn-b")]),
    "paginated_strict_turn_items": ("paginated", [_started(),
        _item({"type": "CommandExecution", "id": "c1", "command": ["ls"], "cwd": "/w", "parsed_cmd": [], "source": "agent",
               "status": "completed", "aggregated_output": "", "exit_code": 0, "duration": None}),
        _item({"type": "CommandExecution", "id": "c2", "command": ["ls", "a b"], "cwd": "file:///w/a%20b", "parsed_cmd": [],
               "source": "agent", "status": "declined", "aggregated_output": "", "exit_code": None, "duration": None}),
        _item({"type": "ImageView", "id": "v1", "path": "/w/p.png"}),
        _item({"type": "ImageView", "id": "v2", "path": "file:///w/p.png"}),
        _item({"type": "WebSearch", "id": "w1", "query": "q"}),
        _item({"type": "FunctionCallOutput", "id": "f1", "name": "n", "namespace": "ns", "output": "x"}),
        _complete()]),
    "paginated_collab_thread_ids_must_be_uuids": ("paginated", [_started(),
        _item({"type": "CollabAgentToolCall", "id": "k1", "tool": "spawn_agent", "status": "completed",
               "sender_thread_id": "$THREAD", "receiver_thread_ids": [_AGENT_THREAD], "prompt": "p", "model": "m",
               "reasoning_effort": "low", "agents_states": {_AGENT_THREAD: {"completed": "done"}}}),
        _item({"type": "CollabAgentToolCall", "id": "k2", "tool": "wait", "status": "completed",
               "sender_thread_id": "not-a-thread", "receiver_thread_ids": [_AGENT_THREAD], "agents_states": {}}),
        _complete()]),
}


def rollout_lines(name: str, thread_id: str) -> list[dict[str, Any]]:
    """The case's lines with its session_meta, ``$THREAD`` replaced and (paginated) ordinals added."""
    mode, body = CASES[name]
    meta = {"id": thread_id, "timestamp": _STAMP, "cwd": "/w", "originator": "codex_cli_rs", "cli_version": "0.171.0",
            "source": "cli", "model_provider": "openai", "history_mode": mode}
    lines = json.loads(json.dumps([_line("session_meta", meta), *body]).replace("$THREAD", thread_id))
    if mode == "paginated":
        lines = [{"timestamp": line["timestamp"], "ordinal": ordinal, "type": line["type"], "payload": line["payload"]}
                 for ordinal, line in enumerate(lines)]
    return lines


def thread_id_of(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"rollout-engine/regressions/{name}"))


def ask_codex(root: Path, names: list[str]) -> dict[str, tuple[Path, dict[str, Any]]]:
    """Write the cases into a Codex home under ``root``; returns, per case, the file and Codex's reply."""
    home = make_home(root / "home")
    folder = home / "sessions" / "2026" / "06" / "01"
    folder.mkdir(parents=True)
    paths = {}
    for name in names:
        path = folder / f"rollout-2026-06-01T10-00-00-{thread_id_of(name)}.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in rollout_lines(name, thread_id_of(name))))
        paths[name] = path
    found = {}
    with AppServer(home, env={"OPENAI_API_KEY": "unused"}) as codex:
        for name, path in paths.items():
            if CASES[name][0] == "paginated":
                codex.request("thread/resume", {"threadId": thread_id_of(name)})
            found[name] = (path, codex.request("thread/read", {"threadId": thread_id_of(name), "includeTurns": True}))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update-golden", action="store_true", help="rewrite tests/conformance/fixtures/regressions")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="codex-regressions-"))
    try:
        answers = ask_codex(root, list(CASES))
        for name, (_, reply) in answers.items():
            print(name, "error" if "error" in reply else len(reply["result"]["thread"]["turns"]))
        if args.update_golden:
            shutil.rmtree(FIXTURES, ignore_errors=True)
            FIXTURES.mkdir(parents=True)
            for name, (path, reply) in answers.items():
                shutil.copyfile(path, FIXTURES / f"{name}.jsonl")
                turns = reply["result"]["thread"]["turns"]
                (FIXTURES / f"{name}.codex.json").write_text(json.dumps(turns, indent=1, ensure_ascii=False) + "\n")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
