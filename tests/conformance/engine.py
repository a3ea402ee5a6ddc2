"""The engine's side of a comparison: rollout files in, the v2 JSON ``thread/read`` would answer out.

A thread may span several segment files (paginated revert and fork): :func:`thread_lines`
resolves the chain with :mod:`replay.segments` from every file it is given, and
:func:`turns_json` replays the joined lines as ``thread/read`` (``includeTurns``) shows a
thread that is not running. :func:`canonical` is the byte-for-byte form both sides are
compared in (JSON with keys in the order they came, no whitespace). :func:`engine_server`
runs `rollout serve` over stdio, driven by the same client code as the real Codex app-server.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from replay import build_turns, segments
from rollout.reader import read_rollout

from .codex import AppServer

ROOT = Path(__file__).resolve().parents[2]


def thread_lines(latest: Path, others: Sequence[Path] = ()) -> tuple[list[Any], segments.MissingBase | None]:
    """The lines to replay for the thread whose newest segment is ``latest`` (``others``: candidate bases)."""
    decoded = {path: read_rollout(path).lines for path in (latest, *others)}
    described = {path: segments.describe(path, lines) for path, lines in decoded.items()}
    head = described[latest]
    if head is None:
        return decoded[latest], None
    known = [segment for segment in described.values() if segment is not None]
    chain, gap = segments.chain(head, lambda thread_id: [s for s in known if s.thread_id == thread_id])
    return segments.join([(segment, decoded[segment.key]) for segment in chain]), gap


def turns_json(lines: Sequence[Any], *, policy: str = "limited", items_view: str = "full") -> list[Any]:
    """The turns as decoded JSON (key order kept), as ``thread/read`` of a thread not running."""
    turns = build_turns(lines, policy=policy, items_view=items_view)  # type: ignore[arg-type]
    return json.loads(msgspec.json.encode(turns))


def canonical(document: Any) -> str:
    """The comparison form: compact JSON, keys in the order the document holds them."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def first_difference(codex: Any, engine: Any, path: str = "") -> str | None:
    """Where two documents first differ (value, type, missing key or key order), for messages."""
    if type(codex) is not type(engine):
        return f"{path or '.'}: codex {canonical(codex)[:200]} / engine {canonical(engine)[:200]}"
    if isinstance(codex, dict):
        if list(codex) != list(engine):
            return f"{path or '.'}: keys codex {list(codex)} / engine {list(engine)}"
        for key in codex:
            found = first_difference(codex[key], engine[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(codex, list):
        if len(codex) != len(engine):
            return f"{path or '.'}: {len(codex)} entries in codex / {len(engine)} in engine"
        for index, (left, right) in enumerate(zip(codex, engine)):
            found = first_difference(left, right, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if codex == engine else f"{path or '.'}: codex {canonical(codex)[:200]} / engine {canonical(engine)[:200]}"


def engine_server(home: str | os.PathLike[str], *, experimental: bool = False) -> AppServer:
    """``rollout serve --codex-home HOME`` from this checkout, as an :class:`AppServer`."""
    code = "from rollout.cli.main import entry; entry()"
    return AppServer(home, experimental=experimental, env={"PYTHONPATH": str(ROOT)},
                     command=[sys.executable, "-c", code, "serve", "--codex-home", str(home)])
