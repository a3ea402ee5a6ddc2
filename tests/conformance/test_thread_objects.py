"""Thread objects and list entries: the engine's ``FileStore`` against the real Codex 0.171.0.

A Codex home is built from the corpus (``codex-real`` and ``codex-transcribed``) and from
small rollouts written here (sources, providers, git origins, a guardian, a spawned
sub-agent). Codex's ``thread/list`` entries and ``thread/read`` thread objects (without
turns: those are compared elsewhere) must equal the engine's, key for key and in Codex's
key order, after these normalisations (besides ``normalise.py``'s ``path`` and mtime):

1. The engine's two supersets, ``archived`` and ``lastSeq``, are dropped (the schema
   allows extra keys; ``schema/SOURCES.md``).
2. A ``cwd`` Codex joined to its own working directory (``normalise.resolved_cwd``).
3. ``thread/read`` of a legacy-history thread that is not loaded answers
   ``updatedAt = createdAt`` (Codex builds it from a rollout summary that has no update
   time), while ``thread/list`` answers the file's mtime; the engine answers the mtime
   (the last write) in both. The comparison takes the engine's value as the list's.
4. The engine lists the pre-envelope (2025) files Codex cannot read
   (``normalise.codex_cannot_read``); they are compared by absence from Codex's answers only.

Codex's own read/list differences are mirrored, not normalised: list entries carry
``forkedFromId`` and ``threadSource`` as null, ``thread/read`` carries them.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from store import FileStore

from .codex import AppServer, require_codex
from .home import FIXED_MTIME, make_home, place
from .normalise import codex_cannot_read, relative_path, resolved_cwd

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
KINDS = ["cli", "vscode", "exec", "appServer", "subAgent", "subAgentReview", "subAgentCompact",
         "subAgentThreadSpawn", "subAgentOther", "unknown"]
OURS = ("archived", "lastSeq")

#: our own rollouts: meta fields per case (a user turn follows each meta)
CASES: dict[str, dict[str, Any]] = {
    "no-source": {"source": None},
    "unknown": {"source": "unknown"},
    "mcp": {"source": "mcp"},
    "exec": {"source": "exec"},
    "review": {"source": {"subagent": "review"}},
    "guardian": {"source": {"subagent": {"other": "guardian"}}},
    "other-sub": {"source": {"subagent": {"other": "helper"}}},
    "spawn": {"source": {"subagent": {"thread_spawn": {"parent_thread_id": "019e0000-0000-7000-8000-0000000000aa",
                                                       "depth": 1, "agent_nickname": "Bob", "agent_role": "worker"}}}},
    "git-empty": {"git": {}},
    "git-scp-user": {"git": {"repository_url": "alice@example.com:team/repo.git", "branch": "main"}},
    "git-scp-git": {"git": {"repository_url": "git@example.com:team/repo.git"}},
    "git-ssh-pw": {"git": {"repository_url": "ssh://bob:pw@example.com/team/repo.git"}},
    "git-ssh-git": {"git": {"repository_url": "ssh://git@example.com/team/repo.git"}},
    "git-https": {"git": {"repository_url": "https://user:token@github.com/a/b.git", "commit_hash": "abc"}},
    "git-plain": {"git": {"repository_url": "/srv/repo.git"}},
    "no-provider": {"model_provider": None},
    "azure": {"model_provider": "azure"},
    "session": {"session_id": "019e0000-0000-7000-8000-0000000000bb"},
    "history": {"history_mode": "paginated"},
}


def _own_rollout(home: Path, index: int, name: str, fields: dict[str, Any]) -> str:
    thread_id = f"019e0000-0000-7000-8000-{index + 1:012d}"
    meta = {"id": thread_id, "timestamp": "2026-06-01T10:00:00.000Z", "cwd": "/work", "originator": "codex_cli_rs",
            "cli_version": "0.140.0", "source": "cli", "model_provider": "openai", **fields}
    lines = [
        {"timestamp": "2026-06-01T10:00:00.000Z", "type": "session_meta", "payload": {k: v for k, v in meta.items()
                                                                                      if v is not None}},
        {"timestamp": "2026-06-01T10:00:01.000Z", "type": "event_msg", "payload": {"type": "task_started",
                                                                                   "turn_id": "t1"}},
        {"timestamp": "2026-06-01T10:00:01.500Z", "type": "turn_context", "payload": {
            "turn_id": "t1", "cwd": "/work", "model": f"model-{index}", "effort": "high",
            "sandbox_policy": {"type": "read-only"}, "approval_policy": "never"}},
        {"timestamp": "2026-06-01T10:00:02.000Z", "type": "event_msg", "payload": {"type": "user_message",
                                                                                   "message": f"hello {name}"}},
        {"timestamp": "2026-06-01T10:00:03.000Z", "type": "event_msg", "payload": {"type": "task_complete",
                                                                                   "turn_id": "t1"}},
    ]
    path = home / f"rollout-2026-06-01T10-00-{index:02d}-{thread_id}.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return thread_id


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Codex's and the engine's answers over one home (built once: the server takes seconds to start)."""
    require_codex()
    home = make_home(tmp_path_factory.mktemp("codex") / "home")
    sources = tmp_path_factory.mktemp("ours")
    for index, (name, fields) in enumerate(CASES.items()):
        _own_rollout(sources, index, name, fields)
    for source in [*sorted(sources.glob("*.jsonl")), *sorted(CORPUS.glob("codex-*/*.jsonl"))]:
        place(home, source)
    with AppServer(home) as codex:
        listed = _all_pages(codex, {"sourceKinds": KINDS, "modelProviders": []})
        default = _all_pages(codex, {})
        reads = {entry["id"]: codex.request("thread/read", {"threadId": entry["id"], "includeTurns": False})
                 for entry in listed}
    engine = asyncio.run(_engine(home))
    return {"home": home, "listed": listed, "default": default, "reads": reads, **engine}


