"""Group commit: concurrent writes share batches; per-item and whole-batch failures reach their callers."""

from __future__ import annotations

import asyncio

import pytest

from rollout.errors import Conflict, InvalidInput, StoreError
from store.postgres.commit import GroupCommit
from store.postgres.schema import channel
from store.postgres.writer import write_batch

from .conftest import write
from .test_writer import new_id


class Recorder:
    """A ``write`` that records its batches and answers from a rule."""

    def __init__(self, answer=lambda item: item * 2, gate: asyncio.Event | None = None) -> None:
        self.batches: list[list[int]] = []
        self.answer = answer
        self.gate = gate

    async def __call__(self, items: list[int]) -> list[object]:
        self.batches.append(items)
        if self.gate is not None:
            await self.gate.wait()
        return [self.answer(item) for item in items]


async def test_concurrent_submits_share_one_batch():
    """Callers that submit in the same loop iteration go out together, each with its own result."""
    recorder = Recorder()
    commit = GroupCommit(recorder)
    assert await asyncio.gather(*(commit.submit(i) for i in range(10))) == [i * 2 for i in range(10)]
    assert recorder.batches == [list(range(10))]


async def test_writes_arriving_during_a_batch_wait_for_the_next_one():
    """While a batch is in flight, new items queue; they leave together once it is done."""
    gate = asyncio.Event()
    recorder = Recorder(gate=gate)
    commit = GroupCommit(recorder)
    first = asyncio.ensure_future(commit.submit(0))
    await asyncio.sleep(0.01)
    later = [asyncio.ensure_future(commit.submit(i)) for i in range(1, 6)]
    await asyncio.sleep(0.01)
    gate.set()
    await asyncio.gather(first, *later)
    assert recorder.batches == [[0], [1, 2, 3, 4, 5]]


async def test_max_batch_splits_a_long_queue():
    """No batch holds more than ``max_batch`` items."""
    recorder = Recorder()
    commit = GroupCommit(recorder, max_batch=4)
    await asyncio.gather(*(commit.submit(i) for i in range(10)))
    assert [len(b) for b in recorder.batches] == [4, 4, 2]


async def test_a_per_item_error_reaches_only_its_caller():
    """An exception in the results is raised to that caller; the others get their values."""
    commit = GroupCommit(Recorder(answer=lambda i: Conflict("t", i, 0) if i == 1 else i))
    results = await asyncio.gather(*(commit.submit(i) for i in range(3)), return_exceptions=True)
    assert results[0] == 0 and results[2] == 2 and isinstance(results[1], Conflict)


async def test_a_failed_batch_fails_every_caller_in_it():
    """If ``write`` raises, each caller of that batch gets a StoreError of its own."""

    async def broken(items: list[int]) -> list[object]:
        raise StoreError("lost the connection")

    commit = GroupCommit(broken)
    results = await asyncio.gather(*(commit.submit(i) for i in range(3)), return_exceptions=True)
    assert all(isinstance(r, StoreError) and "lost the connection" in str(r) for r in results)
    assert len({id(r) for r in results}) == 3


async def test_cancelled_callers_are_dropped_before_their_batch_leaves():
    """A caller cancelled while queued writes nothing."""
    gate = asyncio.Event()
    recorder = Recorder(gate=gate)
    commit = GroupCommit(recorder)
    first = asyncio.ensure_future(commit.submit(0))
    await asyncio.sleep(0.01)
    gone = asyncio.ensure_future(commit.submit(1))
    kept = asyncio.ensure_future(commit.submit(2))
    await asyncio.sleep(0)
    gone.cancel()
    gate.set()
    assert await asyncio.gather(first, kept) == [0, 4]
    assert recorder.batches == [[0], [2]]


async def test_close_commits_what_is_queued_then_refuses():
    """``close`` waits for queued items; later submits are refused."""
    recorder = Recorder()
    commit = GroupCommit(recorder)
    pending = [asyncio.ensure_future(commit.submit(i)) for i in range(3)]
    await asyncio.sleep(0)
    await commit.close()
    assert [p.result() for p in pending] == [0, 2, 4]
    with pytest.raises(StoreError, match="closed"):
        await commit.submit(9)


def test_bad_sizes_are_refused():
    """Batch size and in-flight count are at least 1."""
    with pytest.raises(InvalidInput):
        GroupCommit(Recorder(), max_batch=0)


async def test_producers_on_postgres_share_commits(db):
    """64 concurrent writes to 64 threads go out in far fewer statements than writes."""

    async def send(writes: list[object]) -> list[object]:
        return await db.write(write_batch, writes, channel(db.schema))

    commit = GroupCommit(send)
    results = await asyncio.gather(*(commit.submit(write(new_id(), None, 1, (1, 1, b"m"))) for _ in range(64)))
    assert all(r.applied for r in results)
    assert commit.batches < 64
