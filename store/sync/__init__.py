"""``rollout sync``'s engine: a store kept in step with Codex homes, incrementally.

Modules: ``records`` (what each source file was when imported, in ``<store>.sync``),
``engine`` (one pass: stat, compare, import what changed), ``follow`` (watch the folders
with ``watchfiles``, or poll, and run a pass for the folders that changed).

Must not import: rollout.cli, rich.
"""

from .engine import Syncer, SyncReport
from .records import SourceRecords

__all__ = ["SourceRecords", "SyncReport", "Syncer"]
