"""``rollout inspect``: every view of the shipped sample, exact text as piped (never cut) and JSON."""

from __future__ import annotations

import json
from textwrap import dedent

import msgspec
import pytest

from .conftest import ROOT, SAMPLE, SAMPLE_ID

pytestmark = pytest.mark.usefixtures("at_root")
REL = SAMPLE.relative_to(ROOT)

SUMMARY = f"""\
{SAMPLE_ID}
file       {REL}
created    2026-06-01 10:00:00 UTC
updated    2026-06-01 10:01:03 UTC
cwd        /home/dev/todo-app
model      gpt-5.4 · openai
versions   codex_cli_rs 0.140.0 · envelope format
source     cli
git        main · 3f2a9c1 · https://example.com/dev/todo-app.git
lineage    root thread
turns      2: 2 completed
items      7: 2 userMessage, 2 agentMessage, 1 reasoning, 1 commandExecution, 1 fileChange
read       4 messages · 2 tool calls
tokens     context 5,340 of 258,400 tokens (2%) · total 5,340 (cumulative, as Codex counts)
lines      25 · 6.4 kB
problems   none

line type                   lines    bytes      %
─────────────────────────────────────────────────
event_msg                      12   3.2 kB   50.0
  exec_command_end              1    532 B    8.3
  task_complete                 2    481 B    7.5
  agent_message                 2    423 B    6.6
  token_count                   1    420 B    6.6
  patch_apply_end               1    414 B    6.5
  task_started                  2    406 B    6.4
  user_message                  2    386 B    6.1
  agent_reasoning               1    129 B    2.0
response_item                  10   2.2 kB   34.5
  message                       5   1.1 kB   16.9
  custom_tool_call              1    306 B    4.8
  reasoning                     1    213 B    3.3
  function_call_output          1    203 B    3.2
  custom_tool_call_output       1    201 B    3.2
  function_call                 1    197 B    3.1
turn_context                    2    548 B    8.6
session_meta                    1    437 B    6.9
"""

TURNS = f"""\
{SAMPLE_ID} · 2 turns
├── #1 turn-1  completed  5.0s  4 items  Why does the test for add_todo fail?
│   ├── userMessage       item-1  Why does the test for add_todo fail?
│   ├── reasoning         item-2  Running the test suite
│   ├── commandExecution  call_1  failed  bash -lc 'pytest -q tests/test_todo.py' (exit 1, 2.4s)
│   └── agentMessage      item-3  add_todo reads item['title'] but the test posts 'name'. Rename the key or the field.
└── #2 turn-2  completed  3.0s  3 items  Rename the field to title in the test.
    ├── userMessage       item-4  Rename the field to title in the test.
    ├── fileChange        call_2  completed  M tests/test_todo.py
    └── agentMessage      item-5  Done: the test now posts title.
"""

ITEMS = """\
#2 turn-2  completed  3.0s  3 items  Rename the field to title in the test.

userMessage       item-4
    Rename the field to title in the test.

fileChange        call_2  completed
    M tests/test_todo.py
    @@ -3 +3 @@
    -    post({'name': 'milk'})
    +    post({'title': 'milk'})

agentMessage      item-5
    Done: the test now posts title.
"""

CONTEXT = """\
model      gpt-5.4
cwd        /home/dev/todo-app
context    5,340 of 258,400 tokens (2%), as of the last request
total      5,340 tokens (cumulative over the session, as Codex counts)
base       start of file
items      10

   1  user                      <environment_context> <cwd>/home/dev/todo-app</cwd> </environment_context>
   2  user                      Why does the test for add_todo fail?
   3  reasoning                 Running the test suite
   4  function_call             exec_command {"cmd":"pytest -q tests/test_todo.py"}
   5  function_call_output      F. FAILED tests/test_todo.py::test_add_todo - KeyError: 'title'
   6  assistant                 add_todo reads item['title'] but the test posts 'name'. Rename the key or the field.
   7  user                      Rename the field to title in the test.
   8  custom_tool_call          apply_patch *** Begin Patch *** Update File: tests/test_todo.py @@ - post({'name': 'milk'}) + post({'title': 'milk'}) *** End Patch
   9  custom_tool_call_output   Success. Updated the following files: M tests/test_todo.py
  10  assistant                 Done: the test now posts title.
"""

