"""Headless Chromium for the view tests: find it, run it on a page, read what the page asked the network for.

The browser runs with a fresh profile and with its own background traffic
turned down; a NetLog records every request. Requests the *page* made are told
apart from the browser's own by their network isolation key (a page opened from
``file://`` has ``file://`` in it).

``python -m tests.cli.browser OUT.png`` writes the screenshot of the view sample
that the README shows (``docs/view.png``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
]


def chromium_path() -> str | None:
    """The Chromium binary (Debian's /usr/bin/chromium first), or None."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def run(url: str, workdir: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run headless Chromium on ``url`` with a fresh profile and a NetLog in ``workdir``."""
    binary = chromium_path()
    if binary is None:
        raise RuntimeError("no Chromium installed")
    profile = workdir / f"profile-{len(list(workdir.glob('profile-*')))}"
    return subprocess.run(
        [binary, *FLAGS, f"--user-data-dir={profile}", f"--log-net-log={workdir / 'netlog.json'}", *extra, url],
        capture_output=True, text=True, timeout=180,
    )


def _netlog(path: Path) -> dict:
    text = path.read_text()
    try:
        return json.loads(text)
    except ValueError:  # a log cut short when the browser exited: close its event list
        return json.loads(text.rstrip().rstrip(",") + "]}")


def page_requests(workdir: Path) -> list[str]:
    """URLs the page itself asked for (never file: or data:), from the last run's NetLog."""
    log = _netlog(workdir / "netlog.json")
    names = {value: key for key, value in log["constants"]["logEventTypes"].items()}
    found = []
    for event in log["events"]:
        params = event.get("params") or {}
        if names.get(event["type"]) != "URL_REQUEST_START_JOB":
            continue
        url = params.get("url", "")
        if "file://" in params.get("network_isolation_key", "") and not url.startswith(("file:", "data:")):
            found.append(url)
    return found


def screenshot(page: Path, out: Path, *, width: int = 1100, height: int = 2000) -> None:
    """A PNG of ``page`` at ``width`` x ``height`` CSS pixels."""
    with tempfile.TemporaryDirectory() as work:
        done = run(page.as_uri(), Path(work), f"--screenshot={out}", f"--window-size={width},{height}")
    if not out.exists():
        raise RuntimeError(f"no screenshot: {done.stderr[-2000:]}")


if __name__ == "__main__":
    from rollout.cli.view import render_thread

    from .view_sample import data

    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "view.html"
        page.write_bytes(render_thread(data(), fmt="html", name="Move the chart legend outside the plot"))
        screenshot(page, Path(sys.argv[1]))
