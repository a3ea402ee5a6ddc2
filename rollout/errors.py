"""The exception tree for rollout, replay and store.

Every error the public API raises derives from :class:`RolloutError`. Errors from
msgspec, zstandard, sqlite3 and the OS are translated at the boundary with
``raise ... from exc`` so callers never have to catch a foreign exception type.

This module imports nothing from the project.

::

    RolloutError
    ├── DecodeError (ValueError)        one line cannot be decoded; carries path/line/offset
    ├── EncodeError (ValueError)        a value has no msgpack form (integers beyond 64 bits)
    ├── RolloutFileError                a whole source cannot be used
    │   ├── EmptyRollout                no non-blank line at all
    │   └── UnreadableRollout (OSError) cannot open/read/decompress the source
    ├── CompressionError                zstd failed (corrupt frame, bad dictionary)
    ├── WriterError                     appending to a rollout file failed
    │   └── WriterLocked                another writer holds the file
    └── StoreError                      storage engine errors
        ├── ThreadNotFound (LookupError)
        ├── ThreadArchived              resume/fork/append of an archived thread
        ├── Conflict                    expected_seq mismatch; nothing was written
        ├── InvalidInput (ValueError)   bad lines or arguments; rejected before any write
        ├── CorruptLog                  stored data does not decode
        └── SchemaTooNew                database written by a newer version
"""

from __future__ import annotations

__all__ = [
    "CompressionError",
    "Conflict",
    "CorruptLog",
    "DecodeError",
    "EmptyRollout",
    "EncodeError",
    "InvalidInput",
    "RolloutError",
    "RolloutFileError",
    "SchemaTooNew",
    "StoreError",
    "ThreadArchived",
    "ThreadNotFound",
    "UnreadableRollout",
    "WriterError",
    "WriterLocked",
]


class RolloutError(Exception):
    """Root of every error raised by rollout-engine."""


class DecodeError(RolloutError, ValueError):
    """A line could not be decoded.

    Attributes:
        reason: what was wrong with the line.
        kind: ``"malformed"`` (not JSON) or ``"invalid"`` (JSON, but not a rollout line).
        path: the file it came from, when known.
        line: 1-based line number, when known.
        offset: byte offset of the line start, when known.
    """

    def __init__(
        self,
        reason: str,
        *,
        kind: str = "invalid",
        path: str | None = None,
        line: int | None = None,
        offset: int | None = None,
    ) -> None:
        self.reason = reason
        self.kind = kind
        self.path = path
        self.line = line
        self.offset = offset
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.path is not None:
            where.append(str(self.path))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.offset is not None:
            where.append(f"byte {self.offset}")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


class EncodeError(RolloutError, ValueError):
    """A decoded value cannot be encoded in a compact binary form.

    JSON integers have no size limit and decode to Python ints; msgpack holds
    64 bits at most, so a line (or replay state) carrying a larger one cannot be
    packed. Codex itself would not read such a number into its 64-bit fields.
    """


class RolloutFileError(RolloutError):
    """A rollout source as a whole cannot be used."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class EmptyRollout(RolloutFileError):
    """The source holds no non-blank line ("empty session file")."""


class UnreadableRollout(RolloutFileError, OSError):
    """The source cannot be opened, read or decompressed."""


class CompressionError(RolloutError):
    """zstd compression or decompression failed."""


class WriterError(RolloutError):
    """Appending to a rollout file failed."""


class WriterLocked(WriterError):
    """Another writer already holds this rollout file."""


class StoreError(RolloutError):
    """A storage engine operation failed."""


class ThreadNotFound(StoreError, LookupError):
    """No thread with this id exists in the store."""

    def __init__(self, thread_id: str) -> None:
        self.thread_id = thread_id
        super().__init__(f"thread {thread_id} not found")


class ThreadArchived(StoreError):
    """The thread is archived; unarchive it before resuming or appending."""

    def __init__(self, thread_id: str) -> None:
        self.thread_id = thread_id
        super().__init__(
            f"thread {thread_id} is archived; unarchive it before resuming it"
        )


class Conflict(StoreError):
    """An optimistic-concurrency check failed; nothing was written.

    Attributes:
        thread_id: the thread appended to.
        expected_seq: what the caller expected the last seq to be.
        actual_seq: the last seq actually stored.
    """

    def __init__(self, thread_id: str, expected_seq: int, actual_seq: int) -> None:
        self.thread_id = thread_id
        self.expected_seq = expected_seq
        self.actual_seq = actual_seq
        super().__init__(
            f"thread {thread_id}: expected last seq {expected_seq}, found {actual_seq}"
        )


class InvalidInput(StoreError, ValueError):
    """Input lines or arguments were rejected before anything was written."""


class CorruptLog(StoreError):
    """Stored data could not be decoded."""


class SchemaTooNew(StoreError):
    """The database was written by a newer version of rollout-engine."""
