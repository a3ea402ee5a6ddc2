"""PostgreSQL's search index: the tsvector and tsquery it writes, its limits, several processes, and FTS5 parity."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest

from benchmarks.workload import generate_thread
from rollout import events as ev
from rollout.errors import StoreError
from store import MemoryStore, PostgresStore
from store.postgres import search
from store.postgres.schema import MIGRATIONS, SCHEMA_VERSION
from store.search.hits import Mark, Update
from store.search.query import parse, tokens

from ..conftest import event, meta, turn
from .conftest import admin


def test_documents_are_the_fts5_words_with_a_weight_per_field():
    """Words split as FTS5 splits them; user text weighs A, tool output D; fields stay apart."""
    literal, words = search.document(("Fix parse_rollout_name", "", "", "", "src/app.py", ""))
    assert literal == "'fix':2A 'parse':3A 'rollout':4A 'name':5A 'src':7 'app':8 'py':9"
    assert words == " fix parse rollout name | src app py "
    assert search.LETTERS == {"user": "A", "agent": "B", "reasoning": "D", "tool_in": "C", "tool_out": "D",
                              "paths": "C"}


def test_queries_compile_to_words_and_phrases_without_a_text_parser():
    """Identifiers and phrases need their words and the phrase in the word stream; prefixes :*; exclusions."""
    compiled = search.compile_query(parse('os.path.join "bad crash" pars* -name -"x y" log_*'))
    assert compiled.match == "'os' & 'path' & 'join' & 'bad' & 'crash' & 'pars':* & !'name' & 'log':*"
    assert compiled.phrases == [" os path join ", " bad crash "]
    assert compiled.excluded == [("'x' & 'y'", " x y ")]
    assert search.compile_query(parse("it's")) == search.Compiled("'it' & 's'", [" it s "], [])
    assert search.compile_query(parse("x" * 3000)) is None  # longer than PostgreSQL keeps: nothing can match
    assert search.compile_query(parse("ok -" + "x" * 3000)).match == "'ok'"


def test_postgres_limits_are_respected_not_raised():
    """A huge word is left out of the tsvector, positions clamp at 16,383, a word keeps 256 positions."""
    text = " ".join(["long" + "x" * 3000, *(["filler"] * 20_000), "tail"])
    literal, words = search.document(("", "", "", "", text, ""))
    assert "xxx" not in literal and "xxx" in words
    assert "'tail':16383" in literal
    assert literal.count(",") == 255  # filler's first 256 positions


async def test_a_long_tool_output_stays_searchable_past_the_position_limit(dsn, schema):
    """An identifier after 16,383 positions, among words past 256 positions each, is still found."""
    async with PostgresStore.open(dsn, schema=schema) as store:
        info = await store.start_thread(meta())
        output = " ".join(["z" * 3000, *(str(i % 10) for i in range(20_000)), "needle_at_the_end"])
        begin = ev.ExecCommandBeginEvent(call_id="c1", turn_id="t1", command=["ls"], cwd="/w")
        end = ev.ExecCommandEndEvent(call_id="c1", turn_id="t1", command=["ls"], cwd="/w", exit_code=0,
                                     aggregated_output=output, stdout=output, stderr="")
        await store.append(info.id, [*turn("t1", "list it", "ok")[:1], event(begin, 3), event(end, 4)])
        [hit] = (await store.search("needle_at_the_end")).hits
        assert hit.kind == "commandExecution" and hit.snippet.endswith("needle_at_the_end")
        assert hit.snippet[hit.highlights[0][0]:hit.highlights[0][1]] == "needle_at_the_end"


async def test_each_store_finds_what_another_process_wrote(dsn, schema):
    """The watermark is in the database: a store that never heard of a write still indexes it first."""
    async with PostgresStore.open(dsn, schema=schema, listen=False) as one, \
            PostgresStore.open(dsn, schema=schema, listen=False) as two:
        thread_id = (await two.start_thread(meta())).id
        await two.append(thread_id, turn("t1", "quince jam", "ok"))
        assert [hit.turn_id for hit in (await one.search("quince")).hits] == ["t1"]
        await two.append(thread_id, turn("t2", "more quince", "ok"))
        assert await two.catch_up_search() == 1  # `one` indexed t1 only: `two` catches up from there
        assert {hit.turn_id for hit in (await one.search("quince")).hits} == {"t1", "t2"}
        await two.delete(thread_id)
        assert (await one.search("quince")).hits == []


async def test_projections_racing_in_two_stores_leave_one_consistent_index(dsn, schema):
    """Two stores catching up the same threads at once while they grow: every item once, every mark current."""
    async with PostgresStore.open(dsn, schema=schema, listen=False) as one, \
            PostgresStore.open(dsn, schema=schema, listen=False) as two:
        ids = [(await one.start_thread(meta())).id for _ in range(6)]
        for round_ in range(3):
            for thread_id in ids:
                await one.append(thread_id, turn(f"t{round_}", f"feijoa round{round_}", "ok"))
            await asyncio.gather(one.catch_up_search(), two.catch_up_search(), one.catch_up_search())
        await one.rollback(ids[0], 1)
        await asyncio.gather(one.catch_up_search(), two.catch_up_search())
        assert await one.catch_up_search() == 0
        rows = await admin(dsn, f"SELECT thread_id::text AS id, turn_id, item_id FROM {schema}.search_items")
        assert len(rows) == len({(row["id"], row["turn_id"], row["item_id"]) for row in rows}) == 6 * 3 * 2 - 2
        assert len((await two.search("feijoa", limit=100)).hits) == 6 * 3 - 1


async def test_a_projection_that_lost_a_race_is_done_again_from_scratch(dsn, schema):
    """An update whose kept rows are not the ones it assumed is refused, and the thread projected afresh."""
    async with PostgresStore.open(dsn, schema=schema) as store:
        thread_id = (await store.start_thread(meta())).id
        await store.append(thread_id, turn("t1", "medlar one", "ok"))
        await store.append(thread_id, turn("t2", "medlar two", "ok"))
        await store.catch_up_search()
        stale = Update(mark=Mark(seq=999, sigs=[b"\0" * 8, b"\1" * 8]), drop_from=1)
        await store._index_write(thread_id, stale)
        mark = await store._index_mark(thread_id)
        assert mark is not None and mark.seq == (await store.info(thread_id)).last_seq
        assert sorted(hit.turn_id for hit in (await store.search("medlar")).hits) == ["t1", "t2"]


async def test_a_schema_of_version_1_gains_the_index_when_opened_without_create(dsn, schema):
    """Reading commands open with create=False: an older schema is still migrated, so search works."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}; SET search_path TO {schema}; CREATE TABLE schema_migrations "
                           "(version integer PRIMARY KEY, name text NOT NULL, applied_ms bigint NOT NULL); "
                           f"{MIGRATIONS[0][2]}; INSERT INTO schema_migrations VALUES (1, 'initial schema', 0)")
    finally:
        await conn.close()
    async with PostgresStore.open(dsn, schema=schema, create=False) as store:
        await store.append((await store.start_thread(meta())).id, turn("t1", "sloe gin", "ok"))
        assert len((await store.search("sloe")).hits) == 1
    rows = await admin(dsn, f"SELECT max(version) AS v FROM {schema}.schema_migrations")
    assert rows[0]["v"] == SCHEMA_VERSION


