"""Running a few copies of one coroutine at once, as the store's batch jobs do (search projection, sync).

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

__all__ = ["run_workers"]


async def run_workers(worker: Callable[[], Awaitable[None]], count: int) -> None:
    """Run ``count`` tasks of ``worker()`` until all return; the first error cancels the others and is raised."""
    tasks = [asyncio.ensure_future(worker()) for _ in range(count)]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
