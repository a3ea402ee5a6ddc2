"""The value types every store returns: app-server v2 shapes as msgspec Structs.

``ThreadInfo`` mirrors Codex's v2 ``Thread`` object (spec 6.4) without turns;
``Thread`` adds the rebuilt turns; ``ResumedThread`` pairs a thread with the
model context a resume sends; ``Page`` is one page of ``list``. They encode to
camelCase JSON with ``msgspec.json.encode``, as the app-server sends them.

Two fields go beyond Codex's object: ``archived`` (Codex knows it from the file's
directory) and ``lastSeq``, the 1-based sequence number of the thread's last
line, which callers pass back as ``expected_seq`` for optimistic concurrency.

Must not import: rollout.cli, rich, anything doing I/O.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from replay import ResumeContext, Turn

__all__ = [
    "GitInfo",
    "ItemsView",
    "Page",
    "ResumedThread",
    "SortKey",
    "Thread",
    "ThreadInfo",
    "ThreadStatus",
    "with_turns",
]

SortKey = Literal["created_at", "updated_at"]
ItemsView = Literal["full", "summary", "notLoaded"]


class _V2(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Base: frozen, keyword-only, camelCase on the wire."""


class GitInfo(_V2):
    """Git state recorded in the thread's ``session_meta`` (v2 ``gitInfo``)."""

    sha: str | None = None
    branch: str | None = None
    origin_url: str | None = None


class ThreadStatus(_V2):
    """Runtime status; a store only knows threads that are not loaded."""

    type: str = "notLoaded"


class ThreadInfo(_V2):
    """One thread's identity and listing metadata (v2 ``Thread`` without turns).

    Attributes:
        id: the thread id (the ``id`` of its first ``session_meta``).
        session_id: the session id recorded in the meta, else the thread id.
        forked_from_id: the source thread when this thread is a fork.
        parent_thread_id: the spawning thread of a sub-agent.
        preview: the first user message (legacy request marker stripped), or "".
        model_provider: e.g. ``"openai"``; None when the meta has none.
        created_at: creation time, unix seconds (``session_meta.timestamp``).
        updated_at: time of the last append, unix seconds.
        cwd: working directory of the session.
        cli_version: version of the client that created the thread.
        source: v2 source: ``"cli"``, ``"vscode"``, ``"exec"``, ``"appServer"``,
            ``{"custom": ...}``, ``{"subAgent": ...}`` or ``"unknown"``.
        name: the name given with ``set_name`` (inherited by forks), or None.
        archived: True once archived (until unarchived).
        last_seq: sequence number of the last line (lines are numbered from 1).
    """

    id: str
    session_id: str | None = None
    forked_from_id: str | None = None
    parent_thread_id: str | None = None
    preview: str = ""
    ephemeral: bool = False
    model_provider: str | None = None
    created_at: int = 0
    updated_at: int = 0
    status: ThreadStatus = ThreadStatus()
    path: str | None = None
    cwd: str | None = None
    cli_version: str | None = None
    source: Any = "unknown"
    thread_source: str | None = None
    agent_nickname: str | None = None
    agent_role: str | None = None
    git_info: GitInfo | None = None
    name: str | None = None
    archived: bool = False
    last_seq: int = 0


class Thread(ThreadInfo):
    """A thread with its rebuilt history (``turns``, as ``replay.build_turns`` gives them)."""

    turns: list[Turn] = []


class ResumedThread(_V2):
    """What ``resume`` returns: the thread and the model context to continue it with."""

    thread: Thread
    context: ResumeContext


class Page(_V2):
    """One page of ``list``; pass ``next_cursor`` back to get the next page (None at the end)."""

    data: list[ThreadInfo] = []
    next_cursor: str | None = None


def with_turns(info: ThreadInfo, turns: list[Turn]) -> Thread:
    """``info`` as a :class:`Thread` carrying ``turns``."""
    return Thread(**{name: getattr(info, name) for name in info.__struct_fields__}, turns=turns)
