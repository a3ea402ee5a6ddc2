"""The model-visible context a resumed (or forked) thread starts from (spec 9).

Two passes, as in Codex's core:

1. A reverse scan (:class:`ReverseScan`) over the lines' *marks* -- the few
   line kinds it looks at, reduced to ``(index, kind, value)`` by :func:`mark`,
   so an incremental builder can keep and rescan them -- groups lines into turn
   segments (closed by ``task_started``),
   applies ``thread_rolled_back`` markers by discarding the next N segments that
   hold a real user turn, and finds the newest *surviving* ``compacted`` line with
   a ``replacement_history`` (the base) plus the newest surviving ``turn_context``.
2. A forward replay (:class:`ForwardReplay`) from the base: response items are appended
   verbatim (outputs keep their string or content-array form), a legacy
   ``compacted`` without replacement history rebuilds "user messages so far +
   summary", and a rollback marker drops the last N user turns from the history.

The latest ``token_count.info`` is returned as the thread's token usage.

Must not import: store, anything doing I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rollout import events as ev

from .context import ResumeContext
from .convert import opt
from .fragments import (
    is_contextual_developer_message,
    is_contextual_user_message,
    is_user_turn_boundary,
)

__all__ = ["ForwardReplay", "Mark", "ResumeContext", "ReverseScan", "mark", "resume_context", "scan_lines"]

_COMPACT_USER_BUDGET_TOKENS = 20_000
_NO_SUMMARY = "(no summary available)"
_NOT_SENT = (ev.GhostSnapshot, ev.CompactionTrigger, ev.UnknownResponseItem)


#: Mark kinds: the few line kinds the reverse scan looks at (see :func:`mark`).
COMPACTED, ROLLBACK, COMPLETE, ABORTED, USER, CONTEXT, STARTED = range(7)

#: ``(line index, kind, value)``: a line reduced to what the reverse scan needs.
Mark = tuple[int, int, Any]


def mark(index: int, line: object) -> Mark | None:
    """The scan mark of ``lines[index]``, or None for a line the scan ignores.

    Values: ``COMPACTED``: whether it is a checkpoint; ``ROLLBACK``: turns rolled
    back; ``COMPLETE``/``ABORTED``/``CONTEXT``/``STARTED``: the turn id; ``USER``: None.
    """
    match line:
        case ev.EventMsgLine(payload=event):
            match event:
                case ev.ThreadRolledBackEvent(num_turns=num_turns):
                    return index, ROLLBACK, max(num_turns, 0)
                case ev.TaskCompleteEvent(turn_id=turn_id):
                    return index, COMPLETE, turn_id
                case ev.TurnAbortedEvent(turn_id=turn_id):
                    return index, ABORTED, opt(turn_id)
                case ev.UserMessageEvent():
                    return index, USER, None
                case ev.TaskStartedEvent(turn_id=turn_id):
                    return index, STARTED, turn_id
        case ev.ResponseItemLine(payload=item) if is_user_turn_boundary(item):
            return index, USER, None
        case ev.TurnContextLine(payload=context):
            return index, CONTEXT, opt(context.turn_id)
        case ev.CompactedLine(payload=compacted):
            return index, COMPACTED, _is_checkpoint(compacted)
    return None


class _Segment:
    __slots__ = ("base", "baseline", "cleared", "compactions", "settings", "turn_id", "user_turn")

    def __init__(self, turn_id: str | None = None) -> None:
        self.turn_id = turn_id
        self.user_turn = False
        self.settings: int | None = None  # line index of the segment's turn_context
        self.baseline: int | None = None  # newest turn_context before any compaction
        self.cleared = False  # a compaction newer than any turn_context invalidated the baseline
        self.base: int | None = None
        self.compactions: list[int] = []


def _is_checkpoint(compacted: ev.Compacted) -> bool:
    """A compaction carrying the whole model context after it (not a legacy summary)."""
    return isinstance(compacted.replacement_history, list)


def _compatible(active: str | None, other: str | None) -> bool:
    return active is None or other is None or active == other


class ReverseScan:
    """Pass 1 over marks, newest first: surviving base, settings and baseline, with rollbacks applied.

    Feed marks newest first with :meth:`see` until :meth:`done`, then call
    :meth:`finalize`. ``base``, ``settings`` and ``baseline`` are line indices;
    ``discarded`` holds the compactions inside rolled-back turns (among those seen).
    Segments skipped by stopping early are older than the base, so they never matter.
    """

    def __init__(self) -> None:
        self.pending_rollback = 0
        self.base: int | None = None
        self.settings: int | None = None
        self.baseline: int | None = None
        self.baseline_known = False
        self.active: _Segment | None = None
        self.discarded: set[int] = set()

    def done(self) -> bool:
        """Whether older marks can no longer change the result."""
        return self.base is not None and self.settings is not None and self.baseline_known

    def run(self, marks: Iterable[Mark]) -> ReverseScan:
        """See ``marks`` (newest first) until done, then finalize; returns self."""
        for found in marks:
            self.see(found)
            if self.done():
                break
        self.finalize()
        return self

    def _segment(self) -> _Segment:
        if self.active is None:
            self.active = _Segment()
        return self.active

    def finalize(self) -> None:
        """Close the active segment (at its ``task_started``, or at the start of the file)."""
        segment, self.active = self.active, None
        if segment is None:
            return
        if self.pending_rollback > 0:
            self.pending_rollback -= segment.user_turn
            self.discarded.update(segment.compactions)
            return
        if self.base is None:
            self.base = segment.base
        if self.settings is None and segment.user_turn:
            self.settings = segment.settings
        if not self.baseline_known and (segment.user_turn or segment.cleared):
            self.baseline, self.baseline_known = segment.baseline, True

    def see(self, found: Mark) -> None:
        """Take one mark (newest first)."""
        index, kind, value = found
        if kind == COMPACTED:
            segment = self._segment()
            segment.cleared = segment.cleared or segment.baseline is None
            segment.compactions.append(index)
            if segment.base is None and value:
                segment.base = index
        elif kind == ROLLBACK:
            self.pending_rollback += value
        elif kind == COMPLETE:
            segment = self._segment()
            segment.turn_id = segment.turn_id or value
        elif kind == ABORTED:
            if self.active is not None:
                self.active.turn_id = self.active.turn_id or value
            elif value is not None:
                self.active = _Segment(value)
        elif kind == USER:
            self._segment().user_turn = True
        elif kind == CONTEXT:
            self._turn_context(index, value)
        elif kind == STARTED and self.active is not None and _compatible(self.active.turn_id, value):
            self.finalize()

    def _turn_context(self, index: int, turn_id: str | None) -> None:
        segment = self._segment()
        segment.turn_id = segment.turn_id or turn_id
        if not _compatible(segment.turn_id, turn_id):
            return
        if segment.settings is None:
            segment.settings = index
        if segment.baseline is None and not segment.cleared:
            segment.baseline = index


# --------------------------------------------------------------------------- forward replay


def _sent_to_model(item: object) -> bool:
    if isinstance(item, ev.Message):
        return item.role != "system"
    return not isinstance(item, _NOT_SENT)


def _drop_last_user_turns(history: list[Any], num_turns: int) -> int:
    """Drop the last ``num_turns`` user turns; returns the new length of ``history``."""
    if num_turns <= 0:
        return len(history)
    positions = [index for index, item in enumerate(history) if is_user_turn_boundary(item)]
    if not positions:
        return len(history)
    first = positions[0]
    cut = first if num_turns >= len(positions) else positions[-num_turns]
    while cut > first and _is_context_update(history[cut - 1]):
        cut -= 1  # settings updates injected just before the dropped turn go with it
    del history[cut:]
    return cut


def _is_context_update(item: object) -> bool:
    match item:
        case ev.Message(role="developer", content=content):
            return is_contextual_developer_message(content)
        case ev.Message(role="user", content=content):
            return is_contextual_user_message(content)
        case _:
            return False


def _user_text(item: object) -> str | None:
    match item:
        case ev.Message(role="user", content=content) if not is_contextual_user_message(content):
            return "".join(part.text for part in content if isinstance(part, ev.InputText))
        case _:
            return None


def _approx_tokens(text: str) -> int:
    return (len(text.encode()) + 3) // 4


def _truncate(text: str, tokens: int) -> str:
    data = text.encode()
    keep = tokens * 4
    head, tail = data[: keep // 2].decode(errors="ignore"), data[len(data) - keep // 2 :]
    removed = _approx_tokens(text) - tokens
    return f"{head}…{removed} tokens truncated…{tail.decode(errors='ignore')}"


def _user_message(text: str) -> ev.Message:
    return ev.Message(role="user", content=[ev.InputText(text=text)])


def _legacy_compaction(history: list[Any], summary: str) -> list[Any]:
    """Codex's rebuild for a ``compacted`` line without replacement history."""
    selected: list[str] = []
    remaining = _COMPACT_USER_BUDGET_TOKENS
    texts = [text for text in map(_user_text, history) if text is not None]
    for text in reversed(texts):
        if remaining == 0:
            break
        tokens = _approx_tokens(text)
        if tokens > remaining:
            selected.append(_truncate(text, remaining))
            break
        selected.append(text)
        remaining -= tokens
    rebuilt = [_user_message(text) for text in reversed(selected)]
    rebuilt.append(_user_message(summary or _NO_SUMMARY))
    return rebuilt


