"""The store commands: import (see :mod:`rollout.cli.importer`), export, ls, fork, rollback,
archive, unarchive, name.

Each is a coroutine run once by ``main`` under ``asyncio.run``. ``--json`` output is the
library's own shapes (``ThreadInfo``: Codex's v2 thread object) as JSON Lines; ``ls
--json`` ends with ``{"nextCursor": ...}`` when more threads follow. When the database has
a sync state beside it (``rollout sync``), each ``ls --json`` record also says
``sourceMissing``: whether every source file of the thread is gone (the store keeps it).

Must not import: rich (rendering goes through :mod:`rollout.cli.render`).
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from ..codec import encode_payload
from ..codex_home import rollout_name
from ..compression import compress
from . import importer, view
from .failure import CommandError, UsageError
from .output import Output
from .storage import open_store, source_missing

__all__ = ["register"]


def _add(sub: Any, name: str, parents: list, help: str, example: str, func: Any) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        name, parents=parents, help=help, description=help[0].upper() + help[1:] + ".",
        epilog=f"example:\n  {example}\n", formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=func)
    return parser


def register(sub: Any, common: argparse.ArgumentParser, where: argparse.ArgumentParser) -> None:
    both = [common, where]
    p = _add(sub, "import", [common, where], "import rollout files, folders, a Codex home or another store "
             "into a store", "rollout import ~/.codex --db threads.db\n"
             "  rollout import threads.db --postgres postgresql://app@db.internal/threads   # SQLite -> PostgreSQL",
             importer.run)
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="rollout files, folders, Codex homes, SQLite "
                   "databases or postgresql:// URLs (whole stores: every thread is copied)")
    p = _add(sub, "export", both, "write a stored thread as a Codex-compatible rollout file",
             "rollout export 019e2a5c-0000-7000-8000-000000000001 -o thread.jsonl.zst", _export)
    p.add_argument("thread_id", metavar="THREAD_ID")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout (.zst implies --zst); "
                   "a folder gets the file under Codex's name")
    p.add_argument("--zst", action="store_true", help="zstd-compress (as Codex stores cold archived threads)")
    view.add_export_options(p)
    p = _add(sub, "ls", both, "list threads, newest first (by default what Codex lists: cli and vscode "
             "threads of the openai provider)", "rollout ls --cwd ~/src/app --search parser --limit 20", _ls)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--archived", action="store_true", help="only archived threads")
    group.add_argument("--all", action="store_true", help="archived and active threads")
    p.add_argument("--cwd", metavar="DIR", help="only threads started in this directory")
    p.add_argument("--search", metavar="TEXT", help="only threads whose name or preview contains TEXT (any case)")
    p.add_argument("--source", metavar="KIND", action="append",
                   help="only this source (repeatable): cli, vscode, exec, appServer, subAgent, custom, "
                   "unknown, or 'all'")
    p.add_argument("--provider", metavar="NAME", action="append", help="only this model provider (repeatable), or 'all'")
    p.add_argument("--sort", choices=("created", "updated"), default="created", help="sort key (default: created)")
    p.add_argument("--limit", type=int, default=25, metavar="N", help="at most N threads (default: 25)")
    p.add_argument("--cursor", metavar="CURSOR", help="continue a previous listing")
    p = _add(sub, "fork", both, "start a new thread from a copy of a thread, whole or its first turns",
             "rollout fork 019e2a5c-0000-7000-8000-000000000001 --at-turn 1", _fork)
    p.add_argument("thread_id", metavar="THREAD_ID")
    p.add_argument("--at-turn", metavar="TURN", help="turns to keep: a count (1 = the first turn only; "
                   "-1 = all but the last), or the id of the last turn kept")
    p = _add(sub, "rollback", both, "hide the last N turns of a thread (appends a rollback marker)",
             "rollout rollback 019e2a5c-0000-7000-8000-000000000001 1", _rollback)
    p.add_argument("thread_id", metavar="THREAD_ID")
    p.add_argument("num_turns", type=int, metavar="N", help="number of turns to roll back (>= 1)")
    for name, verb in (("archive", "archive"), ("unarchive", "unarchive")):
        p = _add(sub, name, both, f"{verb} a thread", f"rollout {name} 019e2a5c-0000-7000-8000-000000000001", _archive)
        p.add_argument("thread_id", metavar="THREAD_ID")
    p = _add(sub, "name", both, "name a thread", 'rollout name 019e2a5c-0000-7000-8000-000000000001 "todo fix"', _name)
    p.add_argument("thread_id", metavar="THREAD_ID")
    p.add_argument("name", metavar="NAME")


# --------------------------------------------------------------------------- export


async def _export(args: argparse.Namespace, out: Output) -> int:
    zst = args.zst or bool(args.output and args.output.endswith(".zst"))
    if zst and not args.output and out.stdout.isatty():
        raise UsageError("refusing to write compressed data to a terminal: use -o FILE or a pipe")
    async with open_store(args, create=False) as store:
        data = await view.exported(store, args)
        info = await store.info(args.thread_id)
    lines = data.count(b"\n")
    payload = compress(data) if zst else data
    if args.output is None:
        _write_stdout(out, payload)
        return 0
    path = _export_path(Path(args.output).expanduser(), info, zst, args.format)
    _write_file(path, payload)
    if out.json:
        out.emit({"threadId": info.id, "path": str(path), "lines": lines, "bytes": len(payload)})
    else:
        from . import render

        out.show(render.text(f"wrote {lines} lines ({render.human_bytes(len(payload))}) to {path}"), whole=True)
    return 0


_SUFFIXES = {"markdown": ".md", "html": ".html"}


def _export_path(path: Path, info: Any, zst: bool, fmt: str) -> Path:
    """``path``, or Codex's file name for the thread inside ``path`` when it is a folder."""
    if not path.is_dir():
        return path
    name = rollout_name(info.id, datetime.fromtimestamp(info.created_at, tz=UTC))
    if fmt in _SUFFIXES:
        return path / (name.removesuffix(".jsonl") + _SUFFIXES[fmt])
    return path / (name + ".zst" if zst else name)


