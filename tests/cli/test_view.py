"""``rollout view`` and the page it writes: content, anchors, rolled-back turns, lineage, escaping."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser

import pytest

from rollout.cli.html_assets import CSP, SCRIPT, STYLE
from rollout.cli.transcript import item_anchor
from rollout.cli.view import render_thread

from . import view_sample
from .conftest import ROOT

SAMPLE = ROOT / "examples" / view_sample.NAME


class _Page(HTMLParser):
    """Every start tag with its attributes, the ids, and the text."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def ids(self) -> list[str]:
        return [attrs["id"] for _, attrs in self.tags if attrs.get("id")]

    def with_class(self, cls: str, tag: str | None = None) -> list[dict]:
        return [a for t, a in self.tags if cls in (a.get("class") or "").split() and tag in (None, t)]


def _page(data: bytes, **options) -> tuple[str, _Page]:
    page = render_thread(data, fmt="html", **options).decode()
    return page, _Page(page)


def _rollout(*lines: dict) -> bytes:
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def test_examples_copy_is_the_generated_sample():
    """examples/ holds exactly what tests/cli/view_sample.py writes."""
    assert SAMPLE.read_bytes() == view_sample.data()


def test_page_shows_every_item_of_the_sample_with_its_anchor():
    """Each rebuilt item, and the plan update known only from its record, has an #item-<id> element."""
    _, page = _page(view_sample.data())
    ids = page.ids()
    for call in ("call_a1", "call_b1", "call_b2", "call_b3", "call_b4", "call_b5", "call_b6", "call_d1", "call_d2"):
        assert f"item-{call}" in ids
    assert {"turn-turn-a", "turn-turn-b", "turn-turn-c", "turn-turn-d"} <= set(ids)
    assert len(ids) == len(set(ids)), "anchors are unique"


def test_rolled_back_turn_is_shown_greyed_in_its_place():
    """The rolled-back turn stays on the page, between the turns around it, marked as rolled back."""
    html, page = _page(view_sample.data())
    sections = [attrs["id"] for attrs in page.with_class("turn")]
    assert sections == ["turn-turn-a", "turn-turn-b", "turn-turn-c", "turn-turn-d"]
    [rolled] = page.with_class("rolled-back", "section")
    assert rolled["id"] == "turn-turn-c"
    assert "Also switch the chart to a dark theme." in html


def _turn_lines(turn: str, second: int, text: str) -> list[dict]:
    ts = f"2026-06-01T10:00:{second:02d}.000Z"
    return [
        {"timestamp": ts, "type": "event_msg", "payload": {"type": "task_started", "turn_id": turn}},
        {"timestamp": ts, "type": "event_msg", "payload": {"type": "user_message", "message": text}},
        {"timestamp": ts, "type": "event_msg", "payload": {"type": "agent_message", "message": f"re: {text}"}},
        {"timestamp": ts, "type": "event_msg", "payload": {"type": "task_complete", "turn_id": turn}},
    ]


def test_ids_reused_after_a_rollback_get_the_turn_in_their_anchor():
    """Codex restarts item-N after a rollback: the surviving item keeps item-<id>, the rolled-back one is qualified."""
    data = _rollout(
        {"timestamp": "2026-06-01T10:00:00.000Z", "type": "session_meta", "payload": {"id": "019e0000-0000-7000-8000-0000000000aa"}},
        *_turn_lines("t1", 1, "one"), *_turn_lines("t2", 2, "two"),
        {"timestamp": "2026-06-01T10:00:03.000Z", "type": "event_msg", "payload": {"type": "thread_rolled_back", "num_turns": 1}},
        *_turn_lines("t3", 4, "three"),
    )
    html, page = _page(data)
    ids = [i for i in page.ids() if i.startswith("item-")]
    assert ids == ["item-item-1", "item-item-2", "item-t2-item-3", "item-t2-item-4", "item-item-3", "item-item-4"]
    assert html.index('id="item-t2-item-3"') < html.index("two") < html.index('id="item-item-3"') < html.index("three")


def test_fork_lineage_and_inherited_turn_are_marked():
    """The header names the source; the copied turn carries an 'inherited from' badge."""
    html, page = _page(view_sample.data())
    assert f"forked from {view_sample.SOURCE}" in html
    [inherited] = page.with_class("inherited", "section")
    assert inherited["id"] == "turn-turn-a"
    assert f"inherited from {view_sample.SOURCE}" in html


