"""What Codex's app-server asks of a store, on every backend: list both ways with Codex's
filters, ranges of turns (and the turn index behind them), metadata edited in place, a
fork made by another client, and the change feed across processes."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from rollout import events as ev
from rollout.errors import InvalidInput, ThreadNotFound
from store import Change, MemoryStore, SqliteStore
from store.turns import CHUNK

from .conftest import event, meta, stamp, turn, user

pytestmark = pytest.mark.asyncio

EVERY = {"source": [], "model_provider": []}


async def _ids(store, **options) -> list[str]:
    ids, cursor = [], None
    while True:
        page = await store.list(cursor=cursor, **options)
        ids += [t.id for t in page.data]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


async def _threads(store, count: int) -> list[str]:
    """``count`` threads, two per second of creation time (ties broken by id)."""
    return [(await store.start_thread(meta(timestamp=stamp(i // 2)))).id for i in range(count)]


# --------------------------------------------------------------------------- list


async def test_list_pages_oldest_first_with_direction_asc(store):
    """direction="asc" walks the same threads in the opposite order, page by page."""
    await _threads(store, 7)
    newest_first = await _ids(store)
    for limit in (1, 2, 3, 50):
        assert await _ids(store, limit=limit, direction="asc") == newest_first[::-1]


async def test_a_backwards_cursor_walks_back_from_the_first_thread_of_a_page(store):
    """backwards_cursor with the opposite direction starts at the page's first thread, included."""
    await _threads(store, 7)
    newest_first = await _ids(store)
    first = await store.list(limit=3)
    second = await store.list(limit=3, cursor=first.next_cursor)
    assert [t.id for t in second.data] == newest_first[3:6]
    back = await store.list(limit=10, cursor=second.backwards_cursor, direction="asc")
    assert [t.id for t in back.data] == newest_first[3::-1]
    assert back.next_cursor is None and (await store.list(limit=1, source="exec")).backwards_cursor is None


async def test_list_filters_by_thread_ids(store):
    """ids keeps only those threads, exclude_ids drops them; ids match in any case."""
    a, b, c = await _threads(store, 3)
    assert await _ids(store, ids=[a.upper(), c]) == [c, a]
    assert await _ids(store, exclude_ids=[b]) == [c, a]
    assert await _ids(store, ids=[a, b], exclude_ids=[a]) == [b]
    assert await _ids(store, ids=[]) == []
    with pytest.raises(InvalidInput):
        await store.list(ids=["not-a-uuid"])


async def test_sub_agent_kinds_filter_as_codex_does(store):
    """Each sub-agent kind is its own filter; subAgent takes all four; a thread naming no provider is openai's."""
    sources = {"subAgentReview": {"subagent": "review"}, "subAgentCompact": {"subagent": "compact"},
               "subAgentThreadSpawn": {"subagent": {"thread_spawn": {"parent_thread_id": None, "depth": 1}}},
               "subAgentOther": {"subagent": {"other": "guardian"}}}
    made = {kind: (await store.start_thread(meta(source=source, model_provider=None))).id
            for kind, source in sources.items()}
    await store.start_thread(meta(source="cli"))
    for kind, thread_id in made.items():
        assert await _ids(store, source=kind) == [thread_id]
    assert sorted(await _ids(store, source="subAgent")) == sorted(made.values())
    assert sorted(await _ids(store, source=["subAgent"], model_provider="openai")) == sorted(made.values())
    with pytest.raises(InvalidInput):
        await store.list(source="subAgentNope")


# --------------------------------------------------------------------------- turns


async def _long_thread(store, turns: int) -> str:
    info = await store.start_thread(meta())
    lines = [line for i in range(turns) for line in turn(f"t{i}", f"prompt {i}", f"answer {i}")]
    await store.append(info.id, lines)
    return info.id


