"""PostgresStore under faults: a killed writer, a terminated connection, a restarted server, bad settings."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from rollout.errors import SchemaTooNew, StoreError
from store import PostgresStore
from store.postgres.schema import SCHEMA_VERSION

from ..conftest import meta, user
from .conftest import admin, terminate

ROOT = Path(__file__).resolve().parents[3]


async def until(check, what: str, seconds: float = 30.0) -> None:
    """Wait (polling) until ``check()`` is true."""
    for _ in range(int(seconds * 20)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


async def test_every_acknowledged_append_survives_a_sigkill_mid_batch(dsn, schema):
    """A writer killed while batches are in flight: whatever it acknowledged is stored, whole."""
    child = subprocess.Popen([sys.executable, "-m", "tests.store.postgres.store_worker", dsn, schema, "ack", "16"],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    acked: dict[str, int] = {}
    assert child.stdout is not None
    while len(acked) < 16 or sum(acked.values()) < 16 * 12:
        line = child.stdout.readline()
        if not line:
            raise AssertionError(f"the writer died: {child.communicate()[1]}")
        thread_id, seq = line.split()
        acked[thread_id] = max(acked.get(thread_id, 0), int(seq))
    child.send_signal(signal.SIGKILL)
    rest, _ = child.communicate()
    for line in rest.splitlines(keepends=True):  # acknowledged before the kill landed
        if not line.endswith("\n"):
            continue  # the kill cut this report short: its append is only checked as a whole one
        thread_id, seq = line.split()
        acked[thread_id] = max(acked.get(thread_id, 0), int(seq))
    async with PostgresStore.open(dsn, schema=schema) as store:
        for thread_id, seq in acked.items():
            lines = await store.read_lines(thread_id)
            assert len(lines) >= seq and (len(lines) - 1) % 2 == 0  # appends of two lines: never one of them
            texts = [line.payload.message for line in lines[1:]]
            assert texts == [f"{thread_id} {n // 2 + 1}" for n in range(len(texts))]


async def test_a_terminated_connection_fails_its_whole_batch_clearly_and_the_next_call_reconnects(dsn, schema):
    """Every caller of the batch in flight gets a clear StoreError, nothing of it is stored, later calls work."""
    app = f"rollout-test-{schema}"
    async with PostgresStore.open(dsn, schema=schema, application_name=app) as store:
        a, b = (await store.start_thread(meta())).id, (await store.start_thread(meta())).id
        import asyncpg

        blocker = await asyncpg.connect(dsn)
        tx = blocker.transaction()
        await tx.start()
        await blocker.execute(f"SELECT 1 FROM {schema}.threads WHERE thread_id = $1 FOR UPDATE", a)
        calls = [asyncio.ensure_future(store.append(t, user(f"line {i}"))) for i in range(6) for t in (a, b)]

        async def waiting() -> bool:  # the batch statement is in flight, blocked on the locked row
            rows = await admin(dsn, "SELECT 1 FROM pg_stat_activity WHERE application_name = $1 "
                               "AND wait_event_type = 'Lock'", app)
            return bool(rows)

        await until(waiting, "the batch to block on the locked row")
        assert await terminate(dsn, app) >= 1
        results = await asyncio.gather(*calls, return_exceptions=True)
        await tx.rollback()
        await blocker.close()
        assert all(isinstance(r, StoreError) and "lost the connection" in str(r) for r in results), results
        assert all("\n" not in str(r) for r in results)
        assert [(await store.info(t)).last_seq for t in (a, b)] == [1, 1]  # nothing half-written
        assert await store.append(a, user("after")) == 3  # the next call reconnects
        assert [line.payload.message for line in (await store.read_lines(a))[2:]] == ["after"]


async def test_the_store_recovers_when_every_backend_is_terminated(dsn, schema):
    """What a server restart does to connections, done by terminating them: the store carries on."""
    app = f"rollout-test-{schema}"
    async with PostgresStore.open(dsn, schema=schema, application_name=app) as store:
        thread_id = (await store.start_thread(meta())).id
        heard = []
        store.subscribe(heard.append)
        assert await terminate(dsn, app) >= 2  # the pool's and the change feed's
        assert (await store.info(thread_id)).last_seq == 1  # a read retries on a new connection
        assert await store.append(thread_id, user("after")) == 3
        async with PostgresStore.open(dsn, schema=schema) as other:
            await other.set_name(thread_id, "heard after the reset")

        async def told() -> bool:
            return any(change.kind == "named" for change in heard)

        await until(told, "the change feed to reconnect")


async def test_a_wrong_dsn_is_one_line_naming_host_and_database_without_the_password():
    """Nothing listens on port 1: the error names where, says why, and never shows the secret."""
    with pytest.raises(StoreError) as caught:
        await PostgresStore.open("postgresql://someone:hunter2secret@127.0.0.1:1/nowhere")
    message = str(caught.value)
    assert "127.0.0.1:1" in message and "'nowhere'" in message and "hunter2secret" not in message
    assert "\n" not in message


async def test_a_newer_schema_is_refused_with_schema_too_new(dsn, schema):
    """A schema migrated by a later rollout-engine is not opened (nor changed)."""
    async with PostgresStore.open(dsn, schema=schema):
        pass
    await admin(dsn, f"INSERT INTO {schema}.schema_migrations VALUES (99, 'from the future', 0)")
    with pytest.raises(SchemaTooNew):
        await PostgresStore.open(dsn, schema=schema)
    assert len(await admin(dsn, f"SELECT * FROM {schema}.schema_migrations")) == SCHEMA_VERSION + 1


def _restartable() -> str | None:
    if os.geteuid() != 0 or shutil.which("pg_ctlcluster") is None:
        return "restarting the server needs root and pg_ctlcluster"
    return None


@pytest.mark.slow
@pytest.mark.skipif(_restartable() is not None, reason=str(_restartable()))
async def test_the_store_recovers_from_a_server_restart(dsn, schema):
    """The machine's own server restarts under an open store: calls fail clearly while it is down, then work."""
    async with PostgresStore.open(dsn, schema=schema) as store:
        thread_id = (await store.start_thread(meta())).id
        restart = await asyncio.create_subprocess_exec(
            "pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _, err = await restart.communicate()
        assert restart.returncode == 0, err

        async def back() -> bool:
            try:
                await store.info(thread_id)
            except StoreError:
                return False
            return True

        await until(back, "the server to come back", seconds=60)
        assert await store.append(thread_id, user("after the restart")) == 3
        assert len(await store.read_lines(thread_id)) == 3
