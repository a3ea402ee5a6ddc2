"""The store contract: every method and every error, on every backend in ``BACKENDS``."""

from __future__ import annotations

import msgspec
import pytest

import replay
from rollout import events as ev
from rollout.codec import decode_line, encode_line
from rollout.errors import (
    Conflict,
    InvalidInput,
    StoreError,
    ThreadArchived,
    ThreadNotFound,
)
from store import MemoryStore, Page, Thread, ThreadInfo

from .conftest import event, meta, raw, stamp, turn, user

pytestmark = pytest.mark.asyncio

UNKNOWN = "00000000-0000-7000-8000-000000000000"


async def _thread(store, *turns: list[ev.Line], **fields) -> ThreadInfo:
    info = await store.start_thread(meta(**fields))
    for lines in turns:
        await store.append(info.id, lines)
    return await store.info(info.id)


async def _bytes(store, thread_id: str) -> list[bytes]:
    return raw(await store.read_lines(thread_id))


# --------------------------------------------------------------------------- start_thread


async def test_start_thread_writes_session_meta_as_seq_1(store):
    """start_thread stores the meta as line 1 and reports its metadata."""
    info = await store.start_thread(meta(id="019e0000-0000-7000-8000-000000000001", cwd="/src"))
    assert info.id == "019e0000-0000-7000-8000-000000000001"
    assert (info.last_seq, info.cwd, info.source, info.model_provider) == (1, "/src", "cli", "openai")
    assert (info.cli_version, info.created_at, info.archived, info.name) == ("0.140.0", 1_780_308_000, False, None)
    [line] = await store.read_lines(info.id)
    assert isinstance(line, ev.SessionMetaLine) and line.payload.id == info.id


async def test_start_thread_fills_missing_id_and_timestamp(store):
    """An empty id becomes a UUIDv7 and an empty timestamp the current time."""
    info = await store.start_thread(ev.SessionMeta(cwd="/x"))
    assert info.id[14] == "7" and len(info.id) == 36
    [line] = await store.read_lines(info.id)
    assert line.payload.timestamp and line.timestamp and line.timestamp.endswith("Z")


async def test_start_thread_keeps_a_decoded_meta_line_byte_for_byte(store):
    """A decoded SessionMetaLine is stored exactly as read, unknown fields included."""
    data = (b'{"timestamp":"2026-06-01T10:00:00.000Z","type":"session_meta","payload":'
            b'{"id":"019e0000-0000-7000-8000-0000000000aa","timestamp":"2026-06-01T10:00:00.000Z",'
            b'"cwd":"/w","originator":"x","cli_version":"1","future_field":{"a":1}}}')
    info = await store.start_thread(decode_line(data))
    assert (await store.export_rollout(info.id)) == data + b"\n"


async def test_start_thread_rejects_taken_ids_and_non_meta(store):
    """A duplicate id and a value that is not session metadata are InvalidInput."""
    info = await store.start_thread(meta())
    with pytest.raises(InvalidInput):
        await store.start_thread(meta(id=info.id))
    with pytest.raises(InvalidInput):
        await store.start_thread({"id": "x"})


# --------------------------------------------------------------------------- append


async def test_append_returns_the_new_last_seq_and_stores_the_bytes(store):
    """append numbers lines contiguously and read_lines returns them as stored."""
    info = await store.start_thread(meta())
    lines = turn("t-1", "hello")
    assert await store.append(info.id, lines) == 1 + len(lines)
    assert await store.append(info.id, lines[:2], expected_seq=1 + len(lines)) == 3 + len(lines)
    stored = await _bytes(store, info.id)
    assert stored[1:] == raw(lines) + raw(lines[:2])


async def test_append_keeps_unknown_fields_of_decoded_lines(store):
    """Decoded lines keep their exact bytes, unknown fields and key order included."""
    info = await store.start_thread(meta())
    data = b'{"type":"event_msg","payload":{"message":"hi","type":"agent_message","x":[1]},"timestamp":"2026-06-01T10:00:01Z"}'
    await store.append(info.id, [decode_line(data)])
    assert (await _bytes(store, info.id))[1] == data


