"""`rollout serve` over stdio, driven exactly like the real Codex app-server (same wire code).

:class:`EngineServer` reuses :class:`tests.conformance.codex.AppServer`'s wire methods
(``request``, ``notify``, ``drain``, ``close``) on a ``rollout serve --codex-home`` process,
so one client script drives both servers.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from .codex import AppServer, CodexError

ROOT = Path(__file__).resolve().parents[2]


class EngineServer(AppServer):
    """``rollout serve --codex-home HOME`` from this checkout, over stdio."""

    def __init__(self, home: str | os.PathLike[str], *, experimental: bool = False,
                 args: list[str] | None = None) -> None:
        self.home = Path(home)
        self._stderr = open(self.home / ".engine-stderr.log", "ab")  # noqa: SIM115 -- closed in close()
        code = "from rollout.cli.main import entry; entry()"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, "serve", "--codex-home", str(self.home), *(args or [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=self.home,
        )
        self.on_server_request = None
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
