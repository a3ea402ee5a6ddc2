"""Times and thread ids as a store writes and checks them.

Rollout timestamps are RFC 3339 in UTC (``YYYY-MM-DDThh:mm:ss.mmmZ``). A store reads
them leniently from files (:func:`parse_ms`: a naive time is UTC, junk is None) and
strictly from callers (:func:`rfc3339_ms`). Thread ids are UUIDs, matched in any case
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

__all__ = ["Clock", "iso_ms", "new_thread_id", "now_ms", "parse_ms", "rfc3339_ms", "thread_key"]

_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")
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
    """``YYYY-MM-DDThh:mm:ss.mmmZ`` (UTC), the rollout timestamp format."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


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


def rfc3339_ms(text: Any) -> int | None:
    """Unix ms of a valid RFC 3339 date-time with an offset (``Z`` or ``±hh:mm``), else None."""
    if not isinstance(text, str) or _RFC3339.fullmatch(text) is None:
        return None
    return parse_ms(text)


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
