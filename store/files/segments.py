"""A paginated thread kept in several segment files of a Codex home, read as one log.

Codex writes a revert of a paginated thread to a new file of the same thread,
``rollout-<time>-<thread>_<segment>.jsonl``, whose ``session_meta.history_base`` names
the thread (see :mod:`store.segmented`). The files of one thread id are sorted here into
the thread's log: its root file (no base of its own; of two copies, an active one and
then the larger wins), then its later segments oldest first (of two copies of one
segment, likewise). The log's lines are the files' lines in that order, so the state
folds them as any backend folds one thread, and the newest file is where appends go.

Synchronous file reads; used by :class:`store.files.catalog.Catalog` on its worker thread.
Must not import: rollout.cli, rich, asyncio.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from rollout import events as ev
from rollout.codex_home import CodexHome
from rollout.errors import EmptyRollout, UnreadableRollout
from rollout.reader import ReadResult, read_rollout

__all__ = ["Part", "SegmentFiles", "join_reads", "segment_files"]

log = logging.getLogger("store.files")


@dataclass(frozen=True, slots=True)
class Part:
    """One file of a thread: where it is, what it holds, and its place among the thread's files."""

    rel: str
    result: ReadResult
    stat: os.stat_result
    created: str
    later: bool  # a later segment (its own history_base names its own thread)
    archived: bool

    @property
    def rank(self) -> tuple[bool, int]:
        """Which of two copies wins: an active one, then the larger."""
        return (not self.archived, self.stat.st_size)


@dataclass(frozen=True, slots=True)
class SegmentFiles:
    """The files of one thread in log order (root first), with their lines joined."""

    parts: list[Part]
    meta: ev.SessionMetaLine
    lines: list[ev.Line]

    @property
    def rels(self) -> list[str]:
        return [part.rel for part in self.parts]

    @property
    def current(self) -> Part:
        """The newest file: the one appends go to."""
        return self.parts[-1]


def _part(home: CodexHome, rel: str, thread_id: str) -> Part | None:
    path = Path(home.absolute(rel))
    try:
        stat = path.stat()
        result = read_rollout(path)
    except FileNotFoundError:
        return None
    except (EmptyRollout, UnreadableRollout) as exc:
        log.warning("%s: not indexed: %s", path, exc)
        return None
    meta = next((l for l in result.lines if isinstance(l, ev.SessionMetaLine)
                 and l.payload.id.lower() == thread_id), None)
    if meta is None:
        return None
    base = meta.payload.history_base
    later = base is not None and base.thread_id.lower() == thread_id
    created = meta.timestamp or meta.payload.timestamp or ""
    return Part(rel, result, stat, created, later, home.is_archived(path))


def segment_files(home: CodexHome, rels: set[str], thread_id: str) -> SegmentFiles | None:
    """The thread's log from the files ``rels`` (relative paths of files holding ``thread_id``).

    Returns None when none of them holds the thread any more.
    """
    parts = [part for rel in sorted(rels) if (part := _part(home, rel, thread_id)) is not None]
    roots = [part for part in parts if not part.later]
    best: dict[str, Part] = {}
    for part in parts:
        if part.later and (part.created not in best or part.rank > best[part.created].rank):
            best[part.created] = part
    order = ([max(roots, key=lambda part: part.rank)] if roots else []) + [best[key] for key in sorted(best)]
    if not order:
        return None
    lines = [line for part in order for line in part.result.lines]
    meta = next(l for l in lines if isinstance(l, ev.SessionMetaLine) and l.payload.id.lower() == thread_id)
    return SegmentFiles(order, meta, lines)


def join_reads(results: list[ReadResult]) -> ReadResult:
    """Several files' reads as one log (problems keep their own file's line numbers)."""
    first = results[0]
    return ReadResult(
        lines=[line for result in results for line in result.lines],
        line_numbers=[number for result in results for number in result.line_numbers],
        problems=[problem for result in results for problem in result.problems],
        thread_id=first.thread_id, path=results[-1].path, legacy=first.legacy,
    )
