"""Checking what callers hand a store, and building the lines a store writes itself.

Every write validates its input completely before anything is queued: each item must
be a rollout line object that encodes to one JSON line a reader can decode again, with
an RFC 3339 timestamp. The bytes stored are :func:`rollout.codec.encode_line`'s, so a
decoded line goes back out exactly as it came in.

The lines a store creates (a new thread's ``session_meta``, a fork's meta and
interruption marker, a rollback marker) carry a UTC ``...mmmZ`` write timestamp.

Must not import: rollout.cli, rich, anything doing I/O.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any, cast, get_args

import msgspec
from msgspec.structs import replace

from replay.items import ItemsView
from rollout import events as ev
from rollout.codec import decode_line, encode_line, raw_bytes
from rollout.errors import DecodeError, InvalidInput

from .clock import first_not_rfc3339, iso_ms, new_thread_id, thread_key

__all__ = [
    "LINE_CLASSES",
    "MAX_NAME",
    "VIEWS",
    "aborted_line",
    "check_fork_meta",
    "check_git_patch",
    "check_items_view",
    "check_kept",
    "check_name",
    "check_policy",
    "check_seq",
    "encode_all",
    "encode_checked",
    "fork_meta_line",
    "rollback_line",
    "start_line",
]

#: Every class a rollout line can be (``rollout.events.Line``).
LINE_CLASSES: tuple[type, ...] = get_args(ev.Line)
_EXACT = frozenset(LINE_CLASSES)
#: The v2 items views (``replay.items.ItemsView``).
VIEWS: tuple[str, ...] = get_args(ItemsView)
#: The longest thread name, in characters.
MAX_NAME = 256
#: Replay policies (``replay.Policy``).
POLICIES = ("extended", "limited")
#: ``session_meta`` fields a fork's caller may not set: the store sets them.
_FORK_OWN = frozenset({"id", "forked_from_id", "timestamp"})
_META_FIELDS = frozenset(ev.SessionMeta.__struct_fields__)
#: ``GitInfo`` names as the v2 API and ``ThreadInfo.git_info`` spell them -> the ``session_meta`` names
GIT_FIELDS = {"sha": "commit_hash", "branch": "branch", "origin_url": "repository_url"}


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
            raw = encode_line(cast(ev.Line, line))
            decode_line(raw)
        except (DecodeError, msgspec.EncodeError, TypeError, ValueError) as exc:
            raise InvalidInput(f"lines[{index}]: {type(line).__name__} does not encode: {exc}") from exc
    if b"\n" in raw or b"\x00" in raw:
        raise InvalidInput(f"lines[{index}]: a stored line may not contain a newline or NUL byte")
    return raw


def encode_all(lines: Any, *, timestamps: bool = True) -> tuple[list[Any], list[bytes]]:
    """Validate and encode every line; returns (lines as a list, their bytes).

    Args:
        timestamps: also require each line's ``timestamp`` to be RFC 3339 (appends do;
            imports keep legacy lines without one).

    Raises:
        InvalidInput: ``lines`` is not a sequence of rollout lines (names the bad index).
    """
    if isinstance(lines, (str, bytes, bytearray, memoryview, *LINE_CLASSES)):
        raise InvalidInput("lines must be a sequence of rollout line objects")
    try:
        items = list(lines)
    except TypeError as exc:
        raise InvalidInput(f"lines must be a sequence of rollout line objects: {exc}") from exc
    raw: list[bytes] = []
    for i, line in enumerate(items):
        # The common case first: a decoded line of one of the exact line classes brings its bytes.
        data = raw_bytes(line) if type(line) in _EXACT else None
        if data is None or b"\n" in data or b"\x00" in data:
            data = encode_checked(line, i)  # encodes, or names what is wrong
        raw.append(data)
    if timestamps and (bad := first_not_rfc3339([line.timestamp for line in items])) is not None:
        stamp = items[bad].timestamp
        raise InvalidInput(f"lines[{bad}]: timestamp must be RFC 3339 with an offset, not {stamp!r}")
    return items, raw


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
    return str(items_view)


def check_name(name: object) -> str:
    """The trimmed name.

    Raises:
        InvalidInput: not a string, empty, longer than :data:`MAX_NAME` characters,
            or holding a control character (a newline included).
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("thread name must not be empty")
    name = name.strip()
    if len(name) > MAX_NAME:
        raise InvalidInput(f"thread name must be at most {MAX_NAME} characters, not {len(name)}")
    bad = next((c for c in name if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        raise InvalidInput(f"thread name must not contain control characters (found {bad!r})")
    return name


def check_policy(policy: object) -> str:
    """A replay policy. Raises InvalidInput."""
    if not isinstance(policy, str) or policy not in POLICIES:
        raise InvalidInput(f"policy must be one of {POLICIES}, not {policy!r}")
    return policy


def check_fork_meta(meta: object) -> tuple[tuple[str, Any], ...]:
    """The ``session_meta`` fields a fork child gets instead of its source's, as pairs.

    Raises:
        InvalidInput: not a mapping of ``SessionMeta`` field names (``id``,
            ``forked_from_id`` and ``timestamp`` excepted) to values of their types.
    """
    if meta is None:
        return ()
    if not isinstance(meta, dict) or not all(isinstance(key, str) for key in meta):
        raise InvalidInput(f"meta must be a dict of session_meta fields, not {meta!r}")
    bad = sorted(key for key in meta if key not in _META_FIELDS or key in _FORK_OWN)
    if bad:
        raise InvalidInput(f"a fork cannot set the session_meta field {bad[0]!r}")
    try:
        checked = msgspec.convert(meta, ev.SessionMeta)
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"meta: {exc}") from exc
    return tuple((key, getattr(checked, key)) for key in meta)


def check_git_patch(git: object) -> tuple[tuple[str, str | None], ...]:
    """A git metadata patch (``sha``, ``branch``, ``origin_url``; None clears a field) as
    ``(GitInfo field, value)`` pairs.

    Raises:
        InvalidInput: not a non-empty dict of those keys to strings or None.
    """
    if not isinstance(git, dict) or not git:
        raise InvalidInput("git must be a non-empty dict with keys among sha, branch, origin_url")
    pairs = []
    for key, value in git.items():
        if key not in GIT_FIELDS:
            raise InvalidInput(f"git has no field {key!r} (sha, branch, origin_url)")
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"git.{key} must be a string or None, not {value!r}")
        pairs.append((GIT_FIELDS[key], value))
    return tuple(pairs)


