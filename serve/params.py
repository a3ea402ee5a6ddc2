"""The params of every served method, as msgspec Structs in Codex's camelCase.

Only the fields this server acts on are declared; like Codex, unknown fields are
ignored. Shapes follow ``../shared/schema/codex-0.171.0/`` (``thread/rollback``
follows ``codex-older-rollback/``). Enumerations are ``Literal``s so a bad value
is refused while decoding, as serde refuses it.

Must not import: store, rollout.cli, rich.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

__all__ = [
    "ClientInfo",
    "Empty",
    "GitPatch",
    "Initialize",
    "ThreadFork",
    "ThreadId",
    "ThreadInjectItems",
    "ThreadItemsList",
    "ThreadList",
    "ThreadLoadedList",
    "ThreadMetadataUpdate",
    "ThreadRead",
    "ThreadResume",
    "ThreadRollback",
    "ThreadSearch",
    "ThreadSearchCancel",
    "ThreadSetName",
    "ThreadStart",
    "ThreadTurnsList",
]

Direction = Literal["asc", "desc"]
SortKey = Literal["created_at", "updated_at", "recency_at", "section_position"]
SearchSortKey = Literal["created_at", "updated_at", "recency_at"]
SourceKind = Literal[
    "cli", "vscode", "exec", "appServer", "subAgent", "subAgentReview",
    "subAgentCompact", "subAgentThreadSpawn", "subAgentOther", "unknown",
]
ItemsView = Literal["notLoaded", "summary", "full"]


class _P(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Base: camelCase keys, unknown keys ignored."""


class Empty(_P):
    """Params of a method that takes none (still required to be an object)."""


class ClientInfo(_P):
    name: str
    version: str
    title: str | None = None


class Capabilities(_P):
    experimental_api: bool = False


class Initialize(_P):
    client_info: ClientInfo
    capabilities: Capabilities | None = None


class ThreadId(_P):
    thread_id: str


class ThreadRead(ThreadId):
    include_turns: bool = False


class ThreadSetName(ThreadId):
    name: str


class ThreadStart(_P):
    cwd: str | None = None
    model: str | None = None
    model_provider: str | None = None
    ephemeral: bool | None = None
    base_instructions: str | None = None
    developer_instructions: str | None = None


class ThreadResume(ThreadId):
    exclude_turns: bool = False


class ThreadFork(ThreadId):
    last_turn_id: str | None = None
    exclude_turns: bool = False
    ephemeral: bool = False


class ThreadRollback(ThreadId):
    num_turns: int


class ThreadInjectItems(ThreadId):
    items: list[Any]


class ThreadList(_P):
    cursor: str | None = None
    limit: int | None = None
    sort_key: SortKey | None = None
    sort_direction: Direction | None = None
    archived: bool | None = None
    cwd: str | list[str] | None = None
    model_providers: list[str] | None = None
    source_kinds: list[SourceKind] | None = None
    search_term: str | None = None
    included_thread_ids: list[str] | None = None
    excluded_thread_ids: list[str] | None = None
    originators: list[str] | None = None
    section_id: Any = msgspec.UNSET


class ThreadSearch(_P):
    """``thread/search`` and ``thread/search/stream`` (experimental schema)."""

    search_term: str
    cursor: str | None = None
    limit: int | None = None
    sort_key: SearchSortKey | None = None
    sort_direction: Direction | None = None
    archived: bool | None = None
    source_kinds: list[SourceKind] | None = None


class ThreadSearchCancel(_P):
    """``thread/search/cancel`` and ``thread/search/stream/cancel``: a request id of this connection."""

    request_id: int | str


class ThreadTurnsList(ThreadId):
    cursor: str | None = None
    limit: int | None = None
    sort_direction: Direction | None = None
    items_view: ItemsView | None = None


class ThreadItemsList(ThreadId):
    cursor: Any = None
    limit: int | None = None
    sort_direction: Direction | None = None
    turn_id: str | None = None


class ThreadLoadedList(_P):
    cursor: str | None = None
    limit: int | None = None


class GitPatch(_P):
    """A git metadata patch: an absent field is left alone, ``null`` clears it."""

    sha: Any = msgspec.UNSET
    branch: Any = msgspec.UNSET
    origin_url: Any = msgspec.UNSET


class ThreadMetadataUpdate(ThreadId):
    git_info: GitPatch | None = None
