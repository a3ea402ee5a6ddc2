"""The fuzz targets: one registered function per entry point that takes untrusted bytes.

A target gets the fuzzer's bytes and calls the engine. It may raise any
``rollout.errors`` exception (bad input is allowed to be refused, see
:func:`tolerated`); anything else is a finding, and so is a broken invariant
(an ``AssertionError``). Adding a target is one decorated function::

    @target("serve_message", mutator=jsonl_mutator)
    def serve_message(data: bytes) -> None:
        handle_message(data)            # e.g. the ``rollout serve`` JSON-RPC handler

Seeds for target ``NAME`` live in ``tests/fuzz/seeds/NAME/`` (see
``tests/fuzz/make_seeds.py``), past findings in ``tests/fuzz/findings/NAME/``.

The harness imports this module inside ``atheris.instrument_imports``, so the
engine's modules imported here are the ones coverage is measured over.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import replay
import rollout
from rollout.compression import ZSTD_MAGIC
from rollout.errors import EncodeError, RolloutError

from .mutator import Mutator, jsonl_mutator, zst_mutator

__all__ = ["FUZZ_LIMITS", "TARGETS", "Target", "decoded_lines", "strict", "target", "tolerated"]


@dataclass(frozen=True)
class Target:
    """A registered fuzz target.

    Attributes:
        name: the name on the command line and of its seed folder.
        run: called with each input.
        max_len: the largest input the fuzzer makes (libFuzzer ``-max_len``).
        mutator: a structure-aware mutator factory, or None for libFuzzer's byte mutations.
    """

    name: str
    run: Callable[[bytes], Any]
    max_len: int = 4096
    mutator: Callable[[], Mutator] | None = None


TARGETS: dict[str, Target] = {}


def target(
    name: str, *, max_len: int = 4096, mutator: Callable[[], Mutator] | None = None
) -> Callable[[Callable[[bytes], Any]], Callable[[bytes], Any]]:
    """Register ``fn`` as the fuzz target ``name``."""

    def register(fn: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
        TARGETS[name] = Target(name=name, run=fn, max_len=max_len, mutator=mutator)
        return fn

    return register


def tolerated(run: Callable[[bytes], Any]) -> Callable[[bytes], None]:
    """``run`` with the engine's own errors allowed: refusing bad input is not a finding."""

    def one_input(data: bytes) -> None:
        try:
            run(data)
        except RolloutError:
            pass

    return one_input


@contextlib.contextmanager
def strict(what: str) -> Iterator[None]:
    """Inside, an engine error is a finding too (a refusal of the engine's own output)."""
    try:
        yield
    except RolloutError as exc:
        raise AssertionError(f"{what}: {type(exc).__name__}: {exc}") from exc


def decoded_lines(data: bytes) -> list[rollout.Line]:
    """Every line of a JSONL buffer that decodes, in order (what replay gets from the reader)."""
    lines = []
    for raw in data.split(b"\n"):
        try:
            lines.append(rollout.decode_line(raw))
        except rollout.DecodeError:
            pass
    return lines


# Tighter than the defaults so that one zst input stays well under a millisecond of work: an
# input may expand to 4 KiB plus 4x its size here (bombs of blank lines cost ~5 µs a line),
# not 4 MiB plus 100x. The code paths (expansion check, too-long lines, problem cap) are the same.
FUZZ_LIMITS = rollout.ReadLimits(max_expansion=4, expansion_grace=4 * 1024, max_line_bytes=16 * 1024,
                                 max_problems=100)


# --------------------------------------------------------------------------- rollout


@target("decode_line")
def decode_line(data: bytes) -> None:
    """One line: decodes or raises DecodeError; a decoded line re-encodes to its bytes, and through msgpack."""
    line = rollout.decode_line(data)
    kept = data[:-1] if data.endswith(b"\n") else data  # a line keeps everything but its "\n" (a CRLF's "\r" too)
    assert rollout.encode_line(line) == kept, "encode_line(decode_line(x)) != x"
    try:
        packed = rollout.encode_msgpack(line)
    except EncodeError:
        return  # documented: no msgpack form for an integer beyond 64 bits
    with strict("decode_msgpack of encode_msgpack"):
        assert rollout.decode_msgpack(packed) == line, "msgpack round trip changed the line"


