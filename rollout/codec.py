"""Bytes <-> rollout lines, as JSONL or msgpack.

Decoding takes one fast path, a single typed msgspec decode of the whole line,
and falls back to a tolerant path only for lines the model does not describe:
unknown envelope or payload types become ``Unknown*`` values holding the data,
pre-envelope (2025) lines become lines with ``timestamp=None``.

Every decoded line remembers its original bytes, and :func:`encode_line` returns
them unchanged, so unknown fields inside known types, the exact formatting and
a CRLF line ending (the ``\r``; writers add the ``\n``) survive a decode/encode
round trip. A line built in code (or derived with
``msgspec.structs.replace``) has no original bytes and is encoded from its
fields, with Codex's key order (``timestamp``, ``ordinal``, ``type``, ``payload``).

msgpack (:func:`encode_msgpack`/:func:`decode_msgpack`) is a compact binary form
of the typed model: unknown types and payloads survive it, unknown fields inside
known types do not (they live only in the original JSON bytes).

Must not import: replay, store, rollout.cli, rich.
"""

from __future__ import annotations

import functools
from typing import Any, Literal

import msgspec

from . import events as ev
from .errors import DecodeError, EncodeError

__all__ = [
    "LINE_TYPES",
    "decode_item_payload",
    "decode_line",
    "decode_msgpack",
    "decode_payload",
    "encode_line",
    "encode_msgpack",
    "encode_payload",
    "pack",
    "raw_bytes",
]

_RAW = "_raw"

_LINE_CLASSES: dict[str, type] = {
    "session_meta": ev.SessionMetaLine,
    "response_item": ev.ResponseItemLine,
    "event_msg": ev.EventMsgLine,
    "turn_context": ev.TurnContextLine,
    "compacted": ev.CompactedLine,
    "world_state": ev.WorldStateLine,
    "token_usage_record": ev.TokenUsageRecordLine,
    "dynamic_tools_updated": ev.DynamicToolsUpdatedLine,
    "inter_agent_communication": ev.InterAgentCommunicationLine,
    "security_risk_score": ev.SecurityRiskScoreLine,
    "realtime_item": ev.RealtimeItemLine,
    "id_allocation": ev.IdAllocationLine,
}
#: Envelope ``type`` values this version models.
LINE_TYPES = frozenset(_LINE_CLASSES)

_PAYLOAD_TYPES: dict[str, Any] = {
    "session_meta": ev.SessionMeta,
    "response_item": ev.ResponseItem,
    "event_msg": ev.EventMsg,
    "turn_context": ev.TurnContext,
    "compacted": ev.Compacted,
    "world_state": ev.WorldState,
    "token_usage_record": ev.TokenUsageRecord,
    "dynamic_tools_updated": dict[str, Any],
    "inter_agent_communication": dict[str, Any],
    "security_risk_score": dict[str, Any],
    "realtime_item": dict[str, Any],
    "id_allocation": dict[str, Any],
}
_UNKNOWN_PAYLOAD = {"response_item": ev.UnknownResponseItem, "event_msg": ev.UnknownEvent}


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, (ev.UnknownResponseItem, ev.UnknownEvent)):
        return obj.data
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


_json_line = msgspec.json.Decoder(ev.KnownLine)
_json_any = msgspec.json.Decoder()
_json_enc = msgspec.json.Encoder(enc_hook=_enc_hook)
_pack_any = msgspec.msgpack.Decoder()
_pack_enc = msgspec.msgpack.Encoder(enc_hook=_enc_hook)




# Typed decoders cost milliseconds each to build: the ones a JSONL reader may never need
# (msgpack lines are stored lines; bare items are 2025 files) are built on first use.
@functools.cache
def _json_bare_item() -> msgspec.json.Decoder[ev.ResponseItem]:
    return msgspec.json.Decoder(ev.ResponseItem)  # pre-envelope response items


@functools.cache
def _pack_line() -> msgspec.msgpack.Decoder[ev.KnownLine]:
    return msgspec.msgpack.Decoder(ev.KnownLine)


class _ItemEnvelope(msgspec.Struct, gc=False):
    """Only what :func:`decode_item_payload` keeps of a ``response_item`` line."""

    type: Literal["response_item"]
    payload: ev.ResponseItem


@functools.cache
def _json_item_envelope() -> msgspec.json.Decoder[_ItemEnvelope]:
    return msgspec.json.Decoder(_ItemEnvelope)


