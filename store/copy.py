"""Copying threads between any two stores (``SqliteStore`` <-> ``FileStore`` <-> ``MemoryStore``).

:func:`copy_threads` moves every thread through the backend-neutral rollout form
(``export_rollout`` -> ``import_rollout``), so each line arrives byte for byte and the
thread keeps its id; lineage travels inside the lines (a fork's ``session_meta`` carries
``forked_from_id``). Names and the archive flag are set on the copy afterwards.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from .core import Store
from .listing import MAX_LIMIT
from .plan import import_plan
from .thread import ThreadInfo

__all__ = ["copy_threads", "iter_threads"]


async def iter_threads(store: Store, *, archived: bool | None = None) -> AsyncIterator[ThreadInfo]:
    """Every thread of ``store`` (active and archived by default, of every source and provider), newest first."""
    cursor = None
    while True:
        page = await store.list(limit=MAX_LIMIT, cursor=cursor, archived=archived, source=[], model_provider=[])
        for info in page.data:
            yield info
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


async def copy_threads(src: Store, dst: Store, *, skip_existing: bool = False, concurrency: int = 16) -> int:
    """Copy every thread of ``src`` into ``dst`` with its lines, name, archive state and lineage.

    Up to ``concurrency`` threads are in flight at once, so a store that groups
    concurrent writes into one commit (``SqliteStore``) pays one fsync per group.

    Args:
        src: the store read from (not modified).
        dst: the store written to.
        skip_existing: leave threads whose id ``dst`` already has alone instead of failing.
        concurrency: threads copied at the same time (>= 1).

    Returns:
        The number of threads copied.

    Raises:
        InvalidInput: a thread already exists in ``dst`` (unless ``skip_existing``);
            nothing of it is written then.
        RolloutError: any read or write failure of either store.
    """
    infos = [info async for info in iter_threads(src)]
    pending = iter(infos)
    copied = 0

    async def worker() -> None:
        nonlocal copied
        for info in pending:  # the shared iterator hands each thread to one worker
            done = await _copy_one(src, dst, info, skip_existing)
            copied += done  # not `copied += await ...`: that would read `copied` before awaiting

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    return copied


async def _copy_one(src: Store, dst: Store, info: ThreadInfo, skip_existing: bool) -> int:
    plan = await dst._compute(import_plan, await src.export_rollout(info.id))
    result = await dst._import_plan(plan, existing="skip" if skip_existing else "refuse")
    if result.status != "new":
        return 0
    thread_id = result.thread_id
    if info.name:
        await dst.set_name(thread_id, info.name)
    if info.archived:
        await dst.archive(thread_id)
    return 1

