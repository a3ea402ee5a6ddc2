"""``rollout view THREAD|FILE``: one self-contained HTML page of a thread; and the formats of ``export``.

A FILE is a ``.jsonl``/``.jsonl.zst`` rollout (``-`` reads standard input); a
THREAD is an id looked up in ``--codex-home`` or the ``--db`` store, like the
other commands. The page goes to ``-o FILE``, else to standard output when that
is not a terminal, else to ``<thread id>.html`` in the current folder.

:func:`render_thread` is shared with ``export --format markdown|html``: rollout
bytes in, the chosen format out, with ``--redact`` applied to the bytes before
anything reads them (the store is never changed).

Must not import: rich (nothing here draws a table).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ..compression import ZSTD_MAGIC, decompress
from ..errors import RolloutError
from ..reader import read_rollout
from . import storage
from .failure import CommandError, UsageError
from .output import Output
from .target import is_thread_id

__all__ = ["add_export_options", "exported", "register", "render_thread"]

EXAMPLE = """\
examples:
  rollout view examples/rollout-2026-06-02T09-00-00-019e2f00-0000-7000-8000-000000000002.jsonl -o thread.html
  rollout view 019e2a5c-0000-7000-8000-000000000001 --codex-home ~/.codex --redact -o thread.html
  rollout export 019e2a5c-0000-7000-8000-000000000001 --format markdown --redact -o thread.md
"""


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser, where: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "view", parents=[common, where],
        help="write a thread as one self-contained HTML page",
        description="Write one HTML file of a thread that opens in any browser with no network: turns and "
        "items as a person reads them, folding tool calls and outputs, coloured diffs, images inline, "
        "rolled-back turns greyed out, fork lineage. Each item has an #item-<id> anchor.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("target", metavar="THREAD|FILE", help="thread id, or a rollout file (- for standard input)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the page here")
    parser.add_argument("--redact", action="store_true", help="mask secrets (API keys, tokens, private keys, signed URLs)")
    parser.add_argument("--policy", choices=("extended", "limited"), default="extended",
                        help="replay policy (default: extended)")
    parser.set_defaults(func=run)


def add_export_options(parser: argparse.ArgumentParser) -> None:
    """``export``'s ``--format`` and ``--redact``."""
    parser.add_argument("--format", choices=("jsonl", "markdown", "html"), default="jsonl",
                        help="jsonl: the rollout itself (default); markdown; html: the page of `rollout view`")
    parser.add_argument("--redact", action="store_true",
                        help="mask secrets in what is written (the store keeps the original)")


def render_thread(data: bytes, *, fmt: str, name: str | None = None, redact: bool = False,
                  policy: str = "extended") -> bytes:
    """A rollout's bytes in ``fmt`` (``jsonl``, ``markdown`` or ``html``), redacted if asked.

    Raises:
        EmptyRollout: ``data`` holds no line (for markdown and html).
    """
    if redact:
        from .redact import redact_rollout

        data = redact_rollout(data)
    if fmt == "jsonl":
        return data
    from .transcript import build

    result = read_rollout(data)
    transcript = build(result.lines, name=name, policy=policy,
                       problems=sum(1 for p in result.problems if not p.kept))
    if fmt == "markdown":
        from .markdown import render_markdown

        return render_markdown(transcript, redacted=redact).encode()
    from .page import render_page

    return render_page(transcript, redacted=redact).encode()


async def exported(store: Any, args: argparse.Namespace) -> bytes:
    """What ``export`` writes for ``args``: the stored rollout in ``--format``, ``--redact``-ed.

    Raises:
        UsageError: ``--zst`` (or a ``.zst`` output) with a format other than jsonl.
    """
    zst = args.zst or bool(args.output and args.output.endswith(".zst"))
    if zst and args.format != "jsonl":
        raise UsageError(f"--zst only applies to --format jsonl, not {args.format}")
    data = await store.export_rollout(args.thread_id)
    name = (await store.info(args.thread_id)).name if args.format != "jsonl" else None
    return render_thread(data, fmt=args.format, name=name, redact=args.redact)


def _read_file(target: str) -> bytes:
    data = sys.stdin.buffer.read() if target == "-" else Path(target).expanduser().read_bytes()
    return decompress(data) if data[:4] == ZSTD_MAGIC else data


async def _from_store(args: argparse.Namespace) -> tuple[bytes, str | None]:
    async with storage.open_store(args, create=False) as store:
        data = await store.export_rollout(args.target)
        return data, (await store.info(args.target)).name


def run(args: argparse.Namespace, out: Output) -> Any:
    target = args.target
    if target == "-" or Path(target).expanduser().is_file():
        where = "standard input" if target == "-" else target
        try:
            return _write(args, out, _read_file(target), None)
        except CommandError:
            raise
        except RolloutError as exc:  # empty, undecompressable: say which file
            raise CommandError(f"{where}: {exc}") from exc
    if Path(target).expanduser().is_dir():
        raise UsageError(f"{target} is a folder: view shows one thread (a rollout file, or a thread id with --db/--codex-home)")
    if not is_thread_id(target):
        raise FileNotFoundError(2, "no such file (nor a thread id)", target)
    return _view_stored(args, out)


async def _view_stored(args: argparse.Namespace, out: Output) -> int:
    data, name = await _from_store(args)
    return _write(args, out, data, name)


def _write(args: argparse.Namespace, out: Output, data: bytes, name: str | None) -> int:
    page = render_thread(data, fmt="html", name=name, redact=args.redact, policy=args.policy)
    path = _destination(args, out)
    if path is None:
        out.write_bytes(page)
        return 0
    if path.is_dir():
        raise CommandError(f"{path}: is a folder (give the page's file name, e.g. {path / 'thread.html'})")
    temp = path.with_name(f".{path.name}.partial")
    temp.write_bytes(page)
    os.replace(temp, path)
    if out.json:
        out.emit({"path": str(path), "bytes": len(page)})
    else:
        out.note(f"wrote {path} ({len(page):,} bytes): open it in a browser")
    return 0


def _destination(args: argparse.Namespace, out: Output) -> Path | None:
    if args.output == "-":
        return None
    if args.output:
        return Path(args.output).expanduser()
    if not out.stdout.isatty():
        return None
    if is_thread_id(args.target):
        return Path(f"{args.target}.html")
    stem = Path(args.target).name.split(".")[0] if args.target != "-" else ""
    return Path(f"{stem or 'thread'}.html")
