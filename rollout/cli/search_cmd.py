"""``rollout search``: full-text search over a store's threads (:meth:`store.Store.search`).

Each hit names its thread, turn, item and time, with a snippet whose matched words are
highlighted, and the ``rollout view`` anchor of its item (``#item-<id>``, the same
:func:`rollout.cli.transcript.item_anchor` the page uses). ``--json`` writes one object per
hit (the library's ``Hit`` plus ``anchor``), then ``{"nextCursor": ...}`` when more follow.

Must not import: rich (rendering goes through :mod:`rollout.cli.render_live`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from ..codec import encode_payload
from .failure import UsageError
from .output import Output
from .storage import open_store

__all__ = ["anchor", "parse_since", "register"]

EXAMPLE = """\
examples:
  rollout search parse_rollout_name
  rollout search '"connection refused"' --role tool --since 7d
  rollout search 'migrat* -sqlite' --cwd ~/src/app --json
"""

_AGO = re.compile(r"(\d+)([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def register(sub: Any, common: argparse.ArgumentParser, where: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "search", parents=[common, where], help="full-text search over messages, reasoning, commands and tool output",
        description="Full-text search over what people and agents wrote: user and agent messages, reasoning "
        "summaries, commands and their output, tool calls and results, changed file paths. Words are all "
        'required; "a phrase" keeps words together; word* is a prefix; -word excludes. Identifiers '
        "(snake_case, dotted.names, paths, ids, UUIDs) match as written.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(func=run)
    p.add_argument("query", nargs="+", metavar="QUERY", help="what to look for")
    p.add_argument("--cwd", metavar="DIR", help="only threads started in this directory")
    p.add_argument("--since", metavar="WHEN", help="only items since WHEN: a date (2026-06-01), a time, or an age (7d, 12h)")
    p.add_argument("--role", choices=("user", "assistant", "tool"), help="only what the user, the agent or tools wrote")
    p.add_argument("--threads", action="store_true", help="one hit per thread (its best)")
    p.add_argument("--limit", type=int, default=20, metavar="N", help="at most N hits (default: 20)")
    p.add_argument("--cursor", metavar="CURSOR", help="continue a previous search")


def parse_since(text: str, now: datetime | None = None) -> int:
    """Unix ms of ``--since``: an ISO date or time (local time when naive), or an age like ``7d``.

    Raises:
        UsageError: neither.
    """
    now = now or datetime.now(UTC)
    if match := _AGO.fullmatch(text.strip()):
        return int((now - timedelta(**{_UNITS[match[2]]: int(match[1])})).timestamp() * 1000)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise UsageError(f"--since: not a date, a time or an age (7d, 12h): {text!r}") from exc
    return int((moment if moment.tzinfo else moment.astimezone()).timestamp() * 1000)


def anchor(hit: Any) -> str:
    """The ``rollout view`` anchor of a hit's item."""
    from .transcript import item_anchor  # the HTML page's anchors; only search hits need them

    return item_anchor(hit.item_id, hit.turn_id if hit.repeated_id else None)


async def run(args: argparse.Namespace, out: Output) -> int:
    if not 1 <= args.limit <= 1000:
        raise UsageError("--limit must be between 1 and 1000")
    since = parse_since(args.since) if args.since else None
    cwd = os.path.abspath(os.path.expanduser(args.cwd)) if args.cwd else None
    async with open_store(args, create=False) as store:
        page = await store.search(" ".join(args.query), cwd=cwd, since=since, role=args.role, limit=args.limit,
                                  cursor=args.cursor, threads=args.threads)
    if out.json:
        for hit in page.hits:
            out.emit({**json.loads(encode_payload(hit)), "anchor": anchor(hit)})
        if page.next_cursor:
            out.emit({"nextCursor": page.next_cursor})
        return 0
    from . import render_live

    out.show(render_live.search_hits(page.hits, [anchor(hit) for hit in page.hits]))
    if page.next_cursor:
        out.stderr.write(f"more hits: add --cursor {page.next_cursor}\n")
    return 0
