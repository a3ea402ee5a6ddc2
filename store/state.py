"""Per-thread metadata folded from its lines: the state every backend keeps.

A :class:`ThreadState` is what a store knows about a thread without replaying
it: identity and listing fields from its own ``session_meta`` lines, the preview
(first user message), name, archive flag, timestamps, the last seq, and which
explicit turn is open (so a fork can tell whether its copy ends mid-turn).

Lines are reduced to :data:`Fact` tuples once, before a write is queued
(:func:`facts`), and folded into the state by the writer (:func:`absorb`), so
the writer never inspects line objects. Backends persist the state as msgpack.

Must not import: rollout.cli, rich, anything doing I/O.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import msgspec
from msgspec.structs import replace

from replay import TurnSpan, fork_end
from replay.convert import error_affects_turn
from rollout import events as ev
from rollout.compat import preview_text, source_kind, v2_source

from .api import GitInfo, ThreadInfo

__all__ = [
    "STATE_DECODER",
    "STATE_ENCODER",
    "Clock",
    "Fact",
    "ThreadState",
    "absorb",
    "facts",
    "fork_span",
    "fork_state",
    "iso_ms",
    "new_thread_id",
    "now_ms",
    "open_turn_after",
    "parse_ms",
    "slim",
    "start_state",
    "thread_info",
]

#: ``(offset in the appended lines, kind, value)``; kinds: ``meta``, ``preview``,
#: ``start``, ``end``, ``fail``, ``reset``.
Fact = tuple[int, str, Any]


class ThreadState(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What a store keeps about one thread besides its lines.

    Attributes:
        id: thread id.
        created_ms: creation time (``session_meta.timestamp``), unix ms.
        updated_ms: time of the last append (or unarchive), unix ms.
        last_seq: seq of the last line; lines are numbered 1..last_seq.
        meta: the thread's canonical (first own) ``session_meta`` payload, slimmed
            (see :func:`slim`); the whole payload is line ``meta_seq``.
        meta_seq: seq of the canonical ``session_meta`` line (0: none yet).
        git: newest non-null ``git`` among its own ``session_meta`` lines.
        memory_mode: newest ``memory_mode`` among its own ``session_meta`` lines.
        preview: preview text of the first user message ("" until one arrives).
        preview_seq: seq of the line the preview came from (0: none).
        name: name set with ``set_name``, or None.
        archived: archive flag.
        open_turn: id of the explicit turn started but not yet ended, if any.
    """

    id: str
    created_ms: int
    updated_ms: int
    last_seq: int = 0
    meta: ev.SessionMeta | None = None
    meta_seq: int = 0
    git: ev.GitInfo | None = None
    memory_mode: str | None = None
    preview: str = ""
    preview_seq: int = 0
    name: str | None = None
    archived: bool = False
    open_turn: str | None = None

    @property
    def source_kind(self) -> str:
        """v2 source kind (``cli``, ``vscode``, ``subAgent``, ...), used by list filters."""
        return source_kind(self.meta.source if self.meta else None)


STATE_ENCODER = msgspec.msgpack.Encoder()
STATE_DECODER = msgspec.msgpack.Decoder(ThreadState)


# --------------------------------------------------------------------------- facts


def facts(lines: Iterable[ev.Line]) -> list[Fact]:
    """Reduce lines to the facts :func:`absorb` needs (most lines give none)."""
    found: list[Fact] = []
    for offset, line in enumerate(lines):
        match line:
            case ev.SessionMetaLine(payload=meta):
                found.append((offset, "meta", meta))
            case ev.EventMsgLine(payload=event):
                _event_fact(found, offset, event)
            case ev.ResponseItemLine(timestamp=None, payload=ev.Message(role="user") as message):
                text = _legacy_user_text(message)
                if text:
                    found.append((offset, "preview", text))
    return found


def _event_fact(found: list[Fact], offset: int, event: Any) -> None:
    match event:
        case ev.UserMessageEvent(message=message, images=images, local_images=local):
            text = preview_text(message, has_images=bool(images or local))
            if text:
                found.append((offset, "preview", text))
        case ev.TaskStartedEvent(turn_id=turn_id):  # also TurnStartedEvent
            found.append((offset, "start", turn_id))
        case ev.TaskCompleteEvent(turn_id=turn_id):  # also TurnCompleteEvent
            found.append((offset, "end", turn_id))
        case ev.TurnAbortedEvent(turn_id=turn_id):
            found.append((offset, "end", turn_id))
        case ev.ErrorEvent(codex_error_info=info) if error_affects_turn(info):
            found.append((offset, "fail", None))
        case ev.ThreadRolledBackEvent():
            found.append((offset, "reset", None))
        case ev.ThreadGoalUpdatedEvent(goal={"objective": str(objective)}) if objective.strip():
            found.append((offset, "preview", objective.strip()))


def _legacy_user_text(message: ev.Message) -> str:
    """Preview of a pre-envelope (2025) user message; injected context does not count."""
    for part in message.content:
        if isinstance(part, ev.InputText) and not part.text.lstrip().startswith("<"):
            return preview_text(part.text)
    return ""


def absorb(state: ThreadState, found: list[Fact], first_seq: int, count: int, now: int) -> ThreadState:
    """Fold the facts of ``count`` lines appended at ``first_seq`` into a new state."""
    changes: dict[str, Any] = {"last_seq": first_seq + count - 1, "updated_ms": max(now, state.updated_ms)}
    open_turn = state.open_turn
    for offset, kind, value in found:
        if kind == "meta":
            _absorb_meta(state, changes, value, first_seq + offset)
        elif kind == "preview":
            if not (changes.get("preview") or state.preview):
                changes["preview"], changes["preview_seq"] = value, first_seq + offset
        else:
            open_turn = _track(open_turn, kind, value)
    changes["open_turn"] = open_turn
    return replace(state, **changes)


