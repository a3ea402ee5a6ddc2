"""What a store knows about a thread without replaying it, and the one way to present it.

A :class:`ThreadState` holds identity and listing fields from the thread's own
``session_meta`` lines, the preview (first user message), the latest model settings,
name, archive flag, times and the last seq. Lines are reduced to :data:`Fact` tuples
once, before a write is queued (:func:`facts`), and folded into the state by whoever
applies the write (:func:`absorb`), so writers never inspect line objects. Backends
persist the state as msgpack.

:func:`thread_info` is the only place thread metadata is derived: every store's
``ThreadInfo``, every list entry and ``rollout inspect``'s summary come from it.

Must not import: rollout.cli, rich, anything doing I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, overload

import msgspec
from msgspec.structs import replace

from replay import Turn
from rollout import events as ev
from rollout.compat import list_kind, preview_text, v2_source
from rollout.readable import codex_reads
from rollout.thread_meta import (
    DEFAULT_PROVIDER,
    GUARDIAN_NAME,
    GUARDIAN_PREVIEW,
    is_guardian,
    redact_origin_url,
    settings_of,
    spawn_of,
    user_item_text,
)

from .clock import parse_ms
from .thread import GitInfo, Thread, ThreadInfo

__all__ = [
    "STATE_DECODER",
    "STATE_ENCODER",
    "Fact",
    "ThreadState",
    "absorb",
    "facts",
    "folded_state",
    "fork_state",
    "initial_state",
    "slim",
    "thread_info",
]

#: ``(offset in the appended lines, kind, value)``; kinds: ``meta``, ``preview``, ``settings``.
Fact = tuple[int, str, Any]


class ThreadState(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What a store keeps about one thread besides its lines.

    Attributes:
        id: thread id (lower-case).
        created_ms: creation time (``session_meta.timestamp``), unix ms.
        updated_ms: when the thread's log was last written, unix ms (Codex: file mtime).
        last_seq: seq of the last line; lines are numbered 1..last_seq.
        meta: the thread's canonical (first own) ``session_meta`` payload, slimmed
            (see :func:`slim`); the whole payload is line ``meta_seq``.
        meta_seq: seq of the canonical ``session_meta`` line (0: none yet).
        git: newest non-null ``git`` among its own ``session_meta`` lines.
        git_edit: git metadata edited in place (``update_metadata``); it wins over ``git``.
        memory_mode: newest ``memory_mode`` among its own ``session_meta`` lines.
        preview: preview text of the first user message ("" until one arrives).
        preview_seq: seq of the line the preview came from (0: none).
        model, effort: the latest model settings Codex reads (``rollout.thread_meta``).
        name: name set with ``set_name``, or None.
        archived: archive flag.
        path: the thread's file, for stores that keep one (never persisted by them).
        segment_starts: seqs of the thread's own ``session_meta`` lines that carry a
            ``history_base``: where a paginated thread's later segment starts in its log
            (seq 1 when even the first segment continues another history). Empty for a
            thread read straight from its lines (see :mod:`store.segmented`).
    """

    id: str
    created_ms: int
    updated_ms: int
    last_seq: int = 0
    meta: ev.SessionMeta | None = None
    meta_seq: int = 0
    git: ev.GitInfo | None = None
    git_edit: ev.GitInfo | None = None
    memory_mode: str | None = None
    preview: str = ""
    preview_seq: int = 0
    model: str | None = None
    effort: str | None = None
    name: str | None = None
    archived: bool = False
    path: str | None = None
    segment_starts: list[int] = []

    @property
    def source_kind(self) -> str:
        """The kind list filters use (``cli``, ``vscode``, ``subAgentReview``, ...: :func:`rollout.compat.list_kind`)."""
        return list_kind(self.meta.source if self.meta else None)

    @property
    def current_git(self) -> ev.GitInfo | None:
        """The thread's git metadata: the edit if there is one, else the newest recorded."""
        if self.git_edit is not None:
            return self.git_edit
        return self.git or (self.meta.git if self.meta else None)

    @property
    def shown_name(self) -> str | None:
        """The name Codex shows: the one given, else the guardian's fixed name for a guardian sub-agent."""
        if self.name:
            return self.name
        source = self.meta.source if self.meta else None
        return GUARDIAN_NAME if isinstance(source, dict) and is_guardian(source) else None

    @property
    def model_provider(self) -> str:
        """The model provider, Codex's default when the meta names none."""
        return (self.meta.model_provider if self.meta else None) or DEFAULT_PROVIDER


STATE_ENCODER = msgspec.msgpack.Encoder()
STATE_DECODER = msgspec.msgpack.Decoder(ThreadState)


# --------------------------------------------------------------------------- facts


