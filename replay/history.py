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
from rollout.errors import CorruptLog, InvalidInput

from . import convert, tools
from . import items as it
from .context import parse_hook_prompt
from .ledger import TurnLedger
from .policy import Policy, keeps
from .turn_state import STATE_DECODER, STATE_ENCODER, BuilderState, TurnRecord

__all__ = ["HistoryBuilder", "build_turns"]

_HOOK_NAMESPACE = uuid.UUID("8f6b7a0e-3c1d-4f5e-9a2b-6c7d8e9f0a1b")
_PRELUDE = (ev.ResponseItemLine, ev.TurnContextLine)
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

    # ------------------------------------------------------------------ public API

    def feed(self, line: object) -> None:
        """Apply one decoded line."""
        index = self._seen
        self._seen = index + 1
        if keeps(line, self.policy):
            self._line, self._rollout = index, self._kept
            self._kept += 1
            self._dispatch(line)
        if not isinstance(line, _PRELUDE):
            self._prelude_start = None
        elif self._prelude_start is None and index != self._anchor:
            self._prelude_start = index

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
            policy=self.policy,
            turns=[TurnRecord.of(turn) for turn in self._turns],
            current=current,
            next_item=self._next_item,
            finished_items=self._finished_items,
            seen=self._seen,
            kept=self._kept,
            prelude_start=self._prelude_start,
            anchor=self._anchor,
        )
        return pack(STATE_ENCODER, state)

    @classmethod
    def load(cls, data: bytes) -> HistoryBuilder:
        """Rebuild a builder from :meth:`dump` output.

        Raises:
            CorruptLog: ``data`` is not a dumped builder state.
        """
        try:
            state = STATE_DECODER.decode(data)
        except msgspec.DecodeError as exc:
            raise CorruptLog(f"not a replay builder state: {exc}") from exc
        builder = cls(state.policy)  # type: ignore[arg-type]
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
        return builder

    # ------------------------------------------------------------------ dispatch

    def _dispatch(self, line: object) -> None:
        match line:
            case ev.EventMsgLine(payload=payload):
                self._on_event(payload)
            case ev.ResponseItemLine(payload=ev.Message(role="user") as message):
                self._on_user_response(message)
            case ev.CompactedLine():
                self._ensure_turn().saw_compaction = True
            case _:
                pass

    def _on_event(self, event: object) -> None:
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
            case ev.TaskStartedEvent(turn_id=turn_id, started_at=started_at):
                self._start_turn(turn_id, convert.opt(started_at))
            case ev.TaskCompleteEvent(turn_id=turn_id):
                self._complete_turn(turn_id, convert.opt(event.completed_at), convert.opt(event.duration_ms))
            case ev.TurnAbortedEvent(turn_id=turn_id):
                self._interrupt_turn(
                    convert.opt(turn_id), convert.opt(event.completed_at), convert.opt(event.duration_ms)
                )
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
