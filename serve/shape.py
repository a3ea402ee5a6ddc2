"""Codex's ``Thread`` object from a store's ``ThreadInfo``, as this server sends it.

The store's ``ThreadInfo`` already is Codex 0.171.0's Thread, every key in Codex's order;
this server adds what only it knows (whether it holds the thread loaded) and leaves out
the store's two extra keys, ``archived`` and ``lastSeq``, which Codex does not send.

Turns are encoded once with msgspec and embedded as ``msgspec.Raw``: a 1,000-turn thread
is never turned into Python dicts.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["encode_turns", "thread_json"]

_EMPTY_TURNS = msgspec.Raw(b"[]")
_ENCODER = msgspec.json.Encoder()
_OURS = ("archived", "lastSeq")
_IDLE = {"type": "idle"}


def encode_turns(turns: list[Any]) -> msgspec.Raw:
    """Turns as JSON, ready to embed in a reply."""
    return msgspec.Raw(_ENCODER.encode(turns)) if turns else _EMPTY_TURNS


def thread_json(info: Any, *, loaded: bool, turns: msgspec.Raw | None = None) -> dict[str, Any]:
    """The Codex Thread object for ``info`` (a ``ThreadInfo``; a ``Thread``'s turns are not read).

    Args:
        info: what the store returned.
        loaded: whether this server holds the thread loaded: status ``idle``, and the
            ``environments``/``canAcceptDirectInput`` Codex reports of a live thread.
        turns: encoded turns (:func:`encode_turns`), or None for ``[]`` as Codex
            sends on list entries and notifications.
    """
    out: dict[str, Any] = msgspec.to_builtins(msgspec.structs.replace(info, turns=[]) if info.turns else info)
    for key in _OURS:
        del out[key]
    if loaded:  # what Codex reports of a live thread: its local environment, open to input
        cwd = out["cwd"]
        out["status"] = _IDLE
        out["environments"] = [{"environmentId": "local", "cwd": cwd, "runtimeWorkspaceRoots": [cwd]}]
        out["canAcceptDirectInput"] = True
    out["turns"] = turns if turns is not None else _EMPTY_TURNS
    return out
