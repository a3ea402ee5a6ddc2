"""Child process of the PostgresStore tests: a whole store in another process, as another host would run it.

Usage: ``python -m tests.store.postgres.store_worker DSN SCHEMA MODE ARG...``; prints one JSON line.

* ``append SHARED TASKS ROUNDS``: ``TASKS`` tasks each start a thread of their own, then
  ``ROUNDS`` times append one marked line to it and one to ``SHARED``, always with the
  ``expected_seq`` they last saw (re-reading after a ``Conflict``). Prints every append
  that landed and every conflict, with the expected and actual seqs.
* ``fork SHARED``: forks ``SHARED`` (whole) and prints the child's id.
* ``observe``: prints, for every thread listed (every page), its id, last seq, name and
  the SHA-256 of its export.
* ``ack COUNT``: ``COUNT`` tasks each append turn after turn to a thread of their own,
  printing ``thread seq`` for every append acknowledged, until killed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
from typing import Any

from rollout import events as ev
from rollout.errors import Conflict
from store import PostgresStore, iter_threads
from tests.store.conftest import meta, stamp


def marked(text: str) -> list[ev.Line]:
    return [ev.EventMsgLine(timestamp=stamp(1), payload=ev.AgentMessageEvent(message=text))]


async def append(store: PostgresStore, shared: str, tasks: int, rounds: int) -> dict[str, Any]:
    landed: list[tuple[str, str, int]] = []
    conflicts: list[tuple[str, str, int, int]] = []

    async def one(thread_id: str, text: str, seen: int) -> int:
        while True:
            try:
                seq = await store.append(thread_id, marked(text), expected_seq=seen)
            except Conflict as exc:
                conflicts.append((thread_id, text, exc.expected_seq, exc.actual_seq))
                seen = (await store.info(thread_id)).last_seq
                continue
            landed.append((thread_id, text, seq))
            return seq

    async def task(number: int) -> None:
        own = (await store.start_thread(meta())).id
        own_seen = 1
        shared_seen = (await store.info(shared)).last_seq
        for n in range(rounds):
            text = f"{os.getpid()}/{number}/{n}"
            own_seen = await one(own, text, own_seen)
            shared_seen = await one(shared, text, shared_seen)

    await asyncio.gather(*(task(i) for i in range(tasks)))
    return {"landed": landed, "conflicts": conflicts}


async def observe(store: PostgresStore) -> list[Any]:
    seen = []
    async for info in iter_threads(store):
        data = await store.export_rollout(info.id)
        seen.append([info.id, info.last_seq, info.name, info.forked_from_id, hashlib.sha256(data).hexdigest()])
    return seen


async def ack(store: PostgresStore, count: int) -> None:
    async def task() -> None:
        thread_id = (await store.start_thread(meta())).id
        n = 0
        while True:
            n += 1
            seq = await store.append(thread_id, marked(f"{thread_id} {n}") * 2)
            print(thread_id, seq, flush=True)

    await asyncio.gather(*(task() for _ in range(count)))


async def main(dsn: str, schema: str, mode: str, *args: str) -> None:
    async with PostgresStore.open(dsn, schema=schema, application_name=f"rollout-test-{schema}") as store:
        if mode == "append":
            out: Any = await append(store, args[0], int(args[1]), int(args[2]))
        elif mode == "fork":
            out = (await store.fork(args[0])).id
        elif mode == "observe":
            out = await observe(store)
        else:
            await ack(store, int(args[0]))
            return
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
