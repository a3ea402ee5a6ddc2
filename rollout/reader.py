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
    ``too_long``      longer than ``ReadLimits.max_line_bytes``: measured, never held
                      whole nor decoded
    ``omitted``       the last problem when more than ``ReadLimits.max_problems`` were
                      found: how many more there were (they are counted, not listed)

Memory is bounded by :class:`ReadLimits`: a line costs at most ``max_line_bytes``
to skip, a ``.zst`` source is refused once it expands beyond ``max_expansion``
times its compressed size, and at most ``max_problems`` problems are kept, so a
file of a billion blank lines does not become a billion ``Problem`` objects.

Must not import: replay, store, rollout.cli, rich.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, Union, cast

import msgspec

from . import events as ev
from .codec import decode_line
from .compression import GRACE, MAX_RATIO, ZSTD_MAGIC, zstd_chunks
from .errors import DecodeError, EmptyRollout, UnreadableRollout

__all__ = [
    "Problem",
    "ReadLimits",
    "ReadResult",
    "RolloutIterator",
    "Source",
    "iter_rollout",
    "read_rollout",
]

Source = Union[str, os.PathLike, bytes, bytearray, memoryview, BinaryIO]
_CHUNK = 1 << 20
# (line number, byte offset, raw bytes or None when too long to keep, size in bytes, ended with newline)
_Record = tuple[int, int, Union[bytes, None], int, bool]


class ReadLimits(msgspec.Struct, frozen=True, kw_only=True):
    """What one read may cost; the defaults are far above any real rollout.

    Attributes:
        max_line_bytes: a longer line is a ``too_long`` problem: skipped while
            read, never held whole nor decoded.
        max_expansion: a ``.zst`` source may expand to at most this many times the
            compressed bytes read so far (real rollouts: 5-10x); beyond, the read
            is refused with ``UnreadableRollout``.
        expansion_grace: decompressed bytes allowed before ``max_expansion`` applies.
        max_problems: problems listed; the rest are counted in one last
            ``omitted`` problem.
    """

    max_line_bytes: int = 256 << 20
    max_expansion: int = MAX_RATIO
    expansion_grace: int = GRACE
    max_problems: int = 10_000


