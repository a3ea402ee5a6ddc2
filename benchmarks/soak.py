"""Crash soak: ``python -m benchmarks.soak --kills N``: SIGKILL a writer N times per backend, lose nothing.

A child process opens the store and appends to four threads at once (one to
seven lines per append, sizes varying), writing ``<thread> <seq>`` to a side
file after every append returns: that line is the acknowledgement. The parent
kills it with SIGKILL at a random moment (now and then while it is still
opening the store), reopens the store and checks:

* every acknowledged append is there: ``last_seq`` and the lines up to it;
* no append is half there: ``last_seq`` is the end of an append (the writer notes
  each append's last seq in the side file before it starts);
* every stored line is the one written at its seq (content, not just a count);
* the backend is sound: SQLite's ``PRAGMA integrity_check``; in a Codex home,
  every line of every rollout file decodes, except fragments of a line cut by a
  kill, each a prefix of the line that was being written.

Only the public store API drives the writer and the reader (``Store.open``,
``start_thread``, ``append``, ``info``, ``read_lines``), so the soak outlives
changes to the stores' insides; a new backend is one entry in ``BACKENDS``. The
``postgres`` backend runs on the server at ``$ROLLOUT_SOAK_DSN`` (default
``postgresql://127.0.0.1:5432/test``) in a schema of its own named after the soak's
folder, dropped at the end (``--backend postgres`` only runs where a server answers).
Prints kills survived, acknowledged appends checked, losses (must be 0), partial
appends (must be 0 where appends are atomic: ``ATOMIC_APPENDS``) and corruption
(must be 0); exits 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import rollout
from rollout import events as ev
from rollout.errors import ThreadNotFound

ROOT = Path(__file__).resolve().parents[1]
THREADS = [f"019e0000-0000-7000-8000-0000000050a{n}" for n in range(4)]
FULL_CHECK_EVERY = 50  # kills between checks of every line (in between: only the new ones)


def _sqlite(path: Path) -> AbstractAsyncContextManager[Any]:
    from store import SqliteStore

    return SqliteStore.open(path / "soak.db")


def _files(path: Path) -> AbstractAsyncContextManager[Any]:
    from store import FileStore

    return FileStore.open(path / "codex")


DSN = os.environ.get("ROLLOUT_SOAK_DSN", "postgresql://127.0.0.1:5432/test")


def pg_schema(path: Path) -> str:
    """The PostgreSQL schema of the soak in ``path`` (the writer and the checker agree on it)."""
    return "soak_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]


def _postgres(path: Path) -> AbstractAsyncContextManager[Any]:
    from store import PostgresStore

    return PostgresStore.open(DSN, schema=pg_schema(path), pool_size=2, listen=False)


BACKENDS: dict[str, Callable[[Path], AbstractAsyncContextManager[Any]]] = {
    "sqlite": _sqlite, "files": _files, "postgres": _postgres}
#: Backends whose append is all-or-nothing across a crash. A Codex home appends line by line:
#: a kill in the middle of a multi-line append keeps its first lines (never acknowledged).
ATOMIC_APPENDS = {"sqlite", "postgres"}
#: what ``python -m benchmarks.soak`` runs without ``--backend``
DEFAULT_BACKENDS = ["sqlite", "files"]


def forget(backend: str, path: Path) -> None:
    """Remove what a soak keeps outside ``path`` (the PostgreSQL schema)."""
    if backend == "postgres":
        import asyncpg

        async def drop() -> None:
            conn = await asyncpg.connect(DSN)
            try:
                await conn.execute(f"DROP SCHEMA IF EXISTS {pg_schema(path)} CASCADE")
            finally:
                await conn.close()

        asyncio.run(drop())


def line_for(thread_id: str, seq: int) -> ev.Line:
    """The line the writer appends at ``seq`` of ``thread_id`` (its message names both)."""
    message = f"{thread_id} {seq}" + " pad" * (seq * 7 % 200)
    return ev.EventMsgLine(timestamp="2026-06-01T10:00:00.000Z", payload=ev.AgentMessageEvent(message=message))


# --------------------------------------------------------------------------- the child


async def _produce(store: Any, thread_id: str, note: Callable[[str, str, int], None], rng: random.Random) -> None:
    try:
        seq = (await store.info(thread_id)).last_seq
    except ThreadNotFound:
        seq = (await store.start_thread(ev.SessionMeta(id=thread_id, cwd="/soak"))).last_seq
        note("ack", thread_id, seq)
    while True:
        lines = [line_for(thread_id, s) for s in range(seq + 1, seq + 1 + rng.randint(1, 7))]
        note("try", thread_id, seq + len(lines))
        seq = await store.append(thread_id, lines, expected_seq=seq)
        note("ack", thread_id, seq)


async def _child(backend: str, path: Path, acks: Path) -> None:
    fd = os.open(acks, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def note(kind: str, thread_id: str, seq: int) -> None:
        """``try`` before an append (the seq it would end at), ``ack`` once it returned."""
        os.write(fd, f"{kind} {thread_id} {seq}\n".encode())  # one small O_APPEND write: whole or absent

    async with BACKENDS[backend](path) as store:
        print("ready", flush=True)
        rng = random.Random(os.getpid())
        await asyncio.gather(*(_produce(store, t, note, rng) for t in THREADS))


# --------------------------------------------------------------------------- the parent


@dataclass
class SoakReport:
    """What one backend's soak saw."""

    backend: str
    kills: int = 0
    survived: int = 0
    appends_checked: int = 0
    lines_checked: int = 0
    losses: int = 0
    partial_appends: int = 0
    corruptions: int = 0
    seconds: float = 0.0
    server_away: int = 0  # times the database server was restarting (by others) and the soak waited
    errors: list[str] = field(default_factory=list)

    def note(self, kind: str, message: str) -> None:
        """Count a problem once, however many later checks see it again."""
        if message not in self.errors:
            self.errors.append(message)
            setattr(self, kind, getattr(self, kind) + 1)

    @property
    def passed(self) -> bool:
        atomic = self.backend in ATOMIC_APPENDS
        return self.losses == self.corruptions == 0 and (self.partial_appends == 0 or not atomic)


