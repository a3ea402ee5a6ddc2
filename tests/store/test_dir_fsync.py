"""Directory durability in a Codex home: every operation that adds, moves or removes a directory
entry fsyncs the directory holding it (both, for a move), so a power cut cannot undo it.

``os.fsync`` is wrapped to record which directories were fsynced (a descriptor of a directory,
named through ``/proc/self/fd``); each operation must fsync the directories it changed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import zstandard

from store.files import FileStore

from .conftest import meta, turn

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd to name descriptors")


class DirFsyncs:
    """Records every directory fsynced while installed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.dirs: list[Path] = []
        real = os.fsync

        def fsync(fd: int) -> None:
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                self.dirs.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
            real(fd)

        monkeypatch.setattr(os, "fsync", fsync)

    def take(self) -> set[Path]:
        found, self.dirs = set(self.dirs), []
        return found


async def test_each_new_moved_or_removed_file_has_its_directory_fsynced(tmp_path, monkeypatch):
    """start (new date folders too), name, fork, archive, unarchive, delete: each fsyncs what it changed."""
    home = (tmp_path / "codex").resolve()
    synced = DirFsyncs(monkeypatch)
    async with FileStore.open(home) as store:
        synced.take()
        info = await store.start_thread(meta(id="019e0000-0000-7000-8000-0000000d1500"))
        path = Path(info.path)
        day = path.parent
        assert {day, day.parent, day.parent.parent, home / "sessions"} <= synced.take(), "new file or folders"

        await store.append(info.id, turn("t1", "hello"))
        assert synced.take() == set(), "an append adds no directory entry: no directory fsync needed"

        await store.set_name(info.id, "first")
        assert home in synced.take(), "session_index.jsonl created in the home"

        child = await store.fork(info.id)
        assert Path(child.path).parent in synced.take(), "the fork's new file"

        await store.archive(info.id)
        archived = Path((await store.info(info.id)).path)
        assert archived.parent != day
        assert {day, archived.parent} <= synced.take(), "archive: both folders of the move"

        await store.unarchive(info.id)
        assert {day, archived.parent} <= synced.take(), "unarchive: both folders of the move"

        await store.delete(child.id)
        assert Path(child.path).parent in synced.take(), "delete: the folder that lost the file"


async def test_decompressing_a_cold_file_before_an_append_fsyncs_its_folder(tmp_path, monkeypatch):
    """A ``.jsonl.zst`` turned into plain ``.jsonl`` (a new name, the old one removed): the folder is fsynced."""
    home = (tmp_path / "codex").resolve()
    async with FileStore.open(home) as store:
        info = await store.start_thread(meta(id="019e0000-0000-7000-8000-0000000d1501"))
    plain = Path(info.path)
    plain.with_name(plain.name + ".zst").write_bytes(zstandard.ZstdCompressor().compress(plain.read_bytes()))
    plain.unlink()
    synced = DirFsyncs(monkeypatch)
    async with FileStore.open(home) as store:
        synced.take()
        await store.append(info.id, turn("t1", "warm it up"))
        assert plain.exists() and not plain.with_name(plain.name + ".zst").exists()
        assert plain.parent in synced.take()
