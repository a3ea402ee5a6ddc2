"""Comparing v2 documents in unit tests written before Codex 0.171's explicit nulls.

Codex 0.171.0 added fields to every Turn and ThreadItem that are ``null`` in all the
situations the spec-derived unit tests build (``rootTurnId``, ``startedAtMs``, an
``agentMessage``'s ``moderation``, ...). :func:`strip` removes exactly those keys when
they hold their ``null``/default value, so a unit test can state only what it is about.
Whether they are present, ``null`` and in Codex's order is checked against the real Codex,
byte for byte, by ``tests/conformance/``.
"""

from __future__ import annotations

from typing import Any

_EVERY_ITEM = {"startedAtMs": None, "completedAtMs": None}
#: per ``type``: the keys Codex 0.171 added, with the value they hold when absent
NEW_NULLS: dict[str, dict[str, Any]] = {
    "agentMessage": {"moderation": None, "delivery": None, "questions": None},
    "mcpToolCall": {"environmentId": None, "appContext": None, "mcpAppUi": None, "readOnlyHint": None},
    "commandExecution": {"pluginId": None, "scriptPath": None},
    "webSearch": {"results": None},
    "imageGeneration": {"transparentBackground": None, "failure": None, "generationId": None},
    "subAgentActivity": {"model": None, "reasoningEffort": None},
    "image": {"detail": None},
    "localImage": {"detail": None},
}
_TURN = {"rootTurnId": None}
_ERROR = {"misalignment": None}


def _drop(document: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if not (key in defaults and defaults[key] == value)}


def strip(document: Any) -> Any:
    """``document`` (turns, items, or any nesting of them) without the default-valued new keys."""
    if isinstance(document, list):
        return [strip(value) for value in document]
    if not isinstance(document, dict):
        return document
    kind = document.get("type")
    if "itemsView" in document:
        document = _drop(document, _TURN)
    elif "codexErrorInfo" in document:
        document = _drop(document, _ERROR)
    elif isinstance(kind, str):
        document = _drop(document, {**NEW_NULLS.get(kind, {}), **(_EVERY_ITEM if kind[:1].islower() else {})})
    if isinstance(document.get("result"), dict) and document.get("type") == "mcpToolCall":
        document = {**document, "result": _drop(document["result"], {"_meta": None})}
    return {key: strip(value) for key, value in document.items()}
