"""Full-text search in every backend: what it finds, how it ranks, and how the index keeps up with the log."""

from __future__ import annotations

from pathlib import Path

import pytest

from rollout import events as ev
from rollout.errors import InvalidInput
from store import SqliteStore
from store.search.hits import split_snippet
from store.search.query import parse, tokens
from store.search.snippet import snippet, spans

from .conftest import event, meta, stamp, turn


def command(call_id: str, cmd: str, output: str, turn_id: str = "t1") -> list[ev.Line]:
    """An exec command's begin and end events (a commandExecution item with its output)."""
    begin = ev.ExecCommandBeginEvent(call_id=call_id, turn_id=turn_id, command=["bash", "-lc", cmd], cwd="/work")
    end = ev.ExecCommandEndEvent(call_id=call_id, turn_id=turn_id, command=["bash", "-lc", cmd], cwd="/work", exit_code=0,
                                 aggregated_output=output, stdout=output, stderr="")
    return [event(begin, 3), event(end, 4)]


async def thread_with(store, *turns_lines, **fields) -> str:
    info = await store.start_thread(meta(**fields))
    for lines in turns_lines:
        await store.append(info.id, lines)
    return info.id


def hits_of(page) -> list[tuple[str, str]]:
    return [(hit.kind, hit.snippet) for hit in page.hits]


async def test_identifiers_match_as_written_and_inside_longer_ones(store):
    """snake_case, dotted names, paths and UUIDs match where they were written; parts match inside."""
    await thread_with(store, turn("t1", "rename parse_rollout_name, call os.path.join on src/app.py for "
                                  "01a22a46-bd7c-7773-9fb2-ae6e95dc4a34", "ok"))
    for query in ("parse_rollout_name", "rollout_name", "os.path.join", "src/app.py", "01a22a46-bd7c",
                  "ae6e95dc4a34", "PARSE_ROLLOUT_NAME"):
        page = await store.search(query)
        assert [hit.kind for hit in page.hits] == ["userMessage"], query
    assert (await store.search("rollout_join")).hits == []
    assert (await store.search("name_parse")).hits == []


async def test_phrases_prefixes_and_exclusions(store):
    """A quoted phrase needs adjacent words; word* is a prefix; -word excludes."""
    await thread_with(store, turn("t1", "the parser crashed on empty input", "I fixed the crash"))
    assert hits_of(await store.search('"parser crashed"'))
    assert not (await store.search('"crashed parser"')).hits
    assert [hit.kind for hit in (await store.search("pars*")).hits] == ["userMessage"]
    assert [hit.kind for hit in (await store.search("crash*")).hits] == ["userMessage", "agentMessage"] or \
        sorted(hit.kind for hit in (await store.search("crash*")).hits) == ["agentMessage", "userMessage"]
    assert [hit.kind for hit in (await store.search("crash* -parser")).hits] == ["agentMessage"]


async def test_fields_are_weighted_user_text_above_tool_output(store):
    """The same word in a user message ranks above it in a command's output."""
    await thread_with(store, [*turn("t1", "look at zebrafish", "done")[:1], *command("c1", "ls", "zebrafish.txt")])
    await thread_with(store, turn("t2", "what about zebrafish", "sure"))
    page = await store.search("zebrafish")
    assert [hit.kind for hit in page.hits][:1] == ["userMessage"]
    assert "commandExecution" in [hit.kind for hit in page.hits]
    assert page.hits[0].score > page.hits[-1].score


async def test_role_cwd_and_since_filters(store):
    """--role picks the fields, --cwd the thread's directory, --since the item's time."""
    await thread_with(store, [*turn("t1", "kiwi please", "kiwi done")], cwd="/a")
    await thread_with(store, [*command("c1", "echo kiwi", "kiwi")], cwd="/b")
    assert {hit.role for hit in (await store.search("kiwi", role="user")).hits} == {"user"}
    assert {hit.role for hit in (await store.search("kiwi", role="assistant")).hits} == {"assistant"}
    assert {hit.kind for hit in (await store.search("kiwi", role="tool")).hits} <= {"commandExecution"}
    assert {hit.cwd for hit in (await store.search("kiwi", cwd="/a")).hits} == {"/a"}
    assert (await store.search("kiwi", since=4_102_444_800_000)).hits == []  # 2100


async def test_hits_name_thread_turn_item_and_time_and_page_with_a_cursor(store):
    """Each hit says where it is; pages continue with the cursor; threads=True gives one hit per thread."""
    thread_id = await thread_with(store, turn("t1", "apple one", "apple two"), turn("t2", "apple three", "x"))
    first = await store.search("apple", limit=2)
    assert len(first.hits) == 2 and first.next_cursor
    rest = await store.search("apple", limit=2, cursor=first.next_cursor)
    assert len(rest.hits) == 1 and rest.next_cursor is None
    hits = [*first.hits, *rest.hits]
    assert {hit.thread_id for hit in hits} == {thread_id}
    assert {hit.turn_id for hit in hits} == {"t1", "t2"}
    assert all(hit.item_id and hit.time_ms for hit in hits)
    assert len((await store.search("apple", threads=True)).hits) == 1


