"""A thread as a person reads it: the model behind ``view`` and ``export --format markdown|html``.

:func:`build` replays the lines once, line by line, with
:class:`replay.HistoryBuilder` and keeps what the final turns alone would lose:

* **rolled-back turns**: a ``thread_rolled_back`` drops turns from the history;
  they are captured just before the rollback and shown, marked, where they were;
* **where each item came from**: the line that first showed it, so tool calls
  that only exist as ``response_item`` records (today's format, tools with no
  event of their own) are placed among the items in file order;
* **images** of tool outputs (``function_call_output``/``custom_tool_call_output``
  content, the legacy standalone image message) and of user messages;
* **fork lineage**: turns copied from a fork's source are marked inherited;
* **token figures**, per turn and for the thread (:mod:`rollout.cli.tokens`).

Each entry has a stable anchor, :func:`item_anchor` (``item-<id>``), so a search
hit can link to it; an id met again (Codex restarts ``item-N`` after a rollback)
gets its turn in the anchor too. Surviving turns claim anchors first.

Must not import: rich, store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from msgspec.structs import replace

from replay import HistoryBuilder, Turn
from replay.items import UserMessage

from .. import events as ev
from ..compat import upcast
from . import images
from .parse_yield import MESSAGE_ITEMS, ParseYield, YieldCounter
from .records import RecordLog, ToolCall
from .summary import Summarizer, Summary
from .tokens import TokenCounter, TokenFigures

__all__ = ["Entry", "Transcript", "TurnView", "build", "content_images", "item_anchor", "turn_anchor"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]")
_LATE = 1 << 62  # items whose first line is unknown (a late upsert into a finished turn) go last


def _safe(text: str) -> str:
    return _UNSAFE.sub(lambda m: f"_{ord(m.group()):x}", text)


def item_anchor(item_id: str, turn_id: str | None = None) -> str:
    """The HTML anchor of an item (``item-<id>``; ``item-<turn>-<id>`` for a repeated id)."""
    return f"item-{_safe(turn_id)}-{_safe(item_id)}" if turn_id else f"item-{_safe(item_id)}"


def turn_anchor(turn_id: str) -> str:
    """The HTML anchor of a turn (``turn-<id>``)."""
    return f"turn-{_safe(turn_id)}"


@dataclass
class Entry:
    """One thing in a turn: a rebuilt item, or a tool call or message known only from its records."""

    anchor: str = ""
    item: Any = None
    call: ToolCall | None = None
    record: Any = None  # a message or reasoning record, shown when replay read no message there
    images: list[images.Image] = field(default_factory=list)
    line: int = _LATE


@dataclass
class TurnView:
    """A turn with its entries in file order."""

    turn: Turn
    number: int | None  # 1-based among surviving turns (as ``inspect --items``); None when rolled back
    entries: list[Entry]
    rolled_back: bool = False
    inherited: bool = False
    tokens: int = 0


@dataclass
class Transcript:
    """Everything a page of one thread shows."""

    summary: Summary
    title: str
    turns: list[TurnView]
    loose: list[Entry]  # records before the first turn (all of them, for a file replay reads no turn from)
    tokens: TokenFigures
    parse_yield: ParseYield
    problems: int = 0


class _Tracker:
    """Feeds lines one at a time and notes when each turn and item first appeared."""

    def __init__(self, policy: str) -> None:
        self.builder = HistoryBuilder(policy)  # type: ignore[arg-type]
        self.tokens = TokenCounter()
        self.yields = YieldCounter()
        self.records = RecordLog()
        self.first_line: dict[str, int] = {}
        self.item_line: dict[tuple[str, str], int] = {}
        self.turn_tokens: dict[str, int] = {}
        self.inherited: set[str] = set()
        self.rolled: list[Turn] = []
        self._seen_items: dict[str, int] = {}
        self._last: Turn | None = None

    def feed(self, index: int, line: Any) -> None:
        request = self.tokens.see(line)
        rollback = isinstance(getattr(line, "payload", None), ev.ThreadRolledBackEvent)
        before = self.builder.snapshot() if rollback else None
        self.builder.feed(line)
        turns = self.builder.snapshot()
        if before is not None:
            self.rolled += before[len(turns):]
        current = self._track(index, turns)
        self.records.see(index, line, current)
        if request and current is not None:
            self.turn_tokens[current] = self.turn_tokens.get(current, 0) + request

    def _track(self, index: int, turns: list[Turn]) -> str | None:
        if not turns:
            return None
        last = turns[-1]
        if last.id not in self.first_line:
            self.first_line[last.id] = index
            if self.tokens.fork.last:
                self.inherited.add(last.id)
        if last is not self._last:
            self._last = last
            seen = self._seen_items.get(last.id, 0)
            for item in last.items[seen:]:
                self.item_line.setdefault((last.id, item.id), index)
            self._seen_items[last.id] = len(last.items)
        return last.id


def build(lines: list[Any], *, name: str | None = None, policy: str = "extended", problems: int = 0) -> Transcript:
    """The reading model of a thread from its decoded lines (file order).

    Args:
        lines: decoded rollout lines (legacy shapes are upcast here).
        name: the thread's name, if it has one.
        policy: replay policy, ``"extended"`` (default) or ``"limited"``.
        problems: how many lines could not be read (shown in the page header).
    """
    tracker = _Tracker(policy)
    for line in lines:
        tracker.yields.see(line)  # the file's own lines, before upcasting drops any
    lines = upcast(lines)
    for index, line in enumerate(lines):
        tracker.feed(index, line)
    final = tracker.builder.snapshot()
    summary = Summarizer(policy=policy).feed(lines).summary(turns=final)
    if name and summary.thread is not None:
        summary.thread = replace(summary.thread, name=name)
    claimed: set[str] = set()
    views = _turn_views(tracker, final, claimed)
    return Transcript(
        summary=summary,
        title=name or _first_words(final) or (summary.thread and summary.thread.id) or "rollout",
        turns=views,
        loose=_records_of(tracker, None, claimed, with_messages=True),
        tokens=tracker.tokens.figures(),
        parse_yield=tracker.yields.result(final),
        problems=problems,
    )


def _turn_views(tracker: _Tracker, final: list[Turn], claimed: set[str]) -> list[TurnView]:
    views = [_view(tracker, turn, number, claimed, rolled_back=False) for number, turn in enumerate(final, 1)]
    views += [_view(tracker, turn, None, claimed, rolled_back=True) for turn in tracker.rolled]
    views.sort(key=lambda v: tracker.first_line.get(v.turn.id, _LATE))
    return views


def _view(tracker: _Tracker, turn: Turn, number: int | None, claimed: set[str], *, rolled_back: bool) -> TurnView:
    entries = []
    for item in turn.items:
        entry = Entry(item=item, line=tracker.item_line.get((turn.id, item.id), _LATE))
        call = tracker.records.get(item.id)
        entry.images = list(call.images) if call is not None else []
        entry.anchor = _claim(claimed, item.id, turn.id)
        entries.append(entry)
    tags = {item.__struct_config__.tag for item in turn.items}
    skip = {item.id for item in turn.items}
    entries += _records_of(tracker, turn.id, claimed, with_messages=not tags & MESSAGE_ITEMS, skip=skip,
                           searched="webSearch" in tags)
    entries.sort(key=lambda e: e.line)  # stable: items keep their order among themselves
    _attach_user_images(tracker, turn.id, entries)
    return TurnView(
        turn=turn, number=number, entries=entries, rolled_back=rolled_back,
        inherited=turn.id in tracker.inherited, tokens=tracker.turn_tokens.get(turn.id, 0),
    )


def _records_of(tracker: _Tracker, turn_id: str | None, claimed: set[str], *, with_messages: bool,
                skip: set[str] = frozenset(), searched: bool = False) -> list[Entry]:  # type: ignore[assignment]
    """Entries for what only the records show: tool calls no item stands for, and (when replay
    read no message in the turn, or before any turn) the message records themselves."""
    entries = []
    for call in tracker.records.calls_in(turn_id):
        # A web_search_call record has no call id to match: the turn's webSearch items stand for it.
        if call.call_id in skip or (searched and call.kind == "web_search_call"):
            continue
        entries.append(Entry(anchor=_claim(claimed, call.call_id, turn_id), call=call, images=call.images, line=call.line))
    if with_messages:
        for line, record in tracker.records.messages_in(turn_id):
            record_id = record.id if isinstance(record.id, str) and record.id else f"line-{line + 1}"
            entries.append(Entry(anchor=_claim(claimed, record_id, turn_id), record=record, line=line))
    entries.sort(key=lambda e: e.line)
    return entries


def _claim(claimed: set[str], item_id: str, turn_id: str | None) -> str:
    anchor = item_anchor(item_id)
    if anchor in claimed:
        anchor = item_anchor(item_id, turn_id or "start")
    claimed.add(anchor)
    return anchor


def _attach_user_images(tracker: _Tracker, turn_id: str, entries: list[Entry]) -> None:
    """Images of the turn's user message records, on the user message they came with."""
    users = [e for e in entries if e.item is not None and e.item.__struct_config__.tag == "userMessage"]
    if not users:
        return
    for line, found in tracker.records.user_images(turn_id):
        target = next((e for e in users if e.line >= line), users[-1])
        known = {image.uri for image in content_images(target.item)} | {image.uri for image in target.images}
        target.images += [image for image in found if image.uri not in known]


def content_images(item: Any) -> list[images.Image]:
    """The images a userMessage item names in its content (inlined when they are data URIs)."""
    out = []
    for part in item.content:
        tag = part.__struct_config__.tag
        if tag == "image":
            out.append(images.from_url(part.url))
        elif tag == "localImage":
            out.append(images.from_path(part.path))
    return out


def _first_words(turns: list[Turn]) -> str:
    for turn in turns:
        for item in turn.items:
            if isinstance(item, UserMessage):
                text = " ".join(getattr(part, "text", "") for part in item.content).strip()
                if text:
                    return " ".join(text.split())[:120]
    return ""
