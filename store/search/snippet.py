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

import bisect
import unicodedata

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
    """The best passage of an item's fields and the ``[start, end)`` ranges of its matches.

    Chosen as FTS5's ``snippet()`` chooses: a window of :data:`SNIPPET_TOKENS` words scored
    1000 per distinct term in it and 1 per repeat, placed to centre its matches, or starting
    at a sentence (after ``.`` or ``:``) that holds them for a bonus; the first best field wins.

    Args:
        texts: the item's field texts (in :data:`store.search.extract.FIELDS` order).
        terms: the query's terms (excluded ones are never highlighted).
    """
    wanted = [term for term in terms if not term.negated]
    best: tuple[int, int, str, list[tuple[str, int, int]], list[tuple[int, int, int]]] | None = None
    for text in texts:
        if not text:
            continue
        words = spans(text)
        found = _instances([word for word, _, _ in words], wanted)
        for score, start in _windows(text, words, found):
            if best is None or score > best[0]:
                best = (score, start, text, words, found)
        if best is None:
            best = (0, 0, text, words, found)
    if best is None:
        return "", []
    _, first, text, words, found = best
    last = first + SNIPPET_TOKENS - 1
    start = 0 if first == 0 else words[first][1]
    end = len(text) if last >= len(words) - 1 else words[last][2]
    lead = "…" if first > 0 else ""
    shift = len(lead) - start
    ranges = [(words[lo][1] + shift, words[min(lo + size, len(words)) - 1][2] + shift)
              for lo, size in _runs(found) if first <= lo <= last]
    return lead + text[start:end] + ("…" if end < len(text) else ""), ranges


def _instances(words: list[str], terms: list[Term]) -> list[tuple[int, int, int]]:
    """``(word index, term number, words)`` of every match of a term, in text order."""
    where: dict[str, list[int]] = {}
    for index, word in enumerate(words):
        where.setdefault(word, []).append(index)
    found = []
    for number, term in enumerate(terms):
        *head, tail = term.words
        size = len(term.words)
        if term.prefix:
            ends = sorted(i for word, places in where.items() if word.startswith(tail) for i in places)
        else:
            ends = where.get(tail, [])
        for end in ends:
            at = end - size + 1
            if at >= 0 and all(words[at + k] == word for k, word in enumerate(head)):
                found.append((at, number, size))
    return sorted(found)


def _windows(text: str, words: list[tuple[str, int, int]], found: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """``(score, first word)`` of the windows FTS5 weighs for one field, in its order."""
    count, out = len(words), []
    offsets = [at for at, _, _ in found]
    centred = _scores(found, offsets)
    if count > SNIPPET_TOKENS:
        starts = [0, *(index for index in range(1, count) if _sentence(text, words[index][1]))]
        sentences = [starts[bisect.bisect_right(starts, at) - 1] for at in offsets]
        by_sentence = _scores(found, sentences)
    for index, at in enumerate(offsets):
        score, lo, hi = centred[index]
        first, last = offsets[lo], offsets[hi - 1] + found[hi - 1][2]
        adjusted = first - int((SNIPPET_TOKENS - (last - first)) / 2)
        out.append((score, max(0, min(adjusted, count - SNIPPET_TOKENS))))
        if count > SNIPPET_TOKENS and sentences[index] < at:
            bonus = 120 if sentences[index] == 0 else 100
            out.append((by_sentence[index][0] + bonus, sentences[index]))
    return out


def _scores(found: list[tuple[int, int, int]], starts: list[int]) -> list[tuple[int, int, int]]:
    """``(score, lo, hi)`` of the window from each start (non-decreasing): ``found[lo:hi]`` is in it.

    A window scores 1000 per distinct term and 1 per repeat; one sliding pass (a long
    tool output may hold tens of thousands of matches).
    """
    counts: dict[int, int] = {}
    out = []
    lo = hi = 0
    for start in starts:
        while lo < len(found) and found[lo][0] < start:
            if lo < hi:
                counts[found[lo][1]] -= 1
                if not counts[found[lo][1]]:
                    del counts[found[lo][1]]
            lo += 1
        hi = max(hi, lo)
        while hi < len(found) and found[hi][0] < start + SNIPPET_TOKENS:
            counts[found[hi][1]] = counts.get(found[hi][1], 0) + 1
            hi += 1
        out.append((1000 * len(counts) + (hi - lo - len(counts)), lo, hi))
    return out


def _sentence(text: str, offset: int) -> bool:
    """Whether the word at ``offset`` starts a sentence: whitespace, then ``.`` or ``:``, before it."""
    index = offset - 1
    while index >= 0 and text[index] in " \t\n\r":
        index -= 1
    return index < offset - 1 and index >= 0 and text[index] in ".:"


def _runs(found: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """Highlighted runs ``(first word, words)``: each match, overlapping ones merged (as FTS5 does)."""
    runs: list[tuple[int, int]] = []
    for at, _, size in found:
        if runs and at < runs[-1][0] + runs[-1][1]:
            runs[-1] = (runs[-1][0], max(runs[-1][1], at + size - runs[-1][0]))
        else:
            runs.append((at, size))
    return runs
