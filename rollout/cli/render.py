"""Rich renderables for every human view of the ``rollout`` command.

The only module of the project that imports rich. Each function takes plain
data (summaries, turns, lines, thread infos) and returns a rich object; it
prints nothing itself. Tests render the objects into
``Console(file=io.StringIO(), width=100)`` and compare text.

Must not import: store.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from typing import IO, Any, Literal

from rich import box
from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from .preview import (
    counts,
    human_bytes,
    item_detail,
    item_preview,
    item_status,
    item_type,
    lineage,
    one_line,
    plural,
    response_preview,
    source_name,
    turn_counts,
    utc_minute,
    utc_second,
)

__all__ = [
    "LineTable",
    "context_view",
    "home_summary",
    "human_bytes",
    "import_progress",
    "import_summary",
    "items_view",
    "make_console",
    "problem_lines",
    "summary",
    "text",
    "threads_table",
    "turns_tree",
    "validate_report",
]

STATUS_STYLE = {
    "completed": "green", "interrupted": "yellow", "failed": "red", "declined": "red",
    "inProgress": "blue",
}
_DETAIL_LINES = 40
_KEY = 11  # width of the key column of key/value blocks


def make_console(file: IO[str], *, color: str = "auto") -> Console:
    """A console on ``file`` for ``--color`` ``auto`` (the default), ``always`` or ``never``.

    ``auto`` styles output only on a terminal, and not at all when ``NO_COLOR``
    is set (no colour, and no bold or dim either), even under ``FORCE_COLOR``.
    """
    options: dict[str, Any] = {}
    if color == "always":
        options.update(force_terminal=True, no_color=False)
    elif color == "never" or (color == "auto" and os.environ.get("NO_COLOR")):
        options["color_system"] = None
    return Console(file=file, highlight=False, markup=False, emoji=False, **options)


def text(message: str, style: str = "") -> Text:
    """A plain line of text."""
    return Text(message, style=style)


def _status(status: str | None) -> Text:
    return Text(status or "", style=STATUS_STYLE.get(status or "", ""))


def _crop(*parts: str | tuple[str, str] | Text) -> Text:
    line = Text(no_wrap=True, overflow="ellipsis")
    for part in parts:
        line.append(part) if isinstance(part, (str, Text)) else line.append(*part)
    return line


# --------------------------------------------------------------------------- summary


class _Field:
    """``key        value``: one entry of a key/value block.

    A value too long for the width continues under itself (hanging indent) and
    a long path is folded rather than pushed to the next line.
    """

    def __init__(self, key: str, value: str | Text) -> None:
        self.key = key
        self.value = value if isinstance(value, Text) else Text(value)

    def __rich_console__(self, console: Console, options: Any) -> Any:
        width = max(options.max_width - _KEY, 10)
        lines = self.value.wrap(console, width, overflow="fold")
        out = Text(no_wrap=True, overflow="crop")
        for number, line in enumerate(lines):
            line.rstrip()
            out.append("\n" if number else "")
            out.append(f"{self.key:<{_KEY}}" if number == 0 else " " * _KEY, style="bold" if number == 0 else "")
            out.append_text(line)
        yield out


def _field(key: str, value: str | Text) -> _Field:
    return _Field(key, value)


def _join(*parts: str | None) -> str:
    return " · ".join(p for p in parts if p) or "-"


def summary(s: Any, problems: list[Any] = ()) -> RenderableType:  # type: ignore[assignment]
    """The ``inspect`` summary of one thread (a :class:`~rollout.cli.summary.Summary`)."""
    t = s.thread
    git = t and t.git_info
    rows = [
        ("name", t and t.name),
        ("file", s.path),
        ("created", t and utc_second(t.created_at)),
        ("updated", t and utc_second(t.updated_at)),
        ("cwd", t and t.cwd),
        ("model", t and _join(t.model, t.reasoning_effort and f"effort {t.reasoning_effort}", t.model_provider)),
        ("versions", _join(t and t.originator and f"{t.originator} {t.cli_version}".strip(), f"{s.format} format")),
        ("source", t and source_name(t.source)),
        ("git", git and _join(git.branch, git.sha, git.origin_url)),
        ("lineage", t and lineage(t)),
        ("turns", turn_counts(s)),
        ("items", counts(s.items)),
        ("lines", f"{s.lines} · {human_bytes(s.bytes)}"),
    ]
    fields = [_field(key, str(value)) for key, value in rows if value is not None]
    fields.append(_field("problems", _problem_cell(s.problems)))
    title = Text(t.id if t else "(no session_meta: Codex cannot resume this file)", style="bold cyan")
    parts: list[RenderableType] = [title, *fields, Text(), _types_table(s)]
    if problems:
        parts += [Text(), *problem_lines(problems[:10], crop=True)]
        if len(problems) > 10:
            parts.append(Text(f"… {len(problems) - 10} more (rollout inspect --problems)", style="dim"))
    return Group(*parts)


def _problem_cell(problems: dict[str, int]) -> Text:
    if not problems:
        return Text("none", style="green")
    return Text(counts(problems), style="red")


def _types_table(s: Any) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, header_style="bold")
    table.add_column("line type")
    table.add_column("lines", justify="right")
    table.add_column("bytes", justify="right")
    table.add_column("%", justify="right")
    total = s.bytes or 1
    for stat in s.line_types:
        table.add_row(stat.type, str(stat.lines), human_bytes(stat.bytes), f"{100 * stat.bytes / total:.1f}")
        for inner in stat.payloads:
            table.add_row(
                Text(f"  {inner.type}", style="dim"), str(inner.lines), human_bytes(inner.bytes),
                f"{100 * inner.bytes / total:.1f}", style="dim",
            )
    return table


def home_summary(h: Any) -> RenderableType:
    """The ``inspect`` summary of a Codex home or a folder of rollouts."""
    kind = "Codex home" if h.codex_home else "folder"
    fields = [
        _field("threads", f"{h.active + h.archived}: {h.active} active, {h.archived} archived"),
        _field("compressed", str(h.compressed)),
        _field("size", human_bytes(h.bytes)),
        _field("oldest", h.oldest or "-"),
        _field("newest", h.newest or "-"),
    ]
    if h.codex_home:
        fields.append(_field("names", str(h.names)))
    return Group(Text(f"{h.path} ({kind})", style="bold cyan"), *fields)


# --------------------------------------------------------------------------- turns and items


def _turn_label(number: int, turn: Any) -> Text:
    first = next((item for item in turn.items if item_type(item) == "userMessage"), None)
    duration = f"{turn.duration_ms / 1000:.1f}s" if turn.duration_ms is not None else ""
    return _crop(
        (f"#{number} ", "dim"), (turn.id, "bold cyan"), "  ", _status(turn.status),
        f"  {duration}" if duration else "", f"  {plural(len(turn.items), 'item')}  ",
        (item_preview(first) if first else "", "italic"),
    )


def _item_label(item: Any, *, preview: bool = True) -> Text:
    status = item_status(item)
    return _crop(
        (f"{item_type(item):<16}", "magenta"), "  ", (item.id, "dim"),
        *(("  ", _status(status)) if status else ()), *(("  ", item_preview(item)) if preview else ()),
    )


def turns_tree(title: str, turns: list[Any]) -> Tree:
    """``inspect --turns``: every turn with its items, one line each."""
    tree = Tree(_crop((title, "bold"), f" · {plural(len(turns), 'turn')}"), guide_style="dim")
    for number, turn in enumerate(turns, 1):
        node = tree.add(_turn_label(number, turn))
        if turn.error is not None:
            node.add(Text(f"error: {one_line(turn.error.message)}", style="red"))
        for item in turn.items:
            node.add(_item_label(item))
    return tree


def items_view(number: int, turn: Any) -> RenderableType:
    """``inspect --items TURN``: the turn's items with their full text (long bodies cut)."""
    parts: list[RenderableType] = [_turn_label(number, turn)]
    if turn.error is not None:
        parts.append(Text(f"error: {turn.error.message}", style="red"))
    for item in turn.items:
        parts += [Text(), _item_label(item, preview=False)]
        body = item_detail(item).splitlines()
        if len(body) > _DETAIL_LINES:
            body = [*body[:_DETAIL_LINES], f"… {len(body) - _DETAIL_LINES} more lines (--json for all)"]
        parts += [Text("    " + line) for line in body]
    return Group(*parts)