async def test_append_with_a_stale_expected_seq_conflicts_and_writes_nothing(store):
    """An expected_seq mismatch raises Conflict carrying both seqs; nothing is written."""
    info = await store.start_thread(meta())
    await store.append(info.id, user("one"))
    with pytest.raises(Conflict) as caught:
        await store.append(info.id, user("two"), expected_seq=1)
    assert (caught.value.expected_seq, caught.value.actual_seq) == (1, 3)
    assert (await store.info(info.id)).last_seq == 3


async def test_append_rejects_a_bad_line_before_writing_anything(store):
    """A non-line item fails the whole append with InvalidInput naming its index."""
    info = await store.start_thread(meta())
    with pytest.raises(InvalidInput, match=r"lines\[1\]"):
        await store.append(info.id, [user("a")[0], {"type": "event_msg"}, user("b")[0]])
    with pytest.raises(InvalidInput):
        await store.append(info.id, user("a")[0])  # a line, not a list of lines
    with pytest.raises(InvalidInput):
        await store.append(info.id, [ev.ResponseItemLine(timestamp="t", payload="not an item")])
    assert (await store.info(info.id)).last_seq == 1


async def test_append_rejects_bad_options(store):
    """Negative or non-int expected_seq and non-string keys are InvalidInput."""
    info = await store.start_thread(meta())
    for bad in (-1, 1.0, True, "1"):
        with pytest.raises(InvalidInput):
            await store.append(info.id, user("a"), expected_seq=bad)
    with pytest.raises(InvalidInput):
        await store.append(info.id, user("a"), idempotency_key=7)


async def test_repeated_idempotency_key_returns_the_first_result_and_writes_nothing(store):
    """A retried append with the same key is a no-op that returns the original seq."""
    info = await store.start_thread(meta())
    first = await store.append(info.id, user("a"), idempotency_key="k1")
    await store.append(info.id, user("b"))
    again = await store.append(info.id, user("a"), idempotency_key="k1", expected_seq=1)
    assert first == again == 3
    assert (await store.info(info.id)).last_seq == 5


async def test_empty_append_returns_the_last_seq(store):
    """Appending no lines writes nothing and returns the current last seq."""
    info = await store.start_thread(meta())
    assert await store.append(info.id, [], expected_seq=1) == 1


async def test_append_to_unknown_or_archived_thread_fails(store):
    """Unknown threads raise ThreadNotFound; archived ones ThreadArchived."""
    with pytest.raises(ThreadNotFound):
        await store.append(UNKNOWN, user("a"))
    info = await store.start_thread(meta())
    await store.archive(info.id)
    with pytest.raises(ThreadArchived):
        await store.append(info.id, user("a"))


# --------------------------------------------------------------------------- reading lines


async def test_read_lines_honours_after_and_upto(store):
    """read_lines returns lines with after_seq < seq <= upto_seq."""
    info = await _thread(store, turn("t-1", "a"), turn("t-2", "b"))
    every = await _bytes(store, info.id)
    assert raw(await store.read_lines(info.id, after_seq=2, upto_seq=5)) == every[2:5]
    assert raw(await store.read_lines(info.id, after_seq=9)) == every[9:]
    assert await store.read_lines(info.id, after_seq=99) == []
    assert raw(await store.read_lines(info.id, upto_seq=99)) == every


async def test_read_lines_rejects_bad_bounds_and_unknown_threads(store):
    """Negative bounds are InvalidInput; unknown threads ThreadNotFound."""
    info = await store.start_thread(meta())
    with pytest.raises(InvalidInput):
        await store.read_lines(info.id, after_seq=-1)
    with pytest.raises(ThreadNotFound):
        await store.read_lines(UNKNOWN)
    with pytest.raises(InvalidInput):
        await store.read_lines(42)


