"""The change feed across processes: PostgreSQL LISTEN/NOTIFY on one channel per schema.

Writers put a notice in the statement that commits a write (``pg_notify`` in
:mod:`store.postgres.writer`), so a notice goes out exactly when its write
commits and never for a write that did not. Every process listens on one
dedicated connection (:class:`Feed`) and hands other processes' changes to its
subscribers as :class:`store.Change` values (see ``notes/change-feed.md``); its own notices are recognised by their origin and
skipped, since a store tells its subscribers of its own writes itself.

If the listening connection is lost (server restart, terminated backend, a
heartbeat that goes unanswered), the feed reconnects with backoff and then calls
``on_reset``: notices sent meanwhile are gone, so caches must be dropped
rather than trusted. Callbacks run on the event loop; one that raises is logged
and the others still run.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, get_args

import msgspec

from rollout.errors import RolloutError

from ..feed import Change, ChangeKind
from .database import Database
from .schema import channel

__all__ = ["KINDS", "Change", "Feed", "notice", "parse"]

log = logging.getLogger(__name__)

KINDS: tuple[str, ...] = get_args(ChangeKind)

_NOTICE = msgspec.json.Decoder(tuple[str, str, str, int | None, str | None])


def notice(change: Change, origin: str) -> str:
    """The NOTIFY payload of ``change`` made by the store ``origin`` (well under the 8000-byte limit)."""
    return msgspec.json.encode([origin, change.kind, change.thread_id, change.last_seq, change.source_id]).decode()


def parse(payload: str) -> tuple[str, Change] | None:
    """``(origin, change)`` of a payload; None for anything else (another program on the channel)."""
    try:
        origin, kind, thread_id, last_seq, source_id = _NOTICE.decode(payload)
    except msgspec.DecodeError:
        return None
    if kind not in KINDS:
        return None
    return origin, Change(kind=kind, thread_id=thread_id, last_seq=last_seq, source_id=source_id)  # type: ignore[arg-type]


class Feed:
    """Other processes' changes to one schema, delivered to subscribers.

    Args:
        db: the store's database (its ``origin`` marks notices to skip).
        on_reset: called after the listening connection was lost and is back
            (changes may have been missed: drop caches).
        heartbeat: seconds between liveness checks of the listening connection.
        backoff: ``(first, most)`` seconds between reconnection attempts.
    """

    def __init__(self, db: Database, *, on_reset: Callable[[], None] | None = None, heartbeat: float = 15.0,
                 backoff: tuple[float, float] = (0.1, 5.0)) -> None:
        self.db = db
        self.channel = channel(db.schema)
        self.resets = 0
        self._on_reset = on_reset
        self._heartbeat = heartbeat
        self._backoff = backoff
        self._subscribers: list[Callable[[Change], None]] = []
        self._conn: Any = None
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self._closed = False

    def subscribe(self, callback: Callable[[Change], None]) -> Callable[[], None]:
        """Call ``callback(change)`` for each change made elsewhere; returns the unsubscribe function."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    async def start(self) -> None:
        """Start listening (once connected, no change committed after this returns is missed).

        Raises:
            StoreError: the server cannot be reached.
        """
        await self._listen()
        self._task = asyncio.get_running_loop().create_task(self._watch(), name="store-feed")

    async def close(self) -> None:
        """Stop listening and close the connection. Idempotent."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._drop()

    async def _listen(self) -> None:
        conn = await self.db.connection()
        try:
            conn.add_termination_listener(self._terminated)
            await conn.add_listener(self.channel, self._notified)
        except BaseException:
            await conn.close()
            raise
        self._conn = conn
        self._lost.clear()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 2.0)
            conn.terminate()

    def _terminated(self, conn: Any) -> None:
        if conn is self._conn and not self._closed:
            self._lost.set()

    def _notified(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        parsed = parse(payload)
        if parsed is None or parsed[0] == self.db.origin:
            return
        for callback in list(self._subscribers):
            try:
                callback(parsed[1])
            except Exception:  # a subscriber's bug must not stop the feed or the others
                log.exception("change feed subscriber %r failed", callback)

    async def _watch(self) -> None:
        """Keep a live listening connection: heartbeat it, and reconnect after a loss."""
        while not self._closed:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._lost.wait(), self._heartbeat)
            if not self._lost.is_set() and await self._alive():
                continue
            await self._reconnect()

    async def _alive(self) -> bool:
        try:
            await asyncio.wait_for(self._conn.execute("SELECT 1"), self._heartbeat)
            return True
        except (TimeoutError, Exception):  # noqa: BLE001 -- any failure: reconnect
            return False

    async def _reconnect(self) -> None:
        await self._drop()
        delay, most = self._backoff
        while not self._closed:
            try:
                await self._listen()
            except RolloutError as exc:
                log.warning("change feed: %s; retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, most)
                continue
            self.resets += 1
            if self._on_reset is not None:
                try:
                    self._on_reset()
                except Exception:
                    log.exception("change feed reset callback failed")
            return
