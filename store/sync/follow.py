"""``sync --follow``: watch the sources and run a pass over the folders that changed.

With ``watchfiles`` (inotify on Linux) a change is seen at once and only its folder is
listed again; the pass itself is the ordinary incremental one, so a grown file gets its
new lines and a moved one its new place. Without ``watchfiles``, or when the watch cannot
be set up (no inotify, too many watches), every ``interval`` seconds a full pass runs,
which costs a ``stat`` per file. Either way a change is applied within a second.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from typing import Any

from .engine import Syncer, SyncReport

__all__ = ["follow"]

log = logging.getLogger("store.sync")

_DEBOUNCE_MS = 150  # changes this close together are one batch (watchfiles' default is 1.6 s)


async def follow(syncer: Syncer, on_pass: Callable[[SyncReport], None], *, stop: asyncio.Event | None = None,
                 interval: float = 0.5, polling: bool = False) -> None:
    """Run passes as the sources change until ``stop`` is set (or the task is cancelled).

    Args:
        on_pass: called with the report of every pass that did something.
        interval: seconds between passes when polling.
        polling: poll even when ``watchfiles`` is available.
    """
    stop = stop or asyncio.Event()
    watch = None if polling else _watchfiles()
    if watch is not None:
        try:
            await _watch(watch, syncer, on_pass, stop)
            return
        except (OSError, RuntimeError) as exc:  # inotify unavailable or out of watches
            log.warning("cannot watch the folders (%s); polling every %.1f s instead", exc, interval)
    while not stop.is_set():
        report = await syncer.run()
        if any(report.counts().values()):
            on_pass(report)
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            pass


def _watchfiles() -> Any:
    try:
        import watchfiles
    except ImportError:
        return None
    return watchfiles


async def _watch(watchfiles: Any, syncer: Syncer, on_pass: Callable[[SyncReport], None], stop: asyncio.Event) -> None:
    roots = [str(source if source.is_dir() else source.parent) for source in syncer.sources]
    async for changes in watchfiles.awatch(*roots, debounce=_DEBOUNCE_MS, step=50, stop_event=stop,
                                           recursive=True):
        folders = set()
        for _, path in changes:
            folders.add(os.path.realpath(os.path.dirname(path)))
            if os.path.isdir(path):
                folders.add(os.path.realpath(path))
        report = await syncer.run(only=folders)
        if any(report.counts().values()):
            on_pass(report)
