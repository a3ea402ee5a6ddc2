"""Where the shared real-rollout corpus lives (``../shared`` beside the checkout).

The corpus holds real people's sessions: tests read it in place and never copy it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS_DIR = SHARED / "corpus" / "codex-real"


def corpus_files() -> list[Path]:
    """Every rollout file of the corpus, sorted; empty when ../shared is absent."""
    return sorted(CORPUS_DIR.glob("*.jsonl")) if CORPUS_DIR.is_dir() else []


def corpus_params() -> list:
    """pytest params, one per corpus file (id = short file name), or one skip marker."""
    files = corpus_files()
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"corpus not found at {CORPUS_DIR}"))]
    return [pytest.param(path, id=path.name[-48:]) for path in files]
