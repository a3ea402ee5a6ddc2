"""Renderers on their own: rich objects rendered at width 100 (and narrower), compared as text."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rich.console import Console

from rollout.cli import render
from rollout.cli.summary import HomeSummary, ProblemInfo, Summary
from store import GitInfo, ThreadInfo

from .conftest import render_text


def test_human_bytes_uses_decimal_units():
    """Sizes read like `ls -h --si`."""
    assert [render.human_bytes(n) for n in (0, 999, 1000, 6376, 17_800_000, 3 * 10**9)] == [
        "0 B", "999 B", "1.0 kB", "6.4 kB", "17.8 MB", "3.0 GB",
    ]


def test_summary_of_a_sub_agent_fork_with_problems():
    """Lineage names the source and the parent; problems are counted and listed, wrapped (never cut) at the width."""
    problem = ProblemInfo(path="f.jsonl", line=7, offset=900, kind="malformed", reason="malformed JSON " + "x" * 120)
    spawn = {"parent_thread_id": "019e0000-0000-7000-8000-0000000000cc", "depth": 1}
    thread = ThreadInfo(
        id="019e0000-0000-7000-8000-0000000000aa", forked_from_id="019e0000-0000-7000-8000-0000000000bb",
        agent_nickname="Atlas", agent_role="explorer", source={"subAgent": {"thread_spawn": spawn}},
        model="gpt-5.4", reasoning_effort="high", git_info=GitInfo(branch="dev"), created_at=1780308000,
        updated_at=1780308063, cwd="/w", model_provider="openai",
    )
    summary = Summary(thread=thread, lines=3, bytes=1200, problems={"malformed": 1})
    assert render_text(render.summary(summary, [problem])) == (
        "019e0000-0000-7000-8000-0000000000aa\n"
        "created    2026-06-01 10:00:00 UTC\n"
        "updated    2026-06-01 10:01:03 UTC\n"
        "cwd        /w\n"
        "model      gpt-5.4 · effort high · openai\n"
        "versions   envelope format\n"
        "source     subAgent\n"
        "git        dev\n"
        "lineage    forked from 019e0000-0000-7000-8000-0000000000bb; sub-agent of\n"
        "           019e0000-0000-7000-8000-0000000000cc Atlas (explorer)\n"
        "turns      0\n"
        "items      0\n"
        "lines      3 · 1.2 kB\n"
        "problems   1: 1 malformed\n"
        "\n"
        "line type   lines   bytes   %\n"
        "─────────────────────────────\n"
        "\n"
        "f.jsonl:7: malformed: malformed JSON \n" + "x" * 100 + "\n" + "x" * 20 + "\n"
    )


def test_summary_without_session_meta_says_why_it_matters():
    """A file with no session_meta gets a title that explains the consequence."""
    text = render_text(render.summary(Summary(thread=None, lines=1, bytes=10)))
    assert text.splitlines()[0] == "(no session_meta: Codex cannot resume this file)"


def test_home_summary_of_a_folder():
    """A plain folder has no names line."""
    home = HomeSummary(path="/data/rollouts", codex_home=False, active=3, archived=0, compressed=1, bytes=2_500_000,
                       oldest="2025-09-24T02:55:32", newest="2026-08-01T07:19:28")
    assert render_text(render.home_summary(home)) == (
        "/data/rollouts (folder)\n"
        "threads    3: 3 active, 0 archived\n"
        "compressed 1\n"
        "size       2.5 MB\n"
        "oldest     2025-09-24T02:55:32\n"
        "newest     2026-08-01T07:19:28\n"
    )


def test_threads_table_keeps_ids_whole_and_crops_the_rest():
    """Ids and times are never cut; the name and the end of the cwd share the rest."""
    threads = [  # the store.ThreadInfo fields the table reads
        SimpleNamespace(id="019e2a5c-0000-7000-8000-000000000001", name=None, preview="Why does the test\nfail?",
                        updated_at=1780308063, cwd="/home/dev/todo-app", archived=False),
        SimpleNamespace(id="019e2a5c-0000-7000-8000-000000000002", name="a named thread with a long name indeed",
                        preview="", updated_at=1780308100, cwd="/home/dev/a/very/deep/project/dir", archived=True),
    ]
    assert render_text(render.threads_table(threads)) == (
        "id                                    updated (UTC)     name / preview                cwd\n"
        "019e2a5c-0000-7000-8000-000000000001  2026-06-01 10:01  Why does the test fail?       …/dev/todo-app\n"
        "019e2a5c-0000-7000-8000-000000000002  2026-06-01 10:01  [archived] a named thread w…  …p/project/dir\n"
    )
    assert render_text(render.threads_table([])) == "no threads\n"


def test_line_table_crops_to_a_narrow_terminal():
    """Rows longer than the width end in an ellipsis instead of wrapping."""
    console = Console(file=io.StringIO(), width=60, color_system=None)
    table = render.LineTable(console)
    table.header()
    table.row(12, "2026-06-01T10:00:00.120Z", "event_msg/exec_command_end", 532)
    table.problem(ProblemInfo(path=None, line=13, offset=0, kind="torn", reason="incomplete last line"))
    assert console.file.getvalue() == (
        "  line  timestamp                 type                     …\n"
        "    12  2026-06-01T10:00:00.120Z  event_msg/exec_command_en…\n"
        "    13  torn: incomplete last line\n"
    )


def test_line_table_wraps_a_long_reason_on_a_narrow_terminal():
    """A problem's reason continues under itself instead of being cut to `malfo…`."""
    console = Console(file=io.StringIO(), width=40, color_system=None)
    reason = "malformed JSON (JSON is malformed: expected ',' or '}' - at position 17)"
    render.LineTable(console).problem(ProblemInfo(path=None, line=3, offset=0, kind="malformed", reason=reason))
    lines = console.file.getvalue().splitlines()
    assert len(lines) > 1 and all(len(line) <= 40 for line in lines)
    assert lines[0].startswith("     3  malformed: malformed JSON")
    assert all(line.startswith(" " * 8) for line in lines[1:])
    assert " ".join(line.strip() for line in lines) == f"3  malformed: {reason}"


def test_console_off_a_terminal_never_cuts():
    """make_console on a pipe or file is unbounded: a wide row and a long reason come out whole."""
    console = render.make_console(io.StringIO(), color="never")
    assert console.width == render.UNBOUNDED
    table = render.LineTable(console)
    table.row(12, "2026-06-01T10:00:00.120Z", "event_msg/" + "x" * 120, 532)
    table.problem(ProblemInfo(path=None, line=13, offset=0, kind="torn", reason="y" * 300))
    rows = console.file.getvalue().splitlines()
    assert rows[0].endswith("x" * 120 + "       532") and rows[1] == "    13  torn: " + "y" * 300


def test_colour_codes_only_when_forced():
    """make_console: never means no escape codes even on a forced terminal; always means codes."""
    for color, expect in (("never", False), ("always", True)):
        stream = io.StringIO()
        render.make_console(stream, color=color).print(render.text("x", "red"))
        assert ("\x1b[" in stream.getvalue()) is expect, color