def _absorb_meta(state: ThreadState, changes: dict[str, Any], meta: ev.SessionMeta, seq: int) -> None:
    if meta.id != state.id:
        return  # a fork's copy of its source's meta, or a foreign meta
    if state.meta is None and "meta" not in changes:
        changes["meta"], changes["meta_seq"] = slim(meta), seq
    if meta.git is not None:
        changes["git"] = meta.git
    if meta.memory_mode is not None:
        changes["memory_mode"] = meta.memory_mode


def _track(open_turn: str | None, kind: str, value: Any) -> str | None:
    """The explicit turn still open after one lifecycle fact."""
    if kind == "start":
        return value
    if kind == "end":
        return None if value in (None, "", open_turn) else open_turn
    return None  # "fail": the turn has ended failed; "reset": rollback finishes it


def open_turn_after(lines: Iterable[ev.Line], open_turn: str | None = None) -> str | None:
    """The explicit turn open after ``lines`` (starting from ``open_turn``)."""
    for _, kind, value in facts(lines):
        if kind in ("start", "end", "fail", "reset"):
            open_turn = _track(open_turn, kind, value)
    return open_turn


def start_state(line: ev.SessionMetaLine, now: int) -> ThreadState:
    """The state of a thread that has just its first line, ``line``."""
    payload = line.payload
    created = parse_ms(payload.timestamp) or parse_ms(line.timestamp) or now
    state = ThreadState(id=payload.id, created_ms=created, updated_ms=now)
    return absorb(state, facts([line]), 1, 1, now)


def slim(meta: ev.SessionMeta) -> ev.SessionMeta:
    """``meta`` without the bulky fields listing never shows (instructions, dynamic tools)."""
    return replace(meta, base_instructions=None, instructions=None, dynamic_tools=None)


def fork_span(spans: list[TurnSpan], at_turn: int | str) -> TurnSpan:
    """The turn a fork ends with (``replay.fork_end`` semantics).

    Raises:
        InvalidInput: no such turn.
    """
    fork_end(spans, at_turn)  # raises InvalidInput for a missing turn
    if isinstance(at_turn, str):
        return next(span for span in spans if span.turn_id == at_turn)
    return spans[at_turn]


def fork_state(
    source: ThreadState, meta: ev.SessionMetaLine, upto: int, tail: list[ev.Line], now: int
) -> ThreadState:
    """The state of a fork: its own meta, the source's preview if copied, the source's name."""
    copied = source.preview_seq and source.preview_seq <= upto
    state = ThreadState(
        id=meta.payload.id,
        created_ms=now,
        updated_ms=now,
        last_seq=1 + upto,
        meta=slim(meta.payload),
        meta_seq=1,
        git=source.git,
        memory_mode=source.memory_mode,
        preview=source.preview if copied else "",
        preview_seq=source.preview_seq + 1 if copied else 0,
        name=source.name,
    )
    if not tail:
        return state
    return absorb(state, facts(tail), upto + 2, len(tail), now)


# --------------------------------------------------------------------------- info


def thread_info(state: ThreadState) -> ThreadInfo:
    """The v2 ``Thread`` fields (without turns) of a state."""
    meta = state.meta or ev.SessionMeta(id=state.id)
    git = state.git or meta.git
    return ThreadInfo(
        id=state.id,
        session_id=meta.session_id or state.id,
        forked_from_id=meta.forked_from_id,
        parent_thread_id=meta.parent_thread_id,
        preview=state.preview,
        model_provider=meta.model_provider,
        created_at=state.created_ms // 1000,
        updated_at=state.updated_ms // 1000,
        cwd=meta.cwd,
        cli_version=meta.cli_version,
        source=v2_source(meta.source),
        thread_source=meta.thread_source,
        agent_nickname=meta.agent_nickname,
        agent_role=meta.agent_role,
        git_info=None if git is None else GitInfo(
            sha=git.commit_hash, branch=git.branch, origin_url=git.repository_url
        ),
        name=state.name,
        archived=state.archived,
        last_seq=state.last_seq,
    )




# --------------------------------------------------------------------------- time and ids


def now_ms() -> int:
    """Wall-clock time in unix milliseconds."""
    return time.time_ns() // 1_000_000


class Clock:
    """Strictly increasing unix-ms stamps for one writer, so "updated" never ties within a store."""

    def __init__(self) -> None:
        self._last = 0

    def tick(self) -> int:
        """The current time in ms, or one ms after the previous stamp if that is later."""
        self._last = max(now_ms(), self._last + 1)
        return self._last


def iso_ms(ms: int) -> str:
    """``YYYY-MM-DDThh:mm:ss.mmmZ`` (UTC), the rollout timestamp format."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_ms(text: str | None) -> int | None:
    """Unix ms of an RFC 3339 timestamp (a naive one is taken as UTC); None if unparsable."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def new_thread_id() -> str:
    """A fresh UUIDv7 string (48-bit ms timestamp, then random bits)."""
    rand = int.from_bytes(os.urandom(10), "big")
    value = (now_ms() & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76 | ((rand >> 62) & 0xFFF) << 64 | 0b10 << 62 | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))
