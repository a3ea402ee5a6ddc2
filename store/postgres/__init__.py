"""store.postgres: the engine's PostgreSQL backend (asyncpg), for threads shared by many processes and hosts.

Parts, each usable on its own until the store core plugs them together:

* :mod:`.schema`: tables keyed by thread first, versioned migrations, ``SchemaTooNew``;
* :mod:`.database`: the connection pool, reconnects, error translation (no password echoed);
* :mod:`.writer`: one batch of thread writes as ONE statement, each thread's part applied only if
  its row still has the version the writer saw (compare-and-set across processes);
* :mod:`.commit`: group commit inside a process (a queue and a batch runner);
* :mod:`.reader`: rows, lines across fork ancestry, keyset list pages, snapshots, dictionaries;
* :mod:`.upkeep`: delete (keeping what forks read), snapshots, dictionaries;
* :mod:`.feed`: the change feed across processes (LISTEN/NOTIFY).

Needs the ``postgres`` extra (asyncpg); ``import store`` never imports this package.

Must not import: rollout.cli, rich.
"""
