"""The sample thread of ``rollout view``'s tests and of ``docs/view.png``, written for this project.

A fork of a made-up thread: one inherited turn, then turns with every kind of
entry the view draws (a user message with a screenshot, reasoning, a command,
a patch with its diff, ``view_image`` returning a picture, a dynamic tool, an
MCP call, a plan update known only from its record), a turn that is rolled
back, and token counts. The images are tiny PNGs drawn here.

``python -m tests.cli.view_sample PATH`` writes it (the copy in ``examples/``
comes from there; a test checks they agree).
"""

from __future__ import annotations

import base64
import json
import struct
import sys
import zlib
from pathlib import Path

THREAD = "019e2f00-0000-7000-8000-000000000002"
SOURCE = "019e2e00-0000-7000-8000-000000000003"
NAME = "rollout-2026-06-02T09-00-00-" + THREAD + ".jsonl"
CWD = "/home/dev/plotter"


def png(width: int, height: int, paint) -> str:
    """A PNG (RGB) as a data URI; ``paint(x, y)`` gives each pixel's colour."""
    rows = b"".join(b"\0" + b"".join(bytes(paint(x, y)) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _chart(legend_inside: bool):
    bars = [(14, 60), (44, 35), (74, 50), (104, 20)]  # (left, top) of 22-px-wide bars

    def paint(x: int, y: int) -> tuple[int, int, int]:
        box = (96, 8, 150, 34) if legend_inside else (132, 8, 158, 34)
        if box[0] <= x <= box[2] and box[1] <= y <= box[3]:
            return (250, 250, 250) if box[0] < x < box[2] and box[1] < y < box[3] else (90, 90, 90)
        if y == 92 and 8 <= x <= 128:
            return (60, 60, 60)
        for left, top in bars:
            if left <= x < left + 22 and top <= y < 92:
                return (31, 111, 235) if legend_inside else (26, 127, 55)
        return (255, 255, 255)

    return paint


SCREENSHOT = png(160, 100, _chart(legend_inside=True))
CHART = png(160, 100, _chart(legend_inside=False))


def _line(ts: str, kind: str, payload: dict) -> dict:
    return {"timestamp": ts, "type": kind, "payload": payload}


def _event(ts: str, payload: dict) -> dict:
    return _line(ts, "event_msg", payload)


def _item(ts: str, payload: dict) -> dict:
    return _line(ts, "response_item", payload)


def _meta(ts: str, thread: str, **extra) -> dict:
    return _line(ts, "session_meta", {"id": thread, "timestamp": ts, "cwd": CWD, "originator": "codex_cli_rs",
                                      "cli_version": "0.171.0", "source": "cli", "model_provider": "openai", **extra})


def _user(ts: str, text: str, images: tuple[str, ...] = ()) -> list[dict]:
    content = [{"type": "input_text", "text": text}] + [{"type": "input_image", "image_url": i} for i in images]
    return [_item(ts, {"type": "message", "role": "user", "content": content}),
            _event(ts, {"type": "user_message", "message": text, "images": list(images), "local_images": [],
                        "text_elements": []})]


def _agent(ts: str, text: str) -> list[dict]:
    return [_item(ts, {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}],
                       "phase": "final_answer"}),
            _event(ts, {"type": "agent_message", "message": text, "phase": "final_answer", "memory_citation": None})]


def _tokens(ts: str, total: int, last: int) -> dict:
    def usage(n: int) -> dict:
        return {"input_tokens": n - n // 20, "cached_input_tokens": 0, "output_tokens": n // 20,
                "reasoning_output_tokens": 0, "total_tokens": n}

    return _event(ts, {"type": "token_count", "info": {"total_token_usage": usage(total), "last_token_usage": usage(last),
                                                        "model_context_window": 258400}, "rate_limits": None})


def _turn(turn: str, ts: str, started: int) -> list[dict]:
    return [_event(ts, {"type": "task_started", "turn_id": turn, "started_at": started, "model_context_window": 258400}),
            _line(ts, "turn_context", {"turn_id": turn, "cwd": CWD, "approval_policy": "on-request", "model": "gpt-5.4",
                                       "summary": "auto"})]


def _done(turn: str, ts: str, completed: int, ms: int) -> dict:
    return _event(ts, {"type": "task_complete", "turn_id": turn, "completed_at": completed, "duration_ms": ms})


