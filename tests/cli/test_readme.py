"""The README's set-up commands: exactly two, and the first one's `rollout` steps run as written."""

from __future__ import annotations

import re
import shlex
import shutil

from .conftest import ROOT

SETUP = re.search(r"## Set up\n(.*?)\n## ", (ROOT / "README.md").read_text(), re.S)


def _blocks() -> list[str]:
    assert SETUP is not None, "README.md has no '## Set up' section"
    return re.findall(r"```sh\n(.*?)\n```", SETUP.group(1), re.S)


def test_the_readme_gives_two_setup_commands_install_and_run_then_test():
    """One command installs and runs the main job, one runs the tests (the command .ci/run runs)."""
    first, second = _blocks()
    assert "pip install" in first and "rollout " in first
    assert second.strip() == "python -m pytest -q"
    assert "python -m pytest -q" in (ROOT / ".ci" / "run").read_text()


def test_the_first_setup_command_runs_the_main_job_on_sqlite(cli, tmp_path, monkeypatch):
    """Its `rollout` steps (import the samples, list, inspect one thread's turns) succeed in a fresh folder."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    steps = [shlex.split(step) for step in _blocks()[0].split("&&")]
    ran = [argv for argv in steps if argv[0] == "rollout"]
    assert ran, "the first command runs no rollout step"
    outputs = []
    for argv in ran:
        result = cli(*argv[1:])
        assert result.code == 0, (argv, result.err)
        outputs.append(result.out)
    assert (tmp_path / "threads.db").is_file()
    assert "019e2a5c-0000-7000-8000-000000000001" in outputs[-1] and "completed" in outputs[-1]
