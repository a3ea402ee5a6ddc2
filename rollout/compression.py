"""zstd for rollout bytes: one-shot frames, dictionaries, stream reading.

zstandard's own ``ZstdError`` never escapes: it is translated to
:class:`~rollout.errors.CompressionError` (or ``UnreadableRollout`` for files).

Must not import: replay, store, rollout.cli, rich.
"""

from __future__ import annotations

from typing import BinaryIO

import zstandard

from .errors import CompressionError, UnreadableRollout

__all__ = [
    "ZSTD_MAGIC",
    "Codec",
    "compress",
    "decompress",
    "open_decompressed",
    "train_dictionary",
]

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_LEVEL = 3


class Codec:
    """Compressor/decompressor pair built once, optionally with a dictionary.

    Args:
        dictionary: raw bytes of a trained zstd dictionary, or None.
        level: zstd compression level.
    """

    def __init__(self, dictionary: bytes | None = None, *, level: int = _LEVEL) -> None:
        try:
            zdict = zstandard.ZstdCompressionDict(dictionary) if dictionary else None
            self._c = zstandard.ZstdCompressor(level=level, dict_data=zdict)
            self._d = zstandard.ZstdDecompressor(dict_data=zdict)
        except zstandard.ZstdError as exc:
            raise CompressionError(f"bad zstd dictionary: {exc}") from exc
        self.dictionary = dictionary

    def compress(self, data: bytes) -> bytes:
        try:
            return self._c.compress(data)
        except zstandard.ZstdError as exc:
            raise CompressionError(f"zstd compression failed: {exc}") from exc

    def decompress(self, data: bytes) -> bytes:
        try:
            return self._d.decompress(data)
        except zstandard.ZstdError as exc:
            raise CompressionError(f"corrupt zstd frame: {exc}") from exc


_plain = Codec()


def compress(data: bytes, *, level: int = _LEVEL) -> bytes:
    """Compress ``data`` into one zstd frame (content size recorded)."""
    return (_plain if level == _LEVEL else Codec(level=level)).compress(data)


def decompress(data: bytes) -> bytes:
    """Decompress one zstd frame.

    Raises:
        CompressionError: the frame is corrupt or truncated.
    """
    return _plain.decompress(data)


def train_dictionary(samples: list[bytes], size: int = 64 * 1024) -> bytes:
    """Train a zstd dictionary of at most ``size`` bytes from sample payloads.

    Raises:
        CompressionError: zstd could not train (typically too few samples).
    """
    try:
        return zstandard.train_dictionary(size, list[bytes | bytearray | memoryview](samples)).as_bytes()
    except zstandard.ZstdError as exc:
        raise CompressionError(f"dictionary training failed: {exc}") from exc


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
