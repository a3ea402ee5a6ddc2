"""The ``eventsourcing`` library's SQLite recorder: one aggregate per thread, one event per line.

Follows the library's own synopsis: an ``Aggregate`` whose ``@event`` methods record what
happened, an ``Application`` whose command method does ``repository.get`` -> mutate ->
``save`` (one transaction per turn). Infrastructure comes from the documented environment
(``PERSISTENCE_MODULE=eventsourcing.sqlite``, ``SQLITE_DBNAME``), with the documented
aggregate cache on (without deep copies) so a turn does not replay the whole thread. Every
rollout line is kept, as in a rollout file: the first ``session_meta`` is the creation event.

Fork: a new aggregate that re-records every line of the source (``forked_from`` noted).
Listing: the application's notification log filtered on the creation event's topic.

Imports ``eventsourcing``; nothing from ``store``.
"""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic

from benchmarks.peers import Driver, decode
from benchmarks.workload import Thread

_NAMESPACE = uuid.UUID("4b2d7c1e-0000-4000-8000-0000000000a7")


class ThreadLog(Aggregate):
    """A rollout thread as an event-sourced aggregate."""

    @staticmethod
    def create_id(thread_id: str) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, thread_id)

    @event("Started")
    def __init__(self, thread_id: str, meta: dict, forked_from: str | None = None) -> None:
        self.thread_id = thread_id
        self.meta = meta
        self.forked_from = forked_from
        self.lines: list[dict] = []

    @event("LineAppended")
    def append(self, line: dict) -> None:
        self.lines.append(line)


class Threads(Application):
    """Command and query methods over ``ThreadLog`` aggregates."""

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(env=env)
        self.known: set[str] = set()  # threads this process created or found, to skip the lookup

    def append(self, thread_id: str, lines: list[dict]) -> None:
        if thread_id in self.known or self._exists(thread_id):
            log = self.repository.get(ThreadLog.create_id(thread_id))
        elif lines:  # the first line (session_meta, or an old file's header) opens the aggregate
            log = ThreadLog(thread_id=thread_id, meta=lines[0])
            lines = lines[1:]
        else:
            return
        for line in lines:
            log.append(line)
        self.save(log)
        self.known.add(thread_id)

    def _exists(self, thread_id: str) -> bool:
        return ThreadLog.create_id(thread_id) in self.repository

    def fork(self, thread_id: str, new_id: str) -> None:
        source = self.repository.get(ThreadLog.create_id(thread_id))
        log = ThreadLog(thread_id=new_id, meta=source.meta, forked_from=thread_id)
        for line in source.lines:
            log.append(line)
        self.save(log)
        self.known.add(new_id)

    def list(self, limit: int | None) -> list[str]:
        topic = get_topic(ThreadLog.Started)
        found: list[str] = []
        start = 1
        while limit is None or len(found) < limit:
            page = self.recorder.select_notifications(start, 1000 if limit is None else limit - len(found),
                                                      topics=[topic])
            if not page:
                break
            found += [self.mapper.to_domain_event(n).thread_id for n in page]
            start = page[-1].id + 1
        return found


class EventSourcingDriver(Driver):
    """Drives a ``Threads`` application on the SQLite recorder."""

    name = "eventsourcing"
    package = "eventsourcing"
    durability = "save = 1 transaction per turn (WAL, synchronous=FULL)"
    how = ("aggregate per thread, @event per line, repository.get + save per turn (aggregate cache on); "
           "fork = new aggregate re-recording every line; list = notification log by topic")

    async def open(self) -> None:
        self.app = Threads(env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(self.root / "events.sqlite"),
            "AGGREGATE_CACHE_MAXSIZE": "64",
            "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
        })

    async def close(self) -> None:
        self.app.close()

    def prepare(self, thread: Thread) -> list[list[dict]]:
        return [[decode(line) for line in turn] for turn in thread.turns]

    async def append_thread(self, thread_id: str, turns: Any) -> None:
        for lines in turns:
            self.app.append(thread_id, lines)

    async def read_latest(self, thread_id: str) -> int:
        return len(self.app.repository.get(ThreadLog.create_id(thread_id)).lines)

    async def fork(self, thread_id: str, new_id: str) -> None:
        self.app.fork(thread_id, new_id)

    async def list_threads(self, limit: int | None) -> list[str]:
        return self.app.list(limit)
