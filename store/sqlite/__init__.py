"""The SQLite backend: ``SqliteStore`` and its storage knobs (``Tuning``).

Modules: ``store`` (the backend's primitives, threads and queues), ``group_commit``
(one transaction per batch of writes), ``writer`` and ``command`` (applying writes on the
writer thread), ``reader`` (reads, fork pointers, cached replay), ``tables`` (every SQL
statement, by name), ``schema`` (tables, migrations, connections), ``blobs`` (packed,
compressed chunks).

Must not import: rollout.cli, rich.
"""

from ..tuning import Tuning
from .store import SqliteStore

__all__ = ["SqliteStore", "Tuning"]
