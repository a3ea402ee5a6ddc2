"""Backends under test and small line builders shared by the store tests.

``BACKENDS`` is the one list of stores the contract suite runs against: add a
backend by adding one entry (a factory taking pytest's ``tmp_path``). The PostgreSQL
entries open a fresh schema each, dropped after the test; they skip, saying why, when
no server answers (see :mod:`tests.store.pg`).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rollout import events as ev
from rollout.codec import encode_line
from store import MemoryStore, SqliteStore, Store, Tuning
from store.files import FileStore
from store.sqlite.reader import Reader

from . import pg

#: A tuning that packs, splits blobs, trains a dictionary and snapshots after a handful of lines.
TINY = Tuning(pack_lines=3, chunk_lines=3, chunk_bytes=2048, blob_min=256, dictionary_after=16 * 1024,
              dictionary_size=2048, snapshot_every=4, cached_threads=2)

#: Schemas the PostgreSQL backends made during the current test (dropped after it).
_SCHEMAS: list[str] = []


def postgres(tmp: Path, tuning: Tuning | None = None) -> Any:
    """A ``PostgresStore`` on a fresh schema of the test server (skips, saying why, without one)."""
    reason = pg.unavailable()
    if reason is not None:
        pytest.skip(reason)
    from store import PostgresStore

    schema = pg.new_schema()
    _SCHEMAS.append(schema)
    return PostgresStore.open(pg.DSN, schema=schema, tuning=tuning, application_name=f"rollout-test-{schema}")


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The ``(lo, hi)`` ranges of stored lines SqliteStore readers decode (``Reader.lines``), as they happen."""
    ranges: list[tuple[int, int]] = []
    original = Reader.lines

    def spy(self: Reader, row: Any, lo: int, hi: int) -> list[ev.Line]:
        ranges.append((lo, hi))
        return original(self, row, lo, hi)

    monkeypatch.setattr(Reader, "lines", spy)
    return ranges


@pytest.fixture(autouse=True)
def _drop_test_schemas() -> Iterator[None]:
    yield
    while _SCHEMAS:
        pg.drop(_SCHEMAS.pop())


BACKENDS: dict[str, Callable[[Path], contextlib.AbstractAsyncContextManager[Any]]] = {
    "memory": lambda tmp: MemoryStore.open(),
    "sqlite": lambda tmp: SqliteStore.open(tmp / "threads.db"),
    "sqlite-tiny": lambda tmp: SqliteStore.open(tmp / "tiny.db", tuning=TINY),
    "files": lambda tmp: FileStore.open(tmp / "codex-home"),
    "postgres": postgres,
    "postgres-tiny": lambda tmp: postgres(tmp, TINY),
}


@pytest.fixture(params=list(BACKENDS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Every backend in turn, opened empty."""
    async with BACKENDS[request.param](tmp_path) as opened:
        yield opened


# --------------------------------------------------------------------------- line builders


def stamp(second: int = 0) -> str:
    """A rollout timestamp ``second`` seconds after 2026-06-01T10:00:00Z."""
    minutes, seconds = divmod(second, 60)
    return f"2026-06-01T10:{minutes % 60:02d}:{seconds:02d}.000Z"


def meta(**fields: Any) -> ev.SessionMeta:
    """Session metadata with the usual required fields filled in."""
    base = dict(timestamp=stamp(), cwd="/work", originator="codex_cli_rs", cli_version="0.140.0",
                source="cli", model_provider="openai")
    return ev.SessionMeta(**{**base, **fields})


def event(payload: Any, second: int = 1) -> ev.EventMsgLine:
    """An ``event_msg`` line."""
    return ev.EventMsgLine(timestamp=stamp(second), payload=payload)


def user(text: str) -> list[ev.Line]:
    """The user prompt as Codex writes it: response item, then ``user_message`` event."""
    item = ev.Message(role="user", content=[ev.InputText(text=text)])
    return [ev.ResponseItemLine(timestamp=stamp(2), payload=item), event(ev.UserMessageEvent(message=text))]


def turn(turn_id: str, prompt: str, answer: str = "done", *, end: str = "complete") -> list[ev.Line]:
    """One explicit turn; ``end`` is ``complete``, ``abort`` or ``open`` (no end yet)."""
    lines: list[ev.Line] = [event(ev.TaskStartedEvent(turn_id=turn_id, started_at=1_780_000_000))]
    lines += user(prompt)
    lines.append(event(ev.AgentMessageEvent(message=answer)))
    if end == "complete":
        lines.append(event(ev.TaskCompleteEvent(turn_id=turn_id, last_agent_message=answer)))
    elif end == "abort":
        lines.append(event(ev.TurnAbortedEvent(turn_id=turn_id, reason="interrupted")))
    return lines


def raw(lines: list[ev.Line]) -> list[bytes]:
    """The stored bytes of lines."""
    return [encode_line(line) for line in lines]


def sql(path: Path, query: str, *args: object) -> list[tuple]:
    """Run one query on a database file behind the store's back (tests only)."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            return conn.execute(query, args).fetchall()
    finally:
        conn.close()
