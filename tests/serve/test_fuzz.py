"""Protocol fuzzing: whatever arrives, the server answers each request exactly once and keeps serving."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serve import AppServer
from store import MemoryStore

from ..store.conftest import meta, turn
from ..strategies import SEEDED_THREAD, rpc_messages
from .harness import check_notification, check_reply, require_schemas


def expected_id(message: bytes) -> object:
    """The id a reply must carry, or None when the message deserves no reply."""
    try:
        value = json.loads(message)
    except ValueError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("method"), str):
        return None
    request_id = value.get("id")
    return request_id if isinstance(request_id, int | str) and not isinstance(request_id, bool) else None


async def serve_all(messages: list[bytes]) -> None:
    async with MemoryStore.open() as store:
        info = await store.start_thread(meta(id=SEEDED_THREAD))
        await store.append(info.id, turn("t1", "question"))
        server = AppServer(store)
        conn = server.connect(lambda payload: check_notification(json.loads(payload)))
        await conn.handle(b'{"id":"init","method":"initialize","params":{"clientInfo":{"name":"f","version":"0"}}}')
        replies = await asyncio.gather(*(conn.handle(m) for m in messages))
        for message, reply in zip(messages, replies):
            want = expected_id(message)
            if want is None:
                assert reply is None, (message, reply)
                continue
            assert reply is not None, message
            decoded = json.loads(reply)
            assert decoded["id"] == want
            check_reply(json.loads(message)["method"], decoded)
        still = json.loads(await conn.handle(b'{"id":"last","method":"thread/list","params":{}}'))
        assert "result" in still
        await server.aclose()


@settings(max_examples=60)
@given(st.lists(rpc_messages, min_size=1, max_size=12))
def test_every_request_gets_exactly_one_valid_reply(messages):
    """Valid and broken messages, served concurrently: one schema-valid reply per request, none otherwise."""
    require_schemas()
    asyncio.run(serve_all(messages))


@settings(max_examples=1000)
@given(st.lists(rpc_messages, min_size=1, max_size=20))
@pytest.mark.slow
def test_every_request_gets_exactly_one_valid_reply_many(messages):
    """The same property over many more examples (-m slow)."""
    require_schemas()
    asyncio.run(serve_all(messages))
