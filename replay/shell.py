"""Joining an argv into one shell command string the way Codex displays it.

Codex joins ``exec_command_*`` argv with the Rust ``shlex`` crate (``try_join``),
whose quoting differs from Python's ``shlex.join`` (``it's`` becomes ``"it's"``,
not ``'it'"'"'s'``). The rules, reimplemented here: each word is cut into chunks,
each chunk emitted bare, single-quoted or double-quoted, whichever fits the longest
prefix, preferring bare, then single, then double quotes. A NUL byte makes the
join fail, and Codex then falls back to plain space-joining.

Must not import: rollout, store, anything doing I/O.
"""

from __future__ import annotations

import string

__all__ = ["join_command"]

_BARE = frozenset((string.ascii_letters + string.digits + "+-./:@]_").encode())
_NOT_SINGLE = frozenset(b"'^\\")
_NOT_DOUBLE = frozenset(b"`$!^")
_BARE_OK, _SINGLE_OK, _DOUBLE_OK = 1, 2, 4


def join_command(argv: list[str]) -> str:
    """Join ``argv`` into one display string, quoting words that need it.

    Args:
        argv: The command words.

    Returns:
        The joined command, e.g. ``echo 'hello world'``.
    """
    if any("\0" in word for word in argv):
        return " ".join(argv)
    return " ".join(_quote(word) for word in argv)


def _quote(word: str) -> str:
    if not word:
        return "''"
    data = word.encode(errors="surrogatepass")
    if all(byte in _BARE for byte in data):
        return word
    out = bytearray()
    while data:
        length, strategy = _strategy(data)
        out += _emit(data[:length], strategy)
        data = data[length:]
    return out.decode(errors="surrogatepass")


def _allowed(byte: int) -> int:
    if byte >= 0x80:
        return _SINGLE_OK | _DOUBLE_OK
    ok = 0
    if byte in _BARE:
        ok |= _BARE_OK
    if byte not in _NOT_SINGLE:
        ok |= _SINGLE_OK
    if byte not in _NOT_DOUBLE:
        ok |= _DOUBLE_OK
    return ok


def _strategy(data: bytes) -> tuple[int, int]:
    """Return the length of the longest prefix one strategy covers, and that strategy."""
    ok, index = _BARE_OK | _SINGLE_OK | _DOUBLE_OK, 0
    if data[0] == ord("^"):
        # A leading caret is only safe right after an opening single quote.
        ok, index = _SINGLE_OK, 1
    while index < len(data):
        narrowed = ok & _allowed(data[index])
        if not narrowed:
            break
        ok, index = narrowed, index + 1
    for strategy in (_BARE_OK, _SINGLE_OK, _DOUBLE_OK):
        if ok & strategy:
            return index, strategy
    raise AssertionError("unreachable: every byte fits some strategy")


def _emit(chunk: bytes, strategy: int) -> bytes:
    if strategy == _BARE_OK:
        return chunk
    if strategy == _SINGLE_OK:
        return b"'" + chunk + b"'"
    escaped = chunk.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
    return b'"' + escaped + b'"'
