"""What a PostgreSQL store keeps of a thread row between writes, and an import packed off the loop.

:class:`Entry` is a thread row as this process's last write left it (or as it was read):
the batch planner plans the next write on it and the database checks its version. It
also keeps the bodies of the chunks written since the last settled one, so settling the
tail needs no read. :meth:`Entry.row` is the one place a thread state becomes row columns.

Must not import: rollout.cli, rich, asyncpg.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..blobs import Packed
from ..state import STATE_ENCODER, ThreadState
from .reader import Row
from .writer import ThreadRow

__all__ = ["Entry", "PackedImport"]


@dataclass(frozen=True, slots=True)
class PackedImport:
    """An :class:`~store.write.Import` whose lines were packed off the event loop: ``(first seq, count, chunk)``."""

    state: ThreadState
    chunks: list[tuple[int, int, Packed]]


@dataclass(slots=True)
class Entry:
    """A thread row as the last write of this process left it (or as read).

    Attributes:
        tail: bodies of the chunks after ``packed_upto`` when this process wrote them all
            (None: unknown, so the tail is sealed rather than merged).
        keys: idempotency keys known to be stored, with their seqs.
    """

    thread_id: str
    gen: int
    version: int
    state: ThreadState
    packed_upto: int
    tail_chunks: int
    ancestry: list[tuple[str, int, int]]
    tail: list[bytes] | None = None
    keys: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, row: Row, state: ThreadState, keys: dict[str, int]) -> Entry:
        return cls(row.thread_id, row.gen, row.version, state, row.packed_upto, row.tail_chunks, row.ancestry,
                   None if row.tail_chunks else [], dict(keys))

    def copy(self) -> Entry:
        return replace(self, tail=None if self.tail is None else list(self.tail), keys=dict(self.keys))

    def row(self) -> ThreadRow:
        """The thread row's columns for this entry."""
        s = self.state
        return ThreadRow(
            created_ms=s.created_ms, updated_ms=s.updated_ms, last_seq=s.last_seq, archived=s.archived,
            source_kind=s.source_kind, model_provider=s.model_provider, cwd=s.meta.cwd if s.meta else None,
            name_folded=s.name.casefold() if s.name else None, preview_folded=s.preview.casefold() or None,
            packed_upto=self.packed_upto, tail_chunks=self.tail_chunks, state=STATE_ENCODER.encode(s),
        )
