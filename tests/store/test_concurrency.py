"""Many tasks appending at once: no line lost or duplicated, conflicts reported, appends contiguous."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest

from rollout import events as ev
from rollout.errors import Conflict

from .conftest import event, meta

pytestmark = pytest.mark.asyncio

TASKS, THREADS, APPENDS = 50, 10, 5


def _marked(worker: int, number: int) -> list[ev.Line]:
    return [event(ev.AgentMessageEvent(message=f"w{worker}-a{number}-l{part}")) for part in range(2)]


async def test_50_tasks_appending_to_10_threads_with_expected_seq(store):
    """Every acknowledged append is stored exactly once, where it was acknowledged; stale ones conflict."""
    threads = [(await store.start_thread(meta())).id for _ in range(THREADS)]
    barrier = asyncio.Barrier(TASKS)
    acked: dict[str, dict[int, str]] = defaultdict(dict)
    conflicts = 0

    async def worker(number: int) -> None:
        nonlocal conflicts
        thread_id = threads[number % THREADS]
        seq = (await store.info(thread_id)).last_seq
        await barrier.wait()  # every task now holds the same expected seq for its thread
        done = 0
        while done < APPENDS:
            lines = _marked(number, done)
            try:
                seq = await store.append(thread_id, lines, expected_seq=seq)
            except Conflict as exc:
                conflicts += 1
                seq = exc.actual_seq
                continue
            acked[thread_id][seq - 1], acked[thread_id][seq] = (line.payload.message for line in lines)
            done += 1

    await asyncio.gather(*(worker(n) for n in range(TASKS)))
    assert conflicts >= TASKS - THREADS  # all but one task per thread lost the first race
    for thread_id in threads:
        stored = [line.payload.message for line in (await store.read_lines(thread_id))[1:]]
        assert len(stored) == len(set(stored)) == 2 * APPENDS * (TASKS // THREADS)
        assert {seq: stored[seq - 2] for seq in acked[thread_id]} == acked[thread_id]


async def test_concurrent_appends_without_expected_seq_stay_contiguous(store):
    """Unconditional concurrent appends all land, each one's lines next to each other."""
    info = await store.start_thread(meta())
    results = await asyncio.gather(*(store.append(info.id, _marked(n, 0)) for n in range(40)))
    stored = [line.payload.message for line in (await store.read_lines(info.id))[1:]]
    assert sorted(results) == list(range(3, 82, 2))
    for n, last in enumerate(results):
        assert stored[last - 3 : last - 1] == [f"w{n}-a0-l0", f"w{n}-a0-l1"]
