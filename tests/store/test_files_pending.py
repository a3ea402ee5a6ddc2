"""FileStore appends hold their index update back (store/files/pending.py): reads, close and a
timer write it; a crash before that is repaired from the file; other writers are noticed.
Also the store's worker thread (store/files/worker.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import store.files.store as files_store
from rollout.errors import Conflict, ThreadArchived
from store.files import FileStore
from store.files.pending import Recent
from store.files.worker import Worker
from tests.store.conftest import meta, raw, sql, turn, user


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "codex"


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> None:
    """No timed flush during the test: only reads and close write the held index updates."""
    monkeypatch.setattr(files_store, "INDEX_DELAY", 3600.0)


def _indexed(home: Path, thread_id: str) -> tuple[int, int]:
    """The index's ``(line_count, size)`` for a thread, read behind the store's back."""
    rows = sql(home / ".rollout-engine" / "index.sqlite", "SELECT line_count, size FROM threads WHERE id = ?", thread_id)
    assert len(rows) == 1
    return rows[0]


async def _started(home: Path) -> tuple[str, Path, int]:
    async with FileStore.open(home) as store:
        info = await store.start_thread(meta())
        last = await store.append(info.id, user("first"))
    return info.id, Path(info.path), last


async def test_appends_leave_the_index_behind_until_a_read(home, held):
    """The index row is written by the next call, so that call reads no rollout file to repair it."""
    thread_id, path, last = await _started(home)
    async with FileStore.open(home) as store:
        for n in range(3):
            last = await store.append(thread_id, turn(f"t-{n}", f"q{n}"))
        assert _indexed(home, thread_id)[0] < last  # held back
        info = await store.info(thread_id)
        assert (info.last_seq, store.report.indexed) == (last, 0)
        assert _indexed(home, thread_id) == (last, path.stat().st_size)
        assert [t.last_seq for t in (await store.list()).data] == [last]


async def test_close_writes_what_appends_held_back(home, held):
    thread_id, path, last = await _started(home)
    async with FileStore.open(home) as store:
        last = await store.append(thread_id, turn("t-1", "q"))
        assert _indexed(home, thread_id)[0] < last
    assert _indexed(home, thread_id) == (last, path.stat().st_size)
    async with FileStore.open(home) as store:
        assert (await store.info(thread_id)).last_seq == last
        assert store.report.indexed == 0


async def test_the_index_catches_up_a_moment_after_the_last_append(home, monkeypatch):
    """With no other call coming, the held update is written after INDEX_DELAY (another process sees it)."""
    monkeypatch.setattr(files_store, "INDEX_DELAY", 0.05)
    thread_id, path, last = await _started(home)
    async with FileStore.open(home) as store:
        last = await store.append(thread_id, turn("t-1", "q"))
        for _ in range(500):
            if _indexed(home, thread_id)[0] == last:
                break
            await asyncio.sleep(0.01)
        assert _indexed(home, thread_id) == (last, path.stat().st_size)


CHILD = textwrap.dedent(
    """
    import asyncio, sys, time
    import store.files.store as files_store
    from store.files import FileStore
    from tests.store.conftest import turn

    files_store.INDEX_DELAY = 3600.0  # only a flush by close or a read could write the index

    async def main():
        async with FileStore.open(sys.argv[1]) as store:
            for n in range(3):
                last = await store.append(sys.argv[2], turn(f"t-{n}", f"q{n}"), idempotency_key=f"k{n}")
            print(last, flush=True)
            time.sleep(60)  # killed here, the index update still held

    asyncio.run(main())
    """
)


async def test_a_kill_before_the_index_update_is_repaired_from_the_file(home):
    """SIGKILL after appends returned but before their index update: the next open reads the file again."""
    thread_id, path, before = await _started(home)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(home), thread_id], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).parents[2])
    try:
        last = int(child.stdout.readline())
        assert _indexed(home, thread_id)[0] == before  # the child's appends are only in the file
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        child.stdout.close()
    async with FileStore.open(home) as store:
        info = await store.info(thread_id)
        assert (info.last_seq, store.report.indexed) == (last, 1)
        assert len(await store.read_lines(thread_id)) == last
        assert [t.last_seq for t in (await store.list()).data] == [last]
        assert await store.append(thread_id, turn("t-2", "q2"), idempotency_key="k2") == last  # keys are not held
        assert await store.append(thread_id, user("after"), expected_seq=last) == last + 2
    assert _indexed(home, thread_id) == (last + 2, path.stat().st_size)


async def test_an_append_by_another_program_between_two_appends_is_counted(home, held):
    """The next append sees the file changed since its last one and starts from the file, not from memory."""
    thread_id, path, last = await _started(home)
    async with FileStore.open(home) as store:
        last = await store.append(thread_id, user("ours"))
        with open(path, "ab") as file:  # Codex appending to the same thread
            file.write(b"".join(line + b"\n" for line in raw(user("theirs"))))
        with pytest.raises(Conflict):
            await store.append(thread_id, user("stale"), expected_seq=last)
        assert await store.append(thread_id, user("next"), expected_seq=last + 2) == last + 4
        texts = [line.payload.message for line in await store.read_lines(thread_id)
                 if getattr(line.payload, "type", None) == "user_message"]
    assert texts == ["first", "ours", "theirs", "next"]


async def test_a_write_landing_between_the_check_and_the_lock_is_counted(home, held, monkeypatch):
    """The file is checked again once locked: another writer may append after the first check."""
    thread_id, path, last = await _started(home)
    async with FileStore.open(home) as store:
        last = await store.append(thread_id, user("ours"))
        monkeypatch.setattr(Recent, "current", lambda self: True)  # as if theirs came right after the check
        with open(path, "ab") as file:
            file.write(b"".join(line + b"\n" for line in raw(user("theirs"))))
        assert await store.append(thread_id, user("next"), expected_seq=last + 2) == last + 4


async def test_a_file_archived_by_another_program_between_appends_is_not_appended_to(home, held):
    thread_id, path, _ = await _started(home)
    async with FileStore.open(home) as store:
        await store.append(thread_id, user("ours"))
        size = path.stat().st_size
        target = home / "archived_sessions" / path.name
        target.parent.mkdir(parents=True)
        os.rename(path, target)  # what `codex archive` does
        with pytest.raises(ThreadArchived):
            await store.append(thread_id, user("late"))
        assert (await store.info(thread_id)).archived
    assert target.stat().st_size == size and not path.exists()


async def test_a_replaced_file_is_read_again_before_the_next_append(home, held):
    """Same path, another file (a copy put back): the append counts the lines of the file that is there now."""
    thread_id, path, _ = await _started(home)
    async with FileStore.open(home) as store:
        copy = path.read_bytes()
        last = await store.append(thread_id, user("lost"))
        path.unlink()
        path.write_bytes(copy)  # the thread as it was before that append
        assert await store.append(thread_id, user("again")) == last
        assert b"lost" not in path.read_bytes()


async def test_idempotency_keys_repeat_before_and_after_close(home, held):
    thread_id, path, _ = await _started(home)
    async with FileStore.open(home) as store:
        first = await store.append(thread_id, user("a"), idempotency_key="k")
        size = path.stat().st_size
        assert await store.append(thread_id, user("a"), idempotency_key="k") == first
        assert path.stat().st_size == size
    async with FileStore.open(home) as store:
        assert await store.append(thread_id, user("a"), idempotency_key="k") == first
    assert path.stat().st_size == size


async def test_the_worker_runs_calls_in_order_and_hands_back_errors():
    worker = Worker("test-worker")
    done: list[int] = []
    try:
        results = await asyncio.gather(*(worker.call(done.append, n) for n in range(20)))
        assert done == list(range(20)) and results == [None] * 20
        with pytest.raises(ZeroDivisionError):
            await worker.call(lambda: 1 / 0)
        with pytest.raises(RuntimeError, match="StopIteration"):
            await worker.call(next, iter(()))
    finally:
        worker.shutdown()
    with pytest.raises(RuntimeError, match="shut down"):
        await worker.call(done.append, 99)


async def test_a_call_cancelled_before_the_worker_takes_it_never_runs():
    worker = Worker("test-worker")
    gate = asyncio.Event()
    loop = asyncio.get_running_loop()
    ran: list[str] = []
    try:
        blocker = asyncio.ensure_future(worker.call(lambda: asyncio.run_coroutine_threadsafe(gate.wait(), loop).result()))
        queued = asyncio.ensure_future(worker.call(ran.append, "queued"))
        await asyncio.sleep(0.05)
        queued.cancel()
        gate.set()
        await blocker
        await worker.call(ran.append, "after")
    finally:
        worker.shutdown()
    assert ran == ["after"]
