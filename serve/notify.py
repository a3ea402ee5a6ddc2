"""Server notifications, from the store's change feed and the server's own thread loading.

When Codex 0.171.0 sends each one (observed with three WebSocket clients on the
real binary; every initialized connection receives it, subscribed or not):

* ``thread/started {thread}``: after ``thread/start`` (and ``thread/fork``), reply first.
* ``thread/status/changed {threadId, status}``: ``idle`` when ``thread/resume``
  loads a thread that was not loaded, before the reply; ``notLoaded`` when a
  loaded thread is archived (or deleted), by anyone, as soon as the store says so
  (before the reply), before ``thread/archived``.
* ``thread/closed {threadId}``: when a loaded thread is unloaded. Codex's source
  sends it once the thread's shutdown completes; here that is the archive or
  delete of a loaded thread, right after ``notLoaded``.
* ``thread/name/updated {threadId, threadName}``, ``thread/archived``,
  ``thread/unarchived``, ``thread/deleted {threadId}``: after the write.

Feed changes are announced in order by one task (``thread/started`` and
``thread/name/updated`` read the thread from the store first, and a later
``thread/archived`` must not overtake them).

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rollout.errors import RolloutError

from .rpc import encode_notification
from .shape import thread_json

__all__ = ["Notifier"]

log = logging.getLogger("serve.notify")

_PLAIN = {"archived": "thread/archived", "unarchived": "thread/unarchived", "deleted": "thread/deleted"}


class Notifier:
    """Turns changes into notifications for every client of one server."""

    def __init__(self, server: Any) -> None:
        self._server = server
        self._queue: asyncio.Queue[Any] | None = None
        self._worker: asyncio.Task[None] | None = None

    def on_change(self, change: Any) -> None:
        """The store feed's callback: cheap, never awaits (changes are announced in order)."""
        if change.kind in ("archived", "deleted"):
            self._server.unload(change.thread_id)  # Codex unloads an archived or deleted thread
        if change.kind in _PLAIN or change.kind in ("started", "forked", "named"):
            if self._queue is None:
                self._queue = asyncio.Queue()
                self._worker = asyncio.get_running_loop().create_task(self._run(self._queue))
            self._queue.put_nowait(change)

    def status(self, thread_id: str, status: str) -> None:
        self._send("thread/status/changed", {"threadId": thread_id, "status": {"type": status}})

    def closed(self, thread_id: str) -> None:
        self._send("thread/closed", {"threadId": thread_id})

    def _send(self, method: str, params: Any) -> None:
        self._server.broadcast(encode_notification(method, params))

    async def _run(self, queue: asyncio.Queue[Any]) -> None:
        while True:
            change = await queue.get()
            try:
                await self._announce(change)
            except RolloutError as exc:  # deleted meanwhile, say: nothing to announce
                log.debug("no notification for %r: %s", change, exc)
            except Exception:
                log.exception("notification for %r failed", change)
            finally:
                queue.task_done()

    async def _announce(self, change: Any) -> None:
        if change.kind in _PLAIN:
            self._send(_PLAIN[change.kind], {"threadId": change.thread_id})
            return
        info = await self._server.store.info(change.thread_id)
        if change.kind == "named":
            params: dict[str, Any] = {"threadId": info.id}
            if info.name is not None:
                params["threadName"] = info.name
            self._send("thread/name/updated", params)
        else:
            self._send("thread/started", {"thread": thread_json(info, loaded=self._server.is_loaded(info.id))})

    async def drained(self) -> None:
        """Wait until every change reported so far is announced."""
        if self._queue is not None:
            await self._queue.join()

    async def aclose(self) -> None:
        """Send what is queued, then stop."""
        if self._queue is not None and self._worker is not None:
            try:
                await asyncio.wait_for(self._queue.join(), timeout=5)
            except TimeoutError:
                log.warning("dropping %d queued notifications at shutdown", self._queue.qsize())
            self._worker.cancel()
            self._queue = self._worker = None
