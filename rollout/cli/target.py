"""Where things are: rollout files in folders and Codex homes, thread ids, the default database.

Path logic for the commands. What a Codex home looks like (``sessions/YYYY/MM/DD``,
``archived_sessions/``, file names, ``session_index.jsonl``) is :mod:`rollout.codex_home`;
this module adds plain folders of rollouts (searched recursively, a plain file winning
over its ``.zst`` sibling as in Codex), thread ids, and turn numbers.

Must not import: rich, store.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from ..codex_home import SESSION_INDEX, CodexHome, is_codex_home
from .failure import CommandError, NoRollouts

__all__ = [
    "Candidate",
    "codex_home_files",
    "default_db_path",
    "find_in_home",
    "find_turn",
    "import_candidates",
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
    """True for a UUID-shaped thread id (any case)."""
    return bool(_THREAD_ID.match(text))


def _is_rollout_name(name: str) -> bool:
    return "rollout-" in name and name.endswith(_SUFFIXES)


def _walk(folder: Path, keep: Any = _is_rollout_name) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        names = set(files)
        for name in sorted(files):
            # A .zst sibling of a plain file is a stale copy: Codex reads the plain one.
            if keep(name) and not (name.endswith(".zst") and name[:-4] in names):
                found.append(Path(root) / name)
    return found


def rollout_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expand files, folders and Codex homes into rollout files, in a stable order.

    Files named explicitly are taken whatever their name; folders are searched
    recursively for ``*rollout-*.jsonl`` and ``*rollout-*.jsonl.zst``.

    Raises:
        FileNotFoundError: a path does not exist.
        NoRollouts: a folder holds no rollout file.
    """
    return [candidate.path for candidate in _expand(paths, _is_rollout_name)]


class Candidate(NamedTuple):
    """A file ``import`` tries: ``named`` when it must be a rollout (named ``rollout-*`` or
    given explicitly), else a ``.jsonl`` file met in a folder that may not be one."""

    path: Path
    named: bool


def import_candidates(paths: Iterable[str | os.PathLike[str]]) -> list[Candidate]:
    """Every file ``import`` tries: named rollouts, and the other ``.jsonl`` files of the folders
    (a Codex home's own ``session_index.jsonl`` aside).

    Raises:
        FileNotFoundError: a path does not exist.
        NoRollouts: a folder holds no ``.jsonl`` file.
    """
    return _expand(paths, lambda name: name.endswith(_SUFFIXES) and name != SESSION_INDEX)


def _expand(paths: Iterable[str | os.PathLike[str]], keep: Any) -> list[Candidate]:
    found: list[Candidate] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = [Candidate(file, _is_rollout_name(file.name)) for file in _walk(path, keep)]
            if not files:
                raise NoRollouts(f"{path}: no rollout files (rollout-*.jsonl or .jsonl.zst) in this folder")
        elif path.exists():
            files = [Candidate(path, True)]
        else:
            raise FileNotFoundError(2, "no such file or directory", str(path))
        for file in files:
            if file.path not in seen:
                seen.add(file.path)
                found.append(file)
    return found


def codex_home_files(home: Path) -> tuple[list[Path], list[Path]]:
    """(active, archived) rollout files of a Codex home, where Codex looks for them."""
    files = list(CodexHome(home).scan())
    return [f.path for f in files if not f.archived], [f.path for f in files if f.archived]


def find_in_home(home: Path, thread_id: str) -> Path | None:
    """The rollout file of ``thread_id`` in a Codex home (active first, plain before .zst)."""
    found = CodexHome(home).find(thread_id)
    return found[0].path if found else None


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
