"""Resume context = what Codex sends the model: the engine's ``resume_context`` against the request.

Every scenario thread (both history modes, revert and fork segments included; by default) and
every corpus file Codex can resume (under ``-m slow``: its big threads take a couple of
minutes) is placed in a Codex home whose providers (``fake`` and the built-in
``openai``) point at the scripted model. Codex resumes each thread and runs one turn; the
first model request's ``input`` holds the history Codex rebuilt from the rollout. It must
equal ``replay.resume_context(lines).request_items()``, item for item, in order, after the
written normalisation (``normalise.resume_history``: the base instructions Codex puts first
and the context it injects for the new turn are set aside).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from replay import resume_context

from .codex import AppServer, require_codex
from .engine import thread_lines
from .generate import FIXTURES
from .home import make_home, place
from .model import ScriptedModel, text
from .normalise import resume_history
from .test_corpus import CORPUS, _meta, _providers

PROBE = "resume probe"


def _scenario_threads() -> list[tuple[Path, list[Path], dict[str, str]]]:
    found = []
    for answer in sorted(FIXTURES.glob("*.codex.json")):
        key = answer.name[: -len(".codex.json")]
        names = json.loads(answer.read_text())["files"]
        found.append((FIXTURES / f"{key}.jsonl", sorted(FIXTURES.glob(f"{key}.base*.jsonl")), names))
    return found


def _resumable_corpus() -> list[Path]:
    """Corpus files Codex resumes: an envelope header and, when paginated, no missing base."""
    return [path for path in CORPUS if _meta(path) and not _meta(path).get("history_base")]


def _collect(root: Path, scenario: bool) -> dict[Path, Any]:
    """Per thread (its newest file), the input of the first model request after resuming it (or Codex's error)."""
    require_codex()
    found: dict[Path, Any] = {}
    corpus = [] if scenario else _resumable_corpus()
    with ScriptedModel() as model:
        home = make_home(root / "home", model_url=model.url)
        # no automatic compaction before the probe turn where Codex can be told so
        config = "model_auto_compact_token_limit = 1000000000\n" + (home / "config.toml").read_text()
        (home / "config.toml").write_text(config + _providers(corpus, model.url))
        threads = []
        for latest, bases, names in _scenario_threads() if scenario else ():
            for path in (latest, *bases):
                place(home, path, name=names[path.name])
            threads.append(latest)
        for path in corpus:
            place(home, path, archived=False)  # Codex refuses to resume an archived thread
            threads.append(path)
        with AppServer(home, env={"OPENAI_API_KEY": "scripted", "FAKE_API_KEY": "scripted"}) as codex:
            for latest in threads:
                found[latest] = _first_request(codex, model, _meta(latest)["id"])
    return found


@pytest.fixture(scope="module")
def scenario_requests(tmp_path_factory) -> dict[Path, Any]:
    return _collect(tmp_path_factory.mktemp("resume"), scenario=True)


@pytest.fixture(scope="module")
def corpus_requests(tmp_path_factory) -> dict[Path, Any]:
    if not CORPUS:
        pytest.skip("corpus not found")
    return _collect(tmp_path_factory.mktemp("resume-corpus"), scenario=False)


def _first_request(codex: AppServer, model: ScriptedModel, thread_id: str) -> Any:
    resumed = codex.request("thread/resume", {"threadId": thread_id})
    if "error" in resumed:
        return resumed
    before = len(model.requests)
    model.push([text("resumed")])
    mark = len(codex.notifications)
    codex.request("turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": PROBE}]})
    codex.wait_notification("turn/completed", since=mark, timeout=90, where=lambda n: n["params"]["threadId"] == thread_id)
    return model.requests[before]["body"]["input"]


def _check(request_input: Any, lines: list[Any]) -> None:
    assert isinstance(request_input, list), request_input  # else Codex's error resuming the thread
    assert resume_history(request_input, resume_context(lines).request_items(), PROBE) == []


@pytest.mark.parametrize("latest", [thread[0] for thread in _scenario_threads()], ids=lambda path: path.stem)
def test_resume_context_of_a_scenario_equals_codex_request(scenario_requests, latest):
    """The history Codex sends after resuming a scenario thread is the engine's resume context."""
    _check(scenario_requests[latest], thread_lines(latest, sorted(FIXTURES.glob(latest.name.replace(".jsonl", ".base*.jsonl"))))[0])


@pytest.mark.slow
@pytest.mark.parametrize("source", _resumable_corpus(), ids=lambda path: path.name[-56:])
def test_resume_context_of_a_corpus_file_equals_codex_request(corpus_requests, source):
    """The history Codex sends after resuming a corpus thread is the engine's resume context."""
    _check(corpus_requests[source], thread_lines(source)[0])