# --------------------------------------------------------------------------- lines and problems


class LineTable:
    """The rows of ``inspect --lines``, written straight to the console's file.

    ``Console.print`` costs ~300 µs a row, too slow for a file of millions of
    lines, so rows are formatted by hand with the console's own ANSI codes
    (captured once per style; empty when colour is off) and cut to its width.
    """

    def __init__(self, console: Console) -> None:
        self._file = console.file
        self._width = console.width
        self._codes = {style: _ansi(console, style) for style in ("bold", "dim", "magenta", "red")}
        (dim, undim), (magenta, unmagenta) = self._codes["dim"], self._codes["magenta"]
        # The common row (fits the width, no field too long) in one format call.
        self._fast = f"{dim}{{:>6}}  {undim}{{:<24}}  {magenta}{{:<40}}{unmagenta}  {{:>8}}\n"

    def _write(self, *parts: tuple[str, str]) -> None:
        room, out = self._width, []
        for piece, style in parts:
            if room <= 0:
                break
            if len(piece) > room:
                piece = piece[: room - 1] + "…"
            room -= len(piece)
            start, end = self._codes.get(style, ("", ""))
            out.append(f"{start}{piece}{end}" if piece.strip() else piece)
        self._file.write("".join(out).rstrip() + "\n")

    def header(self) -> None:
        self._write((f"{'line':>6}  {'timestamp':<24}  {'type':<40}  {'bytes':>8}", "bold"))

    def row(self, number: int, timestamp: str | None, kind: str, size: int) -> None:
        timestamp = timestamp or "-"
        if self._width >= 84 and len(kind) <= 40 and len(timestamp) <= 24 and number < 1_000_000:
            self._file.write(self._fast.format(number, timestamp, kind, size))
            return
        self._write(
            (f"{number:>6}  ", "dim"), (f"{timestamp:<24}  ", ""), (f"{kind:<40}", "magenta"),
            (f"  {size:>8}", ""),
        )

    def problem(self, problem: Any) -> None:
        self._write((f"{problem.line:>6}  ", "dim"), (f"{problem.kind}: {one_line(problem.reason)}", "red"))