def test_token_figures_count_inherited_turns_once():
    """Context is the last request against the window; own and inherited requests are apart."""
    html, _ = _page(view_sample.data())
    assert "context 17,700 of 258,400 tokens (7%)" in html
    assert "total 56,600 (cumulative, as Codex counts)" in html
    assert "this thread 50,500, inherited 6,100" in html
    assert "15,800 tokens this turn" in html


def test_images_are_inlined_from_user_message_and_tool_output():
    """The screenshot the user sent and the picture view_image returned are data: images."""
    _, page = _page(view_sample.data())
    sources = [attrs["src"] for tag, attrs in page.tags if tag == "img"]
    assert sources == [view_sample.SCREENSHOT, view_sample.CHART]


def test_diff_lines_are_coloured():
    """A file change shows its unified diff with added, removed and hunk lines marked."""
    html, page = _page(view_sample.data())
    assert len(page.with_class("add")) == 2 and len(page.with_class("del")) == 1 and page.with_class("hunk")
    assert '<span class="add">+    fig.tight_layout()</span>' in html


def test_tool_calls_fold_and_diffs_are_open():
    """Commands, dynamic and MCP calls are closed <details>; the file change is open."""
    _, page = _page(view_sample.data())
    details = {attrs["id"]: "open" in attrs for tag, attrs in page.tags if tag == "details"}
    assert details["item-call_b1"] is False and details["item-call_b5"] is False and details["item-call_b6"] is False
    assert details["item-call_b2"] is True


def test_page_needs_no_network_and_runs_only_its_own_script():
    """The CSP allows data: images and the hashes of exactly the page's style and script."""
    html, page = _page(view_sample.data())

    def digest(text: str) -> str:
        return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()

    assert "default-src 'none'; img-src data:;" in CSP
    assert digest(STYLE) in CSP and digest(SCRIPT) in CSP
    assert f"<style>{STYLE}</style>" in html and f"<script>{SCRIPT}</script>" in html
    assert not [a for tag, a in page.tags if tag in ("link", "iframe", "object", "embed", "base")]
    assert all(attrs["src"].startswith("data:image/") for tag, attrs in page.tags if tag == "img")


HOSTILE = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>"


def _hostile() -> bytes:
    svg = "data:image/svg+xml;base64," + base64.b64encode(b"<svg onload='alert(1)'/>").decode()
    remote = "https://example.invalid/track.png"
    call = 'x" onmouseover="alert(1)'
    return _rollout(
        {"timestamp": "2026-06-01T10:00:00.000Z", "type": "session_meta", "payload": {"id": "019e0000-0000-7000-8000-00000000beef",
         "timestamp": "2026-06-01T10:00:00.000Z", "cwd": "/tmp/</title><script>", "originator": "t", "cli_version": "1"}},
        {"timestamp": "2026-06-01T10:00:01.000Z", "type": "event_msg", "payload": {"type": "task_started", "turn_id": "t<1>"}},
        {"timestamp": "2026-06-01T10:00:01.100Z", "type": "response_item", "payload": {"type": "message", "role": "user",
         "content": [{"type": "input_text", "text": HOSTILE}, {"type": "input_image", "image_url": svg},
                     {"type": "input_image", "image_url": remote}]}},
        {"timestamp": "2026-06-01T10:00:01.100Z", "type": "event_msg", "payload": {"type": "user_message", "message": HOSTILE,
         "images": [svg, remote], "local_images": ["/etc/passwd"]}},
        {"timestamp": "2026-06-01T10:00:02.000Z", "type": "response_item", "payload": {"type": "function_call", "name": "x<y>",
         "arguments": HOSTILE, "call_id": call}},
        {"timestamp": "2026-06-01T10:00:02.100Z", "type": "response_item", "payload": {"type": "function_call_output",
         "call_id": call, "output": "</pre></details>" + HOSTILE}},
        {"timestamp": "2026-06-01T10:00:03.000Z", "type": "event_msg", "payload": {"type": "agent_message",
         "message": "**bold** `</code><script>` " + HOSTILE}},
    )


