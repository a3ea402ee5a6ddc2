"""Transports: stdio (as `rollout serve`), Unix socket and WebSocket, with their limits and guards."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from serve import AppServer
from serve.guard import Guard, check_bind
from serve.transport import Limits, serve_unix, serve_ws

from ..store.conftest import meta

ROOT = Path(__file__).resolve().parents[2]
INIT = {"id": 0, "method": "initialize", "params": {"clientInfo": {"name": "t", "version": "0"}}}
TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def rollout_serve(*args: str) -> subprocess.Popen:
    """`rollout serve ...` from this checkout, over pipes."""
    code = "from rollout.cli.main import entry; entry()"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", code, "serve", *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def lines(*messages: object) -> bytes:
    return b"".join((m if isinstance(m, bytes) else json.dumps(m).encode()) + b"\n" for m in messages)


def test_stdio_serves_until_stdin_closes_and_logs_json_with_traceparent(tmp_path):
    """Replies on stdout, one per request; an over-long line is skipped; JSON logs carry the traceparent."""
    proc = rollout_serve("--db", str(tmp_path / "t.db"), "--log-format", "json", "--max-message-bytes", "4096")
    huge = b'{"id": 9, "method": "thread/list", "params": {"x": "' + b"y" * 10_000 + b'"}}'
    out, err = proc.communicate(lines(
        INIT, {"method": "initialized"}, huge,
        {"id": 1, "method": "thread/list", "params": {}, "trace": {"traceparent": TRACE}},
        {"id": 2, "method": "thread/start", "params": {"cwd": "/w"}},
    ), timeout=60)
    assert proc.returncode == 0, err
    replies = [json.loads(line) for line in out.splitlines()]
    ids = sorted(r["id"] for r in replies if "id" in r)
    assert ids == [0, 1, 2] and all("result" in r for r in replies if "id" in r)
    records = [json.loads(line) for line in err.splitlines()]
    assert any(r.get("traceparent") == TRACE and r.get("rpc_method") == "thread/list" for r in records)
    assert any("over 4096 bytes" in r["message"] for r in records)


def test_sigterm_finishes_in_flight_requests_and_exits_cleanly(tmp_path):
    """SIGTERM: the server drains and exits 0; what it accepted before is stored."""
    with rollout_serve("--db", str(tmp_path / "t.db")) as proc:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        proc.stdin.write(lines(INIT, {"id": 1, "method": "thread/start", "params": {"cwd": "/w"}}))
        proc.stdin.flush()
        replies = [json.loads(proc.stdout.readline()) for _ in range(2)]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        assert "stopped" in proc.stderr.read().decode()
    started = next(r for r in replies if r["id"] == 1)["result"]["thread"]["id"]
    check = rollout_serve("--db", str(tmp_path / "t.db"))
    out, _ = check.communicate(lines(INIT, {"id": 1, "method": "thread/read", "params": {"threadId": started}}),
                               timeout=60)
    assert any(json.loads(line).get("result", {}).get("thread", {}).get("id") == started for line in out.splitlines())


def test_postgres_and_bad_listen_are_clear_errors(tmp_path):
    """--postgres to a server that does not answer is one error line (exit 1); a bad --listen exits 2."""
    proc = rollout_serve("--postgres", "postgresql://me:secret@127.0.0.1:1/x")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and b"cannot connect to PostgreSQL at 127.0.0.1:1 database 'x'" in err
    assert b"secret" not in err and b"Traceback" not in err
    proc = rollout_serve("--db", str(tmp_path / "t.db"), "--listen", "tcp://1.2.3.4:5")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and b"expected stdio://" in err


@contextlib.asynccontextmanager
async def running(coro_factory):
    stop = asyncio.Event()
    task = asyncio.create_task(coro_factory(stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def test_unix_socket_clients_share_notifications(store, tmp_path):
    """Two clients on one socket: one starts a thread, the other hears thread/started."""
    server = AppServer(store)
    path = str(tmp_path / "s.sock")
    async with running(lambda stop: serve_unix(server, path, Limits(), stop)):
        while not os.path.exists(path):
            await asyncio.sleep(0.01)
        assert oct(os.stat(path).st_mode & 0o777) == "0o600"
        (ra, wa), (rb, wb) = await asyncio.open_unix_connection(path), await asyncio.open_unix_connection(path)
        for w in (wa, wb):
            w.write(lines(INIT))
        assert "result" in json.loads(await ra.readline()) and "result" in json.loads(await rb.readline())
        wa.write(lines({"id": 1, "method": "thread/start", "params": {"cwd": "/w"}}))
        note = json.loads(await rb.readline())
        assert note["method"] == "thread/started"
        for w in (wa, wb):
            w.close()
    await server.aclose()


@contextlib.asynccontextmanager
async def ws_server(store, guard: Guard | None = None, limits: Limits | None = None):
    server = AppServer(store)
    port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    guard = guard or Guard("127.0.0.1")
    async with running(lambda stop: serve_ws(server, "127.0.0.1", 0, limits or Limits(), guard, stop,
                                             port.set_result)):
        yield server, await port
    await server.aclose()


async def ws_call(ws, request_id, method, params):
    await ws.send(json.dumps({"id": request_id, "method": method, "params": params}))
    while True:
        message = json.loads(await ws.recv())
        if message.get("id") == request_id:
            return message


async def test_ws_slow_read_does_not_block_another_clients_list(store, monkeypatch):
    """A thread/read held inside the store does not stop thread/list on another connection."""
    from websockets.asyncio.client import connect

    info = await store.start_thread(meta())
    release = asyncio.Event()
    real_read = store.read

    async def slow_read(*args, **kwargs):
        await release.wait()
        return await real_read(*args, **kwargs)

    monkeypatch.setattr(store, "read", slow_read)
    async with ws_server(store) as (_, port), connect(f"ws://127.0.0.1:{port}") as a, \
            connect(f"ws://127.0.0.1:{port}") as b:
        await ws_call(a, 0, "initialize", INIT["params"])
        await ws_call(b, 0, "initialize", INIT["params"])
        await a.send(json.dumps({"id": 1, "method": "thread/read",
                                 "params": {"threadId": info.id, "includeTurns": True}}))
        listed = await asyncio.wait_for(ws_call(b, 1, "thread/list", {}), 30)
        assert [t["id"] for t in listed["result"]["data"]] == [info.id]
        release.set()
        read = json.loads(await a.recv())
        assert read["id"] == 1 and read["result"]["thread"]["id"] == info.id


async def test_ws_guard_refuses_foreign_origin_host_and_missing_token(store):
    """Origin and Host checks (DNS rebinding, cross-site) and the bearer token, end to end."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    guard = Guard("127.0.0.1", token="s3cret", allow_origins=("http://localhost:3000",))
    async with ws_server(store, guard) as (_, port):
        url = f"ws://127.0.0.1:{port}"
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url):
                pass
        assert refused.value.response.status_code == 401
        auth = {"Authorization": "Bearer s3cret"}
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, additional_headers=auth, origin="https://evil.example"):
                pass
        assert refused.value.response.status_code == 403
        async with connect(url, additional_headers=auth, origin="http://localhost:3000") as ws:
            assert "result" in await ws_call(ws, 0, "initialize", INIT["params"])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                     b"Authorization: Bearer s3cret\r\n\r\n")
        assert (await reader.readline()).startswith(b"HTTP/1.1 403")
        writer.close()