def facts(lines: Iterable[ev.Line]) -> list[Fact]:
    """Reduce lines to the facts :func:`absorb` needs (most lines give none)."""
    found: list[Fact] = []
    for offset, line in enumerate(lines):
        # Most lines are items with a timestamp or events that tell nothing: skipped first.
        if (type(line) is ev.ResponseItemLine and line.timestamp is not None) or (
                type(line) is ev.EventMsgLine and not isinstance(line.payload, _FACT_EVENTS)):
            continue
        # A line Codex drops when it reads the file tells nothing (codex_reads). Only the few
        # kinds that can tell something are checked: the check costs more than the rest.
        match line:
            case ev.SessionMetaLine(payload=meta):
                found.append((offset, "meta", meta))
            case ev.EventMsgLine(payload=event) if isinstance(event, _FACT_EVENTS) and codex_reads(line):
                _event_fact(found, offset, event)
            case ev.TurnContextLine(payload=context) if (
                    (settings := settings_of(context)) is not None and codex_reads(line)):
                found.append((offset, "settings", settings))
            case ev.ResponseItemLine(timestamp=None, payload=ev.Message(role="user") as message):
                text = _legacy_user_text(message)
                if text:
                    found.append((offset, "preview", text))
    return found


#: the events :func:`_event_fact` takes a fact from (every other event gives none)
_FACT_EVENTS = (ev.UserMessageEvent, ev.ThreadGoalUpdatedEvent, ev.ThreadSettingsAppliedEvent, ev.ItemCompletedEvent)


def _event_fact(found: list[Fact], offset: int, event: Any) -> None:
    match event:
        case ev.UserMessageEvent(message=message, images=images, local_images=local):
            text = preview_text(message, has_images=bool(images or local))
            if text:
                found.append((offset, "preview", text))
        case ev.ThreadGoalUpdatedEvent(goal={"objective": str(objective)}) if objective.strip():
            found.append((offset, "preview", objective.strip()))
        case ev.ThreadSettingsAppliedEvent() if (settings := settings_of(event)) is not None:
            found.append((offset, "settings", settings))
        case ev.ItemCompletedEvent(item={"type": "UserMessage", "content": list(content)}):
            text = preview_text(user_item_text(content), has_images=any(_is_image(part) for part in content))
            if text:
                found.append((offset, "preview", text))


def _is_image(part: Any) -> bool:
    return isinstance(part, dict) and part.get("type") in ("image", "localImage")


def _legacy_user_text(message: ev.Message) -> str:
    """Preview of a pre-envelope (2025) user message; injected context does not count."""
    for part in message.content:
        if isinstance(part, ev.InputText) and not part.text.lstrip().startswith("<"):
            return preview_text(part.text)
    return ""


def absorb(state: ThreadState, found: list[Fact], first_seq: int, count: int, now: int) -> ThreadState:
    """Fold the facts of ``count`` lines appended at ``first_seq``, written at ``now``, into a new state."""
    changes: dict[str, Any] = {"last_seq": first_seq + count - 1, "updated_ms": max(now, state.updated_ms)}
    for offset, kind, value in found:
        if kind == "meta":
            _absorb_meta(state, changes, value, first_seq + offset)
        elif kind == "preview":
            if not (changes.get("preview") or state.preview):
                changes["preview"], changes["preview_seq"] = value, first_seq + offset
        elif kind == "settings":
            changes["model"], changes["effort"] = value
    return replace(state, **changes)


def _absorb_meta(state: ThreadState, changes: dict[str, Any], meta: ev.SessionMeta, seq: int) -> None:
    if meta.id.lower() != state.id:
        return  # a fork's copy of its source's meta, or a foreign meta
    if meta.history_base is not None:
        changes["segment_starts"] = [*changes.get("segment_starts", state.segment_starts), seq]
    if state.meta is None and "meta" not in changes:
        changes["meta"], changes["meta_seq"] = slim(meta), seq
    if meta.git is not None:
        changes["git"] = meta.git
    if meta.memory_mode is not None:
        changes["memory_mode"] = meta.memory_mode


def initial_state(meta: ev.SessionMetaLine, lines: list[ev.Line], updated_ms: int | None, *,
                  created_ms: int | None = None) -> ThreadState:
    """The state of a whole thread (a new one, or one read from a file).

    Args:
        meta: the thread's own first ``session_meta`` line (its id names the thread).
        lines: every line of the thread, ``meta`` included.
        updated_ms: when the log was last written (a file's mtime, taken as it is, as
            Codex does); None: its newest line's time, never before the creation time.
        created_ms: the creation time when the meta records none (a file name's stamp).
    """
    newest = next((ms for ms in (parse_ms(line.timestamp) for line in reversed(lines)) if ms is not None), None)
    return folded_state(meta, facts(lines), len(lines), updated_ms, newest_ms=newest, created_ms=created_ms)


