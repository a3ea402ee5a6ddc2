"""What fuzzing found, one behaviour test per finding (the saved inputs replay in test_fuzz.py).

Each docstring names the finding's input under ``tests/fuzz/findings/``. One input has no
test here: ``serve_message/timeout-under-load`` went over the 1 s limit while the machine ran
the test suite and a soak beside the fuzzer; alone it takes about 2 ms (a scheduling stall,
not a hang). It is kept and replayed with the seeds (test_fuzz.py), like every finding.
"""

from __future__ import annotations

import json

import msgspec
import pytest

import rollout
from replay import ContextBuilder, HistoryBuilder, build_turns, resume_context
from rollout.errors import EncodeError
from store import SqliteStore, Tuning
from tests.strategies import started_line, user_line, wire_event, wire_line

HUGE = 10**30  # JSON allows it; msgpack (and Codex's 64-bit fields) do not


def _as_json(value):
    return json.loads(msgspec.json.encode(value))


def test_msgpack_of_a_line_with_a_huge_integer_raises_encode_error():
    """decode_line/msgpack-huge-int: OverflowError escaped encode_msgpack."""
    line = rollout.decode_line(
        b'{"timestamp":"t","type":"event_msg","payload":{"type":"thread_rolled_back","num_turns":' + str(HUGE).encode() + b"}}"
    )
    with pytest.raises(EncodeError, match=r"64|int"):
        rollout.encode_msgpack(line)


@pytest.mark.parametrize("raw", [b'{"type":"","payload":{}}', b'{"type":"x","payload":null}',
                                 b'{"timestamp":"t","type":"x","payload":null,"ordinal":3}'])
def test_unknown_lines_with_default_fields_survive_msgpack(raw):
    """decode_line/msgpack-empty-type: an empty type (or null payload) was dropped as a default."""
    line = rollout.decode_line(raw)
    assert rollout.decode_msgpack(rollout.encode_msgpack(line)) == line


def _huge_token_lines() -> list[rollout.Line]:
    info = {"total_token_usage": {"input_tokens": HUGE}, "last_token_usage": {"input_tokens": 1}}
    return [started_line("t1"), user_line("hi"), wire_event({"type": "token_count", "info": info, "rate_limits": None})]


def test_builders_holding_a_huge_integer_refuse_to_dump_with_encode_error():
    """resume_context/dump-huge-int-*: ContextBuilder.dump raised OverflowError."""
    lines = _huge_token_lines()
    assert resume_context(lines).token_usage["total_token_usage"]["input_tokens"] == HUGE
    with pytest.raises(EncodeError):
        ContextBuilder.of(lines).dump()
    exec_end = wire_event({"type": "exec_command_end", "call_id": "c", "turn_id": "t1", "command": ["ls"],
                           "cwd": "/", "exit_code": HUGE})
    with pytest.raises(EncodeError):
        HistoryBuilder().feed_many([started_line("t1"), exec_end]).dump()


async def test_a_store_reads_a_thread_whose_replay_state_has_no_snapshot_form(tmp_path):
    """The store's snapshot (a cache) is skipped, not the read: OverflowError escaped SqliteStore.read."""
    meta = wire_line("session_meta", {"id": "019e0000-0000-7000-8000-00000000f001", "cwd": "/w"})
    async with SqliteStore.open(tmp_path / "t.db", tuning=Tuning(snapshot_every=1)) as store:
        thread_id = (await store.import_rollout(b"".join(rollout.encode_line(l) + b"\n" for l in [meta, *_huge_token_lines()]))).thread_id
        first = await store.read(thread_id)
        assert [t.status for t in first.turns] == ["interrupted"]
        resumed = await store.resume(thread_id)
        assert resumed.thread.id == thread_id
    async with SqliteStore.open(tmp_path / "t.db", tuning=Tuning(snapshot_every=1)) as store:
        assert _as_json((await store.read(thread_id)).turns) == _as_json(first.turns)


def _turn_items(payload: dict) -> list[dict]:
    lines = [started_line("t1"), user_line("go"), wire_event(payload)]
    return _as_json(build_turns(lines, running=True))[0]["items"][1:]


def test_a_file_change_with_a_non_string_move_path_gets_none():
    """build_turns/move-path-object: a dict move_path reached the typed item and broke its snapshot."""
    change = {"b.txt": {"type": "update", "unified_diff": 7, "move_path": {"x": 1}}, "c.txt": {"type": 3, "content": []}}
    [item] = _turn_items({"type": "patch_apply_end", "call_id": "p", "turn_id": "t1", "success": True, "changes": change})
    assert item["changes"] == [
        {"path": "b.txt", "kind": {"type": "update", "move_path": None}, "diff": ""},
        {"path": "c.txt", "kind": {"type": "add"}, "diff": ""},
    ]