async def test_the_index_follows_appends_rollbacks_and_deletes(store):
    """Appended text is found; a rolled-back turn's items leave the results; a deleted thread's too."""
    thread_id = await thread_with(store, turn("t1", "first mango", "ok"))
    assert len((await store.search("mango")).hits) == 1
    await store.append(thread_id, turn("t2", "second mango", "ok"))
    assert len((await store.search("mango")).hits) == 2
    await store.rollback(thread_id, 1)
    assert [hit.turn_id for hit in (await store.search("mango")).hits] == ["t1"]
    await store.delete(thread_id)
    assert (await store.search("mango")).hits == []


async def test_a_fork_does_not_duplicate_its_inherited_items(store):
    """Turns a fork copied are hit once, on the source, naming the fork; its own turns are its own."""
    source = await thread_with(store, turn("t1", "papaya one", "ok"), turn("t2", "papaya two", "ok"))
    child = await store.fork(source, at_turn=1)
    await store.append(child.id, turn("t3", "papaya three", "ok"))
    hits = (await store.search("papaya")).hits
    assert sorted((hit.thread_id == source, hit.turn_id) for hit in hits) == [(False, "t3"), (True, "t1"),
                                                                             (True, "t2")]
    inherited = {hit.turn_id: hit.inherited_by for hit in hits}
    assert inherited["t1"] == [child.id] and inherited["t2"] == []


async def test_keep_search_index_projects_right_after_each_commit(store):
    """With keep_search_index, a write's thread is projected without waiting for a search."""
    store.keep_search_index()
    thread_id = await thread_with(store, turn("t1", "guava", "ok"))
    await store._finish_projection()
    assert (await store._index_mark(thread_id)).seq == (await store.info(thread_id)).last_seq
    assert await store.catch_up_search() == 0


async def test_bad_queries_say_why(store):
    for query in ("", "   ", "-only", '""', "***"):
        with pytest.raises(InvalidInput):
            await store.search(query)
    with pytest.raises(InvalidInput):
        await store.search("x", role="robot")
    with pytest.raises(InvalidInput):
        await store.search("x", cursor="nope")


async def test_sqlite_index_is_kept_in_the_database_and_caught_up_after_reopen(tmp_path: Path):
    """The index survives reopening; only threads written since are projected again."""
    async with SqliteStore.open(tmp_path / "t.db") as store:
        thread_id = await thread_with(store, turn("t1", "lychee", "ok"))
        await thread_with(store, turn("t2", "lychee too", "ok"))
        assert len((await store.search("lychee")).hits) == 2
    async with SqliteStore.open(tmp_path / "t.db") as store:
        assert await store.catch_up_search() == 0
        await store.append(thread_id, [event(ev.AgentMessageEvent(message="lychee again"), 9)])
        assert await store.catch_up_search() == 1
        assert len((await store.search("lychee")).hits) == 3


def test_query_words_are_the_tokenizer_words():
    """The parser splits words as FTS5's unicode61 does (case and accents folded)."""
    assert tokens("Été parse_rollout_name os.path") == ["ete", "parse", "rollout", "name", "os", "path"]
    parsed = parse('"a b" c* -d')
    assert [(term.words, term.prefix, term.negated) for term in parsed.terms] == [
        (("a", "b"), False, False), (("c",), True, False), (("d",), False, True)]


def test_snippet_markers_become_ranges():
    assert split_snippet("a\x02bc\x03d \x02e\x03", "\x02", "\x03") == ("abcd e", [(1, 3), (5, 6)])


def test_word_spans_are_the_tokenizer_words_at_their_places():
    """Folding (case, accents, ligatures, ß) never moves a word off its characters in the original text."""
    for text in ("Été parse_rollout_name os.path", "Straße ﬁx e\u0301x ÅB", "plain ASCII", ""):
        assert [word for word, _, _ in spans(text)] == tokens(text)
    text = "Straße ﬁx e\u0301x"
    assert [text[a:b] for _, a, b in spans(text)] == ["Straße", "ﬁx", "e\u0301x"]


def test_python_snippets_cut_and_highlight_as_fts5_does():
    """A phrase is one highlighted range; a long field is cut to 24 words around the matches with ellipses."""
    terms = parse('"parser crashed" inp*').terms
    assert snippet(("", "The parser crashed on empty input"), terms) == (
        "The parser crashed on empty input", [(4, 18), (28, 33)])
    words = " ".join(f"w{i}" for i in range(100))
    text, ranges = snippet((f"{words} parser crashed {words}",), terms)
    assert text.startswith("…") and text.endswith("…") and len(text.split()) == 24
    assert [text[a:b] for a, b in ranges] == ["parser crashed"]
    text, _ = snippet((f"{words}. Here the parser crashed {words}",), terms)
    assert text.startswith("…Here the parser crashed")  # a window opening a sentence is preferred
    assert snippet(("", "nothing"), parse("-x y").terms) == ("nothing", [])


def test_stamp_helper_is_rfc3339():
    assert stamp(61).endswith("01:01.000Z")


