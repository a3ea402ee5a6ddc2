"""``rollout inspect TARGET``: what is in a rollout file, a Codex home or a stored thread.

TARGET is a ``.jsonl``/``.jsonl.zst`` file (``-``: standard input), a folder (a
Codex home or any folder of rollouts), or a thread id (looked up in ``--codex-home`` by file name, else
in the ``--db`` store). Views: the summary (default), ``--turns``, ``--items
TURN``, ``--lines`` (streams: a 1 GB file starts printing at once, in bounded
memory), ``--context`` and ``--problems``. Every view reads the source once.

The summary of one file is the common case, run from scripts: what only a folder, a
stored thread or another view needs (the Codex home layout, the stores, validation) is
imported where it is used.

Must not import: rich (rendering goes through :mod:`rollout.cli.render`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from .. import events as ev
from ..codec import encode_line
from ..compat import upcast
from ..compression import ZSTD_MAGIC, open_decompressed
from ..errors import ThreadNotFound
from ..reader import iter_rollout
from .failure import CommandError, UsageError
from .output import Output
from .parse_yield import YieldCounter
from .summary import HomeSummary, ProblemInfo, Summarizer, payload_type
from .tokens import TokenCounter

__all__ = ["register", "run"]


EXAMPLE = """\
examples:
  rollout inspect examples/rollout-2026-06-01T10-00-00-019e2a5c-0000-7000-8000-000000000001.jsonl
  rollout inspect session.jsonl --turns
  rollout inspect session.jsonl --items turn-2
  rollout inspect session.jsonl --lines --type token_count
  rollout inspect 019e2a5c-0000-7000-8000-000000000001 --codex-home ~/.codex --context
"""


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser, where: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "inspect",
        parents=[common, where],
        help="summarise a rollout file, Codex home or stored thread",
        description="Show what a thread holds: identity, lineage, settings, versions, counts and "
        "bytes by type, and problems; or its turns, one turn's items, its raw lines, its resume "
        "context or its problems.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("target", metavar="TARGET",
                        help="rollout file (- for standard input), Codex home/folder, or thread id")
    view = parser.add_mutually_exclusive_group()
    view.add_argument("--turns", action="store_true", help="tree of turns and items with status and previews")
    view.add_argument("--items", metavar="TURN", help="the items of one turn: its id, or its number (1 = first, -1 = last)")
    view.add_argument("--lines", action="store_true", help="raw lines: index, timestamp, type, size (streams)")
    view.add_argument("--context", action="store_true", help="the model context a resume would send")
    view.add_argument("--problems", action="store_true",
                      help="only the problems and warnings (exit 1 if any problem; warnings alone exit 0)")
    parser.add_argument("--type", action="append", metavar="TYPE",
                        help="with --lines: only this line or payload type (repeatable), e.g. event_msg, token_count")
    parser.add_argument("--policy", choices=("extended", "limited"), default="extended",
                        help="replay policy: extended keeps old extended-mode events (default); "
                        "limited shows what today's app-server shows")
    parser.set_defaults(func=run)


class _Listed:
    """Stored lines with the iterator interface of :func:`rollout.iter_rollout`."""

    def __init__(self, lines: list[ev.Line], thread_id: str) -> None:
        self._lines = lines
        self.problems: list[Any] = []
        self.thread_id = thread_id
        self.line_number = 0

    def __iter__(self) -> Iterator[ev.Line]:
        for number, line in enumerate(self._lines, 1):
            self.line_number = number
            yield line


def run(args: argparse.Namespace, out: Output) -> Any:
    if args.type and not args.lines:
        raise UsageError("--type only applies to --lines")
    if args.target == "-":
        return _show(args, out, iter_rollout(_stdin()), path=None)
    target = Path(args.target).expanduser()
    if target.is_dir():
        return _folder(args, out, target)
    if target.exists():
        return _show(args, out, iter_rollout(target), path=str(target), mtime_ms=_mtime_ms(target))
    from .target import find_in_home, is_thread_id

    if not is_thread_id(args.target):
        looks_like_path = "/" in args.target or "." in args.target
        reason = "no such file or directory" + ("" if looks_like_path else " (nor a thread id)")
        raise FileNotFoundError(2, reason, args.target)
    if args.codex_home:
        found = find_in_home(Path(args.codex_home).expanduser(), args.target)
        if found is None:
            raise ThreadNotFound(args.target)
        return _show(args, out, iter_rollout(found), path=str(found), mtime_ms=_mtime_ms(found))
    return _stored(args, out)


def _mtime_ms(path: Path) -> int:
    """When the file was last written: what Codex shows as a thread's ``updatedAt``."""
    return path.stat().st_mtime_ns // 1_000_000


