"""Paginated threads in segments, on the store side: one log per thread, read as Codex's chain.

Codex 0.152+ never rewrites a paginated rollout: a revert starts a new *segment* file of the
same thread (its ``session_meta.history_base`` names the thread and the ordinal its history
is cut at), a fork starts the child's first segment based on the parent (see
:mod:`replay.segments`). A store keeps each thread's segments one after another in the
thread's append-only log, oldest first, so the current segment is the log's tail and an
append continues it. :attr:`store.state.ThreadState.segment_starts` says where each segment
with a base starts.

Reading such a thread (``read``, ``resume``, ``rollback``'s turn count, ``fork``, export)
goes through the chain: the log is cut into its segments, the bases are looked up (a
fork's base is another stored thread), and :func:`replay.segments.join` gives the lines to
replay. A base no stored segment satisfies is a gap: reported by :meth:`Store.lineage`
and on import, never fatal; the thread then shows what follows the gap (Codex refuses
such a thread). ``read_lines`` still gives the log itself, seq by seq.

Import places a rollout file against the log (:func:`place`): a known segment that grew
gets its new lines (only the current one may grow), a new later segment is appended
whole, an older one than the current segment is refused as diverged.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import os
from typing import Any, Literal, NamedTuple

import msgspec

import replay
from replay import MidTurn, ResumeContext, Turn, TurnSpan
from replay import segments as chains
from rollout import events as ev
from rollout.codec import decode_line, raw_bytes
from rollout.codex_home import parse_rollout_name
from rollout.errors import DecodeError, ThreadArchived, ThreadNotFound

from .backend import Backend, _build, _resume, _spans_of
from .clock import new_thread_id
from .line import aborted_line, encode_checked, fork_meta_line
from .plan import ImportPlan, compare, kept_end
from .state import ThreadState, initial_state
from .turns import Window, cut
from .write import Import

__all__ = [
    "History",
    "Lineage",
    "Placement",
    "SegmentReads",
    "SegmentRef",
    "continues_itself",
    "fork_copy",
    "joined_rollout",
    "place",
    "segment_id",
]

#: the most threads a chain is followed through (forks of forks of ...)
MAX_THREADS = 64

Key = tuple[str, int]  # (thread id, the seq its segment starts at)


class SegmentRef(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """One segment of a resolved history: its thread, where it starts in that thread's log, its base."""

    thread_id: str
    first_seq: int
    created: str
    base_thread_id: str | None = None
    base_end_ordinal: int | None = None


