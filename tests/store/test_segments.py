"""Paginated threads in segment files, in every backend: one thread, read as Codex reads it.

The files are the committed scenarios Codex 0.171.0 wrote (a ``thread/revert`` and a
paginated ``thread/fork``), under the names Codex gave them, with Codex's own answers; and
the transcribed 0.152-0.159 segment whose earlier segment is missing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import msgspec
import pytest

from replay import build_turns
from rollout.codec import decode_line
from rollout.reader import read_rollout
from store import FileStore
from tests.conformance.engine import canonical, thread_lines, turns_json
from tests.conformance.home import place
from tests.corpus import SHARED

from .conftest import BACKENDS

FIXTURES = Path(__file__).resolve().parents[1] / "conformance" / "fixtures" / "scenarios"
TRANSCRIBED = SHARED / "corpus" / "codex-transcribed"


def codex_files(key: str, tmp_path: Path) -> list[Path]:
    """The scenario's files (bases first) copied under the names Codex gave them."""
    names = json.loads((FIXTURES / f"{key}.codex.json").read_text())["files"]
    out = tmp_path / "files"
    out.mkdir(exist_ok=True)
    copies = []
    for fixture in [*sorted(FIXTURES.glob(f"{key}.base*.jsonl")), FIXTURES / f"{key}.jsonl"]:
        copies.append(Path(shutil.copy(fixture, out / names[fixture.name])))
    return copies


def codex_answer(key: str) -> list:
    return json.loads((FIXTURES / f"{key}.codex.json").read_text())["read"]


def thread_id_of(path: Path) -> str:
    return read_rollout(path).thread_id.lower()


def limited_turns(data: bytes) -> list:
    """The limited view of an exported rollout (what Codex's thread/read shows)."""
    lines = [decode_line(raw) for raw in data.splitlines() if raw]
    return json.loads(msgspec.json.encode(build_turns(lines, policy="limited")))


@pytest.fixture(params=list(BACKENDS))
async def opened(request, tmp_path):
    (tmp_path / "store").mkdir()
    async with BACKENDS[request.param](tmp_path / "store") as store:
        yield store


@pytest.mark.parametrize("key", ["revert.paginated.0", "fork.paginated.1"])
async def test_segments_import_list_and_read_as_one_thread_equal_to_codex(opened, tmp_path, key):
    """The scenario's segments import into one thread per id; its exported history reads as Codex's thread/read."""
    files = codex_files(key, tmp_path)
    results = [await opened.import_rollout(path) for path in files]
    assert all(result.gap is None for result in results)
    thread_id = thread_id_of(files[-1])
    page = await opened.list(source=[], model_provider=[], limit=100)
    assert sorted(info.id for info in page.data) == sorted({thread_id_of(path) for path in files})
    lineage = await opened.lineage(thread_id)
    assert lineage.gap is None and len(lineage.segments) == 2
    engine = limited_turns(await opened.export_rollout(thread_id))
    assert canonical(engine) == canonical(codex_answer(key))
    thread = await opened.read(thread_id)
    expected = turns_json(thread_lines(files[-1], files[:-1])[0], policy="extended")
    assert canonical(json.loads(msgspec.json.encode(thread.turns))) == canonical(expected)


async def test_a_revert_segment_is_appended_to_the_thread_not_refused(opened, tmp_path):
    """The second segment of a thread is a later segment: imported as an append, one list entry."""
    root, segment = codex_files("revert.paginated.0", tmp_path)
    first = await opened.import_rollout(root)
    second = await opened.import_rollout(segment)
    assert (first.status, second.status) == ("new", "appended")
    assert second.lines_added == len(read_rollout(segment).lines)
    assert (await opened.import_rollout(segment)).status == "unchanged"
    assert (await opened.import_rollout(root)).status == "unchanged"
    info = await opened.info(first.thread_id)
    assert info.last_seq == len(read_rollout(root).lines) + len(read_rollout(segment).lines)


async def test_the_current_segment_grows_by_its_new_lines(opened, tmp_path):
    """Importing a grown current segment appends only the new lines; the read follows."""
    root, segment = codex_files("revert.paginated.0", tmp_path)
    whole = segment.read_bytes().splitlines(keepends=True)
    segment.write_bytes(b"".join(whole[:4]))
    await opened.import_rollout(root)
    assert (await opened.import_rollout(segment)).lines_added == 4
    segment.write_bytes(b"".join(whole))
    grown = await opened.import_rollout(segment)
    assert (grown.status, grown.lines_added) == ("appended", len(whole) - 4)
    engine = limited_turns(await opened.export_rollout(grown.thread_id))
    assert canonical(engine) == canonical(codex_answer("revert.paginated.0"))


