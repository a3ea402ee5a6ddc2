"""The search index in PostgreSQL: ``tsvector`` documents built in Python, ``tsquery`` compiled by hand.

The tables (schema version 2, :mod:`store.postgres.schema`) mirror
:mod:`store.search.fts5`'s: ``search_marks`` (a thread's watermark, plus the ``gen`` of
the life it was projected from) and ``search_items`` (one row per item: where it is,
its six field texts, and ``doc``, a GIN-indexed ``tsvector``).

PostgreSQL's text parser never sees the text: it treats paths, hosts, versions and
floats as single tokens, so ``src/app.py`` would not be found by ``app``. :func:`document`
writes the ``tsvector`` literal from :func:`store.search.query.tokens` (the words FTS5
sees), each with its positions and a weight per field (:data:`LETTERS`, from
:data:`store.search.fts5.WEIGHTS`), and the item's word stream (``words``: each field's
words joined by spaces); :func:`compile_query` writes the query the same way. Both are
cast, never parsed by a text search configuration, so nothing is stemmed or dropped.

A query is every required word in ``doc`` (the GIN index finds the candidates; a prefix
is ``:*``, an excluded word ``!``) and, for each phrase (a quoted phrase, or an
identifier's parts), its words in order in the word stream (``strpos``). Phrases are not
``<->``: PostgreSQL keeps positions up to 16,383 and 256 per word, so in a long tool
output ``<->`` would miss an identifier that FTS5 finds. Positions still serve ranking
(clamped to those limits). A word longer than 2,047 bytes is not indexed (a query
requiring one finds nothing), and a document keeps its first 1 MB of distinct words.

The role filter uses the ``role`` column: every item's fields belong to one role
(:data:`store.search.extract.ROLES`), so this is FTS5's column filter.

Writes are one transaction per thread under an advisory lock on the thread, applied
only when the rows they keep are the rows their projection assumed (:func:`write`
returns False otherwise, and the thread is projected again from scratch), so projections
by several processes at once leave a consistent index.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any, NamedTuple

from ..search.extract import FIELDS, Doc
from ..search.fts5 import WEIGHTS
from ..search.hits import Hit, Mark, Update
from ..search.query import SearchQuery, tokens
from ..search.snippet import snippet

__all__ = ["LETTERS", "Compiled", "canonical", "compile_query", "document", "hits", "mark", "query", "rows",
           "stale", "write"]

_SIG = 8  # bytes per turn fingerprint (store.search.extract.signatures)
_MAX_POS = 16383  # PostgreSQL's largest position
_MAX_POSITIONS = 256  # positions PostgreSQL keeps per word
_MAX_WORD = 2047  # bytes of the longest word a tsvector holds
_MAX_WORDS = (1 << 20) - 1  # bytes of distinct words in one tsvector

_RANKS = sorted(set(WEIGHTS), reverse=True)
assert len(_RANKS) <= 4, "PostgreSQL has four weights"
#: the weight letter of each field: FTS5's weights, highest first, become A, B, C, D
LETTERS = dict(zip(FIELDS, ("ABCD"[_RANKS.index(weight)] for weight in WEIGHTS), strict=True))
#: ``ts_rank_cd``'s weights ``{D, C, B, A}``: FTS5's weights scaled to the highest
_RANK_WEIGHTS = "{" + ",".join(str(_RANKS[3 - i] / _RANKS[0] if 3 - i < len(_RANKS) else 0.0)
                               for i in range(4)) + "}"
# Words get positions field by field in this order, short and important first: past 16,383 they clamp.
_POSITION_ORDER = sorted(range(len(FIELDS)), key=lambda i: ("user", "agent", "paths", "reasoning",
                                                             "tool_in", "tool_out").index(FIELDS[i]))
_COLUMNS = ("user_text", "agent_text", "reasoning_text", "tool_in", "tool_out", "paths")  # in FIELDS order


def canonical(thread_id: str | None) -> str | None:
    """A thread id as the tables spell it (lower-case UUID); None: not a UUID, so never indexed here.

    Thread ids are UUIDs in this backend; a fork's source named in its metadata need not be.
    """
    try:
        return str(uuid.UUID(thread_id))
    except (ValueError, TypeError, AttributeError):
        return None


def _quoted(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def document(text: tuple[str, ...]) -> tuple[str, str]:
    """The ``tsvector`` literal of one item's field texts (in :data:`FIELDS` order), and its word stream.

    The word stream is every field's words, space-separated, fields apart (`` | ``), with a
    space at each end: a phrase is there exactly when its words are, in order, in one field.
    """
    found: dict[str, list[int]] = {}
    letters: dict[str, list[str]] = {}
    streams = []
    size = position = 0
    for field in _POSITION_ORDER:
        letter = LETTERS[FIELDS[field]]
        words = tokens(text[field])
        if words:
            streams.append(" ".join(words))
            position += 1  # a gap: no phrase spans two fields
        for word in words:
            position += 1
            where = min(position, _MAX_POS)
            seen = found.get(word)
            if seen is None:
                length = len(word.encode())
                if length > _MAX_WORD or size + length > _MAX_WORDS:
                    continue
                size += length
                seen = found[word] = []
                letters[word] = []
            if len(seen) < _MAX_POSITIONS and (not seen or seen[-1] != where):
                seen.append(where)
                letters[word].append(letter)
    literal = " ".join(_quoted(word) + ":" + ",".join(f"{p}{'' if l == 'D' else l}" for p, l in zip(at, letters[word]))
                       for word, at in found.items())
    return literal, " " + " | ".join(streams) + " "


class Compiled(NamedTuple):
    """A query as PostgreSQL runs it.

    Attributes:
        match: the ``tsquery`` literal: every required word (a prefix ``:*``), excluded words ``!``.
        phrases: word-stream needles each hit holds (its multi-word terms, in order and adjacent).
        excluded: ``(tsquery, needle)`` of each excluded multi-word term: no hit holds both.
    """

    match: str
    phrases: list[str]
    excluded: list[tuple[str, str]]


def compile_query(query: SearchQuery) -> Compiled | None:
    """Compile a parsed query (None: a required word is longer than an index word can be)."""
    match, phrases, excluded = [], [], []
    for term in query.terms:
        if any(len(word.encode()) > _MAX_WORD for word in term.words):
            if term.negated:
                continue  # never indexed, so nothing to exclude
            return None
        words = [_quoted(word) for word in term.words]
        if term.prefix:
            words[-1] += ":*"
        needle = " " + " ".join(term.words) + ("" if term.prefix else " ")
        if len(words) == 1:
            match.append("!" + words[0] if term.negated else words[0])
        elif term.negated:
            excluded.append((" & ".join(words), needle))
        else:
            match.extend(words)
            phrases.append(needle)
    return Compiled(" & ".join(match), phrases, excluded)


def rows(thread_id: str, docs: list[Doc]) -> list[list[Any]]:
    """The column arrays of ``docs`` for :func:`write` (built off the event loop: tokenizing is work)."""
    ords: dict[int, int] = {}
    columns: list[list[Any]] = [[] for _ in range(10 + len(FIELDS))]
    for doc in docs:
        ord_ = ords[doc.turn_index] = ords.get(doc.turn_index, -1) + 1
        values = (doc.turn_index, ord_, doc.turn_id, doc.item_id, doc.kind, doc.role, doc.time_ms, doc.repeat,
                  *doc.text, *document(doc.text))
        for column, value in zip(columns, values):
            column.append(value)
    return columns


_NAMES = ("t", "o", "tid", "iid", "k", "r", "tm", "rp", "c1", "c2", "c3", "c4", "c5", "c6", "d", "w")
_TYPES = ("int", "int", "text", "text", "text", "text", "bigint", "bool", *["text"] * 8)
_ITEM_COLUMNS = ("turn_id", "item_id", "kind", "role", "time_ms", "repeated", *_COLUMNS, "doc", "words")
# One statement per projection: rows from turn $2 on that the new ones do not replace go, the new
# ones are upserted (same key: replaced), the mark is upserted, the forks' marks reset when asked.
# Each part touches other rows, so they may run in one statement.
_WRITE = (
    "WITH new AS (SELECT * FROM unnest("
    + ", ".join(f"${n + 10}::{kind}[]" for n, kind in enumerate(_TYPES)) + f") AS u({', '.join(_NAMES)})), "
    "dropped AS (DELETE FROM search_items s WHERE s.thread_id = $1 AND s.turn_index >= $2 "
    "AND NOT EXISTS (SELECT 1 FROM new WHERE new.t = s.turn_index AND new.o = s.ord)), "
    f"added AS (INSERT INTO search_items (thread_id, turn_index, ord, {', '.join(_ITEM_COLUMNS)}) "
    f"SELECT $1, {', '.join(_NAMES[:-2])}, CAST(d AS tsvector), w FROM new "
    f"ON CONFLICT (thread_id, turn_index, ord) DO UPDATE SET "
    + ", ".join(f"{column} = excluded.{column}" for column in _ITEM_COLUMNS) + "), "
    "marked AS (INSERT INTO search_marks (thread_id, gen, seq, sigs, cwd, forked_from, inherited) "
    "VALUES ($1, $3, $4, $5, $6, $7, $8) ON CONFLICT (thread_id) DO UPDATE SET gen = excluded.gen, "
    "seq = excluded.seq, sigs = excluded.sigs, cwd = excluded.cwd, forked_from = excluded.forked_from, "
    "inherited = excluded.inherited) "
    "UPDATE search_marks SET seq = -1 WHERE $9 AND forked_from = $1::text AND thread_id <> $1"
)
_DROP = ("WITH items AS (DELETE FROM search_items WHERE thread_id = $1), "
         "marks AS (DELETE FROM search_marks WHERE thread_id = $1) "
         "UPDATE search_marks SET seq = -1 WHERE forked_from = $1::text AND thread_id <> $1")
_CURRENT = ("SELECT t.gen, m.seq, m.sigs, m.cwd, m.forked_from, m.inherited FROM (SELECT $1::uuid AS id) k "
            "LEFT JOIN threads t ON t.thread_id = k.id AND NOT t.deleted LEFT JOIN search_marks m ON m.thread_id = k.id")


async def stale(conn: Any) -> list[str]:
    """Marks of gone threads, then live threads whose mark is not at their last seq (or of another life).

    One pass over each table (a full join). Oldest first, so a source is projected before its
    forks (which then know what they inherit).
    """
    found = await conn.fetch(
        "SELECT coalesce(t.thread_id, m.thread_id)::text FROM "
        "(SELECT thread_id, gen, last_seq, created_ms FROM threads WHERE NOT deleted) t "
        "FULL JOIN search_marks m ON m.thread_id = t.thread_id "
        "WHERE t.thread_id IS NULL OR m.seq IS DISTINCT FROM t.last_seq OR m.gen IS DISTINCT FROM t.gen "
        "ORDER BY t.thread_id IS NOT NULL, t.created_ms, t.thread_id")
    return [row[0] for row in found]


async def mark(conn: Any, thread_id: str) -> Mark | None:
    if canonical(thread_id) is None:
        return None
    row = await conn.fetchrow("SELECT seq, sigs, cwd, forked_from, inherited FROM search_marks "
                              "WHERE thread_id = $1", thread_id)
    return None if row is None else _mark(row)


def _mark(row: Any) -> Mark:
    sigs = bytes(row["sigs"])
    return Mark(seq=row["seq"], sigs=[sigs[i : i + _SIG] for i in range(0, len(sigs), _SIG)], cwd=row["cwd"],
                forked_from=row["forked_from"], inherited=row["inherited"])


def _applies(current: Mark | None, update: Update) -> bool:
    """Whether the rows ``update`` keeps (turns below ``drop_from``) are the ones its projection assumed."""
    keep, new = update.drop_from, update.mark
    if keep == 0:
        return True
    if current is None or current.seq < 0 or current.sigs[:keep] != new.sigs[:keep]:
        return False
    return current.inherited == new.inherited or keep <= min(current.inherited, new.inherited)


async def write(conn: Any, schema: str, thread_id: str, update: Update | None, columns: list[list[Any]]) -> bool:
    """Apply one thread's projection in one transaction (None: the thread is gone).

    Four round trips: begin and lock, read the thread's life and mark, write, commit.

    Returns:
        False when another process changed the thread's rows since the projection read
        its mark: nothing is written and the mark is reset, so the caller projects again.
    """
    known = canonical(thread_id)
    if known is None:
        return True  # not a thread of this backend: nothing indexed
    thread_id = known
    # Derived data: a crash may lose the last index commits (their watermarks with them, so they
    # are projected again), never the log; so the commit need not wait for the flush. The lock's
    # key is spliced in: the schema is a checked identifier, the id a canonical UUID.
    try:
        await conn.execute(f"BEGIN; SET LOCAL synchronous_commit TO off; SELECT pg_advisory_xact_lock("
                           f"hashtextextended('rollout-search:{schema}:{thread_id}', 0))")
        applied = await _apply(conn, thread_id, update, columns)
    except BaseException:
        with contextlib.suppress(Exception):  # never leave the pooled connection inside a transaction
            await conn.execute("ROLLBACK")
        raise
    await conn.execute("COMMIT")
    return applied


async def _apply(conn: Any, thread_id: str, update: Update | None, columns: list[list[Any]]) -> bool:
    row = await conn.fetchrow(_CURRENT, thread_id)
    if row["gen"] is None:  # gone (a new life of the id is caught up by its own projection)
        await conn.execute(_DROP, thread_id)
        return True
    if update is None:
        return True
    if not _applies(None if row["seq"] is None else _mark(row), update):
        await conn.execute("UPDATE search_marks SET seq = -1 WHERE thread_id = $1", thread_id)
        return False
    new = update.mark
    await conn.execute(_WRITE, thread_id, update.drop_from, row["gen"], new.seq, b"".join(new.sigs), new.cwd,
                       canonical(new.forked_from) or new.forked_from, new.inherited, update.sources_changed,
                       *columns)
    return True


def _order(alias: str = "") -> str:
    return (f"{alias}score DESC, {alias}time_ms DESC NULLS LAST, {alias}thread_id, {alias}turn_index, {alias}ord")


async def query(conn: Any, query: SearchQuery) -> list[Any]:
    """Up to ``query.limit + 1`` rows from ``query.offset``, best first (see :func:`hits`).

    Every match is ranked (``ts_rank_cd``, weights per field, normalised by document length),
    ties going to the newer item; the page's rows only then fetch their texts and forks.
    """
    compiled = compile_query(query)
    if compiled is None:
        return []
    args: list[Any] = [compiled.match]
    where = ["i.doc @@ $1::tsquery"]
    for needle in compiled.phrases:
        args.append(needle)
        where.append(f"strpos(i.words, ${len(args)}) > 0")
    for words, needle in compiled.excluded:
        args += [words, needle]
        where.append(f"NOT (i.doc @@ ${len(args) - 1}::tsquery AND strpos(i.words, ${len(args)}) > 0)")
    for column, value in (("m.cwd", query.cwd), ("i.role", query.role), ("i.time_ms", query.since_ms)):
        if value is not None:
            args.append(value)
            where.append(f"{column} {'>=' if column == 'i.time_ms' else '='} ${len(args)}")
    marks = " JOIN search_marks m ON m.thread_id = i.thread_id" if query.cwd is not None else ""
    found = (f"SELECT i.thread_id, i.turn_index, i.ord, i.time_ms, "
             f"ts_rank_cd('{_RANK_WEIGHTS}', i.doc, $1::tsquery, 1) AS score "
             f"FROM search_items i{marks} WHERE {' AND '.join(where)}")
    if query.threads:
        found = (f"SELECT DISTINCT ON (thread_id) * FROM ({found}) f "
                 f"ORDER BY thread_id, score DESC, time_ms DESC NULLS LAST, turn_index, ord")
    args += [query.limit + 1, query.offset]
    page = f"SELECT * FROM ({found}) r ORDER BY {_order()} LIMIT ${len(args) - 1} OFFSET ${len(args)}"
    sql = (f"SELECT p.thread_id::text AS thread_id, p.turn_index, i.turn_id, i.item_id, i.kind, i.role, p.time_ms, "
           f"i.repeated, m.cwd, p.score, {', '.join(f'i.{column}' for column in _COLUMNS)}, "
           f"ARRAY(SELECT f.thread_id::text FROM search_marks f WHERE f.forked_from = p.thread_id::text "
           f"AND f.inherited > p.turn_index) AS forks "
           f"FROM ({page}) p JOIN search_items i USING (thread_id, turn_index, ord) "
           f"JOIN search_marks m ON m.thread_id = p.thread_id ORDER BY {_order('p.')}")
    return list(await conn.fetch(sql, *args))


def hits(found: list[Any], query: SearchQuery) -> list[Hit]:
    """The hits of :func:`query`'s rows, with their snippets (Python work: run off the event loop)."""
    out = []
    for row in found:
        text, ranges = snippet([row[column] for column in _COLUMNS], query.terms)
        out.append(Hit(thread_id=row["thread_id"], turn_id=row["turn_id"], item_id=row["item_id"], kind=row["kind"],
                       role=row["role"], time_ms=row["time_ms"], score=float(row["score"]), snippet=text,
                       highlights=ranges, repeated_id=row["repeated"], cwd=row["cwd"], turn_index=row["turn_index"],
                       inherited_by=sorted(row["forks"])))
    return out
