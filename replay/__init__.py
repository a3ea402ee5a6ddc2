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

from typing import TYPE_CHECKING

from rollout.lazy import exports

if TYPE_CHECKING:
    from .boundary import fork_end, open_turn, rollback_start, turn_boundaries
    from .context import ResumeContext
    from .history import HistoryBuilder, build_turns
    from .items import ThreadItem, Turn, TurnError, UserInput
    from .policy import Policy
    from .resume import resume_context
    from .resume_builder import ContextBuilder
    from .turn_state import MidTurn, TurnSpan, with_items_view

# Each public name and the submodule defining it, imported on first use (PEP 562): the
# CLI's `inspect` rebuilds turns (history) and never loads the resume algorithm.
_WHERE = {
    **dict.fromkeys(["fork_end", "open_turn", "rollback_start", "turn_boundaries"], "boundary"),
    **dict.fromkeys(["HistoryBuilder", "build_turns"], "history"),
    **dict.fromkeys(["ThreadItem", "Turn", "TurnError", "UserInput"], "items"),
    **dict.fromkeys(["MidTurn", "TurnSpan", "with_items_view"], "turn_state"),
    "ContextBuilder": "resume_builder", "Policy": "policy", "ResumeContext": "context",
    "resume_context": "resume",
}
# The submodules `import replay` loaded when it imported every name at once: still
# reachable as attributes of the package alone.
_SUBMODULES = frozenset({
    "boundary", "context", "convert", "fragments", "history", "item_parts", "items", "ledger", "policy",
    "pre_envelope", "request", "resume", "resume_builder", "shell", "tools", "turn_items", "turn_state",
})

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


__getattr__, __dir__ = exports(__name__, _WHERE, _SUBMODULES)
