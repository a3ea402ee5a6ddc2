"""Checking the lines callers hand a store, and building the lines a store writes itself.

Every write validates its input completely before anything is queued: each item
must be a rollout line object that encodes to one JSON line a reader can decode
again. The bytes stored are :func:`rollout.codec.encode_line`'s, so a decoded
line goes back out exactly as it came in.

The lines a store creates (a new thread's ``session_meta``, a fork's meta and
interruption marker, a rollback marker) carry a UTC ``...mmmZ`` write timestamp.

Must not import: rollout.cli, rich, anything doing I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from msgspec.structs import replace

from rollout import events as ev
from rollout.codec import decode_line, encode_line, raw_bytes
from rollout.errors import DecodeError, InvalidInput

from .state import iso_ms, new_thread_id

__all__ = [
    "LINE_CLASSES",
    "aborted_line",
    "check_items_view",
    "check_name",
    "check_seq",
    "check_thread_id",
    "check_turn",
    "encode_all",
    "encode_checked",
    "fork_meta_line",
    "rollback_line",
    "start_line",
]

VIEWS = ("full", "summary", "notLoaded")

#: Every class a rollout line can be (``rollout.events.Line``).
LINE_CLASSES = (
    ev.SessionMetaLine,
    ev.ResponseItemLine,
    ev.EventMsgLine,
    ev.TurnContextLine,
    ev.CompactedLine,
    ev.WorldStateLine,
    ev.UnknownLine,
    ev.LegacyStateLine,
)


def encode_checked(line: Any, index: int) -> bytes:
    """The stored bytes of one line.

    Raises:
        InvalidInput: ``line`` is not a rollout line, does not encode, does not
            decode back, or its JSON spans several lines.
    """
    if not isinstance(line, LINE_CLASSES):
        raise InvalidInput(f"lines[{index}]: expected a rollout line, got {type(line).__name__}")
    raw = raw_bytes(line)
    if raw is None:
        try:
            raw = encode_line(line)
            decode_line(raw)
        except (DecodeError, msgspec.EncodeError, TypeError, ValueError) as exc:
            raise InvalidInput(f"lines[{index}]: {type(line).__name__} does not encode: {exc}") from exc
    if b"\n" in raw or b"\x00" in raw:
        raise InvalidInput(f"lines[{index}]: a stored line may not contain a newline or NUL byte")
    return raw


def encode_all(lines: Iterable[Any]) -> tuple[list[Any], list[bytes]]:
    """Validate and encode every line; returns (lines as a list, their bytes).

    Raises:
        InvalidInput: ``lines`` is not a sequence of rollout lines (names the bad index).
    """
    if isinstance(lines, (str, bytes, bytearray, memoryview, LINE_CLASSES)):
        raise InvalidInput("lines must be a sequence of rollout line objects")
    try:
        items = list(lines)
    except TypeError as exc:
        raise InvalidInput(f"lines must be a sequence of rollout line objects: {exc}") from exc
    return items, [encode_checked(line, i) for i, line in enumerate(items)]


def check_thread_id(thread_id: Any) -> str:
    """Raises InvalidInput unless ``thread_id`` is a non-empty string."""
    if not isinstance(thread_id, str) or not thread_id:
        raise InvalidInput(f"thread id must be a non-empty string, not {thread_id!r}")
    return thread_id


def check_seq(name: str, value: Any) -> int | None:
    """Raises InvalidInput unless ``value`` is None or an int >= 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"{name} must be an int >= 0 or None, not {value!r}")
    return value


def check_items_view(items_view: object) -> str:
    """Raises InvalidInput unless ``items_view`` is a v2 items view."""
    if items_view not in VIEWS:
        raise InvalidInput(f"items_view must be one of {VIEWS}, not {items_view!r}")
    return items_view  # type: ignore[return-value]


def check_name(name: object) -> str:
    """The trimmed name; raises InvalidInput when it is not a non-empty string."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("thread name must not be empty")
    return name.strip()


def check_turn(at_turn: object) -> int | str:
    """Raises InvalidInput unless ``at_turn`` is an int position or a turn id."""
    if isinstance(at_turn, bool) or not isinstance(at_turn, (int, str)):
        raise InvalidInput(f"at_turn must be a turn position, a turn id or None, not {at_turn!r}")
    return at_turn


def start_line(meta: Any, now: int) -> ev.SessionMetaLine:
    """The first line of a new thread from a ``SessionMeta`` (or a whole ``SessionMetaLine``).

    An empty ``id`` gets a new UUIDv7 and an empty ``timestamp`` the current time.
    A ``SessionMetaLine`` that already has both is kept byte for byte.

    Raises:
        InvalidInput: ``meta`` is neither.
    """
    if isinstance(meta, ev.SessionMetaLine):
        if meta.payload.id and meta.payload.timestamp and meta.timestamp:
            return meta
        line_ts, payload = meta.timestamp, meta.payload
    elif isinstance(meta, ev.SessionMeta):
        line_ts, payload = None, meta
    else:
        raise InvalidInput(f"start_thread needs a SessionMeta, not {type(meta).__name__}")
    payload = replace(payload, id=payload.id or new_thread_id(), timestamp=payload.timestamp or iso_ms(now))
    return ev.SessionMetaLine(timestamp=line_ts or iso_ms(now), payload=payload)


def fork_meta_line(source: ev.SessionMeta | None, child_id: str, source_id: str, now: int) -> ev.SessionMetaLine:
    """A fork's own first line: the source's meta with a new id, ``forked_from_id`` and time."""
    base = source if source is not None else ev.SessionMeta(id=source_id)
    stamp = iso_ms(now)
    payload = replace(base, id=child_id, forked_from_id=source_id, timestamp=stamp)
    return ev.SessionMetaLine(timestamp=stamp, payload=payload)


def aborted_line(turn_id: str, now: int) -> ev.EventMsgLine:
    """``turn_aborted{turn_id, reason: "interrupted"}``, closing a fork copied mid-turn."""
    return ev.EventMsgLine(
        timestamp=iso_ms(now), payload=ev.TurnAbortedEvent(turn_id=turn_id, reason="interrupted")
    )


def rollback_line(num_turns: Any, now: int) -> ev.EventMsgLine:
    """``thread_rolled_back{num_turns}``.

    Raises:
        InvalidInput: ``num_turns`` is not an int >= 1.
    """
    if isinstance(num_turns, bool) or not isinstance(num_turns, int) or not 1 <= num_turns < 1 << 32:
        raise InvalidInput(f"num_turns must be an int >= 1 (u32), not {num_turns!r}")
    return ev.EventMsgLine(timestamp=iso_ms(now), payload=ev.ThreadRolledBackEvent(num_turns=num_turns))
