"""Token figures: context against the window, cumulative total apart, a fork's inherited requests counted once."""

from __future__ import annotations

from rollout import events as ev
from rollout.cli.tokens import ForkCopy, TokenCounter, TokenFigures, describe


def _usage(total: int) -> dict:
    return {"input_tokens": total - 10, "cached_input_tokens": 0, "output_tokens": 10, "reasoning_output_tokens": 0,
            "total_tokens": total}


def _count(ts: str, total: int, last: int, window: int | None = 200_000) -> ev.EventMsgLine:
    info = {"total_token_usage": _usage(total), "last_token_usage": _usage(last), "model_context_window": window}
    return ev.EventMsgLine(timestamp=ts, payload=ev.TokenCountEvent(info=info))


def _meta(ts: str, thread: str, source: str | None = None) -> ev.SessionMetaLine:
    return ev.SessionMetaLine(timestamp=ts, payload=ev.SessionMeta(id=thread, timestamp=ts, forked_from_id=source))


def _figures(lines) -> tuple[TokenFigures, list[int]]:
    counter = TokenCounter()
    per_line = [counter.see(line) for line in lines]
    return counter.figures(), per_line


def test_context_is_the_last_request_and_total_the_cumulative_counter():
    """context = last_token_usage of the newest request, total = total_token_usage as reported."""
    figures, per_line = _figures([_meta("t0", "a"), _count("t1", 1000, 1000), _count("t2", 3500, 2500)])
    assert (figures.context_tokens, figures.context_window, figures.total_tokens) == (2500, 200_000, 3500)
    assert (figures.own_tokens, figures.inherited_tokens, figures.requests) == (3500, 0, 2)
    assert per_line == [0, 1000, 2500]
    assert figures.context_share == 2500 / 200_000


def test_a_repeated_token_count_is_not_a_new_request():
    """Codex repeats the same counters with a rate-limit update: counted once."""
    figures, per_line = _figures([_count("t1", 1000, 1000), _count("t1", 1000, 1000), _count("t2", 1800, 800)])
    assert per_line == [1000, 0, 800]
    assert (figures.own_tokens, figures.requests) == (1800, 2)


def test_a_fork_counts_its_inherited_requests_apart():
    """Requests in the copied lines (dated before the fork's meta) are inherited, not the fork's own."""
    lines = [
        _meta("2026-06-02T09:00:00.000Z", "child", source="parent"),
        _meta("2026-06-02T08:00:00.000Z", "parent"),
        _count("2026-06-02T08:00:05.000Z", 4000, 4000),
        _count("2026-06-02T09:01:00.000Z", 9000, 5000),  # Codex carried the parent's total over
    ]
    figures, _ = _figures(lines)
    assert (figures.own_tokens, figures.inherited_tokens, figures.total_tokens) == (5000, 4000, 9000)
    assert describe(figures) == ("context 5,000 of 200,000 tokens (2%) · total 9,000 (cumulative, as Codex counts) · "
                                 "this thread 5,000, inherited 4,000 (counted in the source)")


def test_fork_copy_ends_at_the_first_line_dated_after_the_fork():
    """Undated copied lines stay inherited; the first own line ends the copy for good."""
    fork = ForkCopy()
    marks = [fork.see(line) for line in [
        _meta("2026-06-02T09:00:00.000Z", "child", source="parent"),
        ev.EventMsgLine(timestamp=None, payload=ev.AgentMessageEvent(message="copied")),
        _count("2026-06-02T08:00:05.000Z", 1, 1),
        _count("2026-06-02T09:00:01.000Z", 2, 1),
        _count("2026-06-02T08:59:00.000Z", 3, 1),  # a skewed clock after the copy: still the fork's own
    ]]
    assert marks == [False, True, True, False, False]
    assert fork.source_id == "parent"


def test_a_thread_that_is_not_a_fork_inherits_nothing():
    """Without forked_from_id every request is the thread's own."""
    fork = ForkCopy()
    assert [fork.see(line) for line in [_meta("t9", "a"), _count("t0", 1, 1)]] == [False, False]


def test_no_token_counts_means_no_figures():
    """A thread without token_count events describes no tokens."""
    figures, _ = _figures([_meta("t0", "a"), ev.EventMsgLine(timestamp="t1", payload=ev.TokenCountEvent(info=None))])
    assert figures == TokenFigures() and describe(figures) is None


def test_window_falls_back_to_task_started():
    """An info without model_context_window uses the turn's announced window."""
    started = ev.EventMsgLine(timestamp="t0", payload=ev.TaskStartedEvent(turn_id="t", model_context_window=128_000))
    figures, _ = _figures([started, _count("t1", 64_000, 64_000, window=None)])
    assert figures.context_window == 128_000 and describe(figures).startswith("context 64,000 of 128,000 tokens (50%)")