def _ansi(console: Console, style: str) -> tuple[str, str]:
    """The (start, end) escape codes ``console`` writes around text in ``style``."""
    with console.capture() as captured:
        console.print(Text("\0", style=style), end="")
    start, _, end = captured.get().partition("\0")
    return start, end


def problem_lines(problems: Iterable[Any], *, crop: bool = False) -> list[Text]:
    """``path:line: kind: reason`` lines (kept unknown types in yellow, the rest in red).

    Args:
        crop: cut each line to the width with an ellipsis (inside the summary);
            otherwise print them whole (``Output.show(..., whole=True)``).
    """
    overflow: Literal["ellipsis"] | None = "ellipsis" if crop else None
    return [
        Text(p.describe(), style="yellow" if p.kept else "red", no_wrap=crop, overflow=overflow)
        for p in problems
    ]


def validate_report(files: int, lines: int, failed: int, problems: int, warnings: int) -> Text:
    """The last line of ``validate``."""
    style = "red" if failed else "green"
    tail = f"{plural(problems, 'problem')} in {plural(failed, 'file')}" if failed else "no problems"
    if warnings:
        tail += f" ({plural(warnings, 'kept line')} of unknown type)"
    return Text(f"checked {plural(files, 'file')}, {plural(lines, 'line')}: {tail}", style=style)


# --------------------------------------------------------------------------- context


