"""The wire as the real Codex 0.171.0 app-server speaks it: handshake, error codes and messages, drops.

Each expected message below was read from the real binary's reply to the same input.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from serve import AppServer
from serve.methods import HANDLERS
from serve.protocol import CODEX_METHODS

from .harness import CHECKED_METHODS, Client

UNKNOWN = "019e2a5c-0000-7000-8000-00000000dead"


async def test_requests_before_initialize_are_refused(server):
    """Codex: -32600 "Not initialized"; a second initialize: "Already initialized"."""
    client = Client(server)
    assert (await client.request("thread/list", {}))["error"] == {"code": -32600, "message": "Not initialized"}
    await client.start()
    again = await client.request("initialize", {"clientInfo": {"name": "x", "version": "1"}})
    assert again["error"] == {"code": -32600, "message": "Already initialized"}
    reply = await client.request("initialize", None)
    assert reply["error"]["message"] == "Invalid request: missing field `params`"


@pytest.mark.parametrize("message", [
    b'{"id": 2, "method": ', b"not json at all", b"[]", b'[{"id":18,"method":"thread/list","params":{}}]',
    b'{"id": null, "method": "thread/list", "params": {}}', b'{"id": 1.5, "method": "thread/list", "params": {}}',
    b'{"id": 17, "params": {}}', b'{"id": 26, "result": {}}', b'{"method": "some/notification", "params": {}}',
    b"", b"   ", b'{"id": true, "method": "thread/list", "params": {}}',
])
async def test_what_codex_ignores_gets_no_reply(connect, message):
    """Malformed JSON, batches, bad ids, replies and unknown notifications are dropped, as Codex drops them."""
    client = await connect()
    assert await client.conn.handle(message) is None
    assert "result" in await client.request("thread/list", {})


@pytest.mark.parametrize(("params", "message"), [
    (None, "Invalid request: missing field `params`"),
    ({}, "Invalid request: missing field `threadId`"),
    ({"threadId": 5}, "Invalid request: invalid type: integer `5`, expected a string"),
    ({"threadId": None}, "Invalid request: invalid type: null, expected a string"),
    ({"threadId": "not-a-uuid"}, "invalid thread id: invalid character: expected an optional prefix of "
                                 "`urn:uuid:` followed by [0-9a-fA-F-], found `n` at 1"),
    ({"threadId": UNKNOWN}, f"thread not loaded: {UNKNOWN}"),
])
async def test_bad_params_get_codex_wording(connect, params, message):
    """Missing, mistyped and unknown values are -32600 with Codex's (serde's) wording."""
    client = await connect()
    assert (await client.request("thread/read", params))["error"] == {"code": -32600, "message": message}


async def test_list_param_errors_match_codex(connect):
    """Observed replies for bad thread/list params."""
    client = await connect()

    async def error(params):
        return (await client.request("thread/list", params))["error"]

    assert await error({"limit": -1}) == {"code": -32600,
                                          "message": "Invalid request: invalid value: integer `-1`, expected u32"}
    assert await error({"cursor": "garbage"}) == {"code": -32600, "message": "invalid cursor: garbage"}
    assert (await error({"sortKey": "foo"}))["message"].startswith("Invalid request: unknown variant `foo`")
    assert await error({"sortKey": "section_position"}) == {
        "code": -32600, "message": "section-position sorting requires a section filter"}
    assert await error({"originators": ["x"]}) == {
        "code": -32602, "message": "originator filtering is not supported by the local app-server"}
    assert (await error({"includedThreadIds": ["nope"]}))["code"] == -32602
    assert "result" in await client.request("thread/list", {"bogus": 1})


async def test_unknown_method_gets_codex_unknown_variant_error(connect):
    """A method Codex does not know: -32600 listing Codex's methods, word for word."""
    client = await connect()
    error = (await client.request("nope/nope", {}))["error"]
    assert error["code"] == -32600
    assert error["message"].startswith("Invalid request: unknown variant `nope/nope`, expected one of `initialize`, ")
    assert error["message"].endswith("`fuzzyFileSearch/sessionStop`") and len(CODEX_METHODS) == 192


@pytest.mark.parametrize("method", ["turn/start", "thread/shellCommand", "review/start", "thread/compact/start"])
async def test_methods_needing_a_model_are_not_served(connect, method):
    """-32601 (Codex's code for a method it does not support) saying it is not served here."""
    error = (await (await connect()).request(method, {"threadId": UNKNOWN}))["error"]
    assert error["code"] == -32601 and f"{method} is not served by rollout serve" in error["message"]


async def test_search_occurrences_needs_the_opt_in_then_is_not_served(connect):
    """thread/searchOccurrences: Codex's capability error without opt-in; with it, -32601 saying why."""
    params = {"threadId": UNKNOWN, "searchTerm": "x"}
    plain = (await (await connect()).request("thread/searchOccurrences", params))["error"]
    assert plain == {"code": -32600, "message": "thread/searchOccurrences requires experimentalApi capability"}
    opted = (await (await connect(experimental=True)).request("thread/searchOccurrences", params))["error"]
    assert opted["code"] == -32601 and "full-text index" in opted["message"]


async def test_string_ids_and_jsonrpc_field_are_accepted(connect):
    """Codex accepts string ids and ignores a "jsonrpc" field."""
    client = await connect()
    raw = await client.conn.handle(json.dumps({"id": "s-1", "method": "thread/list", "params": {}, "jsonrpc": "2.0"}))
    assert json.loads(raw)["id"] == "s-1"


async def test_draining_server_refuses_new_requests(server, connect):
    """After aclose begins, requests get Codex's draining error."""
    client = await connect()
    await server.aclose()
    reply = await client.request("thread/list", {})
    assert reply["error"] == {"code": -32600, "message": "Server is draining; retry after reconnecting"}


async def test_a_handler_bug_is_an_internal_error_and_the_server_keeps_serving(store, monkeypatch):
    """An unexpected exception answers -32603 and the next request is served."""
    server = AppServer(store)
    client = await Client(server).start()

    async def broken(**kwargs):
        raise ZeroDivisionError

    monkeypatch.setattr(store, "list", broken)
    assert (await client.request("thread/list", {}))["error"] == {
        "code": -32603, "message": "internal error: ZeroDivisionError"}
    monkeypatch.undo()
    assert "result" in await client.request("thread/list", {})
    await server.aclose()


async def test_closing_waits_for_an_in_flight_append(store, monkeypatch):
    """aclose lets an append that is under way finish and reply; nothing accepted is lost."""
    from ..store.conftest import meta

    info = await store.start_thread(meta())
    server = AppServer(store)
    client = await Client(server).start()
    await client.call("thread/resume", {"threadId": info.id, "excludeTurns": True})
    entered, release = asyncio.Event(), asyncio.Event()
    real_append = store.append

    async def slow_append(*args, **kwargs):
        entered.set()
        await release.wait()
        return await real_append(*args, **kwargs)

    monkeypatch.setattr(store, "append", slow_append)
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "kept"}]}
    pending = asyncio.create_task(client.request("thread/inject_items", {"threadId": info.id, "items": [item]}))
    await entered.wait()
    closing = asyncio.create_task(server.aclose())
    await asyncio.sleep(0)
    assert not closing.done()
    release.set()
    await closing
    assert (await pending)["result"] == {}
    assert (await store.info(info.id)).last_seq == info.last_seq + 1


def test_every_served_method_has_its_reply_schema_checked():
    """The test client validates the replies of every method served (a new one cannot slip past)."""
    assert set(HANDLERS) <= CHECKED_METHODS, sorted(set(HANDLERS) - CHECKED_METHODS)
