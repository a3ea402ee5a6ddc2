"""zstd, in the one place the project uses it: frames (with or without a dictionary), streams.

Everything that compresses or decompresses goes through here: ``.jsonl.zst`` rollout
files (:func:`open_decompressed`, :func:`compress`) and the SQLite store's chunks, which
use a dictionary trained on the store's own data (:func:`train_dictionary`,
:class:`Decompressor`). Frames carry no dictionary id: whoever stores a frame records
which dictionary it needs.

zstandard's own ``ZstdError`` never escapes: it becomes :class:`~rollout.errors.CompressionError`
(or ``UnreadableRollout`` while reading a file). Compressors are cached per thread, so
callers on worker threads compress in parallel (zstd releases the GIL).

Must not import: replay, store, rollout.cli, rich.
"""

from __future__ import annotations

import threading
from typing import BinaryIO

import zstandard

from .errors import CompressionError, UnreadableRollout

__all__ = ["ZSTD_MAGIC", "Decompressor", "compress", "decompress", "open_decompressed", "train_dictionary"]

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


class _TranslatingReader:
    """A zstd stream reader whose errors become ``UnreadableRollout``."""

    def __init__(self, stream: BinaryIO, path: str | None) -> None:
        self._reader = zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True)
        self._path = path

    def read(self, size: int = -1) -> bytes:
        try:
            return self._reader.read(size)
        except zstandard.ZstdError as exc:
            raise UnreadableRollout(f"cannot decompress: {exc}", path=self._path) from exc


def open_decompressed(stream: BinaryIO, path: str | None) -> BinaryIO:
    """Wrap a binary stream of zstd frames in a reader of the decompressed bytes."""
    return _TranslatingReader(stream, path)  # type: ignore[return-value]
