"""Tolerant reading of rollout files, bytes and streams.

A bad line never stops a read: it becomes a :class:`Problem` (line number, byte
offset, kind, reason, raw bytes) and reading goes on. Only a source that is
empty or cannot be read at all raises. Reading streams in bounded chunks, so a
1 GB file is never held in memory by :func:`iter_rollout`.

Problem kinds:
    ``blank``         a whitespace-only line
    ``malformed``     not valid JSON (includes invalid UTF-8 and NUL bytes)
    ``invalid``       valid JSON but not a rollout line (not an object, bad envelope)
    ``torn``          the last line, without its newline, does not parse (a crash mid-write)
    ``unknown_type``  a type this version does not model; the line is still returned
                      (as ``UnknownLine``/``UnknownEvent``/``UnknownResponseItem``), so
                      nothing is lost

Must not import: replay, store, rollout.cli, rich.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Union, cast

import msgspec

from . import events as ev
from .codec import decode_line
from .compression import open_decompressed
from .errors import DecodeError, EmptyRollout, UnreadableRollout

__all__ = ["Problem", "ReadResult", "RolloutIterator", "Source", "iter_rollout", "read_rollout"]

Source = Union[str, os.PathLike, bytes, bytearray, memoryview, BinaryIO]
_CHUNK = 1 << 20


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """A line that could not be read as a rollout line (or was kept as unknown)."""

    line: int
    offset: int
    kind: str
    reason: str
    raw: bytes = b""
    kept: bool = False

    def describe(self, path: str | None = None) -> str:
        where = f"{path}:{self.line}" if path else f"line {self.line}"
        return f"{where}: {self.kind}: {self.reason}"


class ReadResult(msgspec.Struct, kw_only=True):
    """Everything :func:`read_rollout` found.

    Attributes:
        lines: decoded lines in file order.
        line_numbers: the 1-based file line number of each entry of ``lines``.
        problems: lines that were skipped or kept as unknown.
        thread_id: the ``id`` of the first decodable ``session_meta`` (None if none).
        path: the file path, when the source was a path.
        legacy: True when the file is in the pre-envelope (2025) format.
    """

    lines: list[ev.Line]
    line_numbers: list[int]
    problems: list[Problem]
    thread_id: str | None = None
    path: str | None = None
    legacy: bool = False


class RolloutIterator:
    """Iterates the lines of a source; ``problems`` fills in as it goes."""

    def __init__(self, source: Source) -> None:
        self.path = _path_of(source)
        self.problems: list[Problem] = []
        self.line_number = 0
        self.thread_id: str | None = None
        self.legacy = False
        self._records = _records(source, self.path)

    def __iter__(self) -> Iterator[ev.Line]:
        return self

    def __next__(self) -> ev.Line:
        for number, offset, raw, complete in self._records:
            line = self._decode(number, offset, raw, complete)
            if line is not None:
                self.line_number = number
                return line
        raise StopIteration

    def _decode(self, number: int, offset: int, raw: bytes, complete: bool) -> ev.Line | None:
        if not raw.strip():
            self._problem(number, offset, "blank", "blank line", raw)
            return None
        try:
            line = decode_line(raw)
        except DecodeError as exc:
            kind, reason = exc.kind, exc.reason
            if not complete:
                kind = "torn"
                reason = f"incomplete last line ({len(raw)} bytes, no newline): {exc.reason}"
            self._problem(number, offset, kind, reason, raw)
            return None
        self._note(number, offset, raw, line)
        return line

    def _note(self, number: int, offset: int, raw: bytes, line: ev.Line) -> None:
        if self.thread_id is None and isinstance(line, ev.SessionMetaLine):
            self.thread_id = line.payload.id or None
        if line.timestamp is None and number == 1 and not isinstance(line, ev.UnknownLine):
            self.legacy = True
        unknown = _unknown_type(line)
        if unknown is not None:
            self._problem(number, offset, "unknown_type", unknown, raw, kept=True)

    def _problem(self, number: int, offset: int, kind: str, reason: str, raw: bytes, kept: bool = False) -> None:
        self.problems.append(
            Problem(line=number, offset=offset, kind=kind, reason=reason, raw=raw, kept=kept)
        )


def _unknown_type(line: ev.Line) -> str | None:
    if isinstance(line, ev.UnknownLine):
        return f"unknown line type {line.type!r} (kept)"
    payload = getattr(line, "payload", None)
    if isinstance(payload, (ev.UnknownEvent, ev.UnknownResponseItem)):
        return f"unknown or unexpected {line.type} payload {payload.type!r} (kept)"
    return None


def iter_rollout(source: Source) -> RolloutIterator:
    """Iterate the decoded lines of a rollout, streaming.

    Args:
        source: a path (``.jsonl`` or ``.jsonl.zst``), bytes, or a binary stream.

    Returns:
        An iterator of lines whose ``problems`` list grows as bad lines are met.

    Raises:
        UnreadableRollout: the source cannot be opened or decompressed (raised on
            the first ``next()`` for streams, at once for a missing path).
        EmptyRollout: the source has no non-blank line (raised when exhausted).
    """
    return RolloutIterator(source)


def read_rollout(source: Source) -> ReadResult:
    """Read a whole rollout, tolerantly.

    Args:
        source: a path (``.jsonl`` or ``.jsonl.zst``), bytes, or a binary stream.

    Returns:
        A :class:`ReadResult`; bad lines are in ``problems``, never raised.

    Raises:
        UnreadableRollout: the source cannot be opened, read or decompressed.
        EmptyRollout: the source has no non-blank line.
    """
    it = RolloutIterator(source)
    lines: list[ev.Line] = []
    numbers: list[int] = []
    for line in it:
        lines.append(line)
        numbers.append(it.line_number)
    return ReadResult(
        lines=lines,
        line_numbers=numbers,
        problems=it.problems,
        thread_id=it.thread_id,
        path=it.path,
        legacy=it.legacy,
    )


# --------------------------------------------------------------------------- scanning


def _path_of(source: Source) -> str | None:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return None


def _records(source: Source, path: str | None) -> Iterator[tuple[int, int, bytes, bool]]:
    """Yield (line number, byte offset, raw line, ended with newline) for every line."""
    seen_content = False
    for record in _split(_chunks(source, path)):
        if not seen_content and record[2].strip():  # only until the first non-blank line
            seen_content = True
        yield record
    if not seen_content:
        raise EmptyRollout("empty rollout (no non-blank line)", path=path)


def _split(chunks: Iterator[bytes]) -> Iterator[tuple[int, int, bytes, bool]]:
    number, offset = 0, 0
    pending: list[bytes] = []  # pieces of a line that spans chunks (joined once)
    for chunk in chunks:
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                break
            piece = chunk[start:end]
            if pending:
                pending.append(piece)
                piece = b"".join(pending)
                pending = []
            number += 1
            yield number, offset, piece, True
            offset += len(piece) + 1
            start = end + 1
        if start < len(chunk):
            pending.append(chunk[start:])
    if pending:
        yield number + 1, offset, b"".join(pending), False


def _chunks(source: Source, path: str | None) -> Iterator[bytes]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if path is None and data[:4] == b"\x28\xb5\x2f\xfd":
            yield from _read_stream(open_decompressed(io.BytesIO(data), None), None)
            return
        yield data
        return
    if path is not None:
        yield from _read_path(Path(path))
        return
    yield from _read_stream(cast(BinaryIO, source), None)


def _read_path(path: Path) -> Iterator[bytes]:
    try:
        raw = open(path, "rb")  # noqa: SIM115 -- closed by the `with raw` below, after the error is translated
    except OSError as exc:
        raise UnreadableRollout(f"cannot open: {exc.strerror or exc}", path=str(path)) from exc
    with raw:
        stream = open_decompressed(raw, str(path)) if path.name.endswith(".zst") else raw
        yield from _read_stream(stream, str(path))


def _read_stream(stream: BinaryIO, path: str | None) -> Iterator[bytes]:
    while True:
        try:
            chunk = stream.read(_CHUNK)
        except OSError as exc:
            raise UnreadableRollout(f"read failed: {exc}", path=path) from exc
        except Exception as exc:  # zstandard raises its own ZstdError type
            raise UnreadableRollout(f"cannot decompress: {exc}", path=path) from exc
        if not chunk:
            return
        yield chunk
