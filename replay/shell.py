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

import re

__all__ = ["join_command"]

_ALL_BARE = re.compile(r"[A-Za-z0-9+\-./:@\]_]+")
_NOT_BARE = re.compile(r"[^A-Za-z0-9+\-./:@\]_]")
_NOT_SINGLE = re.compile(r"['^\\]")
_NOT_DOUBLE = re.compile(r"[`$!^]")


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
    if _ALL_BARE.fullmatch(word):
        return word
    if _NOT_SINGLE.search(word) is None:
        return f"'{word}'"  # one chunk: nothing in it needs more than single quotes
    return "".join(_chunks(word))


def _run_end(pattern: re.Pattern[str], word: str, start: int) -> int:
    found = pattern.search(word, start)
    return len(word) if found is None else found.start()


def _chunks(word: str) -> list[str]:
    """Cut ``word`` into the longest chunks one quoting style covers, each quoted in it."""
    out, pos = [], 0
    while pos < len(word):
        if word[pos] == "^":
            # A caret is only safe right after an opening single quote.
            end = _run_end(_NOT_SINGLE, word, pos + 1)
            out.append(f"'{word[pos:end]}'")
            pos = end
            continue
        bare, single, double = (_run_end(p, word, pos) for p in (_NOT_BARE, _NOT_SINGLE, _NOT_DOUBLE))
        end = max(bare, single, double)
        chunk = word[pos:end]
        if bare == end:
            out.append(chunk)
        elif single == end:
            out.append(f"'{chunk}'")
        else:
            out.append('"' + chunk.replace("\\", "\\\\").replace('"', '\\"') + '"')
        pos = end
    return out