async def test_postgres_finds_the_items_fts5_finds_with_the_same_snippets(dsn, schema):
    """Over generated threads, each query hits the same items as the FTS5 oracle, with the same snippets."""
    threads = [generate_thread(seed, turns=3) for seed in range(10)]
    async with MemoryStore.open() as oracle, PostgresStore.open(dsn, schema=schema) as store:
        for thread in threads:
            data = b"".join(line + b"\n" for line in thread.lines)
            await oracle.import_rollout(data)
            await store.import_rollout(data)
        await oracle.catch_up_search()
        texts = [row[0] for row in oracle._search.conn.execute(
            "SELECT user || ' ' || tool_out FROM search_text ORDER BY rowid LIMIT 200")]
        words = [word for text in texts for word in tokens(text) if len(word) > 3 and not word.isdigit()]
        queries = [*words[::97][:8], f'"{words[10]} {words[11]}"', words[20][:3] + "*", f"{words[5]} -{words[6]}"]
        compared = 0
        for query in queries:
            for role in (None, "user", "tool"):
                want = {(h.thread_id, h.item_id): (h.snippet, h.highlights)
                        for h in (await oracle.search(query, role=role, limit=1000)).hits}
                got = {(h.thread_id, h.item_id): (h.snippet, h.highlights)
                       for h in (await store.search(query, role=role, limit=1000)).hits}
                assert got == want, (query, role)
                compared += len(got)
        assert compared > 50


async def test_rollout_search_with_postgres(dsn, schema, monkeypatch, capsys):
    """``rollout search --postgres DSN --json`` answers from the PostgreSQL index."""
    from rollout.cli.main import main

    monkeypatch.setenv("ROLLOUT_PG_SCHEMA", schema)
    async with PostgresStore.open(dsn, schema=schema) as store:
        thread_id = (await store.start_thread(meta())).id
        await store.append(thread_id, turn("t1", "where is parse_rollout_name", "in rollout/codec.py"))
    code = await asyncio.to_thread(main, ["search", "parse_rollout_name", "--postgres", dsn, "--json"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    [hit] = map(json.loads, lines)
    assert (hit["threadId"], hit["kind"], hit["snippet"]) == (thread_id, "userMessage", "where is parse_rollout_name")
    assert hit["highlights"] == [[9, 27]]


async def test_a_failed_index_write_leaves_no_transaction_open_on_the_pooled_connection(dsn, schema, monkeypatch):
    """An index write that fails half-way is rolled back; the connection goes back to the pool clean."""
    async with PostgresStore.open(dsn, schema=schema, pool_size=1) as store:
        await store.append((await store.start_thread(meta())).id, turn("t1", "rowan berry", "ok"))

        async def broken(*args):
            raise RuntimeError("the write failed half-way")

        monkeypatch.setattr(search, "_apply", broken)
        with pytest.raises(StoreError, match="half-way"):
            await store.catch_up_search()
        monkeypatch.undo()
        async with store.db.pool.acquire() as conn:
            assert not conn.is_in_transaction()
        assert len((await store.search("rowan")).hits) == 1