async def test_iter_lines_pages_through_the_same_lines(store):
    """iter_lines yields exactly what read_lines returns, whatever the page size."""
    info = await _thread(store, turn("t-1", "a"), turn("t-2", "b"))
    expected = await _bytes(store, info.id)
    for size in (1, 3, 1000):
        assert raw([line async for line in store.iter_lines(info.id, page_size=size)]) == expected
    assert raw([line async for line in store.iter_lines(info.id, after_seq=3, upto_seq=7)]) == expected[3:7]


# --------------------------------------------------------------------------- read / resume


async def test_read_returns_the_replayed_turns(store):
    """read equals replay.build_turns of the thread's lines, in every items view."""
    info = await _thread(store, turn("t-1", "first"), turn("t-2", "second", end="open"))
    lines = await store.read_lines(info.id)
    for view in ("full", "summary", "notLoaded"):
        thread = await store.read(info.id, items_view=view)
        assert isinstance(thread, Thread) and thread.turns == replay.build_turns(lines, items_view=view)
    thread = await store.read(info.id)
    assert [t.status for t in thread.turns] == ["completed", "interrupted"]
    assert thread.preview == "first" and thread.last_seq == len(lines)


async def test_read_after_more_appends_matches_a_full_replay(store):
    """Reading between appends never leaves the cached history behind."""
    info = await store.start_thread(meta())
    for number in range(6):
        await store.append(info.id, turn(f"t-{number}", f"prompt {number}"))
        lines = await store.read_lines(info.id)
        assert (await store.read(info.id)).turns == replay.build_turns(lines)


async def test_read_rejects_bad_views_and_unknown_threads(store):
    """A bad items_view is InvalidInput; an unknown thread ThreadNotFound."""
    info = await store.start_thread(meta())
    with pytest.raises(InvalidInput):
        await store.read(info.id, items_view="everything")
    with pytest.raises(ThreadNotFound):
        await store.read(UNKNOWN)
    with pytest.raises(ThreadNotFound):
        await store.info(UNKNOWN)


async def test_resume_returns_turns_and_model_context(store):
    """resume gives the thread with turns and replay.resume_context of its lines."""
    info = await _thread(store, turn("t-1", "first"), turn("t-2", "second"))
    resumed = await store.resume(info.id)
    lines = await store.read_lines(info.id)
    assert resumed.thread.turns == replay.build_turns(lines)
    assert resumed.context == replay.resume_context(lines)
    assert resumed.thread.id == info.id


async def test_resume_of_archived_or_unknown_thread_fails(store):
    """Resuming an archived thread raises ThreadArchived; an unknown one ThreadNotFound."""
    info = await _thread(store, turn("t-1", "first"))
    await store.archive(info.id)
    with pytest.raises(ThreadArchived, match="archived"):
        await store.resume(info.id)
    assert (await store.read(info.id)).archived
    with pytest.raises(ThreadNotFound):
        await store.resume(UNKNOWN)


# --------------------------------------------------------------------------- fork


async def test_fork_copies_the_whole_thread_after_its_own_meta(store):
    """A fork's lines are its meta (forked_from_id) then the source's lines; name and preview carry over."""
    source = await _thread(store, turn("t-1", "hello"), turn("t-2", "again"))
    await store.set_name(source.id, "My thread")
    child = await store.fork(source.id)
    assert (child.forked_from_id, child.name, child.preview) == (source.id, "My thread", "hello")
    lines = await store.read_lines(child.id)
    assert isinstance(lines[0], ev.SessionMetaLine)
    assert (lines[0].payload.id, lines[0].payload.forked_from_id) == (child.id, source.id)
    assert raw(lines[1:]) == await _bytes(store, source.id)
    assert child.last_seq == len(lines) == source.last_seq + 1
    assert (await store.read(child.id)).turns == replay.build_turns(lines)


