"""The change feed: callbacks told about every committed write, in process.

``store.subscribe(callback)`` registers ``callback(change)``; it is called on the event
loop after each write has committed (never before, never for a write that failed or
wrote nothing), and returns a function that unsubscribes. Callbacks must be cheap; an
exception in one is logged and swallowed, so it never reaches the store or the writer.
Backends that learn of other processes' writes feed the same callbacks.

Must not import: rollout.cli, rich, anything doing I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

import msgspec

__all__ = ["Change", "ChangeKind", "Feed"]

log = logging.getLogger("store.feed")

ChangeKind = Literal[
    "started", "appended", "forked", "named", "archived", "unarchived", "deleted", "rolled_back", "metadata"
]


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """One committed write.

    Attributes:
        kind: what happened to the thread.
        thread_id: the thread written (for ``forked``: the new child).
        last_seq: the thread's last seq after the write, when known (None after ``deleted``).
        source_id: for ``forked``: the thread it was forked from.
    """

    kind: ChangeKind
    thread_id: str
    last_seq: int | None = None
    source_id: str | None = None


class Feed:
    """The subscribers of one store."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[Change], None]] = []

    def subscribe(self, callback: Callable[[Change], None]) -> Callable[[], None]:
        """Call ``callback(change)`` after every committed write; returns the unsubscribe function."""
        if not callable(callback):
            raise TypeError(f"callback must be callable, not {callback!r}")
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return unsubscribe

    @property
    def active(self) -> bool:
        """Whether anyone subscribes."""
        return bool(self._callbacks)

    def emit(self, change: Change) -> None:
        """Tell every subscriber; a failing callback is logged and the others still run."""
        for callback in list(self._callbacks):
            try:
                callback(change)
            except Exception:
                log.exception("change feed callback %r failed on %s", callback, change)
