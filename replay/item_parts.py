"""The nested shapes inside ThreadItems: user input, command actions, patch changes, tool results.

Key order and explicit ``null``s follow Codex 0.171.0's ``thread/read`` replies (see
:mod:`replay.items`). ``UserInput`` is the one family whose tags are camelCase but whose
fields stay snake_case (``text_elements``), as Codex writes them.

Must not import: rollout, store, anything doing I/O.
"""

from __future__ import annotations

from typing import Any, Union

import msgspec
from msgspec import UNSET, UnsetType


class V2(msgspec.Struct, frozen=True, kw_only=True, rename="camel", gc=False):
    """Untagged v2 struct: camelCase on the wire."""


# --------------------------------------------------------------------------- user input


class ByteRange(msgspec.Struct, frozen=True, kw_only=True):
    start: int = 0
    end: int = 0


class TextElement(V2):
    byte_range: ByteRange = ByteRange()
    placeholder: str | None = None


class _Input(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", gc=False):
    """Base of UserInput: camelCase tags, snake_case fields (as Codex writes them)."""


class TextInput(_Input, tag="text"):
    text: str = ""
    text_elements: list[TextElement] = []


class ImageInput(_Input, tag="image"):
    url: str = ""
    detail: str | None = None


class LocalImageInput(_Input, tag="localImage"):
    detail: str | None = None
    path: str = ""


class SkillInput(_Input, tag="skill"):
    name: str = ""
    path: str = ""


class MentionInput(_Input, tag="mention"):
    name: str = ""
    path: str = ""


UserInput = Union[TextInput, ImageInput, LocalImageInput, SkillInput, MentionInput]


# --------------------------------------------------------------------------- messages


class HookPromptFragment(V2):
    text: str = ""
    hook_run_id: str = ""


class MemoryCitationEntry(V2):
    path: str = ""
    line_start: int = 0
    line_end: int = 0
    note: str = ""


class MemoryCitation(V2):
    entries: list[MemoryCitationEntry] = []
    thread_ids: list[str] = []


# --------------------------------------------------------------------------- commands and patches


class _Action(V2, tag_field="type"):
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


class FileUpdateChange(V2):
    path: str = ""
    kind: PatchChangeKind = PatchChangeKind()
    diff: str = ""


# --------------------------------------------------------------------------- tools


class McpToolCallResult(V2):
    content: list[Any] = []
    structured_content: Any = None
    meta: Any = msgspec.field(default=None, name="_meta")


class McpToolCallError(V2):
    message: str = ""


class _DynamicContent(V2, tag_field="type"):
    """Base of dynamic tool output content items."""


class DynamicInputText(_DynamicContent, tag="inputText"):
    text: str = ""


class DynamicInputImage(_DynamicContent, tag="inputImage"):
    image_url: str = ""


DynamicContentItem = Union[DynamicInputText, DynamicInputImage]


class CollabAgentState(V2):
    status: str = "pendingInit"
    message: str | None = None


class _SearchActionBase(V2, tag_field="type"):
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


__all__ = sorted(
    name
    for name in list(globals())
    if not name.startswith("_")
    and name not in {"annotations", "Any", "Union", "msgspec", "UNSET", "UnsetType"}
)