LINES_HEAD = """\
  line  timestamp                 type                                         bytes
     1  2026-06-01T10:00:00.120Z  session_meta                                   437
     2  2026-06-01T10:00:05.001Z  event_msg/task_started                         203
     3  2026-06-01T10:00:05.010Z  response_item/message                          229
     4  2026-06-01T10:00:05.011Z  turn_context                                   274
"""


def _json_lines(text: str) -> list:
    return [json.loads(line) for line in text.splitlines()]


def test_summary_of_the_sample_is_exact(cli):
    """The default view prints identity, settings, counts and bytes by type."""
    result = cli("inspect", REL)
    assert (result.code, result.err) == (0, "")
    assert result.out == SUMMARY


def test_summary_json_is_one_camel_case_object(cli):
    """--json prints one Summary object whose counts add up."""
    result = cli("inspect", REL, "--json")
    [summary] = _json_lines(result.out)
    thread = summary["thread"]
    assert (thread["id"], thread["createdAt"], thread["updatedAt"]) == (SAMPLE_ID, 1780308000, 1780308063)
    assert thread["gitInfo"] == {"sha": "3f2a9c1", "branch": "main", "originUrl": "https://example.com/dev/todo-app.git"}
    assert (summary["lines"], summary["turns"], summary["turnStatuses"]) == (25, 2, {"completed": 2})
    assert sum(t["lines"] for t in summary["lineTypes"]) == 25
    assert sum(t["bytes"] for t in summary["lineTypes"]) == summary["bytes"] == SAMPLE.stat().st_size
    assert summary["problems"] == {}


def test_turns_tree_is_exact(cli):
    """--turns draws every turn with its items, status, id and preview."""
    result = cli("inspect", REL, "--turns")
    assert (result.code, result.out) == (0, TURNS)


def test_turns_json_are_v2_turns(cli):
    """--turns --json prints one app-server v2 Turn per line."""
    import replay
    import rollout

    result = cli("inspect", REL, "--turns", "--json")
    expected = [json.loads(msgspec.json.encode(t)) for t in replay.build_turns(rollout.read_rollout(SAMPLE).lines)]
    assert _json_lines(result.out) == expected


def test_items_of_one_turn_by_id_or_number(cli):
    """--items accepts a turn id, a 1-based number or a negative number."""
    by_id = cli("inspect", REL, "--items", "turn-2")
    assert (by_id.code, by_id.out) == (0, ITEMS)
    assert cli("inspect", REL, "--items", "2").out == ITEMS
    assert cli("inspect", REL, "--items", "-1").out == ITEMS


def test_items_json_are_thread_items(cli):
    """--items --json prints the turn's ThreadItems."""
    items = _json_lines(cli("inspect", REL, "--items", "turn-1", "--json").out)
    assert [i["type"] for i in items] == ["userMessage", "reasoning", "commandExecution", "agentMessage"]
    assert items[2]["exitCode"] == 1


def test_items_of_a_missing_turn_is_an_error(cli):
    """An unknown turn gives exit 1 and one error line."""
    result = cli("inspect", REL, "--items", "turn-9")
    assert (result.code, result.out) == (1, "")
    assert result.err == "error: no turn with id 'turn-9' (2 turns)\n"
    assert cli("inspect", REL, "--items", "3").err == "error: no turn number 3 (the thread has 2 turns)\n"


def test_lines_view_is_exact(cli):
    """--lines prints index, timestamp, type/payload type and size."""
    result = cli("inspect", REL, "--lines")
    assert result.code == 0
    assert result.out.startswith(LINES_HEAD)
    assert len(result.out.splitlines()) == 26


