"""History items as Codex 0.171 puts them in a model request (the resume context, sent).

:func:`request_items` turns rollout response items into the JSON objects Codex's first
request after a resume carries, as observed against the real binary:

* a string tool output (``function_call_output``, ``custom_tool_call_output``) longer than
  the model's budget is sent as its first and last halves (cut on character boundaries)
  around ``…N chars truncated…``; the budget is 4 bytes per token of the model's truncation
  policy: 10,000 tokens for the models in Codex 0.171's catalog, 3,000 for any other;
* empty text parts are left out of a multimodal tool output;
* the older ``compaction_summary`` item is sent as ``compaction``;
* an item ``id`` that is not a Responses API id (``<prefix>_...``, e.g. ``msg_1``, ``rs_1``,
  ``item_1``) is left out;
* ``internal_chat_message_metadata_passthrough`` is not part of the item (Codex sends its own
  rewritten version to the ``openai`` provider only).

Must not import: store, anything doing I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import msgspec

from rollout.codec import encode_payload

__all__ = ["output_budget", "request_items"]

#: models Codex 0.171.0's bundled catalog knows (truncation policy: 10,000 tokens)
CATALOG_MODELS = frozenset({
    "gpt-6.2-sol", "gpt-6.2-astra", "gpt-6-astra", "gpt-6.1-sol", "gpt-6.1-terra", "gpt-6-sol", "gpt-6-luna",
    "gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna", "gpt-daybreak-blue-latest", "gpt-daybreak-red-latest",
    "gpt-5.5", "codex-auto-review",
})
_CATALOG_TOKENS, _FALLBACK_TOKENS, _BYTES_PER_TOKEN = 10_000, 3_000, 4
_OUTPUTS = ("function_call_output", "custom_tool_call_output")
_API_ID = re.compile(r"[a-z]+_")


def output_budget(model: str | None) -> int:
    """Bytes of a tool output Codex sends whole to ``model``."""
    tokens = _CATALOG_TOKENS if model in CATALOG_MODELS else _FALLBACK_TOKENS
    return tokens * _BYTES_PER_TOKEN


def request_items(items: Iterable[Any], *, model: str | None = None) -> list[dict[str, Any]]:
    """``items`` (rollout response items) as JSON objects the way a request to ``model`` carries them."""
    budget = output_budget(model)
    return [_as_sent(msgspec.json.decode(encode_payload(item)), budget) for item in items]


def _as_sent(item: dict[str, Any], budget: int) -> dict[str, Any]:
    item = {key: value for key, value in item.items() if key != "internal_chat_message_metadata_passthrough"}
    if "id" in item and not (isinstance(item["id"], str) and _API_ID.match(item["id"])):
        del item["id"]
    if item.get("type") == "compaction_summary":
        item["type"] = "compaction"
    output = item.get("output")
    if item.get("type") in _OUTPUTS and isinstance(output, str):
        item["output"] = _truncate(output, budget)
    elif item.get("type") in _OUTPUTS and isinstance(output, list):
        item["output"] = [part for part in output if not (part.get("type") == "input_text" and part.get("text") == "")]
    return item


def _truncate(text: str, budget: int) -> str:
    data = text.encode()
    if len(data) <= budget:
        return text
    half = budget // 2
    head = data[:half].decode(errors="ignore")
    tail = data[len(data) - half:].decode(errors="ignore")
    return f"{head}…{len(text) - len(head) - len(tail)} chars truncated…{tail}"
