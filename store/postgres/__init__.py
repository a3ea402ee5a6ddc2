"""store.postgres: the engine's PostgreSQL backend (asyncpg), for threads shared by many processes and hosts.

:class:`PostgresStore` (``store.PostgresStore``) is the core's API on these parts:

* :mod:`.store`: the backend's primitives, the group commit and the feed wired together;
* :mod:`.batch` and :mod:`.entry`: planning a batch of the core's commands on cached rows
  (re-planned when another process wrote first);
* :mod:`.lines` and :mod:`.history`: lines across fork ancestry, replay state per thread life;

* :mod:`.schema`: tables keyed by thread first, versioned migrations, ``SchemaTooNew``;
* :mod:`.database`: the connection pool, reconnects, error translation (no password echoed);
* :mod:`.writer`: one batch of thread writes as ONE statement, each thread's part applied only if
  its row still has the version the writer saw (compare-and-set across processes);
* :mod:`.commit`: group commit inside a process (a queue and a batch runner);
* :mod:`.reader`: rows, lines across fork ancestry, keyset list pages, snapshots, dictionaries;
* :mod:`.upkeep`: delete (keeping what forks read), snapshots, dictionaries;
* :mod:`.feed`: the change feed across processes (LISTEN/NOTIFY);
* :mod:`.search`: the full-text search index (``tsvector`` built in Python, GIN, phrases in a word stream).

Needs the ``postgres`` extra (asyncpg); ``import store`` never imports this package.
asyncpg rather than psycopg 3, measured here (2026-11-30, local server, best of 3): a round trip
30 us vs 47 us, COPY of a 200-turn thread's 6,630 lines 157k vs 128k rows/s, and the
array-bound INSERT the batch writer uses 95 ms vs 279 ms (binary arrays of bytea).

Must not import: rollout.cli, rich.
"""

from .store import PostgresStore

__all__ = ["PostgresStore"]
