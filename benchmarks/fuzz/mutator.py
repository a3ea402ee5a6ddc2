"""Structure-aware mutators: rollouts stay mostly-valid JSONL so the fuzzer reaches replay.

Byte mutations alone turn a rollout into broken JSON at once, and replay then
sees nothing. :class:`JsonlMutator` edits a rollout the way a buggy writer, a
newer Codex or a hostile file would: it moves, drops, duplicates and inserts
whole lines (from a pool of valid lines taken from the seeds), and swaps one
JSON value inside a line for another (a known type tag, an id from elsewhere,
a boundary number, a value of another type, a missing key). A share of the
calls still hands the bytes to libFuzzer's own byte mutator, so the parsers see
broken input too. :class:`ZstMutator` does the same under zstd, then recompresses
with varied levels, frame splits, skippable frames, truncation and bombs.

Mutators are created in the harness process (atheris' ``custom_mutator``) and
are deterministic given the seed libFuzzer passes.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import zstandard

from rollout import events as ev

__all__ = ["SEEDS", "JsonlMutator", "Mutator", "ZstMutator", "jsonl_mutator", "tags", "zst_mutator"]

Mutator = Callable[[bytes, int, int], bytes]
SEEDS = Path(__file__).resolve().parents[2] / "tests" / "fuzz" / "seeds"
_NUMBERS = [0, 1, -1, 2, 255, 2**31, -(2**31), 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30, 0.5, -0.0, 1e308]
_OTHERS: list[Any] = [None, True, False, "", " ", "\u0000", "\ud800", "\U0001f600", "x" * 300, [], {}, [None], {"type": None}]
_PLAIN = 64 * 1024  # the zst mutator edits at most this much decompressed JSONL
_BROKEN = (ValueError, RecursionError, OverflowError, TypeError)  # what parsing or encoding odd JSON may raise


def tags() -> list[str]:
    """Every wire ``type`` tag the event model knows (line, item, event and content tags)."""
    found = set()
    for value in vars(ev).values():
        config = getattr(value, "__struct_config__", None)
        if config is not None and isinstance(config.tag, str):
            found.add(config.tag)
    return sorted(found)


def _pool_lines() -> list[bytes]:
    """Valid JSON lines of every plain seed file."""
    lines: list[bytes] = []
    for path in sorted(SEEDS.glob("*/*")):
        if path.parent.name.endswith("_zst") or not path.is_file():
            continue
        for raw in path.read_bytes().split(b"\n"):
            try:
                json.loads(raw)
            except _BROKEN:
                continue
            lines.append(raw)
    return lines or [b'{"type":"event_msg","payload":{"type":"agent_message","message":"hi"}}']


def _harvest(value: Any, strings: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            strings.add(key)
            _harvest(item, strings)
    elif isinstance(value, list):
        for item in value:
            _harvest(item, strings)
    elif isinstance(value, str) and len(value) <= 64:
        strings.add(value)


def _nodes(value: Any, path: tuple = ()) -> list[tuple]:
    """Paths (keys and indices) of every value inside ``value``, itself included."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _nodes(item, (*path, index))
    return found


def _get(value: Any, path: tuple) -> Any:
    for step in path:
        value = value[step]
    return value


