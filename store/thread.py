"""The values every store returns: Codex app-server v2 shapes as msgspec Structs.

``ThreadInfo`` is Codex 0.171.0's v2 ``Thread`` object as ``thread/list`` sends it: every
key Codex sends, in Codex's order, ``null`` included, and ``turns: []``. ``Thread`` is the
same object with its rebuilt turns (``thread/read`` with ``includeTurns``);
``ResumedThread`` pairs a thread with the model context a resume sends; ``Page`` is one
page of ``list``; ``TurnSlice`` a range of a thread's turns; ``ImportResult`` says what importing a rollout did. They encode to
camelCase JSON with ``msgspec.json.encode``, as the app-server sends them.

Two keys go beyond Codex's object, after all of Codex's (the schema allows extra keys):
``archived`` (Codex knows it from the file's folder) and ``lastSeq``, the 1-based sequence
number of the thread's last line, which callers pass back as ``expected_seq``.

Must not import: rollout.cli, rich, anything doing I/O.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from replay import ResumeContext, Turn

__all__ = [
    "GitInfo",
    "ImportResult",
    "Page",
    "ResumedThread",
    "SortKey",
    "Thread",
    "ThreadInfo",
    "ThreadStatus",
    "TurnSlice",
]

SortKey = Literal["created_at", "updated_at"]


class _V2(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Base: frozen, keyword-only, camelCase on the wire, every field sent (nulls too)."""


class GitInfo(_V2):
    """Git state recorded in the thread's ``session_meta`` (v2 ``gitInfo``)."""

    sha: str | None = None
    branch: str | None = None
    origin_url: str | None = None


class ThreadStatus(_V2):
    """Runtime status; a store only knows threads that are not loaded."""

    type: str = "notLoaded"


class ThreadInfo(_V2):
    """One thread's identity and listing metadata: Codex's v2 ``Thread`` with ``turns: []``.

    Attributes:
        id: the thread id (the ``id`` of its first ``session_meta``), lower-case.
        session_id: the session id recorded in the meta, else the thread id.
        forked_from_id: the source thread when this thread is a fork.
        parent_thread_id: the spawning thread of a sub-agent.
        preview: the first user message (legacy request marker stripped), or "".
        history_mode: ``"legacy"`` or ``"paginated"`` (``session_meta.history_mode``).
        model_provider: e.g. ``"openai"`` (Codex's default when the meta has none).
        model, reasoning_effort: the latest persisted model settings, or None.
        created_at: creation time, unix seconds (``session_meta.timestamp``).
        updated_at: when the thread's log was last written, unix seconds (Codex: the
            file's mtime); ``recency_at`` is the same time.
        path: the rollout file (``FileStore``), else None.
        cwd: working directory of the session ("" when unknown).
        cli_version: version of the client that created the thread ("" when unknown).
        originator: the client that created the thread, e.g. ``"codex_cli_rs"``.
        source: v2 source: ``"cli"``, ``"vscode"``, ``"exec"``, ``"appServer"``,
            ``{"custom": ...}``, ``{"subAgent": ...}`` or ``"unknown"``.
        git_info: git state from the newest own ``session_meta`` that has one.
        name: the name given with ``set_name`` (inherited by forks), or None.
        archived: True once archived (until unarchived). Not in Codex's object.
        last_seq: sequence number of the last line (from 1). Not in Codex's object.
    """

    id: str
    environments: None = None
    extra: None = None
    session_id: str = ""
    forked_from_id: str | None = None
    attached_to_thread_id: None = None
    parent_thread_id: str | None = None
    preview: str = ""
    ephemeral: bool = False
    section: None = None
    section_entered_at: None = None
    project_id: None = None
    history_mode: str = "legacy"
    model_provider: str = "openai"
    model: str | None = None
    reasoning_effort: str | None = None
    created_at: int = 0
    updated_at: int = 0
    recency_at: int | None = None
    status: ThreadStatus = ThreadStatus()
    path: str | None = None
    cwd: str = ""
    cli_version: str = ""
    originator: str | None = None
    source: Any = "unknown"
    can_accept_direct_input: None = None
    thread_source: str | None = None
    agent_nickname: str | None = None
    agent_role: str | None = None
    git_info: GitInfo | None = None
    name: str | None = None
    daybreak_enabled: None = None
    turns: list[Turn] = []
    archived: bool = False
    last_seq: int = 0


class Thread(ThreadInfo):
    """A thread with its rebuilt history in ``turns`` (``replay.build_turns`` of its lines)."""


class ResumedThread(_V2):
    """What ``resume`` returns: the thread and the model context to continue it with."""

    thread: Thread
    context: ResumeContext


class Page(_V2):
    """One page of ``list``.

    Attributes:
        next_cursor: pass it back with the same arguments for the next page (None at the end).
        backwards_cursor: pass it back with the opposite ``direction`` to walk the other
            way from this page's first thread, that thread included (None for an empty page).
    """

    data: list[ThreadInfo] = []
    next_cursor: str | None = None
    backwards_cursor: str | None = None


class TurnSlice(_V2):
    """A range of a thread's turns (:meth:`store.core.Store.turns`).

    Attributes:
        thread: the thread's info when the turns were read.
        turns: the turns, oldest first.
        start: the position of ``turns[0]`` among the thread's turns (oldest first, from 0).
        total: how many turns the thread has.
    """

    thread: ThreadInfo
    turns: list[Turn] = []
    start: int = 0
    total: int = 0


ImportStatus = Literal["new", "appended", "unchanged", "diverged"]


class ImportResult(_V2):
    """What importing one rollout did.

    Attributes:
        thread_id: the thread the rollout holds.
        status: ``"new"`` (stored as a new thread), ``"appended"`` (the stored thread
            was a prefix of the rollout: only the new lines were added), ``"unchanged"``
            (already stored as it is) or ``"diverged"`` (stored lines differ from the
            rollout's: nothing was changed; ``detail`` says where).
        lines_added: lines written by this import.
        last_seq: the stored thread's last seq afterwards.
        source: the file imported from, when it was a path.
        detail: why the rollout diverged, naming the file, the thread and the line.
        gap: for a paginated segment stored without the segment it continues from: what
            is missing (the thread shows what follows; see ``Store.lineage``).
    """

    thread_id: str
    status: ImportStatus
    lines_added: int = 0
    last_seq: int = 0
    source: str | None = None
    detail: str | None = None
    gap: str | None = None