def _write_file(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` atomically; errors name ``path``, never the temporary file."""
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        temp.write_bytes(payload)
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise CommandError(f"{path}: cannot write: {exc.strerror or exc}") from exc


def _write_stdout(out: Output, payload: bytes) -> None:
    buffer = getattr(out.stdout, "buffer", None)
    if buffer is not None:
        out.stdout.flush()
        buffer.write(payload)
        buffer.flush()
    else:
        out.stdout.write(payload.decode("utf-8", "replace"))


# --------------------------------------------------------------------------- threads


async def _ls(args: argparse.Namespace, out: Output) -> int:
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    archived = None if args.all else args.archived
    async with open_store(args, create=False) as store:
        page = await store.list(
            limit=args.limit, cursor=args.cursor, sort=f"{args.sort}_at", archived=archived,
            source=_choice(args.source), model_provider=_choice(args.provider),
            cwd=os.path.abspath(os.path.expanduser(args.cwd)) if args.cwd else None, search=args.search,
        )
    missing = source_missing(args, [info.id for info in page.data])
    if out.json:
        for info in page.data:
            out.emit(info if missing is None else _with_source_missing(info, info.id in missing))
        if page.next_cursor:
            out.emit({"nextCursor": page.next_cursor})
        return 0
    from . import render

    out.show(render.threads_table(page.data, missing or set()))
    if page.next_cursor:
        out.stderr.write(f"more threads: add --cursor {page.next_cursor}\n")
    return 0


def _with_source_missing(info: Any, missing: bool) -> dict[str, Any]:
    """A thread's JSON record with ``sourceMissing`` (given when the store has a sync state)."""
    record: dict[str, Any] = msgspec.json.decode(encode_payload(info))
    record["sourceMissing"] = missing
    return record


def _choice(values: list[str] | None) -> list[str] | None:
    """A repeatable filter option: None (the default filter), or [] for 'all'."""
    if values is None:
        return None
    return [] if "all" in values else values


async def _fork(args: argparse.Namespace, out: Output) -> int:
    at_turn: int | str | None = args.at_turn
    if isinstance(at_turn, str) and at_turn.lstrip("-").isdigit():
        at_turn = int(at_turn)
    async with open_store(args, create=False) as store:
        info = await store.fork(args.thread_id, at_turn=at_turn)
    return _done(out, info, f"forked {args.thread_id} as {info.id}")


async def _rollback(args: argparse.Namespace, out: Output) -> int:
    if args.num_turns < 1:
        raise UsageError("N must be at least 1")
    async with open_store(args, create=False) as store:
        before = len((await store.read(args.thread_id, items_view="notLoaded")).turns)
        info = await store.rollback(args.thread_id, args.num_turns)
        left = len((await store.read(info.id, items_view="notLoaded")).turns)
    return _done(out, info, f"rolled back {_turns(before - left)} of {info.id}: {_turns(left)} left")


async def _archive(args: argparse.Namespace, out: Output) -> int:
    async with open_store(args, create=False) as store:
        method = store.archive if args.command == "archive" else store.unarchive
        info = await method(args.thread_id)
    return _done(out, info, f"{args.command}d {info.id}")


async def _name(args: argparse.Namespace, out: Output) -> int:
    async with open_store(args, create=False) as store:
        info = await store.set_name(args.thread_id, args.name)
    return _done(out, info, f"named {info.id} {info.name!r}")


def _turns(count: int) -> str:
    return "1 turn" if count == 1 else f"{count} turns"


def _done(out: Output, value: Any, message: str) -> int:
    if out.json:
        out.emit(value)
    else:
        from . import render

        out.show(render.text(message), whole=True)
    return 0
