"""zstd, in the one place the project uses it: frames (with or without a dictionary), streams.

Everything that compresses or decompresses goes through here: ``.jsonl.zst`` rollout
files (:func:`zstd_chunks`, :func:`open_decompressed`, :func:`compress`) and the SQLite
store's chunks, which use a dictionary trained on the store's own data
(:func:`train_dictionary`, :class:`Decompressor`). Frames carry no dictionary id: whoever
stores a frame records which dictionary it needs.

Reading a ``.jsonl.zst`` keeps three promises a plain zstd ``stream_reader`` does not:

- **Bounded memory.** Compressed input is fed in pieces of ``_PIECE`` bytes. zstd cannot
  expand one byte into more than 32 KiB (a 4-byte RLE block yields 128 KiB), so one piece
  yields at most ~4 MiB, whatever the file.
- **Bombs refused.** Once the output exceeds ``grace`` bytes, it may not exceed
  ``max_ratio`` times the compressed bytes read so far; a file that does is refused with
  :class:`~rollout.errors.UnreadableRollout` before it is inflated. Real rollouts compress
  5-10x (zstd level 3 to 19 over the corpus).
- **Truncation reported.** A stream that ends inside a frame raises ``UnreadableRollout``
  ("truncated"), where ``stream_reader`` returns what it had (often nothing, so a cut file
  read as an empty rollout).

zstandard's own ``ZstdError`` never escapes: it becomes :class:`~rollout.errors.CompressionError`
(or ``UnreadableRollout`` while reading a file). Compressors are cached per thread, so
callers on worker threads compress in parallel (zstd releases the GIL).

Must not import: replay, store, rollout.cli, rich.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from typing import BinaryIO

import zstandard

from .errors import CompressionError, UnreadableRollout

__all__ = [
    "GRACE", "MAX_RATIO", "ZSTD_MAGIC", "Decompressor", "compress", "decompress", "open_decompressed",
    "train_dictionary", "zstd_chunks",
]

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_LEVEL = 3
_CACHED = 8  # compressors kept per thread: (level, dictionary) pairs in use at once
_local = threading.local()


def _compressor(level: int, dictionary: bytes | None) -> zstandard.ZstdCompressor:
    """This thread's compressor for ``(level, dictionary)``, built once."""
    cache: dict[tuple[int, bytes | None], zstandard.ZstdCompressor] | None = getattr(_local, "compressors", None)
    if cache is None:
        cache = _local.compressors = {}
    key = (level, dictionary)
    found = cache.get(key)
    if found is None:
        try:
            zdict = zstandard.ZstdCompressionDict(dictionary) if dictionary else None
            found = zstandard.ZstdCompressor(level=level, dict_data=zdict, write_dict_id=False)
        except zstandard.ZstdError as exc:
            raise CompressionError(f"bad zstd dictionary: {exc}") from exc
        if len(cache) >= _CACHED:
            cache.clear()
        cache[key] = found
    return found


def compress(data: bytes, *, level: int = _LEVEL, dictionary: bytes | None = None) -> bytes:
    """One zstd frame of ``data`` (content size recorded). Thread-safe.

    Raises:
        CompressionError: zstd failed, or ``dictionary`` is not a zstd dictionary.
    """
    try:
        return _compressor(level, dictionary).compress(data)
    except zstandard.ZstdError as exc:
        raise CompressionError(f"zstd compression failed: {exc}") from exc


class Decompressor:
    """Decompresses frames made with one dictionary (or none). Not thread-safe: one per thread.

    Raises:
        CompressionError: ``dictionary`` is not a zstd dictionary.
    """

    def __init__(self, dictionary: bytes | None = None) -> None:
        try:
            zdict = zstandard.ZstdCompressionDict(dictionary) if dictionary else None
            self._zstd = zstandard.ZstdDecompressor(dict_data=zdict)
        except zstandard.ZstdError as exc:
            raise CompressionError(f"bad zstd dictionary: {exc}") from exc

    def decompress(self, data: bytes) -> bytes:
        """The content of one frame.

        Raises:
            CompressionError: the frame is corrupt, truncated or needs another dictionary.
        """
        try:
            return self._zstd.decompress(data)
        except zstandard.ZstdError as exc:
            raise CompressionError(f"corrupt zstd frame: {exc}") from exc


def decompress(data: bytes) -> bytes:
    """The content of one frame made without a dictionary.

    Raises:
        CompressionError: the frame is corrupt or truncated.
    """
    return Decompressor().decompress(data)


def train_dictionary(samples: list[bytes], size: int, *, level: int) -> bytes:
    """A zstd dictionary of at most ``size`` bytes, tuned for ``level``, trained on ``samples``.

    Raises:
        CompressionError: zstd could not train (too few or too uniform samples).
    """
    try:
        return zstandard.train_dictionary(size, list(samples), level=level).as_bytes()
    except zstandard.ZstdError as exc:
        raise CompressionError(f"zstd dictionary training failed: {exc}") from exc


# --------------------------------------------------------------------------- .jsonl.zst files, bounded

_PIECE = 128  # compressed bytes per decompress call: at most ~4 MiB out
_READ = 64 * 1024  # compressed bytes per read from the source
_dctx = zstandard.ZstdDecompressor()
#: what a ``.jsonl.zst`` may expand to when the caller sets no limit (``rollout.ReadLimits`` has the same)
MAX_RATIO = 100
GRACE = 4 << 20


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


class _ChunkReader(io.RawIOBase):
    """A binary stream over :func:`zstd_chunks` (for callers that want ``read(size)``)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._chunk = memoryview(b"")
        self._at = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        while self._at >= len(self._chunk):
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._chunk, self._at = memoryview(chunk), 0
        size = min(len(target), len(self._chunk) - self._at)
        target[:size] = self._chunk[self._at : self._at + size]
        self._at += size
        return size


def open_decompressed(stream: BinaryIO, path: str | None, *, max_ratio: int = MAX_RATIO,
                      grace: int = GRACE) -> BinaryIO:
    """A reader of the decompressed bytes of a stream of zstd frames, bounded as :func:`zstd_chunks`.

    Its ``read`` raises ``UnreadableRollout`` for a corrupt, truncated or bomb-like stream.
    """
    return io.BufferedReader(_ChunkReader(zstd_chunks(stream.read, path, max_ratio=max_ratio, grace=grace)))
