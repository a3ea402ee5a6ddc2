"""The stylesheet, the script and the Content-Security-Policy of a ``view`` page.

Both are inlined into the page, which must open with no network. The policy
lets the page load nothing at all except ``data:`` images, and runs only the
exact script and stylesheet below (allowed by their SHA-256 hashes), so even a
mistake in escaping could not run a thread's content as script.

The script is optional comfort: ``<details>`` elements fold without it. It
opens the folded ancestors of the element a ``#item-...`` link points at, and
adds "expand all" / "collapse all".

Must not import: rich, store.
"""

from __future__ import annotations

import base64
import hashlib

__all__ = ["CSP", "SCRIPT", "STYLE"]

STYLE = """
:root { --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --bg: #ffffff; --soft: #f6f8fa;
  --user: #ddf4ff; --user-edge: #54aeff; --agent-edge: #8250df; --add: #dafbe1; --add-fg: #116329;
  --del: #ffebe9; --del-fg: #82071e; --hunk: #ddf4ff; --warn: #9a6700; --bad: #cf222e; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
main, header.thread, footer { max-width: 980px; margin: 0 auto; padding: 0 20px; }
header.thread { padding-top: 24px; }
h1 { font-size: 22px; margin: 0 0 8px; overflow-wrap: anywhere; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 12px;
  font-size: 13px; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
.warning { color: var(--warn); }
.error { color: var(--bad); }
.toolbar { display: flex; gap: 8px; margin: 8px 0 16px; font-size: 13px; color: var(--muted); }
.toolbar button { font: inherit; padding: 2px 10px; border: 1px solid var(--line); border-radius: 6px;
  background: var(--soft); cursor: pointer; }
section.turn { border-top: 1px solid var(--line); padding: 12px 0 8px; }
section.turn > h2 { font-size: 14px; font-weight: 600; margin: 0 0 8px; display: flex; flex-wrap: wrap;
  gap: 4px 12px; align-items: baseline; }
section.turn > h2 a { color: inherit; text-decoration: none; }
.badge { font-size: 12px; font-weight: 500; padding: 0 8px; border-radius: 10px; background: var(--soft);
  border: 1px solid var(--line); color: var(--muted); }
.badge.completed { color: #1a7f37; } .badge.failed { color: var(--bad); }
.badge.interrupted { color: var(--warn); } .badge.rolled-back { color: var(--bad); border-style: dashed; }
.badge.inherited { color: #0969da; }
section.turn.rolled-back { opacity: 0.55; filter: grayscale(1); }
section.turn.rolled-back > h2::after { content: "this turn was rolled back: the thread no longer has it";
  font-weight: 400; font-size: 12px; color: var(--muted); }
.entry { margin: 8px 0; border-radius: 8px; }
.entry > .who { font-size: 12px; font-weight: 600; color: var(--muted); margin-bottom: 2px; }
.entry.user { background: var(--user); border-left: 4px solid var(--user-edge); padding: 8px 12px; }
.entry.agent { border-left: 4px solid var(--agent-edge); padding: 4px 12px; }
.entry.record { border-left-style: dashed; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
.text code { background: var(--soft); border-radius: 4px; padding: 0 4px; }
.text pre { white-space: pre; }
details.entry { border: 1px solid var(--line); background: var(--soft); }
details.entry > summary { cursor: pointer; padding: 6px 10px; font-size: 13px; list-style-position: inside;
  overflow-wrap: anywhere; }
details.entry > .body { padding: 0 10px 8px; }
details.reasoning { background: transparent; border-style: dashed; color: var(--muted); }
.kind { font-weight: 600; margin-right: 6px; }
.status { color: var(--muted); margin-left: 6px; }
.status.failed, .status.declined { color: var(--bad); }
code, pre { font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { margin: 6px 0 0; padding: 8px 10px; background: var(--bg); border: 1px solid var(--line); border-radius: 6px;
  overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 480px; overflow-y: auto; }
pre.diff { padding: 0; white-space: pre; max-height: none; }
pre.diff > span { display: block; padding: 0 10px; }
pre.diff .add { background: var(--add); color: var(--add-fg); }
pre.diff .del { background: var(--del); color: var(--del-fg); }
pre.diff .hunk { background: var(--hunk); color: var(--muted); }
pre.diff .meta { color: var(--muted); font-weight: 600; }
.file { margin-top: 8px; }
.file > .path { font: 600 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.label { font-size: 12px; color: var(--muted); margin-top: 6px; }
figure.image { margin: 8px 0 0; }
figure.image img { max-width: 100%; max-height: 420px; border: 1px solid var(--line); border-radius: 6px;
  background: #fff; }
figure.image figcaption, .image-missing { font-size: 12px; color: var(--muted); }
.clipped { font-size: 12px; color: var(--warn); }
footer { color: var(--muted); font-size: 12px; padding: 24px 20px 40px; }
"""

SCRIPT = """
(function () {
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id ? document.getElementById(id) : null;
    if (!el) return;
    for (var node = el; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") node.open = true;
    }
    el.scrollIntoView();
  }
  function setAll(open) {
    var all = document.querySelectorAll("details");
    for (var i = 0; i < all.length; i++) all[i].open = open;
  }
  document.getElementById("expand-all").addEventListener("click", function () { setAll(true); });
  document.getElementById("collapse-all").addEventListener("click", function () { setAll(false); });
  window.addEventListener("hashchange", openTarget);
  openTarget();
})();
"""


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


#: Nothing from the network; only data: images and exactly this page's script and style.
CSP = (
    f"default-src 'none'; img-src data:; style-src {_hash(STYLE)}; script-src {_hash(SCRIPT)}; "
    "base-uri 'none'; form-action 'none'"
)