# --------------------------------------------------------------------------- decode


def decode_line(raw: bytes | bytearray | memoryview) -> ev.Line:
    """Decode one JSONL rollout line.

    Args:
        raw: the line's bytes, with or without its trailing newline.

    Returns:
        A typed line. Unknown types decode to ``UnknownLine`` / ``UnknownEvent`` /
        ``UnknownResponseItem``; the line keeps ``raw`` (without its ``\n`` but
        with a ``\r`` before it, so a CRLF file is written back as CRLF) for
        :func:`encode_line`.

    Raises:
        DecodeError: the bytes are not JSON, not an object, or not any rollout
            line shape (envelope, pre-envelope header, bare item, state record).
    """
    kept = bytes(raw)
    if kept.endswith(b"\n"):
        kept = kept[:-1]
    data = kept.rstrip(b"\r\n")
    line: ev.Line
    try:
        line = _json_line.decode(data)
    except msgspec.ValidationError:
        line = _decode_uncommon(data)
    except msgspec.DecodeError as exc:
        raise DecodeError(f"malformed JSON ({exc})", kind="malformed") from exc
    except RecursionError as exc:
        raise DecodeError("JSON nested too deeply", kind="malformed") from exc
    line.__dict__[_RAW] = kept
    return line


def decode_item_payload(raw: bytes) -> Any:
    """The payload of a ``response_item`` line, as ``decode_line(raw).payload`` gives it.

    Lighter than :func:`decode_line` (no line object is built) for readers that only need
    the item, such as a resume context kept as references to stored lines.

    Raises:
        DecodeError: ``raw`` is not a decodable ``response_item`` line.
    """
    try:
        return _json_item_envelope().decode(raw).payload
    except (msgspec.DecodeError, RecursionError):  # an item we do not model, or not such a line: the full path
        line = decode_line(raw)
        if not isinstance(line, ev.ResponseItemLine):
            raise DecodeError(f"a {line.type} line, not a response_item line") from None
        return line.payload


def _decode_uncommon(data: bytes) -> ev.Line:
    """Lines the envelope decoder rejected: bare 2025 items first (typed), then anything."""
    if b'"payload"' not in data:
        try:
            return ev.ResponseItemLine(timestamp=None, payload=_json_bare_item().decode(data))
        except (msgspec.DecodeError, RecursionError):  # DecodeError includes ValidationError
            pass
    return _from_object(_parse_json(data))


def _parse_json(data: bytes) -> Any:
    try:
        return _json_any.decode(data)
    except msgspec.DecodeError as exc:
        raise DecodeError(f"malformed JSON ({exc})", kind="malformed") from exc
    except RecursionError as exc:
        raise DecodeError("JSON nested too deeply", kind="malformed") from exc


def _from_object(obj: Any) -> ev.Line:
    """Build a line from already-parsed JSON data (the tolerant path)."""
    if not isinstance(obj, dict):
        raise DecodeError(f"line is a JSON {type(obj).__name__}, not an object")
    kind = obj.get("type")
    if "payload" in obj and isinstance(kind, str):
        return _from_envelope(kind, obj)
    if "record_type" in obj:
        return ev.LegacyStateLine(data=obj)
    if isinstance(kind, str):
        return ev.ResponseItemLine(timestamp=None, payload=decode_payload("response_item", obj))
    if isinstance(obj.get("id"), str):
        return ev.SessionMetaLine(timestamp=None, payload=decode_payload("session_meta", obj))
    raise DecodeError("not a rollout line (no type/payload envelope, header or record)")


def _from_envelope(kind: str, obj: dict[str, Any]) -> ev.Line:
    timestamp = obj.get("timestamp")
    if timestamp is not None and not isinstance(timestamp, str):
        raise DecodeError("envelope timestamp is not a string")
    ordinal = obj.get("ordinal")
    if ordinal is not None and (not isinstance(ordinal, int) or isinstance(ordinal, bool)):
        raise DecodeError("envelope ordinal is not an integer")
    cls = _LINE_CLASSES.get(kind)
    if cls is None:
        return ev.UnknownLine(type=kind, timestamp=timestamp, ordinal=ordinal, payload=obj["payload"])
    payload = decode_payload(kind, obj["payload"])
    return cls(timestamp=timestamp, ordinal=ordinal, payload=payload)


