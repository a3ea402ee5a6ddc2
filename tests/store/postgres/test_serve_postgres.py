"""Several app servers over one PostgreSQL database: each tells its clients what the others did."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from serve import AppServer
from store import PostgresStore

from ...serve.harness import Client

ROOT = Path(__file__).resolve().parents[3]
INIT = {"id": 0, "method": "initialize", "params": {"clientInfo": {"name": "t", "version": "0"}}}


async def heard(client: Client, method: str) -> None:
    for _ in range(200):
        if method in client.methods():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{method} never arrived; got {client.methods()}")


async def test_a_client_of_one_server_hears_what_a_client_of_another_did(dsn, schema):
    """thread/started, thread/name/updated and thread/archived cross from server B to A's client."""
    async with PostgresStore.open(dsn, schema=schema) as one, PostgresStore.open(dsn, schema=schema) as two:
        a, b = AppServer(one), AppServer(two)
        try:
            watcher, actor = await Client(a).start(), await Client(b).start()
            thread = (await actor.call("thread/start", {"cwd": "/w"}))["thread"]["id"]
            await heard(watcher, "thread/started")
            await actor.call("thread/name/set", {"threadId": thread, "name": "from b"})
            await heard(watcher, "thread/name/updated")
            await actor.call("thread/archive", {"threadId": thread})
            await heard(watcher, "thread/archived")
            listed = await watcher.call("thread/list", {"archived": True})
            assert [(t["id"], t["name"]) for t in listed["data"]] == [(thread, "from b")]
        finally:
            await a.aclose()
            await b.aclose()


def test_rollout_serve_postgres_answers_over_stdio(dsn, schema):
    """`rollout serve --postgres DSN`: a thread started by one process is read by another."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), ROLLOUT_PG_SCHEMA=schema)
    code = "from rollout.cli.main import entry; entry()"

    def serve(*requests: dict) -> list[dict]:
        proc = subprocess.run([sys.executable, "-c", code, "serve", "--postgres", dsn],
                              input="".join(json.dumps(r) + "\n" for r in (INIT, *requests)), env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return [json.loads(line) for line in proc.stdout.splitlines()]

    started = next(r for r in serve({"id": 1, "method": "thread/start", "params": {"cwd": "/w"}}) if r.get("id") == 1)
    thread = started["result"]["thread"]["id"]
    read = next(r for r in serve({"id": 1, "method": "thread/read", "params": {"threadId": thread}})
                if r.get("id") == 1)
    assert read["result"]["thread"]["id"] == thread
