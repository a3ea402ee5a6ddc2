"""The resume context kept up to date line by line: :class:`ContextBuilder` (spec 9).

``ContextBuilder`` gives :func:`replay.resume_context` of the lines fed so far
without going over them again. It keeps two things:

* the lines' scan marks (:func:`replay.resume.mark`: a few per turn), so the
  reverse scan -- base, settings, baseline, rollbacks -- is rerun over marks
  only, and the ``turn_context`` payloads those marks point at;
* the forward replay from the first line (:class:`replay.resume.ForwardReplay`):
  applying a checkpoint replaces the history, so it equals resume_context's
  replay from the base.

The one thing that cannot be known when a line arrives is whether a later
rollback discards the turn holding a compaction (then that compaction must not
have been applied). The builder replays with a fixed set of discarded
compactions; if the scan later disagrees about one at or after the base, the
builder is *stale* and must be rebuilt from the lines (:meth:`ContextBuilder.of`).
That takes a rollback across a compaction, which is rare.

:meth:`ContextBuilder.dump` / :meth:`ContextBuilder.load` persist the state as
msgpack, so a store can snapshot it like a ``HistoryBuilder``. With
``by_reference=True`` the dump names the lines whose payloads the history holds
instead of copying them (a few bytes per item instead of a second copy of the
thread); :meth:`ContextBuilder.load` then asks the caller for those payloads.

Must not import: store, rollout.cli, rich, asyncio, anything doing I/O.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import msgspec

from rollout import events as ev
from rollout.codec import decode_payload, pack
from rollout.errors import CorruptLog

from .resume import COMPACTED, CONTEXT, ForwardReplay, Mark, ResumeContext, ReverseScan, mark

__all__ = ["ContextBuilder", "Payloads"]


#: ``payloads(indices)``: the payloads of the lines at these indices (ascending), in that order
Payloads = Callable[[list[int]], Sequence[Any]]


class _State(msgspec.Struct, array_like=True):
    """What :meth:`ContextBuilder.dump` writes (``history`` is the items, encoded separately).

    ``refs`` (a dump by reference) has one entry per history item: 0 for an item kept in
    ``history`` (a compaction's), else how many lines after the previous referenced line
    (or after line -1) the line whose payload it is comes. Dumps without it hold every item.
    """

    seen: int
    marks: list[tuple[int, int, Any]]
    contexts: list[tuple[int, ev.TurnContext]]
    compactions: list[int]
    skip: list[int]
    legacy: bool
    token_usage: Any
    history: msgspec.Raw
    refs: list[int] | None = None


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, ev.UnknownResponseItem):
        return obj.data
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


_ENCODER = msgspec.msgpack.Encoder(enc_hook=_enc_hook)
_STATE = msgspec.msgpack.Decoder(_State)
_ITEMS = msgspec.msgpack.Decoder(list[ev.ResponseItem])
_ANY = msgspec.msgpack.Decoder()
_RESPONSE_ITEMS = (*typing.get_args(ev.ResponseItem), ev.UnknownResponseItem)


class ContextBuilder:
    """``resume_context`` of the lines fed so far, updated one line at a time.

    Args:
        skip: line indices of compactions to ignore (those rollbacks discard).
    """

    def __init__(self, skip: Iterable[int] = ()) -> None:
        self._seen = 0
        self._marks: list[Mark] = []
        self._contexts: dict[int, ev.TurnContext] = {}
        self._compactions: list[int] = []
        self._replay = ForwardReplay(set(skip))

    @classmethod
    def of(cls, lines: Iterable[object]) -> ContextBuilder:
        """A builder fed with ``lines``, ignoring the compactions their rollbacks discard."""
        lines = list(lines)
        scan = ReverseScan()
        for index in range(len(lines) - 1, -1, -1):
            found = mark(index, lines[index])
            if found is not None:
                scan.see(found)
        scan.finalize()
        builder = cls(scan.discarded)
        builder.feed_many(lines)
        return builder

    @property
    def lines_seen(self) -> int:
        """How many lines were fed (the next line's index)."""
        return self._seen

    def feed(self, line: object) -> None:
        """Take the next line in file order."""
        index = self._seen
        self._seen += 1
        found = mark(index, line)
        if found is not None:
            self._marks.append(found)
            if found[1] == CONTEXT:
                self._contexts[index] = line.payload  # type: ignore[attr-defined]
            elif found[1] == COMPACTED:
                self._compactions.append(index)
        self._replay.apply(index, line)

    def feed_many(self, lines: Iterable[object]) -> None:
        """Feed each line in order."""
        for line in lines:
            self.feed(line)

    def context(self) -> ResumeContext | None:
        """``resume_context`` of the lines fed so far.

        Returns:
            The context, or None when the builder is stale: a rollback discarded
            a compaction it applied (or the other way round); rebuild it with
            :meth:`of`.
        """
        scan = ReverseScan().run(reversed(self._marks))
        if self._stale(scan):
            return None
        replay = self._replay
        return ResumeContext(
            items=list(replay.history),
            turn_context=None if scan.settings is None else self._contexts[scan.settings],
            token_usage=replay.token_usage,
            base_line=scan.base,
            reinject_context=replay.legacy or scan.baseline is None,
        )

    def _stale(self, scan: ReverseScan) -> bool:
        """Whether the scan and the replay disagree about a compaction at or after the base.

        The scan saw every compaction from the base on (it stops only after the
        base's segment), and older ones are overwritten by the base anyway.
        """
        oldest = scan.base or 0
        skip = self._replay.skip
        for index in reversed(self._compactions):
            if index < oldest:
                break
            if (index in scan.discarded) != (index in skip):
                return True
        return False

    def dump(self, *, by_reference: bool = False) -> bytes:
        """Serialize the builder's state (msgpack) so feeding can resume after :meth:`load`.

        Args:
            by_reference: name the lines whose payloads the history holds instead of
                copying them; :meth:`load` then needs ``payloads``.

        Raises:
            EncodeError: a line fed held an integer beyond 64 bits (no snapshot possible).
        """
        replay = self._replay
        items, refs = replay.history, None
        if by_reference:
            items, refs = _references(replay.history, replay.origins)
        state = _State(
            seen=self._seen,
            marks=self._marks,
            contexts=list(self._contexts.items()),
            compactions=self._compactions,
            skip=sorted(replay.skip),
            legacy=replay.legacy,
            token_usage=replay.token_usage,
            history=msgspec.Raw(pack(_ENCODER, items)),
            refs=refs,
        )
        return pack(_ENCODER, state)

    @staticmethod
    def references(data: bytes) -> list[int]:
        """The indices (ascending) of the fed lines whose payloads :meth:`load` of ``data`` asks for.

        Empty for a dump that holds its items. Raises CorruptLog: ``data`` is not a dumped state.
        """
        try:
            refs = _STATE.decode(data).refs
        except (msgspec.DecodeError, RecursionError) as exc:
            raise CorruptLog(f"not a resume context builder state: {exc}") from exc
        return [] if refs is None else [origin for origin in _origins(refs) if origin >= 0]

    @classmethod
    def load(cls, data: bytes, payloads: Payloads | None = None) -> ContextBuilder:
        """Rebuild a builder from :meth:`dump` output.

        Args:
            data: what :meth:`dump` returned.
            payloads: for a dump by reference, gives the payloads of the fed lines at
                the indices asked (0-based, ascending), in that order.

        Raises:
            CorruptLog: ``data`` is not a dumped builder state, or it is a dump by
                reference and ``payloads`` is missing or gives something else than
                the response items asked for.
        """
        try:
            state = _STATE.decode(data)
            inline = _items(state.history)
        except (msgspec.DecodeError, RecursionError) as exc:
            raise CorruptLog(f"not a resume context builder state: {exc}") from exc
        history, origins = inline, [-1] * len(inline)
        if state.refs is not None:
            history, origins = _resolve(state.refs, inline, state.seen, payloads)
        builder = cls(state.skip)
        builder._seen = state.seen
        builder._marks = state.marks
        builder._contexts = dict(state.contexts)
        builder._compactions = state.compactions
        replay = builder._replay
        replay.history, replay.origins = history, origins
        replay.legacy, replay.token_usage = state.legacy, state.token_usage
        return builder


def _references(history: list[Any], origins: list[int]) -> tuple[list[Any], list[int]]:
    """The items a dump by reference keeps, and its ``refs`` (see :class:`_State`)."""
    inline: list[Any] = []
    refs: list[int] = []
    last = -1
    for item, origin in zip(history, origins, strict=True):
        if origin < 0:
            inline.append(item)
            refs.append(0)
        else:
            refs.append(origin - last)
            last = origin
    return inline, refs


def _resolve(refs: list[int], inline: list[Any], seen: int, payloads: Payloads | None) -> tuple[list[Any], list[int]]:
    """The history and origins a dump by reference names, its lines' payloads asked of ``payloads``."""
    origins = _origins(refs)
    wanted = [origin for origin in origins if origin >= 0]
    if wanted and (payloads is None or wanted[-1] >= seen):
        raise CorruptLog("resume context state names lines it cannot have (or no payloads were given)")
    if sum(1 for origin in origins if origin < 0) != len(inline):
        raise CorruptLog("resume context state: its kept items do not match its references")
    found = list(payloads(wanted)) if wanted and payloads is not None else []
    if len(found) != len(wanted) or not all(isinstance(item, _RESPONSE_ITEMS) for item in found):
        raise CorruptLog("resume context state names lines that are not response items")
    given, kept = iter(found), iter(inline)
    return [next(given) if origin >= 0 else next(kept) for origin in origins], origins


def _origins(refs: list[int]) -> list[int]:
    """Per history item of a dump by reference: the line it is the payload of (-1: kept in the dump)."""
    origins: list[int] = []
    last = -1
    for step in refs:
        if step < 0:
            raise CorruptLog("not a resume context builder state: a negative line reference")
        if step:
            last += step
        origins.append(last if step else -1)
    return origins


def _items(data: msgspec.Raw) -> list[Any]:
    """Decode dumped items; unknown ones come back as ``UnknownResponseItem`` (the slow path)."""
    try:
        return _ITEMS.decode(data)
    except msgspec.ValidationError:
        return [decode_payload("response_item", item) for item in _ANY.decode(data)]