async def test_fork_of_a_thread_ending_mid_turn_closes_that_turn(store):
    """Forking mid-turn appends turn_aborted(interrupted) so the fork replays it interrupted (TC38)."""
    source = await _thread(store, turn("t-1", "one"), turn("t-9", "partial", end="open"))
    child = await store.fork(source.id)
    last = (await store.read_lines(child.id))[-1]
    assert isinstance(last.payload, ev.TurnAbortedEvent)
    assert (last.payload.turn_id, last.payload.reason) == ("t-9", "interrupted")
    turns = (await store.read(child.id)).turns
    assert [(t.id, t.status) for t in turns] == [("t-1", "completed"), ("t-9", "interrupted")]
    assert child.last_seq == source.last_seq + 2


async def test_fork_at_turn_keeps_that_many_turns(store):
    """fork(at_turn=k) replays like the source's first k turns (k < 0: all but the last -k; an id: through it)."""
    source = await _thread(store, turn("t-1", "a"), turn("t-2", "b"), turn("t-3", "c"))
    full = (await store.read(source.id)).turns
    by_count = await store.fork(source.id, at_turn=2)
    by_id = await store.fork(source.id, at_turn="t-2")
    all_but_last = await store.fork(source.id, at_turn=-1)
    for child in (by_count, by_id, all_but_last):
        assert (await store.read(child.id)).turns == full[:2]
    every = await store.fork(source.id, at_turn=3)
    assert (await store.read(every.id)).turns == full


async def test_fork_at_an_open_turn_closes_it(store):
    """A fork ending inside an unfinished turn gets the interruption marker."""
    source = await _thread(store, turn("t-1", "a", end="open"), turn("t-2", "b"))
    child = await store.fork(source.id, at_turn=1)
    turns = (await store.read(child.id)).turns
    assert [(t.id, t.status) for t in turns] == [("t-1", "interrupted")]
    assert isinstance((await store.read_lines(child.id))[-1].payload, ev.TurnAbortedEvent)


async def test_fork_rejects_missing_turns_archived_and_unknown_sources(store):
    """Bad at_turn is InvalidInput; archived sources ThreadArchived; unknown ThreadNotFound."""
    source = await _thread(store, turn("t-1", "a"))
    for bad in (0, 2, -1, "t-missing", 1.5, True):
        with pytest.raises(InvalidInput):
            await store.fork(source.id, at_turn=bad)
    with pytest.raises(ThreadNotFound):
        await store.fork(UNKNOWN)
    await store.archive(source.id)
    with pytest.raises(ThreadArchived):
        await store.fork(source.id)
    with pytest.raises(ThreadArchived):
        await store.fork(source.id, at_turn=1)


async def test_fork_and_source_diverge_after_the_fork(store):
    """Later appends to the source stay out of the fork and vice versa."""
    source = await _thread(store, turn("t-1", "a"))
    child = await store.fork(source.id)
    await store.append(source.id, turn("t-2", "source only"))
    await store.append(child.id, turn("t-3", "child only"))
    assert [t.id for t in (await store.read(source.id)).turns] == ["t-1", "t-2"]
    assert [t.id for t in (await store.read(child.id)).turns] == ["t-1", "t-3"]


async def test_fork_of_a_fork_reads_the_whole_lineage(store):
    """A grandchild holds its meta, its parent's meta, and the root's lines."""
    root = await _thread(store, turn("t-1", "a"))
    child = await store.fork(root.id)
    await store.append(child.id, turn("t-2", "b"))
    grandchild = await store.fork(child.id, at_turn="t-2")
    lines = await _bytes(store, grandchild.id)
    assert lines[1:] == await _bytes(store, child.id)
    assert [t.id for t in (await store.read(grandchild.id)).turns] == ["t-1", "t-2"]


async def test_deleting_a_forked_source_keeps_its_forks_whole(store):
    """Forks stay readable and exportable after their source (and its source) is deleted."""
    root = await _thread(store, turn("t-1", "a"), turn("t-2", "b"))
    child = await store.fork(root.id, at_turn=1)
    grandchild = await store.fork(child.id)
    expected = {tid: await store.export_rollout(tid) for tid in (child.id, grandchild.id)}
    await store.delete(root.id)
    await store.delete(child.id)
    assert await store.export_rollout(grandchild.id) == expected[grandchild.id]
    assert [t.id for t in (await store.read(grandchild.id)).turns] == ["t-1"]
    for gone in (root.id, child.id):
        with pytest.raises(ThreadNotFound):
            await store.read_lines(gone)
    await store.delete(grandchild.id)
    assert (await store.list()).data == []


