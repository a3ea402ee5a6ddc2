"""kill -9 a FileStore writer mid-line: complete lines survive, the fragment is reported and fenced."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import rollout
from rollout import events as ev
from store.files import FileStore
from tests.store.conftest import meta, user

# The child appends ever larger agent messages to one thread until it is killed. With
# HANG set, the write of line number HANG stops halfway (the first half is on disk).
CHILD = textwrap.dedent(
    """
    import asyncio, os, sys, time
    from rollout import events as ev
    from rollout.writer import RolloutWriter
    from store.files import FileStore

    home, thread_id, size, hang = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    real_write_all = RolloutWriter._write_all

    def half_then_hang(self, data):
        real_write_all(self, data[: len(data) // 2])
        print("torn", flush=True)
        time.sleep(60)

    async def main():
        async with FileStore.open(home, durability="none") as store:
            for n in range(1, 1_000_000):
                if n == hang:
                    RolloutWriter._write_all = half_then_hang
                message = f"{n}:" + "x" * size
                line = ev.EventMsgLine(timestamp="2026-06-01T10:00:05.000Z",
                                       payload=ev.AgentMessageEvent(message=message))
                await store.append(thread_id, [line])
                print("line", n, flush=True)

    asyncio.run(main())
    """
)


async def _new_thread(home: Path) -> str:
    async with FileStore.open(home) as store:
        info = await store.start_thread(meta())
        await store.append(info.id, user("before the crash"))
    return info.id


def _spawn(home: Path, thread_id: str, size: int, hang: int = 0) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(home), thread_id, str(size), str(hang)],
        stdout=subprocess.PIPE, text=True,
    )


def _kill(child: subprocess.Popen) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    child.stdout.close()


async def _check_recovery(home: Path, thread_id: str) -> None:
    """Every complete line reads back, the torn fragment is reported, the next append reads."""
    path = next(home.rglob(f"*{thread_id}.jsonl"))
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1].count(b"\n")
    assert not data.endswith(b"\n"), "the kill did not land mid-line"
    async with FileStore.open(home) as store:
        lines = await store.read_lines(thread_id)
        assert len(lines) == complete  # seq 1..complete: meta, user prompt, the finished messages
        assert [p.kind for p in await store.problems(thread_id)] == ["torn"]
        assert (await store.info(thread_id)).last_seq == complete
        assert str(path) in store.report.torn
        after = ev.EventMsgLine(timestamp="2026-06-01T10:00:09.000Z", payload=ev.AgentMessageEvent(message="after"))
        assert await store.append(thread_id, [after], expected_seq=complete) == complete + 1
        assert (await store.read_lines(thread_id, after_seq=complete))[0].payload.message == "after"
    result = rollout.read_rollout(path)
    assert len(result.lines) == complete + 1 and result.lines[-1].payload.message == "after"
    assert [p.kind for p in result.problems] == ["malformed"]  # the fenced fragment, nothing else


async def test_kill_during_a_line_write_loses_only_that_line(tmp_path):
    """The child dies with half of its third message written."""
    home = tmp_path / "codex"
    thread_id = await _new_thread(home)
    child = _spawn(home, thread_id, 1 << 16, hang=3)
    try:
        assert [child.stdout.readline().split()[0] for _ in range(3)] == ["line", "line", "torn"]
    finally:
        _kill(child)
    await _check_recovery(home, thread_id)


async def test_sigkill_while_writing_large_lines(tmp_path):
    """Kill -9 at the moment the file is seen mid-line (large lines; retried until it lands)."""
    home = tmp_path / "codex"
    for attempt in range(10):
        thread_id = await _new_thread(home)
        path = next(home.rglob(f"*{thread_id}.jsonl"))
        child = _spawn(home, thread_id, 24 << 20)
        try:
            assert child.stdout.readline().startswith("line")
            deadline = time.monotonic() + 20
            with open(path, "rb") as file:
                while time.monotonic() < deadline:
                    size = os.fstat(file.fileno()).st_size
                    if os.pread(file.fileno(), 1, size - 1) != b"\n":
                        break  # a line is being written right now
                    await asyncio.sleep(0)
        finally:
            _kill(child)
        if not path.read_bytes().endswith(b"\n"):
            print(f"landed mid-line on attempt {attempt + 1}")
            await _check_recovery(home, thread_id)
            return
    pytest.fail("no kill landed mid-line in 10 attempts")


@pytest.mark.parametrize("cut", ["inside the second line", "before the second line's newline", "after the second line"])
async def test_an_append_cut_by_a_crash_keeps_a_prefix_that_reads_the_same_every_time(tmp_path, cut):
    """What a kill mid-append leaves (docs/RELIABILITY.md): its first whole lines count as stored lines, a
    torn fragment never does; seqs do not move between re-reads, nor when the next append fences it off."""
    home = tmp_path / "codex"
    async with FileStore.open(home) as store:
        info = await store.start_thread(meta(id="019e0000-0000-7000-8000-0000000a7001"))
        await store.append(info.id, user("acknowledged"))
        acked = (await store.info(info.id)).last_seq
        path = Path((await store.info(info.id)).path)
    batch = [rollout.encode_line(user(f"line {n}")[0]) + b"\n" for n in range(3)]  # one line each
    keep = {"inside the second line": len(batch[0]) + 10, "before the second line's newline":
            len(batch[0]) + len(batch[1]) - 1, "after the second line": len(batch[0]) + len(batch[1])}[cut]
    with open(path, "ab") as file:  # the bytes a kill left of a three-line append
        file.write(b"".join(batch)[:keep])
    whole = 1 if cut == "inside the second line" else 2  # a line missing only its newline decodes
    reads = []
    for _ in range(2):
        async with FileStore.open(home) as store:
            reads.append(((await store.info(info.id)).last_seq, await store.export_rollout(info.id)))
    assert reads[0] == reads[1] and reads[0][0] == acked + whole
    async with FileStore.open(home) as store:
        more = user("next")
        assert await store.append(info.id, more, expected_seq=acked + whole) == acked + whole + len(more)
        exported = await store.export_rollout(info.id)
        assert exported == reads[0][1] + b"".join(rollout.encode_line(line) + b"\n" for line in more)
        problems = await store.problems(info.id)
    assert [p.kind for p in problems] == (["malformed"] if whole == 1 else [])  # the fenced-off fragment
