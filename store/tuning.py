"""Storage knobs shared by the chunked backends (SQLite, PostgreSQL), and their one settling rule.

:class:`Tuning` says how lines are packed into chunks, when long strings become blobs,
when the zstd dictionary is trained and when replay state is snapshotted.
:meth:`Tuning.settle` is the rule both backends apply to a thread's tail of fresh chunks.

Must not import: rollout.cli, rich, anything doing I/O.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["Tuning"]


class Tuning(msgspec.Struct, frozen=True, kw_only=True):
    """Storage knobs of a ``SqliteStore`` or ``PostgresStore`` (defaults suit Codex threads).

    Attributes:
        pack_lines: once a thread's unmerged tail holds this many lines and its chunks
            average under 8 lines (many tiny appends), they are merged into one chunk.
        chunk_lines: lines per chunk when importing or merging.
        chunk_bytes: ... and at most this many bytes.
        blob_min: JSON strings at least this long are stored once by content hash.
        append_level: zstd level of appended chunks (compressed by the caller, before queuing).
        bulk_level: zstd level of imports (and of chunks recompressed with a new dictionary).
        settled_level: zstd level a settled tail is rewritten at, in the background, as chunks of
            about ``chunk_lines`` lines (SQLite; 0: left as appended). A rewrite costs CPU on
            packer threads: 3 is about a quarter of 6's, for a few percent more bytes.
        dictionary_after: train the zstd dictionary once this many bytes were stored without one.
        dictionary_size: size of the trained dictionary.
        snapshot_every: persist replay state after this many newly replayed lines.
        follow_writes: (SqliteStore) keep cached replay state current with its own appends (fed on
            the event loop after each commit, then snapshotted as the thread grows and on
            close), so a first read after reopening does not replay; False leaves it to
            reads (about 10-15% less CPU per append in a write-heavy process).
        snapshot_level: zstd level of persisted replay state (0: stored uncompressed,
            which is larger on disk but quicker for a cold resume to read back).
        cached_threads: replay builders kept in memory (LRU).
        max_batch: most commands committed in one transaction.
    """

    pack_lines: int = 512
    chunk_lines: int = 512
    chunk_bytes: int = 512 * 1024
    blob_min: int = 32 * 1024
    append_level: int = 1
    bulk_level: int = 6
    settled_level: int = 3
    dictionary_after: int = 4 * 1024 * 1024
    dictionary_size: int = 112 * 1024
    snapshot_every: int = 2048
    follow_writes: bool = True
    snapshot_level: int = 1
    cached_threads: int = 64
    max_batch: int = 512

    def settle(self, fresh: int, tail_chunks: int, *, forced: bool = False) -> Literal["keep", "seal", "merge"]:
        """What to do with a thread's ``fresh`` lines stored in ``tail_chunks`` chunks since its last settled one.

        ``keep``: leave the tail as it is; ``seal``: count it as settled; ``merge``: first
        rewrite it as one chunk (a long tail of tiny appends). ``forced`` (archiving) settles
        any tail.
        """
        if not fresh or not (forced or fresh >= self.pack_lines):
            return "keep"
        if tail_chunks > 1 and (forced or tail_chunks * 8 > fresh):
            return "merge"
        return "seal"
