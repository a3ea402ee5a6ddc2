"""Random start/append/fork/rollback/archive/delete sequences: every backend reads what MemoryStore reads."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, rule

from rollout import events as ev
from rollout.codec import decode_line, encode_line
from store import FileStore, MemoryStore, SqliteStore

from . import pg
from .conftest import TINY, event, meta, turn, user

_EXTRA = decode_line(b'{"timestamp":"2026-06-01T10:00:01.000Z","type":"event_msg","payload":{"type":"agent_message","message":"x","new":1}}')
_PIECES = st.one_of(
    st.builds(lambda tid, end: turn(tid, f"do {tid}", end=end),
              st.sampled_from(["t-1", "t-2", "t-3"]), st.sampled_from(["complete", "abort", "open"])),
    st.just(user("implicit prompt")),
    st.just([event(ev.AgentMessageEvent(message="reply"))]),
    st.just([event(ev.TokenCountEvent())]),
    st.just([event(ev.TaskCompleteEvent(turn_id="t-2"))]),
    st.just([event(ev.ThreadRolledBackEvent(num_turns=1))]),
    st.just([_EXTRA]),
)
_CHUNKS = st.lists(_PIECES, min_size=1, max_size=3).map(lambda pieces: [line for piece in pieces for line in piece])
_FIELDS = ("preview", "name", "archived", "last_seq", "cwd", "source", "model_provider", "git_info")


def _outcome(loop: asyncio.AbstractEventLoop, call: Any) -> Any:
    try:
        return loop.run_until_complete(call)
    except Exception as exc:  # compared by type against the oracle
        return type(exc)


class StoreMachine(RuleBasedStateMachine):
    """Drives a MemoryStore (the oracle) and another backend in lockstep (``self.sql``: the other one)."""

    threads = Bundle("threads")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = tempfile.mkdtemp(prefix="store-stateful-")
        self.sql = self.loop.run_until_complete(self.backend(Path(self.folder)))
        self.mem = self.loop.run_until_complete(MemoryStore.open())
        self.ids: dict[str, str] = {}  # backend id -> memory id

    async def backend(self, folder: Path) -> Any:
        return await SqliteStore.open(folder / "s.db", tuning=TINY)

    def teardown(self) -> None:
        self.loop.run_until_complete(self.sql.close())
        self.loop.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def both(self, method: str, pair: tuple[str, str] | None, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        mem_args = args if pair is None else (pair[0], *args)
        sql_args = args if pair is None else (pair[1], *args)
        got = (_outcome(self.loop, getattr(self.mem, method)(*mem_args, **kwargs)),
               _outcome(self.loop, getattr(self.sql, method)(*sql_args, **kwargs)))
        if isinstance(got[0], type) or isinstance(got[1], type):
            assert got[0] == got[1], f"{method}: memory gave {got[0]!r}, sqlite gave {got[1]!r}"
        return got

    # ------------------------------------------------------------------ rules

    @rule(target=threads, cwd=st.sampled_from(["/a", "/b"]))
    def start(self, cwd: str) -> tuple[str, str]:
        mem, sql = self.both("start_thread", None, meta(cwd=cwd))
        self.ids[sql.id] = mem.id
        return mem.id, sql.id

    @rule(pair=threads, lines=_CHUNKS, guard=st.sampled_from(["none", "current", "stale"]),
          key=st.none() | st.sampled_from(["k1", "k2"]))
    def append(self, pair: tuple[str, str], lines: list[ev.Line], guard: str, key: str | None) -> None:
        expected = None
        if guard != "none":
            info = _outcome(self.loop, self.mem.info(pair[0]))
            expected = 0 if guard == "stale" or isinstance(info, type) else info.last_seq
        mem, sql = self.both("append", pair, lines, expected_seq=expected, idempotency_key=key)
        assert mem == sql

    @rule(target=threads, pair=threads, at_turn=st.none() | st.integers(-2, 3) | st.sampled_from(["t-1", "t-3"]))
    def fork(self, pair: tuple[str, str], at_turn: int | str | None) -> Any:
        mem, sql = self.both("fork", pair, at_turn=at_turn)
        if isinstance(mem, type):
            return multiple()
        self.ids[sql.id] = mem.id
        return mem.id, sql.id

    @rule(target=threads, pair=threads, at_turn=st.none() | st.just(-1))
    def fork_mid_turn(self, pair: tuple[str, str], at_turn: int | None) -> Any:
        self.both("append", pair, turn("t-open", "unfinished", end="open"))
        return self.fork(pair, at_turn)

    @rule(pair=threads, num_turns=st.integers(0, 3))
    def rollback(self, pair: tuple[str, str], num_turns: int) -> None:
        mem, sql = self.both("rollback", pair, num_turns)
        if not isinstance(mem, type):
            assert mem.turns == sql.turns

    @rule(pair=threads, name=st.sampled_from(["alpha", "  beta ", ""]))
    def set_name(self, pair: tuple[str, str], name: str) -> None:
        self.both("set_name", pair, name)

    @rule(pair=threads, method=st.sampled_from(["archive", "unarchive", "delete"]))
    def lifecycle(self, pair: tuple[str, str], method: str) -> None:
        self.both(method, pair)

    # ------------------------------------------------------------------ invariants

    @invariant()
    def every_thread_reads_the_same(self) -> None:
        for sql_id, mem_id in self.ids.items():
            mem, sql = self.both("info", (mem_id, sql_id))
            if isinstance(mem, type):
                continue
            assert {f: getattr(mem, f) for f in _FIELDS} == {f: getattr(sql, f) for f in _FIELDS}
            assert mem.forked_from_id == self.ids.get(sql.forked_from_id, sql.forked_from_id)
            mem_lines, sql_lines = self.both("read_lines", (mem_id, sql_id))
            assert self._plain(mem_lines) == self._plain(sql_lines, self.ids)
            mem_thread, sql_thread = self.both("read", (mem_id, sql_id))
            assert mem_thread.turns == sql_thread.turns

    @invariant()
    def listing_holds_the_same_threads(self) -> None:
        mem, sql = self.both("list", None, limit=1000, archived=None, source=[], model_provider=[])
        assert sorted(t.id for t in mem.data) == sorted(self.ids[t.id] for t in sql.data)
        ids, cursor = [], None
        while True:
            page = self.loop.run_until_complete(self.sql.list(limit=2, cursor=cursor, archived=None, source=[],
                                                              model_provider=[]))
            ids += [t.id for t in page.data]
            if not (cursor := page.next_cursor):
                break
        assert ids == [t.id for t in sql.data]

    @staticmethod
    def _plain(lines: list[ev.Line], ids: dict[str, str] | None = None) -> list[str]:
        """Lines without write timestamps, with SQLite's thread ids mapped to the oracle's."""
        out = []
        for line in lines:
            data = msgspec.json.decode(encode_line(line))
            data.pop("timestamp", None)
            if data.get("type") == "session_meta":
                data["payload"].pop("timestamp", None)
            text = msgspec.json.encode(data).decode()
            for sql_id, mem_id in (ids or {}).items():
                text = text.replace(sql_id, mem_id)
            out.append(text)
        return out


class FileMachine(StoreMachine):
    """The same sequences on a FileStore over a fresh Codex home."""

    async def backend(self, folder: Path) -> Any:
        return await FileStore.open(folder / "home", refresh_interval=0)


class PostgresMachine(StoreMachine):
    """The same sequences on a PostgresStore (small tuning: merges, blobs, snapshots) in a fresh schema."""

    async def backend(self, folder: Path) -> Any:
        from store import PostgresStore

        self.schema = pg.new_schema()
        return await PostgresStore.open(pg.DSN, schema=self.schema, tuning=TINY)

    def teardown(self) -> None:
        try:
            super().teardown()
        finally:
            pg.drop(self.schema)


StoreMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
PostgresMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=25, deadline=None)
FileMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=25, deadline=None)
test_sqlite_store_matches_the_memory_oracle = StoreMachine.TestCase
test_file_store_matches_the_memory_oracle = FileMachine.TestCase
test_postgres_store_matches_the_memory_oracle = pytest.mark.skipif(
    pg.unavailable() is not None, reason=str(pg.unavailable()))(PostgresMachine.TestCase)
