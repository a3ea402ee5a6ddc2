"""``rollout sync``: keep a store in step with Codex homes or folders, once or ``--follow``.

The first pass imports everything; later passes read only what changed (see
:mod:`store.sync.engine`), and keep the store's search index warm: it is caught up and
sealed after the first pass, so a search right after it has nothing to scan. The sync state lives
beside the database (``<db>.sync``). A file that no longer matches its stored thread is
reported and left alone; a vanished one leaves its thread in the store, reported as
source missing. ``--json`` writes one report object per pass.

Must not import: rich (rendering goes through :mod:`rollout.cli.render_live`).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from .output import Output
from .storage import db_path, open_store

__all__ = ["register", "run"]

EXAMPLE = """\
examples:
  rollout sync ~/.codex --db threads.db
  rollout sync ~/.codex /mnt/old-laptop/.codex --db threads.db --follow
"""


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "sync", parents=[common], help="mirror Codex homes or folders into a store, incrementally (--follow: keep going)",
        description="Mirror Codex homes or folders into a store. New files are imported, grown files get only "
        "their new lines, renames (session_index.jsonl) and archive moves are applied. A file that no longer "
        "matches its stored thread is reported and left alone; a vanished file never deletes its thread.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(func=run)
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="Codex homes, folders of rollouts, or rollout files")
    p.add_argument("--db", metavar="PATH", help="SQLite store (default: $ROLLOUT_DB or the user data directory)")
    p.add_argument("--follow", action="store_true", help="keep watching and apply each change as it happens")
    p.add_argument("--poll", action="store_true", help="with --follow: poll instead of watching with inotify")


async def run(args: argparse.Namespace, out: Output) -> int:
    from store.sync import SourceRecords, Syncer
    from store.sync.follow import follow

    sources = [Path(source).expanduser() for source in args.sources]
    for source in sources:
        if not source.exists():
            raise FileNotFoundError(2, "no such file or directory", str(source))
    database = db_path(args)
    records = SourceRecords(database.with_name(database.name + ".sync"))
    try:
        async with open_store(args, create=True) as store:
            store.keep_search_index()
            syncer = Syncer(store, records, sources)
            report = await _first_pass(syncer, out)
            if args.follow:
                out.note("following: press Ctrl-C to stop")
                await follow(syncer, lambda later: _show(out, later, 0.0), polling=args.poll)
    finally:
        records.close()
    return 1 if report.failed or report.diverged else 0


async def _first_pass(syncer: Any, out: Output) -> Any:
    started = time.perf_counter()
    progress = None if out.json or not out.err_console.is_terminal else _bar(out)
    try:
        report = await syncer.run(
            planned=(lambda count, total: progress.update(0, total=total, count=count)) if progress else None,
            progress=(lambda done, read: progress.update(0, completed=read, done=done)) if progress else None,
        )
        # Index what the pass wrote now (several at a time), and seal the index, so the next
        # `rollout search` has nothing to catch up and skips its staleness scan.
        await syncer.store.catch_up_search()
    finally:
        if progress is not None:
            progress.stop()
    _show(out, report, time.perf_counter() - started)
    return report


def _bar(out: Output) -> Any:
    from . import render_live

    progress = render_live.sync_progress(out.err_console)
    progress.add_task("sync", total=None, done=0, count=0)
    progress.start()
    return progress


def _show(out: Output, report: Any, seconds: float) -> None:
    if out.json:
        out.emit({**report.counts(), "files": report.files, "bytesRead": report.bytes_read,
                  "problems": [{"path": path, "error": why} for path, why in report.problems],
                  "sourceMissing": report.missing_threads, "seconds": round(seconds, 3)})
        return
    for path, why in report.problems:
        out.stderr.write(f"error: {path}: {why}\n")
    for thread_id in report.missing_threads:
        out.stderr.write(f"warning: thread {thread_id}: source missing (its files are gone; the store keeps it)\n")
    from . import render_live

    out.show(render_live.sync_summary(report, seconds), whole=True)

