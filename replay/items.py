"""Turns and ThreadItems: the app-server v2 shapes that rebuilt history is made of.

Every type here encodes (``msgspec.json.encode``) to exactly the JSON Codex 0.171.0's
app-server returns from ``thread/read`` and ``thread/turns/list``, byte for byte: camelCase
fields and ``type`` tags, Codex's key order (fields are declared in that order; the tag
comes first), and an explicit ``null`` for every absent value Codex writes as ``null``
(``rootTurnId``, ``startedAtMs``/``completedAtMs`` on every item, ``agentMessage``'s
``moderation``/``delivery``/``questions``, the ``mcpToolCall`` context fields, ...). The
few fields Codex leaves out when absent (``mcpAppResourceUri``, ``savedPath``) default to
``msgspec.UNSET``. Nested shapes live in :mod:`replay.item_parts` and are re-exported here.

The structs are frozen: the reducer replaces an item instead of mutating it, so a
snapshot handed out earlier never changes under its holder.

Must not import: rollout, store, anything doing I/O.
"""

from __future__ import annotations

from typing import Any, Literal, Union

from msgspec import UNSET, UnsetType

from .item_parts import (
    V2 as V2,
)
from .item_parts import (  # the nested shapes are part of this module's API
    ByteRange as ByteRange,
)
from .item_parts import (
    CollabAgentState as CollabAgentState,
)
from .item_parts import (
    CommandAction as CommandAction,
)
from .item_parts import (
    DynamicContentItem as DynamicContentItem,
)
from .item_parts import (
    DynamicInputImage as DynamicInputImage,
)
from .item_parts import (
    DynamicInputText as DynamicInputText,
)
from .item_parts import (
    FileUpdateChange as FileUpdateChange,
)
from .item_parts import (
    HookPromptFragment as HookPromptFragment,
)
from .item_parts import (
    ImageInput as ImageInput,
)
from .item_parts import (
    ListFilesAction as ListFilesAction,
)
from .item_parts import (
    LocalImageInput as LocalImageInput,
)
from .item_parts import (
    McpToolCallError as McpToolCallError,
)
from .item_parts import (
    McpToolCallResult as McpToolCallResult,
)
from .item_parts import (
    MemoryCitation as MemoryCitation,
)
from .item_parts import (
    MemoryCitationEntry as MemoryCitationEntry,
)
from .item_parts import (
    MentionInput as MentionInput,
)
from .item_parts import (
    PatchChangeKind as PatchChangeKind,
)
from .item_parts import (
    ReadAction as ReadAction,
)
from .item_parts import (
    SearchAction as SearchAction,
)
from .item_parts import (
    SkillInput as SkillInput,
)
from .item_parts import (
    TextElement as TextElement,
)
from .item_parts import (
    TextInput as TextInput,
)
from .item_parts import (
    UnknownAction as UnknownAction,
)
from .item_parts import (
    UserInput as UserInput,
)
from .item_parts import (
    WebSearchAction as WebSearchAction,
)
from .item_parts import (
    WebSearchFindInPage as WebSearchFindInPage,
)
from .item_parts import (
    WebSearchOpenPage as WebSearchOpenPage,
)
from .item_parts import (
    WebSearchOther as WebSearchOther,
)
from .item_parts import (
    WebSearchSearch as WebSearchSearch,
)

TurnStatus = Literal["completed", "interrupted", "failed", "inProgress"]
ItemsView = Literal["full", "summary", "notLoaded"]


class _Item(V2, tag_field="type"):
    """Base of every ThreadItem variant; ``type`` is the camelCase tag.

    Every variant ends with ``started_at_ms``/``completed_at_ms`` (the item's
    ``item_completed`` times in paginated history; ``null`` in legacy history).
    """


