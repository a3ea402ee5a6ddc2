"""``rollout import``: rollout files, folders, Codex homes and other stores into a store.

Each file is handed to ``Store.import_rollout``, which stores a new thread, appends the
new lines of a grown one, leaves an unchanged one alone, or reports a thread whose stored
lines no longer match the file (nothing is changed then). Files named ``rollout-*`` (or
given by name) must be rollouts; other ``.jsonl`` files met in a folder are tried too, and
counted as skipped when they are not rollouts. A Codex home's names
(``session_index.jsonl``) and archiving (``archived_sessions/``) come along.

Must not import: rich (rendering goes through :mod:`rollout.cli.render`).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import msgspec

from ..codex_home import ARCHIVED, is_codex_home
from ..errors import InvalidInput
from ..session_index import latest_names, read_entries
from . import moving
from .output import Output
from .storage import open_store, store_label
from .target import Candidate, import_candidates

__all__ = ["ImportRecord", "run"]

#: why a ``.jsonl`` file that is not named ``rollout-*`` was skipped
NOT_A_ROLLOUT = "not a rollout (no session_meta)"


class ImportRecord(msgspec.Struct, kw_only=True, rename="camel"):
    """The ``import --json`` record of one file.

    ``status``: ``imported`` (a new thread), ``appended`` (the file had grown: its new lines
    were added), ``unchanged`` (already stored as it is), ``diverged`` (the stored thread
    differs from the file; nothing changed), ``skipped`` (a ``.jsonl`` file that is not a
    rollout) or ``failed``. A whole store given as a source is reported by a
    :class:`rollout.cli.moving.CopyRecord` instead.
    """

    path: str
    status: str
    thread_id: str | None = None
    bytes: int = 0
    lines_added: int = 0
    error: str | None = None


async def run(args: argparse.Namespace, out: Output) -> int:
    stores = [source for source in args.sources if moving.is_store_source(source)]
    rollouts = [source for source in args.sources if source not in stores]
    files = import_candidates(rollouts)
    sizes = [candidate.path.stat().st_size for candidate in files]
    names = _home_names(rollouts)
    started = time.perf_counter()
    records: list[Any] = []
    async with open_store(args, create=True) as store:
        for source in stores:  # whole stores: every thread copied (see rollout.cli.moving)
            records.append(await moving.copy_from(source, store))
            _report(out, records[-1], None)
        progress = _progress(out, len(files), sum(sizes))
        try:
            for candidate, size in zip(files, sizes):
                record = await _import_one(store, candidate, size)
                if record.status == "imported":
                    await _carry_over(store, record.thread_id, candidate.path, names)
                records.append(record)
                _report(out, record, progress)
                if progress is not None:
                    progress.update(progress.task_ids[0], advance=size, done=len(records))
        finally:
            if progress is not None:
                progress.stop()
    if not out.json:
        from . import render

        out.show(render.import_summary(records, time.perf_counter() - started, store_label(args)), whole=True)
    return 1 if any(r.status in ("failed", "diverged") for r in records) else 0


def _home_names(sources: list[str]) -> dict[str, str | None]:
    """Thread names recorded in the ``session_index.jsonl`` of every Codex home among ``sources``."""
    names: dict[str, str | None] = {}
    for source in map(Path, sources):
        if is_codex_home(source):
            names.update(latest_names(read_entries(source / "session_index.jsonl")[0]))
    return names


async def _carry_over(store: Any, thread_id: Any, path: Path, names: dict[str, str | None]) -> None:
    """What a Codex home keeps beside the file: the thread's name, and archiving by folder."""
    name = names.get(thread_id)
    if name:
        await store.set_name(thread_id, name)
    if path.parent.name == ARCHIVED:
        await store.archive(thread_id)


def _progress(out: Output, count: int, total: int) -> Any:
    if not out.err_console.is_terminal:
        return None
    from . import render

    progress = render.import_progress(out.err_console)
    progress.add_task("import", total=total, done=0, count=count)
    progress.start()
    return progress


_STATUS = {"new": "imported", "appended": "appended", "unchanged": "unchanged", "diverged": "diverged"}


async def _import_one(store: Any, candidate: Candidate, size: int) -> ImportRecord:
    path = str(candidate.path)
    try:
        result = await store.import_rollout(candidate.path)
    except InvalidInput as exc:
        reason = str(exc).removeprefix(f"{path}: ")
        if not candidate.named and reason.startswith("not a rollout"):
            return ImportRecord(path=path, status="skipped", bytes=size, error=NOT_A_ROLLOUT)
        return ImportRecord(path=path, status="failed", bytes=size, error=reason)
    error = None if result.detail is None else result.detail.removeprefix(f"{path}: ")
    return ImportRecord(path=path, status=_STATUS[result.status], thread_id=result.thread_id, bytes=size,
                        lines_added=result.lines_added, error=error)


def _report(out: Output, record: Any, progress: Any) -> None:
    if out.json:
        out.emit(record)
    elif record.status in ("failed", "diverged"):
        line = f"error: {record.path}: {record.error}"
        if progress is not None:
            progress.console.print(line, style="red", markup=False, highlight=False)
        else:
            out.stderr.write(line + "\n")
