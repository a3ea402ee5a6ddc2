"""Bounded, truncation-aware streaming decompression of ``.jsonl.zst`` rollouts.

:func:`zstd_chunks` turns a stream of zstd frames into chunks of decompressed
bytes. Three promises a plain ``stream_reader`` does not keep:

- **Bounded memory.** Compressed input is fed in pieces of :data:`_PIECE`
  bytes. zstd cannot expand one byte into more than 32 KiB (a 4-byte RLE block
  yields 128 KiB), so one piece yields at most ~4 MiB, whatever the file.
- **Bombs refused.** Once the output exceeds ``grace`` bytes, it may not exceed
  ``max_ratio`` times the compressed bytes read so far; a file that does is
  refused with :class:`~rollout.errors.UnreadableRollout` before it is inflated.
  Real rollouts compress 5-10x (zstd level 3 to 19 over the corpus).
- **Truncation reported.** A stream that ends inside a frame raises
  ``UnreadableRollout`` ("truncated"), where ``stream_reader`` returns what it
  had (often nothing, so a cut file read as an empty rollout).

zstandard's ``ZstdError`` never escapes: it becomes ``UnreadableRollout``.

Must not import: replay, store, rollout.cli, rich.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import zstandard

from .errors import UnreadableRollout

__all__ = ["ZSTD_MAGIC", "zstd_chunks"]

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_PIECE = 128  # compressed bytes per decompress call: at most ~4 MiB out
_READ = 64 * 1024  # compressed bytes per read from the source
_dctx = zstandard.ZstdDecompressor()


class _Inflater:
    """Feeds pieces to one frame decompressor after another, counting bytes in and out."""

    def __init__(self, path: str | None, max_ratio: int, grace: int) -> None:
        self.path = path
        self.max_ratio = max_ratio
        self.grace = grace
        self.fed = 0
        self.produced = 0
        self._frame = _dctx.decompressobj()
        self._in_frame = False  # bytes of the current frame were fed, its end not yet seen

    def feed(self, data: memoryview | bytes) -> list[bytes]:
        """Decompress one piece of input (it may end a frame and start the next)."""
        out: list[bytes] = []
        self.fed += len(data)
        while data:
            self._in_frame = True
            try:
                chunk = self._frame.decompress(data)
            except zstandard.ZstdError as exc:
                raise self._error(f"cannot decompress: {exc}") from exc
            if chunk:
                out.append(chunk)
                self._account(len(chunk))
            data = b""
            if self._frame.eof:  # the rest of the piece belongs to the next frame
                data = self._frame.unused_data
                self._frame, self._in_frame = _dctx.decompressobj(), False
        return out

    def finish(self) -> None:
        """The source ended: it must not end inside a frame."""
        if self._in_frame:
            raise self._error(
                f"truncated zstd data: it ends inside a frame ({self.fed} compressed bytes read, "
                f"{self.produced} decompressed)"
            )

    def _account(self, size: int) -> None:
        self.produced += size
        if self.produced > self.grace and self.produced > self.max_ratio * self.fed:
            raise self._error(
                f"refused: {self.fed} compressed bytes expand to more than {self.produced} "
                f"(over {self.max_ratio}x, rollouts compress about 10x): a decompression bomb? "
                "(raise ReadLimits.max_expansion to read it)"
            )

    def _error(self, message: str) -> UnreadableRollout:
        return UnreadableRollout(message, path=self.path)


def zstd_chunks(
    read: Callable[[int], bytes],
    path: str | None,
    *,
    max_ratio: int,
    grace: int,
    chunk_size: int = 1 << 20,
) -> Iterator[bytes]:
    """Decompressed chunks (about ``chunk_size`` bytes each) of a stream of zstd frames.

    Args:
        read: the source's ``read(size)``.
        path: named in errors.
        max_ratio: decompressed bytes allowed per compressed byte read (after ``grace``).
        grace: decompressed bytes allowed before ``max_ratio`` applies.
        chunk_size: output is gathered into chunks of about this size.

    Raises:
        UnreadableRollout: unreadable source, corrupt or truncated frame, or
            an expansion beyond ``max_ratio``.
    """
    inflater = _Inflater(path, max_ratio, grace)
    pending: list[bytes] = []
    size = 0
    while data := _read(read, path):
        view = memoryview(data)
        for start in range(0, len(view), _PIECE):
            for piece in inflater.feed(view[start : start + _PIECE]):
                pending.append(piece)
                size += len(piece)
            if size >= chunk_size:
                yield b"".join(pending)
                pending, size = [], 0
    if pending:  # what a truncated stream did hold is read before the error
        yield b"".join(pending)
    inflater.finish()


def _read(read: Callable[[int], bytes], path: str | None) -> bytes:
    try:
        return read(_READ)
    except OSError as exc:
        raise UnreadableRollout(f"read failed: {exc}", path=path) from exc
