"""`rollout serve` over stdio, driven by the same client code as the real Codex app-server."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .codex import AppServer

ROOT = Path(__file__).resolve().parents[2]


def engine_server(home: str | os.PathLike[str], *, experimental: bool = False) -> AppServer:
    """``rollout serve --codex-home HOME`` from this checkout, as an :class:`AppServer`."""
    code = "from rollout.cli.main import entry; entry()"
    return AppServer(home, experimental=experimental, env={"PYTHONPATH": str(ROOT)},
                     command=[sys.executable, "-c", code, "serve", "--codex-home", str(home)])
