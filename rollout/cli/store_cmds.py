"""The store commands: import, export, ls, fork, rollback, archive, unarchive, name.

Each is a coroutine run once by ``main`` under ``asyncio.run``. ``--json``
output is the library's own shapes (``ThreadInfo``, ``Thread``) as JSON Lines.

Must not import: rich (rendering goes through :mod:`rollout.cli.render`).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import msgspec

from ..compression import compress
from ..errors import InvalidInput, ThreadNotFound
from . import view
from .failure import UsageError
from .output import Output
from .storage import db_path, open_store
from .target import find_turn, is_codex_home, is_thread_id, rollout_files

__all__ = ["ImportRecord", "register"]


class ImportRecord(msgspec.Struct, kw_only=True, rename="camel"):
    """The ``import --json`` record of one file."""

    path: str
    status: str  # "imported" | "skipped" (already in the store) | "failed"
    thread_id: str | None = None
    bytes: int = 0
    error: str | None = None


def _add(sub: Any, name: str, parents: list, help: str, example: str, func: Any) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        name, parents=parents, help=help, description=help[0].upper() + help[1:] + ".",
        epilog=f"example:\n  {example}\n", formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=func)
    return parser


def register(sub: Any, common: argparse.ArgumentParser, where: argparse.ArgumentParser) -> None:
    both = [common, where]
    p = _add(sub, "import", [common], "import rollout files, folders or a Codex home into a store",
             "rollout import ~/.codex --db threads.db", _import)
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="rollout files, folders or Codex homes")
    p.add_argument("--db", metavar="PATH", help="SQLite store (default: $ROLLOUT_DB or the user data directory)")
    p = _add(sub, "export", both, "write a stored thread as a Codex-compatible rollout file",
             "rollout export 019e2a5c-0000-7000-8000-000000000001 -o thread.jsonl.zst", _export)
    p.add_argument("thread_id", metavar="THREAD_ID")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout (.zst implies --zst)")
    p.add_argument("--zst", action="store_true", help="zstd-compress (as Codex stores cold archived threads)")
    view.add_export_options(p)
    p = _add(sub, "ls", both, "list threads, newest first", "rollout ls --cwd ~/src/app --search parser --limit 20", _ls)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--archived", action="store_true", help="only archived threads")
    group.add_argument("--all", action="store_true", help="archived and active threads")
    p.add_argument("--cwd", metavar="DIR", help="only threads started in this directory")
    p.add_argument("--search", metavar="TEXT", help="only threads whose name or preview contains TEXT (any case)")
    p.add_argument("--source", metavar="KIND", help="only this source: cli, vscode, exec, appServer, subAgent ...")
    p.add_argument("--provider", metavar="NAME", help="only this model provider")
    p.add_argument("--sort", choices=("created", "updated"), default="created", help="sort key (default: created)")
    p.add_argument("--limit", type=int, default=25, metavar="N", help="at most N threads (default: 25)")
    p.add_argument("--cursor", metavar="CURSOR", help="continue a previous listing")
    p = _add(sub, "fork", both, "start a new thread from a copy of a thread, whole or up to a turn",
             "rollout fork 019e2a5c-0000-7000-8000-000000000001 --at-turn turn-1", _fork)
    p.add_argument("thread_id", metavar="THREAD_ID")
    p.add_argument("--at-turn", metavar="TURN", help="last turn to keep: its id, or its number (1 = first, -1 = last)")
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


# --------------------------------------------------------------------------- import


async def _import(args: argparse.Namespace, out: Output) -> int:
    files = rollout_files(args.sources)
    sizes = [path.stat().st_size for path in files]
    names = _home_names(args.sources)
    started = time.perf_counter()
    records: list[ImportRecord] = []
    async with open_store(args, create=True) as store:
        progress = _progress(out, len(files), sum(sizes))
        try:
            for path, size in zip(files, sizes):
                record = await _import_one(store, path, size)
                if record.status == "imported":
                    await _carry_over(store, record.thread_id, path, names)
                records.append(record)
                _report(out, record, progress)
                if progress is not None:
                    progress.update(progress.task_ids[0], advance=size, done=len(records))
        finally:
            if progress is not None:
                progress.stop()
    if not out.json:
        from . import render

        out.show(render.import_summary(records, time.perf_counter() - started, db_path(args)), whole=True)
    return 1 if any(r.status == "failed" for r in records) else 0


def _home_names(sources: list[str]) -> dict[str, str | None]:
    """Thread names recorded in the ``session_index.jsonl`` of every Codex home among ``sources``."""
    from store.session_index import latest_names, read_entries

    names: dict[str, str | None] = {}
    for source in map(Path, sources):
        if is_codex_home(source):
            names.update(latest_names(read_entries(source / "session_index.jsonl")[0]))
    return names


async def _carry_over(store: Any, thread_id: Any, path: Path, names: dict[str, str | None]) -> None:
    """What a Codex home keeps beside the file: the thread's name, and archiving by folder."""
    if names.get(thread_id):
        await store.set_name(thread_id, names[thread_id])
    if path.parent.name == "archived_sessions":
        await store.archive(thread_id)


