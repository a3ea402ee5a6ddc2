"""Where the shared real-rollout corpus lives (``../shared`` beside the checkout).

The corpus holds real people's sessions: tests read it in place and never copy it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS_DIR = SHARED / "corpus" / "codex-real"
#: the same kind of sessions written in today's Codex format (see its README)
TRANSCRIBED_DIR = SHARED / "corpus" / "codex-transcribed"


def corpus_files(*, transcribed: bool = False) -> list[Path]:
    """Every rollout file of the corpus (and of the transcribed one), sorted; empty when ../shared is absent."""
    folders = [CORPUS_DIR, TRANSCRIBED_DIR] if transcribed else [CORPUS_DIR]
    return [path for folder in folders if folder.is_dir() for path in sorted(folder.glob("*.jsonl"))]


def corpus_params(*, transcribed: bool = False) -> list:
    """pytest params, one per corpus file (id = short file name), or one skip marker."""
    files = corpus_files(transcribed=transcribed)
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"corpus not found at {CORPUS_DIR}"))]
    return [pytest.param(path, id=path.name[-48:]) for path in files]
