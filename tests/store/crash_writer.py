"""Child process of ``test_crash``: appends to a few threads forever, printing each acknowledged append.

Usage: ``python -m tests.store.crash_writer DB``. Prints ``ready`` once the store is
open, then ``<thread> <seq>`` after every append returned (so was durable). Line
``s`` of thread ``t`` always carries the message ``"<t> <s>"``, so a reader can
check content as well as count.
"""

from __future__ import annotations

import asyncio
import sys

from rollout import events as ev
from rollout.errors import ThreadNotFound
from store import SqliteStore, Tuning

THREADS = [f"019e0000-0000-7000-8000-00000000c0d{n}" for n in range(4)]
TUNING = Tuning(pack_lines=16, chunk_bytes=8192, blob_min=512, dictionary_after=64 * 1024)


def lines_for(thread_id: str, first_seq: int, count: int) -> list[ev.Line]:
    """The lines the writer appends at ``first_seq``: message ``"<thread> <seq>"`` padded to vary size."""
    return [
        ev.EventMsgLine(
            timestamp="2026-06-01T10:00:00.000Z",
            payload=ev.AgentMessageEvent(message=f"{thread_id} {seq}" + " pad" * (seq % 300)),
        )
        for seq in range(first_seq, first_seq + count)
    ]


async def _producer(store: SqliteStore, thread_id: str) -> None:
    try:
        seq = (await store.info(thread_id)).last_seq
    except ThreadNotFound:
        seq = (await store.start_thread(ev.SessionMeta(id=thread_id, cwd="/crash"))).last_seq
    count = 0
    while True:
        count = count % 7 + 1
        seq = await store.append(thread_id, lines_for(thread_id, seq + 1, count), expected_seq=seq)
        sys.stdout.write(f"{thread_id} {seq}\n")
        sys.stdout.flush()


async def main(path: str) -> None:
    async with SqliteStore.open(path, tuning=TUNING) as store:
        print("ready", flush=True)
        await asyncio.gather(*(_producer(store, thread_id) for thread_id in THREADS))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