def context_view(ctx: Any) -> RenderableType:
    """``inspect --context``: what a resumed thread would send the model."""
    settings = ctx.turn_context
    fields: list[RenderableType] = []
    if settings is not None:
        fields.append(_field("model", _join(settings.model, settings.effort and f"effort {settings.effort}")))
        fields.append(_field("cwd", settings.cwd or "-"))
    usage = ctx.token_usage.get("total_token_usage") if isinstance(ctx.token_usage, dict) else None
    if isinstance(usage, dict):
        fields.append(_field("tokens", str(usage.get("total_tokens", "-"))))
    base = "start of file" if ctx.base_line is None else f"compaction at line {ctx.base_line + 1}"
    fields += [_field("base", base), _field("items", str(len(ctx.items))), Text()]
    for number, item in enumerate(ctx.items, 1):
        label, preview = response_preview(item)
        fields.append(_crop((f"{number:>4}  ", "dim"), (f"{label:<24}", "magenta"), "  ", preview))
    return Group(*fields)


# --------------------------------------------------------------------------- store views


class _ThreadRows:
    """The ``ls`` table: full ids and times, name and cwd sharing what width is left (2:1)."""

    def __init__(self, threads: list[Any]) -> None:
        self.threads = threads

    def __rich_console__(self, console: Console, options: Any) -> Any:
        rest = max(options.max_width - 36 - 16 - 6, 20)
        name_width = rest * 2 // 3
        cwd_width = rest - name_width

        def row(*cells: tuple[str, int, str]) -> Text:  # (value, width, style) per column
            line = Text(no_wrap=True, overflow="ellipsis")
            for number, (value, width, style) in enumerate(cells):
                cell = Text(value, style=style)
                cell.truncate(width, overflow="ellipsis", pad=number < len(cells) - 1)
                line.append_text(cell)
                line.append("  " if number < len(cells) - 1 else "")
            return line

        yield row(("id", 36, "bold"), ("updated (UTC)", 16, "bold"), ("name / preview", name_width, "bold"), ("cwd", cwd_width, "bold"))
        for info in self.threads:
            label = info.name or one_line(info.preview or "")
            if info.archived:
                label = f"[archived] {label}"
            yield row((info.id, 36, "cyan"), (utc_minute(info.updated_at), 16, ""), (label, name_width, ""),
                      (_left_crop(info.cwd or "", cwd_width), cwd_width, "dim"))


def _left_crop(path: str, width: int) -> str:
    """The end of a path, which tells directories apart better than its start."""
    if cell_len(path) <= width:
        return path
    while path and cell_len(path) > width - 1:
        path = path[1:]
    return "…" + path


def threads_table(threads: list[Any]) -> RenderableType:
    """``ls``: one line per thread."""
    if not threads:
        return Text("no threads", style="dim")
    return _ThreadRows(threads)


def import_summary(records: list[Any], seconds: float, db: Any) -> Text:
    """The last line of ``import``: what was imported, appended, left alone, skipped and failed, and how fast."""
    done = [r for r in records if r.status == "imported"]
    size = sum(r.bytes for r in done)
    count = Counter(r.status for r in records)
    rate = f", {human_bytes(int(size / seconds))}/s" if seconds > 0 and size else ""
    line = Text(f"imported {plural(len(done), 'thread')} ({human_bytes(size)}) in {seconds:.1f}s{rate} into {db}")
    if count["appended"]:
        added = sum(r.lines_added for r in records if r.status == "appended")
        line.append(f"; {count['appended']} grown ({plural(added, 'new line')})")
    if count["unchanged"]:
        line.append(f"; {count['unchanged']} already there", style="dim")
    if count["skipped"]:
        line.append(f"; {plural(count['skipped'], '.jsonl file')} skipped (not rollouts: no session_meta)",
                    style="dim")
    if count["diverged"]:
        line.append(f"; {count['diverged']} differ from the store (left alone)", style="red")
    if count["failed"]:
        line.append(f"; {count['failed']} failed", style="red")
    return line


def import_progress(console: Console) -> Progress:
    """The ``import`` progress bar: files, bytes, rate and ETA."""
    return Progress(
        TextColumn("[bold]importing"),
        BarColumn(),
        TextColumn("{task.fields[done]}/{task.fields[count]} files"),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
