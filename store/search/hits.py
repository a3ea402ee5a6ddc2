"""The values of search: what a backend stores per thread (:class:`Mark`, :class:`Update`) and
what a search returns (:class:`Hit`, :class:`SearchPage`).

``Hit`` and ``SearchPage`` encode to camelCase JSON (``rollout search --json`` writes one
hit per line; ``serve`` can build ``thread/search`` results from them).

Must not import: rollout.cli, rich, anything doing I/O.
"""

from __future__ import annotations

import msgspec

from .extract import Doc

__all__ = ["Hit", "Mark", "SearchPage", "Update", "split_snippet"]


class Mark(msgspec.Struct, kw_only=True):
    """A thread's watermark in the index.

    Attributes:
        seq: the ``last_seq`` the thread was projected at (-1: project it again).
        sigs: one fingerprint per turn (:func:`store.search.extract.signatures`).
        cwd: the thread's working directory (the ``cwd`` filter).
        forked_from: the thread it was forked from, if any.
        inherited: how many of its first turns equal its source's (indexed under the source).
    """

    seq: int
    sigs: list[bytes] = []
    cwd: str | None = None
    forked_from: str | None = None
    inherited: int = 0


class Update(msgspec.Struct, kw_only=True):
    """One thread's projection: drop its rows from turn ``drop_from`` on, add ``docs``, keep ``mark``.

    ``sources_changed``: the thread's turns changed below what its forks may inherit, so
    its forks are projected again.
    """

    mark: Mark
    drop_from: int = 0
    docs: list[Doc] = []
    sources_changed: bool = False


class Hit(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """One matching item.

    Attributes:
        thread_id, turn_id, item_id: where it is (``rollout view THREAD`` shows it at
            ``#item-<id>``, or ``#item-<turn>-<id>`` when ``repeated_id``).
        kind: the item type (``userMessage``, ``commandExecution``, ...).
        role: ``user``, ``assistant`` or ``tool``.
        time_ms: when the item (or its turn) started, unix ms, if known.
        score: relevance (higher is better; comparable within one search).
        snippet: the best matching passage; ``highlights`` are ``[start, end)`` character
            ranges of the matched words in it.
        cwd: the thread's working directory.
        turn_index: the turn's position in the thread (0-based).
        inherited_by: forks that hold this item too (their first turns are a copy).
    """

    thread_id: str
    turn_id: str
    item_id: str
    kind: str
    role: str
    time_ms: int | None
    score: float
    snippet: str
    highlights: list[tuple[int, int]] = []
    repeated_id: bool = False
    cwd: str | None = None
    turn_index: int = 0
    inherited_by: list[str] = []


class SearchPage(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """One page of hits, best first; pass ``next_cursor`` back for the next page (None at the end)."""

    hits: list[Hit] = []
    next_cursor: str | None = None


def split_snippet(marked: str, start: str, end: str) -> tuple[str, list[tuple[int, int]]]:
    """A snippet without its highlight markers, and the ranges they enclosed."""
    text: list[str] = []
    ranges: list[tuple[int, int]] = []
    length, opened = 0, None
    for piece in marked.replace(end, start).split(start):
        if opened is None and text:
            opened = length
        elif opened is not None:
            ranges.append((opened, length))
            opened = None
        text.append(piece)
        length += len(piece)
    return "".join(text), ranges
