"""What a thread is, in one pass: identity, lineage, settings, counts and bytes by type.

:class:`Summarizer` consumes lines as they stream (a file through
:func:`rollout.iter_rollout`, or lines from a store), counts lines and bytes per
envelope and payload type, keeps the canonical ``session_meta`` and the newest
settings, and feeds the (upcast) lines to :class:`replay.HistoryBuilder`, so the
summary and the turns come from a single read. Memory stays bounded by the
history itself, never by the raw lines.

The result types are msgspec Structs: ``--json`` encodes them as they are.

Must not import: rich, store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec

from replay import HistoryBuilder

from .. import events as ev
from ..codec import encode_line
from ..compat import iter_upcast, source_kind
from ..reader import Problem
from .parse_yield import ParseYield
from .tokens import TokenFigures

__all__ = ["GitInfo", "HomeSummary", "LineTypeStat", "ProblemInfo", "Summarizer", "Summary", "TypeStat", "payload_type"]


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


class GitInfo(msgspec.Struct, kw_only=True, rename="camel"):
    """Git state from the thread's newest ``session_meta`` that has one (v2 ``gitInfo`` names)."""

    sha: str | None = None
    branch: str | None = None
    origin_url: str | None = None


class Summary(msgspec.Struct, kw_only=True, rename="camel"):
    """The ``rollout inspect`` summary of one thread.

    JSON keys are camelCase like the store's ``ThreadInfo``; ``createdAt`` and
    ``updatedAt`` are the file's ISO timestamps (``session_meta.timestamp`` and
    the last line's), ``bytes`` count each line with its newline.
    """

    id: str | None
    path: str | None = None
    name: str | None = None
    forked_from_id: str | None = None
    parent_thread_id: str | None = None
    source: str | None = None
    agent_nickname: str | None = None
    agent_role: str | None = None
    cwd: str | None = None
    model: str | None = None
    effort: str | None = None
    model_provider: str | None = None
    originator: str | None = None
    cli_version: str | None = None
    format: str = "envelope"
    created_at: str | None = None
    updated_at: str | None = None
    git_info: GitInfo | None = None
    lines: int = 0
    bytes: int = 0
    turns: int = 0
    turn_statuses: dict[str, int] = {}
    items: dict[str, int] = {}
    line_types: list[LineTypeStat] = []
    problems: dict[str, int] = {}
    parse_yield: ParseYield | None = None  # set by `inspect` (rollout.cli.parse_yield)
    tokens: TokenFigures | None = None  # set by `inspect` (rollout.cli.tokens)


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
        self._meta: ev.SessionMeta | None = None
        self._git: ev.GitInfo | None = None
        self._context: ev.TurnContext | None = None
        self._first_ts: str | None = None
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
            self._first_ts = self._first_ts or timestamp
            self._last_ts = timestamp
        elif self.lines == 1 and not isinstance(line, ev.UnknownLine):
            self._legacy = True
        if getattr(line, "ordinal", None) is not None:
            self._paginated = True
        if isinstance(line, ev.SessionMetaLine):
            self._see_meta(line.payload)
        elif isinstance(line, ev.TurnContextLine):
            self._context = line.payload

    def _see_meta(self, meta: ev.SessionMeta) -> None:
        if self._meta is None:
            self._meta = meta
        elif meta.id != self._meta.id:
            return  # a forked copy of the source's meta: not this thread's identity
        if meta.git is not None:
            self._git = meta.git
        if meta.history_mode == "paginated":
            self._paginated = True

    def turns(self, *, items_view: str = "full") -> list[Any]:
        """The rebuilt turns (a thread that is not running: open turns are ``interrupted``)."""
        return self.builder.snapshot(running=False, items_view=items_view)  # type: ignore[arg-type]

    def summary(self, problems: Iterable[ProblemInfo] = (), *, turns: list[Any] | None = None) -> Summary:
        """The summary of everything fed so far."""
        turns = self.turns() if turns is None else turns
        meta = self._meta or ev.SessionMeta()
        context = self._context or ev.TurnContext()
        return Summary(
            id=meta.id or None,
            path=self.path,
            forked_from_id=meta.forked_from_id,
            parent_thread_id=meta.parent_thread_id or _spawn_parent(meta.source),
            source=source_kind(meta.source) if self._meta else None,
            agent_nickname=meta.agent_nickname,
            agent_role=meta.agent_role,
            cwd=context.cwd or meta.cwd,
            model=context.model,
            effort=context.effort,
            model_provider=meta.model_provider,
            originator=meta.originator,
            cli_version=meta.cli_version,
            format=self._format(),
            created_at=meta.timestamp or self._first_ts,
            updated_at=self._last_ts,
            git_info=_git_info(self._git),
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


def _git_info(git: ev.GitInfo | None) -> GitInfo | None:
    if git is None:
        return None
    return GitInfo(sha=git.commit_hash, branch=git.branch, origin_url=git.repository_url)


def _spawn_parent(source: Any) -> str | None:
    """The parent of a spawned sub-agent (``{"subagent": {"thread_spawn": {...}}}``)."""
    try:
        parent = source["subagent"]["thread_spawn"]["parent_thread_id"]
    except (TypeError, KeyError):
        return None
    return parent if isinstance(parent, str) else None


def _item_counts(turns: list[Any]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for turn in turns:
        for item in turn.items:
            counts[item.__struct_config__.tag] += 1
    return dict(counts.most_common())
