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
4. The resume context (:func:`resume_history`): the first turn request Codex sends after
   resuming a thread is ``[fresh context] + history + [fresh context, the new user message,
   fresh context]``. The fresh context is what Codex injects anew at every resume: the base
   instructions (a developer message), ``additional_tools`` declarations, settings, skills and
   plugin developer messages, the environment context. It is set aside, after checking it
   holds nothing else; the history between is compared item for item, in order, as JSON
   objects without ``internal_chat_message_metadata_passthrough`` (Codex sends that field only
   to the ``openai`` provider, rewritten with per-part ``content_item_kinds``; it never
   reaches any other provider). Key order within an item is the HTTP body's and is not compared.
   When the thread's recorded token usage is over its auto-compaction limit, Codex compacts
   before the new turn: that first request ends with its compaction prompt instead.
   Inline images (``data:image/...`` URLs) are compared as ``<inline image>``: Codex re-encodes
   large images (it resizes them) before sending them; the engine sends the recorded bytes.

5. A ``cwd`` that is not absolute on a POSIX host (``C:\\Users\\...``) is joined by Codex to
   the app-server's own working directory (the harness runs it in the Codex home); the
   engine keeps the recorded value, which says where the session ran.
   :func:`resolved_cwd` strips Codex's ``<home>/`` prefix from such a ``cwd`` (and from
   ``environments[].cwd`` and ``runtimeWorkspaceRoots``).
6. The engine lists and reads the pre-envelope (2025) files Codex cannot read ("rollout
   is empty"; docs/serve.md). They are compared by their absence from Codex's answers
   only: :func:`codex_cannot_read` says whether a file is one of them.
7. Codex orders threads whose sort key is equal (the same ``updatedAt`` second, as every
   file the harness placed has) by the row order of its state database, i.e. the order its
   backfill found the files, which is no property of the threads; the engine orders them
   by id. :func:`sort_groups` compares the order of threads whose sort keys differ, and
   threads sharing a key as a set.
8. A thread the server holds loaded after ``thread/fork`` is a live session in Codex: its
   ``model``, ``reasoningEffort`` and ``modelProvider`` are the session's configuration
   (the home's ``config.toml`` defaults), its ``gitInfo`` what Codex probed in the ``cwd``
   when the session started (nothing, for a ``cwd`` that does not exist here), and its
   ``cliVersion`` the server's own version. The engine runs no session: it reports the
   source's recorded settings, provider and git, and its own version.
   :func:`live_session` masks those five fields of such a thread on both sides.

Must not import: the engine's packages (this is the oracle's side).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

MTIME_FIELDS = ("updatedAt", "recencyAt")
#: what a live session's configuration and start decide (normalisation 8)
LIVE_SESSION_FIELDS = ("model", "reasoningEffort", "modelProvider", "gitInfo", "cliVersion")


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


def resolved_cwd(document: Any, home: str | Path) -> Any:
    """``document`` with every ``cwd`` (and workspace root) Codex joined to ``home`` given back as recorded."""
    prefix = str(Path(home).resolve()) + "/"

    def back(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(prefix) and not value[len(prefix):].startswith("/"):
            return value[len(prefix):]
        return value

    if isinstance(document, dict):
        return {key: (back(value) if key == "cwd" else [back(v) for v in value]
                      if key == "runtimeWorkspaceRoots" and isinstance(value, list) else resolved_cwd(value, home))
                for key, value in document.items()}
    if isinstance(document, list):
        return [resolved_cwd(value, home) for value in document]
    return document


def codex_cannot_read(path: str | Path) -> bool:
    """Whether a rollout file is one Codex calls empty: a pre-envelope file, with no ``session_meta`` line."""
    return b'"type":"session_meta"' not in Path(path).read_bytes().replace(b" ", b"")


def sort_groups(threads: list[dict[str, Any]], key: str) -> list[frozenset[str]]:
    """The ids of consecutive threads sharing the sort key ``key``, one set per key, in order."""
    groups: list[tuple[Any, set[str]]] = []
    for thread in threads:
        if groups and groups[-1][0] == thread[key]:
            groups[-1][1].add(thread["id"])
        else:
            groups.append((thread[key], {thread["id"]}))
    return [frozenset(ids) for _, ids in groups]


def live_session(thread: dict[str, Any]) -> dict[str, Any]:
    """A loaded (forked) thread with the fields of normalisation 8 written as ``<live session>``."""
    return {key: "<live session>" if key in LIVE_SESSION_FIELDS else value for key, value in thread.items()}


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


_CONTEXT_TAGS = ("<environment_context>", "<skills_instructions>", "<permissions instructions>", "<collaboration_mode>",
                 "<model_switch>", "<personality_spec>", "<user_instructions>", "# AGENTS.md instructions",
                 "<plugins_instructions>", "<apps_instructions>")
_PASSTHROUGH = "internal_chat_message_metadata_passthrough"


def _is_injected(item: dict[str, Any]) -> bool:
    if item.get("type") == "additional_tools":
        return True
    if item.get("type") != "message" or item.get("role") not in ("developer", "user"):
        return False
    texts = [part.get("text", "") for part in item.get("content", []) if isinstance(part, dict)]
    return item["role"] == "developer" or all(text.lstrip().startswith(_CONTEXT_TAGS) for text in texts)


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: ("<inline image>" if key == "image_url" and str(inner).startswith("data:image/") else _masked(inner))
                for key, inner in value.items()}
    if isinstance(value, list):
        return [_masked(inner) for inner in value]
    return value


def _comparable(item: Any) -> Any:
    """An item as compared: without the passthrough field, inline images masked, keys sorted."""
    trimmed = {key: value for key, value in item.items() if key != _PASSTHROUGH} if isinstance(item, dict) else item
    return json.loads(json.dumps(_masked(trimmed), sort_keys=True))


_COMPACTION_PROMPT = "You are performing a CONTEXT CHECKPOINT COMPACTION."


def _is_new_turn(item: dict[str, Any], probe: str) -> bool:
    """The new user message, or the compaction prompt when Codex compacts before the new turn."""
    texts = [part.get("text", "") for part in item.get("content", []) if isinstance(part, dict)]
    return texts == [probe] or (len(texts) == 1 and texts[0].startswith(_COMPACTION_PROMPT))


def resume_history(request_input: list[Any], engine_items: list[Any], probe: str) -> list[str]:
    """What is wrong with ``request_input`` as ``[fresh context] + engine_items + [fresh context + probe]``.

    Returns an empty list when the history window equals ``engine_items`` (compared as
    :func:`_comparable` items) and everything around it is fresh context plus the user message
    ``probe``; else one line per problem.
    """
    wanted = [_comparable(item) for item in engine_items]
    got = [_comparable(item) for item in request_input]
    for start in range(len(got) - len(wanted) + 1):
        if got[start:start + len(wanted)] == wanted and all(map(_is_injected, request_input[:start])):
            tail = request_input[start + len(wanted):]
            probes = [item for item in tail if _is_new_turn(item, probe)]
            others = [item for item in tail if item not in probes and not _is_injected(item)]
            if len(probes) == 1 and not others:
                return []
            return [f"after the history: {str(item)[:200]}" for item in others] or ["no single new user message"]
    start = next((index for index, item in enumerate(request_input) if not _is_injected(item)), len(got))
    for offset, (theirs, ours) in enumerate(zip(got[start:], wanted)):
        if theirs != ours:
            return [f"history item {offset}: codex {json.dumps(theirs)[:300]} / engine {json.dumps(ours)[:300]}"]
    return [f"the engine's {len(wanted)} history items are not a window of Codex's {len(got)} request items"]
