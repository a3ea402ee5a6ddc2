"""Turns and ThreadItems: the app-server v2 shapes that rebuilt history is made of.

Every type here encodes (``msgspec.json.encode``) to exactly the JSON Codex's
app-server returns from ``thread/read``: camelCase fields, camelCase ``type`` tags
(``userMessage``, ``dynamicToolCall``, ...). ``UserInput`` is the exception Codex
makes: its tags are camelCase but its fields stay snake_case.

Optional fields that Codex leaves out of the JSON when absent (``detail``,
``mcpAppResourceUri``, ``savedPath``, ``_meta``) default to ``msgspec.UNSET``;
every other ``None`` is written as ``null``.

The structs are frozen: the reducer replaces an item instead of mutating it, so a
snapshot handed out earlier never changes under its holder.

Must not import: rollout, store, anything doing I/O.
"""

from __future__ import annotations

from typing import Any, Literal, Union

import msgspec
from msgspec import UNSET, UnsetType

TurnStatus = Literal["completed", "interrupted", "failed", "inProgress"]
ItemsView = Literal["full", "summary", "notLoaded"]


class _V2(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Untagged v2 struct: camelCase on the wire."""


class _Item(_V2, tag_field="type"):
    """Base of every ThreadItem variant; ``type`` is the camelCase tag."""


# --------------------------------------------------------------------------- user input


class ByteRange(msgspec.Struct, frozen=True, kw_only=True):
    start: int = 0
    end: int = 0


class TextElement(_V2):
    byte_range: ByteRange = ByteRange()
    placeholder: str | None = None


class _Input(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of UserInput: camelCase tags, snake_case fields (as Codex writes them)."""


class TextInput(_Input, tag="text"):
    text: str = ""
    text_elements: list[TextElement] = []


class ImageInput(_Input, tag="image"):
    url: str = ""
    detail: str | UnsetType = UNSET


class LocalImageInput(_Input, tag="localImage"):
    path: str = ""
    detail: str | UnsetType = UNSET


class SkillInput(_Input, tag="skill"):
    name: str = ""
    path: str = ""


class MentionInput(_Input, tag="mention"):
    name: str = ""
    path: str = ""


UserInput = Union[TextInput, ImageInput, LocalImageInput, SkillInput, MentionInput]


# --------------------------------------------------------------------------- nested shapes


class HookPromptFragment(_V2):
    text: str = ""
    hook_run_id: str = ""


class MemoryCitationEntry(_V2):
    path: str = ""
    line_start: int = 0
    line_end: int = 0
    note: str = ""


class MemoryCitation(_V2):
    entries: list[MemoryCitationEntry] = []
    thread_ids: list[str] = []


class _Action(_V2, tag_field="type"):
    """Base of CommandAction variants."""


class ReadAction(_Action, tag="read"):
    command: str = ""
    name: str = ""
    path: str = ""


class ListFilesAction(_Action, tag="listFiles"):
    command: str = ""
    path: str | None = None


class SearchAction(_Action, tag="search"):
    command: str = ""
    query: str | None = None
    path: str | None = None


class UnknownAction(_Action, tag="unknown"):
    command: str = ""


CommandAction = Union[ReadAction, ListFilesAction, SearchAction, UnknownAction]


class PatchChangeKind(msgspec.Struct, frozen=True, kw_only=True):
    """``{"type": "add"|"delete"}`` or ``{"type": "update", "move_path": ...}``."""

    type: str = "add"
    move_path: str | UnsetType | None = UNSET


class FileUpdateChange(_V2):
    path: str = ""
    kind: PatchChangeKind = PatchChangeKind()
    diff: str = ""


class McpToolCallResult(_V2):
    content: list[Any] = []
    structured_content: Any = None
    meta: Any = msgspec.field(default=UNSET, name="_meta")


class McpToolCallError(_V2):
    message: str = ""


class _DynamicContent(_V2, tag_field="type"):
    """Base of dynamic tool output content items."""


class DynamicInputText(_DynamicContent, tag="inputText"):
    text: str = ""


class DynamicInputImage(_DynamicContent, tag="inputImage"):
    image_url: str = ""


DynamicContentItem = Union[DynamicInputText, DynamicInputImage]


class CollabAgentState(_V2):
    status: str = "pendingInit"
    message: str | None = None


class _SearchActionBase(_V2, tag_field="type"):
    """Base of webSearch ``action`` variants."""


class WebSearchSearch(_SearchActionBase, tag="search"):
    query: str | None = None
    queries: list[str] | None = None


class WebSearchOpenPage(_SearchActionBase, tag="openPage"):
    url: str | None = None


class WebSearchFindInPage(_SearchActionBase, tag="findInPage"):
    url: str | None = None
    pattern: str | None = None


class WebSearchOther(_SearchActionBase, tag="other"):
    pass


WebSearchAction = Union[WebSearchSearch, WebSearchOpenPage, WebSearchFindInPage, WebSearchOther]


# --------------------------------------------------------------------------- thread items


class UserMessage(_Item, tag="userMessage"):
    id: str = ""
    client_id: str | None = None
    content: list[UserInput] = []


class HookPrompt(_Item, tag="hookPrompt"):
    id: str = ""
    fragments: list[HookPromptFragment] = []


class AgentMessage(_Item, tag="agentMessage"):
    id: str = ""
    text: str = ""
    phase: str | None = None
    memory_citation: MemoryCitation | None = None


class Plan(_Item, tag="plan"):
    id: str = ""
    text: str = ""


class Reasoning(_Item, tag="reasoning"):
    id: str = ""
    summary: list[str] = []
    content: list[str] = []


class CommandExecution(_Item, tag="commandExecution"):
    id: str = ""
    command: str = ""
    cwd: str = ""
    process_id: str | None = None
    source: str = "agent"
    status: str = "inProgress"
    command_actions: list[CommandAction] = []
    aggregated_output: str | None = None
    exit_code: int | None = None
    duration_ms: int | None = None


class FileChange(_Item, tag="fileChange"):
    id: str = ""
    changes: list[FileUpdateChange] = []
    status: str = "inProgress"


class McpToolCall(_Item, tag="mcpToolCall"):
    id: str = ""
    server: str = ""
    tool: str = ""
    status: str = "inProgress"
    arguments: Any = None
    mcp_app_resource_uri: str | UnsetType | None = UNSET
    plugin_id: str | None = None
    result: McpToolCallResult | None = None
    error: McpToolCallError | None = None
    duration_ms: int | None = None


class DynamicToolCall(_Item, tag="dynamicToolCall"):
    id: str = ""
    namespace: str | None = None
    tool: str = ""
    arguments: Any = None
    status: str = "inProgress"
    content_items: list[DynamicContentItem] | None = None
    success: bool | None = None
    duration_ms: int | None = None


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


class SubAgentActivity(_Item, tag="subAgentActivity"):
    id: str = ""
    kind: str = ""
    agent_thread_id: str = ""
    agent_path: str = ""


class WebSearch(_Item, tag="webSearch"):
    id: str = ""
    query: str = ""
    action: WebSearchAction | None = None


class ImageView(_Item, tag="imageView"):
    id: str = ""
    path: str = ""


class ImageGeneration(_Item, tag="imageGeneration"):
    id: str = ""
    status: str = ""
    revised_prompt: str | None = None
    result: str = ""
    saved_path: str | UnsetType | None = UNSET


class EnteredReviewMode(_Item, tag="enteredReviewMode"):
    id: str = ""
    review: str = ""


class ExitedReviewMode(_Item, tag="exitedReviewMode"):
    id: str = ""
    review: str = ""


class ContextCompaction(_Item, tag="contextCompaction"):
    id: str = ""


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
    ContextCompaction,
]


# --------------------------------------------------------------------------- turn


class TurnError(_V2):
    message: str = ""
    codex_error_info: Any = None
    additional_details: Any = None


class Turn(_V2):
    """One turn of rebuilt history (v2 ``Turn``)."""

    id: str = ""
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
    and name not in {"annotations", "Any", "Literal", "Union", "msgspec", "UNSET", "UnsetType"}
)