def _kill_once(backend: str, path: Path, acks: Path, rng: random.Random) -> None:
    """Start the writer and SIGKILL it at a random moment."""
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.soak", "--child", backend, str(path), str(acks)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        if rng.random() < 0.1:
            time.sleep(rng.uniform(0.0, 0.6))  # maybe still opening (recovering) the store
        else:
            ready = child.stdout.readline()  # type: ignore[union-attr]
            if ready != b"ready\n":
                err = child.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
                if _server_away(err):
                    raise ServerAway(err.strip().splitlines()[-1])
                raise RuntimeError(f"writer failed to start: {err}")
            time.sleep(rng.uniform(0.0, 0.3))
    finally:
        child.send_signal(signal.SIGKILL)
        _, err = child.communicate()
    if child.returncode != -signal.SIGKILL:
        if _server_away(err.decode()):
            raise ServerAway(err.decode().strip().splitlines()[-1])
        raise RuntimeError(f"writer exited by itself ({child.returncode}): {err.decode()[-2000:]}")


class ServerAway(Exception):
    """The database server is restarting (another program's doing): wait, then try that kill again."""


def _server_away(err: str) -> bool:
    return any(sign in err for sign in ("cannot connect to PostgreSQL", "lost the connection to PostgreSQL",
                                        "the database system is shutting down", "the database system is starting up"))


def _patiently(what: Callable[[], Any], report: SoakReport, tries: int = 60) -> Any:
    """``what()``, retried every 2 s while the database server is away (counted in the report's errors)."""
    for attempt in range(tries):
        try:
            return what()
        except ServerAway as exc:
            reason = str(exc)
        except Exception as exc:  # the checker's store: a StoreError naming the lost server
            if not _server_away(str(exc)) or attempt == tries - 1:
                raise
            reason = str(exc)
        report.server_away += 1
        print(f"  {report.backend}: server away ({reason[:120]}); retrying in 2 s", file=sys.stderr)
        time.sleep(2)
    raise RuntimeError(f"{report.backend}: the server stayed away")


@dataclass
class _Log:
    """What the side file said so far: the highest acknowledged seq and every append's end, per thread."""

    offset: int = 0
    best: dict[str, int] = field(default_factory=dict)
    ends: dict[str, set[int]] = field(default_factory=dict)

    def read(self, acks: Path) -> int:
        """Fold in the records written since the last read; returns how many appends were acknowledged."""
        data = acks.read_bytes()[self.offset :] if acks.exists() else b""
        complete = data[: data.rfind(b"\n") + 1]
        self.offset += len(complete)
        count = 0
        for record in complete.decode().splitlines():
            kind, thread_id, seq = record.split()
            self.ends.setdefault(thread_id, {1}).add(int(seq))
            if kind == "ack":
                self.best[thread_id] = max(self.best.get(thread_id, 0), int(seq))
                count += 1
        return count