def _all_pages(codex: AppServer, params: dict[str, Any]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for archived in (False, True):
        cursor = None
        while True:
            page = codex.request("thread/list", {**params, "archived": archived, "limit": 50, "cursor": cursor})
            entries += page["result"]["data"]
            if not (cursor := page["result"].get("nextCursor")):
                break
    return entries


async def _engine(home: Path) -> dict[str, Any]:
    async with FileStore.open(home) as store:
        every = await store.list(limit=1000, archived=None, source=[], model_provider=[])
        default = [*(await store.list(limit=1000)).data, *(await store.list(limit=1000, archived=True)).data]
        infos = {entry.id: await store.info(entry.id) for entry in every.data}
    encode = msgspec.json.encode
    return {
        "engine_listed": {entry.id: json.loads(encode(entry)) for entry in every.data},
        "engine_default": [entry.id for entry in default],
        "engine_read": {thread_id: json.loads(encode(info)) for thread_id, info in infos.items()},
    }


def _comparable(thread: dict[str, Any], home: Path) -> dict[str, Any]:
    """Normalisations 1 and 2 (see the module docstring) plus ``normalise.relative_path``."""
    return resolved_cwd(relative_path({k: v for k, v in thread.items() if k not in OURS}, home), home)


def test_every_list_entry_equals_codexs_key_for_key(answers):
    """Each thread/list entry (every source and provider, active and archived) equals the engine's, keys in order."""
    home = answers["home"]
    assert answers["listed"], "Codex listed nothing"
    for entry in answers["listed"]:
        ours = answers["engine_listed"].get(entry["id"])
        assert ours is not None, f"the engine does not list {entry['id']}"
        codex, engine = _comparable(entry, home), _comparable(ours, home)
        assert list(engine) == list(codex), entry["id"]
        assert engine == codex, entry["id"]


def test_the_engine_lists_only_what_codex_lists_plus_pre_envelope_files(answers):
    """Normalisation 4: the engine's extra threads are exactly the files Codex calls empty (no session_meta)."""
    extra = set(answers["engine_listed"]) - {entry["id"] for entry in answers["listed"]}
    for thread_id in extra:
        assert answers["engine_read"][thread_id]["historyMode"] == "legacy"
        assert codex_cannot_read(answers["engine_read"][thread_id]["path"]), thread_id


def test_default_list_shows_what_codex_thread_list_shows(answers):
    """A plain list() holds the threads of Codex's thread/list {}, in the same order (plus normalisation 4)."""
    codex_ids = {entry["id"] for entry in answers["listed"]}
    assert [t for t in answers["engine_default"] if t in codex_ids] == [entry["id"] for entry in answers["default"]]
    assert len(answers["default"]) < len(answers["listed"])


def test_every_thread_object_equals_codexs_thread_read(answers):
    """thread/read's thread (no turns) equals the engine's info(), after normalisation 3 for legacy threads."""
    home = answers["home"]
    for thread_id, reply in answers["reads"].items():
        thread = reply["result"]["thread"]
        ours = _comparable(answers["engine_read"][thread_id], home)
        codex = _comparable(thread, home)
        if codex["historyMode"] == "legacy" and codex["updatedAt"] == codex["createdAt"]:
            codex = {**codex, "updatedAt": FIXED_MTIME}  # normalisation 3
        assert list(ours) == list(codex), thread_id
        assert ours == codex, thread_id


def test_our_own_rollouts_cover_each_rule(answers):
    """The crafted cases reach Codex's rules: guardian name, redacted origins, spawn nickname, default provider."""
    by_preview = {entry["preview"]: entry for entry in answers["listed"]}
    guardian = by_preview["Approval review"]
    assert guardian["name"] == "Guardian review"
    origins = {entry["gitInfo"]["originUrl"] for entry in answers["listed"] if entry["gitInfo"]}
    assert {"example.com:team/repo.git", "git@example.com:team/repo.git", "ssh://example.com/team/repo.git",
            "ssh://git@example.com/team/repo.git", "https://github.com/a/b.git"} <= origins
    assert by_preview["hello spawn"]["agentNickname"] == "Bob"
    assert by_preview["hello no-provider"]["modelProvider"] == "openai"
    assert by_preview["hello no-source"]["source"] == "vscode"
