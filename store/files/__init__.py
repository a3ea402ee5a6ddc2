"""The Codex-home backend: ``FileStore`` serves rollout files where Codex keeps them.

Modules: ``store`` (the backend's primitives), ``catalog`` (the sidecar index kept in
step with the files), ``index`` (the sidecar SQLite database, its SQL behind named
methods). The layout of a Codex home itself is :mod:`rollout.codex_home`.

Must not import: rollout.cli, rich.
"""

from .store import FileStore

__all__ = ["FileStore"]
