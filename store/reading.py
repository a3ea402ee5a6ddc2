"""The engine API's reads: info, lines, turns (whole or a range), resume, list.

:class:`store.core.Store` inherits them. Each checks its arguments, asks the backend's
primitives and derived reads (:mod:`store.backend`), and presents thread metadata through
:func:`store.state.thread_info`, the one place it is derived.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from rollout import events as ev
from rollout.errors import InvalidInput

from .clock import thread_key
from .line import check_items_view, check_policy, check_seq
from .listing import encode_cursor, list_query, sort_ms
from .segmented import SegmentReads
from .state import thread_info
from .thread import Page, ResumedThread, Thread, ThreadInfo, TurnSlice
from .turns import Window

__all__ = ["Reading"]


class Reading(SegmentReads):
    """The read methods of :class:`store.core.Store`."""

    def _check(self) -> None:
        raise NotImplementedError  # provided by store.core.Store

    async def info(self, thread_id: str) -> ThreadInfo:
        """The thread's metadata without turns. Raises ThreadNotFound."""
        self._check()
        return thread_info(await self._state(thread_key(thread_id)))

    async def read_lines(
        self, thread_id: str, *, after_seq: int | None = None, upto_seq: int | None = None
    ) -> list[ev.Line]:
        """Lines with ``after_seq < seq <= upto_seq`` (defaults: from the start, to the end).

        Raises:
            ThreadNotFound, InvalidInput (negative bounds), CorruptLog.
        """
        self._check()
        key = thread_key(thread_id)
        start = check_seq("after_seq", after_seq) or 0
        return await self._lines(key, start, check_seq("upto_seq", upto_seq))

    async def iter_lines(
        self,
        thread_id: str,
        *,
        after_seq: int | None = None,
        upto_seq: int | None = None,
        page_size: int = 1024,
    ) -> AsyncIterator[ev.Line]:
        """Like :meth:`read_lines`, fetched ``page_size`` lines at a time."""
        self._check()
        key = thread_key(thread_id)
        start = check_seq("after_seq", after_seq) or 0
        last = (await self._state(key)).last_seq
        bound = check_seq("upto_seq", upto_seq)
        end = last if bound is None else min(last, bound)
        while start < end:
            stop = min(start + max(page_size, 1), end)
            for line in await self._lines(key, start, stop):
                yield line
            start = stop

    async def read(self, thread_id: str, *, items_view: str = "full", policy: str = "extended") -> Thread:
        """The thread with its turns (``replay.build_turns`` of its lines, not running).

        Args:
            items_view: ``"full"``, ``"summary"`` or ``"notLoaded"``.
            policy: ``"extended"`` (every item any Codex wrote) or ``"limited"`` (exactly
                Codex 0.171.0's ``thread/read``; see ``replay.policy``).

        Raises:
            ThreadNotFound, InvalidInput (bad ``items_view`` or ``policy``), CorruptLog.
        """
        self._check()
        view, policy = check_items_view(items_view), check_policy(policy)
        state, turns = await self._history_turns(thread_key(thread_id), view, policy)
        return thread_info(state, turns=turns)

    async def turns(
        self,
        thread_id: str,
        *,
        start: int = 0,
        stop: int | None = None,
        anchor: str | None = None,
        items_view: str = "full",
        policy: str = "extended",
    ) -> TurnSlice:
        """A range of the thread's turns, as :meth:`read` rebuilds them, without the others.

        A backend that keeps a turn index (:mod:`store.turns`) reads only the turns asked
        for once the index is written (by the first read after a write), so a page of a
        long thread costs O(page).

        Args:
            start, stop: positions among the turns, oldest first from 0, as a Python
                slice (negative ones count from the end); with ``anchor``, offsets from
                the position of the turn with that id (``start=-3, stop=0``: the three
                turns before it), clamped to the thread.
            anchor: a turn id (its first turn when several share it).
            items_view, policy: as in :meth:`read`.

        Returns:
            The thread's info, the turns, the position of the first and the turn count.

        Raises:
            ThreadNotFound, InvalidInput (bad arguments, an anchor naming no turn), CorruptLog.
        """
        self._check()
        view, policy = check_items_view(items_view), check_policy(policy)
        for name, value in (("start", start), ("stop", stop)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise InvalidInput(f"{name} must be an int, not {value!r}")
        if anchor is not None and not isinstance(anchor, str):
            raise InvalidInput(f"anchor must be a turn id, not {anchor!r}")
        state, first, total, turns = await self._history_turn_slice(
            thread_key(thread_id), Window(start, stop, anchor), view, policy)
        return TurnSlice(thread=thread_info(state), turns=turns, start=first, total=total)

    async def resume(self, thread_id: str) -> ResumedThread:
        """The thread with its turns and the model context to continue it (``replay.resume_context``).

        Raises:
            ThreadNotFound, ThreadArchived (unarchive it first, as Codex requires).
        """
        self._check()
        state, turns, context = await self._history_resumed(thread_key(thread_id))
        return ResumedThread(thread=thread_info(state, turns=turns), context=context)

    # ------------------------------------------------------------------ listing (last: it shadows ``list``)

    async def list(
        self,
        *,
        limit: int = 50,
        cursor: str | None = None,
        sort: str = "created_at",
        direction: str = "desc",
        archived: bool | None = False,
        source: str | list[str] | None = None,
        model_provider: str | list[str] | None = None,
        cwd: str | list[str] | None = None,
        search: str | None = None,
        ids: list[str] | None = None,
        exclude_ids: list[str] | None = None,
    ) -> Page:
        """One page of threads by ``sort`` (newest first, or oldest first with ``direction="asc"``),
        filtered as Codex's ``thread/list``.

        By default only active threads of interactive sources (``cli``, ``vscode``) and the
        default provider (``openai``) are listed, as Codex lists them; pass ``source=[]``
        and ``model_provider=[]`` for every thread (see :mod:`store.listing` for every
        filter). Entries are Codex's list entries: ``forked_from_id`` and ``thread_source``
        are None in them (:meth:`info` has them). Each page costs O(page), either way.

        Args:
            ids: only these threads (None: no such filter); ``exclude_ids``: not these.
            cursor: a ``next_cursor`` (same arguments), or a ``backwards_cursor`` with the
                opposite ``direction``.

        Raises:
            InvalidInput: bad limit, sort, direction, cursor, filter or thread id.
        """
        self._check()
        query = list_query(limit=limit, cursor=cursor, sort=sort, archived=archived, source=source,
                           model_provider=model_provider, cwd=cwd, search=search, ids=ids,
                           exclude_ids=exclude_ids, direction=direction)
        states = await self._page(query)
        page = states[: query.limit]
        more = len(states) > query.limit and bool(page)
        next_cursor = encode_cursor(query.sort, sort_ms(page[-1], query.sort), page[-1].id) if more else None
        back = encode_cursor(query.sort, sort_ms(page[0], query.sort), page[0].id, inclusive=True) if page else None
        return Page(data=[thread_info(state, listed=True) for state in page], next_cursor=next_cursor,
                    backwards_cursor=back)
