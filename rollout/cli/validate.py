"""``rollout validate PATH...``: read every rollout, report each problem as ``file:line``.

A file's problems are the reader's (malformed, invalid, torn, blank lines and
kept lines of unknown type) plus two thread-level ones Codex cares about: no
``session_meta`` at all (it cannot resume or list the thread) and a
``response_item`` before the first ``session_meta`` (its listing rejects the
file). Unknown types are kept, not lost, so they fail validation only with
``--strict``. Exit status: 0 clean, 1 problems, 2 usage.

Must not import: rich (rendering goes through :mod:`rollout.cli.render`), store.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import msgspec

from .. import events as ev
from ..errors import EmptyRollout, UnreadableRollout
from ..reader import iter_rollout
from .output import Output
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


def check(path: Path, *, strict: bool = False) -> FileReport:
    """Read one rollout completely and collect its problems (never raises for bad content)."""
    name = str(path)
    lines = 0
    first: tuple[str, int] | None = None  # type and line number of the first meta or response item
    source = iter_rollout(path)
    extra: list[ProblemInfo] = []
    try:
        for line in source:
            lines += 1
            if first is None and isinstance(line, (ev.SessionMetaLine, ev.ResponseItemLine)):
                first = (line.type, source.line_number)
    except EmptyRollout:
        extra.append(_thread_problem(name, 0, "empty", "empty rollout (no non-blank line)"))
    except UnreadableRollout as exc:
        extra.append(_thread_problem(name, 0, "unreadable", str(exc).removeprefix(f"{name}: ")))
    else:
        if source.thread_id is None:
            extra.append(_thread_problem(name, 0, "no_session_meta",
                                         "no session_meta line (Codex cannot resume or list this thread)"))
        elif first is not None and first[0] == "response_item":
            extra.append(_thread_problem(name, first[1], "meta_not_first",
                                         "a response_item comes before the first session_meta "
                                         "(Codex will not list this thread)"))
    problems = sorted([ProblemInfo.of(p, name) for p in source.problems] + extra, key=lambda p: p.line)
    failing = [p for p in problems if strict or not p.kept]
    return FileReport(path=name, thread_id=source.thread_id, lines=lines, ok=not failing, problems=problems)


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
    parser.add_argument("--strict", action="store_true", help="also fail on kept lines of unknown type")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, out: Output) -> int:
    files = rollout_files(args.paths)
    total_lines = failed = count = warnings = 0
    for path in files:
        report = check(path, strict=args.strict)
        total_lines += report.lines
        failed += not report.ok
        count += sum(1 for p in report.problems if args.strict or not p.kept)
        warnings += sum(1 for p in report.problems if p.kept and not args.strict)
        if out.json:
            out.emit(report)
        elif report.problems:
            from . import render

            for row in render.problem_lines(report.problems):
                out.show(row, whole=True)
    if not out.json:
        from . import render

        out.show(render.validate_report(len(files), total_lines, failed, count, warnings), whole=True)
    return 1 if failed else 0
