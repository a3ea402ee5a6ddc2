"""Pure planning shared by every backend: where a fork ends, what an import does.

* :func:`kept_end`: the line count of the turns a fork keeps (``at_turn``).
* :func:`import_plan`: a rollout source read into the thread it holds (state and
  every line's bytes); :func:`compare` says whether a stored thread is that rollout,
  a prefix of it, or something else.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import replay
from replay import TurnSpan
from rollout import events as ev
from rollout.errors import EmptyRollout, InvalidInput, RolloutError, UnreadableRollout
from rollout.reader import read_rollout

from .clock import thread_key
from .line import encode_checked
from .state import ThreadState, initial_state

__all__ = ["ImportPlan", "compare", "import_plan", "kept_end"]


def kept_end(spans: list[TurnSpan], kept: int | str) -> int:
    """The line count of the first ``kept`` turns (negative: all but the last ``-kept``), or
    of the turns through the one with id ``kept``.

    Raises:
        InvalidInput: no such turn, or fewer turns than asked for.
    """
    if isinstance(kept, str):
        return replay.fork_end(spans, kept)
    count = kept if kept > 0 else len(spans) + kept
    if not 1 <= count <= len(spans):
        raise InvalidInput(f"cannot keep {kept} turns: the thread has {len(spans)}")
    return spans[count - 1].end


class ImportPlan(NamedTuple):
    """A rollout read for import: the thread's state (updated = the file's mtime) and bytes."""

    state: ThreadState
    lines: list[ev.Line]
    raw: list[bytes]
    source: str | None


def import_plan(source: Any) -> ImportPlan:
    """Read a rollout source (a path, bytes or a ``.jsonl.zst``) for import.

    Undecodable lines are skipped as Codex's reader skips them; every other line keeps
    its bytes.

    Raises:
        InvalidInput: unreadable or empty source, no ``session_meta``, or an id that
            is not a UUID; the message starts with the file's path (``PATH: reason``).
    """
    path = os.fspath(source) if isinstance(source, (str, os.PathLike)) else None
    try:
        result = read_rollout(source)
        mtime = os.stat(path).st_mtime_ns // 1_000_000 if path else None
    except (EmptyRollout, UnreadableRollout) as exc:
        raise InvalidInput(str(exc) if path else f"cannot import: {exc}") from exc
    except OSError as exc:
        raise _refused(path, exc.strerror or str(exc)) from exc
    except TypeError as exc:
        raise InvalidInput(f"cannot import a {type(source).__name__}") from exc
    meta = next(
        (l for l in result.lines if isinstance(l, ev.SessionMetaLine) and l.payload.id == result.thread_id),
        None,
    )
    if meta is None:
        raise _refused(path, "not a rollout: it has no session_meta")
    try:
        thread_key(meta.payload.id)
        raw = [encode_checked(line, i) for i, line in enumerate(result.lines)]
    except RolloutError as exc:
        raise _refused(path, str(exc)) from exc
    return ImportPlan(initial_state(meta, result.lines, mtime), result.lines, raw, path)


def _refused(path: str | None, reason: str) -> InvalidInput:
    """An import error: ``PATH: reason`` for a file, ``cannot import: reason`` otherwise."""
    return InvalidInput(f"{path}: {reason}" if path else f"cannot import: {reason}")


def compare(plan: ImportPlan, stored: list[bytes], *, first_seq: int = 1) -> str | None:
    """Why the stored lines are not a prefix of the rollout's, or None when they are.

    Args:
        first_seq: the seq of ``stored[0]`` (a later segment of a thread starts past 1).
    """
    where = f"{plan.source}: " if plan.source else ""
    if len(stored) > len(plan.raw):
        return (f"{where}thread {plan.state.id} is stored with {len(stored)} lines, "
                f"the rollout has only {len(plan.raw)}")
    for line, (mine, theirs) in enumerate(zip(stored, plan.raw), 1):
        if mine != theirs:
            return (f"{where}thread {plan.state.id}: stored line {line + first_seq - 1} differs from "
                    f"the rollout's line {line}")
    return None

