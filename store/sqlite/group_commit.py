"""Group commit: many concurrent callers, one writer thread, one transaction per batch.

Every write becomes a command on an in-memory queue. Whenever the writer is idle,
everything queued (up to ``max_batch``) goes to the writer thread as one batch: one
thread hop, no asyncio task in between. The writer commits it as one transaction (one
fsync) and wakes the event loop once to resolve every caller's future, so a caller
returns only once its write is durable, and concurrent writes share commits.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from rollout.errors import StoreError

__all__ = ["GroupCommit"]

Batch = list[tuple[Any, "asyncio.Future[Any] | None"]]


class GroupCommit:
    """The write queue of one database.

    Args:
        executor: the writer thread (a one-thread executor).
        run: applies a batch of commands on the writer thread; returns ``(ok, result or
            exception)`` per command.
        max_batch: most commands in one transaction.
        committed: called on the event loop after each batch was resolved.
    """

    def __init__(self, executor: Executor, run: Callable[[list[Any]], list[tuple[bool, Any]]], *,
                 max_batch: int, committed: Callable[[], None] | None = None) -> None:
        self._executor = executor
        self._run = run
        self._max_batch = max(max_batch, 1)
        self._on_committed = committed
        self._pending: Batch = []
        self._busy = False  # a batch is on the writer thread
        self._flushing = False  # a flush is scheduled on the loop
        self._drained: asyncio.Future[None] | None = None

    async def submit(self, command: Any) -> Any:
        """Queue ``command`` and return its result once its batch has committed."""
        future = asyncio.get_running_loop().create_future()
        self.queue(command, future)
        return await future

    def queue(self, command: Any, future: asyncio.Future[Any] | None = None) -> None:
        """Queue ``command``; with no future nobody waits for it (its failure is dropped)."""
        self._pending.append((command, future))
        if not self._busy and not self._flushing:  # one iteration later, so concurrent callers join
            self._flushing = True
            asyncio.get_running_loop().call_soon(self._flush)

    async def drain(self) -> None:
        """Wait until everything queued so far has committed."""
        if self._busy or self._pending:
            self._drained = asyncio.get_running_loop().create_future()
            self._flush()
            await self._drained

    def _flush(self) -> None:
        """Hand everything queued (up to ``max_batch``) to the writer thread as one batch."""
        self._flushing = False
        while self._pending and not self._busy:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            live = [(cmd, fut) for cmd, fut in batch if fut is None or not fut.cancelled()]
            if live:
                self._busy = True
                self._executor.submit(self._commit, asyncio.get_running_loop(), live)
        if not self._busy and not self._pending and self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def _commit(self, loop: asyncio.AbstractEventLoop, live: Batch) -> None:
        """On the writer thread: run the batch, then wake the loop once to resolve every caller."""
        try:
            results = self._run([cmd for cmd, _ in live])
        except BaseException as exc:  # noqa: BLE001 -- a bug in the writer: fail this batch, keep serving
            results = [(False, StoreError(f"write failed: {exc!r}")) for _ in live]
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
            loop.call_soon_threadsafe(self._committed, live, results)

    def _committed(self, live: Batch, results: list[tuple[bool, Any]]) -> None:
        self._busy = False
        for (_, future), (ok, value) in zip(live, results):
            if future is None or future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        # The next batch leaves after the callers just woken ran: their next writes join it
        # without waiting an extra loop iteration (a sequential writer's common case).
        self._flushing = True
        asyncio.get_running_loop().call_soon(self._flush)
        if self._on_committed is not None:
            self._on_committed()