# --------------------------------------------------------------------------- rollback


async def test_rollback_appends_a_marker_and_drops_turns(store):
    """rollback(n) appends thread_rolled_back{n}; the thread reads without its last n turns."""
    info = await _thread(store, turn("t-1", "a"), turn("t-2", "b"), turn("t-3", "c"))
    after = await store.rollback(info.id, 2)
    assert [t.id for t in (await store.read(info.id)).turns] == ["t-1"]
    last = (await store.read_lines(info.id))[-1]
    assert isinstance(last.payload, ev.ThreadRolledBackEvent) and last.payload.num_turns == 2
    assert after.last_seq == info.last_seq + 1
    assert isinstance(after, ThreadInfo) and type(after) is type(await store.fork(info.id))


async def test_rollback_rejects_bad_counts_archived_and_unknown_threads(store):
    """num_turns < 1 is InvalidInput; archived ThreadArchived; unknown ThreadNotFound."""
    info = await _thread(store, turn("t-1", "a"))
    for bad in (0, -1, 1.0, None):
        with pytest.raises(InvalidInput):
            await store.rollback(info.id, bad)
    with pytest.raises(ThreadNotFound):
        await store.rollback(UNKNOWN, 1)
    await store.archive(info.id)
    with pytest.raises(ThreadArchived):
        await store.rollback(info.id, 1)


# --------------------------------------------------------------------------- names, archive, delete


async def test_set_name_trims_and_rejects_empty_names(store):
    """Names are trimmed; blank names are InvalidInput; unknown threads ThreadNotFound."""
    info = await store.start_thread(meta())
    assert (await store.set_name(info.id, "  Fix the build ")).name == "Fix the build"
    assert (await store.info(info.id)).name == "Fix the build"
    with pytest.raises(InvalidInput):
        await store.set_name(info.id, "   ")
    with pytest.raises(ThreadNotFound):
        await store.set_name(UNKNOWN, "x")


async def test_archive_and_unarchive_toggle_the_flag(store):
    """archive hides a thread from the default list; unarchive brings it back, updated now."""
    info = await _thread(store, turn("t-1", "a"))
    assert (await store.archive(info.id)).archived
    assert (await store.archive(info.id)).archived  # idempotent
    assert [t.id for t in (await store.list()).data] == []
    assert [t.id for t in (await store.list(archived=True)).data] == [info.id]
    back = await store.unarchive(info.id)
    assert not back.archived and back.updated_at >= info.updated_at
    assert [t.id for t in (await store.list()).data] == [info.id]
    for method in (store.archive, store.unarchive, store.delete):
        with pytest.raises(ThreadNotFound):
            await method(UNKNOWN)


async def test_deleted_threads_are_gone_everywhere(store):
    """After delete every method reports ThreadNotFound and list skips the thread."""
    info = await _thread(store, turn("t-1", "a"))
    await store.delete(info.id)
    for call in (store.info, store.read, store.read_lines, store.resume, store.export_rollout,
                 store.fork, store.archive, store.delete):
        with pytest.raises(ThreadNotFound):
            await call(info.id)
    with pytest.raises(ThreadNotFound):
        await store.append(info.id, user("a"))
    assert (await store.list(archived=None)).data == []


# --------------------------------------------------------------------------- list


async def _page_ids(store, **options) -> list[str]:
    ids, cursor = [], None
    while True:
        page = await store.list(cursor=cursor, **options)
        assert isinstance(page, Page)
        ids += [t.id for t in page.data]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


