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

from typing import TYPE_CHECKING

from .lazy import exports

if TYPE_CHECKING:
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

# Each public name and the submodule defining it. They load on first use (PEP 562), so
# `rollout --version` and a program importing one submodule do not pay for the event
# model's hundred classes and its decoders (`rollout.cli` is a subpackage: importing it
# runs this file first).
_WHERE = {
    **dict.fromkeys(
        ["Conflict", "CorruptLog", "DecodeError", "EmptyRollout", "EncodeError", "InvalidInput", "RolloutError",
         "SchemaTooNew", "StoreError", "ThreadArchived", "ThreadNotFound", "UnreadableRollout", "WriterError",
         "WriterLocked"],
        "errors",
    ),
    **dict.fromkeys(["decode_line", "decode_msgpack", "encode_line", "encode_msgpack", "raw_bytes"], "codec"),
    **dict.fromkeys(["Problem", "ReadLimits", "ReadResult", "iter_rollout", "read_rollout"], "reader"),
    "Line": "events", "RolloutWriter": "writer", "upcast": "compat",
}
# The submodules `import rollout` loaded when it imported every name at once: still
# reachable as attributes of the package alone.
_SUBMODULES = frozenset({"codec", "compat", "compression", "errors", "events", "reader", "writer"})

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


__getattr__, __dir__ = exports(__name__, _WHERE, _SUBMODULES)
