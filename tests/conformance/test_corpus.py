"""Every corpus file, read by the real Codex and by the engine: ``limited`` turns equal byte for byte.

One app-server answers for a Codex home holding every file of ``../shared/corpus/codex-real``
and ``codex-transcribed`` (placed as Codex places them). Codex 0.171 reads legacy-history
files straight from the JSONL. It reads paginated-history files only through its own
projection database, which it builds when a thread is resumed: so every paginated file is
``thread/resume``d first (that appends one ``thread_settings_applied`` line, which the engine
then reads too; a provider of the file's name is configured so Codex accepts the resume).

Where Codex refuses a file, the engine's documented superset is checked instead:
pre-envelope 2025 files ("rollout is empty" for Codex) rebuild real turns, and a segment
whose base segment is missing ("invalid paginated history lineage") shows its own turns
and reports the gap.

Normalisations: none beyond ``normalise.py``'s (turns carry no path or mtime field).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.corpus import SHARED

from .codex import AppServer, require_codex
from .engine import canonical, first_difference, thread_lines, turns_json
from .home import make_home, place
from .schema import turn_errors

CORPUS = [*sorted((SHARED / "corpus" / "codex-real").glob("*.jsonl")),
          *sorted((SHARED / "corpus" / "codex-transcribed").glob("*.jsonl"))]
_BUILT_IN_PROVIDERS = {"openai"}


def _meta(path: Path) -> dict[str, Any]:
    with path.open("rb") as file:
        for raw in file:
            line = json.loads(raw)
            if line.get("type") == "session_meta":
                return line["payload"]
    return {}


def _providers(paths: list[Path], base_url: str = "http://127.0.0.1:9/v1") -> str:
    """config.toml tables defining every non-built-in model provider the files name (at ``base_url``)."""
    names = sorted({_meta(path).get("model_provider") or "openai" for path in paths} - _BUILT_IN_PROVIDERS)
    return "".join(f'[model_providers.{name}]\nname = "{name}"\nbase_url = "{base_url}"\n'
                   f'wire_api = "responses"\nrequest_max_retries = 0\nstream_max_retries = 0\n' for name in names)


def _thread_id(placed: Path) -> str:
    return placed.name[len("rollout-2026-01-01T00-00-00-"):][:36]


@pytest.fixture(scope="module")
def answers(tmp_path_factory) -> dict[Path, dict[str, Any]]:
    """Codex's answers per corpus file: the placed copy, thread/read and thread/turns/list replies."""
    if not CORPUS:
        pytest.skip(f"corpus not found under {SHARED / 'corpus'}")
    require_codex()
    home = make_home(tmp_path_factory.mktemp("corpus") / "home")
    (home / "config.toml").write_text((home / "config.toml").read_text() + _providers(CORPUS))
    placed = {source: place(home, source) for source in CORPUS}
    found: dict[Path, dict[str, Any]] = {}
    with AppServer(home, env={"OPENAI_API_KEY": "unused"}) as codex:
        for source, path in placed.items():
            thread_id = _thread_id(path)
            if _meta(source).get("history_mode") == "paginated":
                codex.request("thread/resume", {"threadId": thread_id})
            read = codex.request("thread/read", {"threadId": thread_id, "includeTurns": True})
            listed = codex.request("thread/turns/list", {"threadId": thread_id, "itemsView": "full",
                                                        "sortDirection": "asc", "limit": 10000})
            found[source] = {"path": path, "read": read, "list": listed}
    return found


@pytest.mark.parametrize("source", CORPUS, ids=[path.name[-56:] for path in CORPUS])
def test_corpus_file_reads_as_codex_reads_it(answers, source):
    """Codex's turns (thread/read, thread/turns/list) equal the engine's limited view, or the superset applies."""
    answer = answers[source]
    lines, gap = thread_lines(answer["path"])
    engine = turns_json(lines)
    assert [error for turn in engine for error in turn_errors(turn)] == []
    if "error" in answer["read"]:
        message = answer["read"]["error"]["message"]
        if "is empty" in message:  # pre-envelope: Codex hides it, the engine rebuilds it
            assert engine and all(turn["items"] for turn in engine)
        else:
            assert "lineage" in message and gap is not None and engine
        return
    codex_turns = answer["read"]["result"]["thread"]["turns"]
    assert first_difference(codex_turns, engine) is None
    assert canonical(codex_turns) == canonical(engine)
    assert canonical(answer["list"]["result"]["data"]) == canonical(engine)


def test_most_of_the_corpus_is_readable_by_codex(answers):
    """The figures the report quotes: files Codex reads, and files it refuses for documented reasons."""
    refused = [source.name for source, answer in answers.items() if "error" in answer["read"]]
    assert len(refused) <= 4, refused


@pytest.mark.parametrize("source", [path for path in CORPUS if "codex-transcribed" in str(path)],
                         ids=lambda path: path.name[-56:])
def test_transcribed_file_reads_without_problems_and_rebuilds_its_turns(source):
    """Files from Codex 0.152-0.159 decode with zero problems and rebuild turns with items (a lone segment too)."""
    from rollout.reader import read_rollout

    assert read_rollout(source).problems == []
    lines, gap = thread_lines(source)
    turns = turns_json(lines)
    assert turns and all(turn["items"] for turn in turns)
    is_segment = source.stem[-37] == "_"  # rollout-<time>-<thread>_<segment>
    assert (gap is not None) == is_segment  # only the segment's base is missing


#: what ``policy="extended"`` may add to Codex's turns (rebuilt from old extended-mode events)
EXTENDED_ADDS = {"commandExecution", "collabAgentToolCall", "dynamicToolCall", "imageView", "reasoning"}


@pytest.mark.parametrize("source", CORPUS, ids=lambda path: path.name[-56:])
def test_extended_view_is_a_superset_of_codex_view(source):
    """Same turns and ids under both policies; extended only adds documented items (or fails a turn on an error)."""
    lines, _ = thread_lines(source)
    limited, extended = turns_json(lines), turns_json(lines, policy="extended")
    assert [turn["id"] for turn in extended] == [turn["id"] for turn in limited]
    for narrow, wide in zip(limited, extended):
        assert wide["status"] == narrow["status"] or wide["status"] == "failed"
        kept = {item["id"] for item in narrow["items"]}
        assert kept <= {item["id"] for item in wide["items"]}
        assert {item["type"] for item in wide["items"] if item["id"] not in kept} <= EXTENDED_ADDS
