"""``AppServer``: the JSON-RPC handler over a Store, mountable in any asyncio program.

::

    server = AppServer(store)
    conn = server.connect(on_message)          # on_message(bytes): notifications for this client
    reply = await conn.handle(line)            # bytes of the one reply, or None (notification, dropped)
    conn.close()
    await server.aclose()                      # drains in-flight requests; the store stays open

Transports (:mod:`serve.transport`) are thin loops around ``connect``/``handle``.
Many ``handle`` calls may run at once on one connection. The handshake check
runs before the first ``await``, so ``initialize`` sent first is always seen
first. The server keeps which threads are *loaded* (started, resumed or forked
here) and which connections subscribe to them; thread lifecycle notifications
go to every initialized connection, as Codex 0.171.0 sends them. They come from the
store's change feed (``Store.subscribe``), so writes made by anyone else on the same
store (another ``rollout serve`` on the same SQLite file, say) are announced too, and
each write once.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Callable
from typing import Any

import msgspec

from rollout.errors import RolloutError

from . import __version__
from .errors import translate
from .history import Whole
from .methods import HANDLERS
from .notify import Notifier
from .params import Initialize
from .protocol import EXPERIMENTAL, is_codex_method, not_served, unknown_method
from .rpc import INTERNAL_ERROR, Notification, Request, RpcError, decode_params, encode_error, encode_result, parse

__all__ = ["AppServer", "Call", "Connection", "traceparent"]

log = logging.getLogger("serve")

#: the W3C ``traceparent`` of the request being served (log records carry it)
traceparent: contextvars.ContextVar[str | None] = contextvars.ContextVar("traceparent", default=None)

_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {method: msgspec.json.Decoder(kind) for method, (kind, _) in HANDLERS.items()}
_INITIALIZE = msgspec.json.Decoder(Initialize)


class Call(msgspec.Struct, frozen=True):
    """What a handler is given: the server, the calling connection, the method, the request's id."""

    server: AppServer
    conn: Connection
    method: str
    request_id: int | str | None = None


class Connection:
    """One client: handshake state, its subscriptions, and where its notifications go."""

    _ids = 0

    def __init__(self, server: AppServer, send: Callable[[bytes], None]) -> None:
        Connection._ids += 1
        self.id = Connection._ids
        self.server = server
        self.send = send
        self.initialized = False
        self.experimental = False
        self.client_name: str | None = None
        self.closed = False
        self._in_flight: set[asyncio.Task[Any]] = set()
        #: running ``thread/search``es by (method, id type, id), for their cancels
        self.searches: dict[tuple[str, str, Any], asyncio.Task[Any]] = {}

    async def handle(self, message: bytes | str) -> bytes | None:
        """Serve one incoming message; returns the reply (None when none is due)."""
        parsed = parse(message)
        if isinstance(parsed, Request):
            return await self._request(parsed)
        if isinstance(parsed, Notification) and parsed.method == "initialized":
            log.debug("client %s sent initialized", self.id)
        return None

    async def _request(self, req: Request) -> bytes:
        trace = traceparent.set(req.traceparent)
        started = time.perf_counter()
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            reply, outcome = await self._reply(req)
            self._log(req, outcome, started)
        finally:
            if task is not None:
                self._in_flight.discard(task)
            traceparent.reset(trace)
        return reply

    async def _reply(self, req: Request) -> tuple[bytes, str]:
        """The encoded reply and how it went; never raises, so every request is answered."""
        try:
            return encode_result(req.id, await self._dispatch(req)), "ok"
        except RpcError as exc:
            return encode_error(req.id, exc), f"error {exc.code}"
        except Exception as exc:  # an unencodable result, say: still exactly one reply
            log.exception("%s: the reply could not be made", req.method)
            return encode_error(req.id, RpcError(INTERNAL_ERROR, f"internal error: {type(exc).__name__}")), "error"

    def _log(self, req: Request, outcome: str, started: float) -> None:
        log.info("%s id=%s conn=%s %s in %.1f ms", req.method, req.id, self.id, outcome,
                 (time.perf_counter() - started) * 1000,
                 extra={"rpc_method": req.method, "rpc_id": req.id, "conn": self.id, "outcome": outcome})

    async def _dispatch(self, req: Request) -> Any:
        method = req.method
        if method == "initialize":
            return self._initialize(req)
        entry = HANDLERS.get(method)
        if entry is None and not is_codex_method(method):
            raise unknown_method(method)
        params = decode_params(req.params, _DECODERS[method]) if entry is not None else None
        if not self.initialized:
            raise RpcError.invalid("Not initialized")
        if method in EXPERIMENTAL and not self.experimental:
            raise RpcError.invalid(f"{method} requires experimentalApi capability")
        if entry is None:
            raise not_served(method)
        if self.server.draining:
            raise RpcError.invalid("Server is draining; retry after reconnecting")
        thread_id = getattr(params, "thread_id", None)
        try:
            return await entry[1](Call(self.server, self, method, req.id), params)
        except RolloutError as exc:
            raise translate(method, thread_id, exc) from exc
        except RpcError:
            raise
        except Exception as exc:  # a bug: answer it and keep serving
            log.exception("%s failed", method)
            raise RpcError(INTERNAL_ERROR, f"internal error: {type(exc).__name__}") from exc

    def _initialize(self, req: Request) -> dict[str, Any]:
        params = decode_params(req.params, _INITIALIZE)
        if self.initialized:
            raise RpcError.invalid("Already initialized")
        self.initialized = True
        self.client_name = params.client_info.name
        self.experimental = bool(params.capabilities and params.capabilities.experimental_api)
        self.server.connections.add(self)
        if self.experimental:  # a client that may search: have the index ready before it asks
            self.server.warm_search()
        return {
            "userAgent": f"{params.client_info.name}/{__version__} (rollout-engine)",
            "codexHome": self.server.codex_home,
            "platformFamily": "unix",
            "platformOs": "linux",
        }

    def notify(self, payload: bytes) -> None:
        """Queue a notification for this client (dropped once it is closed)."""
        if not self.closed:
            self.send(payload)

    def close(self) -> None:
        """Forget this client: its subscriptions end, its in-flight requests finish unseen."""
        self.closed = True
        self.server.disconnect(self)