def test_thread_content_never_becomes_markup():
    """Scripts, event handlers, tags in ids, SVG and remote images from a thread stay text."""
    _html, page = _page(_hostile())
    assert [tag for tag, _ in page.tags].count("script") == 1
    assert not [name for _, attrs in page.tags for name in attrs if name.startswith("on")]
    assert [tag for tag, _ in page.tags if tag == "img"] == []
    text = "".join(page.text)
    assert HOSTILE in text and "remote image, not loaded: https://example.invalid/track.png" in text
    assert "local image: /etc/passwd" in text and "image/svg+xml image (not shown)" in text
    assert item_anchor('x" onmouseover="alert(1)') in page.ids()
    assert re.fullmatch(r"item-[A-Za-z0-9_.:-]+", item_anchor('x" onmouseover="alert(1)'))


def test_file_replay_cannot_read_shows_its_records():
    """A file whose messages are only response items (no events) still shows them, with the parse-yield warning."""
    meta = {"id": "019e0000-0000-7000-8000-00000000cafe", "timestamp": "2026-06-01T10:00:00.000Z", "cwd": "/w",
            "originator": "codex_cli_rs", "cli_version": "0.140.0", "source": "cli", "model_provider": "openai"}
    records = [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "What does main.py do?"}]},
        {"type": "function_call", "name": "shell", "arguments": "{\"command\":[\"cat\",\"main.py\"]}", "call_id": "c1"},
        {"type": "function_call_output", "call_id": "c1", "output": "print('hi')"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "It prints hi."}]},
    ]
    # a legacy-history file whose messages are only response items: Codex (and replay) rebuild no turn from it
    data = _rollout(
        {"timestamp": "2026-06-01T10:00:00.000Z", "type": "session_meta", "payload": meta},
        *({"timestamp": "2026-06-01T10:00:01.000Z", "type": "response_item", "payload": r} for r in records),
    )
    html, page = _page(data)
    assert "records (replay rebuilt no turn from this file)" in html
    assert "What does main.py do?" in html and "It prints hi." in html and "item-c1" in page.ids()
    assert "lines but no messages read although the file holds 2 message records" in html


def test_redact_masks_secrets_in_the_page():
    """--redact masks a key in a command and says the page is redacted."""
    key = "ghp_" + "Zz9" * 12
    data = view_sample.data().replace(b"rg -n legend plot.py", f"GH={key} rg -n legend".encode())
    html, _ = _page(data, redact=True)
    assert key not in html and "[REDACTED:github-token]" in html and "secrets are masked" in html
    assert key in _page(data)[0]


def test_view_command_writes_a_file_reads_stdin_and_refuses_a_folder(cli, tmp_path, monkeypatch):
    """-o FILE writes the page; '-' reads standard input; -o DIR is an error naming it."""
    out = tmp_path / "page.html"
    result = cli("view", SAMPLE, "-o", out)
    assert result.code == 0 and f"wrote {out}" in result.err
    assert out.read_bytes() == render_thread(SAMPLE.read_bytes(), fmt="html")
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(SAMPLE.read_bytes())))
    piped = cli("view", "-")
    assert piped.code == 0 and piped.out == out.read_text()
    folder = cli("view", SAMPLE, "-o", tmp_path)
    assert folder.code == 1 and folder.err.startswith(f"error: {tmp_path}: is a folder")


