"""Packed chunks of lines: long strings split out by content hash, zstd with a dictionary.

A chunk is lines joined by ``\\n`` (stored lines never contain one) and
compressed as one zstd frame, with the store's trained dictionary once there is
one. Before compression, every JSON string value of at least ``blob_min`` bytes
(base64 images, huge tool outputs, the long items a compaction's
``replacement_history`` repeats) is cut out of the raw line bytes and replaced
by a reference: a NUL byte and the SHA-256 of the string's bytes. A NUL cannot
occur in JSON text, so references are unambiguous, and splicing the blobs back
gives the exact original bytes. Each distinct string is stored once, shared by
every line and thread that contains it (SQLite), or by every line of one thread
life and the forks reading it (PostgreSQL, where a thread's rows stay on one node).

:func:`pack` is thread-safe (compressors are per thread), so chunks are
compressed on worker threads, off the writer's critical path. zstd itself is
:mod:`rollout.compression`; its errors become ``StoreError`` when packing and
``CorruptLog`` when reading.

Must not import: rollout.cli, rich, asyncio.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable

import msgspec

from rollout import compression
from rollout.errors import CompressionError, CorruptLog, StoreError

__all__ = [
    "NO_DICTIONARY",
    "Dictionary",
    "Packed",
    "Unpacker",
    "bulk",
    "compress",
    "pack",
    "recompress",
    "references",
    "repack",
    "splice",
    "split_lines",
    "split_strings",
    "train",
]

_QUOTE, _BACKSLASH, _REF = b'"', 0x5C, b"\x00"
_HASH = 32
_BLOB_LEVEL = 3


class Dictionary(msgspec.Struct, frozen=True):
    """A trained zstd dictionary and its id in the store (id 0: no dictionary)."""

    zdict: int = 0
    data: bytes = b""


NO_DICTIONARY = Dictionary()


class Packed(msgspec.Struct, frozen=True):
    """One compressed chunk: its frame, the dictionary used, and the blobs it references.

    Attributes:
        zdict: dictionary id the frame needs (0: none).
        frame: the zstd frame of the lines (with references) joined by newlines.
        blobs: ``hash -> (zdict, data)`` of every string cut out, ready to store.
        size: raw bytes of the lines.
    """

    zdict: int
    frame: bytes
    blobs: dict[bytes, tuple[int | None, bytes]]
    size: int


def split_strings(line: bytes, blob_min: int, found: dict[bytes, bytes]) -> bytes:
    """Replace each JSON string of >= ``blob_min`` bytes in ``line`` by a reference.

    Args:
        line: one valid JSON line.
        blob_min: the shortest string (in raw bytes, quotes excluded) to cut out.
        found: receives ``hash -> string bytes`` for every string cut out.

    Returns:
        The line with references (the same object when nothing was cut).
    """
    if len(line) < blob_min + 2:
        return line
    parts: list[bytes] = []
    pos, start, i = 0, -1, 0
    find = line.find
    while (j := find(_QUOTE, i)) >= 0:
        i = j + 1
        if start >= 0 and _escaped(line, j):
            continue
        if start < 0:
            start = i
            continue
        if j - start >= blob_min:
            text = line[start:j]
            digest = hashlib.sha256(text).digest()
            found[digest] = text
            parts += (line[pos:start], _REF, digest)
            pos = j
        start = -1
    if not parts:
        return line
    parts.append(line[pos:])
    return b"".join(parts)


def _escaped(line: bytes, quote: int) -> bool:
    k = quote - 1
    while line[k] == _BACKSLASH:  # inside a string, so the opening quote stops this
        k -= 1
    return (quote - 1 - k) % 2 == 1


def splice(data: bytes, lookup: Callable[[bytes], bytes]) -> bytes:
    """Put back every referenced string; ``lookup(hash)`` returns its bytes."""
    i = data.find(_REF)
    if i < 0:
        return data
    parts: list[bytes] = []
    pos = 0
    while i >= 0:
        parts += (data[pos:i], lookup(data[i + 1 : i + 1 + _HASH]))
        pos = i + 1 + _HASH
        i = data.find(_REF, pos)
    parts.append(data[pos:])
    return b"".join(parts)


def references(data: bytes) -> set[bytes]:
    """The hashes of every blob a chunk body (lines with references) refers to."""
    found: set[bytes] = set()
    i = data.find(_REF)
    while i >= 0:
        found.add(data[i + 1 : i + 1 + _HASH])
        i = data.find(_REF, i + 1 + _HASH)
    return found


def compress(data: bytes, level: int, dictionary: Dictionary = NO_DICTIONARY) -> bytes:
    """One zstd frame of ``data`` (thread-safe). Raises StoreError."""
    try:
        return compression.compress(data, level=level, dictionary=dictionary.data or None)
    except CompressionError as exc:
        raise StoreError(str(exc)) from exc


def pack(lines: list[bytes], *, blob_min: int, dictionary: Dictionary, level: int) -> Packed:
    """Compress lines into one chunk, long strings split out as blobs. Thread-safe."""
    body, found = split_lines(lines, blob_min)
    return repack(body, found, dictionary=dictionary, level=level, size=sum(map(len, lines)))


def split_lines(lines: list[bytes], blob_min: int) -> tuple[bytes, dict[bytes, bytes]]:
    """A chunk body (lines with references, joined by newlines) and the strings cut out, by hash."""
    found: dict[bytes, bytes] = {}
    shortest = blob_min + 2  # a line this short holds no string to cut out (split_strings' own test)
    return b"\n".join([line if len(line) < shortest else split_strings(line, blob_min, found)
                       for line in lines]), found


def repack(body: bytes, found: dict[bytes, bytes], *, dictionary: Dictionary, level: int, size: int) -> Packed:
    """Compress an already split chunk body (lines with references joined by newlines)."""
    frame = compress(body, level, dictionary)
    blobs = {digest: _blob(text) for digest, text in found.items()}
    return Packed(dictionary.zdict, frame, blobs, size)


def _blob(text: bytes) -> tuple[int | None, bytes]:
    frame = compress(text, _BLOB_LEVEL)
    return (0, frame) if len(frame) < len(text) else (None, text)


def train(frames: list[tuple[int, int, bytes]], size: int, level: int, max_bytes: int | None = None) -> bytes:
    """A zstd dictionary trained on the lines of chunks stored without one.

    Args:
        frames: ``(tkey, seq, frame)`` of chunks compressed without a dictionary.
        size: dictionary size in bytes.
        level: the zstd level the dictionary is tuned for.
        max_bytes: train on the first frames holding about this many bytes of lines (None: all).

    Raises:
        StoreError: zstd could not train on these samples.
        CorruptLog: a frame does not decompress.
    """
    samples: list[bytes] = []
    total = 0
    plain = compression.Decompressor()
    for *_, frame in frames:
        try:
            body = plain.decompress(frame)
        except CompressionError as exc:
            raise CorruptLog(str(exc)) from exc
        samples += [line for line in body.split(b"\n") if line]
        total += len(body)
        if max_bytes is not None and total >= max_bytes:
            break
    try:
        return compression.train_dictionary(samples, size, level=level)
    except CompressionError as exc:
        raise StoreError(str(exc)) from exc


def recompress(frames: list[tuple[int, int, bytes]], dictionary: bytes, level: int) -> list[tuple[int, int, bytes, bytes]]:
    """Chunks stored without a dictionary, compressed again with ``dictionary``.

    Returns:
        ``(tkey, seq, old frame, new frame)`` for each chunk.
    """
    trained = Dictionary(-1, dictionary)
    return [(tkey, seq, old, compress(body, level, trained)) for tkey, seq, old, body in _plain_bodies(frames)]


def _plain_bodies(frames: list[tuple[int, int, bytes]]) -> list[tuple[int, int, bytes, bytes]]:
    plain = compression.Decompressor()
    try:
        return [(tkey, seq, frame, plain.decompress(frame)) for tkey, seq, frame in frames]
    except CompressionError as exc:
        raise CorruptLog(str(exc)) from exc


def bulk(lines: list[bytes], *, blob_min: int, dictionary: Dictionary, level: int,
         chunk_lines: int, chunk_bytes: int) -> list[tuple[int, int, Packed]]:
    """Pack many lines into chunks of at most ``chunk_lines`` lines / ``chunk_bytes`` bytes.

    Returns:
        ``(first seq, line count, chunk)`` for each chunk; seqs count from 1.
    """
    chunks: list[tuple[int, int, Packed]] = []
    start, size = 0, 0
    for i, line in enumerate(lines):
        size += len(line)
        if i + 1 - start >= chunk_lines or size >= chunk_bytes or i + 1 == len(lines):
            part = lines[start : i + 1]
            chunks.append((start + 1, len(part), pack(part, blob_min=blob_min, dictionary=dictionary, level=level)))
            start, size = i + 1, 0
    return chunks


class Unpacker:
    """Stored chunks -> bodies and lines, with dictionaries and blobs fetched on demand.

    One per connection (not thread-safe).

    Args:
        fetch_dictionary: ``zdict -> dictionary bytes`` (None if unknown).
        fetch_blob: ``hash -> (zdict, data)`` (None if unknown).
        cached_blobs: how many blobs to keep decompressed.
    """

    def __init__(
        self,
        fetch_dictionary: Callable[[int], bytes | None],
        fetch_blob: Callable[[bytes], tuple[int | None, bytes] | None],
        cached_blobs: int = 64,
    ) -> None:
        self._fetch_dictionary = fetch_dictionary
        self._fetch_blob = fetch_blob
        self._decompressors: dict[int, compression.Decompressor] = {0: compression.Decompressor()}
        self._blobs: OrderedDict[bytes, bytes] = OrderedDict()
        self._cached = cached_blobs

    def lines(self, zdict: int | None, data: bytes) -> list[bytes]:
        """The original lines of a stored chunk.

        Raises:
            CorruptLog: unknown dictionary, corrupt frame, or missing blob.
        """
        return splice(self.body(zdict, data), self._blob).split(b"\n")

    def body(self, zdict: int | None, data: bytes) -> bytes:
        """A chunk's body: its lines, references still in place, joined by newlines."""
        return data if zdict is None else self.decompress(zdict, data)

    def decompress(self, zdict: int, data: bytes) -> bytes:
        """One zstd frame, with dictionary ``zdict``."""
        decompressor = self._decompressors.get(zdict) or self._load(zdict)
        try:
            return decompressor.decompress(data)
        except CompressionError as exc:
            raise CorruptLog(str(exc)) from exc

    def forget(self) -> None:
        """Drop cached dictionaries and blobs (after the writer rolled back)."""
        self._decompressors = {0: self._decompressors[0]}
        self._blobs.clear()

    def _load(self, zdict: int) -> compression.Decompressor:
        dictionary = self._fetch_dictionary(zdict)
        if dictionary is None:
            raise CorruptLog(f"zstd dictionary {zdict} is missing")
        try:
            made = compression.Decompressor(dictionary)
        except CompressionError as exc:
            raise CorruptLog(f"zstd dictionary {zdict} is corrupt: {exc}") from exc
        self._decompressors[zdict] = made
        return made

    def _blob(self, digest: bytes) -> bytes:
        text = self._blobs.get(digest)
        if text is not None:
            self._blobs.move_to_end(digest)
            return text
        row = self._fetch_blob(digest)
        if row is None:
            raise CorruptLog(f"blob {digest.hex()} is missing")
        zdict, data = row
        text = data if zdict is None else self.decompress(zdict, data)
        self._blobs[digest] = text
        if len(self._blobs) > self._cached:
            self._blobs.popitem(last=False)
        return text
