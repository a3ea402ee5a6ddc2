"""Token figures of a thread: the context's size, the cumulative total, and what a fork inherited.

Codex writes a ``token_count`` event after each model request, carrying two
counters that answer different questions:

* ``last_token_usage``: that request alone. Its ``total_tokens`` is how full the
  context window was: the context's size, shown against ``model_context_window``.
* ``total_token_usage``: a running sum over the session. It is a cumulative
  figure and is labelled as such, never as the context.

A fork's file begins with a verbatim copy of its source's lines, token counts
included, so summing a fork's requests with its source's would count the
inherited turns twice. :class:`ForkCopy` tells the copied lines apart (they
predate the fork's own ``session_meta``) and :class:`TokenCounter` keeps the
requests of this thread (``own``) apart from the copied ones (``inherited``).
A ``token_count`` that repeats the previous cumulative total (a rate-limit
update) is not a new request and is counted once.

Must not import: rich, store, replay.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .. import events as ev

__all__ = ["ForkCopy", "TokenCounter", "TokenFigures", "describe"]


class TokenFigures(msgspec.Struct, kw_only=True, rename="camel"):
    """Token figures of one thread (``--json``: camelCase).

    Attributes:
        context_tokens: the latest request's ``last_token_usage.total_tokens``.
        context_window: the model's context window, as Codex reported it.
        total_tokens: Codex's cumulative ``total_token_usage.total_tokens``, as last
            reported (for a fork, Codex's counter may include the source's usage).
        own_tokens: the sum of this thread's own requests, each counted once.
        inherited_tokens: the sum of the requests in a fork's copy of its source
            (already counted in the source thread).
        requests: model requests counted (own and inherited).
    """

    context_tokens: int | None = None
    context_window: int | None = None
    total_tokens: int | None = None
    own_tokens: int = 0
    inherited_tokens: int = 0
    requests: int = 0

    @property
    def context_share(self) -> float | None:
        """The context's size as a share of the window (None when either is unknown)."""
        if not self.context_tokens or not self.context_window:
            return None
        return self.context_tokens / self.context_window


class ForkCopy:
    """Which lines of a thread are the copy a fork made of its source.

    A fork's first line is its own ``session_meta`` with ``forked_from_id``; the
    lines after it that are dated before that meta were copied from the source.
    The first line dated at or after it ends the copy.
    """

    def __init__(self) -> None:
        self.source_id: str | None = None
        self._since: str | None = None
        self.last = False  # whether the last line seen was inherited
        self._lines = 0
        self._copying = False

    def see(self, line: Any) -> bool:
        """Take the next line; True when it belongs to the inherited copy."""
        self._lines += 1
        if self._lines == 1:
            self._first(line)
        elif self._copying:
            stamp = getattr(line, "timestamp", None)
            if stamp is not None and self._since is not None and stamp >= self._since:
                self._copying = False
        self.last = self._copying and self._lines > 1
        return self.last

    def _first(self, line: Any) -> None:
        if isinstance(line, ev.SessionMetaLine) and line.payload.forked_from_id:
            self.source_id = line.payload.forked_from_id
            self._since = line.payload.timestamp or line.timestamp
            self._copying = self._since is not None


def _total(usage: Any) -> int | None:
    if not isinstance(usage, dict):
        return None
    total = usage.get("total_tokens")
    if isinstance(total, int) and not isinstance(total, bool):
        return total
    parts = [usage.get(k) for k in ("input_tokens", "output_tokens")]
    return sum(parts) if all(isinstance(p, int) for p in parts) else None  # type: ignore[arg-type]


class TokenCounter:
    """Streams lines and adds up their token figures (see the module docstring)."""

    def __init__(self) -> None:
        self.fork = ForkCopy()
        self._figures = TokenFigures()
        self._last_total: Any = None

    def see(self, line: Any) -> int:
        """Take the next line; returns the tokens of the new request it reports (0 if none).

        A request in a fork's inherited copy is returned too (it belongs to its
        turn) but adds to ``inherited_tokens``, not ``own_tokens``.
        """
        inherited = self.fork.see(line)
        payload = getattr(line, "payload", None)
        if isinstance(payload, ev.TaskStartedEvent):
            window = payload.model_context_window
            if isinstance(window, int) and window > 0:
                self._figures.context_window = window
            return 0
        if not isinstance(payload, ev.TokenCountEvent) or not isinstance(payload.info, dict):
            return 0
        return self._count(payload.info, inherited)

    def _count(self, info: dict[str, Any], inherited: bool) -> int:
        figures = self._figures
        window = info.get("model_context_window")
        if isinstance(window, int) and window > 0:
            figures.context_window = window
        total = info.get("total_token_usage")
        if total == self._last_total:
            return 0  # the same counters again (a rate-limit update): not a new request
        self._last_total = total
        cumulative = _total(total)
        if cumulative is not None:
            figures.total_tokens = cumulative
        request = _total(info.get("last_token_usage"))
        if request is None:
            return 0
        figures.context_tokens = request
        figures.requests += 1
        if inherited:
            figures.inherited_tokens += request
        else:
            figures.own_tokens += request
        return request

    def figures(self) -> TokenFigures:
        """The figures of everything seen so far (a copy)."""
        return msgspec.structs.replace(self._figures)


def describe(figures: TokenFigures) -> str | None:
    """``context 81,441 of 258,400 tokens (32%) · total 8,655,878 (cumulative, as Codex counts)``.

    A fork adds how its own requests and its inherited copy split; None when the
    thread reported no token usage.
    """
    parts = []
    if figures.context_tokens is not None:
        window = f" of {figures.context_window:,}" if figures.context_window else ""
        share = f" ({figures.context_share:.0%})" if figures.context_share is not None else ""
        parts.append(f"context {figures.context_tokens:,}{window} tokens{share}")
    if figures.total_tokens is not None:
        parts.append(f"total {figures.total_tokens:,} (cumulative, as Codex counts)")
    if figures.inherited_tokens:
        parts.append(f"this thread {figures.own_tokens:,}, inherited {figures.inherited_tokens:,} (counted in the source)")
    return " · ".join(parts) or None