@pytest.mark.parametrize("policy", ["extended", "limited"])
async def test_turn_ranges_equal_slices_of_the_whole_read(store, policy):
    """turns(start, stop) and anchored ranges are slices of read(), in every view, before and after writes."""
    thread_id = await _long_thread(store, CHUNK + 7)
    for _ in range(2):
        for view in ("full", "summary", "notLoaded"):
            whole = (await store.read(thread_id, items_view=view, policy=policy)).turns
            for start, stop in ((0, None), (0, 5), (CHUNK - 2, CHUNK + 3), (-4, None), (10, 3)):
                got = await store.turns(thread_id, start=start, stop=stop, items_view=view, policy=policy)
                assert got.turns == whole[start:stop] and got.total == len(whole)
                assert got.start == slice(start, stop).indices(len(whole))[0]
            anchor = whole[CHUNK].id
            after = await store.turns(thread_id, anchor=anchor, start=1, stop=4, items_view=view, policy=policy)
            before = await store.turns(thread_id, anchor=anchor, start=-3, stop=0, items_view=view, policy=policy)
            assert (after.turns, after.start) == (whole[CHUNK + 1 : CHUNK + 4], CHUNK + 1)
            assert (before.turns, before.start) == (whole[CHUNK - 3 : CHUNK], CHUNK - 3)
        await store.append(thread_id, turn("late", "one more"))
        await store.rollback(thread_id, 2)


async def test_a_turn_range_names_a_missing_anchor(store):
    """An anchor that names no turn is InvalidInput; an unknown thread ThreadNotFound."""
    thread_id = await _long_thread(store, 2)
    with pytest.raises(InvalidInput):
        await store.turns(thread_id, anchor="nope")
    with pytest.raises(InvalidInput):
        await store.turns(thread_id, policy="everything")
    with pytest.raises(ThreadNotFound):
        await store.turns("00000000-0000-7000-8000-000000000000")


async def test_a_turn_range_reads_only_the_chunks_it_spans(tmp_path):
    """Once the index is saved, a page of a long thread never replays its lines."""
    async with SqliteStore.open(tmp_path / "t.db") as store:
        thread_id = await _long_thread(store, 4 * CHUNK)
        whole = await store.turns(thread_id, policy="limited")  # replays once, saves the index
        await asyncio.gather(*store._background)
        asked: list[object] = []
        real = store._derived

        async def derived(*args):
            asked.append(args[2])
            return await real(*args)

        store._derived = derived  # type: ignore[method-assign]
        store._whole = None  # type: ignore[assignment]  # any replay would fail
        page = await store.turns(thread_id, start=2 * CHUNK + 3, stop=2 * CHUNK + 28, policy="limited")
        assert page.turns == whole.turns[2 * CHUNK + 3 : 2 * CHUNK + 28]
        assert asked == [[-1], [2]]


# --------------------------------------------------------------------------- metadata and forks


async def test_update_metadata_edits_git_in_place_and_null_clears(store):
    """update_metadata sets the given fields, leaves the others, clears on None, and writes no line."""
    info = await store.start_thread(meta(git=ev.GitInfo(commit_hash="abc", branch="main")))
    edited = await store.update_metadata(info.id, git={"branch": "dev", "origin_url": "https://x/y.git"})
    assert msgspec.to_builtins(edited.git_info) == {"sha": "abc", "branch": "dev", "originUrl": "https://x/y.git"}
    assert (await store.info(info.id)).git_info == edited.git_info and edited.last_seq == 1
    assert (await store.update_metadata(info.id, git={"sha": None})).git_info.sha is None
    cleared = await store.update_metadata(info.id, git={"branch": None, "origin_url": None})
    assert cleared.git_info is None
    child = await store.fork((await store.update_metadata(info.id, git={"branch": "b2"})).id)
    assert child.git_info.branch == "b2"
    for bad in ({}, {"commit": "x"}, {"sha": 5}, None):
        with pytest.raises(InvalidInput):
            await store.update_metadata(info.id, git=bad)


async def test_a_fork_takes_the_session_fields_of_the_client_that_forks(store):
    """fork(meta=...) gives the child the asking client's source, originator and version."""
    info = await store.start_thread(meta(source="cli", originator="codex_cli_rs", cli_version="0.140.0"))
    await store.append(info.id, turn("t1", "hi"))
    child = await store.fork(info.id, meta={"source": "vscode", "originator": "my-editor", "cli_version": "9.9"})
    assert (child.source, child.originator, child.cli_version) == ("vscode", "my-editor", "9.9")
    first = (await store.read_lines(child.id, upto_seq=1))[0]
    assert first.payload.forked_from_id == info.id and first.payload.originator == "my-editor"
    for bad in ({"id": "x"}, {"forked_from_id": info.id}, {"nope": 1}, {"cli_version": 5}, "vscode"):
        with pytest.raises(InvalidInput):
            await store.fork(info.id, meta=bad)


