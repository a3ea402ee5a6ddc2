"""Codex's ``Thread`` object from a store's ``ThreadInfo``/``Thread``, key for key.

Codex 0.171.0 sends every field of its Thread, ``null`` included, in one fixed
order (:data:`THREAD_KEYS`); replies are compared byte for byte, so the order
matters. A field the store's ``ThreadInfo`` does not carry yet is read with
``getattr`` and its Codex default, so when the store grows it (issue 12 adds
Codex's whole Thread object) it flows through without a change here.

Turns are encoded once with msgspec and embedded as ``msgspec.Raw``: a
1,000-turn thread is never turned into Python dicts.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["THREAD_KEYS", "encode_turns", "thread_json"]

#: Codex's key order for a Thread, and the value a key takes when the store has none.
THREAD_KEYS: tuple[tuple[str, str, Any], ...] = (
    # (Codex key, ThreadInfo attribute, default)
    ("id", "id", None),
    ("environments", "environments", None),
    ("extra", "extra", None),
    ("sessionId", "session_id", None),
    ("forkedFromId", "forked_from_id", None),
    ("attachedToThreadId", "attached_to_thread_id", None),
    ("parentThreadId", "parent_thread_id", None),
    ("preview", "preview", ""),
    ("ephemeral", "ephemeral", False),
    ("section", "section", None),
    ("sectionEnteredAt", "section_entered_at", None),
    ("projectId", "project_id", None),
    ("historyMode", "history_mode", "legacy"),
    ("modelProvider", "model_provider", None),
    ("model", "model", None),
    ("reasoningEffort", "reasoning_effort", None),
    ("createdAt", "created_at", 0),
    ("updatedAt", "updated_at", 0),
    ("recencyAt", "recency_at", None),
    ("status", "status", None),
    ("path", "path", None),
    ("cwd", "cwd", None),
    ("cliVersion", "cli_version", None),
    ("originator", "originator", None),
    ("source", "source", "unknown"),
    ("canAcceptDirectInput", "can_accept_direct_input", None),
    ("threadSource", "thread_source", None),
    ("agentNickname", "agent_nickname", None),
    ("agentRole", "agent_role", None),
    ("gitInfo", "git_info", None),
    ("name", "name", None),
    ("daybreakEnabled", "daybreak_enabled", None),
)

_EMPTY_TURNS = msgspec.Raw(b"[]")
_DEFAULT_PROVIDER = "openai"
_ENCODER = msgspec.json.Encoder()


def encode_turns(turns: list[Any]) -> msgspec.Raw:
    """Turns as JSON, ready to embed in a reply."""
    return msgspec.Raw(_ENCODER.encode(turns)) if turns else _EMPTY_TURNS


def thread_json(info: Any, *, loaded: bool, turns: msgspec.Raw | None = None) -> dict[str, Any]:
    """The Codex Thread object for ``info`` (a ``ThreadInfo`` or ``Thread``).

    Args:
        info: what the store returned.
        loaded: whether this server holds the thread loaded: status ``idle``, and the
            ``environments``/``canAcceptDirectInput`` Codex reports of a live thread.
        turns: encoded turns (:func:`encode_turns`), or None for ``[]`` as Codex
            sends on list entries and notifications.
    """
    out: dict[str, Any] = {}
    for key, attr, default in THREAD_KEYS:
        value = getattr(info, attr, default)
        out[key] = msgspec.to_builtins(value) if isinstance(value, msgspec.Struct) else value
    out["sessionId"] = out["sessionId"] or out["id"]
    out["modelProvider"] = out["modelProvider"] or _DEFAULT_PROVIDER
    if out["recencyAt"] is None:
        out["recencyAt"] = out["updatedAt"]
    if loaded or out["status"] is None:
        out["status"] = {"type": "idle" if loaded else "notLoaded"}
    if loaded:  # what Codex reports of a live thread: its local environment, open to input
        cwd = out["cwd"]
        out["environments"] = [{"environmentId": "local", "cwd": cwd, "runtimeWorkspaceRoots": [cwd]}]
        out["canAcceptDirectInput"] = True
    if isinstance(out["gitInfo"], dict) and not any(out["gitInfo"].values()):
        out["gitInfo"] = None
    out["turns"] = turns if turns is not None else _EMPTY_TURNS
    return out
