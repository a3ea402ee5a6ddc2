"""The public API of the three packages, written out: a change here is a change for every user.

Adding or removing a name means editing this list in the same commit (and saying so in the
change's description); each list is kept sorted, as each package's ``__all__`` is.
"""

from __future__ import annotations

import pytest

import replay
import rollout
import store

PUBLIC = {
    rollout: [
        "Conflict", "CorruptLog", "DecodeError", "EmptyRollout", "EncodeError", "InvalidInput", "Line", "Problem",
        "ReadLimits", "ReadResult",
        "RolloutError", "RolloutWriter", "SchemaTooNew", "StoreError", "ThreadArchived", "ThreadNotFound",
        "UnreadableRollout", "WriterError", "WriterLocked", "decode_line", "decode_msgpack", "encode_line",
        "encode_msgpack", "events", "iter_rollout", "raw_bytes", "read_rollout", "upcast",
    ],
    replay: [
        "ContextBuilder", "HistoryBuilder", "MidTurn", "Policy", "ResumeContext", "ThreadItem", "Turn", "TurnError", "TurnSpan",
        "UserInput", "build_turns", "fork_end", "open_turn", "resume_context", "rollback_start", "turn_boundaries",
        "with_items_view",
    ],
    store: [
        "Change", "FileStore", "GitInfo", "ImportResult", "MemoryStore", "Opening", "Page",
        "PostgresStore", "ResumedThread", "SqliteStore", "Store", "Thread", "ThreadInfo", "ThreadStatus", "Tuning",
        "TurnSlice", "copy_threads", "iter_threads",
    ],
}


@pytest.mark.parametrize("package", list(PUBLIC), ids=lambda package: package.__name__)
def test_public_names_are_exactly_the_written_list(package):
    """__all__ equals the list above, sorted, and every name in it exists."""
    assert PUBLIC[package] == sorted(PUBLIC[package])
    assert list(package.__all__) == PUBLIC[package]
    assert [name for name in package.__all__ if not hasattr(package, name)] == []
