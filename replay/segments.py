"""Paginated history in segments: which files make up a thread, and the lines they replay as.

Codex 0.152+ (paginated history) does not rewrite a rollout to revert or fork it: it starts
a new *segment* file whose ``session_meta.history_base`` says where the history continues
from -- ``thread_id``'s history up to (not including) ordinal ``end_ordinal_exclusive``.

* ``thread/revert`` writes a new segment of the same thread (file name
  ``rollout-<time>-<thread>_<segment>.jsonl``), based on the thread's own earlier segment
  cut before the first reverted turn;
* ``thread/fork`` starts the child's first segment, based on the parent's history.

A thread's history is therefore a *chain*: a root segment (no ``history_base``), then each
later segment, each one cutting the history resolved so far at its base ordinal and
appending its own lines. :func:`describe` reads what the chain needs from a segment's
lines, :func:`chain` picks the segments (through a callback listing a thread's segments,
so this module stays free of I/O), and :func:`join` gives the lines to replay. Lines
without an ``ordinal`` count by position.

Must not import: store, rollout.cli, anything doing I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Generic, TypeVar

import msgspec

from rollout import events as ev

__all__ = ["MissingBase", "Segment", "chain", "cut", "describe", "join"]

K = TypeVar("K")


class Segment(msgspec.Struct, Generic[K], frozen=True, kw_only=True):
    """What the chain needs to know about one segment file.

    Attributes:
        key: the caller's handle on the segment (a path, a row id).
        thread_id: the ``session_meta.id``.
        created: the ``session_meta`` line's timestamp (segments of one thread order by it).
        first_ordinal: the ordinal of the segment's first line (``None`` when unnumbered).
        base: the ``history_base``, or ``None`` for a root segment.
    """

    key: K
    thread_id: str
    created: str = ""
    first_ordinal: int | None = None
    base: ev.HistoryBase | None = None


class MissingBase(msgspec.Struct, frozen=True, kw_only=True):
    """A ``history_base`` no known segment satisfies: the chain starts after a gap."""

    thread_id: str
    end_ordinal_exclusive: int
    needed_by: str

    def describe(self) -> str:
        return (f"history of thread {self.needed_by} continues from thread {self.thread_id} before ordinal "
                f"{self.end_ordinal_exclusive}, but no such segment is known; showing what follows")


def describe(key: K, lines: Iterable[object]) -> Segment[K] | None:
    """The :class:`Segment` of a file's lines (its first ``session_meta``), or ``None`` without one."""
    first_ordinal = None
    for line in lines:
        if first_ordinal is None:
            first_ordinal = getattr(line, "ordinal", None)
        if isinstance(line, ev.SessionMetaLine):
            meta = line.payload
            created = line.timestamp or meta.timestamp or ""
            return Segment(key=key, thread_id=meta.id, created=created, first_ordinal=first_ordinal,
                           base=meta.history_base)
    return None


def chain(
    latest: Segment[K], segments_of: Callable[[str], Sequence[Segment[K]]]
) -> tuple[list[Segment[K]], MissingBase | None]:
    """The segments whose lines make up ``latest``'s history, root first.

    Each ``history_base`` link resolves to the newest segment of the base thread that was
    created before the segment needing it and starts below the base ordinal.

    Args:
        latest: the thread's newest segment.
        segments_of: every known segment of a thread id (any order).

    Returns:
        The chain (root first, ``latest`` last) and, when a link cannot be resolved, the
        gap (the chain then starts at the segment after it).
    """
    found = [latest]
    seen = {id(latest)}
    current = latest
    while current.base is not None:
        base = _base_segment(current, segments_of(current.base.thread_id))
        if base is None or id(base) in seen:
            gap = MissingBase(thread_id=current.base.thread_id, needed_by=current.thread_id,
                              end_ordinal_exclusive=current.base.end_ordinal_exclusive)
            return found[::-1], gap
        found.append(base)
        seen.add(id(base))
        current = base
    return found[::-1], None


def _base_segment(segment: Segment[K], candidates: Sequence[Segment[K]]) -> Segment[K] | None:
    assert segment.base is not None
    end = segment.base.end_ordinal_exclusive
    usable = [
        candidate for candidate in candidates
        if candidate.created < segment.created and (candidate.first_ordinal or 0) < end
    ]
    return max(usable, key=lambda candidate: candidate.created, default=None)


def cut(lines: Sequence[object], end_ordinal_exclusive: int) -> list[object]:
    """The lines of a resolved history whose ordinal (or position) is below ``end_ordinal_exclusive``."""
    kept = []
    for position, line in enumerate(lines):
        ordinal = getattr(line, "ordinal", None)
        if (position if ordinal is None else ordinal) >= end_ordinal_exclusive:
            break
        kept.append(line)
    return kept


def join(segments: Sequence[tuple[Segment[K], Sequence[object]]]) -> list[object]:
    """The lines to replay for a chain of ``(segment, its lines)``, root first.

    The first segment's lines are taken whole (also when it is not a root: its base is
    missing); each later one cuts what came before at its base ordinal.
    """
    resolved: list[object] = []
    for index, (segment, lines) in enumerate(segments):
        if index and segment.base is not None:
            resolved = cut(resolved, segment.base.end_ordinal_exclusive)
        resolved.extend(lines)
    return resolved
