"""SQLite's group commit: batches on the writer thread, joined in one loop iteration, pipelined after."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from rollout.errors import StoreError
from store.sqlite.group_commit import GroupCommit

WAIT = 10.0  # seconds a test waits for the writer thread before failing (never reached when it works)


class Writer:
    """A ``run`` that records its batches; the first one waits for ``release`` when ``hold`` is set."""

    def __init__(self, *, hold: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.release = threading.Event()
        self.started = threading.Event()
        self.second = threading.Event()
        self.hold = hold

    def __call__(self, commands: list[str]) -> list[tuple[bool, object]]:
        self.batches.append(list(commands))
        if len(self.batches) == 1:
            self.started.set()
            if self.hold:
                self.release.wait(WAIT)
        else:
            self.second.set()
        return [(not command.startswith("bad"), command.upper() if not command.startswith("bad")
                 else StoreError(command)) for command in commands]


@pytest.fixture
def executor():
    with ThreadPoolExecutor(1) as pool:
        yield pool


async def test_writes_of_one_loop_iteration_share_a_batch(executor):
    """Callers that queue in the same iteration go out together, each with its own result or error."""
    writer = Writer()
    commit = GroupCommit(executor, writer, max_batch=64)
    results = await asyncio.gather(commit.submit("a"), commit.submit("bad"), commit.submit("c"),
                                   return_exceptions=True)
    assert results[0] == "A" and isinstance(results[1], StoreError) and results[2] == "C"
    assert writer.batches == [["a", "bad", "c"]]


async def test_the_writer_takes_the_next_batch_while_the_loop_is_busy(executor):
    """Writes queued during a commit leave as soon as it ends, without waiting for the event loop."""
    writer = Writer(hold=True)
    commit = GroupCommit(executor, writer, max_batch=64)
    first = asyncio.ensure_future(commit.submit("a"))
    await asyncio.sleep(0)  # the first batch leaves at the end of this iteration
    assert await asyncio.to_thread(writer.started.wait, WAIT)
    later = [asyncio.ensure_future(commit.submit(name)) for name in ("b", "c")]
    await asyncio.sleep(0)  # the tasks queue their writes
    writer.release.set()
    # The loop is blocked here: only the writer thread can start the second batch.
    assert writer.second.wait(WAIT), writer.batches
    assert await first == "A" and await asyncio.gather(*later) == ["B", "C"]
    assert writer.batches == [["a"], ["b", "c"]]


async def test_heavy_writes_start_an_idle_writer_at_once(executor):
    """Writes that weigh ``eager_weight`` go to the writer before the loop iteration ends."""
    writer = Writer()
    commit = GroupCommit(executor, writer, max_batch=64, eager_weight=100)
    light = asyncio.get_running_loop().create_future()
    commit.queue("light", light, 60)
    assert not writer.started.wait(0.05)  # waits for the end of the iteration
    heavy = asyncio.get_running_loop().create_future()
    commit.queue("heavy", heavy, 60)  # 120 queued now
    assert writer.started.wait(WAIT), "the writer did not start within the iteration"
    assert await light == "LIGHT" and await heavy == "HEAVY"
    assert writer.batches == [["light", "heavy"]]


async def test_a_batch_takes_at_most_max_batch_and_cancelled_writes_are_left_out(executor):
    """A long queue is split into batches of ``max_batch``; a caller that gave up is not written."""
    writer = Writer()
    commit = GroupCommit(executor, writer, max_batch=2)
    futures = [asyncio.ensure_future(commit.submit(name)) for name in "abcde"]
    await asyncio.sleep(0)  # every task queued its write
    futures[1].cancel()
    assert await asyncio.gather(*futures[:1], *futures[2:]) == ["A", "C", "D", "E"]
    assert writer.batches == [["a", "c"], ["d", "e"]]


async def test_drain_waits_for_every_queued_write(executor):
    """``drain`` returns once what was queued (even without a waiting caller) has committed."""
    writer = Writer(hold=True)
    commit = GroupCommit(executor, writer, max_batch=64)
    commit.queue("a")
    commit.queue("b")
    draining = asyncio.ensure_future(commit.drain())
    assert await asyncio.to_thread(writer.started.wait, WAIT)
    commit.queue("c")
    assert not draining.done()
    writer.release.set()
    await asyncio.wait_for(draining, WAIT)
    assert writer.batches == [["a", "b"], ["c"]]


async def test_a_writer_bug_fails_its_batch_and_the_next_one_works(executor):
    """An exception escaping ``run`` becomes a StoreError for that batch's callers only."""
    calls = []

    def run(commands: list[str]) -> list[tuple[bool, object]]:
        calls.append(commands)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return [(True, command) for command in commands]

    commit = GroupCommit(executor, run, max_batch=64)
    with pytest.raises(StoreError, match="boom"):
        await commit.submit("a")
    assert await commit.submit("b") == "b"


async def test_two_drains_at_once_both_return(executor):
    """Concurrent ``drain`` calls (closing while a flush waits) both return once the queue is empty."""
    writer = Writer(hold=True)
    commit = GroupCommit(executor, writer, max_batch=64)
    commit.queue("a")
    first, second = asyncio.ensure_future(commit.drain()), asyncio.ensure_future(commit.drain())
    assert await asyncio.to_thread(writer.started.wait, WAIT)
    writer.release.set()
    await asyncio.wait_for(asyncio.gather(first, second), WAIT)