async def test_sqlite_search_skips_the_scan_only_while_nothing_was_written(tmp_path: Path):
    """After a catch-up the index is sealed at the newest change; any write, or a projection, unseals it."""
    async with SqliteStore.open(tmp_path / "t.db") as store:
        thread_id = await thread_with(store, turn("t1", "quince", "ok"))
        assert not await store._index_current()
        assert len((await store.search("quince")).hits) == 1
        assert await store._index_current()
        mark = await store._index_mark(thread_id)
        await store.set_name(thread_id, "a name")  # any write moves the generation on
        assert not await store._index_current()
        await store.catch_up_search()
        assert await store._index_current()
        from store.search.hits import Update

        await store._index_write(thread_id, Update(mark=mark, drop_from=1, docs=[], sources_changed=False))
        assert not await store._index_current()  # a projection lands: it may be of an older read


async def test_sqlite_seal_is_refused_while_a_thread_is_stale(tmp_path: Path):
    """A seal checks, holding the write lock, that nothing is stale: a write not yet projected keeps it off."""
    async with SqliteStore.open(tmp_path / "t.db") as store:
        await thread_with(store, turn("t1", "medlar", "ok"))
        await store._index_seal()
        assert not await store._index_current()
        assert await store.catch_up_search() == 1
        assert await store._index_current()


async def test_a_write_from_another_store_after_a_search_is_found(tmp_path: Path):
    """Two stores on one database: what the second writes after the first searched is in the first's next search."""
    async with SqliteStore.open(tmp_path / "t.db") as first, SqliteStore.open(tmp_path / "t.db") as second:
        thread_id = await thread_with(first, turn("t1", "tamarind", "ok"))
        assert len((await first.search("tamarind")).hits) == 1
        await second.append(thread_id, turn("t2", "tamarind again", "ok"))
        await thread_with(second, turn("t1", "tamarind elsewhere", "ok"))
        assert len((await first.search("tamarind")).hits) == 3


async def test_a_write_from_another_process_after_a_search_is_found(tmp_path: Path):
    """A separate process appends after a search: the next search in this process finds it."""
    import os
    import subprocess
    import sys

    async with SqliteStore.open(tmp_path / "t.db") as store:
        thread_id = await thread_with(store, turn("t1", "feijoa", "ok"))
        assert len((await store.search("feijoa")).hits) == 1
        assert await store._index_current()
        script = (
            "import asyncio, sys\n"
            "from rollout import events as ev\n"
            "from store import SqliteStore\n"
            "from tests.store.conftest import turn\n"
            "async def main():\n"
            "    async with SqliteStore.open(sys.argv[1]) as other:\n"
            "        await other.append(sys.argv[2], turn('t2', 'feijoa from afar', 'ok'))\n"
            "asyncio.run(main())\n"
        )
        root = Path(__file__).resolve().parents[2]
        subprocess.run([sys.executable, "-c", script, str(tmp_path / "t.db"), thread_id], check=True, cwd=root,
                       env={**os.environ, "PYTHONPATH": str(root)})
        assert not await store._index_current()
        assert sorted(hit.turn_id for hit in (await store.search("feijoa")).hits) == ["t1", "t2"]


async def test_a_broad_query_ranks_its_newest_candidates_unless_narrowed(store, monkeypatch):
    """An FTS5 query matching more than CANDIDATES items ranks the newest of them; cwd or since ranks them all."""
    import store.search.fts5 as fts5

    monkeypatch.setattr(fts5, "CANDIDATES", 4)
    old = await thread_with(store, turn("t1", "plum plum plum plum", "plum"), cwd="/old")  # the best match, indexed first
    await store.search("plum")
    for number in range(4):
        await thread_with(store, turn(f"n{number}", f"plum once {number}", "ok"), cwd="/new")
    broad = (await store.search("plum", limit=1)).hits
    if type(store).__name__ == "PostgresStore":  # its GIN index has no such cap: every match is ranked
        assert broad and broad[0].thread_id == old
        return
    assert broad and broad[0].thread_id != old
    assert (await store.search("plum", limit=1, cwd="/old")).hits[0].thread_id == old
    assert (await store.search("plum", limit=1, since=0)).hits[0].thread_id == old
    assert (await store.search("plum", limit=4)).hits[0].thread_id == old  # a page reaching past half: no cutoff


async def test_one_hit_per_thread_has_the_snippet_of_that_hit(store):
    """threads=True ranks without snippets and then makes them for the page: each hit keeps its own."""
    first = await thread_with(store, turn("t1", "cherry pie recipe", "cherry"), turn("t2", "no fruit here", "ok"))
    second = await thread_with(store, turn("t1", "cherry tomato salad", "ok"))
    hits = (await store.search("cherry", threads=True)).hits
    assert sorted(hit.thread_id for hit in hits) == sorted([first, second])
    snippets = {hit.thread_id: hit.snippet for hit in hits}
    assert "tomato" in snippets[second] and "tomato" not in snippets[first]
    assert all(hit.highlights for hit in hits)