class UserMessage(_Item, tag="userMessage"):
    id: str = ""
    client_id: str | None = None
    content: list[UserInput] = []
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class HookPrompt(_Item, tag="hookPrompt"):
    id: str = ""
    fragments: list[HookPromptFragment] = []
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class AgentMessage(_Item, tag="agentMessage"):
    moderation: Any = None
    id: str = ""
    text: str = ""
    phase: str | None = None
    memory_citation: MemoryCitation | None = None
    delivery: str | None = None
    questions: list[Any] | None = None
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class Plan(_Item, tag="plan"):
    id: str = ""
    text: str = ""
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class Reasoning(_Item, tag="reasoning"):
    id: str = ""
    summary: list[str] = []
    content: list[str] = []
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class CommandExecution(_Item, tag="commandExecution"):
    id: str = ""
    plugin_id: str | None = None
    script_path: str | None = None
    command: str = ""
    cwd: str = ""
    process_id: str | None = None
    source: str = "agent"
    status: str = "inProgress"
    command_actions: list[CommandAction] = []
    aggregated_output: str | None = None
    exit_code: int | None = None
    duration_ms: int | None = None
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class FileChange(_Item, tag="fileChange"):
    id: str = ""
    changes: list[FileUpdateChange] = []
    status: str = "inProgress"
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class McpToolCall(_Item, tag="mcpToolCall"):
    id: str = ""
    server: str = ""
    environment_id: str | None = None
    tool: str = ""
    status: str = "inProgress"
    arguments: Any = None
    app_context: Any = None
    mcp_app_resource_uri: str | UnsetType = UNSET
    mcp_app_ui: Any = None
    plugin_id: str | None = None
    read_only_hint: bool | None = None
    result: McpToolCallResult | None = None
    error: McpToolCallError | None = None
    duration_ms: int | None = None
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class DynamicToolCall(_Item, tag="dynamicToolCall"):
    id: str = ""
    namespace: str | None = None
    tool: str = ""
    arguments: Any = None
    status: str = "inProgress"
    content_items: list[DynamicContentItem] | None = None
    success: bool | None = None
    duration_ms: int | None = None
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class CollabAgentToolCall(_Item, tag="collabAgentToolCall"):
    id: str = ""
    tool: str = ""
    status: str = "inProgress"
    sender_thread_id: str = ""
    receiver_thread_ids: list[str] = []
    prompt: str | None = None
    model: str | None = None
    reasoning_effort: str | None = None
    agents_states: dict[str, CollabAgentState] = {}
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class SubAgentActivity(_Item, tag="subAgentActivity"):
    model: str | None = None
    reasoning_effort: str | None = None
    id: str = ""
    kind: str = ""
    agent_thread_id: str = ""
    agent_path: str = ""
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class WebSearch(_Item, tag="webSearch"):
    id: str = ""
    query: str = ""
    action: WebSearchAction | None = None
    results: Any = None
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class ImageView(_Item, tag="imageView"):
    id: str = ""
    path: str = ""
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class ImageGeneration(_Item, tag="imageGeneration"):
    id: str = ""
    status: str = ""
    revised_prompt: str | None = None
    result: str = ""
    transparent_background: bool | None = None
    failure: Any = None
    saved_path: str | UnsetType = UNSET
    generation_id: str | None = None
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class EnteredReviewMode(_Item, tag="enteredReviewMode"):
    id: str = ""
    review: str = ""
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class ExitedReviewMode(_Item, tag="exitedReviewMode"):
    id: str = ""
    review: str = ""
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class FunctionCallOutput(_Item, tag="functionCallOutput"):
    id: str = ""
    name: str = ""
    namespace: str | None = None
    output: Any = None
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class ContextCompaction(_Item, tag="contextCompaction"):
    id: str = ""
    started_at_ms: int | None = None
    completed_at_ms: int | None = None


ThreadItem = Union[
    UserMessage,
    HookPrompt,
    AgentMessage,
    Plan,
    Reasoning,
    CommandExecution,
    FileChange,
    McpToolCall,
    DynamicToolCall,
    CollabAgentToolCall,
    SubAgentActivity,
    WebSearch,
    ImageView,
    ImageGeneration,
    EnteredReviewMode,
    ExitedReviewMode,
    FunctionCallOutput,
    ContextCompaction,
]


# --------------------------------------------------------------------------- turn


class TurnError(V2):
    message: str = ""
    codex_error_info: Any = None
    additional_details: str | None = None
    misalignment: Any = None


class Turn(V2):
    """One turn of rebuilt history (v2 ``Turn``)."""

    id: str = ""
    root_turn_id: str | None = None
    items: list[ThreadItem] = []
    items_view: ItemsView = "full"
    status: TurnStatus = "completed"
    error: TurnError | None = None
    started_at: int | None = None
    completed_at: int | None = None
    duration_ms: int | None = None


__all__ = sorted(
    name
    for name in list(globals())
    if not name.startswith("_")
    and name not in {"annotations", "Any", "Literal", "Union", "msgspec", "UNSET", "UnsetType", "V2"}
)
