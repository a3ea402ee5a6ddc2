"""A full disk: the append fails with a StoreError saying so, nothing stored before is lost, and once
space returns appends work again without reopening the store.

The real test runs on a 4 MiB tmpfs filled to the last byte by a filler file (mounting needs root:
it skips saying why elsewhere). An injected ENOSPC in the middle of a FileStore append (a short
write, then the error) runs everywhere and shows the half-written batch is cut off again.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from rollout import writer as rollout_writer
from rollout.codec import encode_line
from rollout.errors import StoreError
from store import SqliteStore
from store.files import FileStore

from .conftest import meta, sql, turn, user

SIZE = "4m"


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A size-limited tmpfs mounted for this test (skips, saying why, where mounting is not allowed)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root; run as root to test a real full disk")
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    """Fill the file system of ``folder`` to the last byte; returns the filler (delete it to free the space)."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for size in (1 << 16, 1 << 12, 1 << 9, 1):
            with contextlib.suppress(OSError):
                while os.write(fd, b"\1" * size):
                    pass
    finally:
        os.close(fd)
    return filler


def big_turn(name: str) -> list:
    """A turn of ~600 KB that compresses poorly (SQLite stores it zstd-compressed)."""
    noise = base64.b64encode(os.urandom(450_000)).decode()
    return turn(name, noise[:300_000], noise[300_000:])


def exported(lines: list) -> bytes:
    return b"".join(encode_line(line) + b"\n" for line in lines)


async def _fill_threads(store, count: int = 2) -> dict[str, bytes]:
    found = {}
    for n in range(count):
        info = await store.start_thread(meta(id=f"019e0000-0000-7000-8000-0000000d15c{n}"))
        await store.append(info.id, turn(f"t{n}", "before the disk filled"))
        found[info.id] = await store.export_rollout(info.id)
    return found


async def _full_then_free(store, folder: Path, before: dict[str, bytes]) -> None:
    """Fill the disk, see appends fail clearly with nothing lost, free it, append again (same store)."""
    filler = fill(folder)
    thread_id = next(iter(before))
    lines = big_turn("full")
    with pytest.raises(StoreError, match="disk is full") as failed:
        await store.append(thread_id, lines, expected_seq=(await store.info(thread_id)).last_seq)
    assert thread_id in str(failed.value), f"the error names neither the thread nor its file: {failed.value}"
    for tid, data in before.items():  # nothing stored before is lost, nothing of the failed append stays
        assert await store.export_rollout(tid) == data
    filler.unlink()
    seq = (await store.info(thread_id)).last_seq
    assert await store.append(thread_id, lines, expected_seq=seq) == seq + len(lines)
    before[thread_id] += exported(lines)
    other = next(t for t in before if t != thread_id)
    more = user("after the disk had room again")
    await store.append(other, more)
    before[other] += exported(more)
    for tid, data in before.items():
        assert await store.export_rollout(tid) == data


async def test_sqlite_on_a_full_disk_fails_the_append_clearly_and_recovers_when_space_returns(small_fs):
    """SQLITE_FULL becomes 'the disk is full' naming file and thread; integrity ok; no reopen needed."""
    path = small_fs / "threads.db"
    async with SqliteStore.open(path) as store:
        before = await _fill_threads(store)
        await _full_then_free(store, small_fs, before)
    assert sql(path, "PRAGMA integrity_check") == [("ok",)]
    async with SqliteStore.open(path) as reopened:
        for tid, data in before.items():
            assert await reopened.export_rollout(tid) == data


async def test_filestore_on_a_full_disk_fails_the_append_clearly_and_recovers_when_space_returns(small_fs):
    """A Codex home on a full disk: the file is cut back to before the append; later appends land whole."""
    home = small_fs / "codex"
    async with FileStore.open(home) as store:
        before = await _fill_threads(store)
        await _full_then_free(store, small_fs, before)
    async with FileStore.open(home) as reopened:
        for tid, data in before.items():
            assert await reopened.export_rollout(tid) == data


async def test_filestore_cuts_off_an_append_that_failed_halfway(tmp_path, monkeypatch):
    """An injected ENOSPC after a short write: StoreError 'disk is full', and not a byte of the batch stays."""
    async with FileStore.open(tmp_path / "codex") as store:
        before = await _fill_threads(store, 1)
        thread_id = next(iter(before))
        real_write = os.write
        calls = {"n": 0}

        def short_then_full(fd: int, data) -> int:
            calls["n"] += 1
            if calls["n"] == 1:
                return real_write(fd, bytes(data[: len(data) // 2]))  # half the batch, torn mid-line
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(rollout_writer.os, "write", short_then_full)
        with pytest.raises(StoreError, match=r"disk is full.*nothing of this append was written"):
            await store.append(thread_id, turn("t9", "lost"))
        monkeypatch.setattr(rollout_writer.os, "write", real_write)
        assert calls["n"] == 2
        assert await store.export_rollout(thread_id) == before[thread_id]
        more = turn("t10", "kept")
        await store.append(thread_id, more)
        assert await store.export_rollout(thread_id) == before[thread_id] + exported(more)
