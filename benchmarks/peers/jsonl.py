"""Codex-style JSONL rollout files: the writer Codex itself uses, and a durable variant.

Layout and behaviour follow the spec (§2, §4, §6.1): ``sessions/YYYY/MM/DD/rollout-<ts>-<id>.jsonl``;
each line is written and flushed on its own (one ``write`` per line, no fsync: Codex's writer);
``JsonlFsyncDriver`` adds one ``fsync`` per turn, the cheapest durable JSONL. Resume reads the
whole file and parses every line with the standard library's ``json`` (what a Python reader
does; the machine's decode bound uses msgspec). Fork writes a new file: its own
``session_meta`` then a copy of the source. Listing walks the date directories newest first
and reads each file's head (meta + first user message), as Codex's filesystem scan does.

Standard library only; nothing from ``store``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from benchmarks.peers import Driver, decode
from benchmarks.workload import Thread

_HEAD_LINES = 10


class JsonlDriver(Driver):
    """Append + flush per line, like Codex's rollout writer."""

    name = "jsonl"
    package = "python"
    durability = "write + flush per line, no fsync (not durable)"
    how = "Codex writer: one write + flush per line; resume = read file + json.loads per line"
    fsync = False

    async def open(self) -> None:
        self.paths: dict[str, Path] = getattr(self, "paths", {})

    @classmethod
    def version(cls) -> str:
        return "stdlib"

    def path_for(self, thread_id: str, meta_line: bytes) -> Path:
        """Where Codex would put the file, from the ``session_meta`` timestamp."""
        stamp = str(decode(meta_line).get("timestamp") or "2026-01-01T00:00:00")
        day = self.root / "sessions" / stamp[:4] / stamp[5:7] / stamp[8:10]
        day.mkdir(parents=True, exist_ok=True)
        return day / f"rollout-{stamp[:19].replace(':', '-')}-{thread_id}.jsonl"

    async def append_thread(self, thread_id: str, turns: Any) -> None:
        path = self.paths.get(thread_id)
        if path is None:
            path = self.paths[thread_id] = self.path_for(thread_id, turns[0][0])
        with open(path, "ab") as file:
            for turn in turns:
                for line in turn:
                    file.write(line + b"\n")
                    file.flush()
                if self.fsync:
                    os.fsync(file.fileno())

    async def read_latest(self, thread_id: str) -> int:
        data = self.paths[thread_id].read_bytes()
        return len([json.loads(line) for line in data.splitlines() if line.strip()])

    async def fork(self, thread_id: str, new_id: str) -> None:
        source = self.paths[thread_id]
        with open(source, "rb") as file:
            meta = json.loads(file.readline())
        meta["payload"] = {**meta.get("payload", {}), "id": new_id, "forked_from_id": thread_id}
        meta_line = json.dumps(meta, separators=(",", ":"), ensure_ascii=False).encode()
        target = self.paths[new_id] = self.path_for(new_id, meta_line)
        with open(target, "wb") as out, open(source, "rb") as src:
            out.write(meta_line + b"\n")
            out.write(src.read())
            out.flush()
            if self.fsync:
                os.fsync(out.fileno())

    async def list_threads(self, limit: int | None) -> list[str]:
        found: list[str] = []
        for path in _newest_first(self.root / "sessions"):
            meta = _head(path)
            if meta is not None:
                found.append(meta)
                if limit is not None and len(found) >= limit:
                    break
        return found

    def prepare(self, thread: Thread) -> list[list[bytes]]:
        return thread.turns


class JsonlFsyncDriver(JsonlDriver):
    """The Codex writer plus one ``fsync`` per turn."""

    name = "jsonl-fsync"
    durability = "write + flush per line, fsync per turn"
    how = "Codex writer plus os.fsync at the end of every turn"
    fsync = True


def _newest_first(sessions: Path):
    """Rollout files under ``sessions/YYYY/MM/DD``, newest first (names sort by timestamp)."""
    if not sessions.is_dir():
        return
    for year in sorted(os.listdir(sessions), reverse=True):
        for month in sorted(os.listdir(sessions / year), reverse=True):
            for day in sorted(os.listdir(sessions / year / month), reverse=True):
                folder = sessions / year / month / day
                for name in sorted(os.listdir(folder), reverse=True):
                    if name.startswith("rollout-") and name.endswith(".jsonl"):
                        yield folder / name


def _head(path: Path) -> str | None:
    """Thread id from the head of a file, if it has a meta line and a user message."""
    thread_id = None
    with open(path, "rb") as file:
        for _, line in zip(range(_HEAD_LINES), file):
            obj = json.loads(line)
            payload = obj.get("payload") or {}
            if obj.get("type") == "session_meta" and thread_id is None:
                thread_id = payload.get("id")
            elif payload.get("type") == "user_message":
                return thread_id
    return None
