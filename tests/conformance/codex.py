"""The real Codex app-server as a test oracle: find the binary, run it over stdio, talk JSON-RPC.

Codex's app-server speaks JSON-RPC without the ``"jsonrpc"`` field, one JSON object
per line. :class:`AppServer` starts ``codex app-server`` for one ``CODEX_HOME``,
performs the ``initialize``/``initialized`` handshake, and offers ``request`` and
``notify``; server-to-client requests (a dynamic tool call, an approval) are
answered by a callback. Notifications are collected in ``notifications``.

The binary is found through ``$CODEX_BIN``, else the pinned npm install that
``.ci/run`` makes (``tests/conformance/install-codex.sh``). Tests that need it
use :func:`require_codex`, which skips with the reason when it is absent.

Must not import: the engine's packages (this is the oracle's side).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CODEX_VERSION = "0.171.0"
_VENDOR = "node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex"
#: where install-codex.sh puts the pinned package (the same place as ../shared/oracle/install-codex.sh)
INSTALL_DIR = Path(os.environ.get("CODEX_INSTALL_DIR", Path.home() / ".cache" / f"codex-{CODEX_VERSION}"))


def codex_binary() -> Path | None:
    """The Codex binary to test against, or None when there is none."""
    override = os.environ.get("CODEX_BIN")
    if override:
        return Path(override) if Path(override).is_file() else None
    candidate = INSTALL_DIR / _VENDOR
    return candidate if candidate.is_file() else None


def require_codex() -> Path:
    """The binary, or skip the calling test saying why there is none."""
    binary = codex_binary()
    if binary is None:
        where = os.environ.get("CODEX_BIN") or INSTALL_DIR / _VENDOR
        pytest.skip(
            f"the real Codex {CODEX_VERSION} binary is not installed (looked at {where}); "
            "run tests/conformance/install-codex.sh or set CODEX_BIN"
        )
    return binary


class CodexError(RuntimeError):
    """The app-server exited, or did not answer in time."""


ServerRequestHandler = Callable[[dict[str, Any]], "dict[str, Any] | None"]


class AppServer:
    """``codex app-server`` over stdio for one Codex home.

    Args:
        home: the ``CODEX_HOME`` (created if missing).
        experimental: opt in to the experimental API in ``initialize``.
        env: extra environment variables for the server.
        on_server_request: answers a server-to-client request with a result
            dict; returning None declines it with a JSON-RPC error.
        command: run this instead of ``codex app-server`` (another server of the
            same protocol, e.g. ``rollout serve``), driven by the same client code.
    """

    def __init__(self, home: str | os.PathLike[str], *, experimental: bool = False,
                 env: dict[str, str] | None = None, on_server_request: ServerRequestHandler | None = None,
                 args: list[str] | None = None, command: list[str] | None = None) -> None:
        argv = command or [str(require_codex()), "app-server", *(args or [])]
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        environment = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
        environment.update({"CODEX_HOME": str(self.home), "RUST_LOG": "warn"}, **(env or {}))
        log = ".stderr.log" if command is None else ".server-stderr.log"
        self._stderr = open(self.home / log, "ab")  # noqa: SIM115 -- closed in close()
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=environment, cwd=self.home,
        )
        self.on_server_request = on_server_request
        self.notifications: list[dict[str, Any]] = []
        self.server_requests: list[dict[str, Any]] = []
        self._inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self._send_lock = threading.Lock()
        self._next_id = 0
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        reply = self.request("initialize", {
            "clientInfo": {"name": "rollout-engine-tests", "title": "rollout-engine tests", "version": "0"},
            "capabilities": {"experimentalApi": experimental},
        })
        if "error" in reply:
            self.close()
            raise CodexError(f"initialize failed: {reply['error']}")
        self.init_result = reply["result"]
        self.notify("initialized")

    # ------------------------------------------------------------------ wire

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                self._inbox.put(json.loads(raw))
            except ValueError:
                self._inbox.put({"_unparsed": raw.decode("utf-8", "replace")})
        self._inbox.put({"_eof": True})

    def send(self, message: dict[str, Any]) -> None:
        """Write one message (a dict, sent as one JSON line)."""
        self.send_raw(json.dumps(message).encode())

    def send_raw(self, data: bytes) -> None:
        """Write raw bytes plus a newline (for malformed-input probes)."""
        assert self.proc.stdin is not None
        with self._send_lock:
            self.proc.stdin.write(data + b"\n")
            self.proc.stdin.flush()

    def notify(self, method: str, params: Any = None) -> None:
        """Send a notification."""
        message: dict[str, Any] = {"method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def request(self, method: str, params: Any = None, *, timeout: float = 120) -> dict[str, Any]:
        """Send a request and wait for its reply (``{"id", "result"}`` or ``{"id", "error"}``)."""
        self._next_id += 1
        request_id = self._next_id
        message: dict[str, Any] = {"id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self.wait_reply(request_id, timeout=timeout, what=method)

    def wait_reply(self, request_id: Any, *, timeout: float = 120, what: str = "request") -> dict[str, Any]:
        """Wait for the reply to ``request_id``, handling what arrives meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            message = self._get(deadline, what)
            if message.get("id") == request_id and ("result" in message or "error" in message):
                return message
            self._dispatch(message)

    def wait_notification(self, method: str, *, timeout: float = 120,
                          where: Callable[[dict[str, Any]], bool] | None = None,
                          since: int | None = None) -> dict[str, Any]:
        """Wait for (and return) the first notification ``method`` matching ``where``.

        ``since`` is an index into ``notifications`` to search from (take ``len(notifications)``
        before the request that causes it, so one arriving with the reply is not missed);
        by default only notifications arriving after the call count.
        """
        deadline = time.monotonic() + timeout
        seen = len(self.notifications) if since is None else since
        while True:
            for note in self.notifications[seen:]:
                if note.get("method") == method and (where is None or where(note)):
                    return note
            seen = len(self.notifications)
            self._dispatch(self._get(deadline, method))

    def drain(self, seconds: float = 0.3) -> None:
        """Handle whatever arrives within ``seconds``."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self._dispatch(self._inbox.get(timeout=left))
            except queue.Empty:
                return

    def _get(self, deadline: float, what: str) -> dict[str, Any]:
        left = deadline - time.monotonic()
        try:
            message = self._inbox.get(timeout=max(left, 0.001))
        except queue.Empty:
            raise CodexError(f"{what}: no answer from codex app-server in time") from None
        if message.get("_eof"):
            raise CodexError(f"{what}: codex app-server exited (status {self.proc.poll()}); see {self.home}/.stderr.log")
        return message

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "method" in message and "id" in message:
            self.server_requests.append(message)
            result = self.on_server_request(message) if self.on_server_request else None
            if result is None:
                self.send({"id": message["id"], "error": {"code": -32601, "message": "declined by the test client"}})
            else:
                self.send({"id": message["id"], "result": result})
        elif "method" in message:
            self.notifications.append(message)

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        """Close stdin and wait for the server to exit (terminate, then kill, if it lingers)."""
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._pump_thread.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr.close()

    def __enter__(self) -> AppServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
