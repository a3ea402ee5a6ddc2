"""Codex homes for the oracle: an offline ``config.toml`` and rollout files placed as Codex places them.

Codex finds threads under ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<local time>-<id>.jsonl``
(archived ones directly under ``archived_sessions/``). ``updatedAt``/``recencyAt`` come
from the file's mtime, so :func:`place` sets it to a fixed value to make runs comparable.

Must not import: the engine's packages (this is the oracle's side).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

#: config.toml lines that keep Codex from any outbound attempt at start
OFFLINE = """\
check_for_update_on_startup = false
[features]
plugins = false
apps = false
remote_plugin = false
plugin_sharing = false
in_app_updates = false
[analytics]
enabled = false
"""

#: the mtime every placed file gets unless told otherwise (2026-06-01T00:00:00Z)
FIXED_MTIME = 1780272000

_NAME = re.compile(r"rollout-(\d{4})-(\d{2})-(\d{2})T\d{2}-\d{2}-\d{2}-[0-9a-fA-F-]{36}(?:_[0-9a-fA-F-]{36})?\.jsonl$")


def make_home(home: str | os.PathLike[str], *, model_url: str | None = None, extra: str = "") -> Path:
    """Create ``home`` with an offline config; with ``model_url``, a scripted ``fake`` provider.

    Args:
        model_url: base URL of a scripted Responses endpoint (``http://127.0.0.1:PORT/v1``);
            it becomes both the ``fake`` provider and the built-in ``openai`` provider's
            ``openai_base_url`` (a resumed thread keeps its recorded provider).
        extra: more TOML appended at the top level (before the tables).
    """
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    head = extra
    tables = ""
    if model_url:
        head = f'model = "fake-model"\nmodel_provider = "fake"\nopenai_base_url = "{model_url}"\n' + head
        tables = (
            "[model_providers.fake]\n"
            'name = "fake"\n'
            f'base_url = "{model_url}"\n'
            'wire_api = "responses"\n'
            'env_key = "FAKE_API_KEY"\n'
            "request_max_retries = 0\n"
            "stream_max_retries = 0\n"
        )
    (home / "config.toml").write_text(head + OFFLINE + tables)
    return home


def codex_name(path: Path) -> str:
    """The ``rollout-...jsonl`` base name of ``path`` (corpus names carry it after the last ``__``)."""
    return path.name.rsplit("__", 1)[-1]


def place(home: Path, source: Path, *, archived: bool | None = None, mtime: float | None = FIXED_MTIME,
          name: str | None = None) -> Path:
    """Copy ``source`` into ``home`` where Codex looks for it, and return the new path.

    The folder comes from the name's date when the name is a Codex name, else from the
    first ``session_meta`` timestamp (local time, as Codex writes names), else today.
    ``archived`` None means: archived when the source path says ``archived_sessions``.
    ``name`` gives the Codex file name to use (a segment's name carries its segment id).
    """
    name = name or codex_name(source)
    if archived is None:
        archived = "archived_sessions" in source.name or "archived_sessions" in source.parts
    match = _NAME.search(name)
    if match is None:
        stamp = _meta_time(source) or time.time()
        local = time.localtime(stamp)
        name = f"rollout-{time.strftime('%Y-%m-%dT%H-%M-%S', local)}-{_meta_id(source) or _uuid_like(name)}.jsonl"
        match = _NAME.search(name)
        assert match is not None
    folder = home / "archived_sessions" if archived else home / "sessions" / match[1] / match[2] / match[3]
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    shutil.copyfile(source, target)
    if mtime is not None:
        os.utime(target, (mtime, mtime))
    return target


def _first_meta(source: Path) -> dict | None:
    with open(source, "rb") as fh:
        for raw in fh:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if isinstance(line, dict) and line.get("type") == "session_meta" and isinstance(line.get("payload"), dict):
                return line["payload"]
    return None


def _meta_time(source: Path) -> float | None:
    from datetime import datetime

    meta = _first_meta(source) or {}
    try:
        return datetime.fromisoformat(str(meta.get("timestamp", "")).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _meta_id(source: Path) -> str | None:
    meta = _first_meta(source) or {}
    value = meta.get("id")
    return value if isinstance(value, str) and len(value) == 36 else None


def _uuid_like(name: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))
