"""What a thread is, in one pass: its thread object, counts and bytes by type.

:class:`Summarizer` consumes lines as they stream (a file through
:func:`rollout.iter_rollout`, or lines from a store), counts lines and bytes per
envelope and payload type, reduces them to the store's thread facts and feeds the
(upcast) lines to :class:`replay.HistoryBuilder`, so the summary and the turns come
from a single read. Memory stays bounded by the history itself, never by the raw lines.

The thread's metadata is the store's own ``ThreadInfo`` (Codex's v2 thread object), made
by the one function that makes it everywhere (:func:`store.state.thread_info`); a stored
thread's comes from the store. The result types are msgspec Structs: ``--json`` encodes
them as they are.

Must not import: rich.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec

from replay import HistoryBuilder
from store.clock import parse_ms
from store.state import Fact, facts, folded_state, thread_info
from store.thread import ThreadInfo

from .. import events as ev
from ..codec import encode_line
from ..compat import iter_upcast
from ..reader import Problem
from .parse_yield import ParseYield
from .tokens import TokenFigures

__all__ = ["HomeSummary", "LineTypeStat", "ProblemInfo", "Summarizer", "Summary", "TypeStat", "payload_type"]


class TypeStat(msgspec.Struct, kw_only=True, rename="camel"):
    """Lines and bytes (newline included) of one type."""

    type: str
    lines: int = 0
    bytes: int = 0


class LineTypeStat(TypeStat, kw_only=True):
    """An envelope type, with its payload types (``event_msg`` -> ``token_count`` ...)."""

    payloads: list[TypeStat] = []


class ProblemInfo(msgspec.Struct, kw_only=True, rename="camel"):
    """A :class:`rollout.Problem` without its raw bytes, plus the file it is in."""

    path: str | None
    line: int
    offset: int
    kind: str
    reason: str
    kept: bool = False

    @classmethod
    def of(cls, problem: Problem, path: str | None) -> ProblemInfo:
        return cls(
            path=path, line=problem.line, offset=problem.offset,
            kind=problem.kind, reason=problem.reason, kept=problem.kept,
        )

    def describe(self) -> str:
        where = f"{self.path}:{self.line}" if self.path else f"line {self.line}"
        return f"{where}: {self.kind}: {self.reason}"


class Summary(msgspec.Struct, kw_only=True, rename="camel"):
    """The ``rollout inspect`` summary of one thread.

    ``thread`` is Codex's v2 thread object (``ThreadInfo``; None for a file without a
    ``session_meta``, which Codex cannot read); the rest counts what the file holds:
    ``turns`` (how many), ``bytes`` (each line with its newline) and so on.
    ``sourceMissing`` is null unless the thread was read from a store ``rollout sync``
    keeps: then true when every file it came from is gone (the store keeps the thread).
    """

    thread: ThreadInfo | None = None
    path: str | None = None
    format: str = "envelope"
    lines: int = 0
    bytes: int = 0
    turns: int = 0
    turn_statuses: dict[str, int] = {}
    items: dict[str, int] = {}
    line_types: list[LineTypeStat] = []
    problems: dict[str, int] = {}
    parse_yield: ParseYield | None = None  # set by `inspect` (rollout.cli.parse_yield)
    tokens: TokenFigures | None = None  # set by `inspect` (rollout.cli.tokens)
    # set by `inspect` on a stored thread when the store has a sync state: every source file is gone
    source_missing: bool | None = None


class HomeSummary(msgspec.Struct, kw_only=True, rename="camel"):
    """The ``rollout inspect`` summary of a Codex home or a folder of rollouts."""

    path: str
    codex_home: bool
    active: int
    archived: int
    compressed: int
    bytes: int
    oldest: str | None = None
    newest: str | None = None
    names: int = 0


def payload_type(line: Any) -> str | None:
    """The inner type of a ``response_item``/``event_msg`` line (None for other lines)."""
    if isinstance(line, (ev.ResponseItemLine, ev.EventMsgLine)):
        return line.payload.type or None
    return None


class _Stat:
    __slots__ = ("bytes", "lines", "payloads")

    def __init__(self) -> None:
        self.lines = 0
        self.bytes = 0
        self.payloads: dict[str, list[int]] = {}


class Summarizer:
    """Streaming summary of a thread's lines.

    Args:
        path: the file the lines come from, if any.
        policy: the replay policy for turns (``"extended"`` or ``"limited"``).
    """

    def __init__(self, *, path: str | None = None, policy: str = "extended") -> None:
        self.path = path
        self.builder = HistoryBuilder(policy)  # type: ignore[arg-type]
        self._stats: dict[str, _Stat] = {}
        self._meta: ev.SessionMetaLine | None = None
        self._facts: list[Fact] = []
        self._last_ts: str | None = None
        self._paginated = False
        self._legacy = False
        self.lines = 0
        self.bytes = 0

    def feed(self, lines: Iterable[ev.Line]) -> Summarizer:
        """Count ``lines`` and replay them; returns self."""
        feed = self.builder.feed
        for line in iter_upcast(self._counted(lines)):
            feed(line)
        return self

    def _counted(self, lines: Iterable[ev.Line]) -> Iterator[ev.Line]:
        for line in lines:
            self._count(line)
            yield line

    def _count(self, line: ev.Line) -> None:
        size = len(encode_line(line)) + 1
        self.lines += 1
        self.bytes += size
        stat = self._stats.get(line.type)
        if stat is None:
            stat = self._stats[line.type] = _Stat()
        stat.lines += 1
        stat.bytes += size
        inner = payload_type(line)
        if inner is not None:
            pair = stat.payloads.setdefault(inner, [0, 0])
            pair[0] += 1
            pair[1] += size
        timestamp = line.timestamp
        if timestamp is not None:
            self._last_ts = timestamp
        elif self.lines == 1 and not isinstance(line, ev.UnknownLine):
            self._legacy = True
        if getattr(line, "ordinal", None) is not None:
            self._paginated = True
        if isinstance(line, ev.SessionMetaLine):
            self._meta = self._meta or line
            self._paginated = self._paginated or line.payload.history_mode == "paginated"
        self._keep_facts(line)

    def _keep_facts(self, line: ev.Line) -> None:
        """The thread facts of one line, offset by its position (only what can still matter)."""
        for _, kind, value in facts([line]):
            if kind == "preview" and any(k == "preview" for _, k, _ in self._facts):
                continue
            if kind == "settings":
                self._facts = [fact for fact in self._facts if fact[1] != "settings"]
            self._facts.append((self.lines - 1, kind, value))

    def thread(self, mtime_ms: int | None = None) -> ThreadInfo | None:
        """The thread object of everything fed so far (None without a ``session_meta``).

        Args:
            mtime_ms: when the file was last written (Codex's ``updatedAt``); None: the
                newest line's time.
        """
        if self._meta is None:
            return None
        state = folded_state(self._meta, self._facts, self.lines, mtime_ms, newest_ms=parse_ms(self._last_ts))
        return thread_info(state)

    def turns(self, *, items_view: str = "full") -> list[Any]:
        """The rebuilt turns (a thread that is not running: open turns are ``interrupted``)."""
        return self.builder.snapshot(running=False, items_view=items_view)  # type: ignore[arg-type]

    def summary(self, problems: Iterable[ProblemInfo] = (), *, turns: list[Any] | None = None,
                thread: ThreadInfo | None = None, mtime_ms: int | None = None) -> Summary:
        """The summary of everything fed so far.

        Args:
            thread: the thread object when a store already has it; else it is made from
                the lines (and ``mtime_ms``, see :meth:`thread`).
        """
        turns = self.turns() if turns is None else turns
        return Summary(
            thread=thread if thread is not None else self.thread(mtime_ms),
            path=self.path,
            format=self._format(),
            lines=self.lines,
            bytes=self.bytes,
            turns=len(turns),
            turn_statuses=dict(Counter(turn.status for turn in turns)),
            items=_item_counts(turns),
            line_types=self._line_types(),
            problems=dict(Counter(problem.kind for problem in problems)),
        )

    def _format(self) -> str:
        if self._legacy:
            return "pre-envelope (2025)"
        return "paginated" if self._paginated else "envelope"

    def _line_types(self) -> list[LineTypeStat]:
        out = []
        for name, stat in self._stats.items():
            payloads = [TypeStat(type=k, lines=v[0], bytes=v[1]) for k, v in stat.payloads.items()]
            payloads.sort(key=lambda s: (-s.bytes, s.type))
            out.append(LineTypeStat(type=name, lines=stat.lines, bytes=stat.bytes, payloads=payloads))
        out.sort(key=lambda s: (-s.bytes, s.type))
        return out


def _item_counts(turns: list[Any]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for turn in turns:
        for item in turn.items:
            counts[item.__struct_config__.tag] += 1
    return dict(counts.most_common())
