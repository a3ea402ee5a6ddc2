"""Projecting many threads at once, with a fork never projected before its source.

A fork's rows leave out the turns it shares with its source, which it learns from the
source's watermark; so when both are in one batch, the fork must read that watermark
after the source's projection is written. :func:`project_all` runs ``width`` workers over
the threads in the given order (their reads overlap, and the writer commits their rows
together); a worker whose fork reaches its source first waits for the source's projection,
or, when no worker has taken the source yet, projects it there and then (so workers never
all wait on threads nobody runs). A thread appears once per batch.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable

from ..tasks import run_workers

__all__ = ["Project", "project_all"]

#: ``project(thread_id, before_source)``: project one thread, awaiting ``before_source(source_id)``
#: once it knows its source and before it reads the source's watermark
Project = Callable[[str, Callable[[str], Awaitable[None]]], Awaitable[None]]


async def project_all(thread_ids: Iterable[str], project: Project, *, width: int) -> None:
    """Project every thread of ``thread_ids``, ``width`` at a time; the first error cancels the rest and is raised."""
    queue = deque(dict.fromkeys(thread_ids))
    unclaimed = set(queue)
    running: dict[str, asyncio.Future[None]] = {}
    loop = asyncio.get_running_loop()

    async def one(thread_id: str) -> None:
        unclaimed.discard(thread_id)
        done = running[thread_id] = loop.create_future()
        try:
            await project(thread_id, before_source)
        finally:
            done.set_result(None)

    async def before_source(source_id: str) -> None:
        if source_id in unclaimed:
            await one(source_id)
        elif source_id in running:
            await asyncio.shield(running[source_id])

    async def worker() -> None:
        while queue:
            thread_id = queue.popleft()
            if thread_id in unclaimed:
                await one(thread_id)

    await run_workers(worker, min(width, len(queue)))
