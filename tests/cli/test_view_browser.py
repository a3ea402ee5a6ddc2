"""The view page in a real browser: headless Chromium renders it, runs its script, and asks the network for nothing."""

from __future__ import annotations

import json
import re
import struct

import pytest

from rollout.cli.view import render_thread

from . import browser, view_sample

pytestmark = pytest.mark.skipif(
    browser.chromium_path() is None,
    reason="no headless Chromium (Debian: apt-get install chromium; .ci/run installs it when it can)",
)

LEAK = "http://127.0.0.1:9/leak.png"


def _page(tmp_path) -> str:
    """The sample, plus a user message that names a remote image and writes an <img> tag as text."""
    extra = [
        {"timestamp": "2026-06-02T09:05:00.000Z", "type": "event_msg", "payload": {"type": "user_message",
         "message": f'<img src="{LEAK}"> and <script>document.title="owned"</script>',
         "images": [LEAK.replace("leak", "remote")], "local_images": []}},
    ]
    data = view_sample.data() + b"".join(json.dumps(line).encode() + b"\n" for line in extra)
    page = tmp_path / "view.html"
    page.write_bytes(render_thread(data, fmt="html"))
    return page.as_uri()


def test_netlog_sees_a_request_a_page_makes(tmp_path):
    """Control: a page that loads a remote image is caught, so the no-network check below can fail."""
    page = tmp_path / "leaky.html"
    page.write_text(f'<!DOCTYPE html><html><body><img src="{LEAK}"></body></html>')
    browser.run(page.as_uri(), tmp_path, "--dump-dom")
    assert LEAK in browser.page_requests(tmp_path)


def test_page_renders_its_items_and_requests_nothing(tmp_path):
    """The DOM after load holds every item, the diff and both images; the page made no request."""
    done = browser.run(_page(tmp_path), tmp_path, "--dump-dom")
    dom = done.stdout
    assert "<title>Plot the weekly sales in data/sales.csv as a bar chart.</title>" in dom
    for call in ("call_b1", "call_b2", "call_b4", "call_b5", "call_b6", "call_d1"):
        assert f'id="item-{call}"' in dom
    assert '<section class="turn rolled-back" id="turn-turn-c"' in dom
    assert '<span class="add">+    fig.tight_layout()</span>' in dom
    assert len(re.findall(r'<img src="data:image/png;base64,', dom)) == 2
    assert "&lt;script&gt;document.title=" in dom and "owned" not in re.search(r"<title>.*?</title>", dom).group(0)
    assert browser.page_requests(tmp_path) == []


def test_script_opens_the_item_a_link_points_at(tmp_path):
    """Opening the page at #item-call_b1 unfolds that command (the page's own script ran under its CSP)."""
    done = browser.run(_page(tmp_path) + "#item-call_b1", tmp_path, "--dump-dom")
    opened = re.search(r'<details class="entry tool" id="item-call_b1"[^>]*>', done.stdout).group(0)
    assert "open" in opened
    closed = re.search(r'<details class="entry tool" id="item-call_b3"[^>]*>', done.stdout).group(0)
    assert "open" not in closed


def test_screenshot_of_the_page(tmp_path):
    """A screenshot is a PNG of the window size with real content in it."""
    out = tmp_path / "view.png"
    page = tmp_path / "page.html"
    page.write_bytes(render_thread(view_sample.data(), fmt="html"))
    browser.screenshot(page, out, width=900, height=1200)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (900, 1200)
    assert len(data) > 30_000  # a blank page compresses to a few kB
