"""Turn boundaries over lines, for forking and rolling back by turn.

:func:`turn_boundaries` runs the history reducer and reports, for every turn it
returns, which input lines the turn spans. Spans tile the file: a turn starts at
the line that opened it (for a legacy implicit turn, at the response items that
precede its ``user_message``) and ends where the next turn opened, so late
events, token counts and metadata re-appends stay with the turn they follow.

* Fork "up to and including turn k": ``lines[:fork_end(spans, k)]``.
* Whether a fork of ``lines`` ends mid-turn: :func:`open_turn` (the rule of
  :attr:`HistoryBuilder.open_turn_id`).
* Roll back ``n`` turns: Codex appends ``thread_rolled_back{n}``; the lines it
  hides are ``lines[rollback_start(spans, n):]`` (up to the marker).

Must not import: store, anything doing I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

from rollout.errors import InvalidInput

from .history import HistoryBuilder
from .policy import Policy
from .turn_state import TurnSpan

__all__ = ["fork_end", "open_turn", "rollback_start", "turn_boundaries"]


def turn_boundaries(lines: Iterable[object], *, policy: Policy = "extended") -> list[TurnSpan]:
    """Line spans of the turns :func:`replay.build_turns` returns, in the same order.

    Args:
        lines: Decoded rollout lines in file order.
        policy: The replay policy (it decides which lines can open a turn).

    Returns:
        One :class:`TurnSpan` per surviving turn (rolled-back turns are not listed).
    """
    return HistoryBuilder(policy).feed_many(lines).spans()


def fork_end(spans: list[TurnSpan], at_turn: int | str) -> int:
    """Line count of a fork that keeps everything up to and including one turn.

    Args:
        spans: Output of :func:`turn_boundaries`.
        at_turn: The turn, by 0-based position (negative counts from the end) or by id.

    Returns:
        ``n`` such that ``lines[:n]`` replays as the first turns through ``at_turn``.

    Raises:
        InvalidInput: No such turn.
    """
    if isinstance(at_turn, str):
        for span in spans:
            if span.turn_id == at_turn:
                return span.end
        raise InvalidInput(f"no turn with id {at_turn!r}")
    try:
        return spans[at_turn].end
    except IndexError:
        raise InvalidInput(f"no turn at position {at_turn} (thread has {len(spans)})") from None


def rollback_start(spans: list[TurnSpan], num_turns: int) -> int | None:
    """First line hidden by rolling back the last ``num_turns`` turns.

    Args:
        spans: Output of :func:`turn_boundaries`.
        num_turns: Turns to roll back (more than exist hides them all).

    Returns:
        The index of the first hidden line, or ``None`` when nothing is hidden.
    """
    if num_turns <= 0 or not spans:
        return None
    return spans[max(len(spans) - num_turns, 0)].start


def open_turn(lines: Iterable[object], *, policy: Policy = "extended") -> str | None:
    """Id of the explicit turn still in progress after ``lines``, or None.

    A copy of ``lines`` (a fork) ends inside that turn; Codex closes such a copy with
    ``turn_aborted``. Same rule as :attr:`HistoryBuilder.open_turn_id`.
    """
    return HistoryBuilder(policy).feed_many(lines).open_turn_id