def _encode(value: Any, rng: random.Random) -> bytes:
    """Compact (as Codex writes) or spaced JSON; ints beyond 64 bits need the json module."""
    if rng.random() < 0.8:
        try:
            return msgspec.json.encode(value)
        except _BROKEN:
            pass
    return json.dumps(value, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")


class JsonlMutator:
    """Line- and value-level edits of a JSONL buffer, with byte-level edits mixed in."""

    def __init__(self, pool: list[bytes] | None = None) -> None:
        self.pool = pool if pool is not None else _pool_lines()
        strings: set[str] = set(tags())
        for raw in self.pool:
            _harvest(json.loads(raw), strings)
        self.strings = sorted(strings)
        self.tags = tags()
        self._ops = [
            self._byte, self._byte, self._drop, self._duplicate, self._move, self._insert, self._insert,
            self._value, self._value, self._value, self._retag, self._retag, self._delete_key, self._graft,
            self._blank, self._truncate,
        ]

    def __call__(self, data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        lines = data.split(b"\n") if data else []
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            lines = rng.choice(self._ops)(lines, rng, max_size)
        return b"\n".join(lines)[:max_size]

    # ------------------------------------------------------------------ line edits

    def _byte(self, lines: list[bytes], rng: random.Random, max_size: int) -> list[bytes]:
        import atheris  # only in the harness process

        return atheris.Mutate(b"\n".join(lines), max_size).split(b"\n")

    def _drop(self, lines: list[bytes], rng: random.Random, max_size: int) -> list[bytes]:
        if lines:
            del lines[rng.randrange(len(lines))]
        return lines

    def _duplicate(self, lines: list[bytes], rng: random.Random, max_size: int) -> list[bytes]:
        if lines:
            lines.insert(rng.randrange(len(lines) + 1), rng.choice(lines))
        return lines

    def _move(self, lines: list[bytes], rng: random.Random, max_size: int) -> list[bytes]:
        if len(lines) > 1:
            lines.insert(rng.randrange(len(lines)), lines.pop(rng.randrange(len(lines))))
        return lines

    def _insert(self, lines: list[bytes], rng: random.Random, max_size: int) -> list[bytes]:
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(self.pool))
        return lines

    def _blank(self, lines: list[bytes], rng: random.Random, max_size: int) -> list[bytes]:
        lines.insert(rng.randrange(len(lines) + 1), rng.choice([b"", b" ", b"\r", b"\t \r"]))
        return lines

    def _truncate(self, lines: list[bytes], rng: random.Random, max_size: int) -> list[bytes]:
        if lines and lines[-1]:
            lines[-1] = lines[-1][: rng.randrange(len(lines[-1]))]
        return lines

    # ------------------------------------------------------------------ value edits

    def _edit(self, lines: list[bytes], rng: random.Random, edit: Callable[[Any, random.Random], Any]) -> list[bytes]:
        """Apply ``edit`` to the parsed JSON of a random line that parses."""
        if not lines:
            return lines
        index = rng.randrange(len(lines))
        try:
            value = edit(json.loads(lines[index]), rng)
            lines[index] = _encode(value, rng)
        except _BROKEN:
            pass
        return lines

    def _value(self, lines: list[bytes], rng: random.Random, max_size: int) -> list[bytes]:
        return self._edit(lines, rng, self._replace_node)

    def _replace_node(self, value: Any, rng: random.Random) -> Any:
        path = rng.choice(_nodes(value))
        new = self._new_value(_get(value, path), rng)
        if not path:
            return new
        _get(value, path[:-1])[path[-1]] = new
        return value

    def _new_value(self, old: Any, rng: random.Random) -> Any:
        kind = rng.randrange(4)
        if kind == 0 and isinstance(old, str):
            return rng.choice(self.strings)
        if kind == 0 and isinstance(old, (int, float)) and not isinstance(old, bool):
            return rng.choice([old + 1, old - 1, -old, *_NUMBERS])
        if kind == 1:
            return rng.choice(_NUMBERS)
        if kind == 2:
            return rng.choice(self.strings)
        return rng.choice(_OTHERS)

    def _retag(self, lines: list[bytes], rng: random.Random, max_size: int) -> list[bytes]:
        def retag(value: Any, rng: random.Random) -> Any:
            typed = [path for path in _nodes(value) if isinstance(_get(value, path), dict) and "type" in _get(value, path)]
            if typed:
                _get(value, rng.choice(typed))["type"] = rng.choice(self.tags)
            return value

        return self._edit(lines, rng, retag)

    def _delete_key(self, lines: list[bytes], rng: random.Random, max_size: int) -> list[bytes]:
        def delete(value: Any, rng: random.Random) -> Any:
            keyed = [path for path in _nodes(value) if path and isinstance(_get(value, path[:-1]), (dict, list))]
            if keyed:
                path = rng.choice(keyed)
                del _get(value, path[:-1])[path[-1]]
            return value

        return self._edit(lines, rng, delete)

    def _graft(self, lines: list[bytes], rng: random.Random, max_size: int) -> list[bytes]:
        """Put a subtree of a pool line at a random place of a line."""
        donor = json.loads(rng.choice(self.pool))
        branch = _get(donor, rng.choice(_nodes(donor)))
        return self._edit(lines, rng, lambda value, rng: self._put(value, branch, rng))

    def _put(self, value: Any, branch: Any, rng: random.Random) -> Any:
        path = rng.choice(_nodes(value))
        if not path:
            return branch
        _get(value, path[:-1])[path[-1]] = branch
        return value


class ZstMutator:
    """Mutates the JSONL inside zstd frames, then recompresses it in varied, sometimes broken, ways."""

    def __init__(self, inner: JsonlMutator | None = None) -> None:
        self.inner = inner or JsonlMutator()
        self._dctx = zstandard.ZstdDecompressor()
        fillers = (b"\n", b"x", b'{"type":"event_msg","payload":{"type":"agent_message","message":"a"}}\n')
        self._bombs = [zstandard.ZstdCompressor(level=3).compress(f * n) for f in fillers for n in (10**4, 10**5, 10**6)]

    def __call__(self, data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        if rng.random() < 0.15:
            return self.inner._byte([data], rng, max_size)[0] if data else data
        plain = self._plain(data)
        if plain is None:
            plain = b"\n".join(rng.sample(self.inner.pool, min(len(self.inner.pool), rng.randint(1, 20))))
        plain = self.inner(plain[:_PLAIN], _PLAIN, rng.getrandbits(32))
        return self._pack(plain, rng)[:max_size]

    def _plain(self, data: bytes) -> bytes | None:
        """The start of what ``data`` decompresses to (bounded: the corpus holds bombs)."""
        try:
            return self._dctx.stream_reader(io.BytesIO(data), read_across_frames=True).read(_PLAIN)
        except zstandard.ZstdError:
            return None

    def _pack(self, plain: bytes, rng: random.Random) -> bytes:
        cut = rng.randrange(len(plain) + 1) if rng.random() < 0.3 else len(plain)
        frames = [plain[:cut], plain[cut:]] if cut < len(plain) else [plain]
        packed = b"".join(zstandard.ZstdCompressor(level=rng.choice((1, 3, 19))).compress(f) for f in frames)
        roll = rng.random()
        if roll < 0.1:  # a skippable frame in front
            packed = b"\x50\x2a\x4d\x18" + (3).to_bytes(4, "little") + b"abc" + packed
        elif roll < 0.2:  # a bomb: repetitive data that expands far beyond its size
            packed += rng.choice(self._bombs)
        elif roll < 0.3:  # cut short
            packed = packed[: rng.randrange(len(packed) + 1)]
        return packed


def jsonl_mutator() -> Mutator:
    """The mutator of plain rollout targets."""
    return JsonlMutator()


def zst_mutator() -> Mutator:
    """The mutator of the ``.jsonl.zst`` target."""
    return ZstMutator()
