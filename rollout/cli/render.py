"""Rich renderables for every human view of the ``rollout`` command.

The only module of the project that imports rich. Each function takes plain
data (summaries, turns, lines, thread infos) and returns a rich object; it
prints nothing itself. Tests render the objects into
``Console(file=io.StringIO(), width=100)`` and compare text.

Must not import: store.
"""

from __future__ import annotations

import os
import textwrap
from collections import Counter
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from typing import IO, Any

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

from .parse_yield import read_counts
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
from .tokens import describe as describe_tokens

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
    "problem_tally",
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
#: The width of a console that is not a terminal: wide enough that nothing is ever cut.
UNBOUNDED = 1_000_000
_KEY = 11  # width of the key column of key/value blocks


def make_console(file: IO[str], *, color: str = "auto") -> Console:
    """A console on ``file`` for ``--color`` ``auto`` (the default), ``always`` or ``never``.

    ``auto`` styles output only on a terminal, and not at all when ``NO_COLOR``
    is set (no colour, and no bold or dim either), even under ``FORCE_COLOR``.
    Off a terminal the console is :data:`UNBOUNDED` wide: piped output is never
    truncated or wrapped (``inspect --lines | head`` keeps every column).
    """
    options: dict[str, Any] = {}
    if color == "always":
        options.update(force_terminal=True, no_color=False)
    elif color == "never" or (color == "auto" and os.environ.get("NO_COLOR")):
        options["color_system"] = None
    console = Console(file=file, highlight=False, markup=False, emoji=False, **options)
    if not console.is_terminal:
        console.width = UNBOUNDED  # a pipe or a file: never cut or wrap to a guessed 80 columns
    return console


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
        ("read", s.parse_yield and read_counts(s.parse_yield)),
        ("tokens", s.tokens and describe_tokens(s.tokens)),
        ("lines", f"{s.lines} · {human_bytes(s.bytes)}"),
    ]
    fields = [_field(key, str(value)) for key, value in rows if value is not None]
    warning = s.parse_yield.warning() if s.parse_yield is not None else None
    if warning:
        fields.append(_field("warning", Text(warning, style="yellow")))
    if s.source_missing:
        fields.append(_field("sync", Text("source missing: its files are gone since a sync; the store keeps "
                                          "the thread", style="yellow")))
    fields.append(_field("problems", _problem_cell(s.problems)))
    title = Text(t.id if t else "(no session_meta: Codex cannot resume this file)", style="bold cyan")
    parts: list[RenderableType] = [title, *fields, Text(), _types_table(s)]
    if problems:
        parts += [Text(), *problem_lines(problems[:10])]
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
        """A bad line in place: its reason whole, wrapped under itself when the terminal is narrow."""
        reason = f"{problem.kind}: {one_line(problem.reason, UNBOUNDED)}"
        room = max(self._width - 8, 20)
        pieces = textwrap.wrap(reason, room, break_long_words=True, break_on_hyphens=False) or [""]
        start, end = self._codes["red"]
        dim, undim = self._codes["dim"]
        self._file.write(f"{dim}{problem.line:>6}  {undim}{start}{pieces[0]}{end}\n")
        for piece in pieces[1:]:
            self._file.write(f"        {start}{piece}{end}\n")


def _ansi(console: Console, style: str) -> tuple[str, str]:
    """The (start, end) escape codes ``console`` writes around text in ``style``."""
    with console.capture() as captured:
        console.print(Text("\0", style=style), end="")
    start, _, end = captured.get().partition("\0")
    return start, end


def problem_lines(problems: Iterable[Any]) -> list[Text]:
    """``path:line: kind: reason`` lines; warnings (kept lines, nothing lost) read ``path:line: warning: kind: ...``.

    Problems are red, warnings yellow. A line too long for the width wraps
    (never cut, so the reason stays whole).
    """
    return [Text(_problem_text(p), style="yellow" if p.kept else "red") for p in problems]


def _problem_text(problem: Any) -> str:
    text = problem.describe()
    if not problem.kept:
        return text
    where = f"{problem.path}:{problem.line}" if problem.path else f"line {problem.line}"
    return f"{where}: warning: {text[len(where) + 2:]}"


_WARNING_WORDS = {  # kind -> (one, many)
    "unknown_type": ("kept line of unknown type", "kept lines of unknown type"),
    "no_messages": ("file with no messages read", "files with no messages read"),
}


def problem_tally(problems: list[Any]) -> Text:
    """The last line of ``inspect --problems``: ``2 problems, 1 warning`` (or ``no problems``)."""
    bad = sum(1 for p in problems if not p.kept)
    warned = len(problems) - bad
    head = plural(bad, "problem") if bad else "no problems"
    tail = f", {plural(warned, 'warning')} (warnings do not change the exit status)" if warned else ""
    return Text(head + tail, style="red" if bad else "yellow" if warned else "green")