async def test_list_pages_newest_first_without_skips_or_repeats(store):
    """Threads created in the same millisecond are neither skipped nor repeated across pages."""
    ids = [(await store.start_thread(meta(timestamp=stamp(i // 3)))).id for i in range(8)]
    expected = [tid for _, tid in sorted(((i // 3, tid) for i, tid in enumerate(ids)), reverse=True)]
    for limit in (1, 2, 3, 50):
        assert await _page_ids(store, limit=limit) == expected


async def test_list_sorts_by_updated_at(store):
    """sort="updated_at" puts the most recently appended thread first."""
    old = await store.start_thread(meta(timestamp=stamp(1)))
    new = await store.start_thread(meta(timestamp=stamp(2)))
    assert await _page_ids(store) == [new.id, old.id]
    await store.append(old.id, user("later"))
    ids = await _page_ids(store, sort="updated_at")
    assert ids[0] == old.id


async def test_list_filters_by_source_provider_cwd_and_search(store):
    """Filters match exactly (search: name or preview, case-insensitive); [] lets every value through."""
    a = await _thread(store, user("Fix the PARSER"), cwd="/a", source="exec", timestamp=stamp(1))
    b = await _thread(store, user("write docs"), cwd="/b", source="vscode", model_provider="ollama",
                      timestamp=stamp(2))
    await store.set_name(b.id, "Docs Sprint")
    every = {"source": [], "model_provider": []}
    assert await _page_ids(store, source="exec") == [a.id]
    assert await _page_ids(store, source=["exec", "vscode"], model_provider=[]) == [b.id, a.id]
    assert await _page_ids(store, model_provider="ollama", source=[]) == [b.id]
    assert await _page_ids(store, cwd=["/a"], **every) == [a.id]
    assert await _page_ids(store, search="parser", **every) == [a.id]
    assert await _page_ids(store, search="sprint", **every) == [b.id]
    assert await _page_ids(store, search="nothing like it", **every) == []


async def test_default_list_shows_what_codex_thread_list_shows(store):
    """A plain list() holds interactive sources (cli, vscode) of the default provider, as Codex's thread/list {}."""
    shown = [await _thread(store, source="cli", timestamp=stamp(1)),
             await _thread(store, source="vscode", model_provider=None, timestamp=stamp(2))]
    hidden = [await _thread(store, source=source, timestamp=stamp(3 + i))
              for i, source in enumerate(["exec", "mcp", "unknown", {"subagent": "review"}, {"custom": "x"}])]
    hidden.append(await _thread(store, source="cli", model_provider="azure", timestamp=stamp(9)))
    code = await store.start_thread(ev.SessionMeta(cwd="/x", model_provider="openai"))
    assert (code.source, code.model_provider) == ("unknown", "openai")
    assert sorted(await _page_ids(store)) == sorted(t.id for t in shown)
    everything = await _page_ids(store, source=[], model_provider=[])
    assert sorted(everything) == sorted(t.id for t in [*shown, *hidden, code])


async def test_list_rejects_bad_arguments(store):
    """Bad limit, sort, cursor or filter values are InvalidInput."""
    await store.start_thread(meta())
    await store.start_thread(meta())
    for options in ({"limit": 0}, {"limit": "5"}, {"sort": "name"}, {"cursor": "not-a-cursor"},
                    {"archived": "yes"}, {"source": 3}, {"search": 1}):
        with pytest.raises(InvalidInput):
            await store.list(**options)
    cursor = (await store.list(limit=1)).next_cursor
    with pytest.raises(InvalidInput):
        await store.list(cursor=cursor, sort="updated_at")


async def test_thread_info_encodes_as_the_v2_thread_shape(store):
    """ThreadInfo JSON is camelCase with Codex's Thread fields."""
    info = await _thread(store, user("hello"))
    data = msgspec.json.decode(msgspec.json.encode(info))
    for key in ("id", "forkedFromId", "preview", "modelProvider", "createdAt", "updatedAt", "cwd",
                "cliVersion", "source", "name", "archived", "status", "gitInfo", "lastSeq"):
        assert key in data
    assert data["status"] == {"type": "notLoaded"} and data["preview"] == "hello"


# --------------------------------------------------------------------------- metadata


async def test_metadata_follows_the_threads_own_session_meta_lines(store):
    """Preview is the first user message; git comes from the newest own meta; foreign metas are ignored."""
    info = await store.start_thread(meta(git=ev.GitInfo(branch="main")))
    later = ev.SessionMetaLine(timestamp=stamp(5), payload=meta(id=info.id, git=ev.GitInfo(branch="dev")))
    foreign = ev.SessionMetaLine(timestamp=stamp(6), payload=meta(id=UNKNOWN, cwd="/elsewhere"))
    await store.append(info.id, [*user("## My request for Codex:\n first "), later, foreign, *user("second")])
    current = await store.info(info.id)
    assert (current.preview, current.git_info.branch, current.cwd) == ("first", "dev", "/work")


# --------------------------------------------------------------------------- import / export


async def test_import_then_export_gives_the_file_back(store):
    """import_rollout keeps every line's bytes; export_rollout returns them newline-terminated."""
    source = await MemoryStore.open()
    info = await _thread(source, turn("t-1", "a"), turn("t-2", "b"))
    data = await source.export_rollout(info.id)
    result = await store.import_rollout(data)
    assert (result.thread_id, result.status, result.lines_added) == (info.id, "new", info.last_seq)
    thread_id = result.thread_id
    assert await store.export_rollout(thread_id) == data
    assert (await store.read(thread_id)).turns == (await source.read(info.id)).turns
    imported = await store.info(thread_id)
    assert (imported.preview, imported.last_seq, imported.created_at) == ("a", info.last_seq, info.created_at)


async def test_import_rejects_empty_and_meta_less_sources(store):
    """Empty input, a missing file or no session_meta are InvalidInput; re-importing changes nothing."""
    data = encode_line(ev.SessionMetaLine(timestamp=stamp(), payload=meta(id=UNKNOWN))) + b"\n"
    await store.import_rollout(data)
    again = await store.import_rollout(data)
    assert (again.status, again.lines_added, again.last_seq) == ("unchanged", 0, 1)
    for bad in (b"", b"\n\n", b"{not json}\n", encode_line(user("x")[1]) + b"\n", "/nonexistent/file.jsonl"):
        with pytest.raises(InvalidInput):
            await store.import_rollout(bad)


async def test_export_of_unknown_thread_fails(store):
    """export_rollout of an unknown thread raises ThreadNotFound."""
    with pytest.raises(ThreadNotFound):
        await store.export_rollout(UNKNOWN)


async def test_a_deleted_thread_can_be_imported_again(store):
    """Deleting frees the thread id, even when forks still read the old lines."""
    info = await _thread(store, turn("t-1", "a"))
    data = await store.export_rollout(info.id)
    child = await store.fork(info.id)
    await store.delete(info.id)
    assert (await store.import_rollout(data)).thread_id == info.id
    assert await store.export_rollout(info.id) == data
    assert (await store.read_lines(child.id))[1:] == await store.read_lines(info.id)


# --------------------------------------------------------------------------- lifecycle


async def test_a_closed_store_refuses_calls(store):
    """Every call on a closed store raises StoreError; close is idempotent."""
    info = await store.start_thread(meta())
    await store.close()
    await store.close()
    with pytest.raises(StoreError):
        await store.append(info.id, user("a"))
    with pytest.raises(StoreError):
        await store.read(info.id)
    with pytest.raises(StoreError):
        await store.list()


async def test_event_with_unknown_payload_is_stored_and_replayed(store):
    """Unknown event types are kept verbatim and ignored by replay."""
    info = await store.start_thread(meta())
    data = b'{"timestamp":"2026-06-01T10:00:01.000Z","type":"event_msg","payload":{"type":"brand_new_event","x":1}}'
    await store.append(info.id, [decode_line(data), event(ev.AgentMessageEvent(message="hi"))])
    assert (await _bytes(store, info.id))[1] == data
    assert [len(t.items) for t in (await store.read(info.id)).turns] == [1]