async def test_an_earlier_segment_after_a_later_one_is_reported_diverged(opened, tmp_path):
    """Segments import oldest first: the root after its revert segment changes nothing and says why."""
    root, segment = codex_files("revert.paginated.0", tmp_path)
    alone = await opened.import_rollout(segment)
    late = await opened.import_rollout(root)
    assert late.status == "diverged" and late.detail
    assert (await opened.info(alone.thread_id)).last_seq == alone.last_seq


async def test_a_segment_whose_base_is_missing_is_reported_and_shows_what_follows(opened, tmp_path):
    """A lone later segment imports; the gap is in the import result and the lineage, its turns read."""
    _, segment = codex_files("revert.paginated.0", tmp_path)
    result = await opened.import_rollout(segment)
    assert result.status == "new" and "continues from thread" in (result.gap or "")
    lineage = await opened.lineage(result.thread_id)
    assert lineage.gap == result.gap and len(lineage.segments) == 1
    thread = await opened.read(result.thread_id)
    assert [turn.id for turn in thread.turns] == [turn["id"] for turn in turns_json(read_rollout(segment).lines)]


SEGMENTS = [path for path in sorted(TRANSCRIBED.glob("*.jsonl")) if path.stem[-37] == "_"]


@pytest.mark.parametrize("source", SEGMENTS,
                         ids=lambda path: path.name[-50:])
async def test_transcribed_segment_without_its_base_reads_with_a_gap(opened, source):
    """The corpus's 0.15x segment (its first segment was never published) reads its own turns, gap reported."""
    result = await opened.import_rollout(source)
    assert result.gap is not None
    thread = await opened.read(result.thread_id)
    lines, gap = thread_lines(source)
    assert gap is not None
    assert canonical(json.loads(msgspec.json.encode(thread.turns))) == canonical(turns_json(lines, policy="extended"))


async def test_fork_and_rollback_of_a_segmented_thread_follow_its_history(opened, tmp_path):
    """A fork copies the resolved history (no base left); a rollback hides the history's last turn."""
    root, segment = codex_files("revert.paginated.0", tmp_path)
    await opened.import_rollout(root)
    thread_id = (await opened.import_rollout(segment)).thread_id
    turns = (await opened.read(thread_id)).turns
    child = await opened.fork(thread_id, at_turn=1)
    assert [turn.id for turn in (await opened.read(child.id)).turns] == [turns[0].id]
    assert b"history_base" not in await opened.export_rollout(child.id)
    assert (await opened.lineage(child.id)).segments == []
    after = await opened.rollback(thread_id, 1)
    assert [turn.id for turn in (await opened.read(after.id)).turns] == [turn.id for turn in turns[:-1]]


async def test_file_store_reads_segment_files_in_a_codex_home_and_never_writes_codex_databases(tmp_path):
    """Segments placed as Codex places them list as one thread; Codex's own databases are left untouched."""
    home = tmp_path / "home"
    home.mkdir()
    databases = {name: b"SQLite format 3\x00" + name.encode() for name in ("state_5.sqlite", "thread_history_1.sqlite")}
    for name, data in databases.items():
        (home / name).write_bytes(data)
    before = {name: (home / name).stat().st_mtime_ns for name in databases}
    files = codex_files("revert.paginated.0", tmp_path)
    for path in files:
        place(home, path)
    async with FileStore.open(home) as store:
        page = await store.list(source=[], model_provider=[])
        assert [info.id for info in page.data] == [thread_id_of(files[0])]
        assert page.data[0].path.endswith(files[-1].name)  # the current segment
        engine = limited_turns(await store.export_rollout(page.data[0].id))
        assert canonical(engine) == canonical(codex_answer("revert.paginated.0"))
        await store.set_name(page.data[0].id, "reverted")
        await store.archive(page.data[0].id)
        archived = sorted(path.name for path in (home / "archived_sessions").iterdir())
        assert archived == sorted(path.name for path in files)
        await store.unarchive(page.data[0].id)
        assert len((await store.read(page.data[0].id)).turns) == len(codex_answer("revert.paginated.0"))
    for name, data in databases.items():
        assert (home / name).read_bytes() == data and (home / name).stat().st_mtime_ns == before[name]


async def test_file_store_writes_an_imported_segment_under_codex_segment_name(tmp_path):
    """A later segment imported into a Codex home becomes its own file, named with its segment id."""
    root, segment = codex_files("revert.paginated.0", tmp_path)
    async with FileStore.open(tmp_path / "home") as store:
        await store.import_rollout(root)
        await store.import_rollout(segment)
        info = await store.info(thread_id_of(root))
    found = sorted(path.name for path in (tmp_path / "home" / "sessions").rglob("*.jsonl"))
    assert found == sorted([root.name, segment.name])
    assert info.path.endswith(segment.name)
    async with FileStore.open(tmp_path / "home") as store:  # a fresh index reads the same thread back
        assert (await store.info(info.id)).last_seq == info.last_seq
