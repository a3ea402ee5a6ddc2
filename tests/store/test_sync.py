"""``store.sync``: incremental passes over a Codex home built from the committed scenario files."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest

from rollout.reader import read_rollout
from rollout.session_index import append_name
from store import SqliteStore
from store.sync import SourceRecords, Syncer
from store.sync.follow import follow
from tests.conformance.home import place

FIXTURES = Path(__file__).resolve().parents[1] / "conformance" / "fixtures" / "scenarios"
KEYS = ["multi_turn.paginated.0", "exec_success.legacy.0", "revert.paginated.0", "fork.paginated.1"]


def build_home(home: Path, keys: list[str] = KEYS) -> dict[str, Path]:
    """A Codex home holding the scenarios' files under Codex's names; returns name -> placed path."""
    placed = {}
    for key in keys:
        for fixture, name in json.loads((FIXTURES / f"{key}.codex.json").read_text())["files"].items():
            placed[name] = place(home, FIXTURES / fixture, name=name)
    return placed


@pytest.fixture
async def synced(tmp_path):
    home = tmp_path / "home"
    placed = build_home(home)
    records = SourceRecords(tmp_path / "t.db.sync")
    async with SqliteStore.open(tmp_path / "t.db") as store:
        yield store, Syncer(store, records, [home]), placed, home
    records.close()


async def all_ids(store) -> set[str]:
    return {info.id for info in (await store.list(source=[], model_provider=[], archived=None, limit=100)).data}


async def test_first_pass_imports_everything_and_a_second_pass_reads_nothing(synced):
    store, syncer, _, _ = synced
    first = await syncer.run()
    assert (first.new, first.appended, first.failed, first.diverged) == (5, 1, 0, 0)  # the revert segment appends
    assert len(await all_ids(store)) == 5
    second = await syncer.run()
    assert (second.files, second.bytes_read, sum(second.counts().values())) == (6, 0, 0)


async def test_a_grown_file_gets_only_its_new_lines(synced):
    store, syncer, placed, _ = synced
    name = next(name for name in placed if "_" not in name[-42:] and "01a22a46-8542" in name)
    path = placed[name]
    whole = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(whole[:5]))
    await syncer.run()
    thread_id = read_rollout(path).thread_id
    assert (await store.info(thread_id)).last_seq == 5
    with path.open("ab") as file:
        file.write(b"".join(whole[5:]) + b'{"timestamp":"2026-11-30T02:30:00.000Z","type":"event_msg","pay')  # torn
    report = await syncer.run()
    assert (report.appended, report.bytes_read) == (1, len(b"".join(whole[5:])))
    assert (await store.info(thread_id)).last_seq == len(whole)
    with path.open("ab") as file:
        file.write(b'load":{"type":"agent_message","message":"late"}}\n')
    report = await syncer.run()
    assert report.appended == 1 and (await store.info(thread_id)).last_seq == len(whole) + 1


async def test_a_rewritten_file_is_reported_and_left_alone(synced):
    store, syncer, placed, _ = synced
    await syncer.run()
    path = next(path for name, path in placed.items() if "01a22a46-8542" in name)
    thread_id = read_rollout(path).thread_id
    before = await store.export_rollout(thread_id)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join([lines[0], *reversed(lines[1:])]))
    report = await syncer.run()
    assert report.diverged == 1 and report.problems[0][0] == str(path)
    assert await store.export_rollout(thread_id) == before
    assert (await syncer.run()).diverged == 0  # reported once, until the file changes again


async def test_a_vanished_file_keeps_its_thread_and_reports_it(synced):
    store, syncer, placed, _ = synced
    await syncer.run()
    path = next(path for name, path in placed.items() if "01a22a46-8542" in name)
    thread_id = read_rollout(path).thread_id
    path.unlink()
    report = await syncer.run()
    assert report.missing == 1 and report.missing_threads == [thread_id]
    assert (await store.info(thread_id)).last_seq > 0
    assert (await syncer.run()).missing == 0
    everyone = await all_ids(store)
    assert syncer.records.missing_threads(everyone) == {thread_id}


async def test_a_vanished_file_that_comes_back_clears_the_mark(synced):
    """The file back as it was: the pass compares it, finds it unchanged, and the thread is no longer missing."""
    store, syncer, placed, _ = synced
    await syncer.run()
    path = next(path for name, path in placed.items() if "01a22a46-8542" in name)
    saved = path.read_bytes()
    path.unlink()
    await syncer.run()
    path.write_bytes(saved)
    report = await syncer.run()
    assert (report.new, report.diverged, report.missing_threads) == (0, 0, [])
    assert syncer.records.missing_threads(await all_ids(store)) == set()


async def test_archive_moves_and_renames_are_applied(synced):
    store, syncer, placed, home = synced
    await syncer.run()
    path = next(path for name, path in placed.items() if "01a22a46-8542" in name)
    thread_id = read_rollout(path).thread_id
    (home / "archived_sessions").mkdir(exist_ok=True)
    os.rename(path, home / "archived_sessions" / path.name)
    append_name(home / "session_index.jsonl", thread_id, "renamed in codex")
    report = await syncer.run()
    assert (report.moved, report.renamed, report.missing, report.new) == (1, 1, 0, 0)
    info = await store.info(thread_id)
    assert info.archived and info.name == "renamed in codex"


async def test_a_new_thread_takes_the_name_recorded_before_it_was_synced(tmp_path):
    home = tmp_path / "home"
    placed = build_home(home, ["multi_turn.paginated.0"])
    thread_id = read_rollout(next(iter(placed.values()))).thread_id
    append_name(home / "session_index.jsonl", thread_id, "named first")
    records = SourceRecords(tmp_path / "t.sync")
    async with SqliteStore.open(tmp_path / "t.db") as store:
        await Syncer(store, records, [home]).run()
        assert (await store.info(thread_id)).name == "named first"
    records.close()


@pytest.mark.parametrize("polling", [True, False], ids=["polling", "watchfiles"])
async def test_follow_applies_a_new_file(tmp_path, polling):
    """--follow sees a file written after the first pass (watchfiles, or the polling fallback)."""
    if not polling:
        pytest.importorskip("watchfiles", reason="watchfiles is not installed: only the polling fallback runs")
    home = tmp_path / "home"
    build_home(home, ["multi_turn.paginated.0"])
    records = SourceRecords(tmp_path / "t.sync")
    async with SqliteStore.open(tmp_path / "t.db") as store:
        syncer = Syncer(store, records, [home])
        await syncer.run()
        stop = asyncio.Event()
        seen = []
        task = asyncio.create_task(follow(syncer, seen.append, stop=stop, interval=0.05, polling=polling))
        await asyncio.sleep(0.3)  # let the watch start
        build_home(home, ["exec_success.legacy.0"])
        for _ in range(200):
            if len(await all_ids(store)) == 2:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 10)
        assert len(await all_ids(store)) == 2 and seen and seen[-1].new == 1
    records.close()


def test_records_survive_and_a_lost_state_file_costs_only_a_comparison(tmp_path):
    """Without its state file a pass compares every file in full and changes nothing."""
    async def main():
        home = tmp_path / "home"
        build_home(home)
        async with SqliteStore.open(tmp_path / "t.db") as store:
            records = SourceRecords(tmp_path / "a.sync")
            await Syncer(store, records, [home]).run()
            records.close()
            fresh = SourceRecords(tmp_path / "b.sync")
            report = await Syncer(store, fresh, [home]).run()
            fresh.close()
            return report
    report = asyncio.run(main())
    assert (report.new, report.appended, report.unchanged, report.diverged) == (0, 0, 6, 0)
    shutil.rmtree(tmp_path / "home")