class Lineage(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """The segments a thread's history is read from, root first, and the gap before them if any.

    ``gap`` describes a ``history_base`` no stored segment satisfies: the history then starts
    with the segment after the gap.
    """

    thread_id: str
    segments: list[SegmentRef] = []
    gap: str | None = None


class History(NamedTuple):
    """A thread's state, its own log, the lines its history replays and where they came from."""

    state: ThreadState
    log: list[ev.Line]
    lines: list[ev.Line]
    lineage: Lineage


def pieces(state: ThreadState, lines: list[Any]) -> list[tuple[chains.Segment[Key], list[Any]]]:
    """A thread's log cut into its segments (oldest first), each described for the chain."""
    starts = sorted({1, *state.segment_starts})
    out = []
    for index, start in enumerate(starts):
        end = starts[index + 1] - 1 if index + 1 < len(starts) else len(lines)
        part = lines[start - 1 : end]
        key = (state.id, start)
        segment = chains.describe(key, part) or chains.Segment(key=key, thread_id=state.id)
        out.append((replace_thread(segment, state.id), part))
    return out


def replace_thread(segment: chains.Segment[Key], thread_id: str) -> chains.Segment[Key]:
    """The segment under its stored (lower-case) thread id, as bases are looked up."""
    if segment.thread_id == thread_id:
        return segment
    return msgspec.structs.replace(segment, thread_id=thread_id)


def _bases(found: list[tuple[chains.Segment[Key], list[Any]]]) -> set[str]:
    return {segment.base.thread_id.lower() for segment, _ in found if segment.base is not None}


def _ref(segment: chains.Segment[Key]) -> SegmentRef:
    base = segment.base
    return SegmentRef(thread_id=segment.key[0], first_seq=segment.key[1], created=segment.created,
                      base_thread_id=base.thread_id.lower() if base else None,
                      base_end_ordinal=base.end_ordinal_exclusive if base else None)


class SegmentReads(Backend):
    """The reads of :class:`store.core.Store` that follow a thread's segment chain."""

    async def _history(self, thread_id: str) -> History:
        """The thread's history: its own lines, or its chain's joined lines when it is in segments."""
        state, log = await self._whole(thread_id)
        if not state.segment_starts:
            return History(state, log, log, Lineage(thread_id=state.id))
        known = {state.id: pieces(state, log)}
        todo = _bases(known[state.id]) - known.keys()
        while todo and len(known) < MAX_THREADS:
            other = todo.pop()
            try:
                base_state, base_log = await self._whole(other)
            except ThreadNotFound:
                known[other] = []
                continue
            known[other] = pieces(base_state, base_log)
            todo |= _bases(known[other]) - known.keys()
        latest = known[state.id][-1][0]
        chain, gap = chains.chain(latest, lambda tid: [segment for segment, _ in known.get(tid.lower(), [])])
        by_key = {segment.key: part for found in known.values() for segment, part in found}
        lines = chains.join([(segment, by_key[segment.key]) for segment in chain])
        lineage = Lineage(thread_id=state.id, segments=[_ref(segment) for segment in chain],
                          gap=gap.describe() if gap else None)
        return History(state, log, lines, lineage)  # type: ignore[arg-type]

    async def _history_turns(self, thread_id: str, items_view: str, policy: str) -> tuple[ThreadState, list[Turn]]:
        state, turns = await self._turns(thread_id, items_view, policy)
        if not state.segment_starts:
            return state, turns
        history = await self._history(thread_id)  # the log replays wrongly: replay the chain instead
        return history.state, await self._compute(_build, history.lines, items_view, policy)

    async def _history_turn_slice(
        self, thread_id: str, window: Window, items_view: str, policy: str
    ) -> tuple[ThreadState, int, int, list[Turn]]:
        found = await self._turn_slice(thread_id, window, items_view, policy)
        if not found[0].segment_starts:
            return found
        history = await self._history(thread_id)
        turns = await self._compute(_build, history.lines, "full", policy)
        lo, hi = window.resolve([turn.id for turn in turns])
        return history.state, lo, len(turns), cut(turns, lo, hi, items_view)

    async def _history_resumed(self, thread_id: str) -> tuple[ThreadState, list[Turn], ResumeContext]:
        state, turns, context = await self._resumed(thread_id)
        if not state.segment_starts:
            return state, turns, context
        history = await self._history(thread_id)
        if history.state.archived:
            raise ThreadArchived(thread_id)
        turns, context = await self._compute(_resume, history.lines)
        return history.state, turns, context

    async def _history_spans(self, thread_id: str) -> tuple[ThreadState, list[TurnSpan], MidTurn | None]:
        state, spans, open_turn = await self._spans(thread_id)
        if not state.segment_starts:
            return state, spans, open_turn
        history = await self._history(thread_id)
        spans, open_turn = await self._compute(_spans_of, history.lines)
        return history.state, spans, open_turn


def joined_rollout(history: History) -> list[ev.Line]:
    """One rollout file holding a segmented thread's history (its export).

    The thread's own first ``session_meta`` goes first (a fork's child names itself, not its
    parent) without its ``history_base``, as does every later segment's: the file is read on
    its own, so nothing may send a reader looking for the base again.
    """
    own = next((l for l in history.log if isinstance(l, ev.SessionMetaLine)
                and l.payload.id.lower() == history.state.id), None)
    lines = [l for l in history.lines if l is not own]
    head = [] if own is None else [own]
    return [_baseless(line) for line in [*head, *lines]]


def fork_copy(history: History, kept: int | str | None, child_id: str, now: int,
              fields: tuple[tuple[str, Any], ...] = ()) -> Import:
    """A fork of a segmented thread: a new plain thread holding a copy of the chain's lines.

    A fork that pointed into the source's log would replay the segments in log order, so
    the copy is made of the resolved history instead: the child's own ``session_meta``,
    the turns kept, then a ``turn_aborted`` when the copy ends inside a turn.

    Raises:
        ThreadArchived: the source is archived.
        InvalidInput: no such turn, or too few turns.
    """
    state, lines = history.state, history.lines
    if state.archived:
        raise ThreadArchived(state.id)
    builder = replay.HistoryBuilder().feed_many(lines)
    upto = len(lines) if kept is None else kept_end(builder.spans(), kept)
    # Codex's rule for a whole fork (HistoryBuilder.mid_turn); a partial one ends inside an explicit turn only
    mid = builder.mid_turn if kept is None else None
    open_turn = mid.turn_id if mid is not None else (None if kept is None else replay.open_turn(lines[:upto]))
    ends_mid_turn = mid is not None or open_turn is not None
    own = next((l for l in history.log if isinstance(l, ev.SessionMetaLine)
                and l.payload.id.lower() == state.id), None)
    base = msgspec.structs.replace(own.payload if own else state.meta or ev.SessionMeta(id=state.id),
                                   git=state.current_git, memory_mode=state.memory_mode, **dict(fields))
    meta = fork_meta_line(base, child_id, state.id, now)
    body = [_baseless(line) for line in lines[:upto]]  # the copy stands alone: no base to look for
    copied = [meta, *body, *([aborted_line(open_turn, now)] if ends_mid_turn else [])]
    child = msgspec.structs.replace(initial_state(meta, copied, now), name=state.name)
    return Import(child, [encode_checked(line, index) for index, line in enumerate(copied)], forked_from=state.id)


def _baseless(line: ev.Line) -> ev.Line:
    if not (isinstance(line, ev.SessionMetaLine) and line.payload.history_base is not None):
        return line
    raw = raw_bytes(line)
    if raw is None:  # built in code: its fields are all it has
        return msgspec.structs.replace(line, payload=msgspec.structs.replace(line.payload, history_base=None))
    # Edit the line as written, so its key order and the fields the model does not know survive.
    data = msgspec.json.decode(raw)
    payload = data.get("payload", data)
    payload.pop("history_base", None)
    return decode_line(msgspec.json.encode(data))


# --------------------------------------------------------------------------- import


def continues_itself(state: ThreadState) -> bool:
    """Whether a rollout read for import is a later segment of its own thread (a revert's file)."""
    meta = state.meta
    return bool(meta and meta.history_base and meta.history_base.thread_id.lower() == state.id)


def segment_id(source: str | None) -> str:
    """The id of a later segment read from ``source``: its file name's, else a new one."""
    parsed = parse_rollout_name(os.path.basename(source)) if source else None
    return parsed.segment_id if parsed and parsed.segment_id else new_thread_id()


class Placement(NamedTuple):
    """Where an imported rollout goes in a stored thread's log.

    ``action``: ``unchanged``; ``append`` (``plan.raw[first:]`` continue the current
    segment); ``segment`` (the whole rollout is a new, later segment); ``diverged``.
    """

    action: Literal["unchanged", "append", "segment", "diverged"]
    first: int = 0
    detail: str | None = None


def place(plan: ImportPlan, state: ThreadState, stored: list[bytes]) -> Placement:
    """Where ``plan`` (a rollout read for import) goes in the stored thread (``state``, its log)."""
    starts = [1, *(seq for seq in sorted(state.segment_starts) if seq > 1)]
    bounds = list(zip(starts, [*(seq - 1 for seq in starts[1:]), len(stored)]))
    if continues_itself(plan.state):
        for index, (lo, hi) in enumerate(bounds):
            if plan.raw and stored[lo - 1] == plan.raw[0]:
                return _against(plan, stored[lo - 1 : hi], lo, last=index == len(bounds) - 1)
        current = _created(stored[bounds[-1][0] - 1])
        if _created(plan.raw[0]) > current:
            return Placement("segment")
        return Placement("diverged", detail=f"{_where(plan)}thread {state.id}: this segment was created before "
                         f"the thread's current segment ({current}); segments are imported oldest first")
    return _against(plan, stored[: bounds[0][1]], 1, last=len(bounds) == 1)


def _against(plan: ImportPlan, piece: list[bytes], first_seq: int, *, last: bool) -> Placement:
    differs = compare(plan, piece, first_seq=first_seq)
    if differs is not None:
        return Placement("diverged", detail=differs)
    if len(piece) == len(plan.raw):
        return Placement("unchanged")
    if not last:
        return Placement("diverged", detail=f"{_where(plan)}thread {plan.state.id}: this segment grew after a "
                         "later segment of the thread was stored")
    return Placement("append", first=len(piece))


def _where(plan: ImportPlan) -> str:
    return f"{plan.source}: " if plan.source else ""


def _created(raw: bytes) -> str:
    """The creation time of a segment from its first line (its ``session_meta``); "" when unknown."""
    try:
        line = decode_line(raw)
    except DecodeError:
        return ""
    if isinstance(line, ev.SessionMetaLine):
        return line.timestamp or line.payload.timestamp or ""
    return ""
