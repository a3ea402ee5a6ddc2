"""One self-contained HTML page of a thread (``rollout view``, ``export --format html``).

The page is a single file: stylesheet and script inline, images as ``data:``
URIs, and a Content-Security-Policy that forbids every network request
(:mod:`rollout.cli.html_assets`). Its header says what the thread is (identity,
lineage, settings, token figures, parse yield); then each turn in file order,
surviving and rolled-back alike, with its entries (:mod:`rollout.cli.html_items`).
Turns have ``#turn-<id>`` anchors and entries ``#item-<id>`` anchors.

Must not import: rich, store.
"""

from __future__ import annotations

from .. import __version__
from .html_assets import CSP, SCRIPT, STYLE
from .html_items import entry_html, esc
from .preview import lineage, source_name, utc_second
from .tokens import describe
from .transcript import Transcript, TurnView, turn_anchor

__all__ = ["render_page"]


def _yield_line(transcript: Transcript) -> tuple[str, str | None]:
    y = transcript.parse_yield
    unknown = f", {y.unknown} of unknown type (kept)" if y.unknown else ""
    return f"{y.messages} messages, {y.tool_calls} tool calls{unknown}", y.warning()


def _meta_rows(transcript: Transcript, redacted: bool) -> list[tuple[str, str, str]]:
    t = transcript.summary.thread
    git = t.git_info if t else None
    read, warning = _yield_line(transcript)
    rows = [
        ("thread", t.id if t else "(no session_meta)", ""),
        ("name", (t and t.name) or "", ""),
        ("created", utc_second(t.created_at) if t else "", ""),
        ("updated", utc_second(t.updated_at) if t else "", ""),
        ("cwd", (t and t.cwd) or "", ""),
        ("model", " · ".join(x for x in (t.model, t.reasoning_effort and f"effort {t.reasoning_effort}",
                                        t.model_provider) if x) if t else "", ""),
        ("versions", " ".join(x for x in (t.originator, t.cli_version) if x) if t else "", ""),
        ("source", source_name(t.source) if t else "", ""),
        ("git", " · ".join(x for x in (git.branch, git.sha, git.origin_url) if x) if git else "", ""),
        ("lineage", lineage(t) if t else "", ""),
        ("tokens", describe(transcript.tokens) or "", ""),
        ("read", read, ""),
    ]
    if warning:
        rows.append(("warning", warning, "warning"))
    if transcript.problems:
        lines = "1 line" if transcript.problems == 1 else f"{transcript.problems} lines"
        rows.append(("problems", f"{lines} could not be read (rollout validate shows them)", "error"))
    if redacted:
        rows.append(("redacted", "secrets are masked ([REDACTED:kind]); the store keeps the original", ""))
    return [row for row in rows if row[1]]


def _header(transcript: Transcript, redacted: bool) -> str:
    rows = "".join(
        f'<dt>{esc(key)}</dt><dd class="{cls}">{esc(value)}</dd>' for key, value, cls in _meta_rows(transcript, redacted)
    )
    rolled = sum(1 for view in transcript.turns if view.rolled_back)
    counts = f"{len(transcript.turns) - rolled} turns" + (f", {rolled} rolled back (greyed out)" if rolled else "")
    return (
        f'<header class="thread"><h1>{esc(transcript.title)}</h1><dl class="meta">{rows}</dl>'
        f'<div class="toolbar"><span>{esc(counts)}</span><button id="expand-all" type="button">expand all</button>'
        '<button id="collapse-all" type="button">collapse all</button></div></header>'
    )


def _turn(view: TurnView, source_id: str | None) -> str:
    turn = view.turn
    title = f"Turn {view.number}" if view.number is not None else "Rolled-back turn"
    badges = [f'<span class="badge {esc(turn.status)}">{esc(turn.status)}</span>']
    if view.rolled_back:
        badges.append('<span class="badge rolled-back">rolled back</span>')
    if view.inherited:
        badges.append(f'<span class="badge inherited">inherited from {esc(source_id or "the source")}</span>')
    facts = [utc_second(turn.started_at)]
    if turn.duration_ms is not None:
        facts.append(f"{turn.duration_ms / 1000:.1f}s")
    if view.tokens:
        facts.append(f"{view.tokens:,} tokens this turn")
    anchor = turn_anchor(turn.id)
    head = (f'<h2><a href="#{esc(anchor)}">{esc(title)}</a>{"".join(badges)}'
            f'<span class="status">{esc(" · ".join(f for f in facts if f))}</span></h2>')
    error = f'<div class="error">{esc(turn.error.message)}</div>' if turn.error is not None else ""
    body = "".join(entry_html(entry) for entry in view.entries)
    cls = "turn rolled-back" if view.rolled_back else "turn inherited" if view.inherited else "turn"
    return f'<section class="{cls}" id="{esc(anchor)}" data-turn="{esc(turn.id)}">{head}{error}{body}</section>'


def render_page(transcript: Transcript, *, redacted: bool = False) -> str:
    """The whole page as a string."""
    thread = transcript.summary.thread
    source = thread.forked_from_id if thread else None
    loose = ""
    if transcript.loose:
        note = "records before the first turn" if transcript.turns else "records (replay rebuilt no turn from this file)"
        loose = f'<section class="turn" id="records"><h2>{esc(note)}</h2>' + "".join(map(entry_html, transcript.loose)) + "</section>"
    turns = "".join(_turn(view, source) for view in transcript.turns)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(transcript.title)}</title><style>{STYLE}</style></head><body>"
        f"{_header(transcript, redacted)}<main>{loose}{turns}</main>"
        f"<footer>rollout view · rollout-engine {esc(__version__)}</footer>"
        f"<script>{SCRIPT}</script></body></html>\n"
    )
