"""Moving threads between SQLite, PostgreSQL and a Codex home with store.copy_threads: nothing lost either way."""

from __future__ import annotations

from store import FileStore, PostgresStore, SqliteStore, copy_threads

from ..test_files import _populated, _snapshot


async def test_threads_move_sqlite_to_postgres_to_a_codex_home_and_back(dsn, schema, tmp_path):
    """Lines, names, archive state and lineage arrive JSON-equal at every hop; a second copy adds nothing."""
    home = tmp_path / "home"
    (home / "sessions").mkdir(parents=True)
    async with SqliteStore.open(tmp_path / "a.db") as source:
        roles = await _populated(source)
        expected = await _snapshot(source)
        async with PostgresStore.open(dsn, schema=schema) as pg:
            assert await copy_threads(source, pg) == 4
            assert await _snapshot(pg) == expected
            assert (await pg.info(roles["child"])).forked_from_id == roles["named"]
            async with FileStore.open(home) as files:
                assert await copy_threads(pg, files) == 4
                assert await _snapshot(files) == expected
            async with SqliteStore.open(tmp_path / "b.db") as back:
                assert await copy_threads(pg, back) == 4
                assert await _snapshot(back) == expected
            assert await copy_threads(source, pg, skip_existing=True) == 0
