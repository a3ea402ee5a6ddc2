"""Store exceptions -> the JSON-RPC errors Codex 0.171.0 sends for the same situation.

Codex words a missing thread differently per method (observed on the real
binary): ``thread/read`` and ``thread/turns/list`` say "thread not loaded: ID",
most writes "no rollout found for thread id ID", ``thread/unarchive`` "no
archived rollout found for thread id ID", ``thread/inject_items`` "thread not
found: ID". An id that is not a UUID gets "invalid thread id: ..." worded as
the Rust ``uuid`` crate words it.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import string

from rollout.errors import Conflict, CorruptLog, InvalidInput, RolloutError, ThreadArchived, ThreadNotFound

from .rpc import INTERNAL_ERROR, RpcError

__all__ = ["check_uuid", "not_found", "translate"]

_NOT_LOADED = ("thread/read", "thread/turns/list", "thread/items/list")
_HEX = set(string.hexdigits + "-")


def not_found(method: str, thread_id: str) -> RpcError:
    """Codex's error for an unknown thread id, as ``method`` words it."""
    if method in _NOT_LOADED:
        return RpcError.invalid(f"thread not loaded: {thread_id}")
    if method == "thread/unarchive":
        return RpcError.invalid(f"no archived rollout found for thread id {thread_id}")
    if method == "thread/inject_items":
        return RpcError.invalid(f"thread not found: {thread_id}")
    return RpcError.invalid(f"no rollout found for thread id {thread_id}")


def check_uuid(thread_id: str) -> str:
    """``thread_id`` lower-cased, or Codex's "invalid thread id" error."""
    body = thread_id.removeprefix("urn:uuid:")
    for index, char in enumerate(body):
        if char not in _HEX:
            raise RpcError.invalid(
                "invalid thread id: invalid character: expected an optional prefix of `urn:uuid:` "
                f"followed by [0-9a-fA-F-], found `{char}` at {index + 1}"
            )
    groups = body.split("-")
    if [len(g) for g in groups] != [8, 4, 4, 4, 12]:
        simple = body.replace("-", "")
        if "-" in body or len(simple) != 32:
            raise RpcError.invalid(f"invalid thread id: invalid length: found {len(body)} characters")
        body = f"{simple[:8]}-{simple[8:12]}-{simple[12:16]}-{simple[16:20]}-{simple[20:]}"
    return body.lower()


def translate(method: str, thread_id: str | None, exc: RolloutError) -> RpcError:
    """The JSON-RPC error for a store exception raised while serving ``method``."""
    if isinstance(exc, ThreadNotFound):
        return not_found(method, exc.thread_id if thread_id is None else thread_id)
    if isinstance(exc, ThreadArchived):
        return RpcError.invalid(f"thread {exc.thread_id} is archived; unarchive it first")
    if isinstance(exc, Conflict | InvalidInput):
        return RpcError.invalid(str(exc))
    if isinstance(exc, CorruptLog):
        return RpcError(INTERNAL_ERROR, f"thread {thread_id} cannot be read: {exc}")
    return RpcError(INTERNAL_ERROR, str(exc) or type(exc).__name__)