def test_web_search_and_command_actions_keep_only_strings():
    """build_turns/search-query-bool: a boolean query reached WebSearchSearch.query."""
    [search] = _turn_items({"type": "web_search_end", "call_id": "w", "query": "q",
                            "action": {"type": "search", "query": True, "queries": ["a", 1]}})
    assert search["action"] == {"type": "search", "query": None, "queries": ["a"]}
    parsed = [{"type": "search", "cmd": 5, "query": ["x"], "path": 1}, {"type": "read", "cmd": "cat a", "name": 2, "path": "a"}]
    [command] = _turn_items({"type": "exec_command_end", "call_id": "c", "turn_id": "t1", "command": ["rg", "x"],
                             "cwd": "/w", "parsed_cmd": parsed, "exit_code": 0})
    assert command["commandActions"] == [
        {"type": "search", "command": "", "query": None, "path": None},
        {"type": "read", "command": "cat a", "name": "", "path": "/w/a"},
    ]


@pytest.mark.parametrize("field", ["entries", "rollout_ids"])
def test_a_memory_citation_with_scalars_where_lists_belong_is_empty_not_a_crash(field):
    """Found reading the type-confused fields above: list(5) raised TypeError."""
    [message] = _turn_items({"type": "agent_message", "message": "m", "memory_citation": {field: 5}})
    assert message["memoryCitation"] == {"entries": [], "threadIds": []}


def test_builder_states_with_odd_field_types_load_back():
    """Every finding above, end to end: a builder dumped after those lines loads and continues equally."""
    lines = [
        started_line("t1"), user_line("go"),
        wire_event({"type": "web_search_end", "call_id": "w", "query": "q", "action": {"type": "open_page", "url": 3}}),
        wire_event({"type": "patch_apply_end", "call_id": "p", "turn_id": "t1", "success": True,
                    "changes": {"a": {"type": "update", "move_path": ["x"]}}}),
        wire_event({"type": "task_complete", "turn_id": "t1"}),
    ]
    restored = HistoryBuilder.load(HistoryBuilder().feed_many(lines[:4]).dump())
    assert restored.feed_many(lines[4:]).snapshot() == build_turns(lines)


@pytest.mark.parametrize("params", [b'"\xed\xa0\x80"', b'["\xff"]', b'{"threadId": "\xed\xa0\x80"}'])
async def test_params_holding_bad_utf8_get_an_invalid_request_reply(params):
    """serve_message/params-bad-utf8: bad UTF-8 in params answered 'internal error: DecodeError'."""
    from serve import AppServer
    from store import MemoryStore

    async with MemoryStore.open() as store:
        server = AppServer(store)
        conn = server.connect(lambda _: None)
        await conn.handle(b'{"id":0,"method":"initialize","params":{"clientInfo":{"name":"t","version":"0"}}}')
        reply = json.loads(await conn.handle(b'{"id":10,"method":"thread/metadata/update","params":' + params + b"}"))
        await server.aclose()
    assert reply["id"] == 10 and reply["error"]["code"] == -32600
    assert reply["error"]["message"].startswith("Invalid request:")


@pytest.mark.parametrize("payload", [
    {"sandbox_policy": {"type": ["read-only"]}},
    {"sandbox_policy": {"type": "read-only"}, "collaboration_mode": {"mode": {"x": 1}}},
])
def test_a_turn_context_with_a_list_where_a_name_belongs_is_unread_not_a_crash(payload):
    """build_turns/sandbox-type-list: a sandbox type (or collaboration mode) that is a list raised TypeError."""
    context = wire_line("turn_context", {"cwd": "/w", "model": "m", "approval_policy": "never", **payload})
    assert not rollout.readable.codex_reads(context)
    assert build_turns([started_line("t1"), context, user_line("hi")])


async def test_a_followed_thread_whose_state_cannot_be_dumped_is_not_dumped_at_every_append(tmp_path, monkeypatch):
    """Write-time snapshots of a state msgpack cannot hold fail once per due point, not once per append."""
    attempts: list[int] = []
    original = HistoryBuilder.dump
    monkeypatch.setattr(HistoryBuilder, "dump", lambda self: attempts.append(1) or original(self))
    async with SqliteStore.open(tmp_path / "t.db", tuning=Tuning(snapshot_every=4)) as store:
        thread_id = (await store.start_thread(rollout.events.SessionMeta(cwd="/w"))).id
        await store.append(thread_id, [line for line in _huge_token_lines() if line.timestamp])
        for number in range(10):
            await store.append(thread_id, [user_line(f"more {number}")])
            await store._settled()
        assert len(attempts) <= 3  # at 4 lines, then as the thread grows by half: not 10 times
        lines = await store.read_lines(thread_id)
        assert (await store.resume(thread_id)).context == resume_context(lines)