async def _check(backend: str, path: Path, log: _Log, verified: dict[str, int], report: SoakReport) -> None:
    """Reopen the store; every acknowledged line is there, no append is half there, every line is right."""
    async with BACKENDS[backend](path) as store:
        for thread_id, acked in log.best.items():
            try:
                last = (await store.info(thread_id)).last_seq
            except ThreadNotFound:
                last = 0
            if last < acked:
                report.note("losses", f"{thread_id}: acknowledged seq {acked}, stored last_seq {last}")
            elif last not in log.ends[thread_id]:
                report.note("partial_appends", f"{thread_id}: stored last_seq {last} ends inside an append")
            after = verified.get(thread_id, 0)
            lines = await store.read_lines(thread_id, after_seq=after) if after else await store.read_lines(thread_id)
            for seq, line in enumerate(lines, after + 1):
                if not _is_line(thread_id, seq, line):
                    report.note("corruptions", f"{thread_id}: seq {seq} holds the wrong line")
                    break
            report.lines_checked += len(lines)
            verified[thread_id] = after + len(lines)


def _is_line(thread_id: str, seq: int, line: ev.Line) -> bool:
    if seq == 1:
        return isinstance(line, ev.SessionMetaLine) and line.payload.id == thread_id
    return rollout.encode_line(line) == rollout.encode_line(line_for(thread_id, seq))


def _sound(backend: str, path: Path) -> list[str]:
    """The backend's own integrity, read from its files (the store is closed)."""
    if backend == "sqlite":
        conn = sqlite3.connect(path / "soak.db")
        try:
            found = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
        return [] if found == [("ok",)] else [f"integrity_check: {found}"]
    if backend == "files":
        return [e for file in sorted((path / "codex").rglob("rollout-*.jsonl")) for e in _file_problems(file)]
    return []


def _file_problems(file: Path) -> list[str]:
    """Lines of a Codex-home rollout that are neither whole lines nor the cut-off start of the next one."""
    result = rollout.read_rollout(file)
    thread_id = file.name.removesuffix(".jsonl")[-36:]
    wrong = []
    for problem in result.problems:
        seq = sum(1 for number in result.line_numbers if number < problem.line) + 1
        # a cut session_meta (seq 1) has a creation time we cannot know: its start must still be one
        expected = rollout.encode_line(line_for(thread_id, seq)) if seq > 1 else b'{"timestamp":"'
        fragment = problem.raw.rstrip(b"\r")
        if problem.kind not in ("torn", "malformed") or not expected.startswith(fragment[: len(expected)]):
            wrong.append(f"{file.name}:{problem.line}: {problem.kind}: {problem.reason}")
    return wrong


def _verify(backend: str, path: Path, log: _Log, verified: dict[str, int], report: SoakReport) -> bool:
    """One round of checks after a kill; True when it found nothing new that breaks a promise."""
    before = (report.losses, report.corruptions, report.partial_appends if backend in ATOMIC_APPENDS else 0)
    asyncio.run(_check(backend, path, log, verified, report))  # notes losses, partial appends, wrong lines
    for message in _sound(backend, path):
        report.note("corruptions", message)
    return before == (report.losses, report.corruptions, report.partial_appends if backend in ATOMIC_APPENDS else 0)


def soak(backend: str, kills: int, workdir: Path, *, seed: int = 0, progress: bool = False) -> SoakReport:
    """SIGKILL the writer ``kills`` times, checking everything after each kill."""
    report, rng = SoakReport(backend=backend), random.Random(seed)
    path, acks = workdir / backend, workdir / f"{backend}.acks"
    path.mkdir(parents=True, exist_ok=True)
    log, verified, started = _Log(), {}, time.monotonic()
    for kill in range(1, kills + 1):
        stop = False
        try:
            _patiently(lambda: _kill_once(backend, path, acks, rng), report)
        except KeyboardInterrupt:  # SIGINT: the writer is dead (killed on the way out); check it, report, stop
            stop = True
            print(f"  {backend}: interrupted at kill {kill}: a full check, then the report", file=sys.stderr)
        report.kills += 1
        report.appends_checked += log.read(acks)
        if stop or kill % FULL_CHECK_EVERY == 0 or kill == kills:
            verified.clear()
        report.survived += _patiently(lambda: _verify(backend, path, log, verified, report), report)
        if progress and (stop or kill % 50 == 0):
            print(f"  {backend}: {kill}/{kills} kills, {report.appends_checked} appends checked, "
                  f"{report.losses} losses, {report.partial_appends} partial, {report.corruptions} corrupt",
                  file=sys.stderr)
        if stop:
            break
    report.seconds = time.monotonic() - started
    return report