def check_kept(at_turn: object) -> int | str | None:
    """``at_turn`` of ``fork``: None, a count of turns kept (negative: all but that many), or a turn id.

    Raises:
        InvalidInput: any other value, or 0.
    """
    if at_turn is None or isinstance(at_turn, str):
        return at_turn
    if isinstance(at_turn, bool) or not isinstance(at_turn, int) or at_turn == 0:
        raise InvalidInput(f"at_turn must be a number of turns to keep (not 0), a turn id or None, not {at_turn!r}")
    return at_turn


def start_line(meta: Any, now: int) -> ev.SessionMetaLine:
    """The first line of a new thread from a ``SessionMeta`` (or a whole ``SessionMetaLine``).

    An empty ``id`` gets a new UUIDv7 and an empty ``timestamp`` the current time; a
    ``SessionMeta`` without ``source`` gets Codex's ``"unknown"`` (a thread started in
    code). A ``SessionMetaLine`` with an id and both timestamps is kept byte for byte.

    Raises:
        InvalidInput: ``meta`` is neither, or its id is not a UUID.
    """
    if isinstance(meta, ev.SessionMetaLine):
        payload, line_ts = meta.payload, meta.timestamp
        if payload.id and payload.timestamp and line_ts:
            thread_key(payload.id)
            return meta
    elif isinstance(meta, ev.SessionMeta):
        payload, line_ts = meta, None
    else:
        raise InvalidInput(f"start_thread needs a SessionMeta, not {type(meta).__name__}")
    thread_id = thread_key(payload.id) if payload.id else new_thread_id()
    source = "unknown" if payload.source is None and line_ts is None else payload.source
    payload = replace(payload, id=thread_id, timestamp=payload.timestamp or iso_ms(now), source=source)
    return ev.SessionMetaLine(timestamp=line_ts or iso_ms(now), payload=payload)


def fork_meta_line(source: ev.SessionMeta, child_id: str, source_id: str, now: int) -> ev.SessionMetaLine:
    """A fork's own first line: the source's meta with a new id, ``forked_from_id`` and time."""
    stamp = iso_ms(now)
    # A copy is a plain log: it continues no other segment, whatever its source's meta said.
    payload = replace(source, id=child_id, forked_from_id=source_id, timestamp=stamp, history_base=None,
                      forked_from_ordinal_exclusive=None)
    return ev.SessionMetaLine(timestamp=stamp, payload=payload)


def aborted_line(turn_id: str | None, now: int) -> ev.EventMsgLine:
    """``turn_aborted{turn_id, reason: "interrupted"}``, closing a fork copied mid-turn (a legacy
    history's implicit turn has no id)."""
    return ev.EventMsgLine(
        timestamp=iso_ms(now), payload=ev.TurnAbortedEvent(turn_id=turn_id, reason="interrupted")
    )


def rollback_line(num_turns: int, now: int) -> ev.EventMsgLine:
    """``thread_rolled_back{num_turns}``."""
    return ev.EventMsgLine(timestamp=iso_ms(now), payload=ev.ThreadRolledBackEvent(num_turns=num_turns))


def lines_of(raw: Iterable[bytes]) -> list[ev.Line]:
    """Stored bytes decoded back into lines."""
    return [decode_line(data) for data in raw]