def _progress(out: Output, count: int, total: int) -> Any:
    if not out.err_console.is_terminal:
        return None
    from . import render

    progress = render.import_progress(out.err_console)
    progress.add_task("import", total=total, done=0, count=count)
    progress.start()
    return progress


def _file_thread_id(path: Path) -> str | None:
    stem = path.name.removesuffix(".zst").removesuffix(".jsonl")
    return stem[-36:] if is_thread_id(stem[-36:]) else None


async def _import_one(store: Any, path: Path, size: int) -> ImportRecord:
    known = _file_thread_id(path)
    if known is not None and await _exists(store, known):
        return ImportRecord(path=str(path), status="skipped", thread_id=known, bytes=size)
    try:
        thread_id = await store.import_rollout(path)
    except InvalidInput as exc:
        status = "skipped" if "already exists" in str(exc) else "failed"
        error = None if status == "skipped" else str(exc).removeprefix("cannot import: ")
        return ImportRecord(path=str(path), status=status, thread_id=known, bytes=size, error=error)
    return ImportRecord(path=str(path), status="imported", thread_id=thread_id, bytes=size)


async def _exists(store: Any, thread_id: str) -> bool:
    try:
        await store.info(thread_id)
    except ThreadNotFound:
        return False
    return True


def _report(out: Output, record: ImportRecord, progress: Any) -> None:
    if out.json:
        out.emit(record)
    elif record.status == "failed":
        line = f"{record.path}: {record.error}"
        if progress is not None:
            progress.console.print(line, style="red", markup=False, highlight=False)
        else:
            out.stderr.write(line + "\n")


# --------------------------------------------------------------------------- export


async def _export(args: argparse.Namespace, out: Output) -> int:
    zst = args.zst or bool(args.output and args.output.endswith(".zst"))
    if zst and not args.output and out.stdout.isatty():
        raise UsageError("refusing to write compressed data to a terminal: use -o FILE or a pipe")
    async with open_store(args, create=False) as store:
        data = await view.exported(store, args)
    lines = data.count(b"\n")
    payload = compress(data) if zst else data
    if args.output is None:
        _write_stdout(out, payload)
        return 0
    path = Path(args.output).expanduser()
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temp.write_bytes(payload)
    os.replace(temp, path)
    if out.json:
        out.emit({"threadId": args.thread_id, "path": str(path), "lines": lines, "bytes": len(payload)})
    else:
        from . import render

        out.show(render.text(f"wrote {lines} lines ({render.human_bytes(len(payload))}) to {path}"), whole=True)
    return 0


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
            source=args.source, model_provider=args.provider,
            cwd=os.path.abspath(os.path.expanduser(args.cwd)) if args.cwd else None, search=args.search,
        )
    if out.json:
        for info in page.data:
            out.emit(info)
    else:
        from . import render

        out.show(render.threads_table(page.data))
    if page.next_cursor:
        out.stderr.write(f"more threads: add --cursor {page.next_cursor}\n")
    return 0


async def _fork(args: argparse.Namespace, out: Output) -> int:
    async with open_store(args, create=False) as store:
        at_turn = None
        if args.at_turn is not None:
            # Resolve numbers here so they mean what they mean in `inspect` (1-based, -1 = last).
            thread = await store.read(args.thread_id, items_view="notLoaded")
            at_turn = find_turn(thread.turns, args.at_turn)[0] - 1
        info = await store.fork(args.thread_id, at_turn=at_turn)
    return _done(out, info, f"forked {args.thread_id} as {info.id}")


async def _rollback(args: argparse.Namespace, out: Output) -> int:
    if args.num_turns < 1:
        raise UsageError("N must be at least 1")
    async with open_store(args, create=False) as store:
        thread = await store.rollback(args.thread_id, args.num_turns)
    return _done(out, thread, f"rolled back {_turns(args.num_turns)} of {thread.id}: {_turns(len(thread.turns))} left")


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