def test_view_of_a_stored_thread_by_id(cli, tmp_path):
    """A thread id is read from --db (name included) or --codex-home."""
    db = tmp_path / "t.db"
    assert cli("import", SAMPLE, "--db", db).code == 0
    assert cli("name", view_sample.THREAD, "Legend fix", "--db", db).code == 0
    result = cli("view", view_sample.THREAD, "--db", db)
    assert result.code == 0 and "<title>Legend fix</title>" in result.out
    day = tmp_path / "home" / "sessions" / "2026" / "06" / "02"
    day.mkdir(parents=True)
    (day / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
    home = cli("view", view_sample.THREAD, "--codex-home", tmp_path / "home")
    assert home.code == 0 and 'id="item-call_b2"' in home.out
    missing = cli("view", "019e0000-0000-7000-8000-00000000dead", "--db", db)
    assert missing.code == 1 and "not found" in missing.err


def test_missing_file_is_an_error_and_a_folder_a_usage_error(cli, tmp_path):
    """A target that is neither a file nor a thread id: one error line, exit 1; a folder: exit 2."""
    result = cli("view", tmp_path / "nope.jsonl")
    assert result.code == 1 and result.err == f"error: {tmp_path / 'nope.jsonl'}: no such file (nor a thread id)\n"
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert cli("view", empty).err == f"error: {empty}: empty rollout (no non-blank line)\n"
    folder = cli("view", tmp_path)
    assert folder.code == 2 and folder.err.startswith(f"error: {tmp_path} is a folder: view shows one thread")


@pytest.mark.parametrize("policy", ["extended", "limited"])
def test_both_policies_render(policy):
    """Under the limited policy (today's app-server view) commands come from their records instead of events."""
    html, page = _page(view_sample.data(), policy=policy)
    assert {"item-call_b2", "item-call_b3"} <= set(page.ids())
    assert '<span class="add">+    fig.tight_layout()</span>' in html
    kinds = re.findall(r'id="item-call_b3"[^>]*><summary><span class="kind">([^<]+)', html)
    assert kinds == (["command"] if policy == "extended" else ["tool"])


def test_a_stored_fork_shows_its_copied_turns_as_inherited(cli, tmp_path):
    """`rollout fork` then `view`: the copied turns are inherited, and their tokens are not the fork's own."""
    from .conftest import SAMPLE as TODO
    from .conftest import SAMPLE_ID as TODO_ID

    db = tmp_path / "t.db"
    assert cli("import", TODO, "--db", db).code == 0
    child = json.loads(cli("fork", TODO_ID, "--db", db, "--json").out)["id"]
    html = cli("view", child, "--db", db).out
    page = _Page(html)
    assert [a["id"] for a in page.with_class("inherited", "section")] == ["turn-turn-1", "turn-turn-2"]
    assert f"forked from {TODO_ID}" in html and "this thread 0, inherited 5,340" in html


def test_images_from_every_kind_of_tool_output_are_inline():
    """custom_tool_call_output content, the legacy js_repl image message, dynamic tool content and MCP results."""
    png = view_sample.CHART
    body = png.split(",", 1)[1]
    t = "2026-06-01T10:00:0{}.000Z".format
    data = _rollout(
        {"timestamp": t(0), "type": "session_meta", "payload": {"id": "019e0000-0000-7000-8000-0000000000cc"}},
        {"timestamp": t(1), "type": "event_msg", "payload": {"type": "task_started", "turn_id": "t1"}},
        {"timestamp": t(1), "type": "event_msg", "payload": {"type": "user_message", "message": "draw"}},
        {"timestamp": t(2), "type": "response_item", "payload": {"type": "custom_tool_call", "call_id": "c1",
         "name": "js", "input": "draw()"}},
        {"timestamp": t(2), "type": "response_item", "payload": {"type": "custom_tool_call_output", "call_id": "c1",
         "output": [{"type": "input_text", "text": "drawn"}, {"type": "input_image", "image_url": png}]}},
        {"timestamp": t(3), "type": "response_item", "payload": {"type": "custom_tool_call", "call_id": "c2",
         "name": "js_repl", "input": "show()"}},
        {"timestamp": t(3), "type": "response_item", "payload": {"type": "custom_tool_call_output", "call_id": "c2",
         "output": "shown below"}},
        {"timestamp": t(3), "type": "response_item", "payload": {"type": "message", "role": "user",
         "content": [{"type": "input_image", "image_url": png}]}},
        {"timestamp": t(4), "type": "event_msg", "payload": {"type": "dynamic_tool_call_response", "call_id": "c3",
         "turn_id": "t1", "tool": "snap", "content_items": [{"type": "inputImage", "imageUrl": png}], "success": True}},
        {"timestamp": t(5), "type": "event_msg", "payload": {"type": "mcp_tool_call_end", "call_id": "c4",
         "invocation": {"server": "s", "tool": "shot", "arguments": {}},
         "result": {"Ok": {"content": [{"type": "image", "data": body, "mimeType": "image/png"}]}}}},
        {"timestamp": t(6), "type": "event_msg", "payload": {"type": "task_complete", "turn_id": "t1"}},
    )
    html, _ = _page(data)
    images_in = {}
    for item in ("c1", "c2", "c3", "c4"):
        start = html.index(f'id="item-{item}"')
        end = html.index("</details>", start)
        images_in[item] = html[start:end].count(f'<img src="{png}"')
    assert images_in == {"c1": 1, "c2": 1, "c3": 1, "c4": 1}
    assert "User (message record)" not in html  # the legacy image message belongs to the tool call
