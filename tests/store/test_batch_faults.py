"""Faults inside SQLite's group commit: an error at each step of a batch of several callers.

The writer's test seam (``Writer.on_step``) raises at one step: before BEGIN, after a
command in the middle of the batch, before COMMIT, after COMMIT (the WAL checkpoint).
Every caller must get either success with its lines durable, or a ``rollout.errors``
error with nothing of its lines written; the next batch must work; after reopening,
``integrity_check`` is ok and every thread exports byte-exact.
"""

from __future__ import annotations

import asyncio
import errno
import sqlite3

import pytest

from rollout.codec import encode_line
from rollout.errors import RolloutError, StoreError
from store import SqliteStore

from .conftest import meta, sql, turn

THREADS = 4
FAULTS = {
    "disk I/O error": lambda: sqlite3.OperationalError("disk I/O error"),
    "database or disk is full": lambda: sqlite3.OperationalError("database or disk is full"),
    "EIO": lambda: OSError(errno.EIO, "Input/output error"),
    "a bug": lambda: RuntimeError("unexpected"),
}
#: what the callers of the failed batch see: everything before COMMIT loses the batch, after it nothing
FAILS = {"begin": True, "command": True, "commit": True, "checkpoint": False}


class Fault:
    """Raises ``make()`` once, at the ``nth`` time ``step`` is reached; remembers each batch's steps."""

    def __init__(self, step: str, make, *, nth: int = 1, rolls_back: bool = False) -> None:
        self.step, self.make, self.nth, self.rolls_back = step, make, nth, rolls_back
        self.seen = 0
        self.fired = False
        self.steps: list[str] = []

    def __call__(self, step: str, conn: sqlite3.Connection) -> None:
        self.steps.append(step)
        if self.fired or step != self.step:
            return
        self.seen += 1
        if self.seen == self.nth:
            self.fired = True
            if self.rolls_back and conn.in_transaction:  # as SQLite does on its own after some I/O errors
                conn.execute("ROLLBACK")
            raise self.make()


async def _fill(store: SqliteStore) -> dict[str, list[bytes]]:
    """Threads with a first turn each; returns each thread's exported bytes as lines."""
    ids = []
    for n in range(THREADS):
        info = await store.start_thread(meta(id=f"019e0000-0000-7000-8000-00000000fa0{n}"))
        await store.append(info.id, turn(f"t{n}", "first"))
        ids.append(info.id)
    return {t: (await store.export_rollout(t)).splitlines(keepends=True) for t in ids}


async def _batch(store: SqliteStore, expected: dict[str, list[bytes]], tag: str) -> list[object]:
    """One append per thread, all at once (they share one batch); records what succeeded."""
    appends = {t: turn(f"{tag}-{t[-1]}", f"{tag} prompt") for t in expected}
    outcomes = await asyncio.gather(
        *(store.append(t, lines, expected_seq=len(expected[t])) for t, lines in appends.items()),
        return_exceptions=True)
    for (thread_id, lines), outcome in zip(appends.items(), outcomes):
        if isinstance(outcome, int):
            expected[thread_id] += [encode_line(line) + b"\n" for line in lines]
    return outcomes


async def _check_durable(path, expected: dict[str, list[bytes]]) -> None:
    assert sql(path, "PRAGMA integrity_check") == [("ok",)]
    async with SqliteStore.open(path) as reopened:
        for thread_id, lines in expected.items():
            assert await reopened.export_rollout(thread_id) == b"".join(lines)
            assert (await reopened.info(thread_id)).last_seq == len(lines)


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("step", list(FAILS))
async def test_a_fault_at_each_step_of_a_batch_fails_it_whole_or_not_at_all(tmp_path, step, fault):
    """Four callers in one batch: all fail with a StoreError and nothing written, or (after COMMIT) all succeed."""
    path = tmp_path / "threads.db"
    async with SqliteStore.open(path) as store:
        expected = await _fill(store)
        before = {t: list(lines) for t, lines in expected.items()}
        sizes: list[int] = []
        run = store._commits._run
        store._commits._run = lambda commands: sizes.append(len(commands)) or run(commands)
        injected = Fault(step, FAULTS[fault], nth=2 if step == "command" else 1)  # mid-batch: after the 2nd
        store._writer.obj.on_step = injected
        outcomes = await _batch(store, expected, "faulty")
        assert injected.fired and sizes == [THREADS], (injected.steps, sizes)
        if FAILS[step]:
            assert all(isinstance(o, StoreError) for o in outcomes), outcomes
            for thread_id, outcome in zip(expected, outcomes):
                assert str(outcome).startswith(f"write batch failed ({path}, thread {thread_id}): "), outcome
            assert expected == before
        else:
            assert all(isinstance(o, int) for o in outcomes), outcomes
        for thread_id, lines in expected.items():  # as the store reads it now, before reopening
            assert (await store.info(thread_id)).last_seq == len(lines)
        store._writer.obj.on_step = None
        assert all(isinstance(o, int) for o in await _batch(store, expected, "next")), "the next batch failed"
    await _check_durable(path, expected)


@pytest.mark.parametrize("step", ["command", "commit"])
async def test_an_io_error_that_made_sqlite_roll_back_on_its_own_fails_the_batch_cleanly(tmp_path, step):
    """SQLite may end the transaction itself on an I/O error: the batch fails whole, the cache is not trusted."""
    path = tmp_path / "threads.db"
    async with SqliteStore.open(path) as store:
        expected = await _fill(store)
        before = {t: list(lines) for t, lines in expected.items()}
        store._writer.obj.on_step = Fault(step, FAULTS["disk I/O error"], rolls_back=True)
        outcomes = await _batch(store, expected, "faulty")
        assert all(isinstance(o, StoreError) for o in outcomes) and expected == before, outcomes
        store._writer.obj.on_step = None
        assert all(isinstance(o, int) for o in await _batch(store, expected, "next"))
        assert all(isinstance(o, int) for o in await _batch(store, expected, "again"))
    await _check_durable(path, expected)


async def test_faults_in_consecutive_batches_leave_every_caller_a_project_error(tmp_path):
    """Batch after batch failing at varied steps: every error is a rollout error and nothing half-written stays."""
    path = tmp_path / "threads.db"
    async with SqliteStore.open(path) as store:
        expected = await _fill(store)
        for round_, step in enumerate(["command", "begin", "commit", "command", "checkpoint", "commit"]):
            store._writer.obj.on_step = Fault(step, FAULTS["EIO"], nth=1 + round_ % 3 if step == "command" else 1)
            for outcome in await _batch(store, expected, f"r{round_}"):
                assert isinstance(outcome, int | RolloutError), repr(outcome)
        store._writer.obj.on_step = None
        assert all(isinstance(o, int) for o in await _batch(store, expected, "last"))
    await _check_durable(path, expected)