def test_guard_rules():
    """Loopback hosts pass, others need --allow-host; a public bind needs a token."""
    guard = Guard("127.0.0.1", allow_hosts=("box.internal",))
    assert guard.refusal({"Host": "localhost:8765"}) is None
    assert guard.refusal({"Host": "[::1]:8765"}) is None
    assert guard.refusal({"Host": "box.internal:8765"}) is None
    assert guard.refusal({"Host": "attacker.example:8765"}) is not None
    check_bind("127.0.0.1", None)
    with pytest.raises(ValueError, match="without a token"):
        check_bind("0.0.0.0", None)
    check_bind("0.0.0.0", "token")


async def test_ws_oversized_message_closes_only_that_client(store):
    """A message over the limit closes that connection (1009, as Codex); others keep working."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    async with ws_server(store, limits=Limits(max_bytes=2048)) as (_, port), \
            connect(f"ws://127.0.0.1:{port}") as good, connect(f"ws://127.0.0.1:{port}") as bad:
        await ws_call(good, 0, "initialize", INIT["params"])
        await bad.send("x" * 4096)
        with pytest.raises(ConnectionClosed) as closed:
            await bad.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        assert "result" in await ws_call(good, 1, "thread/list", {})


async def test_client_leaving_mid_request_loses_nothing_stored(store):
    """A client that disconnects right after a write request: the write still lands, the server serves on."""
    from websockets.asyncio.client import connect

    async with ws_server(store) as (_, port):
        async with connect(f"ws://127.0.0.1:{port}") as ws:
            await ws_call(ws, 0, "initialize", INIT["params"])
            await ws.send(json.dumps({"id": 1, "method": "thread/start", "params": {"cwd": "/w"}}))
        async with connect(f"ws://127.0.0.1:{port}") as ws:
            await ws_call(ws, 0, "initialize", INIT["params"])
            for _ in range(100):
                listed = await ws_call(ws, 1, "thread/list", {})
                if listed["result"]["data"]:
                    break
                await asyncio.sleep(0.05)
            assert len(listed["result"]["data"]) == 1
