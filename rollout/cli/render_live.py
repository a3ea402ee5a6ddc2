"""Rich renderables of the commands that follow a live history: ``search`` hits and ``sync`` progress.

The second module allowed to import rich (beside :mod:`rollout.cli.render`, which is
full); the same rules: functions take plain values and return renderables, never print.

Must not import: store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.text import Text

from .render import human_bytes

__all__ = ["search_hits", "sync_progress", "sync_summary"]

_ROLE_STYLE = {"user": "green", "assistant": "cyan", "tool": "yellow"}


def _when(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M") if ms else "                "


def search_hits(hits: list[Any], anchors: list[str]) -> RenderableType:
    """Each hit: time, role, kind, thread and the view anchor, then its snippet with matches in bold."""
    if not hits:
        return Text("no hits", style="dim")
    blocks: list[RenderableType] = []
    for hit, anchor in zip(hits, anchors):
        head = Text.assemble(
            (_when(hit.time_ms), "dim"), "  ", (f"{hit.role:<9}", _ROLE_STYLE.get(hit.role, "")),
            (f"{hit.kind:<17}", "bold"), " ", (hit.thread_id, "magenta"), ("#" + anchor, "dim"),
        )
        if hit.inherited_by:
            head.append(f"  (also in {len(hit.inherited_by)} fork{'s' if len(hit.inherited_by) > 1 else ''})",
                        style="dim")
        body = Text("    " + " ".join(hit.snippet.split()))
        for start, end in _squeezed(hit.snippet, hit.highlights):
            body.stylize("bold red", start + 4, end + 4)
        blocks += [head, body]
    return Group(*blocks)


def _squeezed(snippet: str, ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The highlight ranges after runs of whitespace in the snippet became single spaces."""
    mapping, out, last_space = [], 0, True
    for ch in snippet:
        space = ch.isspace()
        mapping.append(out if not (space and last_space) else max(out - 1, 0))
        if not (space and last_space):
            out += 1
        last_space = space
    mapping.append(out)
    lead = 1 if snippet[:1].isspace() else 0
    return [(max(mapping[start] - lead, 0), max(mapping[end] - lead, 0)) for start, end in ranges]


def sync_progress(console: Console) -> Progress:
    """The ``sync`` progress bar: threads and bytes."""
    return Progress(
        TextColumn("[bold]syncing"), BarColumn(), TextColumn("{task.fields[done]}/{task.fields[count]} threads"),
        DownloadColumn(), TransferSpeedColumn(), console=console, transient=True,
    )


def sync_summary(report: Any, seconds: float) -> Text:
    """One line: what a pass did, and how long it took."""
    parts = [f"{count} {what}" for what, count in report.counts().items() if count]
    text = Text(", ".join(parts) or "nothing new", style="bold" if parts else "dim")
    text.append(f"  ({report.files} files, {human_bytes(report.bytes_read)} read, {seconds:.2f} s)", style="dim")
    return text
