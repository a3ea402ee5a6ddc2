"""Run a server on one listen address until SIGTERM/SIGINT (or stdin's end, for stdio).

``--listen`` takes Codex's own forms: ``stdio://`` (the default),
``unix://PATH`` and ``ws://IP:PORT``. On a signal the server stops reading new
requests, lets in-flight ones finish (appends included), then returns; the
caller closes the store.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from typing import Any

import msgspec

from .guard import Guard, check_bind
from .server import AppServer
from .transport import Limits, serve_stdio, serve_unix, serve_ws

__all__ = ["Listen", "parse_listen", "run"]

log = logging.getLogger("serve")


class Listen(msgspec.Struct, frozen=True):
    """A parsed ``--listen`` value."""

    scheme: str  # "stdio", "unix" or "ws"
    path: str = ""
    host: str = ""
    port: int = 0


def parse_listen(value: str) -> Listen:
    """Parse ``stdio://``, ``unix://PATH`` or ``ws://IP:PORT``.

    Raises:
        ValueError: another scheme, or a malformed address.
    """
    scheme, sep, rest = value.partition("://")
    if not sep:
        raise ValueError(f"--listen {value!r}: expected stdio://, unix://PATH or ws://IP:PORT")
    if scheme == "stdio" and not rest:
        return Listen("stdio")
    if scheme == "unix" and rest:
        return Listen("unix", path=rest)
    if scheme == "ws":
        host, colon, port = rest.rpartition(":")
        if colon and host and port.isdigit() and int(port) < 65536:
            return Listen("ws", host=host.strip("[]"), port=int(port))
    raise ValueError(f"--listen {value!r}: expected stdio://, unix://PATH or ws://IP:PORT")


async def run(server: AppServer, listen: Listen, *, limits: Limits | None = None, token: str | None = None,
              allow_hosts: tuple[str, ...] = (), allow_origins: tuple[str, ...] = (),
              ready: Callable[[int], None] | None = None) -> None:
    """Serve on ``listen`` until a signal (or, for stdio, the end of stdin), then drain.

    Raises:
        ValueError: a ws listener reachable from other machines without a token.
    """
    limits = limits or Limits()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, _stopper(stop, sig))
    try:
        transport: Any
        if listen.scheme == "stdio":
            transport = serve_stdio(server, limits, stop)
        elif listen.scheme == "unix":
            transport = serve_unix(server, listen.path, limits, stop)
        else:
            check_bind(listen.host, token)
            guard = Guard(listen.host, token=token, allow_hosts=allow_hosts, allow_origins=allow_origins)
            transport = serve_ws(server, listen.host, listen.port, limits, guard, stop, ready)
        await transport
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        await server.aclose()
        log.info("stopped")


def _stopper(stop: asyncio.Event, sig: signal.Signals) -> Callable[[], None]:
    def handler() -> None:
        log.info("received %s: finishing in-flight requests", sig.name)
        stop.set()

    return handler
