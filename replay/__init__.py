"""Replay: decoded rollout lines -> Codex's thread history and resume context.

Pure functions and a pure incremental builder over lines decoded by
:mod:`rollout`: :func:`build_turns` / :class:`HistoryBuilder` rebuild the v2
``Turn``/``ThreadItem`` history exactly as Codex's app-server does (spec 8),
:func:`resume_context` rebuilds the model-visible context a resumed thread sends
(spec 9) and :class:`ContextBuilder` keeps it up to date line by line, and
:func:`turn_boundaries` says which lines each turn spans so a store can fork or
roll back by turn.

Must not import: store, rollout.cli, rich, asyncio, anything doing I/O.
"""

from .boundary import fork_end, open_turn, rollback_start, turn_boundaries
from .history import HistoryBuilder, build_turns
from .items import ThreadItem, Turn, TurnError, UserInput
from .policy import Policy
from .resume import ResumeContext, resume_context
from .resume_builder import ContextBuilder
from .turn_state import MidTurn, TurnSpan, with_items_view

__all__ = [
    "ContextBuilder",
    "HistoryBuilder",
    "MidTurn",
    "Policy",
    "ResumeContext",
    "ThreadItem",
    "Turn",
    "TurnError",
    "TurnSpan",
    "UserInput",
    "build_turns",
    "fork_end",
    "open_turn",
    "resume_context",
    "rollback_start",
    "turn_boundaries",
    "with_items_view",
]
