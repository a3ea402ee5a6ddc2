"""Appending rollout lines to a JSONL file, safely.

:class:`RolloutWriter` is the one way the project appends to a rollout file:

* it takes an exclusive advisory lock (``flock``) on the file, so a second writer
  gets :class:`~rollout.errors.WriterLocked` instead of interleaving lines;
* if the file ends in a torn line (a crash mid-write), it writes a newline first,
  so the damage stays confined to that one fragment (Codex does not do this);
* every ``write`` call is one batch: lines are joined, written and flushed once; a
  batch that fails (the disk is full, an I/O error) is cut off again (``ftruncate`` to
  the size before it), so a caller told "failed" finds nothing of it in the file. A
  crash in the middle of a batch can still leave its first lines (see docs/RELIABILITY.md);
* ``durability`` chooses fsync: ``"batch"`` (after each ``write`` call, default),
  ``"line"`` (after every line), ``"none"`` (flush only, like Codex).

Must not import: replay, store, rollout.cli, rich.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterable
from typing import Literal

from . import events as ev
from .codec import encode_line
from .errors import WriterError, WriterLocked

__all__ = ["Durability", "RolloutWriter"]

Durability = Literal["batch", "line", "none"]


def _why(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk is full ({exc.strerror})"
    if exc.errno == errno.EFBIG:
        return f"the file is too large for this file system or process limit ({exc.strerror})"
    return str(exc)


class RolloutWriter:
    """Append-only writer of one rollout file.

    Args:
        path: the ``.jsonl`` file; created (with parent directories) if missing.
        durability: ``"batch"``, ``"line"`` or ``"none"`` (see the module docstring).

    Raises:
        WriterLocked: another writer holds the file.
        WriterError: the file cannot be opened.
    """

    def __init__(self, path: str | os.PathLike, *, durability: Durability = "batch") -> None:
        self._fd = -1
        if durability not in ("batch", "line", "none"):
            raise ValueError(f"durability must be 'batch', 'line' or 'none', not {durability!r}")
        self.path = os.fspath(path)
        self.durability = durability
        self.fenced_torn_line = False
        self._fd = self._open()

    def _open(self) -> int:
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT
        try:
            try:
                fd = os.open(self.path, flags, 0o644)
            except FileNotFoundError:  # its directory first (the common case skips the mkdir)
                os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
                fd = os.open(self.path, flags, 0o644)
        except OSError as exc:
            raise WriterError(f"{self.path}: cannot open for append: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise WriterLocked(f"{self.path}: another writer is appending to this rollout") from exc
        try:
            self._fence_torn_tail(fd)
        except OSError as exc:
            os.close(fd)
            raise WriterError(f"{self.path}: cannot prepare for append: {exc}") from exc
        return fd

    def _fence_torn_tail(self, fd: int) -> None:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            os.write(fd, b"\n")
            os.fsync(fd)
            self.fenced_torn_line = True

    def write(self, lines: Iterable[ev.Line]) -> int:
        """Append lines as one batch; returns the number of bytes written."""
        return self.write_raw([encode_line(line) for line in lines])

    def write_raw(self, records: Iterable[bytes]) -> int:
        """Append already-encoded JSON records (without newlines) as one batch.

        Raises:
            WriterError: a record contains a newline, or the write failed.
        """
        records = list(records)
        if any(b"\n" in r for r in records):
            raise WriterError(f"{self.path}: a record contains a newline")
        if self._fd < 0:
            raise WriterError(f"{self.path}: writer is closed")
        try:
            start = os.fstat(self._fd)
        except OSError as exc:
            raise WriterError(f"{self.path}: append failed: {exc}") from exc
        try:
            if self.durability == "line":
                total = 0
                for record in records:
                    total += self._write_all(record + b"\n")
                    os.fsync(self._fd)
                return total
            total = self._write_all(b"".join(r + b"\n" for r in records))
            if self.durability == "batch" and records:
                os.fsync(self._fd)
            return total
        except OSError as exc:
            undone = self._undo(start)
            raise WriterError(f"{self.path}: append failed: {_why(exc)}; {undone}") from exc

    def _undo(self, before: os.stat_result) -> str:
        """Cut the file back to its size ``before`` a failed batch, so none of it stays, and give it back
        its time (an index comparing size and time sees it unchanged: no index write on a full disk).
        Says how it went."""
        try:
            os.ftruncate(self._fd, before.st_size)
            os.utime(self._fd, ns=(before.st_atime_ns, before.st_mtime_ns))
            os.fsync(self._fd)
        except OSError as exc:  # the lines written so far stay; a torn last one is fenced off next time
            return f"and its partly written lines could not be removed: {exc}"
        return "nothing of this append was written"

    def _write_all(self, data: bytes) -> int:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        return len(data)

    def fileno(self) -> int:
        """The open file's descriptor (it follows the file if another process moves it)."""
        return self._fd

    def close(self) -> None:
        """Release the lock and close the file (idempotent)."""
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)

    def __enter__(self) -> RolloutWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()
