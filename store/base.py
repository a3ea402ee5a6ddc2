"""The ``Store`` API every backend implements, and the parts of it they share.

A store keeps threads as append-only logs of rollout lines numbered 1, 2, ...
(the *seq*). Nothing is ever rewritten: rollback appends a marker, metadata
edits live beside the log, a fork records lineage. Every method is a coroutine
and raises only :class:`rollout.errors.RolloutError` subclasses:

* ``ThreadNotFound`` for an unknown (or deleted) thread id;
* ``ThreadArchived`` when appending to, rolling back, forking or resuming an
  archived thread (reading it is fine);
* ``InvalidInput`` for bad arguments or lines, raised before anything is written;
* ``Conflict`` when ``expected_seq`` is not the thread's last seq;
* ``CorruptLog`` when stored data does not decode; ``StoreError`` otherwise.

Backends implement the abstract methods; ``resume``, ``rollback``,
``import_rollout``, ``export_rollout`` and ``iter_lines`` are written once here
on top of them.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from replay import resume_context
from rollout import events as ev
from rollout.errors import EmptyRollout, InvalidInput, ThreadArchived, UnreadableRollout
from rollout.reader import read_rollout

from .api import Page, ResumedThread, Thread, ThreadInfo
from .line import check_seq, check_thread_id, encode_checked, rollback_line
from .state import ThreadState, absorb, facts, now_ms, parse_ms

__all__ = ["Store", "import_plan"]

T = TypeVar("T")


class Store(ABC):
    """Async thread storage: start, append, read, resume, fork, rollback, list, archive, delete.

    Use as ``async with Backend.open(...) as store``; the store is closed on exit.
    """

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @abstractmethod
    async def close(self) -> None:
        """Finish pending writes and release every resource. Idempotent."""

    # ------------------------------------------------------------------ writes

    @abstractmethod
    async def start_thread(self, meta: ev.SessionMeta | ev.SessionMetaLine) -> ThreadInfo:
        """Create a thread whose first line (seq 1) is its ``session_meta``.

        Args:
            meta: the session metadata; an empty ``id`` gets a new UUIDv7 and an
                empty ``timestamp`` the current time. A decoded ``SessionMetaLine``
                is stored byte for byte.

        Returns:
            The new thread's info (``last_seq == 1``).

        Raises:
            InvalidInput: ``meta`` is not session metadata, or its id is taken.
        """

    @abstractmethod
    async def append(
        self,
        thread_id: str,
        lines: list[ev.Line],
        *,
        expected_seq: int | None = None,
        idempotency_key: str | None = None,
    ) -> int:
        """Append lines durably; returns only once they are committed.

        Args:
            thread_id: the thread.
            lines: rollout line objects, stored as ``rollout.codec.encode_line`` gives them.
            expected_seq: if given, the append happens only if this is the
                thread's last seq (optimistic concurrency).
            idempotency_key: a repeated key returns the first call's result and
                writes nothing.

        Returns:
            The seq of the last line of the thread after the append.

        Raises:
            ThreadNotFound, ThreadArchived, InvalidInput (nothing written; names
            the bad line's index), Conflict (``expected_seq`` mismatch; nothing written).
        """

    @abstractmethod
    async def fork(self, thread_id: str, *, at_turn: int | str | None = None) -> ThreadInfo:
        """Start a new thread that continues a copy of ``thread_id``.

        The child's lines are its own ``session_meta`` (``forked_from_id`` set),
        then the source's lines (all of them, or through turn ``at_turn``), then a
        ``turn_aborted{reason: "interrupted"}`` if that copy ends mid-turn.
        The child inherits the source's name.

        Args:
            thread_id: the source thread.
            at_turn: None for the whole thread, else the last turn to keep, by
                0-based position (negative counts from the end) or by turn id.

        Returns:
            The child's info.

        Raises:
            ThreadNotFound, ThreadArchived, InvalidInput (no such turn).
        """

    async def rollback(self, thread_id: str, num_turns: int) -> Thread:
        """Hide the last ``num_turns`` turns by appending ``thread_rolled_back``.

        Returns:
            The thread with its turns after the rollback.

        Raises:
            InvalidInput (``num_turns`` < 1), ThreadNotFound, ThreadArchived.
        """
        line = rollback_line(num_turns, now_ms())
        await self.append(thread_id, [line])
        return await self.read(thread_id)

    @abstractmethod
    async def set_name(self, thread_id: str, name: str) -> ThreadInfo:
        """Name a thread (trimmed; names need not be unique).

        Raises:
            InvalidInput (empty name), ThreadNotFound.
        """

    @abstractmethod
    async def archive(self, thread_id: str) -> ThreadInfo:
        """Archive a thread (idempotent). Raises ThreadNotFound."""

    @abstractmethod
    async def unarchive(self, thread_id: str) -> ThreadInfo:
        """Unarchive a thread; it counts as updated now. Raises ThreadNotFound."""

    @abstractmethod
    async def delete(self, thread_id: str) -> None:
        """Delete a thread; forks of it stay readable. Raises ThreadNotFound."""

    # ------------------------------------------------------------------ reads

    @abstractmethod
    async def info(self, thread_id: str) -> ThreadInfo:
        """The thread's metadata without turns. Raises ThreadNotFound."""

    @abstractmethod
    async def read_lines(
        self, thread_id: str, *, after_seq: int | None = None, upto_seq: int | None = None
    ) -> list[ev.Line]:
        """Lines with ``after_seq < seq <= upto_seq`` (defaults: from the start, to the end).

        Raises:
            ThreadNotFound, InvalidInput (negative bounds), CorruptLog.
        """

    async def iter_lines(
        self,
        thread_id: str,
        *,
        after_seq: int | None = None,
        upto_seq: int | None = None,
        page_size: int = 1024,
    ) -> AsyncIterator[ev.Line]:
        """Like :meth:`read_lines`, fetched ``page_size`` lines at a time."""
        start = check_seq("after_seq", after_seq) or 0
        last = (await self.info(thread_id)).last_seq
        end = min(last, check_seq("upto_seq", upto_seq) if upto_seq is not None else last)
        while start < end:
            stop = min(start + max(page_size, 1), end)
            for line in await self.read_lines(thread_id, after_seq=start, upto_seq=stop):
                yield line
            start = stop

    @abstractmethod
    async def read(self, thread_id: str, *, items_view: str = "full") -> Thread:
        """The thread with its turns (``replay.build_turns`` of its lines, not running).

        Args:
            items_view: ``"full"``, ``"summary"`` or ``"notLoaded"``.

        Raises:
            ThreadNotFound, InvalidInput (bad ``items_view``), CorruptLog.
        """

    async def resume(self, thread_id: str) -> ResumedThread:
        """The thread with its turns and the model context to continue it (``replay.resume_context``).

        Raises:
            ThreadNotFound, ThreadArchived (unarchive it first, as Codex requires).
        """
        if (await self.info(thread_id)).archived:
            raise ThreadArchived(thread_id)
        thread = await self.read(thread_id)
        lines = await self.read_lines(thread_id, upto_seq=thread.last_seq)
        context = await self._compute(resume_context, lines)
        return ResumedThread(thread=thread, context=context)

    @abstractmethod
    async def list(
        self,
        *,
        limit: int = 50,
        cursor: str | None = None,
        sort: str = "created_at",
        archived: bool | None = False,
        source: str | list[str] | None = None,
        model_provider: str | list[str] | None = None,
        cwd: str | list[str] | None = None,
        search: str | None = None,
    ) -> Page:
        """One page of threads, newest first by ``sort`` (see :mod:`store.listing`).

        Raises:
            InvalidInput: bad limit, sort, cursor or filter.
        """

    # ------------------------------------------------------------------ files

    async def import_rollout(self, source: str | os.PathLike[str] | bytes) -> str:
        """Store a rollout file (path, bytes or ``.jsonl.zst``) as a new thread.

        Undecodable lines are skipped as Codex's reader skips them; every other
        line is kept byte for byte, so :meth:`export_rollout` gives them back.

        Returns:
            The thread id (the id of the file's first ``session_meta``).

        Raises:
            InvalidInput: unreadable or empty source, no ``session_meta``, or the
                thread already exists.
        """
        state, raw = await self._compute(import_plan, source)
        await self._import(state, raw)
        return state.id

    async def export_rollout(self, thread_id: str) -> bytes:
        """The thread as rollout JSONL bytes (one ``\\n``-terminated line per seq).

        Raises:
            ThreadNotFound, CorruptLog.
        """
        return b"".join(line + b"\n" for line in await self._raw_lines(check_thread_id(thread_id)))

    # ------------------------------------------------------------------ backend hooks

    @abstractmethod
    async def _import(self, state: ThreadState, raw: list[bytes]) -> None:
        """Store an imported thread: its final state and its lines' bytes."""

    @abstractmethod
    async def _raw_lines(self, thread_id: str) -> list[bytes]:
        """Every stored line's bytes, in seq order."""

    async def _compute(self, fn: Callable[..., T], *args: Any) -> T:
        """Run CPU-bound work; backends may move it off the event loop."""
        return fn(*args)


def import_plan(source: Any) -> tuple[ThreadState, list[bytes]]:
    """Read a rollout source and derive the imported thread's state and bytes.

    Raises:
        InvalidInput: see :meth:`Store.import_rollout`.
    """
    try:
        result = read_rollout(source)
    except (EmptyRollout, UnreadableRollout) as exc:
        raise InvalidInput(f"cannot import: {exc}") from exc
    except TypeError as exc:
        raise InvalidInput(f"cannot import a {type(source).__name__}") from exc
    meta = next(
        (l for l in result.lines if isinstance(l, ev.SessionMetaLine) and l.payload.id == result.thread_id),
        None,
    )
    if meta is None:
        raise InvalidInput("cannot import: the rollout has no session_meta")
    raw = [encode_checked(line, i) for i, line in enumerate(result.lines)]
    created = parse_ms(meta.payload.timestamp) or parse_ms(meta.timestamp) or now_ms()
    stamps = (parse_ms(line.timestamp) for line in reversed(result.lines))
    updated = max(next((ms for ms in stamps if ms is not None), created), created)
    state = ThreadState(id=meta.payload.id, created_ms=created, updated_ms=updated)
    return absorb(state, facts(result.lines), 1, len(raw), updated), raw
