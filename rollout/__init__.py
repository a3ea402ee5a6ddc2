"""rollout: the Codex rollout log — event model, codec, tolerant reader, writer.

Quick use::

    import rollout

    result = rollout.read_rollout("rollout-2026-06-01T10-00-00-<uuid>.jsonl")
    for line in result.lines:
        print(line.timestamp, line.type)
    for problem in result.problems:
        print(problem.describe(result.path))

    with rollout.RolloutWriter("out.jsonl") as writer:
        writer.write(result.lines)

This package does no I/O beyond bytes, streams and the files it is pointed at,
and never imports ``replay``, ``store``, ``rollout.cli`` or rich.
"""

from . import events
from .codec import decode_line, decode_msgpack, encode_line, encode_msgpack, raw_bytes
from .compat import upcast
from .errors import (
    Conflict,
    CorruptLog,
    DecodeError,
    EmptyRollout,
    EncodeError,
    InvalidInput,
    RolloutError,
    SchemaTooNew,
    StoreError,
    ThreadArchived,
    ThreadNotFound,
    UnreadableRollout,
    WriterError,
    WriterLocked,
)
from .events import Line
from .reader import Problem, ReadLimits, ReadResult, iter_rollout, read_rollout
from .writer import RolloutWriter

__version__ = "0.1.0"

__all__ = [
    "Conflict",
    "CorruptLog",
    "DecodeError",
    "EmptyRollout",
    "EncodeError",
    "InvalidInput",
    "Line",
    "Problem",
    "ReadLimits",
    "ReadResult",
    "RolloutError",
    "RolloutWriter",
    "SchemaTooNew",
    "StoreError",
    "ThreadArchived",
    "ThreadNotFound",
    "UnreadableRollout",
    "WriterError",
    "WriterLocked",
    "decode_line",
    "decode_msgpack",
    "encode_line",
    "encode_msgpack",
    "events",
    "iter_rollout",
    "raw_bytes",
    "read_rollout",
    "upcast",
]
