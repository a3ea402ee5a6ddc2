"""Times and thread ids as a store writes and checks them.

Rollout timestamps are RFC 3339 in UTC (``YYYY-MM-DDThh:mm:ss.mmmZ``). A store reads
them leniently from files (:func:`parse_ms`: a naive time is UTC, junk is None) and
strictly from callers (:func:`is_rfc3339`). Thread ids are UUIDs, matched in any case
and stored lower-case (:func:`thread_key`); they also name files, so nothing else passes.

Must not import: rollout.cli, rich, anything doing I/O.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from rollout.errors import InvalidInput

__all__ = ["Clock", "first_not_rfc3339", "is_rfc3339", "iso_ms", "new_thread_id", "now_ms", "parse_ms", "thread_key"]

_RFC3339 = re.compile(
    r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt ]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?"
    r"([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)"
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def now_ms() -> int:
    """Wall-clock time in unix milliseconds."""
    return time.time_ns() // 1_000_000


class Clock:
    """Strictly increasing unix-ms stamps for one writer, so "updated" never ties within a store."""

    def __init__(self) -> None:
        self._last = 0

    def tick(self) -> int:
        """The current time in ms, or one ms after the previous stamp if that is later."""
        self._last = max(now_ms(), self._last + 1)
        return self._last


def iso_ms(ms: int) -> str:
    """``YYYY-MM-DDThh:mm:ss.mmmZ`` (UTC), the rollout timestamp format (:func:`rollout.codex_home.utc_stamp`)."""
    # Imported here: `rollout inspect FILE` needs the store's clock, not the Codex home's module.
    from rollout.codex_home import utc_stamp

    return utc_stamp(ms)


def parse_ms(text: str | None) -> int | None:
    """Unix ms of a timestamp read from a file (a naive one is taken as UTC); None if unparsable."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def first_not_rfc3339(texts: list[Any]) -> int | None:
    """The index of the first value that is not an RFC 3339 date-time (see :func:`is_rfc3339`), or None."""
    return next((i for i, text in enumerate(texts) if not is_rfc3339(text)), None)


def is_rfc3339(text: Any) -> bool:
    """Whether ``text`` is an RFC 3339 date-time with an offset (``Z`` or ``±hh:mm``)."""
    if not isinstance(text, str) or (found := _RFC3339.fullmatch(text)) is None:
        return False
    # The pattern checks every field's range; only days past the 28th need the calendar.
    return found[2] < "29" or parse_ms(text.replace(":60", ":59")) is not None


def thread_key(thread_id: Any) -> str:
    """The stored form of a thread id: a UUID in lower case.

    Raises:
        InvalidInput: ``thread_id`` is not a UUID string (ids name files, so nothing else passes).
    """
    if not isinstance(thread_id, str) or _UUID.fullmatch(thread_id) is None:
        raise InvalidInput(f"thread id must be a UUID like 019e2a5c-0000-7000-8000-000000000001, not {thread_id!r}")
    return thread_id.lower()


def new_thread_id() -> str:
    """A fresh UUIDv7 string (48-bit ms timestamp, then random bits)."""
    rand = int.from_bytes(os.urandom(10), "big")
    value = (now_ms() & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76 | ((rand >> 62) & 0xFFF) << 64 | 0b10 << 62 | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))