class _Dribble:
    """A stream handing out at most ``step`` bytes per read, so lines span many chunks."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.at = data, step, 0

    def read(self, size: int = -1) -> bytes:
        piece = self.data[self.at : self.at + min(size, self.step)]
        self.at += len(piece)
        return piece


@target("read_rollout", max_len=8 * 1024, mutator=jsonl_mutator)
def read_rollout(data: bytes) -> None:
    """A plain rollout from bytes: line numbers ascend, problems never overlap lines, and a stream
    read a few bytes at a time (lines across chunks, some over a small line limit) reads the same."""
    result = rollout.read_rollout(data)
    numbers = result.line_numbers
    assert numbers == sorted(set(numbers)), "line numbers not strictly ascending"
    assert not set(numbers) & {p.line for p in result.problems if not p.kept}, "a line is both read and a problem"
    if data[:4] == ZSTD_MAGIC:
        return  # bytes with the zstd magic are decompressed, a stream is read as it is
    limits = rollout.ReadLimits(max_line_bytes=len(data) // 2 + 1, max_problems=5)
    whole = _outcome(lambda: rollout.read_rollout(data, limits=limits))
    dribbled = _outcome(lambda: rollout.read_rollout(_Dribble(data, 1 + len(data) % 7), limits=limits))  # type: ignore[arg-type]
    assert whole == dribbled, "reading in small chunks differs from reading at once"


def _outcome(read: Callable[[], rollout.ReadResult]) -> Any:
    """What a read gives, comparable: its lines, numbers and problems, or the error it raised."""
    try:
        result = read()
    except RolloutError as exc:
        return type(exc), str(exc)
    return [rollout.encode_line(line) for line in result.lines], result.line_numbers, result.problems


@target("read_rollout_zst", max_len=64 * 1024, mutator=zst_mutator)
def read_rollout_zst(data: bytes) -> None:
    """A ``.jsonl.zst`` rollout from bytes (the magic number is added when missing)."""
    packed = data if data[:4] == ZSTD_MAGIC else ZSTD_MAGIC + data
    rollout.read_rollout(packed, limits=FUZZ_LIMITS)


# --------------------------------------------------------------------------- replay


@target("build_turns", max_len=8 * 1024, mutator=jsonl_mutator)
def build_turns(data: bytes) -> None:
    """Turns of any decoded lines, in both policies; a builder dumped halfway and reloaded agrees."""
    lines = decoded_lines(data)
    turns = replay.build_turns(lines)
    replay.build_turns(lines, running=True, policy="limited", items_view="summary")
    half = len(lines) // 2
    state = _dump(replay.HistoryBuilder().feed_many(lines[:half]))
    if state is None:
        return
    with strict("HistoryBuilder.load of its own dump"):
        builder = replay.HistoryBuilder.load(state)
    assert builder.feed_many(lines[half:]).snapshot() == turns, "dump/load halfway changed the turns"


@target("resume_context", max_len=8 * 1024, mutator=jsonl_mutator)
def resume_context(data: bytes) -> None:
    """Resume context of any decoded lines; ContextBuilder.of and a dump/load agree with it."""
    lines = decoded_lines(data)
    context = replay.resume_context(lines)
    assert replay.ContextBuilder.of(lines).context() == context, "ContextBuilder.of differs from resume_context"
    state = _dump(replay.ContextBuilder.of(lines[: len(lines) // 2]))
    if state is None:
        return
    with strict("ContextBuilder.load of its own dump"):
        restored = replay.ContextBuilder.load(state)
    restored.feed_many(lines[len(lines) // 2 :])
    found = restored.context()
    assert found is None or found == context, "ContextBuilder dump/load differs from resume_context"


def _dump(builder: replay.HistoryBuilder | replay.ContextBuilder) -> bytes | None:
    """The builder's state, or None when it documents that it has none (EncodeError: a huge integer)."""
    try:
        return builder.dump()
    except EncodeError:
        return None



if os.environ.get("ROLLOUT_FUZZ_SELFTEST"):  # the suite's check that each kind of finding is seen and parsed
    _hoard: list[bytes] = []

    @target("selftest_crash", max_len=64)
    def selftest_crash(data: bytes) -> None:
        """Crashes on inputs starting with ``!``."""
        if data[:1] == b"!":
            raise TypeError("selftest crash")

    @target("selftest_hang", max_len=64)
    def selftest_hang(data: bytes) -> None:
        """Hangs on inputs starting with ``~``."""
        if data[:1] == b"~":
            time.sleep(30)

    @target("selftest_oom", max_len=64)
    def selftest_oom(data: bytes) -> None:
        """Keeps 64 MiB more on every input starting with ``+`` (up to 1 GiB)."""
        if data[:1] == b"+" and len(_hoard) < 16:
            _hoard.append(b"+" * (64 << 20))  # written, so resident


from . import serve_target  # noqa: E402,F401 -- registers serve_message (it imports target from here)
