"""Fixtures for the serve tests: a server over every backend, and connected clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from serve import AppServer

from ..store.conftest import BACKENDS
from .harness import Client

SERVE_BACKENDS = ("memory", "sqlite", "files")


@pytest.fixture(params=SERVE_BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    """An empty store of each backend in turn."""
    async with BACKENDS[request.param](tmp_path) as opened:
        yield opened


@pytest.fixture
async def server(store: Any) -> AsyncIterator[AppServer]:
    srv = AppServer(store)
    yield srv
    await srv.aclose()


@pytest.fixture
def connect(server: AppServer) -> Callable[..., Any]:
    """``await connect()``: a new initialized client of the server."""

    async def make(**options: Any) -> Client:
        return await Client(server, **options).start()

    return make
