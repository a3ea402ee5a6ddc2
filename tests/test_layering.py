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
    "from rollout.cli.main import main\n"
    "status = main(sys.argv[1:])\n"
    "heavy = ('rich', 'sqlite3', 'asyncio', 'store.sqlite', 'store.files', 'rollout.cli.render')\n"
    "print(sorted(m for m in sys.modules if m.startswith(heavy)), file=sys.stderr)\n"
    "raise SystemExit(status)\n"
)


@pytest.mark.parametrize("argv", [["--version"], ["inspect", "--json", SAMPLE_FILE]])
def test_version_and_inspect_json_load_neither_rich_nor_the_backends(argv):
    """`rollout --version` and `rollout inspect --json FILE` run without rich, sqlite3, asyncio or a backend."""
    done = subprocess.run([sys.executable, "-c", _LOADED_BY_CLI, *argv], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and done.stdout
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_inspect_without_json_still_draws_with_rich():
    """The human summary does load rich: the check above would notice a renderer that never ran."""
    done = subprocess.run([sys.executable, "-c", _LOADED_BY_CLI, "inspect", SAMPLE_FILE],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and "'rich'" in done.stderr.strip().splitlines()[-1]