class AppServer:
    """The thread/* app-server over one Store.

    Args:
        store: any ``store.Store`` (opened; the caller closes it after ``aclose``).
        codex_home: reported by ``initialize`` when the store is a Codex home.
        default_cwd: the cwd ``thread/start`` records when the client gives none.
    """

    def __init__(self, store: Any, *, codex_home: str | None = None, default_cwd: str = "/") -> None:
        self.store = store
        self.codex_home = codex_home
        self.default_cwd = default_cwd
        self.version = __version__
        self.connections: set[Connection] = set()
        self.draining = False
        self.whole = Whole(store)
        self._subscribers: dict[str, set[Connection]] = {}
        self._notifier = Notifier(self)
        self._unsubscribe = store.subscribe(self._notifier.on_change)
        self._search_catch_up: asyncio.Task[None] | None = None
        self._stop_search_index: Callable[[], None] | None = None

    def connect(self, send: Callable[[bytes], None]) -> Connection:
        """A new client whose notifications are passed to ``send`` (it must not block)."""
        return Connection(self, send)

    def broadcast(self, payload: bytes) -> None:
        """Send a notification to every initialized client."""
        for conn in list(self.connections):
            conn.notify(payload)

    # ------------------------------------------------------------------ loaded threads

    def is_loaded(self, thread_id: str) -> bool:
        return thread_id in self._subscribers

    def loaded_ids(self) -> list[str]:
        return list(self._subscribers)

    def load(self, thread_id: str, conn: Connection, *, announce: bool = True) -> None:
        """Load a thread (if needed) and subscribe ``conn``; a newly loaded thread turns ``idle``."""
        fresh = thread_id not in self._subscribers
        self._subscribers.setdefault(thread_id, set()).add(conn)
        if fresh and announce:
            self._notifier.status(thread_id, "idle")

    def unload(self, thread_id: str) -> None:
        """Unload a thread (archived or deleted): ``notLoaded``, then ``thread/closed``."""
        if self._subscribers.pop(thread_id, None) is not None:
            self._notifier.status(thread_id, "notLoaded")
            self._notifier.closed(thread_id)

    def unsubscribe(self, thread_id: str, conn: Connection) -> str:
        """Codex's ThreadUnsubscribeStatus; the thread stays loaded, as in Codex 0.171.0."""
        subscribers = self._subscribers.get(thread_id)
        if subscribers is None:
            return "notLoaded"
        if conn not in subscribers:
            return "notSubscribed"
        subscribers.discard(conn)
        return "unsubscribed"

    def disconnect(self, conn: Connection) -> None:
        self.connections.discard(conn)
        for subscribers in self._subscribers.values():
            subscribers.discard(conn)

    async def notified(self) -> None:
        """Wait until the notifications of every write reported so far have been sent."""
        await self._notifier.drained()

    # ------------------------------------------------------------------ the search index

    def warm_search(self) -> None:
        """Once a client may search (it opted in to the experimental API): keep the store's
        full-text index up to date as threads are written, and bring it up to date in the
        background now, so the first ``thread/search`` does not index the whole store. Done once
        per server; a search still catches up whatever this has not reached yet."""
        if self._search_catch_up is not None or not getattr(self.store, "searchable", False):
            return
        self._stop_search_index = self.store.keep_search_index()
        self._search_catch_up = asyncio.get_running_loop().create_task(self._catch_up(), name="search-catch-up")

    async def _catch_up(self) -> None:
        started = time.perf_counter()
        try:
            count = await self.store.catch_up_search(width=1)  # one thread at a time: requests come first
        except RolloutError as exc:  # derived data: the next search catches up itself
            log.warning("search index not brought up to date in the background: %s", exc)
            return
        log.info("search index: %d threads indexed in %.1f s", count, time.perf_counter() - started)

    # ------------------------------------------------------------------ lifetime

    async def aclose(self, timeout: float = 10.0) -> None:
        """Refuse new requests, let in-flight ones finish (up to ``timeout``), drop every client."""
        self.draining = True
        pending = {task for conn in self.connections for task in conn._in_flight}
        if pending:
            _, late = await asyncio.wait(pending, timeout=timeout)
            for task in late:
                task.cancel()
        if self._search_catch_up is not None:
            self._search_catch_up.cancel()
            await asyncio.gather(self._search_catch_up, return_exceptions=True)
        if self._stop_search_index is not None:
            self._stop_search_index()
        await self._notifier.aclose()
        self._unsubscribe()
        for conn in list(self.connections):
            conn.close()