DEFAULT_LIMITS = ReadLimits()


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
        problems_omitted: problems found beyond ``ReadLimits.max_problems`` (not in ``problems``).
    """

    lines: list[ev.Line]
    line_numbers: list[int]
    problems: list[Problem]
    thread_id: str | None = None
    path: str | None = None
    legacy: bool = False
    problems_omitted: int = 0


class RolloutIterator:
    """Iterates the lines of a source; ``problems`` fills in as it goes."""

    def __init__(self, source: Source, limits: ReadLimits = DEFAULT_LIMITS) -> None:
        self.path = _path_of(source)
        self.limits = limits
        self.problems: list[Problem] = []
        self.problems_omitted = 0
        self.line_number = 0
        self.thread_id: str | None = None
        self.legacy = False
        self._records = _records(source, self.path, limits)
        self._first_omitted: tuple[int, int] = (0, 0)

    def __iter__(self) -> Iterator[ev.Line]:
        return self

    def __next__(self) -> ev.Line:
        for number, offset, raw, size, complete in self._records:
            if raw is None:
                self._too_long(number, offset, size, complete)
                continue
            line = self._decode(number, offset, raw, complete)
            if line is not None:
                self.line_number = number
                return line
        self._close_problems()
        raise StopIteration

    def _too_long(self, number: int, offset: int, size: int, complete: bool) -> None:
        tail = "" if complete else " (the incomplete last line)"
        reason = f"line of {size} bytes{tail} is over the {self.limits.max_line_bytes}-byte limit: not decoded"
        self._problem(number, offset, "too_long", reason, b"")

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
        if len(self.problems) < self.limits.max_problems:
            self.problems.append(Problem(line=number, offset=offset, kind=kind, reason=reason, raw=raw, kept=kept))
            return
        if not self.problems_omitted:
            self._first_omitted = (number, offset)
        self.problems_omitted += 1

    def _close_problems(self) -> None:
        """Once exhausted: one last problem says how many were not listed."""
        if self.problems_omitted and len(self.problems) == self.limits.max_problems:
            number, offset = self._first_omitted
            reason = (
                f"{self.problems_omitted} more problems from here on are not listed "
                f"(ReadLimits.max_problems is {self.limits.max_problems})"
            )
            self.problems.append(Problem(line=number, offset=offset, kind="omitted", reason=reason))


def _unknown_type(line: ev.Line) -> str | None:
    if isinstance(line, ev.UnknownLine):
        return f"unknown line type {line.type!r} (kept)"
    payload = getattr(line, "payload", None)
    if isinstance(payload, (ev.UnknownEvent, ev.UnknownResponseItem)):
        return f"unknown or unexpected {line.type} payload {payload.type!r} (kept)"
    return None


def iter_rollout(source: Source, *, limits: ReadLimits = DEFAULT_LIMITS) -> RolloutIterator:
    """Iterate the decoded lines of a rollout, streaming, in bounded memory.

    Args:
        source: a path (``.jsonl`` or ``.jsonl.zst``), bytes, or a binary stream.
        limits: bounds on line size, zstd expansion and problems kept.

    Returns:
        An iterator of lines whose ``problems`` list grows as bad lines are met.

    Raises:
        UnreadableRollout: the source cannot be opened, or its zstd data is
            corrupt, truncated or expands beyond ``limits.max_expansion`` (raised
            by ``next()`` when met).
        EmptyRollout: the source has no non-blank line (raised when exhausted).
    """
    return RolloutIterator(source, limits)


def read_rollout(source: Source, *, limits: ReadLimits = DEFAULT_LIMITS) -> ReadResult:
    """Read a whole rollout, tolerantly.

    Args:
        source: a path (``.jsonl`` or ``.jsonl.zst``), bytes, or a binary stream.
        limits: bounds on line size, zstd expansion and problems kept.

    Returns:
        A :class:`ReadResult`; bad lines are in ``problems``, never raised.

    Raises:
        UnreadableRollout: the source cannot be opened or read, or its zstd data
            is corrupt, truncated or expands beyond ``limits.max_expansion``.
        EmptyRollout: the source has no non-blank line.
    """
    it = RolloutIterator(source, limits)
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
        problems_omitted=it.problems_omitted,
    )


# --------------------------------------------------------------------------- scanning


def _path_of(source: Source) -> str | None:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return None


def _records(source: Source, path: str | None, limits: ReadLimits) -> Iterator[_Record]:
    """Every line of the source (see ``_Record``); raises EmptyRollout if none has content."""
    seen_content = False
    for record in _split(_chunks(source, path, limits), limits.max_line_bytes):
        raw = record[2]
        if not seen_content and (raw is None or raw.strip()):  # only until the first non-blank line
            seen_content = True
        yield record
    if not seen_content:
        raise EmptyRollout("empty rollout (no non-blank line)", path=path)


def _split(chunks: Iterator[bytes], max_line: int) -> Iterator[_Record]:
    """Cut chunks into lines; a line over ``max_line`` bytes is measured and dropped, not joined."""
    number, offset = 0, 0
    pending: list[bytes] = []  # pieces of a line that spans chunks (joined once)
    held = 0  # bytes of the current line so far; pending is dropped once this passes max_line
    for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            held += end - start
            raw = None
            if held <= max_line:
                raw = chunk[start:end]
                if pending:
                    pending.append(raw)
                    raw = b"".join(pending)
            number += 1
            yield number, offset, raw, held, True
            offset += held + 1
            pending, held, start = [], 0, end + 1
        if start < len(chunk):
            held += len(chunk) - start
            if held <= max_line:
                pending.append(chunk[start:])
            else:
                pending = []
    if held:
        yield number + 1, offset, b"".join(pending) if held <= max_line else None, held, False


def _chunks(source: Source, path: str | None, limits: ReadLimits) -> Iterator[bytes]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if path is None and data[:4] == ZSTD_MAGIC:
            yield from _inflate(io.BytesIO(data).read, None, limits)
            return
        yield data
        return
    if path is not None:
        yield from _read_path(Path(path), limits)
        return
    yield from _read_stream(cast(BinaryIO, source), None)


def _inflate(read: Callable[[int], bytes], path: str | None, limits: ReadLimits) -> Iterator[bytes]:
    return zstd_chunks(read, path, max_ratio=limits.max_expansion, grace=limits.expansion_grace, chunk_size=_CHUNK)


def _read_path(path: Path, limits: ReadLimits) -> Iterator[bytes]:
    try:
        raw = open(path, "rb")  # noqa: SIM115 -- closed by the `with raw` below, after the error is translated
    except OSError as exc:
        raise UnreadableRollout(f"cannot open: {exc.strerror or exc}", path=str(path)) from exc
    with raw:
        if path.name.endswith(".zst"):
            yield from _inflate(raw.read, str(path), limits)
        else:
            yield from _read_stream(raw, str(path))


def _read_stream(stream: BinaryIO, path: str | None) -> Iterator[bytes]:
    while True:
        try:
            chunk = stream.read(_CHUNK)
        except OSError as exc:
            raise UnreadableRollout(f"read failed: {exc}", path=path) from exc
        except Exception as exc:  # a caller's stream may be a decompressor with its own error type
            raise UnreadableRollout(f"cannot read: {exc}", path=path) from exc
        if not chunk:
            return
        yield chunk