# --------------------------------------------------------------------------- the change feed


async def test_another_processs_writes_reach_subscribers_once(tmp_path):
    """Two stores on one SQLite file: each hears the other's writes once and its own once."""
    path = tmp_path / "shared.db"
    async with SqliteStore.open(path) as mine, SqliteStore.open(path) as theirs:
        mine.watch_interval = theirs.watch_interval = 0.01
        heard: list[Change] = []
        mine.subscribe(heard.append)
        await asyncio.sleep(0.05)  # the watcher has looked at the log once
        own = await mine.start_thread(meta())
        other = await theirs.start_thread(meta())
        await theirs.append(other.id, user("hello"))
        await theirs.update_metadata(other.id, git={"branch": "x"})
        await theirs.archive(other.id)
        expected = [("started", own.id), ("started", other.id), ("appended", other.id),
                    ("metadata", other.id), ("archived", other.id)]
        for _ in range(200):
            if len(heard) >= len(expected):
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert [(c.kind, c.thread_id) for c in heard] == expected


async def test_the_memory_store_keeps_no_turn_index():
    """The oracle replays every time: turns() of MemoryStore is the reference the others are held to."""
    async with MemoryStore.open() as store:
        thread_id = await _long_thread(store, 3)
        assert not store._keeps_derived
        assert (await store.turns(thread_id, start=1)).turns == (await store.read(thread_id)).turns[1:]
        await store.append(thread_id, [event(ev.AgentMessageEvent(message="x"))])


async def test_a_fork_of_a_legacy_thread_that_never_completed_ends_interrupted(store):
    """Codex's rule: after a last user message nothing completed, the copy gets turn_aborted (no turn id)."""
    said = ev.Message(role="user", content=[ev.InputText(text="hi")])
    info = await store.start_thread(meta())
    await store.append(info.id, [ev.ResponseItemLine(timestamp=stamp(2), payload=said),
                                 event(ev.UserMessageEvent(message="hi")), event(ev.AgentMessageEvent(message="yo"))])
    child = await store.fork(info.id)
    last = (await store.read_lines(child.id))[-1]
    assert isinstance(last.payload, ev.TurnAbortedEvent) and last.payload.turn_id is None
    assert [t.status for t in (await store.read(child.id, policy="limited")).turns] == ["interrupted"]
    done = await store.fork((await _thread_with(store, turn("t1", "hi"))).id)
    assert not isinstance((await store.read_lines(done.id))[-1].payload, ev.TurnAbortedEvent)


async def _thread_with(store, lines):
    info = await store.start_thread(meta())
    await store.append(info.id, lines)
    return info


async def test_reads_with_turns_report_the_thread_source_and_forks_the_shown_name(store):
    """A read with turns carries the meta's thread_source (Codex reads the rollout); a guardian's fork is named as shown."""
    info = await store.start_thread(meta(thread_source="user"))
    assert (await store.read(info.id)).thread_source == "user"
    assert (await store.info(info.id)).thread_source is None
    guardian = await store.start_thread(meta(source={"subagent": {"other": "guardian"}}))
    assert (await store.info(guardian.id)).name == "Guardian review"
    child = await store.fork(guardian.id, meta={"source": "vscode"})
    assert (await store.info(child.id)).name == "Guardian review"


async def test_a_codex_home_indexed_with_turn_indexes_reads_without_a_replay(tmp_path):
    """FileStore(turn_index="limited") writes each file's turn index as it indexes it: a first read replays nothing."""
    from store import FileStore

    home = tmp_path / "home"
    async with FileStore.open(home) as store:
        thread_id = await _long_thread(store, CHUNK + 3)
        expected = (await store.read(thread_id, policy="limited")).turns
    for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):  # the next open indexes the file again
        (home / ".rollout-engine" / name).unlink(missing_ok=True)
    async with FileStore.open(home, turn_index="limited") as store:
        store._whole = None  # type: ignore[assignment]  # any replay would fail
        assert (await store.read(thread_id, policy="limited")).turns == expected
        assert (await store.turns(thread_id, start=-2, policy="limited")).turns == expected[-2:]
    with pytest.raises(InvalidInput):
        FileStore(home, turn_index="everything")
