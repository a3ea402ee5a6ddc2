"""The search index in SQLite FTS5: its tables, its statements, the query compiled to ``MATCH``.

Shared by every backend that has a SQLite connection at hand: ``SqliteStore`` (in the
store's database), ``FileStore`` (in the sidecar index of a Codex home) and
``MemoryStore`` (an in-memory database). Tables:

* ``search_marks``: one row per indexed thread: its watermark (the ``last_seq`` it was
  projected at), the fingerprint of each turn, its cwd, and for a fork the source it
  inherits turns from and how many (those turns are only indexed under the source);
* ``search_items``: one row per indexed item: thread, turn (index and id), item id,
  kind, role, time, whether its id repeats in the thread;
* ``search_text``: the FTS5 table (same rowid) with the fields of
  :data:`store.search.extract.FIELDS`, tokenized by ``unicode61 remove_diacritics 2``:
  letters and digits make words, everything else separates them, so an identifier is
  found as the phrase of its parts (see :mod:`store.search.query`).

Ranking is FTS5's ``bm25`` with a weight per field (:data:`WEIGHTS`), ties going to the
newer item. Ranking costs every match a ``bm25``, so a query matching more than
:data:`CANDIDATES` items (a short prefix over a large index) and not narrowed by cwd or
time ranks the newest :data:`CANDIDATES` of them (see :meth:`Fts5Index._cutoff`). One hit
per thread ranks without snippets and makes snippets for its page only. The caller owns
transactions and the connection's thread.

Must not import: rollout.cli, rich, asyncio.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from .extract import FIELDS, ROLES, Doc
from .hits import Hit, Mark, Update, split_snippet
from .query import SearchQuery, Term

__all__ = ["CANDIDATES", "SCHEMA", "WEIGHTS", "Fts5Index", "match_expression"]

#: bm25 weight of each field, in :data:`FIELDS` order: what people wrote counts most
WEIGHTS = (5.0, 3.0, 1.0, 2.0, 1.0, 2.0)

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS search_marks (
    thread_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    sigs BLOB NOT NULL,
    cwd TEXT,
    forked_from TEXT,
    inherited INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS search_marks_by_source ON search_marks (forked_from) WHERE forked_from IS NOT NULL;
CREATE TABLE IF NOT EXISTS search_items (
    rowid INTEGER PRIMARY KEY,
    thread_id TEXT NOT NULL,
    turn_index INTEGER NOT NULL,
    turn_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    role TEXT NOT NULL,
    time_ms INTEGER,
    repeat INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS search_items_by_thread ON search_items (thread_id, turn_index);
CREATE VIRTUAL TABLE IF NOT EXISTS search_text USING fts5(
    {", ".join(FIELDS)}, tokenize = 'unicode61 remove_diacritics 2'
);
"""

_SIG = 8  # bytes per turn fingerprint
_MARKER = ("\x02", "\x03")  # highlight start/end inside a snippet; never in indexed text that matters
_SNIPPET_TOKENS = 24
#: a query matching more items than this (with no cwd or since) ranks the newest this many
CANDIDATES = 5000


def match_expression(query: SearchQuery) -> str:
    """The FTS5 ``MATCH`` string of a parsed query (phrases quoted, so punctuation never parses)."""
    positive = " ".join(_phrase(term) for term in query.terms if not term.negated)
    negative = [_phrase(term) for term in query.terms if term.negated]
    expression = f"({positive}) NOT ({' OR '.join(negative)})" if negative else positive
    if query.role is not None:
        expression = "{" + " ".join(ROLES[query.role]) + "} : (" + expression + ")"
    return expression


def _phrase(term: Term) -> str:
    return '"' + " ".join(term.words).replace('"', '""') + '"' + (" *" if term.prefix else "")


