"""Child process of the PostgreSQL tests: writes through its own pool, as another host would.

Usage: ``python -m tests.store.postgres.worker DSN SCHEMA MODE ARG``:

* ``announce THREAD``: creates THREAD, appends to it, forks it, names, archives and deletes
  the fork, each write carrying its change-feed notice; prints ``done``.
* ``cas THREAD``: appends 20 one-line chunks to THREAD with compare-and-set retries
  (line ``s`` reads ``"<pid> <s>"``); prints how many retries it needed.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid

from msgspec.structs import replace

from store.feed import Change
from store.postgres.database import Database
from store.postgres.feed import notice
from store.postgres.reader import ancestry_of, live_row
from store.postgres.writer import ChunkRow, Lineage, ThreadRow, ThreadWrite, send

APPENDS = 20


def row(last_seq: int, **fields: object) -> ThreadRow:
    return ThreadRow(created_ms=1, updated_ms=1 + last_seq, last_seq=last_seq, state=b"state", **fields)


async def announce(db: Database, thread_id: str) -> None:
    said = lambda kind, t, seq=None, src=None: notice(Change(kind=kind, thread_id=t, last_seq=seq, source_id=src), db.origin)  # noqa: E731
    await send(db, [ThreadWrite(thread_id=thread_id, version=None, row=row(1), chunks=(ChunkRow(1, 1, None, b"m"),),
                               notice=said("started", thread_id, 1))])
    await send(db, [ThreadWrite(thread_id=thread_id, version=1, row=row(2), chunks=(ChunkRow(2, 2, None, b"x"),),
                               notice=said("appended", thread_id, 2))])
    source = await db.read(live_row, thread_id)
    child = str(uuid.uuid4())
    lineage = Lineage(parent_id=thread_id, parent_gen=0, parent_upto=2, ancestry=ancestry_of(source, 2))
    await send(db, [ThreadWrite(thread_id=child, version=None, row=row(3), lineage=lineage,
                               chunks=(ChunkRow(1, 1, None, b"fork meta"),), notice=said("forked", child, 3, thread_id))])
    await send(db, [ThreadWrite(thread_id=child, version=1, row=row(3, name_folded="n"), notice=said("named", child, 3))])
    await send(db, [ThreadWrite(thread_id=child, version=2, row=row(3, name_folded="n", archived=True),
                               notice=said("archived", child, 3))])
    print("done", flush=True)


async def cas(db: Database, thread_id: str) -> None:
    retries = 0
    for _ in range(APPENDS):
        while True:
            current = await db.read(live_row, thread_id)
            seq = current.last_seq + 1
            chunk = ChunkRow(seq, seq, None, f"{os.getpid()} {seq}".encode())
            attempt = ThreadWrite(thread_id=thread_id, version=current.version, gen=current.gen,
                                  row=replace(row(seq)), chunks=(chunk,))
            if (await send(db, [attempt]))[0].applied:
                break
            retries += 1
    print(retries, flush=True)


async def main(dsn: str, schema: str, mode: str, arg: str) -> None:
    db = await Database.connect(dsn, schema=schema)
    try:
        await {"announce": announce, "cas": cas}[mode](db, arg)
    finally:
        await db.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
