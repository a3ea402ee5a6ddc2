"""The Codex rollout event model as msgspec Structs.

One rollout line is ``{"timestamp", "type", "payload"}``; ``type`` selects the
payload kind (``session_meta``, ``response_item``, ``event_msg``, ``turn_context``,
``compacted``, ``world_state``). Response items and events are themselves tagged
unions on their own ``type`` field. Every tag here is spelled out with an explicit
``tag=`` equal to its wire name; nothing is derived from class names.

Schema evolution follows msgspec's rules: every field has a default, annotations
never change, unknown fields are ignored when decoding (the codec keeps the
original bytes of every decoded line, so they still survive a round trip), and
unknown tags decode to the ``Unknown*`` variants that hold the payload as data.

Pre-envelope (2025) files decode to the same classes with ``timestamp=None``:
the bare header becomes a :class:`SessionMetaLine`, bare response items become
:class:`ResponseItemLine`, and ``{"record_type": ...}`` lines become
:class:`LegacyStateLine`. :mod:`rollout.compat` turns them into today's shapes.

Must not import: replay, store, rollout.cli, rich, anything doing I/O.
"""

# No `from __future__ import annotations` here, on purpose: the annotations are evaluated
# once, as the classes are made. As strings, msgspec would compile each of the ~700 when
# it builds the first decoder (milliseconds at every start-up of the CLI).
from typing import Any, ClassVar, Union

import msgspec
from msgspec import UNSET, UnsetType

__all__ = [name for name in dir() if not name.startswith("_")]  # rebuilt at the end