def validate_report(files: int, lines: int, failed: int, problems: int, warnings: dict[str, int],
                    read: dict[str, int] | None = None) -> Text:
    """The last line of ``validate``: problems, warnings by kind, and what was read."""
    style = "red" if failed else "green"
    tail = f"{plural(problems, 'problem')} in {plural(failed, 'file')}" if failed else "no problems"
    if warnings:
        kinds = ", ".join(f"{n} {_WARNING_WORDS.get(kind, (kind, kind))[n != 1]}" for kind, n in warnings.items())
        tail += f" ({plural(sum(warnings.values()), 'warning')}: {kinds})"
    if read:
        unknown = f", {plural(read.get('unknown', 0), 'record')} of unknown type" if read.get("unknown") else ""
        tail += f"; read {plural(read.get('messages', 0), 'message')}, {plural(read.get('tool_calls', 0), 'tool call')}{unknown}"
    return Text(f"checked {plural(files, 'file')}, {plural(lines, 'line')}: {tail}", style=style)


# --------------------------------------------------------------------------- context


def _token_fields(tokens: Any) -> list[RenderableType]:
    """The context's size against the window, and the cumulative total labelled as such."""
    if tokens is None:
        return []
    fields: list[RenderableType] = []
    if tokens.context_tokens is not None:
        window = f" of {tokens.context_window:,}" if tokens.context_window else ""
        share = f" ({tokens.context_share:.0%})" if tokens.context_share is not None else ""
        fields.append(_field("context", f"{tokens.context_tokens:,}{window} tokens{share}, as of the last request"))
    if tokens.total_tokens is not None:
        fields.append(_field("total", f"{tokens.total_tokens:,} tokens (cumulative over the session, as Codex counts)"))
    if tokens.inherited_tokens:
        fields.append(_field("own", f"{tokens.own_tokens:,} tokens in this thread's requests; "
                                    f"{tokens.inherited_tokens:,} inherited from the fork source"))
    return fields


def context_view(ctx: Any, tokens: Any = None) -> RenderableType:
    """``inspect --context``: what a resumed thread would send the model, and how full its window is.

    Args:
        ctx: a :class:`replay.ResumeContext`.
        tokens: the thread's :class:`~rollout.cli.tokens.TokenFigures` (None: not shown).
    """
    settings = ctx.turn_context
    fields: list[RenderableType] = []
    if settings is not None:
        fields.append(_field("model", _join(settings.model, settings.effort and f"effort {settings.effort}")))
        fields.append(_field("cwd", settings.cwd or "-"))
    fields += _token_fields(tokens)
    base = "start of file" if ctx.base_line is None else f"compaction at line {ctx.base_line + 1}"
    fields += [_field("base", base), _field("items", str(len(ctx.items))), Text()]
    for number, item in enumerate(ctx.items, 1):
        label, preview = response_preview(item)
        fields.append(_crop((f"{number:>4}  ", "dim"), (f"{label:<24}", "magenta"), "  ", preview))
    return Group(*fields)


# --------------------------------------------------------------------------- store views


class _ThreadRows:
    """The ``ls`` table: full ids and times; name and cwd as wide as they need, else sharing what is left (2:1)."""

    def __init__(self, threads: list[Any], missing: set[str]) -> None:
        self.threads = threads
        self.missing = missing

    def _label(self, info: Any) -> str:
        label = info.name or one_line(info.preview or "")
        if info.id in self.missing:
            label = f"[source missing] {label}"
        return f"[archived] {label}" if info.archived else label

    def __rich_console__(self, console: Console, options: Any) -> Any:
        labels = [self._label(info) for info in self.threads]
        rest = max(options.max_width - 36 - 16 - 6, 20)
        need_name = max(cell_len(label) for label in [*labels, "name / preview"])
        need_cwd = max(cell_len(info.cwd or "") for info in self.threads)
        if need_name + need_cwd <= rest:  # everything fits (always, off a terminal): no cutting, no padding
            name_width, cwd_width = need_name, max(need_cwd, 3)
        else:
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
        for info, label in zip(self.threads, labels):
            yield row((info.id, 36, "cyan"), (utc_minute(info.updated_at), 16, ""), (label, name_width, ""),
                      (_left_crop(info.cwd or "", cwd_width), cwd_width, "dim"))


def _left_crop(path: str, width: int) -> str:
    """The end of a path, which tells directories apart better than its start."""
    if cell_len(path) <= width:
        return path
    while path and cell_len(path) > width - 1:
        path = path[1:]
    return "…" + path


def threads_table(threads: list[Any], missing: AbstractSet[str] = frozenset()) -> RenderableType:
    """``ls``: one line per thread; ``missing``: ids whose source files ``sync`` saw vanish."""
    if not threads:
        return Text("no threads", style="dim")
    return _ThreadRows(threads, set(missing))


def import_summary(records: list[Any], seconds: float, db: Any) -> Text:
    """The last line of ``import``: what was imported, appended, left alone, skipped and failed, and how fast."""
    done = [r for r in records if r.status == "imported"]
    size = sum(r.bytes for r in done)
    count = Counter(r.status for r in records)
    rate = f", {human_bytes(int(size / seconds))}/s" if seconds > 0 and size else ""
    line = Text(f"imported {plural(len(done), 'thread')} ({human_bytes(size)}) in {seconds:.1f}s{rate} into {db}")
    if count["copied"]:
        copied = sum(r.threads or 0 for r in records if r.status == "copied")
        line.append(f"; copied {plural(copied, 'thread')} from {plural(count['copied'], 'store')}")
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