class ForwardReplay:
    """Pass 2: the model-visible history, applying lines in file order.

    Compactions in ``skip`` belong to rolled-back turns: their checkpoint would
    reintroduce what the rollback removed, so they are ignored. Applying a
    checkpoint replaces the history, so replaying from the first line gives the
    same history as starting from the base's items.

    Attributes:
        history: the items so far.
        origins: for each item of ``history``, the index of the line whose payload it is
            (``-1``: an item a compaction made), so a store can keep the history as
            references to its lines (:meth:`replay.ContextBuilder.dump`).
        legacy: a legacy compaction was applied since the last checkpoint.
        token_usage: the latest ``token_count.info`` (None if never recorded).
    """

    __slots__ = ("history", "legacy", "origins", "skip", "token_usage")

    def __init__(self, skip: set[int], history: list[Any] | None = None) -> None:
        self.skip = skip
        self.history: list[Any] = [] if history is None else history
        self.origins: list[int] = [-1] * len(self.history)
        self.legacy = False
        self.token_usage: Any = None

    def apply(self, index: int, line: object) -> None:
        """Apply ``lines[index]``."""
        match line:
            case ev.ResponseItemLine(payload=item):
                if _sent_to_model(item):
                    self.history.append(item)
                    self.origins.append(index)
            case ev.EventMsgLine(payload=ev.TokenCountEvent(info=info)):
                if opt(info) is not None:
                    self.token_usage = info
            case ev.CompactedLine(payload=compacted) if index not in self.skip:
                if _is_checkpoint(compacted):
                    self.history, self.legacy = _base_items(compacted), False
                else:
                    self.history, self.legacy = _legacy_compaction(self.history, compacted.message), True
                self.origins = [-1] * len(self.history)
            case ev.EventMsgLine(payload=ev.ThreadRolledBackEvent(num_turns=num_turns)):
                del self.origins[_drop_last_user_turns(self.history, num_turns):]
            case _:
                pass


