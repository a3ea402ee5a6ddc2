"""PostgresStore in several processes at once: expected_seq, conflicts, forks and lists agree everywhere."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from store import PostgresStore

from ..conftest import meta

ROOT = Path(__file__).resolve().parents[3]
PROCESSES, TASKS, ROUNDS = 4, 8, 6


def spawn(dsn: str, schema: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.store.postgres.store_worker", dsn, schema, *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def outputs(children: list[subprocess.Popen[str]]) -> list[object]:
    done = [child.communicate(timeout=600) for child in children]
    assert all(child.returncode == 0 for child in children), [err[-2000:] for _, err in done]
    return [json.loads(out.splitlines()[-1]) for out, _ in done]


async def test_four_processes_of_eight_tasks_lose_duplicate_and_hide_nothing(dsn, schema):
    """Every append lands once at the seq it reported; every conflict is real and reported; no line is lost."""
    async with PostgresStore.open(dsn, schema=schema) as store:
        shared = (await store.start_thread(meta())).id
    results = outputs([spawn(dsn, schema, "append", shared, str(TASKS), str(ROUNDS)) for _ in range(PROCESSES)])
    landed = [tuple(x) for r in results for x in r["landed"]]
    conflicts = [tuple(x) for r in results for x in r["conflicts"]]
    async with PostgresStore.open(dsn, schema=schema) as store:
        texts = {}
        for thread_id in {t for t, _, _ in landed}:
            lines = await store.read_lines(thread_id)
            texts[thread_id] = [line.payload.message for line in lines[1:]]
    appends = PROCESSES * TASKS * ROUNDS
    assert len(landed) == 2 * appends
    assert len(texts[shared]) == appends and len(set(texts[shared])) == appends  # none lost, none twice
    for thread_id, text, seq in landed:  # each landed where it said, after the seq it expected
        assert texts[thread_id][seq - 2] == text
    for thread_id, text, expected, actual in conflicts:
        assert thread_id == shared and actual > expected  # only the shared thread is contended
        assert texts[shared][expected - 1] != text  # the seq it expected to follow was taken by another append
    assert conflicts, "4 x 8 tasks on one thread never conflicted: the test raced nothing"
    own = [t for t in texts if t != shared]
    assert len(own) == PROCESSES * TASKS and all(len(texts[t]) == ROUNDS for t in own)


async def test_forks_and_lists_read_the_same_from_every_process(dsn, schema):
    """Forks made in four processes, then every process lists and exports every thread: all answers agree."""
    async with PostgresStore.open(dsn, schema=schema) as store:
        source = (await store.start_thread(meta())).id
        await store.append(source, [*meta_lines()])
        await store.set_name(source, "shared")
    children = outputs([spawn(dsn, schema, "fork", source) for _ in range(PROCESSES)])
    seen = outputs([spawn(dsn, schema, "observe") for _ in range(PROCESSES)])
    assert all(view == seen[0] for view in seen)
    listed = {entry[0]: entry for entry in seen[0]}  # type: ignore[union-attr]
    assert set(listed) == {source, *children}
    async with PostgresStore.open(dsn, schema=schema) as store:
        for child in children:
            info = await store.info(child)
            # the source ends on a user message nothing completed: Codex's fork rule closes it with turn_aborted
            assert (info.forked_from_id, info.name, info.last_seq) == (source, "shared", 5)
            copied = await store.read_lines(child)
            assert copied[1:-1] == await store.read_lines(source)
            assert copied[-1].payload.type == "turn_aborted"


def meta_lines() -> list:
    from ..conftest import user

    return user("hello from the source")