def test_lines_type_filter_matches_line_or_payload_type(cli):
    """--type keeps lines whose envelope or payload type matches."""
    out = cli("inspect", REL, "--lines", "--type", "turn_context", "--type", "token_count").out
    assert [line.split()[2] for line in out.splitlines()[1:]] == ["turn_context", "event_msg/token_count", "turn_context"]


def test_lines_json_are_the_original_bytes(cli):
    """--lines --json writes every line exactly as stored, so it filters a rollout."""
    out = cli("inspect", REL, "--lines", "--json").out
    assert out.encode() == SAMPLE.read_bytes()
    only = cli("inspect", REL, "--lines", "--json", "--type", "session_meta").out
    assert only.encode() == SAMPLE.read_bytes().splitlines(keepends=True)[0]


def test_type_without_lines_is_a_usage_error(cli):
    """--type only makes sense with --lines: exit 2."""
    result = cli("inspect", REL, "--type", "event_msg")
    assert (result.code, result.err) == (2, "error: --type only applies to --lines\n")


def test_context_view_is_exact(cli):
    """--context lists what a resume would send the model."""
    result = cli("inspect", REL, "--context")
    assert (result.code, result.out) == (0, CONTEXT)


def test_context_json_is_the_resume_context(cli):
    """--context --json is replay.resume_context as one object."""
    [context] = _json_lines(cli("inspect", REL, "--context", "--json").out)
    assert len(context["items"]) == 10
    assert context["turn_context"]["model"] == "gpt-5.4"
    assert context["token_usage"]["total_token_usage"]["total_tokens"] == 5340


def test_problems_view_of_a_clean_file(cli):
    """--problems says so and exits 0 when there are none."""
    assert cli("inspect", REL, "--problems") == (0, "no problems\n", "")
    assert cli("inspect", REL, "--problems", "--json") == (0, "", "")


def test_views_are_mutually_exclusive(cli):
    """Two views at once is a usage error."""
    assert cli("inspect", REL, "--turns", "--lines").code == 2


def test_zst_file_reads_like_the_plain_one(cli, tmp_path):
    """A .jsonl.zst rollout gives the same summary counts."""
    from rollout.compression import compress

    packed = tmp_path / (SAMPLE.name + ".zst")
    packed.write_bytes(compress(SAMPLE.read_bytes()))
    [summary] = _json_lines(cli("inspect", packed, "--json").out)
    assert (summary["thread"]["id"], summary["lines"], summary["turns"]) == (SAMPLE_ID, 25, 2)


def test_codex_home_summary_and_lookup_by_id(cli, tmp_path):
    """A Codex home gets a folder summary; a thread id is found in it with --codex-home."""
    day = tmp_path / "home" / "sessions" / "2026" / "06" / "01"
    day.mkdir(parents=True)
    (day / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
    (tmp_path / "home" / "archived_sessions").mkdir()
    home = tmp_path / "home"
    assert cli("inspect", home).out == dedent(f"""\
        {home} (Codex home)
        threads    1: 1 active, 0 archived
        compressed 0
        size       6.4 kB
        oldest     2026-06-01T10:00:00
        newest     2026-06-01T10:00:00
        names      0
        """)
    by_id = cli("inspect", SAMPLE_ID, "--codex-home", home, "--turns")
    assert (by_id.code, by_id.out) == (0, TURNS)
    missing = cli("inspect", "019e2a5c-0000-7000-8000-00000000dead", "--codex-home", home)
    assert missing == (1, "", "error: thread 019e2a5c-0000-7000-8000-00000000dead not found\n")


def test_thread_views_of_a_folder_are_usage_errors(cli):
    """--turns on a folder cannot pick a thread: exit 2."""
    result = cli("inspect", REL.parent, "--turns")
    assert result.code == 2
    assert result.err.startswith("error: ") and result.err.count("\n") == 1
