"""The ``serve_message`` fuzz target: the ``rollout serve`` JSON-RPC handler (``Connection.handle``).

Each input is up to 16 newline-separated messages, served one after another on one
initialized connection (experimental API on) of a fresh ``AppServer`` over a
``MemoryStore`` holding one seeded thread. Opening a MemoryStore costs ~1.5 ms (its search
index), four times a typical input, so one store serves ``_STORE_USES`` inputs before a fresh
one replaces it: an input may see threads earlier inputs wrote (a finding is replayed alone
by its regression test, on a fresh store).
A finding is: ``handle`` raising anything, a reply that is not one JSON object, a
request answered with another id or not at all, an answer to what deserves none, or
an ``internal error`` reply (the server's catch-all for a bug in a handler). Engine
errors turned into JSON-RPC errors are the expected refusals.

Seeds: ``tests/fuzz/seeds/serve_message/`` (``tests/fuzz/make_seeds.py``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec

from rollout import events as ev
from serve import AppServer
from serve.rpc import Request, parse
from store import MemoryStore

from .mutator import jsonl_mutator
from .targets import target

__all__ = ["SEEDED_THREAD", "serve_message"]

#: the thread every fuzzed server starts with (the seeds name it)
SEEDED_THREAD = "019e2a5c-0000-7000-8000-000000000001"
_INITIALIZE = (b'{"id":"init","method":"initialize","params":{"clientInfo":{"name":"fuzz","version":"0"},'
               b'"capabilities":{"experimentalApi":true}}}')
_MAX_MESSAGES = 16
_STORE_USES = 64
_LOOP: asyncio.AbstractEventLoop | None = None
_STORE: list[Any] = [None, 0]  # the open store, inputs it served
_STAMP = "2026-06-01T10:00:00.000Z"


def _seed_lines() -> list[ev.Line]:
    def event(payload: Any) -> ev.Line:
        return ev.EventMsgLine(timestamp=_STAMP, payload=payload)

    return [
        event(ev.TaskStartedEvent(turn_id="t1", started_at=1_780_000_000)),
        event(ev.UserMessageEvent(message="question")),
        event(ev.AgentMessageEvent(message="answer")),
        event(ev.TaskCompleteEvent(turn_id="t1", last_agent_message="answer")),
    ]


def _meta() -> ev.SessionMeta:
    return ev.SessionMeta(id=SEEDED_THREAD, timestamp=_STAMP, cwd="/work", originator="codex_cli_rs",
                          cli_version="0.171.0", source="cli", model_provider="openai")


def _check_reply(message: bytes, reply: bytes | None) -> None:
    parsed = parse(message)
    if not isinstance(parsed, Request):
        assert reply is None, f"a reply to what deserves none: {message!r} -> {reply!r}"
        return
    assert reply is not None, f"no reply to a request: {message!r}"
    decoded = msgspec.json.decode(reply)
    assert isinstance(decoded, dict) and decoded.get("id") == parsed.id, f"reply with another id: {reply!r}"
    error = decoded.get("error")
    if error is not None:
        assert isinstance(error.get("code"), int) and isinstance(error.get("message"), str), f"bad error: {reply!r}"
        assert not error["message"].startswith("internal error"), f"a handler failed: {message!r} -> {reply!r}"
    else:
        assert "result" in decoded, f"neither result nor error: {reply!r}"


async def _store() -> Any:
    """The shared store, replaced by a fresh one (with the seeded thread) every ``_STORE_USES`` inputs."""
    store, uses = _STORE
    if store is None or uses >= _STORE_USES:
        if store is not None:
            await store.close()
        store = await MemoryStore.open()
        info = await store.start_thread(_meta())
        await store.append(info.id, _seed_lines())
        uses = 0
    _STORE[:] = [store, uses + 1]
    return store


async def _serve(messages: list[bytes]) -> None:
    server = AppServer(await _store())
    sent: list[bytes] = []
    conn = server.connect(sent.append)
    await conn.handle(_INITIALIZE)
    for message in messages:
        _check_reply(message, await conn.handle(message))
    for payload in sent:
        assert isinstance(msgspec.json.decode(payload), dict), f"a notification is not a JSON object: {payload!r}"
    conn.close()
    await server.aclose()


@target("serve_message", max_len=4096, mutator=jsonl_mutator)
def serve_message(data: bytes) -> None:
    """Up to 16 messages through one connection: each request answered once, with its id, by no bug."""
    global _LOOP
    if _LOOP is None:
        logging.getLogger("serve").setLevel(logging.CRITICAL + 1)  # a bug shows in the reply; no log spam
        _LOOP = asyncio.new_event_loop()
    messages = data.split(b"\n")[:_MAX_MESSAGES]
    _LOOP.run_until_complete(_serve(messages))
