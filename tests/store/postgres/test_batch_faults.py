"""Faults inside PostgresStore's batch write (the seam ``store.postgres.writer.on_step``).

Four callers share one batch (one statement). A fault is injected just before the statement
(the server connection terminated, or the server refusing: disk full) or after the server
answered (the answer lost with the connection: committed, but the callers cannot know).
Every caller gets success with its lines stored, or a ``rollout.errors`` error; before the
statement nothing of a failed caller's lines is written; after it, the error says the write
is wholly committed or not at all, and a retry with the same idempotency key settles it
without writing twice. The next batch works, and every thread exports byte-exact.
"""

from __future__ import annotations

import asyncio

import pytest

from rollout.codec import encode_line
from rollout.errors import RolloutError, StoreError
from store import PostgresStore
from store.postgres import writer as pgwriter

from ..conftest import meta, turn
from .conftest import admin

asyncpg = pytest.importorskip("asyncpg", reason="asyncpg is not installed (pip install -e '.[postgres]')")
THREADS = 4


class Fault:
    """Runs ``action(conn)`` at ``step``, at most ``times`` times."""

    def __init__(self, step: str, action, times: int = 1) -> None:
        self.step, self.action, self.left = step, action, times

    async def __call__(self, step: str, conn) -> None:
        if step == self.step and self.left > 0:
            self.left -= 1
            await self.action(conn)


def terminating(dsn: str):
    async def action(conn) -> None:
        await admin(dsn, "SELECT pg_terminate_backend($1)", conn.get_server_pid())  # the statement then fails for real
    return action


async def disk_full(conn) -> None:
    raise asyncpg.exceptions.DiskFullError("could not extend file \"base/1/2\": No space left on device")


def reply_lost(dsn: str):
    async def action(conn) -> None:
        await admin(dsn, "SELECT pg_terminate_backend($1)", conn.get_server_pid())
        raise ConnectionResetError(104, "Connection reset by peer")
    return action


@pytest.fixture
async def store(dsn, schema, app_name, monkeypatch):
    sizes: list[int] = []
    real = pgwriter._run

    async def counted(conn, groups, channel):
        sizes.append(len(groups))
        return await real(conn, groups, channel)

    monkeypatch.setattr(pgwriter, "_run", counted)
    async with PostgresStore.open(dsn, schema=schema, application_name=app_name, listen=False) as opened:
        opened.batch_sizes = sizes
        yield opened


async def _fill(store) -> dict[str, list[bytes]]:
    found = {}
    for n in range(THREADS):
        info = await store.start_thread(meta(id=f"019e0000-0000-7000-8000-00000000fb0{n}"))
        await store.append(info.id, turn(f"t{n}", "first"))
        found[info.id] = (await store.export_rollout(info.id)).splitlines(keepends=True)
    return found


async def _batch(store, expected: dict[str, list[bytes]], tag: str, *, keyed: bool = False) -> list[object]:
    """One append per thread at once (one batch); records what succeeded."""
    appends = {t: turn(f"{tag}-{t[-1]}", f"{tag} prompt") for t in expected}
    outcomes = await asyncio.gather(*(
        store.append(t, lines, expected_seq=len(expected[t]), idempotency_key=f"{tag}-{t}" if keyed else None)
        for t, lines in appends.items()), return_exceptions=True)
    for (thread_id, lines), outcome in zip(appends.items(), outcomes):
        assert isinstance(outcome, int | RolloutError), repr(outcome)
        if isinstance(outcome, int):
            expected[thread_id] += [encode_line(line) + b"\n" for line in lines]
    return outcomes


async def _check(store, expected: dict[str, list[bytes]]) -> None:
    for thread_id, lines in expected.items():
        assert await store.export_rollout(thread_id) == b"".join(lines)


@pytest.mark.parametrize("fault", ["terminated", "disk full"])
async def test_a_failed_batch_statement_fails_every_caller_and_writes_nothing(store, dsn, monkeypatch, fault):
    """The statement fails (connection terminated under it, or refused every time): all four callers get a
    StoreError, no line of theirs is stored, the next batch lands."""
    expected = await _fill(store)
    before = {t: list(lines) for t, lines in expected.items()}
    action = terminating(dsn) if fault == "terminated" else disk_full
    monkeypatch.setattr(pgwriter, "on_step", Fault("statement", action, times=1 if fault == "terminated" else 99))
    store.batch_sizes.clear()
    outcomes = await _batch(store, expected, "faulty")
    assert store.batch_sizes[0] == THREADS, store.batch_sizes
    assert all(isinstance(o, StoreError) for o in outcomes), outcomes
    words = "lost the connection" if fault == "terminated" else "No space left on device"
    assert all(words in str(o) for o in outcomes), outcomes
    assert expected == before
    await _check(store, expected)
    monkeypatch.setattr(pgwriter, "on_step", None)
    assert all(isinstance(o, int) for o in await _batch(store, expected, "next"))
    await _check(store, expected)


async def test_a_statement_refused_once_is_retried_thread_by_thread(store, monkeypatch):
    """A refusal that is not a lost connection: each thread's writes are tried again alone and land."""
    expected = await _fill(store)
    monkeypatch.setattr(pgwriter, "on_step", Fault("statement", disk_full, times=1))
    store.batch_sizes.clear()
    outcomes = await _batch(store, expected, "retried")
    assert store.batch_sizes == [THREADS, *[1] * THREADS], store.batch_sizes
    assert all(isinstance(o, int) for o in outcomes), outcomes
    await _check(store, expected)


async def test_a_lost_answer_after_commit_is_reported_as_unknown_and_a_keyed_retry_settles_it(store, dsn, monkeypatch):
    """The server committed but the answer was lost: every caller hears 'wholly committed or not at all';
    each thread holds its whole append (never part of one); the same idempotency key returns the same seq."""
    expected = await _fill(store)
    before = {t: len(lines) for t, lines in expected.items()}
    monkeypatch.setattr(pgwriter, "on_step", Fault("reply", reply_lost(dsn)))
    outcomes = await _batch(store, expected, "lost", keyed=True)
    assert all(isinstance(o, StoreError) and "either wholly committed or not at all" in str(o) for o in outcomes), outcomes
    monkeypatch.setattr(pgwriter, "on_step", None)
    appended = len(turn("x", "y"))
    for thread_id in expected:  # the server did commit (the seam fires after its answer): wholly there
        assert (await store.info(thread_id)).last_seq == before[thread_id] + appended
    retried = await asyncio.gather(*(
        store.append(t, turn(f"lost-{t[-1]}", "lost prompt"), expected_seq=before[t], idempotency_key=f"lost-{t}")
        for t in expected))
    assert retried == [before[t] + appended for t in expected]
    for thread_id, lines in expected.items():
        lines += [encode_line(line) + b"\n" for line in turn(f"lost-{thread_id[-1]}", "lost prompt")]
    await _check(store, expected)
    assert all(isinstance(o, int) for o in await _batch(store, expected, "next"))
    await _check(store, expected)
