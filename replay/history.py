"""The turn/item reducer: decoded rollout lines -> ``Turn``s, incrementally (spec 8).

:class:`HistoryBuilder` maps each line onto the turn bookkeeping of
:class:`~replay.ledger.TurnLedger` (at most one open turn plus the finished ones,
an ``item-N`` counter, the index of the line being processed) and follows Codex's
``ThreadHistoryBuilder`` rule for rule: explicit turns from ``task_started``,
implicit ``rollout-<index>`` turns for legacy streams, steering inside explicit
turns, upsert by call id, completions routed by turn id (late ones included),
``turn_aborted`` -> interrupted, ``error`` -> failed, ``thread_rolled_back``
dropping turns and resetting the item counter, compaction-only turns kept.

Every line costs O(1) amortized: turns are found through a dict by id, items
through a per-turn dict by id, and a snapshot reuses the ``Turn`` built for every
finished turn that has not changed since. The builder's state round-trips through
msgpack (:meth:`HistoryBuilder.dump` / :meth:`HistoryBuilder.load`) so a store can
persist it and resume feeding where it stopped.

Must not import: store, anything doing I/O or asyncio.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import msgspec
from msgspec.structs import replace

from rollout import events as ev
from rollout.codec import pack
from rollout.compat import is_pre_envelope_header
from rollout.errors import CorruptLog, InvalidInput

from . import convert, tools
from . import items as it
from .fragments import is_contextual_user_message, parse_hook_prompt
from .ledger import TurnLedger
from .policy import Policy, keeps
from .pre_envelope import PendingCalls, is_turn_start, user_message
from .turn_items import thread_item
from .turn_state import STATE_ENCODER, STATE_VERSION, BuilderState, MidTurn, TurnRecord, TurnState, state_decoder

__all__ = ["HistoryBuilder", "build_turns"]

_HOOK_NAMESPACE = uuid.UUID("8f6b7a0e-3c1d-4f5e-9a2b-6c7d8e9f0a1b")
_PRELUDE = (ev.ResponseItemLine, ev.TurnContextLine)
_MARKS = (ev.ResponseItemLine, ev.EventMsgLine)
_COLLAB = tuple(tools.COLLAB_TOOLS)


class HistoryBuilder(TurnLedger):
    """Incremental reducer from rollout lines to turns.

    Args:
        policy: ``"extended"`` (default) keeps old extended-mode events so command
            executions, file changes, MCP and dynamic tool calls are rebuilt;
            ``"limited"`` applies Codex's current persistence filter first.
    """

    def __init__(self, policy: Policy = "extended") -> None:
        if policy not in ("extended", "limited"):
            raise InvalidInput(f"unknown replay policy: {policy!r}")
        super().__init__()
        self.policy: Policy = policy
        self._mode: str | None = None  # the first session_meta's history_mode, or "pre-envelope"
        self._calls = PendingCalls()  # pre-envelope tool calls waiting for their output
        self._user_marks: list[int] = []  # lines of real user messages (rollbacks pop theirs)
        self._last_close = -1  # the last task_complete / turn_aborted line

    # ------------------------------------------------------------------ public API

    def feed(self, line: object) -> None:
        """Apply one decoded line."""
        index = self._seen
        self._seen = index + 1
        if isinstance(line, _MARKS):
            self._mark(index, line)
        paginated = self._mode == "paginated"
        # Implicit turn ids number the lines Codex itself reads, under either policy, so
        # ``extended`` only ever adds items to Codex's turns, never renames them.
        counted = keeps(line, "limited", paginated=paginated)
        if counted or (self.policy == "extended" and keeps(line, "extended", paginated=paginated)):
            self._line, self._rollout = index, self._kept
            self._dispatch(line)
        self._kept += counted
        if not isinstance(line, _PRELUDE):
            self._prelude_start = None
        elif self._prelude_start is None and index != self._anchor:
            self._prelude_start = index

    @property
    def mid_turn(self) -> MidTurn | None:
        """Whether a copy of every line fed so far (a fork of the whole thread) ends inside a
        turn, by Codex's rule: an explicit turn still in progress; else, when no explicit turn
        is open, a last real user message that no ``task_complete``/``turn_aborted`` followed."""
        current = self._current
        if current is not None and current.explicit:
            return MidTurn(current.id) if current.status == "inProgress" else None
        marks = self._user_marks
        return MidTurn(None) if marks and self._last_close < marks[-1] else None

    def _mark(self, index: int, line: object) -> None:
        """Keep what :attr:`mid_turn` needs: real user messages, rollbacks, turn ends."""
        match line:
            case ev.ResponseItemLine(payload=ev.Message(role="user", content=content)):
                if not is_contextual_user_message(content):
                    self._user_marks.append(index)
            case ev.EventMsgLine(payload=ev.TaskCompleteEvent() | ev.TurnCompleteEvent() | ev.TurnAbortedEvent()):
                self._last_close = index
            case ev.EventMsgLine(payload=ev.ThreadRolledBackEvent(num_turns=count)):
                del self._user_marks[max(len(self._user_marks) - max(count or 0, 0), 0):]

    def feed_many(self, lines: Iterable[object]) -> HistoryBuilder:
        """Apply lines in order; returns ``self`` for chaining."""
        for line in lines:
            self.feed(line)
        return self

    def dump(self) -> bytes:
        """Serialize the builder's state (msgpack) so feeding can resume after :meth:`load`.

        Raises:
            EncodeError: a line fed held an integer beyond 64 bits (no snapshot possible).
        """
        current = None if self._current is None else TurnRecord.of(self._current)
        state = BuilderState(
            version=STATE_VERSION,
            policy=self.policy,
            mode=self._mode,
            turns=[TurnRecord.of(turn) for turn in self._turns],
            current=current,
            next_item=self._next_item,
            finished_items=self._finished_items,
            seen=self._seen,
            kept=self._kept,
            prelude_start=self._prelude_start,
            anchor=self._anchor,
            pending_calls=self._calls.calls,
            user_marks=self._user_marks,
            last_close=self._last_close,
        )
        return pack(STATE_ENCODER, state)

    @classmethod
    def load(cls, data: bytes) -> HistoryBuilder:
        """Rebuild a builder from :meth:`dump` output.

        Raises:
            CorruptLog: ``data`` is not a dumped builder state.
        """
        try:
            state = state_decoder().decode(data)
        except msgspec.DecodeError as exc:
            raise CorruptLog(f"not a replay builder state: {exc}") from exc
        if state.version != STATE_VERSION:
            raise CorruptLog(f"replay builder state version {state.version}, expected {STATE_VERSION}")
        builder = cls(state.policy)  # type: ignore[arg-type]
        builder._mode = state.mode
        builder._calls = PendingCalls(state.pending_calls)
        builder._turns = [record.restore() for record in state.turns]
        for turn in builder._turns:
            builder._by_id.setdefault(turn.id, turn)
        builder._current = None if state.current is None else state.current.restore()
        last = builder._turns[-1] if builder._turns else None
        # The last opened turn is the open one, or else a finished one still open-ended.
        builder._last_opened = builder._current or (last if last and last.end is None else None)
        builder._next_item, builder._finished_items = state.next_item, state.finished_items
        builder._seen, builder._kept = state.seen, state.kept
        builder._prelude_start, builder._anchor = state.prelude_start, state.anchor
        builder._user_marks, builder._last_close = list(state.user_marks), state.last_close
        return builder

    # ------------------------------------------------------------------ dispatch

    def _dispatch(self, line: object) -> None:
        match line:
            case ev.SessionMetaLine(payload=meta):
                if self._mode is None:
                    self._mode = "pre-envelope" if is_pre_envelope_header(line) else meta.history_mode or "legacy"
            case ev.ResponseItemLine(payload=item) if self._mode == "pre-envelope":
                self._on_pre_envelope_item(item)
            case ev.EventMsgLine(payload=payload):
                if self._mode == "paginated":
                    self._on_paginated_event(payload)
                else:
                    self._on_event(payload)
            case ev.ResponseItemLine(payload=ev.Message(role="user") as message):
                self._on_user_response(message)
            case ev.CompactedLine():
                self._ensure_turn().saw_compaction = True
            case _:
                pass

    def _on_paginated_event(self, event: object) -> None:
        """Paginated history: turns from their boundaries, items from ``item_completed``."""
        match event:
            case ev.ItemCompletedEvent(turn_id=turn_id):
                item = thread_item(event.item, convert.opt(event.started_at_ms), event.completed_at_ms)
                if item is not None:
                    self._upsert_in(turn_id, self._keep_times(turn_id, item))
            case ev.ThreadRolledBackEvent(num_turns=num_turns):
                self._rollback(num_turns)
            case ev.TaskCompleteEvent() | ev.TurnAbortedEvent():
                self._restamp(self._end_turn(event), convert.opt(event.started_at))
            case _:
                self._on_boundary(event)

    def _keep_times(self, turn_id: str, item: it.ThreadItem) -> it.ThreadItem:
        """A completion that replaces an item keeps the first one's times (as Codex's projection does)."""
        turn = self._find(turn_id)
        position = None if turn is None else turn.positions.get(item.id)
        if turn is None or position is None:
            return item
        first = turn.items[position]
        return replace(item, started_at_ms=first.started_at_ms, completed_at_ms=first.completed_at_ms)

    def _on_pre_envelope_item(self, item: object) -> None:
        """Pre-envelope files have no events: turns and items come from the response items."""
        if is_turn_start(item):
            self._finish()
            self._open(None, explicit=False)
            self._push_current(user_message(item, self._next_id()))  # type: ignore[arg-type]
            return
        found = self._calls.item_for(item, self._next_id)
        if found is not None:
            self._upsert_current(found)

    def _on_boundary(self, event: object) -> bool:
        """Turn start, completion and abort, shared by both history modes; ``False`` for other events."""
        match event:
            case ev.TaskStartedEvent(turn_id=turn_id, started_at=started_at):
                self._start_turn(turn_id, convert.opt(started_at), convert.opt(event.root_turn_id))
            case ev.TaskCompleteEvent() | ev.TurnAbortedEvent():
                self._end_turn(event)
            case _:
                return False
        return True

    def _end_turn(self, event: ev.TaskCompleteEvent | ev.TurnAbortedEvent) -> TurnState | None:
        """``task_complete`` completes (or fails) a turn, ``turn_aborted`` interrupts it; returns the turn."""
        completed_at, duration_ms = convert.opt(event.completed_at), convert.opt(event.duration_ms)
        if isinstance(event, ev.TurnAbortedEvent):
            return self._interrupt_turn(convert.opt(event.turn_id), completed_at, duration_ms)
        error = convert.completion_error(convert.opt(event.error))
        return self._complete_turn(event.turn_id, completed_at, duration_ms, error)

    def _on_event(self, event: object) -> None:
        if self._on_boundary(event):
            return
        match event:
            case ev.TokenCountEvent():
                pass
            case ev.AgentReasoningEvent(text=text):
                self._reasoning(text, raw=False)
            case ev.AgentMessageEvent():
                self._agent_message(event)
            case ev.AgentReasoningRawContentEvent(text=text):
                self._reasoning(text, raw=True)
            case ev.ExecCommandEndEvent() | ev.ExecCommandBeginEvent():
                self._upsert_in(event.turn_id, convert.command_execution(event))
            case ev.UserMessageEvent():
                self._user_message(event)
            case ev.PatchApplyEndEvent():
                status = convert.patch_end_status(event)
                self._route(event.turn_id, convert.file_change(event.call_id, event.changes, status))
            case ev.PatchApplyBeginEvent() | ev.ApplyPatchApprovalRequestEvent():
                item = convert.file_change(event.call_id, event.changes, "inProgress")
                self._route(event.turn_id, item)
            case ev.McpToolCallEndEvent() | ev.McpToolCallBeginEvent():
                self._upsert_current(tools.mcp_call(event))
            case ev.WebSearchEndEvent() | ev.WebSearchBeginEvent():
                self._upsert_current(tools.web_search(event))
            case ev.DynamicToolCallRequestEvent():
                self._route(event.turn_id, tools.dynamic_request(event))
            case ev.DynamicToolCallResponseEvent():
                self._route(event.turn_id, tools.dynamic_response(event))
            case _:
                self._on_rare_event(event)

    def _on_rare_event(self, event: object) -> None:
        match event:
            case ev.ErrorEvent(codex_error_info=info):
                if convert.error_affects_turn(info):
                    self._fail_turn(convert.turn_error(event))
            case ev.ThreadRolledBackEvent(num_turns=num_turns):
                self._rollback(num_turns)
            case ev.ContextCompactedEvent():
                self._push_current(it.ContextCompaction(id=self._next_id()))
            case ev.EnteredReviewModeEvent():
                review = convert.entered_review_text(event)
                self._push_current(it.EnteredReviewMode(id=self._next_id(), review=review))
            case ev.ExitedReviewModeEvent(review_output=output):
                review = convert.exited_review_text(output)
                self._push_current(it.ExitedReviewMode(id=self._next_id(), review=review))
            case ev.ItemCompletedEvent() | ev.ItemStartedEvent():
                plan = convert.plan_item(event.item)
                if plan is not None:
                    self._upsert_in(event.turn_id, plan)
            case ev.GuardianAssessmentEvent():
                item = convert.guardian_command(event)
                if item is not None:
                    self._route(event.turn_id, item)
            case ev.ViewImageToolCallEvent(call_id=call_id, path=path):
                self._upsert_current(it.ImageView(id=call_id, path=path))
            case ev.ImageGenerationEndEvent() | ev.ImageGenerationBeginEvent():
                self._upsert_current(tools.image_generation(event))
            case ev.SubAgentActivityEvent():
                self._upsert_current(tools.sub_agent_activity(event))
            case _ if isinstance(event, _COLLAB):
                self._upsert_current(tools.collab_call(event))
            case _:
                pass  # token usage, goals, names, settings: no effect on turns

    # ------------------------------------------------------------------ items

    def _user_message(self, event: ev.UserMessageEvent) -> None:
        current = self._current
        if current is not None and not current.explicit and not (
            current.saw_compaction and not current.items
        ):
            self._finish()
        item = it.UserMessage(
            id=self._next_id(),
            client_id=convert.opt(event.client_id),
            content=convert.user_inputs(event),
        )
        self._push_current(item)

    def _agent_message(self, event: ev.AgentMessageEvent) -> None:
        if not event.message:
            return
        item = it.AgentMessage(
            id=self._next_id(),
            text=event.message,
            phase=convert.opt(event.phase),
            memory_citation=convert.memory_citation(event.memory_citation),
        )
        self._push_current(item)

    def _reasoning(self, text: str, *, raw: bool) -> None:
        if not text:
            return
        turn = self._ensure_turn()
        last = turn.items[-1] if turn.items else None
        if isinstance(last, it.Reasoning):
            if raw:
                turn.replace_last(replace(last, content=[*last.content, text]))
            else:
                turn.replace_last(replace(last, summary=[*last.summary, text]))
            return
        summary, content = ([], [text]) if raw else ([text], [])
        self._push_current(it.Reasoning(id=self._next_id(), summary=summary, content=content))

    def _on_user_response(self, message: ev.Message) -> None:
        fragments = parse_hook_prompt(message)
        if fragments is None:
            return
        item_id = message.id or str(uuid.uuid5(_HOOK_NAMESPACE, f"{self._rollout}"))
        self._push_current(it.HookPrompt(id=item_id, fragments=fragments))
        self._prelude_start, self._anchor = None, self._line


def build_turns(
    lines: Iterable[object],
    *,
    running: bool = False,
    policy: Policy = "extended",
    items_view: it.ItemsView = "full",
) -> list[it.Turn]:
    """Rebuild a thread's turns from its decoded lines (spec 8.1).

    Args:
        lines: Decoded rollout lines in file order.
        running: Whether the thread is actively running; when ``False`` every
            ``inProgress`` turn is reported ``interrupted``.
        policy: ``"extended"`` or ``"limited"`` (today's app-server view).
        items_view: ``"full"``, ``"summary"`` or ``"notLoaded"``.

    Returns:
        The turns, oldest first.

    Raises:
        InvalidInput: ``policy`` or ``items_view`` is not known.
    """
    builder = HistoryBuilder(policy).feed_many(lines)
    return builder.snapshot(running=running, items_view=items_view)