async def _stored(args: argparse.Namespace, out: Output) -> int:
    from . import storage

    path = storage.db_path(args)
    if not getattr(args, "postgres", None) and not path.exists():
        raise CommandError(
            f"{args.target}: not a file, and there is no database at {path} to look the thread up in "
            "(import threads with `rollout import`, or pass --codex-home)"
        )
    async with storage.open_store(args, create=False) as store:
        info = await store.info(args.target)
        if args.lines:  # stream a stored thread page by page, like a file
            printer = _LinePrinter(out, set(args.type or ()))
            number = 0
            async for line in store.iter_lines(args.target):
                number += 1
                printer.line(number, line)
            return 0
        lines = await store.read_lines(args.target)
    missing = storage.source_missing(args, [info.id])
    return _show(args, out, _Listed(lines, info.id), path=None, thread=info,
                 source_missing=None if missing is None else info.id in missing)


def _stdin() -> BinaryIO:
    """Standard input as a binary stream, decompressed when it is zstd (``rollout inspect - < x.jsonl.zst``)."""
    stream = sys.stdin.buffer
    head = stream.peek(4)[:4] if hasattr(stream, "peek") else b""
    return open_decompressed(stream, None) if head == ZSTD_MAGIC else stream


class _Watched:
    """The lines of a source, counted on the way past for the parse yield and the token figures."""

    def __init__(self, source: Iterable[ev.Line]) -> None:
        self.source = source
        self.yields = YieldCounter()
        self.tokens = TokenCounter()

    def __iter__(self) -> Iterator[ev.Line]:
        for line in self.source:
            self.yields.see(line)
            self.tokens.see(line)
            yield line


def _show(args: argparse.Namespace, out: Output, source: Any, *, path: str | None, thread: Any = None,
          mtime_ms: int | None = None, source_missing: bool | None = None) -> int:
    if args.lines:
        return _lines(out, source, set(args.type or ()))
    if args.context:
        return _context(out, source)
    if args.problems:
        return _problems(out, source, path)
    watched = _Watched(source)
    summarizer = Summarizer(path=path, policy=args.policy).feed(watched)
    if args.turns:
        return _turns(out, summarizer, source.thread_id or path or "")
    if args.items is not None:
        return _items(out, summarizer, args.items)
    problems = [ProblemInfo.of(p, path) for p in source.problems]
    turns = summarizer.turns()
    summary = summarizer.summary(problems, turns=turns, thread=thread, mtime_ms=mtime_ms)
    summary.parse_yield = watched.yields.result(turns)
    summary.tokens = watched.tokens.figures()
    summary.source_missing = source_missing
    if out.json:
        out.emit(summary)
        return 0
    from . import render

    out.show(render.summary(summary, problems))
    return 0


def _turns(out: Output, summarizer: Summarizer, title: str) -> int:
    turns = summarizer.turns()
    if out.json:
        for turn in turns:
            out.emit(turn)
        return 0
    from . import render

    out.show(render.turns_tree(title, turns))
    return 0


def _items(out: Output, summarizer: Summarizer, wanted: str) -> int:
    from .target import find_turn

    number, turn = find_turn(summarizer.turns(), wanted)
    if out.json:
        for item in turn.items:
            out.emit(item)
        return 0
    from . import render

    out.show(render.items_view(number, turn))
    return 0


