"""Stores this process may not write: reading works, and a write says what is read-only.

As root, permission bits do not stop anything, so most tests make the store see a
read-only place through ``os.access`` (what the stores check); the real-permission test
runs only as another user and says so when skipped.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rollout.errors import StoreError
from store import FileStore, SqliteStore

from .conftest import meta, turn

pytestmark = pytest.mark.asyncio


def _look_read_only(monkeypatch) -> None:
    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if mode & os.W_OK else real(path, mode, **kw))


@pytest.fixture
def not_writable(monkeypatch):
    """Make every path look read-only to ``os.access`` (reads still allowed)."""
    _look_read_only(monkeypatch)


async def _filled(path: Path) -> str:
    async with SqliteStore.open(path) as store:
        info = await store.start_thread(meta())
        await store.append(info.id, turn("t-1", "a"))
        return info.id


async def test_a_read_only_database_is_read_without_a_writer(tmp_path, monkeypatch):
    """Reads, listing, export and resume work; every write raises StoreError naming the file."""
    path = tmp_path / "t.db"
    thread_id = await _filled(path)
    _look_read_only(monkeypatch)
    async with SqliteStore.open(path) as store:
        assert store.readonly
        assert [t.id for t in (await store.read(thread_id)).turns] == ["t-1"]
        assert [t.id for t in (await store.list()).data] == [thread_id]
        assert (await store.export_rollout(thread_id)).count(b"\n") == 6
        other = (await store.export_rollout(thread_id)).replace(thread_id.encode(), b"019e0000-0000-7000-8000-0000000000ff")
        assert (await store.import_rollout(await store.export_rollout(thread_id))).status == "unchanged"
        for write in (store.append(thread_id, turn("t-2", "b")), store.fork(thread_id), store.archive(thread_id),
                      store.start_thread(meta()), store.import_rollout(other)):
            with pytest.raises(StoreError, match=rf"{path} is read-only: cannot"):
                await write


async def test_a_missing_database_in_a_read_only_place_is_one_clear_error(tmp_path, not_writable):
    """Opening a database that does not exist where nothing may be created names the file."""
    with pytest.raises(StoreError, match="no such database"):
        await SqliteStore.open(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()


async def test_a_read_only_codex_home_is_served_from_an_index_in_memory(tmp_path, monkeypatch):
    """No .rollout-engine/ is created; threads list and read; a write names the home."""
    home = tmp_path / "home"
    async with FileStore.open(home) as store:
        info = await store.start_thread(meta())
        await store.append(info.id, turn("t-1", "a"))
    for path in (home / ".rollout-engine").glob("*"):
        path.unlink()
    (home / ".rollout-engine").rmdir()
    _look_read_only(monkeypatch)
    async with FileStore.open(home) as store:
        assert store.readonly
        assert [t.id for t in (await store.list()).data] == [info.id]
        assert [t.id for t in (await store.read(info.id)).turns] == ["t-1"]
        with pytest.raises(StoreError, match=rf"{home} is read-only: cannot write"):
            await store.set_name(info.id, "x")
    assert not (home / ".rollout-engine").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions, so nothing is read-only for it")
async def test_real_permissions_a_read_only_database_folder(tmp_path):
    """With the file and its folder read-only (no -shm can be made), the database still opens for reading."""
    folder = tmp_path / "ro"
    folder.mkdir()
    thread_id = await _filled(folder / "t.db")
    (folder / "t.db").chmod(stat.S_IRUSR)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        async with SqliteStore.open(folder / "t.db") as store:
            assert [t.id for t in (await store.read(thread_id)).turns] == ["t-1"]
            with pytest.raises(StoreError, match="is read-only"):
                await store.append(thread_id, turn("t-2", "b"))
    finally:
        folder.chmod(stat.S_IRWXU)