def _base_items(compacted: ev.Compacted) -> list[Any]:
    history = compacted.replacement_history or ()
    return [item for item in history if not isinstance(item, ev.GhostSnapshot)]


def _token_usage(lines: list[object]) -> Any:
    for line in reversed(lines):
        match line:
            case ev.EventMsgLine(payload=ev.TokenCountEvent(info=info)) if opt(info) is not None:
                return info
            case _:
                pass
    return None


def scan_lines(lines: list[object]) -> ReverseScan:
    """:class:`ReverseScan` of ``lines`` (stops as early as it can)."""
    marks = (found for index in range(len(lines) - 1, -1, -1) if (found := mark(index, lines[index])))
    return ReverseScan().run(marks)


def resume_context(lines: Sequence[object]) -> ResumeContext:
    """Rebuild what a resumed thread sends the model (spec 9).

    Args:
        lines: Decoded rollout lines in file order.

    Returns:
        The surviving model-visible items, the settings of the newest surviving
        user turn and the latest token usage.
    """
    lines = list(lines)
    scan = scan_lines(lines)
    start = 0 if scan.base is None else scan.base
    replay = ForwardReplay(scan.discarded)
    for index in range(start, len(lines)):
        replay.apply(index, lines[index])
    settings = None if scan.settings is None else lines[scan.settings].payload  # type: ignore[attr-defined]
    return ResumeContext(
        items=replay.history,
        turn_context=settings,
        token_usage=_token_usage(lines),
        base_line=scan.base,
        reinject_context=replay.legacy or scan.baseline is None,
    )
