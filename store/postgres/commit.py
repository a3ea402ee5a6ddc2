"""Group commit inside one process: a queue of writes and a runner that sends them in batches.

Callers ``await commit.submit(item)``; whenever the runner is idle, everything
queued (up to ``max_batch``) leaves as one batch through the ``write`` function
it was given (for PostgreSQL: :func:`store.postgres.writer.write_batch`, one
statement, one round trip, one commit). Writes that arrive while a batch is in
flight wait for the next one, so N concurrent producers share commits instead
of paying one each. The runner waits one loop iteration before sending, so
callers woken together join one batch.

``in_flight`` batches may be in flight at once (on as many pooled connections);
1 keeps the writes of one process in order, which suits per-thread caches.
A batch that fails as a whole fails every caller in it; callers that were
cancelled before their batch left are dropped from it.

Must not import: rollout.cli, rich, asyncpg (this is backend-neutral).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from rollout.errors import InvalidInput, StoreError

__all__ = ["GroupCommit"]

I = TypeVar("I")
R = TypeVar("R")


class GroupCommit(Generic[I, R]):
    """A write queue whose items are committed in batches.

    Args:
        write: sends one batch; returns a result (or an exception) per item, in order.
        max_batch: most items in one batch.
        in_flight: most batches sent at once.
    """

    def __init__(self, write: Callable[[list[I]], Awaitable[list[R | BaseException]]], *,
                 max_batch: int = 512, in_flight: int = 1) -> None:
        if max_batch < 1 or in_flight < 1:
            raise InvalidInput(f"max_batch and in_flight must be >= 1, not {max_batch}, {in_flight}")
        self._write = write
        self._max_batch = max_batch
        self._slots = in_flight
        self._pending: list[tuple[I, asyncio.Future[R]]] = []
        self._running: set[asyncio.Task[None]] = set()
        self._scheduled = False
        self._closed = False
        self.batches = 0  # how many batches were sent (for tests and benchmarks)

    async def submit(self, item: I) -> R:
        """Queue ``item``; returns its result once its batch committed.

        Raises:
            StoreError: the queue is closed, or the whole batch failed.
            Exception: the per-item error ``write`` reported for this item.
        """
        if self._closed:
            raise StoreError("store is closed")
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._schedule()
        return await future

    async def close(self) -> None:
        """Refuse new items and wait until everything queued has been committed (or failed)."""
        self._closed = True
        while self._pending or self._running:
            if self._running:
                await asyncio.gather(*self._running, return_exceptions=True)
            else:
                self._launch()

    def _schedule(self) -> None:
        if not self._scheduled and len(self._running) < self._slots:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._launch)

    def _launch(self) -> None:
        self._scheduled = False
        while self._pending and len(self._running) < self._slots:
            batch = [(item, fut) for item, fut in self._pending[: self._max_batch] if not fut.cancelled()]
            del self._pending[: self._max_batch]
            if batch:
                task = asyncio.get_running_loop().create_task(self._send(batch), name="store-group-commit")
                self._running.add(task)

    async def _send(self, batch: list[tuple[I, asyncio.Future[R]]]) -> None:
        try:
            results = await self._write([item for item, _ in batch])
            if len(results) != len(batch):
                raise StoreError(f"write returned {len(results)} results for {len(batch)} items")
        except Exception as exc:  # noqa: BLE001 -- the whole batch failed: every caller in it is told
            results = [_fresh(exc) for _ in batch]
        except BaseException:  # cancelled (the loop is closing): nobody may wait forever
            for _, future in batch:
                if not future.done():
                    future.set_exception(StoreError("write cancelled before it was known to commit"))
            raise
        finally:
            self._running.discard(asyncio.current_task())
            self.batches += 1
        for (_, future), result in zip(batch, results):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
        if self._pending:  # the callers just woken may add more: let them join the next batch
            self._schedule()


def _fresh(exc: Exception) -> BaseException:
    """One exception per caller, so the tracebacks of a failed batch do not pile up on one object."""
    if type(exc) is StoreError:
        fresh = StoreError(str(exc))
        fresh.__cause__ = exc.__cause__ or exc
        return fresh
    return exc
