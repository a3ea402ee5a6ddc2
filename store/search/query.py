"""What a person types into ``rollout search``, parsed once for every backend.

The language, kept small so each backend can compile it (:mod:`store.search.fts5`
for SQLite FTS5; :mod:`store.postgres.search` for PostgreSQL):

* words are all required: ``parser crash``;
* ``"a quoted phrase"`` matches those words next to each other;
* a word ending in ``*`` is a prefix: ``pars*``;
* ``-word`` (or ``-"a phrase"``) excludes;
* a word with punctuation is matched as the phrase of its parts, which is how code is
  found: ``parse_rollout_name``, ``os.path.join``, ``src/app.py``, ids and UUIDs match
  exactly where they were written (and ``rollout_name`` matches inside
  ``parse_rollout_name``). Case and accents never matter.

:class:`SearchQuery` adds the filters (cwd, time, role) and paging.

Must not import: rollout.cli, rich, anything doing I/O.
"""

from __future__ import annotations

import re
import unicodedata

import msgspec

from rollout.errors import InvalidInput

from .extract import ROLES

__all__ = ["MAX_LIMIT", "SearchQuery", "Term", "parse", "tokens"]

MAX_LIMIT = 1000
_TERM = re.compile(r'(-?)(?:"([^"]*)"?|(\S+))')
_WORD = re.compile(r"[^\W_]+", re.UNICODE)  # letters and digits; everything else separates (as FTS5 unicode61)


class Term(msgspec.Struct, frozen=True):
    """One part of a query: the words of a word or phrase (in order), prefix and exclusion flags."""

    words: tuple[str, ...]
    prefix: bool = False
    negated: bool = False


class SearchQuery(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed search with its filters.

    Attributes:
        text: what was typed.
        terms: the parsed terms (at least one not negated).
        cwd: only threads started in this directory.
        since_ms: only items from this time on (unix ms).
        role: only ``user``, ``assistant`` or ``tool`` text.
        limit, offset: the page.
        threads: one hit per thread (its best), as ``thread/search`` lists threads.
    """

    text: str
    terms: tuple[Term, ...]
    cwd: str | None = None
    since_ms: int | None = None
    role: str | None = None
    limit: int = 20
    offset: int = 0
    threads: bool = False


def tokens(text: str) -> list[str]:
    """The words FTS5's ``unicode61 remove_diacritics 2`` tokenizer sees in ``text``."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _WORD.findall(plain)


def parse(text: str, *, cwd: str | None = None, since_ms: int | None = None, role: str | None = None,
          limit: int = 20, offset: int = 0, threads: bool = False) -> SearchQuery:
    """Parse a query and check its options.

    Raises:
        InvalidInput: nothing to search for (only exclusions, or no word at all), an
            unknown role, or a bad limit or offset.
    """
    if not isinstance(text, str):
        raise InvalidInput("the search query must be a string")
    terms = []
    for minus, phrase, word in _TERM.findall(text):
        raw = phrase if phrase or word == "" else word
        prefix = phrase == "" and raw.endswith("*")
        words = tuple(tokens(raw.rstrip("*") if prefix else raw))
        if words:
            terms.append(Term(words, prefix, bool(minus)))
    if not any(not term.negated for term in terms):
        raise InvalidInput(f"nothing to search for in {text!r}: give at least one word")
    if role is not None and role not in ROLES:
        raise InvalidInput(f"role must be one of {sorted(ROLES)}, not {role!r}")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be an int in 1..{MAX_LIMIT}, not {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidInput(f"offset must be an int >= 0, not {offset!r}")
    return SearchQuery(text=text, terms=tuple(terms), cwd=cwd, since_ms=since_ms, role=role, limit=limit,
                       offset=offset, threads=threads)
