"""Adapter slot ``ours``: rollout-engine's ``SqliteStore`` behind the same driver interface.

Written against the engine API (``store.core.Store``): ``async with SqliteStore.open(path)``,
``start_thread(SessionMetaLine)``, ``append(thread_id, lines)``, ``resume(thread_id)`` ->
``ResumedThread(thread, context)``, ``fork(thread_id)`` -> ``ThreadInfo``, ``list(limit, cursor)``
-> ``Page(data, next_cursor)``; lines are ``rollout.codec.decode_line`` objects.
If ``store.SqliteStore`` cannot be imported, importing this module raises ImportError and the
harness prints a "not available" row for ``ours`` (every ratio column then reads n/a).

Each turn is one ``append`` call (the store's unit of durability). Resume is timed with
``store.resume`` (turns + model context; the peers' "latest state" is only the latter).
"""

from __future__ import annotations

from typing import Any

from benchmarks.peers import Driver
from benchmarks.workload import Thread
from rollout.codec import decode_line, encode_line, raw_bytes
from rollout.events import SessionMeta, SessionMetaLine
from store import SqliteStore  # an ImportError here becomes the "not available" row


class OursDriver(Driver):
    """Drives ``store.SqliteStore``: ``start_thread`` + one ``append`` per turn."""

    name = "ours"
    package = "rollout-engine"
    durability = "append = 1 durable commit per turn"
    how = ("SqliteStore: start_thread(meta line), append(thread_id, lines) per turn (a corpus file whose "
           "lines have no timestamps, pre-envelope 2025, is imported whole: import_rollout); resume = store.resume "
           "(turns + model context); fork = store.fork; list = store.list pages")

    async def open(self) -> None:
        self._cm = SqliteStore.open(self.root / "threads.sqlite")
        self.store = await self._cm.__aenter__()
        self.ids: dict[str, str] = getattr(self, "ids", {})  # benchmark id -> store id, kept across reopen

    async def close(self) -> None:
        await self._cm.__aexit__(None, None, None)

    def prepare(self, thread: Thread) -> list[list[Any]]:
        return [[decode_line(line) for line in turn] for turn in thread.turns]

    async def append_thread(self, thread_id: str, turns: Any) -> None:
        turns = list(turns)
        if thread_id not in self.ids and any(line.timestamp is None for turn in turns for line in turn):
            # A pre-envelope (2025) file: its lines carry no timestamp, which append requires
            # of new lines, so the whole file is imported in one durable transaction instead.
            data = b"".join((raw_bytes(line) or encode_line(line)) + b"\n" for turn in turns for line in turn)
            self.ids[thread_id] = (await self.store.import_rollout(data)).thread_id
            return
        if thread_id not in self.ids:
            first, *rest = turns[0]
            if isinstance(first, SessionMetaLine):
                turns[0] = rest
            else:  # an old corpus file opens with a pre-envelope header: keep it as a line
                first = SessionMeta(id=thread_id)
            self.ids[thread_id] = (await self.store.start_thread(first)).id
        store_id = self.ids[thread_id]
        for lines in turns:
            if lines:
                await self.store.append(store_id, lines)

    async def read_latest(self, thread_id: str) -> int:
        resumed = await self.store.resume(self.ids[thread_id])
        return len(resumed.context.items)

    async def fork(self, thread_id: str, new_id: str) -> None:
        self.ids[new_id] = (await self.store.fork(self.ids[thread_id])).id

    async def list_threads(self, limit: int | None) -> list[str]:
        found: list[str] = []
        cursor = None
        while limit is None or len(found) < limit:
            page_size = 100 if limit is None else min(100, limit - len(found))
            page = await self.store.list(limit=page_size, cursor=cursor)
            found += [info.id for info in page.data]
            cursor = page.next_cursor
            if not cursor:
                break
        return found

