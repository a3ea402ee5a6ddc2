"""``rollout``: the argument parser, the dispatch and the error edge.

``main(argv) -> int`` parses, runs one subcommand and maps every outcome to an
exit status: 0 success, 1 problems or errors (one ``error:`` line on stderr
naming the file, line or thread), 2 usage. Store commands are coroutines; they
run under a single ``asyncio.run`` here, at the edge.

Start-up is most of the cost of a short command, so this module imports only the
standard library at the top: the command's own module is imported when its parser is
built (``rollout --version`` loads none, ``inspect`` and ``validate`` only their own).

Must not import: rich (render is loaded lazily, only for human output).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import types
from collections.abc import Sequence
from typing import Any

from .. import __version__

__all__ = ["build_parser", "entry", "main"]

EXAMPLE = """\
examples:
  rollout inspect examples/rollout-2026-06-01T10-00-00-019e2a5c-0000-7000-8000-000000000001.jsonl
  rollout validate ~/.codex/sessions
  rollout import ~/.codex && rollout ls --limit 10
  rollout export 019e2a5c-0000-7000-8000-000000000001 -o thread.jsonl
  rollout view 019e2a5c-0000-7000-8000-000000000001 -o thread.html
  rollout sync ~/.codex --db threads.db --follow
  rollout search parse_rollout_name --since 7d

Every command takes --json (JSON Lines on stdout) and --help.
Exit status: 0 ok, 1 problems or errors, 2 usage.
"""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so ``main`` returns the status."""

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        if message:
            sys.stderr.write(message)
        raise _Exit(status)


class _Exit(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


def _common() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="JSON Lines on stdout (no colours, no tables)")
    common.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour: auto (only on a terminal, not with NO_COLOR), always, never")
    return common


def _where() -> argparse.ArgumentParser:
    where = _Parser(add_help=False)
    group = where.add_mutually_exclusive_group()
    group.add_argument("--db", metavar="PATH",
                       help="SQLite store (default: $ROLLOUT_DB, else $XDG_DATA_HOME/rollout-engine/threads.db)")
    group.add_argument("--codex-home", metavar="PATH", help="use a Codex home (e.g. ~/.codex) as the store")
    group.add_argument("--postgres", metavar="DSN", help="use a PostgreSQL database as the store "
                       "(e.g. postgresql://user@host:5432/db; tables in schema $ROLLOUT_PG_SCHEMA, default 'rollout')")
    return where


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full ``rollout`` parser, or with ``command`` a file command alone.

    ``inspect`` and ``validate`` read files and are run often from scripts: given one of
    them, only that command's module is imported, not the store commands' (sqlite, asyncio,
    the HTML renderer); given ``--version``, no command's.
    """
    parser = _Parser(
        prog="rollout",
        description="Inspect, validate, view, import, export, list, fork and roll back Codex rollouts.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rollout {__version__}")
    if command == "--version":
        return parser  # the version action exits while parsing, before a command is asked for
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    common, where = _common(), _where()
    if command != "validate":
        from . import inspect

        inspect.register(sub, common, where)
    if command != "inspect":
        from . import validate

        validate.register(sub, common)
    if command in _FILE_COMMANDS:
        return parser
    from . import search_cmd, serve_cmd, store_cmds, sync_cmd, view

    store_cmds.register(sub, common, where)
    view.register(sub, common, where)
    sync_cmd.register(sub, common)
    search_cmd.register(sub, common, where)
    serve_cmd.register(sub, common)
    return parser


_FILE_COMMANDS = frozenset({"inspect", "validate", "--version"})


def _command(argv: Sequence[str]) -> str | None:
    """The subcommand (or ``--version``) when it is the first argument, else None (options first)."""
    return argv[0] if argv and (argv[0] == "--version" or not argv[0].startswith("-")) else None


def _describe(exc: BaseException) -> str:
    from ..errors import DecodeError, RolloutError

    if isinstance(exc, DecodeError):
        return str(exc)
    if isinstance(exc, OSError) and exc.filename is not None and not isinstance(exc, RolloutError):
        reason = exc.strerror or str(exc)
        return f"{exc.filename}: {reason[:1].lower()}{reason[1:]}"
    return str(exc) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``rollout`` command; returns the exit status.

    Args:
        argv: the arguments after the program name (default: ``sys.argv[1:]``).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser(_command(argv)).parse_args(argv)
    except _Exit as exc:
        return exc.status
    _started()
    from ..errors import RolloutError
    from .failure import UsageError
    from .output import Output

    out = Output(json=args.json, color=args.color)
    try:
        result: Any = args.func(args, out)
        if isinstance(result, types.CoroutineType):
            import asyncio  # only the store commands pay for the event loop

            if _console:
                _log_to_stderr()
            result = asyncio.run(result)
        return int(result or 0)
    except UsageError as exc:
        out.error(str(exc))
        return 2
    except BrokenPipeError:
        raise  # the reader went away (`rollout ... | head`): entry() exits quietly
    except (RolloutError, OSError) as exc:
        out.error(_describe(exc))
        return 1
    except KeyboardInterrupt:
        out.error("interrupted")
        return 130


# Set by entry(): the process is the console script's, so its garbage collector and logging
# are ours to set (`main` called by a program leaves that program's alone).
_console = False


def _started() -> None:
    """The command's modules are loaded: exempt what start-up made from collection, and collect again.

    Loading makes tens of thousands of objects (classes, functions, code) that live as long as
    the process. With the collector on (entry() turns it off), it scans them over and over while
    they are made, and once more at exit; frozen (``gc.freeze``), they are never scanned. About a
    tenth of ``rollout inspect FILE``'s time.
    """
    if _console and not gc.isenabled():
        gc.freeze()
        gc.enable()


def _log_to_stderr() -> None:
    """Library log records (the stores' repair notes) as ``warning: ...`` lines on stderr.

    Only the stores log, and every command that opens one is a coroutine: the file commands
    do not load ``logging`` at all.
    """
    import logging

    class LogLine(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return f"{record.levelname.lower()}: {record.getMessage()}"

    handler = logging.StreamHandler()
    handler.setFormatter(LogLine())
    logging.basicConfig(level=logging.WARNING, handlers=[handler])


def entry() -> None:
    """The console script: ``sys.exit(main())``, quiet when stdout is closed early."""
    global _console
    _console = True
    gc.disable()  # until the command's modules are loaded (see _started)
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # Python's recipe: point stdout at devnull so the interpreter's final flush cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        status = 1
    sys.exit(status)