def _command(ts: str, turn: str, call: str, cmd: str, output: str, code: int, secs: int) -> list[dict]:
    argv = ["bash", "-lc", cmd]
    return [
        _item(ts, {"type": "function_call", "name": "exec_command", "arguments": json.dumps({"cmd": cmd}), "call_id": call}),
        _event(ts, {"type": "exec_command_end", "call_id": call, "process_id": "4242", "turn_id": turn, "command": argv,
                    "cwd": CWD, "parsed_cmd": [{"type": "unknown", "cmd": cmd}], "source": "agent", "stdout": output,
                    "stderr": "", "aggregated_output": output, "exit_code": code, "duration": {"secs": secs, "nanos": 0},
                    "formatted_output": output, "status": "completed" if code == 0 else "failed"}),
        _item(ts, {"type": "function_call_output", "call_id": call, "output": output}),
    ]


PATCH = """*** Begin Patch
*** Update File: plot.py
@@
-    ax.legend(loc="upper right")
+    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1))
+    fig.tight_layout()
*** End Patch
"""
DIFF = """@@ -18,4 +18,5 @@ def plot(weeks, sales):
     ax.bar(weeks, sales)
     ax.set_title("Weekly sales")
-    ax.legend(loc="upper right")
+    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1))
+    fig.tight_layout()
     fig.savefig("sales.png")
"""


def _inherited() -> list[dict]:
    t = "turn-a"
    return [
        _meta("2026-06-02T08:30:00.000Z", SOURCE),
        *_turn(t, "2026-06-02T08:30:05.000Z", 1780389005),
        *_user("2026-06-02T08:30:05.100Z", "Plot the weekly sales in data/sales.csv as a bar chart."),
        *_command("2026-06-02T08:30:09.000Z", t, "call_a1", "python plot.py data/sales.csv", "wrote sales.png\n", 0, 2),
        *_agent("2026-06-02T08:30:12.000Z", "Done: `plot.py` draws the bars and writes **sales.png**."),
        _tokens("2026-06-02T08:30:12.100Z", 6100, 6100),
        _done(t, "2026-06-02T08:30:12.200Z", 1780389012, 7200),
    ]


def _legend_turn() -> list[dict]:
    t = "turn-b"
    return [
        *_turn(t, "2026-06-02T09:01:00.000Z", 1780390860),
        *_user("2026-06-02T09:01:00.100Z", "The legend covers the last bars, see the screenshot. Move it outside the plot.",
               (SCREENSHOT,)),
        _item("2026-06-02T09:01:02.000Z", {"type": "reasoning", "summary": [{"type": "summary_text",
              "text": "Finding where the legend is placed"}], "content": None, "encrypted_content": "gAAAA-sample"}),
        _event("2026-06-02T09:01:02.001Z", {"type": "agent_reasoning", "text": "Finding where the legend is placed"}),
        *_command("2026-06-02T09:01:03.000Z", t, "call_b1", "rg -n legend plot.py",
                  '20:    ax.legend(loc="upper right")\n', 0, 0),
        _item("2026-06-02T09:01:05.000Z", {"type": "custom_tool_call", "status": "completed", "call_id": "call_b2",
                                           "name": "apply_patch", "input": PATCH}),
        _event("2026-06-02T09:01:05.300Z", {"type": "patch_apply_end", "call_id": "call_b2", "turn_id": t,
               "stdout": "Success. Updated the following files:\nM plot.py\n", "stderr": "", "success": True,
               "changes": {"plot.py": {"type": "update", "unified_diff": DIFF, "move_path": None}}, "status": "completed"}),
        _item("2026-06-02T09:01:05.301Z", {"type": "custom_tool_call_output", "call_id": "call_b2",
                                           "output": "Success. Updated the following files:\nM plot.py\n"}),
        *_command("2026-06-02T09:01:07.000Z", t, "call_b3", "python plot.py data/sales.csv", "wrote sales.png\n", 0, 2),
        _item("2026-06-02T09:01:09.000Z", {"type": "function_call", "name": "view_image",
                                           "arguments": json.dumps({"path": "sales.png"}), "call_id": "call_b4"}),
        _event("2026-06-02T09:01:09.100Z", {"type": "view_image_tool_call", "call_id": "call_b4", "path": f"{CWD}/sales.png"}),
        _item("2026-06-02T09:01:09.101Z", {"type": "function_call_output", "call_id": "call_b4",
                                           "output": [{"type": "input_image", "image_url": CHART}]}),
        _event("2026-06-02T09:01:10.000Z", {"type": "dynamic_tool_call_request", "callId": "call_b5", "turnId": t,
               "startedAtMs": 1780390870000, "namespace": "browser", "tool": "screenshot_diff",
               "arguments": {"before": "legend-before.png", "after": "sales.png"}}),
        _event("2026-06-02T09:01:11.000Z", {"type": "dynamic_tool_call_response", "call_id": "call_b5", "turn_id": t,
               "completed_at_ms": 1780390871000, "namespace": "browser", "tool": "screenshot_diff",
               "arguments": {"before": "legend-before.png", "after": "sales.png"},
               "content_items": [{"type": "inputText", "text": "The legend no longer overlaps any bar."}],
               "success": True, "error": None, "duration": {"secs": 1, "nanos": 0}}),
        _event("2026-06-02T09:01:12.000Z", {"type": "mcp_tool_call_end", "call_id": "call_b6",
               "invocation": {"server": "tracker", "tool": "comment", "arguments": {"issue": 42, "text": "Legend moved."}},
               "duration": {"secs": 0, "nanos": 300000000},
               "result": {"Ok": {"content": [{"type": "text", "text": "comment #7 added to issue 42"}], "isError": False}}}),
        *_agent("2026-06-02T09:01:14.000Z", "The legend now sits outside the axes, right of the plot, so no bar is "
                "hidden. I re-rendered `sales.png` and checked it:\n\n- `plot.py`: legend anchored at (1.02, 1)\n"
                "- `tight_layout()` keeps it inside the figure"),
        _tokens("2026-06-02T09:01:14.100Z", 21900, 15800),
        _done(t, "2026-06-02T09:01:14.200Z", 1780390874, 14200),
    ]


