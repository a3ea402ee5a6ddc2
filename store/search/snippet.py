"""Snippets made in Python, for a backend whose index cannot cut them (PostgreSQL's).

:func:`snippet` picks, among an item's field texts, the field with the most matched
terms, and in it a window of :data:`SNIPPET_TOKENS` words holding the most matches,
cut the way FTS5's ``snippet()`` cuts (``…`` where text is left out, the text's own
start and end kept when the window reaches them). Matches are found with the words the
index saw (:func:`spans`, the same words as :func:`store.search.query.tokens`), so a
highlight is exactly a matched word: a phrase's words only where the whole phrase is,
a prefix's word where it starts with the prefix.

Must not import: rollout.cli, rich, anything doing I/O.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from .query import _WORD, Term

__all__ = ["SNIPPET_TOKENS", "snippet", "spans"]

#: the most words a snippet shows (FTS5's ``snippet(..., 24)``)
SNIPPET_TOKENS = 24


def spans(text: str) -> list[tuple[str, int, int]]:
    """The words of :func:`store.search.query.tokens` with their ``[start, end)`` in ``text``."""
    if text.isascii():  # casefold is lower, NFKD changes nothing: offsets carry over
        return [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text.lower())]
    folded: list[str] = []
    origin: list[int] = []  # the index in ``text`` of each folded character
    for index, char in enumerate(text):
        for piece in unicodedata.normalize("NFKD", char.casefold()):
            if not unicodedata.combining(piece):
                folded.append(piece)
                origin.append(index)
    plain = "".join(folded)
    return [(m.group(), origin[m.start()], origin[m.end() - 1] + 1) for m in _WORD.finditer(plain)]


def snippet(texts: tuple[str, ...] | list[str], terms: tuple[Term, ...]) -> tuple[str, list[tuple[int, int]]]:
    """The best passage of an item's fields and the ``[start, end)`` ranges of its matched words.

    Args:
        texts: the item's field texts (in any fixed order; ties go to the earlier field).
        terms: the query's terms (excluded ones are never highlighted).
    """
    wanted = [term for term in terms if not term.negated]
    best: tuple[int, int, str, list[tuple[str, int, int]], Any] | None = None
    for text in texts:
        if not text:
            continue
        words = spans(text)
        matched = _matches([word for word, _, _ in words], wanted)
        found = matched[0]
        score = (len(set(found.values())), len(found))
        if best is None or score > best[:2]:
            best = (*score, text, words, matched)
    if best is None:
        return "", []
    _, _, text, words, (found, runs) = best
    first, last = _window(len(words), sorted(found), found)
    start = 0 if first == 0 else words[first][1]
    end = len(text) if last >= len(words) - 1 else words[last][2]
    lead = "…" if first > 0 else ""
    shift = len(lead) - start
    ranges = [(words[lo][1] + shift, words[hi][2] + shift) for lo, hi in runs if first <= lo and hi <= last]
    return lead + text[start:end] + ("…" if end < len(text) else ""), ranges


def _matches(words: list[str], terms: list[Term]) -> tuple[dict[int, int], list[tuple[int, int]]]:
    """Word index -> the term it belongs to, and the runs of words each match covers (merged, in order).

    A phrase's match is one run, as FTS5 highlights it.
    """
    found: dict[int, int] = {}
    runs: list[tuple[int, int]] = []
    for number, term in enumerate(terms):
        size = len(term.words)
        for at in range(len(words) - size + 1):
            if all(words[at + k] == term.words[k] for k in range(size - 1)) and (
                    words[at + size - 1].startswith(term.words[-1]) if term.prefix
                    else words[at + size - 1] == term.words[-1]):
                for k in range(size):
                    found.setdefault(at + k, number)
                runs.append((at, at + size - 1))
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(runs):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return found, merged


def _window(count: int, hits: list[int], found: dict[int, int]) -> tuple[int, int]:
    """First and last word of the window: most distinct terms, then most matched words, hits centred."""
    if count <= SNIPPET_TOKENS:
        return 0, count - 1
    if not hits:
        return 0, SNIPPET_TOKENS - 1
    best, best_score = hits[0], (-1, -1)
    for at in hits:
        inside = [index for index in hits if at <= index < at + SNIPPET_TOKENS]
        score = (len({found[index] for index in inside}), len(inside))
        if score > best_score:
            best, best_score = at, score
    inside = [index for index in hits if best <= index < best + SNIPPET_TOKENS]
    spare = SNIPPET_TOKENS - (inside[-1] - inside[0] + 1)
    first = max(0, min(best - spare // 2, count - SNIPPET_TOKENS))
    return first, first + SNIPPET_TOKENS - 1

