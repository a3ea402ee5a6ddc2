"""Run the scenarios through the real Codex and keep what it wrote and what it answers.

:func:`generate` runs every scenario in every history mode inside one Codex home, on one
app-server and one scripted model; :func:`read_back` then starts a fresh app-server over
that home and asks ``thread/read`` (with turns) and ``thread/turns/list`` for each thread,
so the answers are Codex reading its own home, not a thread still loaded in memory.

``python -m tests.conformance.generate --update-golden`` rewrites the committed fixtures
(``fixtures/scenarios/``): each thread's rollout file as Codex wrote it (``<name>.<mode>.<k>.jsonl``),
the segment files its history is based on (``....base<j>.jsonl``), and Codex's answers for it
(``....codex.json``, which also maps each fixture file to the name Codex gave it: a segment's
name carries its segment id). Fixtures change only through that explicit command, and the diff is reviewed.

Must not import: the engine's packages (this is the oracle's side).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .codex import AppServer
from .home import make_home
from .model import ScriptedModel
from .scenarios import MODES, ONLY_MODE, SCENARIOS, Driver, mcp_config

FIXTURES = Path(__file__).with_name("fixtures") / "scenarios"
_ENV = {"FAKE_API_KEY": "scripted", "OPENAI_API_KEY": "scripted"}


@dataclass
class Generated:
    """One scenario run in one mode: the threads to compare and, after read_back, Codex's answers."""

    name: str
    mode: str
    thread_ids: list[str]
    paths: list[Path] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    #: per thread, the other segment files its history is based on (paginated revert and fork)
    bases: list[list[Path]] = field(default_factory=list)

    def key(self, index: int) -> str:
        return f"{self.name}.{self.mode}.{index}"


def runs(names: list[str] | None = None, modes: tuple[str, ...] = MODES) -> list[tuple[str, str]]:
    """The (scenario, mode) pairs to run, skipping pairs a scenario does not support."""
    chosen = names or list(SCENARIOS)
    return [(name, mode) for name in chosen for mode in modes if ONLY_MODE.get(name, (mode,))[0] == mode]


def generate(root: Path, pairs: list[tuple[str, str]]) -> tuple[Path, list[Generated]]:
    """Run ``pairs`` in a new Codex home under ``root``; returns the home and the runs."""
    work = root / "work"
    work.mkdir(parents=True, exist_ok=True)
    done: list[Generated] = []
    with ScriptedModel() as model:
        home = make_home(root / "home", model_url=model.url)
        (home / "config.toml").write_text((home / "config.toml").read_text() + mcp_config())
        with AppServer(home, experimental=True, env=_ENV) as codex:
            driver = Driver(codex, model, work)
            for name, mode in pairs:
                done.append(Generated(name, mode, SCENARIOS[name](driver, mode)))
    return home, done


def read_back(home: Path, generated: list[Generated]) -> None:
    """Fill in each run's rollout paths and Codex's answers, from a fresh app-server."""
    with AppServer(home, experimental=True, env=_ENV) as codex:
        for run in generated:
            for thread_id in run.thread_ids:
                thread = _result(codex, "thread/read", {"threadId": thread_id, "includeTurns": True})["thread"]
                listed = _result(codex, "thread/turns/list", {"threadId": thread_id, "itemsView": "full",
                                                              "sortDirection": "asc", "limit": 1000})
                summary = _result(codex, "thread/turns/list", {"threadId": thread_id, "limit": 1000})  # defaults
                run.paths.append(Path(thread["path"]))
                run.bases.append(base_files(home, Path(thread["path"])))
                run.answers.append({"read": thread["turns"], "turnsList": listed["data"],
                                    "turnsListDefault": summary["data"]})


def base_files(home: Path, path: Path) -> list[Path]:
    """Every segment file of every thread ``path``'s history is based on (transitively), but ``path``."""
    found: list[Path] = []
    todo = [path]
    while todo:
        with todo.pop().open("rb") as file:
            meta = json.loads(file.readline())["payload"]
        base = meta.get("history_base")
        if not base:
            continue
        for candidate in sorted((home / "sessions").rglob(f"rollout-*{base['thread_id']}*.jsonl")):
            if candidate != path and candidate not in found:
                found.append(candidate)
                todo.append(candidate)
    return found


def _result(codex: AppServer, method: str, params: dict[str, Any]) -> dict[str, Any]:
    reply = codex.request(method, params)
    if "error" in reply:
        raise AssertionError(f"{method} {params}: {reply['error']}")
    return reply["result"]


def write_fixtures(generated: list[Generated], out: Path = FIXTURES, *, replace_all: bool = True) -> None:
    """Write each thread's rollout and Codex's answers as ``<name>.<mode>.<k>.jsonl`` / ``.codex.json``.

    ``replace_all`` False keeps the fixtures of scenarios not in ``generated``.
    """
    if replace_all and out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in {run.name for run in generated}:
        for stale in out.glob(f"{name}.*"):
            stale.unlink()
    for run in generated:
        for index, (path, answer) in enumerate(zip(run.paths, run.answers)):
            files = {f"{run.key(index)}.jsonl": path.name}
            shutil.copyfile(path, out / f"{run.key(index)}.jsonl")
            for number, base in enumerate(run.bases[index]):
                shutil.copyfile(base, out / f"{run.key(index)}.base{number}.jsonl")
                files[f"{run.key(index)}.base{number}.jsonl"] = base.name
            document = {**answer, "files": files}
            (out / f"{run.key(index)}.codex.json").write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update-golden", action="store_true", help="rewrite tests/conformance/fixtures/scenarios")
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it (default: a temporary one)")
    parser.add_argument("names", nargs="*", help="scenarios to run (default: all; named ones replace only theirs)")
    args = parser.parse_args(argv)
    root = args.keep or Path(tempfile.mkdtemp(prefix="codex-scenarios-"))
    home, generated = generate(root, runs(args.names))
    read_back(home, generated)
    for run in generated:
        print(run.name, run.mode, [len(answer["read"]) for answer in run.answers])
    if args.update_golden:
        write_fixtures(generated, replace_all=not args.names)
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
