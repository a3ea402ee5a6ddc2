"""Ranges of a thread's turns, and the turn index that makes a cold range cost O(range).

``Store.turns`` returns a window of a thread's rebuilt turns (:class:`Window`: positions
as in a Python slice, or offsets from an anchor turn). Rebuilding turns means replaying
the whole thread, so a backend that can keep derived data (``Backend._derived``) keeps a
**turn index** per thread and replay policy, written once after a replay and read back
in pieces:

* part :data:`HEADER`: the :class:`Header`: the thread's last seq and update time it was
  built at, the turn ids in order, and a hash of every chunk;
* parts ``0, 1, ...``: chunks of :data:`CHUNK` consecutive turns, as JSON in the full
  items view (the other views are cut from it with :func:`replay.with_items_view`).

A range reads the header, then only the chunks it spans: O(range), however long the
thread. An index is used only while its seq and update time are the thread's and every
chunk read matches its hash; anything else (a write since, a half-saved index, another
process's newer index) falls back to one replay, which saves a fresh index. Only chunks
whose hash changed are written again. The index is a cache: losing it costs one replay.

Must not import: rollout.cli, rich, anything doing I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import NamedTuple

import msgspec

import replay
from replay import Turn
from rollout.errors import InvalidInput

from .state import ThreadState

__all__ = ["CHUNK", "HEADER", "Header", "Window", "cut", "decode_chunk", "decode_header", "index_parts", "kind"]

#: turns per chunk: a page of 25 turns touches at most two chunks
CHUNK = 32
#: the part number of the header
HEADER = -1
_VERSION = 1

_TURNS_ENCODER = msgspec.json.Encoder()
_TURNS_DECODER = msgspec.json.Decoder(list[Turn])


class Header(msgspec.Struct, array_like=True, frozen=True):
    """What a turn index covers (msgpack, as a list)."""

    version: int
    seq: int
    updated_ms: int
    ids: list[str]
    hashes: list[bytes]

    def fresh(self, state: ThreadState) -> bool:
        """Whether the index describes the thread as it is now."""
        return self.version == _VERSION and (self.seq, self.updated_ms) == (state.last_seq, state.updated_ms)


_HEADER_ENCODER = msgspec.msgpack.Encoder()
_HEADER_DECODER = msgspec.msgpack.Decoder(Header)


class Window(NamedTuple):
    """Which turns a range holds: ``[start:stop]`` of the thread's turns (oldest first, from 0),
    or, with ``anchor`` (a turn id), offsets from that turn's position."""

    start: int = 0
    stop: int | None = None
    anchor: str | None = None

    def resolve(self, ids: Sequence[str]) -> tuple[int, int]:
        """``(lo, hi)``: the positions the window covers among turns with these ids.

        Raises:
            InvalidInput: the anchor names no turn.
        """
        total = len(ids)
        if self.anchor is None:
            lo, hi, _ = slice(self.start, self.stop).indices(total)
            return lo, max(lo, hi)
        try:
            at = ids.index(self.anchor)
        except ValueError:
            raise InvalidInput(f"no turn {self.anchor!r} in this thread") from None
        lo = min(max(at + self.start, 0), total)
        hi = total if self.stop is None else min(max(at + self.stop, lo), total)
        return lo, hi


def kind(policy: str) -> str:
    """The name a backend keeps the turn index of ``policy`` under."""
    return f"turns/{policy}"


def cut(turns: list[Turn], lo: int, hi: int, items_view: str) -> list[Turn]:
    """``turns[lo:hi]`` (full view) in ``items_view``."""
    return [replay.with_items_view(turn, items_view) for turn in turns[lo:hi]]  # type: ignore[arg-type]


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=8).digest()


def index_parts(state: ThreadState, turns: list[Turn], old: Header | None) -> tuple[dict[int, bytes], int]:
    """The parts to save for ``turns`` (full view) of ``state``: the header and every chunk
    that differs from ``old``'s, and the number of chunks.

    Costs one encoding of every turn (done after a replay, which cost more).
    """
    chunks = [_TURNS_ENCODER.encode(turns[i : i + CHUNK]) for i in range(0, len(turns), CHUNK)]
    hashes = [_digest(chunk) for chunk in chunks]
    before = old.hashes if old is not None else []
    parts = {i: chunk for i, chunk in enumerate(chunks) if i >= len(before) or before[i] != hashes[i]}
    header = Header(_VERSION, state.last_seq, state.updated_ms, [turn.id for turn in turns], hashes)
    parts[HEADER] = _HEADER_ENCODER.encode(header)
    return parts, len(chunks)


def decode_header(data: bytes | None) -> Header | None:
    """A stored header, or None (missing or unreadable: the index is rebuilt)."""
    if data is None:
        return None
    try:
        return _HEADER_DECODER.decode(data)
    except msgspec.DecodeError:
        return None


def decode_chunk(header: Header, number: int, data: bytes | None) -> list[Turn] | None:
    """The turns of chunk ``number``, or None when it is missing or not the chunk the header describes."""
    if data is None or number >= len(header.hashes) or _digest(data) != header.hashes[number]:
        return None
    try:
        return _TURNS_DECODER.decode(data)
    except msgspec.DecodeError:
        return None
