"""Validate the engine's v2 documents against the JSON Schema Codex 0.171.0 generates.

Must not import: the engine's packages (this is the oracle's side).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

_SCHEMA = Path(__file__).with_name("schema") / "ThreadTurnsListResponse.json"


@cache
def _validator(definition: str) -> jsonschema.Draft7Validator:
    schema = json.loads(_SCHEMA.read_text())
    return jsonschema.Draft7Validator({"$ref": f"#/definitions/{definition}", "definitions": schema["definitions"]})


def turn_errors(turn: Any) -> list[str]:
    """Every way ``turn`` (decoded JSON) breaks the ``Turn`` schema, as readable lines."""
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in _validator("Turn").iter_errors(turn)]
