"""Transports: stdio, Unix socket and WebSocket loops around ``AppServer.connect``.

Stream transports (stdio, ``unix://``) carry one JSON message per line. Each
connection reads messages as they come and serves up to ``max_in_flight`` at
once (then stops reading: back-pressure), so a slow ``thread/read`` never holds
up another request. Replies and notifications go through one bounded queue per
client; a client that lets it fill up (it stopped reading) is disconnected. A
line longer than ``max_bytes`` is skipped and logged (for WebSocket the library
closes the connection with 1009, as Codex does). A client that goes away
mid-reply only loses its replies: requests it started still finish.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from .guard import Guard
from .server import AppServer

__all__ = ["DEFAULT_MAX_BYTES", "Limits", "serve_stdio", "serve_unix", "serve_ws"]

log = logging.getLogger("serve.transport")

DEFAULT_MAX_BYTES = 16 * 1024 * 1024
_END = b""  # queued after the last message of a client that stopped sending


class Limits:
    """Per-connection limits."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, max_in_flight: int = 64, max_queued: int = 10_000):
        self.max_bytes = max_bytes
        self.max_in_flight = max_in_flight
        self.max_queued = max_queued


class _Session:
    """One client on any transport: reading, concurrent serving, ordered writing."""

    def __init__(self, server: AppServer, write: Callable[[bytes], Awaitable[None]], limits: Limits, peer: str):
        self.limits = limits
        self.peer = peer
        self._write = write
        self._out: asyncio.Queue[bytes] = asyncio.Queue(limits.max_queued)
        self._slots = asyncio.Semaphore(limits.max_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()
        self._gone = asyncio.Event()
        self.conn = server.connect(self._enqueue)

    def _enqueue(self, payload: bytes) -> None:
        try:
            self._out.put_nowait(payload)
        except asyncio.QueueFull:
            log.warning("client %s is not reading its messages; disconnecting it", self.peer)
            self._gone.set()

    async def submit(self, message: bytes | str) -> None:
        """Start serving one message (waits while the client has too many in flight)."""
        await self._slots.acquire()
        task = asyncio.create_task(self._serve(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, message: bytes | str) -> None:
        try:
            reply = await self.conn.handle(message)
            if reply is not None and not self._gone.is_set():
                self._enqueue(reply)
        finally:
            self._slots.release()

    async def writer(self) -> None:
        """Write queued messages until the client goes away."""
        try:
            while (payload := await self._out.get()) != _END:
                await self._write(payload)
        except (ConnectionError, OSError) as exc:
            log.info("client %s went away: %s", self.peer, exc)
        except Exception as exc:  # noqa: BLE001 -- the WebSocket library's ConnectionClosed and kin
            log.info("client %s went away: %s", self.peer, type(exc).__name__)
        finally:
            self._gone.set()

    async def run(self, reader: Callable[[], Any]) -> None:
        """Feed every message ``reader`` yields, until it ends or the client is gone."""
        write_task = asyncio.create_task(self.writer())
        read_task = asyncio.create_task(self._read_all(reader))
        gone_task = asyncio.create_task(self._gone.wait())
        try:
            await asyncio.wait({read_task, gone_task}, return_when=asyncio.FIRST_COMPLETED)
            if not self._gone.is_set():  # the client stopped sending: let in-flight replies out
                if self._tasks:
                    await asyncio.wait(set(self._tasks))
                await self._out.put(_END)
                await write_task
        finally:
            self.conn.close()
            for task in (read_task, gone_task, write_task):
                task.cancel()

    async def _read_all(self, reader: Callable[[], Any]) -> None:
        async for message in reader():
            await self.submit(message)


async def _lines(reader: asyncio.StreamReader, max_bytes: int, peer: str) -> Any:
    """Lines of a stream (without the newline); an over-long line is skipped."""
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip():
                yield exc.partial
            return
        except asyncio.LimitOverrunError as exc:
            log.warning("client %s sent a message over %d bytes; skipped it", peer, max_bytes)
            await _skip_line(reader, exc.consumed)
            continue
        if line.strip():
            yield line


async def _skip_line(reader: asyncio.StreamReader, consumed: int) -> None:
    await reader.readexactly(consumed)
    while True:
        try:
            await reader.readuntil(b"\n")
            return
        except asyncio.LimitOverrunError as exc:
            await reader.readexactly(exc.consumed)
        except asyncio.IncompleteReadError:
            return


async def _stream_session(server: AppServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                          limits: Limits, peer: str) -> None:
    async def write(payload: bytes) -> None:
        writer.write(payload + b"\n")
        await writer.drain()

    session = _Session(server, write, limits, peer)
    try:
        await session.run(lambda: _lines(reader, limits.max_bytes, peer))
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError, NotImplementedError):  # stdout pipes cannot wait
            await writer.wait_closed()


async def serve_stdio(server: AppServer, limits: Limits, stop: asyncio.Event) -> None:
    """Serve one client on stdin/stdout until stdin closes or ``stop`` is set."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=limits.max_bytes)
    # duplicates, so closing the transports leaves the process's own stdin/stdout usable
    stdin = os.fdopen(os.dup(sys.stdin.fileno()), "rb", buffering=0)
    stdout = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, stdout)
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    session = asyncio.create_task(_stream_session(server, reader, writer, limits, "stdio"))
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({session, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if session.done():
        session.result()


async def serve_unix(server: AppServer, path: str, limits: Limits, stop: asyncio.Event) -> None:
    """Serve clients on a Unix socket at ``path`` (created 0600) until ``stop`` is set."""
    counter = iter(range(1, 1 << 62))

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _stream_session(server, reader, writer, limits, f"unix#{next(counter)}")

    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    listener = await asyncio.start_unix_server(client, path, limit=limits.max_bytes)
    os.chmod(path, 0o600)
    log.info("listening on unix://%s", path)
    async with listener:
        await stop.wait()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


async def serve_ws(server: AppServer, host: str, port: int, limits: Limits, guard: Guard,
                   stop: asyncio.Event, ready: Callable[[int], None] | None = None) -> None:
    """Serve WebSocket clients on ``host:port`` until ``stop`` is set.

    ``ready`` is called with the bound port (useful with port 0).
    """
    from websockets.asyncio.server import serve as ws_serve

    async def client(ws: Any) -> None:
        async def write(payload: bytes) -> None:
            await ws.send(payload.decode())

        async def messages() -> Any:
            async for message in ws:
                yield message

        await _Session(server, write, limits, f"ws#{ws.id}").run(messages)

    async with ws_serve(client, host, port, max_size=limits.max_bytes, process_request=guard.check,
                        server_header=None) as listener:
        bound = listener.sockets[0].getsockname()[1]
        log.info("listening on ws://%s:%d", host, bound)
        if ready is not None:
            ready(bound)
        await stop.wait()
