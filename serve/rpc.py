"""The wire: Codex's JSON-RPC dialect (no ``"jsonrpc"`` field), messages in and out.

One message is one JSON object. :func:`parse` sorts an incoming message into a
:class:`Request` (has an int or string ``id`` and a ``method``), a
:class:`Notification` (a ``method``, no ``id``) or ``None`` for what Codex
silently ignores (malformed JSON, arrays, a null or fractional id, a client's
replies). :class:`RpcError` carries the error a request gets; its codes and the
message forms below are those the real Codex 0.171.0 app-server sends, observed
by driving it (see ``docs/serve.md``).

Params are decoded with msgspec into the method's params Struct;
:func:`decode_params` turns msgspec's complaints into Codex's (serde's) wording:
``Invalid request: missing field `threadId```.

Must not import: store, rollout.cli, rich.
"""

from __future__ import annotations

import re
import time
import typing
from typing import Any, Literal, TypeVar

import msgspec

__all__ = [
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "Notification",
    "Request",
    "RpcError",
    "decode_params",
    "encode_error",
    "encode_notification",
    "encode_result",
    "parse",
]

INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

P = TypeVar("P")


class RpcError(Exception):
    """A JSON-RPC error reply: ``{"error": {"code", "message"}, "id"}``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @classmethod
    def invalid(cls, message: str) -> RpcError:
        """Codex's catch-all for bad input (-32600)."""
        return cls(INVALID_REQUEST, message)


class Trace(msgspec.Struct, frozen=True):
    """W3C trace context a client may attach to a request (``"trace"``)."""

    traceparent: str | None = None
    tracestate: str | None = None


class _Envelope(msgspec.Struct, frozen=True):
    id: Any = msgspec.UNSET
    method: Any = msgspec.UNSET
    params: msgspec.Raw = msgspec.Raw(b"")
    trace: Any = None
    result: Any = msgspec.UNSET
    error: Any = msgspec.UNSET


class Request(msgspec.Struct, frozen=True):
    """A request: it gets exactly one reply carrying the same ``id``."""

    id: int | str
    method: str
    params: msgspec.Raw
    traceparent: str | None = None


class Notification(msgspec.Struct, frozen=True):
    """A client notification (``initialized``); it gets no reply."""

    method: str
    params: msgspec.Raw


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_ENCODER = msgspec.json.Encoder()


def parse(data: bytes | str) -> Request | Notification | None:
    """Classify one incoming message; ``None`` for what gets no reply (as in Codex)."""
    try:
        env = _ENVELOPE.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if not isinstance(env.method, str):
        return None  # a client's reply to us, or no method at all: Codex drops it
    if env.id is msgspec.UNSET:
        return Notification(env.method, env.params)
    if isinstance(env.id, bool) or not isinstance(env.id, int | str):
        return None
    trace = env.trace.get("traceparent") if isinstance(env.trace, dict) else None
    return Request(env.id, env.method, env.params, trace if isinstance(trace, str) else None)


def decode_params(raw: msgspec.Raw, decoder: msgspec.json.Decoder[P]) -> P:
    """Decode a request's params, or raise the error Codex gives for them.

    Raises:
        RpcError: missing params (Codex requires the key even when every field is
            optional), or params that do not fit the method's shape.
    """
    if not raw or bytes(raw) == b"null":
        raise RpcError.invalid("Invalid request: missing field `params`")
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError as exc:
        try:
            wording = _serde_wording(str(exc), raw, decoder.type)
        except msgspec.DecodeError:  # the envelope skips params unchecked: a string may hold bad UTF-8
            wording = str(exc)
        raise RpcError.invalid(f"Invalid request: {wording}") from exc
    except msgspec.DecodeError as exc:  # bad UTF-8 inside params (the envelope does not check it)
        raise RpcError.invalid(f"Invalid request: {exc}") from exc


_MISSING = re.compile(r"Object missing required field `([^`]+)`")
_ENUM = re.compile(r"Invalid enum value '([^']*)'")
_TYPE = re.compile(r"Expected `([^`]+)`, got `([^`]+)`(?: - at `\$((?:\.\w+|\[\d+\])*)`)?")
_STEP = re.compile(r"\.(\w+)|\[(\d+)\]")
_EXPECTED = {"str": "a string", "int": "u32", "bool": "a boolean", "array": "a sequence", "object": "a map"}


def _serde_wording(message: str, raw: msgspec.Raw, kind: Any = None) -> str:
    """msgspec's validation message in serde's words where Codex's form is known."""
    if m := _MISSING.search(message):
        return f"missing field `{m.group(1)}`"
    if (m := _ENUM.search(message)) is not None:
        return f"unknown variant `{m.group(1)}`{_variants(kind, message)}"
    if m := _TYPE.search(message):
        expected = m.group(1).removesuffix(" | null")
        return f"invalid type: {_serde_value(raw, m.group(3) or '')}, expected {_EXPECTED.get(expected, expected)}"
    return message


_FIELD = re.compile(r"at `\$\.(\w+)(?:\[\d+\])?`")


def _variants(kind: Any, message: str) -> str:
    """serde's list of the values a top-level enumerated field takes (``, expected one of ...``)."""
    m = _FIELD.search(message)
    if m is None or not isinstance(kind, type) or not issubclass(kind, msgspec.Struct):
        return ""
    field = next((f for f in msgspec.structs.fields(kind) if f.encode_name == m.group(1)), None)
    if field is None:
        return ""
    values = _literal_values(typing.get_type_hints(kind)[field.name])
    names = [f"`{value}`" for value in values]
    if not names:
        return ""
    if len(names) <= 2:
        return ", expected " + " or ".join(names)
    return ", expected one of " + ", ".join(names)


def _literal_values(hint: Any) -> list[Any]:
    """The values of the Literal inside ``hint`` (through ``| None`` and ``list[...]``)."""
    if typing.get_origin(hint) is Literal:
        return list(typing.get_args(hint))
    return next((found for arg in typing.get_args(hint) if (found := _literal_values(arg))), [])


def _serde_value(raw: msgspec.Raw, path: str) -> str:
    """How serde names the value at ``path`` (``integer `5``` , ``string "x"``, ``null``...)."""
    value: Any = msgspec.json.decode(raw)
    for key, index in _STEP.findall(path):
        value = value[key] if key else value[int(index)]
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f"string {msgspec.json.encode(value).decode()}"
    return "sequence" if isinstance(value, list) else "map"


def encode_result(request_id: int | str, result: Any) -> bytes:
    """A success reply, keys in Codex's order (``id`` first)."""
    return _ENCODER.encode({"id": request_id, "result": result})


def encode_error(request_id: int | str, error: RpcError) -> bytes:
    """An error reply, keys in Codex's order (``error`` first)."""
    return _ENCODER.encode({"error": {"code": error.code, "message": error.message}, "id": request_id})


def encode_notification(method: str, params: Any) -> bytes:
    """A server notification, stamped like Codex's with ``emittedAtMs``."""
    return _ENCODER.encode({"method": method, "params": params, "emittedAtMs": time.time_ns() // 1_000_000})
