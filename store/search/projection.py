"""Search as a projection of the log: the index catches up from per-thread watermarks.

Design. The index is derived data: for each thread, the documents of its rebuilt turns
(:mod:`store.search.extract`) and a watermark, the ``last_seq`` they were built at. A
search first asks the backend which threads' watermarks differ from their ``last_seq``
(new, appended, rolled back, deleted, or written by another process), projects those
again, then queries. So the index can never miss a write, whoever made it, and never
depends on how a backend writes its log: the writer's hot path does nothing for search.
A store that should keep its index warm (``rollout sync``, a server) calls
:meth:`Searchable.keep_search_index`: every committed write then schedules the
projection of its thread right after the commit (the change feed), so searches find
little to catch up. Projection runs on the event loop's side of the store: it reads the
thread through the ordinary ``read`` (cached and incremental where the backend caches
replay) and writes one small transaction per thread.

Rewriting is per turn: each turn's fingerprint is kept with the watermark, and only the
turns from the first changed one are dropped and indexed again. Rolled-back turns are
not in ``read``'s turns, so their items leave the index (filtered, never shown). A fork
whose first turns equal its source's (a copy) keeps no rows for them: hits there are
reported once, on the source, naming the forks that hold them (``Hit.inherited_by``).

The backend supplies four primitives (``_index_stale``, ``_index_mark``,
``_index_write``, ``_index_query``); those of SQLite, the Codex home's sidecar and memory
are :class:`store.search.fts5.Fts5Index`; PostgreSQL's are in :mod:`store.postgres.search`
(``docs/search.md`` compares them). Two optional ones skip the scan when nothing was
written: ``_index_current`` and ``_index_seal`` (a store-wide write generation the index
remembers: SQLite's change log, :mod:`store.sqlite.search`; others always scan).

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from rollout.errors import InvalidInput, RolloutError, ThreadNotFound

from ..backend import Backend
from ..feed import Change
from ..segmented import SegmentReads
from .extract import documents, signatures
from .hits import Mark, SearchPage, Update
from .query import SearchQuery, parse
from .schedule import project_all

__all__ = ["Searchable"]

log = logging.getLogger("store.search")

_WORKERS = 8  # threads projected at once (catch-up, keep_search_index)


class Searchable(SegmentReads):
    """Full-text search over a store's threads (mixed into :class:`store.core.Store`)."""

    _dirty: set[str]  # threads written since their projection was scheduled (set up by the core)
    _projecting: asyncio.Task[None] | None

    def subscribe(self, callback: Callable[[Change], None]) -> Callable[[], None]:
        raise NotImplementedError  # the core's

    def _check(self) -> None:
        raise NotImplementedError  # the core's

    @property
    def searchable(self) -> bool:
        """Whether the backend keeps a full-text index (every backend of this package does; one
        that does not answers :meth:`search` with ``StoreError``)."""
        return type(self)._index_query is not Backend._index_query

    async def search(self, query: str, *, cwd: str | None = None, since: datetime | int | None = None,
                     role: str | None = None, limit: int = 20, cursor: str | None = None,
                     threads: bool = False) -> SearchPage:
        """Full-text search over user and agent messages, reasoning, commands and output, tool calls
        and results, and changed file paths (see :mod:`store.search.query` for the syntax).

        Threads written since their last projection are indexed first, so the answer is never stale.

        Args:
            query: words (all required), ``"phrases"``, ``prefix*``, ``-excluded``.
            cwd: only threads started in this directory.
            since: only items from then on (a datetime, or unix ms).
            role: only ``user``, ``assistant`` or ``tool`` text.
            limit: hits per page (1..1000).
            cursor: the ``next_cursor`` of the previous page.
            threads: the best hit of each thread only (one entry per thread).

        Returns:
            One page of hits, best first.

        Raises:
            InvalidInput: nothing to search for, a bad option or cursor.
            StoreError: the backend keeps no search index.
        """
        self._check()
        since_ms = int(since.timestamp() * 1000) if isinstance(since, datetime) else since
        parsed = parse(query, cwd=cwd, since_ms=since_ms, role=role, limit=limit, offset=_offset(cursor),
                       threads=threads)
        await self.catch_up_search()
        return await self._run_query(parsed)

    async def _run_query(self, query: SearchQuery) -> SearchPage:
        found = await self._index_query(query)
        more = len(found) > query.limit
        return SearchPage(hits=found[: query.limit], next_cursor=str(query.offset + query.limit) if more else None)

    async def catch_up_search(self, *, width: int = _WORKERS) -> int:
        """Project every thread written since its watermark (and drop deleted ones); returns how many.

        ``width`` threads are projected at once (1: gently, beside other work, as a server's
        background catch-up does).

        When the backend knows nothing was written since the index was last sealed complete
        (:meth:`_index_current`), there is nothing to scan; after a scan and its projections the
        index is sealed again (the backend checks, holding off every writer, that nothing is stale).
        """
        self._check()
        if await self._index_current():
            return 0
        await self._finish_projection()  # what the background projection has started, it finishes
        stale = await self._index_stale()
        self._dirty.difference_update(stale)  # projected here
        await project_all(stale, self._project, width=max(1, width))
        await self._index_seal()
        return len(stale)

    def keep_search_index(self) -> Callable[[], None]:
        """Project each written thread right after its write commits (not only when searching).

        Returns:
            A function that stops it.
        """
        return self.subscribe(self._written)

    def _written(self, change: Change) -> None:
        self._dirty.add(change.thread_id)
        if change.source_id:
            self._dirty.add(change.source_id)
        if self._projecting is None or self._projecting.done():
            self._projecting = asyncio.get_running_loop().create_task(self._project_dirty(), name="search-projection")

    async def _project_dirty(self) -> None:
        """Project the written threads, a few at a time, batch after batch (a thread written again
        while its batch runs is in the next one, so a thread is never projected twice at once)."""
        while self._dirty:
            batch, self._dirty = self._dirty, set()
            try:
                await project_all(sorted(batch), self._project, width=_WORKERS)
            except RolloutError as exc:  # the next search catches up from the watermark anyway
                log.warning("search index: not every written thread was projected yet: %s", exc)
                return

    async def _finish_projection(self) -> None:
        """Let a scheduled projection finish (called when the store closes)."""
        task = self._projecting
        if task is not None and not task.done():
            with contextlib.suppress(RolloutError):
                await task

    async def _project(self, thread_id: str, before_source: Callable[[str], Awaitable[None]] | None = None) -> None:
        """Bring one thread's rows in step with its log (``before_source``: awaited before a fork reads
        its source's watermark, see :mod:`store.search.schedule`)."""
        mark = await self._index_mark(thread_id)
        try:
            thread = await self.read(thread_id)  # type: ignore[attr-defined]
        except ThreadNotFound:
            if mark is not None:
                await self._index_write(thread_id, None)
            return
        sigs = signatures(thread.turns)
        source = thread.forked_from_id
        if source and before_source is not None:
            await before_source(source)
        source_mark = await self._index_mark(source) if source else None
        inherited = _common(sigs, source_mark.sigs) if source_mark is not None else 0
        old = mark.sigs if mark is not None and mark.seq >= 0 else []
        first = _common(sigs, old)
        if mark is not None and mark.inherited != inherited:
            first = min(first, mark.inherited, inherited)
        docs = await self._compute(documents, thread.turns, first, inherited)
        new_mark = Mark(seq=thread.last_seq, sigs=sigs, cwd=thread.cwd or None, forked_from=source, inherited=inherited)
        changed_below = first < len(old) or not old
        await self._index_write(thread_id, Update(mark=new_mark, drop_from=first, docs=docs,
                                                  sources_changed=changed_below))


def _common(left: list[bytes], right: list[bytes]) -> int:
    """How many leading fingerprints two threads share."""
    count = 0
    for mine, theirs in zip(left, right):
        if mine != theirs:
            break
        count += 1
    return count


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit():
        raise InvalidInput(f"not a search cursor: {cursor!r}")
    return int(cursor)
