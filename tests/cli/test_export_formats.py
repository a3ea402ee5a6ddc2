"""``rollout export --format markdown|html`` and ``--redact``; the Markdown renderer."""

from __future__ import annotations

import json

import pytest

from rollout.cli.markdown import _fence, _neutral
from rollout.cli.view import render_thread

from . import view_sample
from .conftest import ROOT

SAMPLE = ROOT / "examples" / view_sample.NAME
KEY = "sk-proj-" + "Ab3dE5" * 8


@pytest.fixture
def stored(cli, tmp_path):
    """A store holding the view sample with a key in one command, and its path."""
    source = tmp_path / SAMPLE.name
    source.write_bytes(SAMPLE.read_bytes().replace(b"rg -n legend plot.py", f"OPENAI_API_KEY={KEY} rg -n legend".encode()))
    db = tmp_path / "t.db"
    assert cli("import", source, "--db", db).code == 0
    return db, source


def test_markdown_export_reads_as_the_thread(cli, stored):
    """Turns in order, the rolled-back one marked, commands fenced, diffs as diff blocks, anchors kept."""
    db, _ = stored
    result = cli("export", view_sample.THREAD, "--db", db, "--format", "markdown")
    assert result.code == 0
    md = result.out
    assert md.startswith("# Plot the weekly sales in data/sales.csv as a bar chart.\n")
    order = [md.index(f"## {t}") for t in ("Turn 1", "Turn 2", "Rolled-back turn", "Turn 3")]
    assert order == sorted(order)
    assert "> This turn was rolled back: the thread no longer has it." in md
    assert f"> Inherited from {view_sample.SOURCE} (this thread is a fork)." in md
    assert "```diff\n@@ -18,4 +18,5 @@ def plot(weeks, sales):" in md
    assert '<a id="item-call_b2"></a>' in md and '<a id="item-call_d1"></a>' in md
    assert "*[image: image/png, 318 B]*" in md and "data:image" not in md
    assert KEY in md


def test_html_export_is_the_view_page(cli, stored, tmp_path):
    """--format html writes what `rollout view` writes for the same thread."""
    db, _ = stored
    out = tmp_path / "t.html"
    assert cli("export", view_sample.THREAD, "--db", db, "--format", "html", "-o", out).code == 0
    assert cli("view", view_sample.THREAD, "--db", db, "-o", tmp_path / "v.html").code == 0
    assert out.read_bytes() == (tmp_path / "v.html").read_bytes()


def test_redacted_exports_mask_the_key_and_the_store_keeps_it(cli, stored):
    """--redact masks in every format; a plain export afterwards still has the original bytes."""
    db, source = stored
    for fmt in ("jsonl", "markdown", "html"):
        result = cli("export", view_sample.THREAD, "--db", db, "--format", fmt, "--redact")
        assert result.code == 0 and KEY not in result.out and "[REDACTED:openai-key]" in result.out
    redacted = cli("export", view_sample.THREAD, "--db", db, "--redact").out.encode()
    original = source.read_bytes()
    assert len(redacted.splitlines()) == len(original.splitlines())
    changed = [i for i, (a, b) in enumerate(zip(redacted.splitlines(), original.splitlines())) if a != b]
    assert changed == [i for i, line in enumerate(original.splitlines()) if KEY.encode() in line]
    assert len(changed) == 2 and all(json.loads(redacted.splitlines()[i]) for i in changed)
    assert cli("export", view_sample.THREAD, "--db", db).out.encode() == original


def test_zst_with_a_page_format_is_a_usage_error(cli, stored, tmp_path):
    """--zst compresses rollouts only."""
    db, _ = stored
    result = cli("export", view_sample.THREAD, "--db", db, "--format", "markdown", "-o", tmp_path / "t.md.zst")
    assert result.code == 2 and result.err == "error: --zst only applies to --format jsonl, not markdown\n"


def test_markdown_neutralises_html_outside_code():
    """Tags become literal in prose; code spans and fences are left as written."""
    assert _neutral("a <script>x</script> b") == "a &lt;script>x&lt;/script> b"
    assert _neutral("use `List<String>` here") == "use `List<String>` here"
    assert _neutral("```\n<div>\n```\n<b>") == "```\n<div>\n```\n&lt;b>"
    assert _neutral("```\nunclosed <i>") == "```\nunclosed <i>\n```"
    assert _neutral("1 < 2 and a<b") == "1 < 2 and a&lt;b"


def test_markdown_fence_outgrows_backticks_in_content():
    """A fence is longer than any backtick run inside, so content cannot close it."""
    assert _fence("x ```` y") == "`````\nx ```` y\n`````"
    assert _fence("plain", "diff") == "```diff\nplain\n```"


def test_markdown_of_hostile_message_has_no_live_html():
    """A user's HTML is shown, not rendered; the file still has only anchors as tags."""
    data = b"".join(json.dumps(line).encode() + b"\n" for line in [
        {"timestamp": "2026-06-01T10:00:00.000Z", "type": "session_meta", "payload": {"id": "019e0000-0000-7000-8000-0000000000bb"}},
        {"timestamp": "2026-06-01T10:00:01.000Z", "type": "event_msg", "payload": {"type": "user_message",
         "message": "<img src=x onerror=alert(1)> and <script>alert(2)</script>"}},
    ])
    md = render_thread(data, fmt="markdown").decode()
    assert "&lt;img src=x onerror=alert(1)> and &lt;script>alert(2)&lt;/script>" in md
