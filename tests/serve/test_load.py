"""Load: 50 WebSocket clients at once over 127.0.0.1 against SQLite, mixing reads, lists, appends and forks.

Every injected item carries a unique marker naming its target thread; afterwards each
thread's own markers in the store must be exactly the injections that were answered
with success: nothing lost, nothing written twice. No request may fail.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter

import pytest

from serve import AppServer
from serve.guard import Guard
from serve.transport import Limits, serve_ws
from store import SqliteStore

from ..store.conftest import meta, turn

CLIENTS = 50


class WsClient:
    def __init__(self, ws) -> None:
        self.ws = ws
        self.next = 0
        self.pending: dict[int, asyncio.Future] = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            future = self.pending.pop(message.get("id"), None) if "method" not in message else None
            if future is not None:
                future.set_result(message)

    async def call(self, method: str, params: dict) -> dict:
        self.next += 1
        future = asyncio.get_running_loop().create_future()
        self.pending[self.next] = future
        await self.ws.send(json.dumps({"id": self.next, "method": method, "params": params}))
        reply = await future
        assert "result" in reply, f"{method}: {reply}"
        return reply["result"]


async def client_run(port: int, number: int, seeds: list[str], ops: int, injected: Counter) -> None:
    from websockets.asyncio.client import connect

    rng = random.Random(number)
    async with connect(f"ws://127.0.0.1:{port}", max_size=None) as ws:
        client = WsClient(ws)
        await client.call("initialize", {"clientInfo": {"name": f"load-{number}", "version": "0"}})
        mine = [rng.choice(seeds)]
        await client.call("thread/resume", {"threadId": mine[0], "excludeTurns": True})
        for op in range(ops):
            roll = rng.random()
            if roll < 0.3:
                await client.call("thread/read", {"threadId": rng.choice(seeds + mine), "includeTurns": True})
            elif roll < 0.5:
                await client.call("thread/list", {"limit": 20})
            elif roll < 0.9:
                target = rng.choice(mine)
                markers = [f"{number}-{op}-{k}@{target}" for k in range(rng.randint(1, 3))]
                items = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": m}]}
                         for m in markers]
                await client.call("thread/inject_items", {"threadId": target, "items": items})
                injected.update(markers)
            else:
                child = await client.call("thread/fork", {"threadId": rng.choice(seeds), "excludeTurns": True})
                mine.append(child["thread"]["id"])
        client.reader.cancel()


async def run_load(tmp_path, ops: int) -> None:
    async with SqliteStore.open(tmp_path / "load.db") as store:
        seeds = []
        for n in range(5):
            info = await store.start_thread(meta())
            await store.append(info.id, turn(f"seed-{n}", f"seed question {n}"))
            seeds.append(info.id)
        server = AppServer(store)
        stop, port = asyncio.Event(), asyncio.get_running_loop().create_future()
        serving = asyncio.create_task(serve_ws(server, "127.0.0.1", 0, Limits(), Guard("127.0.0.1"), stop,
                                               port.set_result))
        injected: Counter[str] = Counter()
        bound = await port
        await asyncio.gather(*(client_run(bound, n, seeds, ops, injected) for n in range(CLIENTS)))
        stop.set()
        await serving
        await server.aclose()
        stored: Counter[str] = Counter()
        page = await store.list(limit=1000)
        for info in page.data:
            for line in await store.read_lines(info.id):
                for part in getattr(getattr(line, "payload", None), "content", None) or []:
                    marker = getattr(part, "text", "")
                    if marker.endswith(f"@{info.id}"):
                        stored[marker] += 1
        assert stored == injected and max(stored.values()) == 1


async def test_fifty_ws_clients_lose_and_duplicate_nothing(tmp_path):
    """50 concurrent clients, a few operations each: every answered append is stored exactly once."""
    await run_load(tmp_path, ops=6)


@pytest.mark.slow
async def test_fifty_ws_clients_many_operations(tmp_path):
    """The same with 80 operations per client (-m slow)."""
    await run_load(tmp_path, ops=80)