def check(backend: str, workdir: Path) -> SoakReport:
    """Check a soak's store against its whole side file once, without running the writer."""
    report, log = SoakReport(backend=backend), _Log()
    report.appends_checked = log.read(workdir / f"{backend}.acks")
    _verify(backend, workdir / backend, log, {}, report)
    return report


# --------------------------------------------------------------------------- command line


def _summary(reports: list[SoakReport]) -> str:
    lines = [f"{'backend':8} {'kills':>6} {'survived':>9} {'appends checked':>16} {'lines checked':>14} "
             f"{'losses':>7} {'partial':>8} {'corrupt':>8} {'time':>7}"]
    for r in reports:
        lines.append(f"{r.backend:8} {r.kills:>6} {r.survived:>9} {r.appends_checked:>16,} {r.lines_checked:>14,} "
                     f"{r.losses:>7} {r.partial_appends:>8} {r.corruptions:>8} {r.seconds:>6.0f}s")
        lines += [f"  {r.backend}: {e}" for e in r.errors[:20]]
    return "\n".join(lines)


def markdown(reports: list[SoakReport], command: str, results: Any) -> str:
    """The ``## Crash soak`` section of RESULTS.md; rows of backends not run now are kept."""
    m = results.machine()
    previous = results.section(results.RESULTS.read_text(encoding="utf-8"), "## Crash soak")
    rows = {r.backend: (
        f"| {r.backend} | {r.kills:,} | {r.survived:,} | {r.appends_checked:,} | {r.lines_checked:,} | {r.losses} "
        f"| {r.partial_appends} | {r.corruptions} | {r.seconds / 60:.0f} min | {results.now()}: `{command}` |"
    ) for r in reports}
    return "\n".join([
        f"Each row is the latest `python -m benchmarks.soak ... --write` of that backend ({m['cores']} cores, "
        f"{m['cpu']}, Python {m['python']}); `benchmarks.compare` keeps this section.",
        "",
        "| backend | kills | survived | acknowledged appends checked | lines re-read | losses | partial appends "
        "| corrupt | time | run |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *results.merge_rows(previous, rows, list(BACKENDS)),
        "",
        "A writer appends to four threads at once through the public store API and acknowledges each append in "
        "a side file once it returns; it is SIGKILLed at a random moment (one time in ten while still opening the "
        "store), the store is reopened and every acknowledged append, every stored line's content and the "
        "backend's integrity are checked (SQLite `integrity_check`; in a Codex home every line decodes or is the "
        "cut-off start of the line being written). Losses and corruption must be 0. A partial append is a kill "
        "in the middle of a multi-line append that left its first lines stored (never acknowledged): 0 for "
        "SQLite and PostgreSQL, whose appends are transactions; a Codex home appends line by line. Each problem counts once, "
        "however many later checks see it; a kill survived when its check found no loss or corruption.",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.splitlines()[0],
                                     epilog="example: python -m benchmarks.soak --kills 1000")
    parser.add_argument("--kills", type=int, default=100, help="SIGKILLs per backend (default 100)")
    parser.add_argument("--backend", action="append", choices=sorted(BACKENDS),
                        help="only this backend (repeatable; default sqlite and files; postgres needs a server)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill moments")
    parser.add_argument("--workdir", type=Path, help="keep the stores here (default: a temporary directory)")
    parser.add_argument("--json", action="store_true", help="one JSON object per backend")
    parser.add_argument("--write", action="store_true", help="put the figures in benchmarks/RESULTS.md (## Crash soak)")
    parser.add_argument("--child", nargs=3, metavar=("BACKEND", "PATH", "ACKS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        asyncio.run(_child(args.child[0], Path(args.child[1]), Path(args.child[2])))
        return 0
    with tempfile.TemporaryDirectory(prefix="soak-") as temp:
        workdir = args.workdir or Path(temp)
        reports = []
        for backend in args.backend or DEFAULT_BACKENDS:
            try:
                reports.append(soak(backend, args.kills, workdir, seed=args.seed, progress=not args.json))
            finally:
                if args.workdir is None:
                    forget(backend, workdir / backend)
    if args.json:
        for report in reports:
            print(json.dumps(asdict(report)))
    else:
        print(_summary(reports))
    if args.write:
        from . import report as results

        command = "python -m benchmarks.soak " + " ".join(argv if argv is not None else sys.argv[1:])
        results.write_section("## Crash soak", markdown(reports, command, results))
    return 0 if all(r.passed for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