def _rolled_back_turn() -> list[dict]:
    t = "turn-c"
    return [
        *_turn(t, "2026-06-02T09:03:00.000Z", 1780390980),
        *_user("2026-06-02T09:03:00.100Z", "Also switch the chart to a dark theme."),
        *_agent("2026-06-02T09:03:04.000Z", "Switched `plot.py` to the dark_background style."),
        _tokens("2026-06-02T09:03:04.100Z", 38900, 17000),
        _done(t, "2026-06-02T09:03:04.200Z", 1780390984, 4200),
        _event("2026-06-02T09:03:30.000Z", {"type": "thread_rolled_back", "num_turns": 1}),
    ]


def _last_turn() -> list[dict]:
    t = "turn-d"
    plan = {"plan": [{"step": "Save an SVG beside the PNG", "status": "completed"},
                     {"step": "Mention it in the README", "status": "pending"}]}
    return [
        *_turn(t, "2026-06-02T09:04:00.000Z", 1780391040),
        *_user("2026-06-02T09:04:00.100Z", "Keep the light theme. Export the chart as SVG too."),
        _item("2026-06-02T09:04:02.000Z", {"type": "function_call", "name": "update_plan", "arguments": json.dumps(plan),
                                           "call_id": "call_d1"}),
        _item("2026-06-02T09:04:02.001Z", {"type": "function_call_output", "call_id": "call_d1", "output": "Plan updated"}),
        *_command("2026-06-02T09:04:04.000Z", t, "call_d2", "python plot.py data/sales.csv --svg",
                  "wrote sales.png\nwrote sales.svg\n", 0, 2),
        *_agent("2026-06-02T09:04:06.000Z", "`plot.py --svg` now also writes **sales.svg**."),
        _tokens("2026-06-02T09:04:06.100Z", 56600, 17700),
        _done(t, "2026-06-02T09:04:06.200Z", 1780391046, 6200),
    ]


def lines() -> list[dict]:
    """The sample's lines, as JSON objects."""
    own_meta = _meta("2026-06-02T09:00:00.000Z", THREAD, forked_from_id=SOURCE)
    return [own_meta, *_inherited(), *_legend_turn(), *_rolled_back_turn(), *_last_turn()]


def data() -> bytes:
    """The sample as rollout bytes."""
    return b"".join(json.dumps(line, separators=(",", ":")).encode() + b"\n" for line in lines())


if __name__ == "__main__":
    Path(sys.argv[1]).write_bytes(data())
