"""Other processes' writes to the same database, told to this store's subscribers.

Every write command records its change in the ``changes`` table within its own
transaction (:mod:`store.sqlite.command`), tagged with the origin of the store that made
it, so a change is logged exactly when its write commits. A :class:`Watcher` starts with
a store's first subscriber: on a thread of its own, with its own read-only connection, it
reads the changes logged since it last looked every ``interval`` seconds and hands on
those of other origins (a store tells its subscribers of its own writes itself, so
nothing is told twice). Before a store tells of its own write it catches up
(:meth:`Watcher.catch_up`), so subscribers hear every change in the order it committed. A
poll that fails (a busy or vanished file) is logged and retried.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..feed import Change
from .reader import Reader, changes_job, last_change_job

__all__ = ["Watcher"]

log = logging.getLogger("store.sqlite.watch")


class Watcher:
    """Polls the change log for other stores' changes.

    Args:
        open_reader: opens a read-only :class:`Reader` (called on the watcher's thread).
        origin: this store's origin (its own changes are skipped).
        emit: called on the event loop with each change of another origin, in log order.
        interval: seconds between polls.
    """

    def __init__(self, open_reader: Callable[[], Reader], origin: str, emit: Callable[[Change], None],
                 interval: float) -> None:
        self._open_reader = open_reader
        self._origin = origin
        self._emit = emit
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="store-sqlite-watch")
        self._reader: Reader | None = None
        self._after = 0
        self._ready = asyncio.Event()
        self._lock = asyncio.Lock()

    def start(self) -> None:
        """Start polling (once)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="store-sqlite-watch")

    async def catch_up(self) -> None:
        """Hand on every change logged so far (before a store tells of its own newer write)."""
        if self._task is not None and not self._task.done():
            await self._ready.wait()
            await self._poll()

    async def stop(self) -> None:
        """Stop polling and close the connection."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        if self._reader is not None:
            await self._call(self._reader.close)
            self._reader = None
        self._executor.shutdown(wait=False)

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _run(self) -> None:
        try:
            reader = self._reader = await self._call(self._open_reader)
            self._after = await self._call(reader.snapshot, last_change_job, reader)
        except Exception:
            log.exception("cannot watch the change log: other processes' writes will not be told")
            return
        self._ready.set()
        while True:
            await asyncio.sleep(self._interval)
            await self._poll()

    async def _poll(self) -> None:
        async with self._lock:  # one poll at a time: each change is handed on once, in order
            reader = self._reader
            if reader is None:
                return
            try:
                rows = await self._call(reader.snapshot, changes_job, reader, self._after)
            except Exception as exc:  # noqa: BLE001 -- a busy or vanished file: try again later
                log.warning("cannot read the change log: %s", exc)
                return
            for seq, origin, kind, thread_id, last_seq, source_id in rows:
                self._after = seq
                if origin != self._origin:
                    self._emit(Change(kind=kind, thread_id=thread_id, last_seq=last_seq, source_id=source_id))
