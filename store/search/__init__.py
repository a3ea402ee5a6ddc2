"""Full-text search over a store's threads: a projection of the log with per-thread watermarks.

Modules: ``extract`` (turns -> documents, pure), ``query`` (the query language, pure),
``hits`` (the values), ``projection`` (the catch-up, in the core), ``fts5`` (the index in
SQLite FTS5, shared by the SQLite, Codex-home and memory backends), ``snippet`` (snippets cut
in Python as FTS5 cuts them, for PostgreSQL's index in ``store.postgres.search``).

Must not import: rollout.cli, rich.
"""

from .hits import Hit, SearchPage
from .query import SearchQuery, parse

__all__ = ["Hit", "SearchPage", "SearchQuery", "parse"]
