"""The one adapter between the server and the store's change feed.

The contract (``/work/notes/change-feed.md``, issue 12): a store offers
``subscribe(callback) -> unsubscribe`` and calls ``callback(Change)`` on the
event loop after each committed write, including writes made by other clients
of the store. Until a store offers it, :class:`Feed` stands in: the server
reports its own writes with :meth:`Feed.wrote`, which is a no-op once the store
has a native feed, so switching is this module alone.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

import msgspec

__all__ = ["Change", "Feed"]

log = logging.getLogger("serve.feed")

Kind = Literal["started", "appended", "forked", "named", "archived", "unarchived", "deleted", "rolled_back", "metadata"]


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """One committed write, as the store's feed describes it."""

    kind: Kind
    thread_id: str
    last_seq: int | None = None
    source_id: str | None = None


class Feed:
    """Delivers every Change once to ``listener``, from the store's feed or the server's own writes."""

    def __init__(self, store: Any, listener: Callable[[Any], None]) -> None:
        self._listener = listener
        subscribe = getattr(store, "subscribe", None)
        self.native = callable(subscribe)
        self._unsubscribe: Callable[[], None] | None = None
        if subscribe is not None and self.native:
            self._unsubscribe = subscribe(self._deliver)

    def wrote(self, kind: Kind, thread_id: str, *, last_seq: int | None = None, source_id: str | None = None) -> None:
        """Report a write this server made (ignored when the store reports it itself)."""
        if not self.native:
            self._deliver(Change(kind=kind, thread_id=thread_id, last_seq=last_seq, source_id=source_id))

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _deliver(self, change: Any) -> None:
        try:
            self._listener(change)
        except Exception:  # the contract: a listener never raises into the store
            log.exception("change feed listener failed on %r", change)
