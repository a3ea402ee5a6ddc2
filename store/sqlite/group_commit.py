"""Group commit: many concurrent callers, one writer thread, one transaction per batch.

Every write becomes a command on a queue shared with the writer thread. When the writer
is idle, the queue is handed to it at the end of the current event-loop iteration (so
callers that run in the same iteration share the batch), or at once when the queued
commands already carry ``eager_weight`` of work (many large appends: the writer starts
committing while the event loop still prepares the rest). A running writer takes the
next batch (everything queued, up to ``max_batch``) straight from the queue as soon as
it has committed the last one: no event-loop round trip between batches, so preparing
writes on the event loop and committing them on the writer thread overlap.

Each batch is one transaction (one fsync) and wakes the event loop once to resolve every
caller's future, so a caller returns only once its write is durable, and concurrent
writes share commits. Threads are crossed once per batch in each direction.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
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
        eager_weight: hand the queue to an idle writer at once, without waiting for the
            end of the event-loop iteration, when its commands weigh this much (see
            :meth:`queue`; 0: never).
    """

    def __init__(self, executor: Executor, run: Callable[[list[Any]], list[tuple[bool, Any]]], *,
                 max_batch: int, committed: Callable[[], None] | None = None, eager_weight: int = 0) -> None:
        self._executor = executor
        self._run = run
        self._max_batch = max(max_batch, 1)
        self._on_committed = committed
        self._eager = eager_weight
        self._lock = threading.Lock()  # guards _pending and _running, shared with the writer thread
        self._pending: deque[tuple[Any, asyncio.Future[Any] | None]] = deque()
        self._running = False  # the writer thread is working through the queue
        self._weight = 0  # of what was queued while the writer was idle (event loop only)
        self._starting = False  # a start is scheduled on the loop (event loop only)
        self._drained: asyncio.Future[None] | None = None

    @property
    def backlog(self) -> int:
        """Commands queued and not yet taken by the writer (a hint: read without the lock)."""
        return len(self._pending)

    async def submit(self, command: Any, weight: int = 0) -> Any:
        """Queue ``command`` and return its result once its batch has committed."""
        future = asyncio.get_running_loop().create_future()
        self.queue(command, future, weight)
        return await future

    def queue(self, command: Any, future: asyncio.Future[Any] | None = None, weight: int = 0) -> None:
        """Queue ``command``; with no future nobody waits for it (its failure is dropped).

        ``weight`` (e.g. the bytes of an append) counts towards ``eager_weight``.
        """
        with self._lock:
            self._pending.append((command, future))
            if self._running:  # the writer takes it with its next batch
                return
        self._weight += weight
        if self._eager and self._weight >= self._eager:
            self._start()
        elif not self._starting:  # at the end of this iteration, so concurrent callers join
            self._starting = True
            asyncio.get_running_loop().call_soon(self._start)

    async def drain(self) -> None:
        """Wait until everything queued so far has committed."""
        with self._lock:
            idle = not self._running and not self._pending
        if not idle:
            if self._drained is None or self._drained.done():  # a second caller waits for the same
                self._drained = asyncio.get_running_loop().create_future()
            drained = self._drained
            self._start()
            await asyncio.shield(drained)

    def _start(self) -> None:
        """Wake the writer thread if it is idle and there is work (on the event loop)."""
        self._starting, self._weight = False, 0
        with self._lock:
            if self._running or not self._pending:
                return
            self._running = True
        self._executor.submit(self._work, asyncio.get_running_loop())

    def _take(self) -> Batch:
        """The next batch (callers that gave up are left out); empty once the queue is (writer thread)."""
        with self._lock:
            batch: Batch = []
            while self._pending and len(batch) < self._max_batch:
                command, future = self._pending.popleft()
                if future is None or not future.cancelled():
                    batch.append((command, future))
            if not batch:
                self._running = False
            return batch

    def _work(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the writer thread: commit batch after batch until the queue is empty, waking the
        loop once per batch to resolve its callers."""
        batch = self._take()
        while batch:
            try:
                results = self._run([cmd for cmd, _ in batch])
            except BaseException as exc:  # noqa: BLE001 -- a bug in the writer: fail this batch, keep serving
                results = [(False, StoreError(f"write failed: {exc!r}")) for _ in batch]
            # Take the next batch before waking the loop: if there is none, the writer is idle
            # by the time the callers just resolved write again, and their writes join one batch.
            done, batch = batch, self._take()
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
                loop.call_soon_threadsafe(self._committed, done, results)

    def _committed(self, batch: Batch, results: list[tuple[bool, Any]]) -> None:
        for (_, future), (ok, value) in zip(batch, results):
            if future is None or future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        if self._drained is not None and not self._drained.done():
            with self._lock:
                idle = not self._running and not self._pending
            if idle:
                self._drained.set_result(None)
            elif not self._running:
                self._start()
        if self._on_committed is not None:
            self._on_committed()
