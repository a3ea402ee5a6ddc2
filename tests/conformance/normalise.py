"""The written normalisations applied before comparing the engine's documents with Codex's.

Every comparison with the real Codex goes through these functions, and this docstring
is the list of what is normalised; anything not listed here must be equal byte for byte
(after JSON parsing, with key order compared too where the test says so).

1. ``path``: Codex answers the absolute path of the rollout file; it is compared
   relative to the Codex home (both sides are rewritten to ``<home>/...``).
2. Fields Codex takes from the file's mtime (``updatedAt``, ``recencyAt``): the harness
   sets every placed file's mtime (``home.FIXED_MTIME``), so they compare equal as they are
   when the engine serves the same home; :func:`without_mtime_fields` drops them where the
   engine side is not a Codex home.
3. Ids Codex mints at random: a ``hookPrompt`` item built from a user message that has no
   ``id`` gets a fresh UUIDv7 from Codex on every read (the engine derives a stable UUIDv5).
   :func:`minted_ids` writes such an id as ``<minted>`` on both sides, only where both sides
   hold a UUID at the same place.

Must not import: the engine's packages (this is the oracle's side).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

MTIME_FIELDS = ("updatedAt", "recencyAt")


def relative_path(document: Any, home: str | Path) -> Any:
    """``document`` with every ``path`` under ``home`` written as ``<home>/...`` (recursively)."""
    prefix = str(Path(home).resolve())
    if isinstance(document, dict):
        return {
            key: (_relative(value, prefix) if key == "path" else relative_path(value, home))
            for key, value in document.items()
        }
    if isinstance(document, list):
        return [relative_path(value, home) for value in document]
    return document


def _relative(value: Any, prefix: str) -> Any:
    if isinstance(value, str) and (value == prefix or value.startswith(prefix + "/")):
        return "<home>" + value[len(prefix):]
    return value


def without_mtime_fields(thread: dict[str, Any]) -> dict[str, Any]:
    """A thread object without the fields Codex derives from the file's mtime."""
    return {key: value for key, value in thread.items() if key not in MTIME_FIELDS}


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def minted_ids(codex_turns: list[Any], engine_turns: list[Any]) -> tuple[list[Any], list[Any]]:
    """Both turn lists with minted ``hookPrompt`` ids (a UUID on both sides) written as ``<minted>``."""
    if len(codex_turns) != len(engine_turns):
        return codex_turns, engine_turns
    left, right = [], []
    for theirs, ours in zip(codex_turns, engine_turns):
        items = list(zip(theirs.get("items", []), ours.get("items", []))) if len(theirs.get("items", [])) == len(ours.get("items", [])) else []
        masked = [(a, b) if not (a.get("type") == b.get("type") == "hookPrompt" and _is_uuid(a.get("id")) and _is_uuid(b.get("id")))
                  else ({**a, "id": "<minted>"}, {**b, "id": "<minted>"}) for a, b in items]
        if masked:
            theirs = {**theirs, "items": [a for a, _ in masked]}
            ours = {**ours, "items": [b for _, b in masked]}
        left.append(theirs)
        right.append(ours)
    return left, right