def folded_state(meta: ev.SessionMetaLine, found: list[Fact], count: int, updated_ms: int | None, *,
                 newest_ms: int | None = None, created_ms: int | None = None) -> ThreadState:
    """:func:`initial_state` from the facts of ``count`` lines already reduced (a streaming reader).

    Args:
        newest_ms: the newest line time, used when ``updated_ms`` is None.
    """
    created = parse_ms(meta.payload.timestamp) or parse_ms(meta.timestamp) or created_ms or updated_ms or newest_ms
    created = created or 0
    if updated_ms is None:
        updated_ms = max(newest_ms or created, created)
    state = ThreadState(id=meta.payload.id.lower(), created_ms=created, updated_ms=updated_ms)
    return absorb(state, found, 1, count, updated_ms)


def slim(meta: ev.SessionMeta) -> ev.SessionMeta:
    """``meta`` without the bulky fields listing never shows (instructions, dynamic tools)."""
    return replace(meta, base_instructions=None, instructions=None, dynamic_tools=None)


def fork_state(source: ThreadState, meta: ev.SessionMetaLine, upto: int, tail: list[Any], now: int) -> ThreadState:
    """The state of a fork: its own meta, the source's preview and settings if copied, the source's name."""
    copied = bool(source.preview_seq) and source.preview_seq <= upto
    state = ThreadState(
        id=meta.payload.id,
        created_ms=now,
        updated_ms=now,
        last_seq=1 + upto,
        meta=slim(meta.payload),
        meta_seq=1,
        git=meta.payload.git,
        memory_mode=meta.payload.memory_mode,
        preview=source.preview if copied else "",
        preview_seq=source.preview_seq + 1 if copied else 0,
        model=source.model,
        effort=source.effort,
        name=source.shown_name,  # as Codex names a fork: what the source is shown with
    )
    if not tail:
        return state
    return absorb(state, facts(tail), upto + 2, len(tail), now)


# --------------------------------------------------------------------------- info


@overload
def thread_info(state: ThreadState, *, listed: bool = False, turns: None = None) -> ThreadInfo: ...


@overload
def thread_info(state: ThreadState, *, listed: bool = False, turns: list[Turn]) -> Thread: ...


def thread_info(state: ThreadState, *, listed: bool = False, turns: list[Turn] | None = None) -> ThreadInfo:
    """Codex's v2 ``Thread`` object for a thread state: the one derivation of thread metadata.

    Args:
        turns: the thread's turns: the result is then a :class:`Thread` carrying them
            (else a ``ThreadInfo`` with ``turns: []``).
        listed: the object as a ``thread/list`` entry, where Codex 0.171.0 sends
            ``forkedFromId`` and ``threadSource`` as null; ``thread/read`` sends the fork's
            source, and ``threadSource`` for a paginated-history thread, or for any thread
            read with its turns (Codex reads the rollout's meta then).
    """
    meta = state.meta or ev.SessionMeta(id=state.id)
    source = meta.source
    # Only a dict source (a sub-agent, a custom one) can be the guardian or a spawn.
    guardian = isinstance(source, dict) and is_guardian(source)
    spawn = (spawn_of(source) or {}) if isinstance(source, dict) else {}
    updated = state.updated_ms // 1000
    history = meta.history_mode if meta.history_mode in ("legacy", "paginated") else "legacy"
    return (ThreadInfo if turns is None else Thread)(
        id=state.id,
        session_id=state.id,  # Codex 0.171.0 answers the thread id, whatever the meta records
        forked_from_id=None if listed else meta.forked_from_id,
        preview=GUARDIAN_PREVIEW if guardian else state.preview,
        history_mode=history,
        model_provider=state.model_provider,
        model=state.model,
        reasoning_effort=state.effort,
        created_at=state.created_ms // 1000,
        updated_at=updated,
        recency_at=updated,
        path=state.path,
        cwd=meta.cwd or "",
        cli_version=meta.cli_version or "",
        originator=meta.originator,
        source=v2_source(source),
        thread_source=meta.thread_source if (history == "paginated" or turns is not None) and not listed else None,
        agent_nickname=meta.agent_nickname or (_text(spawn.get("agent_nickname")) if spawn else None),
        agent_role=meta.agent_role or (_text(spawn.get("agent_role")) if spawn else None),
        git_info=_git_info(state.current_git),
        name=state.shown_name,
        turns=[] if turns is None else turns,
        archived=state.archived,
        last_seq=state.last_seq,
    )


def _git_info(git: ev.GitInfo | None) -> GitInfo | None:
    if git is None or not (git.commit_hash or git.branch or git.repository_url):
        return None
    return GitInfo(sha=git.commit_hash, branch=git.branch, origin_url=redact_origin_url(git.repository_url))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
