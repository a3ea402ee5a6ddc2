"""The write commands the core hands a backend, and the rules each one applies.

The core validates a call, builds one frozen command and passes it to the backend's
``_write``. The backend runs it atomically (a transaction, a file lock, the event loop):
it looks up what the command needs, asks the command what to write (the methods here,
pure and shared by every backend), then writes exactly that. So the append steps
(idempotency, then ``Conflict``, then the new state), the shape of a fork (its meta
line, the aborted tail, its state) and archiving are written once.

Must not import: rollout.cli, rich, anything doing I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from msgspec.structs import replace

from replay import MidTurn
from rollout import events as ev
from rollout.codec import encode_line
from rollout.errors import Conflict, InvalidInput

from .feed import Change, ChangeKind
from .line import aborted_line, fork_meta_line
from .state import Fact, ThreadState, absorb, fork_state

__all__ = [
    "Append",
    "AppendPlan",
    "Appended",
    "Command",
    "Delete",
    "Fork",
    "ForkPlan",
    "Import",
    "SetArchived",
    "SetMetadata",
    "SetName",
    "Start",
    "ThreadExists",
    "change_of",
]


class ThreadExists(InvalidInput):
    """A ``Start`` or ``Import`` of an id already stored (callers see ``InvalidInput``)."""

    def __init__(self, thread_id: str) -> None:
        self.thread_id = thread_id
        super().__init__(f"thread {thread_id} already exists")


@dataclass(frozen=True, slots=True)
class Start:
    """A new thread whose only line is ``raw`` (its ``session_meta``)."""

    state: ThreadState
    raw: bytes

    def stamped(self, now: int) -> ThreadState:
        """The new thread's state, written at ``now``."""
        return replace(self.state, updated_ms=max(now, self.state.created_ms))


@dataclass(frozen=True, slots=True)
class Import:
    """A whole thread read from a rollout: its state and every line's bytes (seq 1..n)."""

    state: ThreadState
    raw: list[bytes]
    segment: str | None = None  # a paginated segment's id (its file name's ``_<id>``), for FileStore
    forked_from: str | None = None  # the source, when the import is a fork's copy (reported as ``forked``)


class AppendPlan(NamedTuple):
    """What an append writes: ``raw`` from ``first_seq`` on, then ``state``; nothing when ``repeat``."""

    state: ThreadState
    first_seq: int
    last_seq: int
    repeat: bool


class Appended(NamedTuple):
    """What a backend reports for an append: the last seq, lines written, the state after."""

    last_seq: int
    written: int
    state: ThreadState


@dataclass(frozen=True, slots=True)
class Append:
    """Lines appended to a thread.

    Attributes:
        written_at: when the lines were written (an import's file mtime); None: now.
        archived_ok: append even to an archived thread (re-importing a grown file).
        new_segment: the lines start a new segment of a paginated thread, with this
            segment id: a backend keeping Codex's files writes them to a new file
            (``rollout-<time>-<thread>_<segment>.jsonl``); others just append them.
        kind: what the change feed calls it (``rolled_back`` for a rollback marker).
    """

    thread_id: str
    raw: list[bytes]
    facts: list[Fact]
    expected_seq: int | None = None
    key: str | None = None
    written_at: int | None = None
    archived_ok: bool = False
    new_segment: str | None = None
    kind: ChangeKind = "appended"

    def plan(self, state: ThreadState, key_seq: int | None, now: int) -> AppendPlan:
        """The append steps: a known idempotency key repeats its seq; a stale ``expected_seq``
        is a ``Conflict``; otherwise the lines go after the last one.

        Args:
            state: the thread's current state, read inside the backend's atomic section.
            key_seq: the seq stored for ``key``, or None.
            now: the backend's clock (ignored when ``written_at`` is set).

        Raises:
            Conflict: ``expected_seq`` is not the thread's last seq.
        """
        if self.key is not None and key_seq is not None:
            return AppendPlan(state, state.last_seq + 1, key_seq, True)
        last = state.last_seq
        if self.expected_seq is not None and self.expected_seq != last:
            raise Conflict(self.thread_id, self.expected_seq, last)
        if not self.raw:
            return AppendPlan(state, last + 1, last, False)
        when = now if self.written_at is None else self.written_at
        after = absorb(state, self.facts, last + 1, len(self.raw), when)
        return AppendPlan(after, last + 1, after.last_seq, False)


