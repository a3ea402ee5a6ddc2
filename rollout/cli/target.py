"""Where things are: rollout files in folders and Codex homes, thread ids, the default database.

Pure path logic for the commands: finding ``rollout-*.jsonl[.zst]`` files
(a plain file wins over its ``.zst`` sibling, as in Codex), recognising thread
ids and Codex homes, and locating a thread's file inside a Codex home by id.

Must not import: rich, store.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .failure import CommandError, NoRollouts

__all__ = [
    "codex_home_files",
    "default_db_path",
    "find_in_home",
    "find_turn",
    "is_codex_home",
    "is_thread_id",
    "rollout_files",
]

_THREAD_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_SUFFIXES = (".jsonl", ".jsonl.zst")


def default_db_path() -> Path:
    """``$ROLLOUT_DB``, else ``$XDG_DATA_HOME/rollout-engine/threads.db`` (``~/.local/share`` by default)."""
    if os.environ.get("ROLLOUT_DB"):
        return Path(os.environ["ROLLOUT_DB"]).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(data) / "rollout-engine" / "threads.db"


def is_thread_id(text: str) -> bool:
    """True for a UUID-shaped thread id."""
    return bool(_THREAD_ID.match(text))


def is_codex_home(path: Path) -> bool:
    """True for a folder laid out like ``~/.codex`` (``sessions/`` or ``archived_sessions/``)."""
    return (path / "sessions").is_dir() or (path / "archived_sessions").is_dir()


def _is_rollout_name(name: str) -> bool:
    return "rollout-" in name and name.endswith(_SUFFIXES)


def _walk(folder: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        names = set(files)
        for name in sorted(files):
            # A .zst sibling of a plain file is a stale copy: Codex reads the plain one.
            if _is_rollout_name(name) and not (name.endswith(".zst") and name[:-4] in names):
                found.append(Path(root) / name)
    return found


def rollout_files(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Expand files, folders and Codex homes into rollout files, in a stable order.

    Files named explicitly are taken whatever their name; folders are searched
    recursively for ``*rollout-*.jsonl`` and ``*rollout-*.jsonl.zst``.

    Raises:
        FileNotFoundError: a path does not exist.
        NoRollouts: a folder holds no rollout file.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = _walk(path)
            if not files:
                raise NoRollouts(f"{path}: no rollout files (rollout-*.jsonl or .jsonl.zst) in this folder")
        elif path.exists():
            files = [path]
        else:
            raise FileNotFoundError(2, "no such file or directory", str(path))
        for file in files:
            if file not in seen:
                seen.add(file)
                found.append(file)
    return found


def codex_home_files(home: Path) -> tuple[list[Path], list[Path]]:
    """(active, archived) rollout files of a Codex home."""
    active = _walk(home / "sessions") if (home / "sessions").is_dir() else []
    archived = _walk(home / "archived_sessions") if (home / "archived_sessions").is_dir() else []
    return active, archived


def find_in_home(home: Path, thread_id: str) -> Path | None:
    """The rollout file of ``thread_id`` in a Codex home (active first, plain before .zst)."""
    suffix = thread_id.lower()
    for folder in (home / "sessions", home / "archived_sessions"):
        if not folder.is_dir():
            continue
        for path in _walk(folder):
            stem = path.name.removesuffix(".zst").removesuffix(".jsonl")
            if stem.lower().endswith(suffix):
                return path
    return None


def find_turn(turns: list[Any], wanted: str) -> tuple[int, Any]:
    """(1-based number, turn) for a turn id, a number (1 = first) or a negative number (-1 = last).

    Raises:
        CommandError: no such turn.
    """
    for number, turn in enumerate(turns, 1):
        if turn.id == wanted:
            return number, turn
    try:
        position = int(wanted)
    except ValueError:
        raise CommandError(f"no turn with id {wanted!r} ({len(turns)} turns)") from None
    index = position - 1 if position > 0 else len(turns) + position
    if position == 0 or not 0 <= index < len(turns):
        raise CommandError(f"no turn number {position} (the thread has {len(turns)} turns)")
    return index + 1, turns[index]