class Fts5Index:
    """The index's statements over one SQLite connection (tables from :data:`SCHEMA`)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def create(self) -> None:
        """Create the tables if missing (in a transaction of their own)."""
        self.conn.executescript(f"BEGIN; {SCHEMA} COMMIT;")

    def write_now(self, thread_id: str, update: Update | None) -> None:
        """:meth:`write` in a transaction of its own (an autocommit connection the caller owns)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.write(thread_id, update)
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def stale(self, threads_sql: str) -> list[str]:
        """Threads whose watermark differs from their last seq, and indexed threads that are gone.

        Args:
            threads_sql: a ``SELECT id, last_seq`` of the backend's live threads.
        """
        return [thread_id for (thread_id,) in self.conn.execute(
            f"WITH live (id, last_seq) AS ({threads_sql}) "
            "SELECT live.id FROM live LEFT JOIN search_marks m ON m.thread_id = live.id "
            "WHERE m.seq IS NULL OR m.seq != live.last_seq "
            "UNION ALL SELECT m.thread_id FROM search_marks m WHERE m.thread_id NOT IN (SELECT id FROM live)")]

    # ------------------------------------------------------------------ marks

    def mark(self, thread_id: str) -> Mark | None:
        row = self.conn.execute("SELECT seq, sigs, cwd, forked_from, inherited FROM search_marks "
                                "WHERE thread_id = ?", (thread_id,)).fetchone()
        if row is None:
            return None
        sigs = [row[1][i : i + _SIG] for i in range(0, len(row[1]), _SIG)]
        return Mark(seq=row[0], sigs=sigs, cwd=row[2], forked_from=row[3], inherited=row[4])

    def watermarks(self) -> dict[str, int]:
        """Every indexed thread's watermark (for a backend whose threads live elsewhere)."""
        return dict(self.conn.execute("SELECT thread_id, seq FROM search_marks"))

    # ------------------------------------------------------------------ writes

    def write(self, thread_id: str, update: Update | None) -> None:
        """Apply one thread's projection (None: the thread is gone, drop its rows)."""
        first = 0 if update is None else update.drop_from
        rows = [(rowid,) for (rowid,) in self.conn.execute(
            "SELECT rowid FROM search_items WHERE thread_id = ? AND turn_index >= ?", (thread_id, first))]
        self.conn.executemany("DELETE FROM search_text WHERE rowid = ?", rows)
        self.conn.execute("DELETE FROM search_items WHERE thread_id = ? AND turn_index >= ?", (thread_id, first))
        if update is None:
            self.conn.execute("DELETE FROM search_marks WHERE thread_id = ?", (thread_id,))
            self._reset_forks_of(thread_id)
            return
        self._insert(thread_id, update.docs)
        mark = update.mark
        self.conn.execute(
            "INSERT OR REPLACE INTO search_marks (thread_id, seq, sigs, cwd, forked_from, inherited) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (thread_id, mark.seq, b"".join(mark.sigs), mark.cwd, mark.forked_from, mark.inherited))
        if update.sources_changed:
            self._reset_forks_of(thread_id)

    def _insert(self, thread_id: str, docs: Iterable[Doc]) -> None:
        for doc in docs:
            rowid = self.conn.execute(
                "INSERT INTO search_items (thread_id, turn_index, turn_id, item_id, kind, role, time_ms, repeat) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (thread_id, doc.turn_index, doc.turn_id, doc.item_id, doc.kind, doc.role, doc.time_ms,
                 int(doc.repeat))).lastrowid
            self.conn.execute(f"INSERT INTO search_text (rowid, {', '.join(FIELDS)}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                              (rowid, *doc.text))

    def _reset_forks_of(self, thread_id: str) -> None:
        """Forks that inherit (or could inherit) the thread's turns are projected again."""
        self.conn.execute("UPDATE search_marks SET seq = -1 WHERE forked_from = ?", (thread_id,))

    # ------------------------------------------------------------------ queries

    def query(self, query: SearchQuery) -> list[Hit]:
        """Up to ``query.limit + 1`` hits from ``query.offset``, best first."""
        match = match_expression(query)
        where: list[str] = ["search_text MATCH ?"]
        args: list[Any] = [match]
        cutoff = self._cutoff(match, query)
        if cutoff is not None:
            where.append("search_text.rowid >= ?")
            args.append(cutoff)
        if query.cwd is not None:
            where.append("m.cwd = ?")
            args.append(query.cwd)
        if query.since_ms is not None:
            where.append("i.time_ms >= ?")
            args.append(query.since_ms)
        weights = ", ".join(map(str, WEIGHTS))
        joins = ("FROM search_text JOIN search_items i ON i.rowid = search_text.rowid "
                 "JOIN search_marks m ON m.thread_id = i.thread_id")
        order = "score, time_ms DESC, thread_id, turn_index"
        if query.threads:
            return self._best_per_thread(query, match, joins, where, args, weights, order)
        select = (
            f"SELECT i.thread_id AS thread_id, i.turn_index AS turn_index, i.turn_id, i.item_id, i.kind, i.role, "
            f"i.time_ms AS time_ms, i.repeat, m.cwd, "
            f"bm25(search_text, {weights}) AS score, "
            f"snippet(search_text, -1, char(2), char(3), '…', {_SNIPPET_TOKENS}) AS snip"
        )
        sql = f"{select} {joins} WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ? OFFSET ?"
        rows = self.conn.execute(sql, (*args, query.limit + 1, query.offset)).fetchall()
        forks = self._forks({row[0] for row in rows})
        return [_hit(row, forks.get(row[0], [])) for row in rows]

    def _cutoff(self, match: str, query: SearchQuery) -> int | None:
        """The lowest rowid a broad query ranks (None: it ranks every match).

        Ranking costs each match a ``bm25`` (microseconds), so a query matching most of a large
        index (a short prefix) would take far longer than a search should. Such a query, when
        nothing else narrows it (no cwd, no since) and its page lies within the first
        :data:`CANDIDATES`, ranks the newest :data:`CANDIDATES` matching items (the highest
        rowids: the most recently indexed); finding them reads the doclists only.
        """
        if query.cwd is not None or query.since_ms is not None or query.offset + query.limit >= CANDIDATES // 2:
            return None
        row = self.conn.execute("SELECT rowid FROM search_text WHERE search_text MATCH ? ORDER BY rowid DESC "
                                "LIMIT 1 OFFSET ?", (match, CANDIDATES - 1)).fetchone()
        return None if row is None else int(row[0])

    def _best_per_thread(self, query: SearchQuery, match: str, joins: str, where: list[str], args: list[Any],
                         weights: str, order: str) -> list[Hit]:
        """The best hit of each thread: ranked without snippets, then snippets for the page only."""
        ranked = (f"SELECT search_text.rowid AS rowid, i.thread_id AS thread_id, i.turn_index AS turn_index, "
                  f"i.time_ms AS time_ms, bm25(search_text, {weights}) AS score {joins} WHERE {' AND '.join(where)}")
        # FTS5's functions cannot feed a window: rank the materialized matches
        sql = (f"WITH found AS MATERIALIZED ({ranked}) SELECT rowid, score FROM (SELECT rowid, score, time_ms, "
               f"thread_id, turn_index, row_number() OVER (PARTITION BY thread_id ORDER BY {order}) AS n "
               f"FROM found) WHERE n = 1 ORDER BY {order} LIMIT ? OFFSET ?")
        best = self.conn.execute(sql, (*args, query.limit + 1, query.offset)).fetchall()
        if not best:
            return []
        scores = dict(best)
        wanted = ", ".join(str(int(rowid)) for rowid in scores)
        # One pass over the matches in the page's rowid range; ``+rowid`` keeps FTS5 from looking
        # each row up again (a lookup evaluates the whole MATCH), so snippets are made for the page only.
        details = self.conn.execute(
            f"SELECT search_text.rowid, i.thread_id, i.turn_index, i.turn_id, i.item_id, i.kind, i.role, i.time_ms, "
            f"i.repeat, m.cwd, snippet(search_text, -1, char(2), char(3), '…', {_SNIPPET_TOKENS}) {joins} "
            f"WHERE search_text MATCH ? AND search_text.rowid BETWEEN ? AND ? AND +search_text.rowid IN ({wanted})",
            (match, min(scores), max(scores))).fetchall()
        by_rowid = {row[0]: (*row[1:10], scores[row[0]], row[10]) for row in details}
        rows = [by_rowid[rowid] for rowid, _ in best if rowid in by_rowid]
        forks = self._forks({row[0] for row in rows})
        return [_hit(row, forks.get(row[0], [])) for row in rows]

    def _forks(self, thread_ids: set[str]) -> dict[str, list[tuple[str, int]]]:
        """``(fork id, turns it inherits)`` of every fork of the threads hit."""
        found: dict[str, list[tuple[str, int]]] = {}
        for thread_id in thread_ids:
            for fork, inherited in self.conn.execute(
                    "SELECT thread_id, inherited FROM search_marks WHERE forked_from = ? AND inherited > 0",
                    (thread_id,)):
                found.setdefault(thread_id, []).append((fork, inherited))
        return found


def _hit(row: Any, forks: list[tuple[str, int]]) -> Hit:
    thread_id, turn_index, turn_id, item_id, kind, role, time_ms, repeat, cwd, score, snip = row[:11]
    snippet, ranges = split_snippet(snip or "", *_MARKER)
    return Hit(thread_id=thread_id, turn_id=turn_id, item_id=item_id, kind=kind, role=role, time_ms=time_ms,
               score=-float(score), snippet=snippet, highlights=ranges, repeated_id=bool(repeat), cwd=cwd,
               turn_index=turn_index, inherited_by=sorted(fork for fork, count in forks if count > turn_index))
