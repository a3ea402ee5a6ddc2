"""Thread names in ``$CODEX_HOME/session_index.jsonl`` (spec §7).

The file is append-only, one ``{"id", "thread_name", "updated_at"}`` object per line.
A rename appends a line; nothing is ever rewritten. The newest entry for an id is its
name (a blank newest entry means "no name"). Looking a thread up by name considers only
each id's newest entry, so a historical name of a renamed thread never matches.
Malformed, non-UTF-8 and torn lines are skipped; CRLF is tolerated.

Reading is incremental: :func:`read_entries` starts at a byte offset and returns the
offset after the last complete line, so a caller can keep up with appends cheaply.

Must not import: replay, store, rollout.cli, rich, asyncio.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import msgspec

from .codex_home import fsync_dir, utc_stamp
from .errors import StoreError, WriterError, WriterLocked
from .writer import RolloutWriter

__all__ = ["NameEntry", "append_name", "ids_by_name", "latest_names", "read_entries"]

_LOCK_RETRIES = 100
_LOCK_WAIT = 0.01


class NameEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One line of ``session_index.jsonl``."""

    id: str
    thread_name: str | None = None
    updated_at: str | None = None


_decoder = msgspec.json.Decoder(NameEntry)
_encoder = msgspec.json.Encoder()


def append_name(path: Path, thread_id: str, name: str | None, *, when: datetime | None = None) -> NameEntry:
    """Append a name entry (``None`` appends a blank name, which clears it).

    Another process appending at the same moment is waited for briefly; a torn last
    line left by a crash is fenced off with a newline first.

    Raises:
        StoreError: the file cannot be written.
    """
    entry = NameEntry(id=thread_id, thread_name=name or "", updated_at=utc_stamp(when))
    record = _encoder.encode(entry)
    for _ in range(_LOCK_RETRIES):
        try:
            new = not path.exists()
            with RolloutWriter(path) as writer:
                writer.write_raw([record])
            if new:  # the file's entry in the home must outlive a power cut too
                fsync_dir(path.parent)
            return entry
        except WriterLocked:
            time.sleep(_LOCK_WAIT)
        except WriterError as exc:
            raise StoreError(f"{path}: cannot record the thread name: {exc}") from exc
    raise StoreError(f"{path}: another process keeps the session index locked")


def read_entries(path: Path, offset: int = 0) -> tuple[list[NameEntry], int]:
    """Entries from byte ``offset`` on, and the offset just after the last complete line.

    Returns ``([], offset)`` when the file does not exist.

    Raises:
        StoreError: the file exists but cannot be read.
    """
    try:
        with open(path, "rb") as file:
            file.seek(offset)
            data = file.read()
    except FileNotFoundError:
        return [], offset
    except OSError as exc:
        raise StoreError(f"{path}: cannot read: {exc}") from exc
    end = data.rfind(b"\n") + 1  # a torn tail is read once it is complete
    entries = [entry for raw in data[:end].split(b"\n") if (entry := _decode(raw)) is not None]
    return entries, offset + end


def _decode(raw: bytes) -> NameEntry | None:
    raw = raw.rstrip(b"\r")
    if not raw.strip():
        return None
    try:
        entry = _decoder.decode(raw)
    except msgspec.DecodeError:
        return None
    return entry if entry.id else None


def latest_names(entries: Iterable[NameEntry]) -> dict[str, str | None]:
    """Name per id: the newest entry wins; a blank newest name is ``None``."""
    names: dict[str, str | None] = {}
    for entry in entries:
        names[entry.id] = (entry.thread_name or "").strip() or None
    return names


def ids_by_name(entries: list[NameEntry], name: str) -> list[str]:
    """Ids whose newest entry is ``name``, newest first (``codex resume <name>``)."""
    seen: set[str] = set()
    found: list[str] = []
    for entry in reversed(entries):
        if entry.id in seen:
            continue
        seen.add(entry.id)
        if (entry.thread_name or "").strip() == name:
            found.append(entry.id)
    return found


def file_signature(path: Path) -> tuple[int, int] | None:
    """``(size, mtime_ns)`` of the index file, or None when it does not exist."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"{path}: cannot stat: {exc}") from exc
    return stat.st_size, stat.st_mtime_ns