class _Struct(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Base for payload structs.

    Fields are always written, ``None`` as ``null``, as Codex's serde writer does
    for required and plain ``Option`` fields. Fields Codex skips when absent
    default to ``msgspec.UNSET`` and are then left out. :class:`SessionMeta` and
    :class:`TurnContext`, whose optional fields Codex omits, leave out defaults.
    """


class _Tagged(_Struct, tag_field="type"):
    """Base for tagged union members; ``type`` is the wire tag."""

    @property
    def type(self) -> str:
        return self.__struct_config__.tag  # type: ignore[return-value]


# --------------------------------------------------------------------------- content


class InputText(_Tagged, tag="input_text"):
    text: str = ""


class InputImage(_Tagged, tag="input_image"):
    image_url: str = ""
    detail: str | UnsetType = UNSET


class OutputText(_Tagged, tag="output_text"):
    text: str = ""
    annotations: list[Any] | UnsetType = UNSET
    logprobs: list[Any] | UnsetType = UNSET


class Refusal(_Tagged, tag="refusal"):
    refusal: str = ""


class EncryptedContent(_Tagged, tag="encrypted_content"):
    encrypted_content: str = ""


class SummaryText(_Tagged, tag="summary_text"):
    text: str = ""


class ReasoningText(_Tagged, tag="reasoning_text"):
    text: str = ""


class Text(_Tagged, tag="text"):
    text: str = ""


ContentItem = Union[InputText, InputImage, OutputText, Refusal, EncryptedContent]
OutputContentItem = Union[InputText, InputImage, EncryptedContent]
ReasoningContentItem = Union[ReasoningText, Text]

#: ``function_call_output.output`` and ``custom_tool_call_output.output``: plain
#: text, or a list of content items. A legacy string output decodes to ``str`` and
#: re-encodes as the same string.
FunctionCallOutputPayload = Union[str, list[OutputContentItem]]


# --------------------------------------------------------------------------- response items


class Message(_Tagged, tag="message"):
    role: str = "user"
    content: list[ContentItem] = []
    phase: str | UnsetType = UNSET
    id: str | UnsetType | None = UNSET
    end_turn: bool | UnsetType = UNSET
    internal_chat_message_metadata_passthrough: Any = UNSET
    status: str | UnsetType = UNSET


class InterAgentMessage(_Tagged, tag="agent_message"):
    author: Any = None
    recipient: Any = None
    content: list[Any] = []
    id: str | UnsetType | None = UNSET


class Reasoning(_Tagged, tag="reasoning"):
    summary: list[SummaryText] = []
    content: list[ReasoningContentItem] | None = None
    encrypted_content: str | None = None
    id: str | UnsetType | None = UNSET
    internal_chat_message_metadata_passthrough: Any = UNSET


class LocalShellCall(_Tagged, tag="local_shell_call"):
    call_id: str | None = None
    status: str | None = None
    action: Any = None
    id: str | UnsetType | None = UNSET


class FunctionCall(_Tagged, tag="function_call"):
    name: str = ""
    namespace: str | UnsetType = UNSET
    arguments: str = ""
    call_id: str = ""
    id: str | UnsetType | None = UNSET
    internal_chat_message_metadata_passthrough: Any = UNSET


class FunctionCallOutput(_Tagged, tag="function_call_output"):
    call_id: str = ""
    output: FunctionCallOutputPayload = ""
    id: str | UnsetType | None = UNSET
    internal_chat_message_metadata_passthrough: Any = UNSET


class CustomToolCall(_Tagged, tag="custom_tool_call"):
    status: str | UnsetType = UNSET
    call_id: str = ""
    name: str = ""
    input: str = ""
    id: str | UnsetType | None = UNSET
    internal_chat_message_metadata_passthrough: Any = UNSET


class CustomToolCallOutput(_Tagged, tag="custom_tool_call_output"):
    call_id: str = ""
    name: str | UnsetType = UNSET
    output: FunctionCallOutputPayload = ""
    id: str | UnsetType | None = UNSET
    internal_chat_message_metadata_passthrough: Any = UNSET


class ToolSearchCall(_Tagged, tag="tool_search_call"):
    call_id: str | None = None
    status: str | None = None
    execution: str | None = None
    arguments: Any = None
    id: str | UnsetType | None = UNSET
    internal_chat_message_metadata_passthrough: Any = UNSET


class ToolSearchOutput(_Tagged, tag="tool_search_output"):
    call_id: str | None = None
    status: str | None = None
    execution: str | None = None
    tools: list[Any] = []
    internal_chat_message_metadata_passthrough: Any = UNSET


class WebSearchCall(_Tagged, tag="web_search_call"):
    status: str | None = None
    action: Any = None
    id: str | UnsetType | None = UNSET


class ImageGenerationCall(_Tagged, tag="image_generation_call"):
    id: str = ""
    status: str | None = None
    revised_prompt: str | None = None
    result: str = ""


class Compaction(_Tagged, tag="compaction"):
    encrypted_content: str = ""


class CompactionSummary(Compaction, tag="compaction_summary"):
    """Older spelling of :class:`Compaction`; kept distinct so it re-encodes as read."""


class ContextCompaction(_Tagged, tag="context_compaction"):
    encrypted_content: str | None = None


class CompactionTrigger(_Tagged, tag="compaction_trigger"):
    """Never persisted by Codex; modelled so a stray one still decodes."""


class GhostSnapshot(_Tagged, tag="ghost_snapshot"):
    """Legacy undo snapshot (removed 2026-04); readers skip it, we keep its bytes."""

    ghost_commit: Any = None


class _UnknownPayload:
    """A payload kept as decoded JSON data because we do not model its type or shape.

    It encodes back to exactly ``data``. Equality compares the data.
    """

    __slots__ = ("data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @property
    def type(self) -> str:
        tag = self.data.get("type")
        return tag if isinstance(tag, str) else ""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and type(other) is type(self) and other.data == self.data

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.data!r})"


class UnknownResponseItem(_UnknownPayload):
    """A response item whose ``type`` we do not model (or whose shape did not fit)."""


ResponseItem = Union[
    Message,
    InterAgentMessage,
    Reasoning,
    LocalShellCall,
    FunctionCall,
    FunctionCallOutput,
    CustomToolCall,
    CustomToolCallOutput,
    ToolSearchCall,
    ToolSearchOutput,
    WebSearchCall,
    ImageGenerationCall,
    Compaction,
    CompactionSummary,
    ContextCompaction,
    CompactionTrigger,
    GhostSnapshot,
]
AnyResponseItem = Union[ResponseItem, UnknownResponseItem]


# --------------------------------------------------------------------------- session / turn


class HistoryBase(_Struct):
    """Where a segment's history continues from (``session_meta.history_base``, paginated mode).

    The thread's history is the lines of ``thread_id``'s history whose ``ordinal`` is below
    ``end_ordinal_exclusive`` (``end_byte_offset`` bytes of that file), then this file's lines.
    A revert writes a new segment of the same thread; a fork starts one based on its parent.
    """

    thread_id: str = ""
    end_ordinal_exclusive: int = 0
    end_byte_offset: int | None = None


class GitInfo(_Struct, omit_defaults=True):
    commit_hash: str | None = None
    branch: str | None = None
    repository_url: str | None = None


class BaseInstructions(_Struct):
    text: str = ""


class SessionMeta(_Struct, omit_defaults=True):
    """Thread identity and creation metadata (the ``session_meta`` payload).

    ``source`` is kept as written: a string (``"cli"``) or an object
    (``{"subagent": ...}``); :func:`rollout.compat.source_kind` names it.
    """

    id: str = ""
    forked_from_id: str | None = None
    parent_thread_id: str | None = None
    session_id: str | None = None
    timestamp: str | None = None
    cwd: str | None = None
    originator: str | None = None
    cli_version: str | None = None
    source: Any = None
    thread_source: str | None = None
    agent_nickname: str | None = None
    agent_role: str | None = None
    agent_path: str | None = None
    model_provider: str | None = None
    base_instructions: BaseInstructions | None = None
    instructions: str | None = None
    dynamic_tools: list[Any] | None = None
    memory_mode: str | None = None
    multi_agent_version: str | None = None
    history_mode: str | None = None
    context_window: Any = None
    git: GitInfo | None = None
    history_base: HistoryBase | None = None
    forked_from_ordinal_exclusive: int | None = None
    runtime_workspace_roots: list[str] | None = None


class TurnContext(_Struct, omit_defaults=True):
    """Per-turn settings snapshot (the ``turn_context`` payload)."""

    turn_id: str | None = None
    root_turn_id: str | None = None
    cwd: str | None = None
    workspace_roots: list[str] | None = None
    current_date: str | None = None
    timezone: str | None = None
    approval_policy: Any = None
    approvals_reviewer: str | None = None
    sandbox_policy: Any = None
    permission_profile: Any = None
    network: Any = None
    file_system_sandbox_policy: Any = None
    model: str | None = None
    personality: str | None = None
    collaboration_mode: Any = None
    multi_agent_version: str | None = None
    realtime_active: bool | None = None
    effort: str | None = None
    summary: str | None = None
    user_instructions: str | None = None
    developer_instructions: str | None = None
    final_output_json_schema: Any = None
    truncation_policy: Any = None
    comp_hash: str | None = None


class Compacted(_Struct):
    """A compaction checkpoint; ``replacement_history`` is the whole model context after it."""

    message: str = ""
    # May also hold UnknownResponseItem entries (built by the codec).
    replacement_history: list[ResponseItem] | None = None


class WorldState(_Struct, omit_defaults=True):
    """Environment snapshot written by newer Codex versions (``world_state`` lines)."""

    full: bool | None = None
    state: Any = None


class TokenUsageRecord(_Struct, omit_defaults=True):
    """Token usage of one model response (``token_usage_record`` lines, Codex 0.152+)."""

    thread_id: str | None = None
    turn_id: str | None = None
    session_id: str | None = None
    root_turn_id: str | None = None
    response_id: str | None = None
    usage: Any = None
    turn_token_usage: Any = None
    thread_token_usage: Any = None


# --------------------------------------------------------------------------- events
# Event payloads keep Codex's wire field names. Nested shapes that drift between
# versions (token usage, rate limits, review targets, tool results) stay ``Any``.


class Duration(_Struct):
    secs: int = 0
    nanos: int = 0

    @property
    def millis(self) -> int:
        return self.secs * 1000 + self.nanos // 1_000_000


class TaskStartedEvent(_Tagged, tag="task_started"):
    turn_id: str = ""
    trace_id: str | None = None
    started_at: int | None = None
    model_context_window: int | None = None
    collaboration_mode_kind: str | None = None
    root_turn_id: str | UnsetType | None = UNSET
    turn_attribution: Any = UNSET


class TurnStartedEvent(TaskStartedEvent, tag="turn_started"):
    """Alias spelling of ``task_started``."""


class TaskCompleteEvent(_Tagged, tag="task_complete"):
    turn_id: str = ""
    last_agent_message: str | None = None
    started_at: int | None = None
    completed_at: int | None = None
    duration_ms: int | None = None
    time_to_first_token_ms: int | None = None
    root_turn_id: str | UnsetType | None = UNSET
    #: ``{"message", "codex_error_info", ...}`` when the turn failed (Codex 0.153+)
    error: Any = UNSET


class TurnCompleteEvent(TaskCompleteEvent, tag="turn_complete"):
    """Alias spelling of ``task_complete``."""


class TurnAbortedEvent(_Tagged, tag="turn_aborted"):
    turn_id: str | None = None
    reason: str | None = None
    started_at: int | None = None
    completed_at: int | None = None
    duration_ms: int | None = None


class UserMessageEvent(_Tagged, tag="user_message"):
    client_id: str | None = None
    message: str = ""
    kind: str | UnsetType = UNSET
    images: list[str] | None = None
    image_details: list[Any] | UnsetType = UNSET
    local_images: list[str] = []
    local_image_details: list[Any] | UnsetType = UNSET
    text_elements: list[Any] = []
    audio: list[Any] | UnsetType = UNSET
    local_audio: list[Any] | UnsetType = UNSET


class AgentMessageEvent(_Tagged, tag="agent_message"):
    message: str = ""
    phase: str | None = None
    memory_citation: Any = None


class AgentReasoningEvent(_Tagged, tag="agent_reasoning"):
    text: str = ""


class AgentReasoningRawContentEvent(_Tagged, tag="agent_reasoning_raw_content"):
    text: str = ""


class TokenCountEvent(_Tagged, tag="token_count"):
    info: Any = None
    rate_limits: Any = None


class ContextCompactedEvent(_Tagged, tag="context_compacted"):
    pass


class ThreadRolledBackEvent(_Tagged, tag="thread_rolled_back"):
    num_turns: int = 0


class EnteredReviewModeEvent(_Tagged, tag="entered_review_mode"):
    target: Any = None
    user_facing_hint: str | None = None


class ExitedReviewModeEvent(_Tagged, tag="exited_review_mode"):
    review_output: Any = None


class PatchApplyBeginEvent(_Tagged, tag="patch_apply_begin"):
    call_id: str = ""
    turn_id: str = ""
    auto_approved: bool | None = None
    changes: dict[str, Any] = {}


class PatchApplyEndEvent(_Tagged, tag="patch_apply_end"):
    call_id: str = ""
    turn_id: str = ""
    stdout: str = ""
    stderr: str = ""
    success: bool = False
    changes: dict[str, Any] = {}
    status: str | None = None


class ApplyPatchApprovalRequestEvent(_Tagged, tag="apply_patch_approval_request"):
    call_id: str = ""
    turn_id: str = ""
    changes: dict[str, Any] = {}
    reason: str | None = None
    grant_root: str | None = None


class McpToolCallBeginEvent(_Tagged, tag="mcp_tool_call_begin"):
    call_id: str = ""
    invocation: Any = None
    mcp_app_resource_uri: str | None = None
    plugin_id: str | None = None


class McpToolCallEndEvent(_Tagged, tag="mcp_tool_call_end"):
    call_id: str = ""
    invocation: Any = None
    mcp_app_resource_uri: str | None = None
    plugin_id: str | None = None
    duration: Duration | None = None
    result: Any = None


class WebSearchBeginEvent(_Tagged, tag="web_search_begin"):
    call_id: str = ""


class WebSearchEndEvent(_Tagged, tag="web_search_end"):
    call_id: str = ""
    query: str = ""
    action: Any = None
    results: Any = None


class ImageGenerationBeginEvent(_Tagged, tag="image_generation_begin"):
    call_id: str = ""


class ImageGenerationEndEvent(_Tagged, tag="image_generation_end"):
    call_id: str = ""
    status: str = ""
    revised_prompt: str | None = None
    result: str = ""
    saved_path: str | None = None


class ThreadGoalUpdatedEvent(_Tagged, tag="thread_goal_updated"):
    thread_id: str | None = None
    turn_id: str | None = None
    goal: Any = None


class SubAgentActivityEvent(_Tagged, tag="sub_agent_activity"):
    event_id: str = ""
    occurred_at_ms: int = 0
    agent_thread_id: str | None = None
    agent_path: Any = None
    kind: str | None = None


class ItemStartedEvent(_Tagged, tag="item_started"):
    thread_id: str | None = None
    turn_id: str = ""
    item: Any = None
    started_at_ms: int = 0


class ItemCompletedEvent(_Tagged, tag="item_completed"):
    thread_id: str | None = None
    turn_id: str = ""
    item: Any = None
    completed_at_ms: int | None = None
    started_at_ms: int | UnsetType | None = UNSET


class ErrorEvent(_Tagged, tag="error"):
    message: str = ""
    codex_error_info: Any = None


class ExecCommandBeginEvent(_Tagged, tag="exec_command_begin"):
    call_id: str = ""
    process_id: str | None = None
    turn_id: str = ""
    started_at_ms: int | None = None
    command: list[str] = []
    cwd: str = ""
    parsed_cmd: list[Any] = []
    source: str | None = None
    interaction_input: str | None = None


class ExecCommandEndEvent(_Tagged, tag="exec_command_end"):
    call_id: str = ""
    process_id: str | None = None
    turn_id: str = ""
    completed_at_ms: int | None = None
    command: list[str] = []
    cwd: str = ""
    parsed_cmd: list[Any] = []
    source: str | None = None
    interaction_input: str | None = None
    stdout: str = ""
    stderr: str = ""
    aggregated_output: str = ""
    exit_code: int = 0
    duration: Duration | None = None
    formatted_output: str = ""
    status: str | None = None


class ViewImageToolCallEvent(_Tagged, tag="view_image_tool_call"):
    call_id: str = ""
    path: str = ""


class GuardianAssessmentEvent(_Tagged, tag="guardian_assessment"):
    id: str = ""
    target_item_id: str | None = None
    turn_id: str = ""
    status: str | None = None
    risk_score: Any = None
    risk_level: Any = None
    rationale: str | None = None
    action: Any = None
    started_at_ms: int = 0
    completed_at_ms: int | None = None


class DynamicToolCallRequestEvent(_Tagged, tag="dynamic_tool_call_request"):
    """Written with camelCase field names, unlike every other event."""

    call_id: str = msgspec.field(default="", name="callId")
    turn_id: str = msgspec.field(default="", name="turnId")
    started_at_ms: int = msgspec.field(default=0, name="startedAtMs")
    namespace: str | None = None
    tool: str = ""
    arguments: Any = None


class DynamicToolCallResponseEvent(_Tagged, tag="dynamic_tool_call_response"):
    call_id: str = ""
    turn_id: str = ""
    completed_at_ms: int = 0
    namespace: str | None = None
    tool: str = ""
    arguments: Any = None
    content_items: list[Any] = []
    success: bool = False
    error: str | None = None
    duration: Duration | None = None


class _CollabEvent(_Tagged):
    call_id: str = ""
    sender_thread_id: str | None = None
    receiver_thread_id: str | None = None
    receiver_thread_ids: list[str] | None = None
    new_thread_id: str | None = None
    prompt: str | None = None
    model: str | None = None
    reasoning_effort: str | None = None
    status: Any = None
    statuses: Any = None
    agent_statuses: Any = None


class CollabAgentSpawnBeginEvent(_CollabEvent, tag="collab_agent_spawn_begin"):
    pass


class CollabAgentSpawnEndEvent(_CollabEvent, tag="collab_agent_spawn_end"):
    pass


class CollabAgentInteractionBeginEvent(_CollabEvent, tag="collab_agent_interaction_begin"):
    pass


class CollabAgentInteractionEndEvent(_CollabEvent, tag="collab_agent_interaction_end"):
    pass


class CollabWaitingBeginEvent(_CollabEvent, tag="collab_waiting_begin"):
    pass


class CollabWaitingEndEvent(_CollabEvent, tag="collab_waiting_end"):
    pass


class CollabCloseBeginEvent(_CollabEvent, tag="collab_close_begin"):
    pass


class CollabCloseEndEvent(_CollabEvent, tag="collab_close_end"):
    pass


class CollabResumeBeginEvent(_CollabEvent, tag="collab_resume_begin"):
    pass


class CollabResumeEndEvent(_CollabEvent, tag="collab_resume_end"):
    pass


class ThreadNameUpdatedEvent(_Tagged, tag="thread_name_updated"):
    thread_id: str | None = None
    thread_name: str | None = None


class UndoCompletedEvent(_Tagged, tag="undo_completed"):
    success: bool | None = None
    message: str | None = None


class ThreadSettingsAppliedEvent(_Tagged, tag="thread_settings_applied"):
    thread_id: str | UnsetType | None = UNSET
    thread_settings: Any = None


class UnknownEvent(_UnknownPayload):
    """An event whose ``type`` we do not model (or whose shape did not fit)."""


EventMsg = Union[
    TaskStartedEvent,
    TurnStartedEvent,
    TaskCompleteEvent,
    TurnCompleteEvent,
    TurnAbortedEvent,
    UserMessageEvent,
    AgentMessageEvent,
    AgentReasoningEvent,
    AgentReasoningRawContentEvent,
    TokenCountEvent,
    ContextCompactedEvent,
    ThreadRolledBackEvent,
    EnteredReviewModeEvent,
    ExitedReviewModeEvent,
    PatchApplyBeginEvent,
    PatchApplyEndEvent,
    ApplyPatchApprovalRequestEvent,
    McpToolCallBeginEvent,
    McpToolCallEndEvent,
    WebSearchBeginEvent,
    WebSearchEndEvent,
    ImageGenerationBeginEvent,
    ImageGenerationEndEvent,
    ThreadGoalUpdatedEvent,
    SubAgentActivityEvent,
    ItemStartedEvent,
    ItemCompletedEvent,
    ErrorEvent,
    ExecCommandBeginEvent,
    ExecCommandEndEvent,
    ViewImageToolCallEvent,
    GuardianAssessmentEvent,
    DynamicToolCallRequestEvent,
    DynamicToolCallResponseEvent,
    CollabAgentSpawnBeginEvent,
    CollabAgentSpawnEndEvent,
    CollabAgentInteractionBeginEvent,
    CollabAgentInteractionEndEvent,
    CollabWaitingBeginEvent,
    CollabWaitingEndEvent,
    CollabCloseBeginEvent,
    CollabCloseEndEvent,
    CollabResumeBeginEvent,
    CollabResumeEndEvent,
    ThreadNameUpdatedEvent,
    UndoCompletedEvent,
    ThreadSettingsAppliedEvent,
]
AnyEventMsg = Union[EventMsg, UnknownEvent]


# --------------------------------------------------------------------------- lines


class RolloutLine(
    msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, dict=True, tag_field="type"
):
    """One line of a rollout: ``{"timestamp", "type", "payload"}``.

    ``timestamp`` is the UTC write time (``None`` for pre-envelope 2025 lines).
    ``ordinal`` is written only by Codex's later "paginated" history mode.
    Decoded lines remember their original bytes (see :func:`rollout.codec.raw_bytes`).
    """

    timestamp: str | None = None
    ordinal: int | None = None

    @property
    def type(self) -> str:
        return self.__struct_config__.tag  # type: ignore[return-value]


class SessionMetaLine(RolloutLine, tag="session_meta"):
    payload: SessionMeta


class ResponseItemLine(RolloutLine, tag="response_item"):
    # Decoding accepts the modelled variants; the codec builds an
    # UnknownResponseItem payload itself when the tag is unknown.
    payload: ResponseItem


class EventMsgLine(RolloutLine, tag="event_msg"):
    payload: EventMsg


class TurnContextLine(RolloutLine, tag="turn_context"):
    payload: TurnContext


class CompactedLine(RolloutLine, tag="compacted"):
    payload: Compacted


class WorldStateLine(RolloutLine, tag="world_state"):
    payload: WorldState


class TokenUsageRecordLine(RolloutLine, tag="token_usage_record"):
    payload: TokenUsageRecord


class _OpaqueLine(RolloutLine):
    """A line type Codex 0.171 declares whose shape is not modelled: the payload is kept as data."""

    payload: dict[str, Any] = {}


class DynamicToolsUpdatedLine(_OpaqueLine, tag="dynamic_tools_updated"):
    pass


class InterAgentCommunicationLine(_OpaqueLine, tag="inter_agent_communication"):
    pass


class SecurityRiskScoreLine(_OpaqueLine, tag="security_risk_score"):
    pass


class RealtimeItemLine(_OpaqueLine, tag="realtime_item"):
    pass


class IdAllocationLine(_OpaqueLine, tag="id_allocation"):
    pass


class UnknownLine(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, dict=True):
    """A line whose envelope ``type`` we do not model; ``payload`` is kept as data."""

    type: str = ""
    timestamp: str | None = None
    ordinal: int | None = None
    payload: Any = None


class LegacyStateLine(msgspec.Struct, frozen=True, kw_only=True, dict=True):
    """A pre-envelope ``{"record_type": "state", ...}`` line (2025 files)."""

    type: ClassVar[str] = "legacy_state"
    data: dict[str, Any] = {}

    @property
    def timestamp(self) -> None:
        return None


KnownLine = Union[
    SessionMetaLine,
    ResponseItemLine,
    EventMsgLine,
    TurnContextLine,
    CompactedLine,
    WorldStateLine,
    TokenUsageRecordLine,
    DynamicToolsUpdatedLine,
    InterAgentCommunicationLine,
    SecurityRiskScoreLine,
    RealtimeItemLine,
    IdAllocationLine,
]
Line = Union[KnownLine, UnknownLine, LegacyStateLine]

__all__ = sorted(
    name
    for name, value in list(globals().items())
    if not name.startswith("_")
    and name not in {"Any", "ClassVar", "Union", "msgspec"}
)
