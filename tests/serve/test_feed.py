"""The change-feed adapter: a store with its own feed drives the notifications, once each."""

from __future__ import annotations

from typing import Any

from serve import AppServer
from serve.feed import Change

from ..store.conftest import meta, turn
from .harness import Client
from .test_methods import settle


class FeedingStore:
    """A store wrapper with the change-feed contract: callbacks after each write, other writers included."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._callbacks: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def subscribe(self, callback: Any) -> Any:
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback)

    def emit(self, kind: str, thread_id: str) -> None:
        for callback in list(self._callbacks):
            callback(Change(kind=kind, thread_id=thread_id))

    async def set_name(self, thread_id: str, name: str) -> Any:
        info = await self._store.set_name(thread_id, name)
        self.emit("named", thread_id)
        return info

    async def archive(self, thread_id: str) -> Any:
        info = await self._store.archive(thread_id)
        self.emit("archived", thread_id)
        return info


async def test_a_native_feed_replaces_the_servers_own_reports(store):
    """Writes through the server are announced once; a write by another process of the store is announced too."""
    info = await store.start_thread(meta())
    await store.append(info.id, turn("t1", "question"))
    feeding = FeedingStore(store)
    server = AppServer(feeding)
    assert server.feed.native
    client = await Client(server).start()
    await client.call("thread/name/set", {"threadId": info.id, "name": "first"})
    await feeding.archive(info.id)  # behind the server's back
    await settle(server)
    assert client.methods() == ["thread/name/updated", "thread/archived"]
    await server.aclose()
    assert feeding._callbacks == []
