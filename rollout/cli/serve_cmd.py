"""``rollout serve``: Codex's app-server thread API over a store (the :mod:`serve` package).

A thin edge: parse the arguments, open the store, configure logs, run
:func:`serve.run.run` until a signal, close the store. ``--json`` is accepted
as everywhere and means JSON log lines (the replies are JSON already).

Must not import: rich.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from .failure import CommandError, UsageError
from .output import Output
from .storage import open_store

__all__ = ["register"]

EXAMPLE = """\
examples:
  rollout serve --codex-home ~/.codex                       # stdio, like `codex app-server`
  rollout serve --db threads.db --listen ws://127.0.0.1:8765
  rollout serve --postgres postgresql://app@db.internal/threads --listen unix:///run/rollout.sock
  ROLLOUT_SERVE_TOKEN=secret rollout serve --listen ws://0.0.0.0:8765 --log-format json

Methods: thread/start, read, list, turns/list, items/list, fork, resume, archive,
unarchive, delete, name/set, metadata/update, inject_items, rollback, unsubscribe,
loaded/list. Methods that need a model (turn/start, ...) answer a -32601 error.
"""


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "serve", parents=[common], help="serve Codex's app-server thread/* API (JSON-RPC) from a store",
        description="Serve Codex's app-server thread/* JSON-RPC API from a store.", epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=_serve)
    parser.add_argument("--listen", default="stdio://", metavar="URL",
                        help="stdio:// (default), unix://PATH or ws://IP:PORT (loopback unless a token is set)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--db", metavar="PATH", help="SQLite store (default: $ROLLOUT_DB or the user data directory)")
    where.add_argument("--codex-home", metavar="PATH", help="serve a Codex home (e.g. ~/.codex) in place")
    where.add_argument("--postgres", metavar="DSN", help="PostgreSQL store (postgresql://user@host:5432/db): "
                       "several servers over one database see each other's changes")
    parser.add_argument("--log-format", choices=("text", "json"), default=None,
                        help="stderr log lines: text (default) or one JSON object per line")
    parser.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="info")
    parser.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                        help="a browser origin allowed to connect over ws:// (repeatable)")
    parser.add_argument("--allow-host", action="append", default=[], metavar="HOST",
                        help="a Host header name accepted over ws:// besides loopback (repeatable)")
    parser.add_argument("--max-message-bytes", type=int, default=16 * 1024 * 1024, metavar="N",
                        help="largest message accepted (default 16 MiB)")


async def _serve(args: argparse.Namespace, out: Output) -> int:
    from serve.logs import configure
    from serve.run import parse_listen, run
    from serve.server import AppServer
    from serve.transport import Limits

    try:
        listen = parse_listen(args.listen)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if args.max_message_bytes < 1024:
        raise UsageError("--max-message-bytes must be at least 1024")
    configure("json" if args.json else args.log_format or "text", args.log_level)
    token = os.environ.get("ROLLOUT_SERVE_TOKEN") or None
    async with open_store(args, create=True, turn_index="limited", follow=True) as store:  # what Codex's clients read
        home = os.path.abspath(os.path.expanduser(args.codex_home)) if args.codex_home else None
        server = AppServer(store, codex_home=home, default_cwd=os.getcwd())
        try:
            await run(server, listen, limits=Limits(max_bytes=args.max_message_bytes), token=token,
                      allow_hosts=tuple(args.allow_host), allow_origins=tuple(args.allow_origin))
        except ValueError as exc:  # a listener refused for safety (see serve.guard.check_bind)
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"{args.listen}: {exc.strerror or exc}") from exc
    return 0
