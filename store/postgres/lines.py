"""Stored chunks back into line bytes: a thread's lines across its fork ancestry, unpacked.

:class:`Lines` reads a seq range of a thread row on one pooled connection: one
query for the chunks of every piece of the range (:func:`store.postgres.reader.chunks`,
whatever the fork depth), one for the blobs they refer to (only if any), and one
for dictionaries it has not met yet (trained by any process; never changed once
stored, so they are kept for the life of the store). Decompression and splicing
are :mod:`store.blobs`'s, shared with SQLite.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

from typing import Any

from rollout import events as ev
from rollout.codec import decode_line
from rollout.errors import CorruptLog, DecodeError

from ..blobs import Unpacker, references, splice
from .reader import Life, blobs, chunks, dictionaries, segments

__all__ = ["Lines", "decoded"]


class Lines:
    """Line bytes of stored threads; one per store (dictionaries are shared by its reads)."""

    def __init__(self) -> None:
        self.dictionaries: dict[int, bytes] = {}
        self._unpacker = Unpacker(self.dictionaries.get, _no_blob)

    async def refresh(self, conn: Any) -> dict[int, bytes]:
        """Load dictionaries stored since the last look; returns the new ones."""
        known = max(self.dictionaries, default=0)
        found = await dictionaries(conn, known)
        self.dictionaries.update(found)
        return found

    async def raw(self, conn: Any, row: Life, lo: int, hi: int) -> list[bytes]:
        """Bytes of the thread's lines ``lo..hi`` (1-based, inclusive).

        Raises:
            CorruptLog: a line of the range is missing, or a chunk or blob does not unpack.
        """
        if lo > hi:
            return []
        pieces = segments(row, lo, hi)
        found = await chunks(conn, pieces)
        bodies = [[(seq, last, await self._body(conn, zdict, data)) for seq, last, zdict, data in piece]
                  for piece in found]
        wanted = set().union(*(references(body) for piece in bodies for *_, body in piece))
        lookup = await self._blobs(conn, row, wanted) if wanted else {}
        out: list[bytes] = []
        for (_, _, a, b), piece in zip(pieces, bodies):
            for seq, last, body in piece:
                block = (splice(body, lookup.__getitem__) if lookup else body).split(b"\n")
                if len(block) != last - seq + 1:
                    raise CorruptLog(f"thread {row.thread_id}: chunk {seq} holds {len(block)} lines, "
                                     f"not {last - seq + 1}")
                out += block[max(a, seq) - seq : min(b, last) - seq + 1]
        if len(out) != hi - lo + 1:
            raise CorruptLog(f"thread {row.thread_id}: lines {lo}..{hi} are not all stored")
        return out

    async def _body(self, conn: Any, zdict: int | None, data: bytes) -> bytes:
        if zdict and zdict not in self.dictionaries:
            await self.refresh(conn)  # trained by another process since we looked
        return self._unpacker.body(zdict, data)

    async def _blobs(self, conn: Any, row: Life, wanted: set[bytes]) -> dict[bytes, bytes]:
        owners = [(row.thread_id, row.gen), *((tid, gen) for tid, gen, _ in row.ancestry)]
        stored = await blobs(conn, owners, sorted(wanted))
        missing = wanted - stored.keys()
        if missing:
            raise CorruptLog(f"thread {row.thread_id}: blob {min(missing).hex()} is missing")
        return {digest: data if zdict is None else self._unpacker.decompress(zdict, data)
                for digest, (zdict, data) in stored.items()}


def decoded(thread_id: str, raw: list[bytes], first_seq: int) -> list[ev.Line]:
    """Lines decoded from stored bytes (the first is line ``first_seq``).

    Raises:
        CorruptLog: a stored line does not decode.
    """
    out = []
    for seq, data in enumerate(raw, first_seq):
        try:
            out.append(decode_line(data))
        except DecodeError as exc:
            raise CorruptLog(f"thread {thread_id}: line {seq} does not decode: {exc}") from exc
    return out


def _no_blob(digest: bytes) -> None:
    return None  # blobs are fetched per read (see Lines.raw), never through the unpacker
