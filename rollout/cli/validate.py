"""``rollout validate PATH...``: read every rollout, report each problem as ``file:line``.

A file's problems are the reader's (malformed, invalid, torn, blank lines and
kept lines of unknown type) plus two thread-level ones Codex cares about: no
``session_meta`` at all (it cannot resume or list the thread) and a
``response_item`` before the first ``session_meta`` (its listing rejects the
file). Each file is also replayed for its parse yield (messages, tool calls,
unknown records: :mod:`rollout.cli.parse_yield`); a file with lines but no
messages gets a ``no_messages`` warning. Warnings (kept lines of unknown type,
``no_messages``) lose nothing, so they fail validation only with ``--strict``.
Exit status: 0 clean, 1 problems, 2 usage.

Must not import: rich (rendering goes through :mod:`rollout.cli.render`), store.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import msgspec

from replay import HistoryBuilder

from .. import events as ev
from ..compat import iter_upcast
from ..errors import EmptyRollout, UnreadableRollout
from ..reader import RolloutIterator, iter_rollout
from .output import Output
from .parse_yield import ParseYield, YieldCounter
from .summary import ProblemInfo
from .target import rollout_files

__all__ = ["FileReport", "check", "register", "run"]

EXAMPLE = """\
examples:
  rollout validate ~/.codex/sessions
  rollout validate broken.jsonl --json | jq -r '.problems[].reason'
"""


class FileReport(msgspec.Struct, kw_only=True, rename="camel"):
    """The ``--json`` record of one validated file."""

    path: str
    thread_id: str | None
    lines: int
    ok: bool
    problems: list[ProblemInfo]
    parse_yield: ParseYield | None = None


class _Scan:
    """One pass over a file: line count, the first meta-or-item line, the parse yield's records."""

    def __init__(self, source: RolloutIterator) -> None:
        self.source = source
        self.lines = 0
        self.first: tuple[str, int] | None = None  # type and line number of the first meta or response item
        self.counter = YieldCounter()

    def __iter__(self):
        for line in self.source:
            self.lines += 1
            self.counter.see(line)
            if self.first is None and isinstance(line, (ev.SessionMetaLine, ev.ResponseItemLine)):
                self.first = (line.type, self.source.line_number)
            yield line


def check(path: Path, *, strict: bool = False) -> FileReport:
    """Read and replay one rollout completely, collecting its problems (never raises for bad content)."""
    name = str(path)
    source = iter_rollout(path)
    scan = _Scan(source)
    builder = HistoryBuilder()
    extra: list[ProblemInfo] = []
    parse_yield = None
    try:
        builder.feed_many(iter_upcast(scan))
    except EmptyRollout:
        extra.append(_thread_problem(name, 0, "empty", "empty rollout (no non-blank line)"))
    except UnreadableRollout as exc:
        extra.append(_thread_problem(name, 0, "unreadable", str(exc).removeprefix(f"{name}: ")))
    else:
        parse_yield = scan.counter.result(builder.snapshot())
        extra += _thread_problems(name, source, scan, parse_yield)
    problems = sorted([ProblemInfo.of(p, name) for p in source.problems] + extra, key=lambda p: p.line)
    failing = [p for p in problems if strict or not p.kept]
    return FileReport(path=name, thread_id=source.thread_id, lines=scan.lines, ok=not failing, problems=problems,
                      parse_yield=parse_yield)


def _thread_problems(name: str, source: RolloutIterator, scan: _Scan, parse_yield: ParseYield) -> list[ProblemInfo]:
    found = []
    if source.thread_id is None:
        found.append(_thread_problem(name, 0, "no_session_meta",
                                     "no session_meta line (Codex cannot resume or list this thread)"))
    elif scan.first is not None and scan.first[0] == "response_item":
        found.append(_thread_problem(name, scan.first[1], "meta_not_first",
                                     "a response_item comes before the first session_meta "
                                     "(Codex will not list this thread)"))
    warning = parse_yield.warning()
    if warning:
        found.append(ProblemInfo(path=name, line=0, offset=0, kind="no_messages", reason=warning, kept=True))
    return found


def _thread_problem(path: str, line: int, kind: str, reason: str) -> ProblemInfo:
    return ProblemInfo(path=path, line=line, offset=0, kind=kind, reason=reason)


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "validate",
        parents=[common],
        help="check rollout files and report every problem as file:line",
        description="Read every rollout file (folders are searched for rollout-*.jsonl[.zst]) "
        "and report each problem with its file, line and reason. Exit 1 if any.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="rollout files, folders or Codex homes")
    parser.add_argument("--strict", action="store_true",
                        help="also fail on warnings (kept lines of unknown type, files with no messages read)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, out: Output) -> int:
    files = rollout_files(args.paths)
    total_lines = failed = count = 0
    warnings: Counter[str] = Counter()
    read: Counter[str] = Counter()
    for path in files:
        report = check(path, strict=args.strict)
        total_lines += report.lines
        failed += not report.ok
        count += sum(1 for p in report.problems if args.strict or not p.kept)
        warnings.update(p.kind for p in report.problems if p.kept and not args.strict)
        if report.parse_yield is not None:
            y = report.parse_yield
            read.update(messages=y.messages, tool_calls=y.tool_calls, unknown=y.unknown)
        if out.json:
            out.emit(report)
        elif report.problems:
            from . import render

            for row in render.problem_lines(report.problems):
                out.show(row, whole=True)
    if not out.json:
        from . import render

        out.show(render.validate_report(len(files), total_lines, failed, count, dict(warnings), dict(read)), whole=True)
    return 1 if failed else 0
