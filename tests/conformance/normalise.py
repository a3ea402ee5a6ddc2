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

Must not import: the engine's packages (this is the oracle's side).
"""

from __future__ import annotations

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
