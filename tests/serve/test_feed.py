"""Notifications come from the store's change feed: every write announced once, whoever made it."""

from __future__ import annotations

import asyncio

from serve import AppServer
from store import SqliteStore

from ..store.conftest import meta, turn
from .harness import Client
from .test_methods import settle


async def _heard(client: Client, count: int) -> list[str]:
    for _ in range(300):
        if len(client.methods()) >= count:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # anything more would arrive now
    return client.methods()


async def test_writes_through_the_server_and_behind_its_back_are_announced_once(store):
    """A rename through the server and an archive made directly on the store are each announced once."""
    info = await store.start_thread(meta())
    await store.append(info.id, turn("t1", "question"))
    server = AppServer(store)
    client = await Client(server).start()
    await client.call("thread/name/set", {"threadId": info.id, "name": "first"})
    await store.archive(info.id)  # behind the server's back
    await settle(server)
    assert client.methods() == ["thread/name/updated", "thread/archived"]
    await server.aclose()


async def test_another_serve_on_the_same_sqlite_file_is_heard(tmp_path):
    """Two servers, two stores, one file: each one's clients hear the other's writes, once each."""
    path = tmp_path / "shared.db"
    async with SqliteStore.open(path) as one, SqliteStore.open(path) as two:
        one.watch_interval = two.watch_interval = 0.01
        first, second = AppServer(one), AppServer(two)
        mine, theirs = await Client(first).start(), await Client(second).start()
        await asyncio.sleep(0.05)  # both watchers have looked at the log
        started = await theirs.call("thread/start", {"cwd": "/w"})
        thread_id = started["thread"]["id"]
        await theirs.call("thread/name/set", {"threadId": thread_id, "name": "shared"})
        await mine.call("thread/archive", {"threadId": thread_id})
        expected = ["thread/started", "thread/name/updated", "thread/archived"]
        assert await _heard(mine, 3) == expected
        assert await _heard(theirs, 5) == ["thread/started", "thread/name/updated", "thread/status/changed",
                                           "thread/closed", "thread/archived"]
        await first.aclose()
        await second.aclose()
