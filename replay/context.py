"""The result of a resume: :class:`ResumeContext`, the model-visible context and settings.

Its own module so that a program holding contexts (the stores' thread objects,
``store.thread``) does not load the resume algorithm (:mod:`replay.resume`) to
declare the type; :meth:`ResumeContext.request_items` loads :mod:`replay.request`
when first called.

Must not import: store, anything doing I/O.
"""

from __future__ import annotations

from typing import Any

import msgspec

from rollout import events as ev

__all__ = ["ResumeContext"]


class ResumeContext(msgspec.Struct, frozen=True, kw_only=True):
    """What a resumed thread sends the model and which settings it starts from.

    Attributes:
        items: Model-visible response items, oldest first.
        turn_context: Settings of the newest surviving user turn (model, cwd,
            policies, effort), or ``None`` when no surviving turn recorded any.
        token_usage: The latest ``token_count.info`` (``None`` if never recorded).
        base_line: Index of the ``compacted`` line used as the base, if any.
        reinject_context: ``True`` when the next turn must send the full initial
            context again (no surviving baseline, or a legacy compaction).
    """

    items: list[Any] = []
    turn_context: ev.TurnContext | None = None
    token_usage: Any = None
    base_line: int | None = None
    reinject_context: bool = True

    def request_items(self) -> list[dict[str, Any]]:
        """``items`` as Codex 0.171's first model request after a resume carries them.

        See :func:`replay.request.request_items` (the model comes from ``turn_context``).
        """
        from .request import request_items

        model = None if self.turn_context is None else self.turn_context.model
        return request_items(self.items, model=model)