class _LinePrinter:
    """``--lines`` output, one line at a time (so files and stored threads both stream)."""

    def __init__(self, out: Output, types: set[str]) -> None:
        self.out = out
        self.types = types
        self.reported = 0
        self.table = None
        if not out.json:
            from . import render

            self.table = render.LineTable(out.console)
            self.table.header()

    def line(self, number: int, line: ev.Line) -> None:
        inner = payload_type(line)
        if self.types and line.type not in self.types and inner not in self.types:
            return
        raw = encode_line(line)
        if self.table is None:
            self.out.emit_raw(raw)
        else:
            self.table.row(number, line.timestamp, f"{line.type}/{inner}" if inner else line.type, len(raw) + 1)

    def problems(self, problems: list[Any]) -> None:
        """Show the bad lines met since the last call, in place (not when filtering by type)."""
        if self.table is not None and not self.types:
            for problem in problems[self.reported:]:
                if not problem.kept:
                    self.table.problem(problem)
        self.reported = len(problems)


def _lines(out: Output, source: Any, types: set[str]) -> int:
    printer = _LinePrinter(out, types)
    for line in source:
        if len(source.problems) > printer.reported:
            printer.problems(source.problems)
        printer.line(source.line_number, line)
    printer.problems(source.problems)
    return 0


def _context(out: Output, source: Iterable[ev.Line]) -> int:
    from replay import resume_context

    watched = _Watched(source)
    context = resume_context(upcast(watched))
    if out.json:
        out.emit(context)
        return 0
    from . import render

    out.show(render.context_view(context, watched.tokens.figures()))
    return 0


def _problems(out: Output, source: Any, path: str | None) -> int:
    from .validate import check

    if path is not None:
        problems = check(Path(path)).problems
    else:
        for _ in source:
            pass
        problems = [ProblemInfo.of(p, None) for p in source.problems]
    return _emit_problems(out, problems)


def _folder(args: argparse.Namespace, out: Output, folder: Path) -> int:
    if args.turns or args.items or args.lines or args.context:
        raise UsageError(f"{folder} is a folder: --turns, --items, --lines and --context need one thread")
    from ..codex_home import SESSION_INDEX
    from .target import codex_home_files, is_codex_home, rollout_files
    from .validate import check

    home = is_codex_home(folder)
    active, archived = codex_home_files(folder) if home else (rollout_files([folder]), [])
    files = active + archived
    if args.problems:
        problems = [p for path in files for p in check(path).problems]
        return _emit_problems(out, problems)
    stamps = sorted(name for name in (_stamp(path) for path in files) if name)
    index = folder / SESSION_INDEX
    summary = HomeSummary(
        path=str(folder), codex_home=home, active=len(active), archived=len(archived),
        compressed=sum(1 for path in files if path.name.endswith(".zst")),
        bytes=sum(path.stat().st_size for path in files),
        oldest=stamps[0] if stamps else None, newest=stamps[-1] if stamps else None,
        names=_named_threads(index) if index.is_file() else 0,
    )
    if out.json:
        out.emit(summary)
        return 0
    from . import render

    out.show(render.home_summary(summary))
    return 0


def _emit_problems(out: Output, problems: list[ProblemInfo]) -> int:
    """Print the problems; exit 1 if any is a problem (warnings, which lose nothing, leave it 0)."""
    if out.json:
        for problem in problems:
            out.emit(problem)
    else:
        from . import render

        for row in [*render.problem_lines(problems), render.problem_tally(problems)]:
            out.show(row, whole=True)
    return 1 if any(not p.kept for p in problems) else 0


def _stamp(path: Path) -> str | None:
    """``YYYY-MM-DDThh:mm:ss`` from a ``rollout-YYYY-MM-DDThh-mm-ss-<uuid>`` file name."""
    from ..codex_home import parse_rollout_name

    parsed = parse_rollout_name(path.name[path.name.find("rollout-"):])
    if parsed is None:
        return None
    return parsed.stamp[:11] + parsed.stamp[11:].replace("-", ":")


def _named_threads(path: Path) -> int:
    """Threads named in ``session_index.jsonl`` (malformed lines skipped, as Codex does)."""
    from ..session_index import latest_names, read_entries

    return sum(1 for name in latest_names(read_entries(path)[0]).values() if name)