def decode_payload(kind: str, obj: Any) -> Any:
    """Convert parsed JSON data to the payload type of envelope ``kind``.

    Unknown or ill-fitting response items and events become ``Unknown*`` values.

    Raises:
        DecodeError: the payload is not an object, or a session_meta/turn_context/
            compacted/world_state payload has fields of the wrong type.
    """
    if not isinstance(obj, dict):
        raise DecodeError(f"{kind} payload is a JSON {type(obj).__name__}, not an object")
    if kind == "compacted":
        return _compacted(obj)
    try:
        return msgspec.convert(obj, _PAYLOAD_TYPES[kind])
    except msgspec.ValidationError as exc:
        unknown = _UNKNOWN_PAYLOAD.get(kind)
        if unknown is None:
            raise DecodeError(f"invalid {kind} payload ({exc})") from exc
        return unknown(obj)


def _compacted(obj: dict[str, Any]) -> ev.Compacted:
    history = obj.get("replacement_history")
    items = None
    if isinstance(history, list):
        items = [decode_payload("response_item", item) for item in history]
    elif history is not None:
        raise DecodeError("compacted.replacement_history is not a list")
    message = obj.get("message", "")
    if not isinstance(message, str):
        raise DecodeError("compacted.message is not a string")
    return ev.Compacted(message=message, replacement_history=items)


# --------------------------------------------------------------------------- encode


def raw_bytes(line: Any) -> bytes | None:
    """The original bytes a line was decoded from, or None for a line built in code."""
    return line.__dict__.get(_RAW)


def encode_line(line: ev.Line) -> bytes:
    """Encode a line as one JSONL record, without the trailing newline.

    Decoded lines return their original bytes; lines built in code are encoded
    from their fields. Pre-envelope lines (``timestamp=None`` session_meta or
    response_item) encode in the bare 2025 shape they came from.
    """
    raw = line.__dict__.get(_RAW)
    if raw is not None:
        return raw
    if isinstance(line, ev.LegacyStateLine):
        return _json_enc.encode(line.data)
    if line.timestamp is None and isinstance(line, (ev.SessionMetaLine, ev.ResponseItemLine)):
        return encode_payload(line.payload)
    parts = [b"{"]
    if line.timestamp is not None:
        parts += [b'"timestamp":', _json_enc.encode(line.timestamp), b","]
    if line.ordinal is not None:  # Codex writes it right after the timestamp
        parts += [b'"ordinal":', _json_enc.encode(line.ordinal), b","]
    parts += [b'"type":', _json_enc.encode(line.type), b',"payload":', encode_payload(line.payload), b"}"]
    return b"".join(parts)


def encode_payload(payload: Any) -> bytes:
    """Encode a payload (or any model value) as JSON."""
    return _json_enc.encode(payload)


# --------------------------------------------------------------------------- msgpack


def pack(encoder: msgspec.msgpack.Encoder, value: Any) -> bytes:
    """``encoder.encode(value)``, with msgpack's one limit on decoded data raised as EncodeError.

    Raises:
        EncodeError: ``value`` holds an integer beyond 64 bits (JSON allows it).
    """
    try:
        return encoder.encode(value)
    except OverflowError as exc:
        raise EncodeError(f"no msgpack form: {exc} (JSON allowed a larger integer)") from exc


def encode_msgpack(line: ev.Line) -> bytes:
    """Encode a line as msgpack (typed fields only; see the module docstring).

    Raises:
        EncodeError: the line holds an integer beyond 64 bits.
    """
    if isinstance(line, ev.LegacyStateLine):
        return pack(_pack_enc, line.data)
    if isinstance(line, ev.UnknownLine):  # every key, even defaults: an empty type or null payload must survive
        return pack(_pack_enc, {"timestamp": line.timestamp, "type": line.type, "payload": line.payload,
                                "ordinal": line.ordinal})
    return pack(_pack_enc, line)


def decode_msgpack(data: bytes) -> ev.Line:
    """Decode a line written by :func:`encode_msgpack`.

    Raises:
        DecodeError: the bytes are not a msgpack rollout line.
    """
    try:
        return _pack_line().decode(data)
    except msgspec.ValidationError:
        pass
    except (msgspec.DecodeError, RecursionError) as exc:
        raise DecodeError(f"malformed msgpack ({exc})", kind="malformed") from exc
    try:
        return _from_object(_pack_any.decode(data))
    except (msgspec.DecodeError, RecursionError) as exc:
        raise DecodeError(f"malformed msgpack ({exc})", kind="malformed") from exc