class ForkPlan(NamedTuple):
    """What a fork writes: its meta line (seq 1), the source's lines 1..``upto`` (as seq
    2..upto+1), then ``tail`` (the ``turn_aborted`` of a copy that ends mid-turn)."""

    state: ThreadState
    meta: ev.SessionMetaLine
    meta_raw: bytes
    upto: int
    tail_raw: list[bytes]


@dataclass(frozen=True, slots=True)
class Fork:
    """A new thread continuing a copy of ``thread_id``'s first ``upto`` lines.

    Attributes:
        meta: ``(field, value)`` pairs the child's ``session_meta`` takes instead of the
            source's (the client that forks: ``source``, ``originator``, ``cli_version``).
    """

    thread_id: str
    upto: int
    open_turn: MidTurn | None
    meta: tuple[tuple[str, Any], ...] = ()

    def plan(self, source: ThreadState, full_meta: ev.SessionMeta | None, child_id: str, now: int) -> ForkPlan:
        """The child: the source's meta (with its newest git and memory mode) under a new id,
        ``forked_from_id`` and time; an aborted tail when the copy ends mid-turn; its state.

        Args:
            source: the source's state, read inside the backend's atomic section.
            full_meta: the source's whole canonical ``session_meta`` payload (line ``meta_seq``).
            child_id: a fresh thread id the backend checked is free.
            now: the backend's clock.
        """
        base = full_meta or source.meta or ev.SessionMeta(id=source.id)
        base = replace(base, git=source.current_git, memory_mode=source.memory_mode, **dict(self.meta))
        meta = fork_meta_line(base, child_id, self.thread_id, now)
        tail = [] if self.open_turn is None else [aborted_line(self.open_turn.turn_id, now)]
        upto = min(self.upto, source.last_seq)
        state = fork_state(source, meta, upto, tail, now)
        return ForkPlan(state, meta, encode_line(meta), upto, [encode_line(line) for line in tail])


@dataclass(frozen=True, slots=True)
class SetName:
    """Name a thread (the name already checked)."""

    thread_id: str
    name: str

    def apply(self, state: ThreadState) -> ThreadState:
        return replace(state, name=self.name)


@dataclass(frozen=True, slots=True)
class SetMetadata:
    """Edit a thread's git metadata in place: each ``(GitInfo field, value)`` pair is set,
    a None value clearing the field. The edit is kept beside the log (``git_edit``), which
    is left alone, and wins over what the log records."""

    thread_id: str
    git: tuple[tuple[str, str | None], ...]

    def apply(self, state: ThreadState) -> ThreadState:
        return replace(state, git_edit=replace(state.current_git or ev.GitInfo(), **dict(self.git)))


@dataclass(frozen=True, slots=True)
class SetArchived:
    """Archive a thread, or unarchive it (which counts as an update, as Codex touches the file)."""

    thread_id: str
    archived: bool

    def apply(self, state: ThreadState, now: int) -> ThreadState:
        if self.archived:
            return replace(state, archived=True)
        return replace(state, archived=False, updated_ms=max(now, state.updated_ms))


@dataclass(frozen=True, slots=True)
class Delete:
    """Delete a thread; forks of it stay readable."""

    thread_id: str


Command = Start | Import | Append | Fork | SetName | SetMetadata | SetArchived | Delete


def change_of(command: Command, result: Any) -> Change | None:
    """What the change feed reports of ``command`` once it has committed with ``result``
    (what ``_write`` returned); None when it wrote nothing (a repeated or empty append)."""
    match command:
        case Import(forked_from=str(source)):
            return Change(kind="forked", thread_id=result.id, last_seq=result.last_seq, source_id=source)
        case Start() | Import():
            return Change(kind="started", thread_id=result.id, last_seq=result.last_seq)
        case Append():
            done: Appended = result
            return Change(kind=command.kind, thread_id=command.thread_id, last_seq=done.last_seq) if done.written else None
        case Fork():
            return Change(kind="forked", thread_id=result.id, last_seq=result.last_seq, source_id=command.thread_id)
        case Delete():
            return Change(kind="deleted", thread_id=command.thread_id)
    kind: ChangeKind = {SetName: "named", SetMetadata: "metadata"}.get(type(command), "archived")  # type: ignore[assignment]
    if isinstance(command, SetArchived) and not command.archived:
        kind = "unarchived"
    return Change(kind=kind, thread_id=command.thread_id, last_seq=result.last_seq)

