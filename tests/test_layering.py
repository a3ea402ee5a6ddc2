"""The dependency rules: rollout <- replay <- store <- serve; cli imports anything, nothing imports it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_FILE = "examples/rollout-2026-06-01T10-00-00-019e2a5c-0000-7000-8000-000000000001.jsonl"
FORBIDDEN = {
    "rollout": {"replay", "store", "serve", "rollout.cli", "rich"},
    "replay": {"store", "serve", "rollout.cli", "rich", "asyncio", "aiosqlite", "sqlite3", "os", "io", "pathlib", "socket"},
    "store": {"rollout.cli", "rich", "serve"},
    "serve": {"rollout.cli", "rich"},
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations(package: str) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        if package == "rollout" and "cli" in path.relative_to(ROOT / package).parts:
            continue
        for name in _imports(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[package]):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_packages_import_only_downstream():
    """rollout imports no later package, replay does no I/O, only the CLI imports serve, nobody imports the CLI."""
    assert [v for package in FORBIDDEN for v in _violations(package)] == []


def test_import_rollout_loads_neither_cli_nor_rich():
    """`import rollout` keeps the CLI and rich unloaded."""
    code = "import sys, rollout, replay; print(sorted(m for m in sys.modules if m.startswith(('rich', 'rollout.cli'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_only_rollout_compression_uses_zstandard():
    """One zstd layer: every package compresses through rollout.compression."""
    users = [str(path.relative_to(ROOT)) for package in FORBIDDEN for path in sorted((ROOT / package).rglob("*.py"))
             if "zstandard" in _imports(path)]
    assert users == ["rollout/compression.py"]


_LOADED_BY_CLI = (
    "import sys\n"
    "unwanted = tuple(sys.argv.pop(1).split(','))\n"
    "from rollout.cli.main import entry\n"
    "sys.argv[0] = 'rollout'\n"
    "try:\n"
    "    entry()\n"
    "finally:\n"
    "    print(sorted(m for m in sys.modules if m.startswith(unwanted)), file=sys.stderr)\n"
)
# Loaded by neither of the two commands scripts run most often.
_HEAVY = ["rich", "sqlite3", "asyncio", "logging", "store.sqlite", "store.files", "rollout.cli.render"]
# What `inspect --json FILE` does not need either: the resume algorithm, the Codex home
# layout and writers, the stores' CLI plumbing, the other commands.
_NOT_FOR_A_FILE = [
    "replay.resume", "replay.resume_builder", "replay.boundary", "replay.request", "json", "rollout.writer",
    "rollout.codex_home", "rollout.session_index", "rollout.cli.storage", "rollout.cli.target",
    "rollout.cli.validate",
]
# `--version` loads no command and not even the event model.
_NOT_FOR_THE_VERSION = ["msgspec", "rollout.events", "rollout.codec", "replay", "store", "rollout.cli.inspect"]


def _loaded(argv: list[str], unwanted: list[str]) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run the console script with ``argv``; the modules of ``unwanted`` it loaded."""
    done = subprocess.run([sys.executable, "-c", _LOADED_BY_CLI, ",".join(unwanted), *argv],
                          capture_output=True, text=True, cwd=ROOT)
    return done, ast.literal_eval(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize(("argv", "unwanted"), [
    (["--version"], _HEAVY + _NOT_FOR_THE_VERSION),
    (["inspect", "--json", SAMPLE_FILE], _HEAVY + _NOT_FOR_A_FILE),
], ids=["version", "inspect-json"])
def test_version_and_inspect_json_load_only_what_they_use(argv, unwanted):
    """`rollout --version` and `rollout inspect --json FILE` run without rich, logging, a backend or other commands."""
    done, loaded = _loaded(argv, unwanted)
    assert done.returncode == 0 and done.stdout
    assert loaded == []


def test_inspect_without_json_still_draws_with_rich():
    """The human summary does load rich: the check above would notice a renderer that never ran."""
    done, loaded = _loaded(["inspect", SAMPLE_FILE], ["rich"])
    assert done.returncode == 0 and "rich" in loaded


def test_import_rollout_and_replay_load_no_submodule():
    """`import rollout` and `import replay` load their names on first use (PEP 562), all of them still there;
    the only submodule they load is the few lines doing that (`rollout.lazy`, standard library only)."""
    code = ("import sys, rollout, replay; print(sorted(m for m in sys.modules if m.startswith(('rollout.', 'replay.'))));"
            "print(all(getattr(p, n) is not None for p in (rollout, replay) for n in p.__all__));"
            "print(rollout.reader.read_rollout is rollout.read_rollout, replay.items.Turn is replay.Turn)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["['rollout.lazy']", "True", "True", "True"]


_WATCHED = (
    "import gc, logging, sys\n"
    "import rollout.cli.inspect as inspect\n"
    "from rollout.cli.main import entry\n"
    "real = inspect.run\n"
    "def run(args, out):\n"
    "    print('collector', gc.isenabled(), gc.get_freeze_count() > 0, file=sys.stderr)\n"
    "    return real(args, out)\n"
    "async def stored(args, out):\n"
    "    logging.getLogger('store.sqlite').warning('repaired %s', 'the index')\n"
    "    return 0\n"
    "inspect.run, inspect._stored = run, stored\n"
    "sys.argv[0] = 'rollout'\n"
    "entry()\n"
)


def test_console_script_collects_garbage_while_a_command_runs():
    """entry() pauses the collector only while modules load: a command (a server, a sync) runs with it on."""
    done = subprocess.run([sys.executable, "-c", _WATCHED, "inspect", "--json", SAMPLE_FILE],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and done.stderr.splitlines()[0] == "collector True True"


def test_store_commands_still_log_warnings_on_stderr():
    """Logging is set up only for the commands that open a store (coroutines), and their notes still show."""
    done = subprocess.run([sys.executable, "-c", _WATCHED, "inspect", "019e2a5c-0000-7000-8000-0000000000ff"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and done.stderr.splitlines()[-1] == "warning: repaired the index"
