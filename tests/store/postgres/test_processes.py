"""Writers in several processes: the database's compare-and-set keeps one thread's lines whole."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from store.postgres.writer import send

from .conftest import admin, write
from .worker import APPENDS

ROOT = Path(__file__).resolve().parents[3]
PROCESSES = 4


async def test_four_processes_appending_to_one_thread_lose_and_duplicate_nothing(dsn, schema, db):
    """Each seq is written exactly once, by whichever process won it; nobody's append is lost."""
    thread_id = str(uuid.uuid4())
    await send(db, [write(thread_id, None, 1, (1, 1, b"m"))])
    children = [subprocess.Popen([sys.executable, "-m", "tests.store.postgres.worker", dsn, schema, "cas", thread_id],
                                 cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(PROCESSES)]
    outputs = [child.communicate(timeout=300) for child in children]
    assert all(child.returncode == 0 for child in children), [err for _, err in outputs]
    rows = await admin(dsn, f"SELECT seq, last, data FROM {schema}.chunks WHERE thread_id = $1 ORDER BY seq",
                       thread_id)
    total = 1 + PROCESSES * APPENDS
    assert [(r["seq"], r["last"]) for r in rows] == [(s, s) for s in range(1, total + 1)]
    writers = [r["data"].split()[0] for r in rows[1:]]
    assert sorted(writers.count(pid) for pid in set(writers)) == [APPENDS] * PROCESSES
    assert all(r["data"].endswith(f" {r['seq']}".encode()) for r in rows[1:])
    state = await admin(dsn, f"SELECT last_seq, version FROM {schema}.threads WHERE thread_id = $1", thread_id)
    assert (state[0]["last_seq"], state[0]["version"]) == (total, 1 + PROCESSES * APPENDS)
