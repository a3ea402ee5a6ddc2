"""``python -m benchmarks.bench_serve [--quick] [--json]``: `rollout serve` vs `codex app-server`, one run.

Both servers get a copy of the same Codex home (a generated 1,000-turn thread plus
small one-turn threads, every file with the same mtime) and the same stdio client:
it keeps ``--in-flight`` requests outstanding and times each one from write to reply.
Reported per method and server: requests per second, p50 and p99 latency, and the
ratio engine/codex of the throughputs. Methods: ``thread/read`` with ``includeTurns``
of the 1,000-turn thread, ``thread/list {}`` (Codex's default page), and the experimental
``thread/search`` (both clients opt in) of the word most user prompts hold and of a word
none holds. The engine's first search indexes the home (its "first ms"); Codex scans the
files on every search.

Each server first answers two warm-up requests, not counted in the rates; the first
one's latency is shown as "first ms" (the cold read: nothing of the thread was read
since the server started). "start ms" is from spawning the server to its ``initialize``
reply: the engine opens the home then, building its sidecar index and, as ``rollout
serve --codex-home`` asks it to, each thread's turn index (``store.turns``), so its
first read needs no replay; a thread written after the start replays once on its first
read. Codex builds its state database on the first list. Without the Codex binary
(``$CODEX_BIN`` or the pinned install), only the engine is run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from .workload import Thread, generate_thread, tiny_thread

ROOT = Path(__file__).resolve().parents[1]
MTIME = 1780272000
OFFLINE = (ROOT / "tests" / "conformance" / "home.py")


def codex_binary() -> Path | None:
    override = os.environ.get("CODEX_BIN")
    pinned = Path.home() / ".cache/codex-0.171.0/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex"
    candidate = Path(override) if override else pinned
    return candidate if candidate.is_file() else None


def place(home: Path, thread: Thread) -> None:
    meta = json.loads(thread.turns[0][0])["payload"]
    stamp = datetime.fromisoformat(meta["timestamp"].replace("Z", "+00:00")).astimezone()
    folder = home / "sessions" / f"{stamp:%Y}" / f"{stamp:%m}" / f"{stamp:%d}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"rollout-{stamp:%Y-%m-%dT%H-%M-%S}-{thread.thread_id}.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in thread.lines))
    os.utime(path, (MTIME, MTIME))


def common_word(threads: list[Thread]) -> str:
    """The word (5 letters or more) the most threads' user prompts hold."""
    counts: dict[str, int] = {}
    for thread in threads:
        words = set()
        for line in thread.lines:
            record = json.loads(line)
            if record["type"] == "event_msg" and record["payload"].get("type") == "user_message":
                words.update(w.lower() for w in record["payload"]["message"].split() if w.isalpha() and len(w) >= 5)
        for word in words:
            counts[word] = counts.get(word, 0) + 1
    return max(sorted(counts), key=lambda word: counts[word])


def build_home(home: Path, small: int) -> tuple[str, str]:
    """The benchmark home; returns the long thread's id and the common word of the small threads."""
    home.mkdir(parents=True)
    config = "\n".join(line for line in OFFLINE.read_text().split('OFFLINE = """\\\n', 1)[1].split('"""')[0].splitlines())
    (home / "config.toml").write_text(config + "\n")
    long = generate_thread(7, 1000)
    place(home, long)
    tiny = [tiny_thread(10_000 + seed) for seed in range(small)]
    for thread in tiny:
        place(home, thread)
    return long.thread_id, common_word(tiny)


class _Reply(msgspec.Struct):
    """What the client reads of each message: the result itself is skipped, not built."""

    id: Any = None
    method: str | None = None
    error: Any = None


_REPLY = msgspec.json.Decoder(_Reply)


class StdioClient:
    """Pipelined JSON-RPC over a child's stdin/stdout, timing each request."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.next = 0
        self.pending: dict[int, tuple[float, asyncio.Future[float]]] = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            message = _REPLY.decode(line)
            entry = self.pending.pop(message.id, None) if message.method is None else None
            if entry is not None:
                if message.error is not None:
                    entry[1].set_exception(RuntimeError(str(message.error)))
                else:
                    entry[1].set_result(time.perf_counter() - entry[0])

    async def call(self, method: str, params: Any) -> float:
        self.next += 1
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.pending[self.next] = (time.perf_counter(), future)
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"id": self.next, "method": method, "params": params}).encode() + b"\n")
        await self.proc.stdin.drain()
        return await future

    async def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        self.reader.cancel()


async def start(kind: str, home: Path, codex: Path | None) -> tuple[StdioClient, float]:
    env = dict(os.environ, CODEX_HOME=str(home), RUST_LOG="warn", PYTHONPATH=str(ROOT))
    env.pop("OPENAI_API_KEY", None)
    if kind == "codex":
        assert codex is not None
        argv = [str(codex), "app-server"]
    else:
        argv = [sys.executable, "-c", "from rollout.cli.main import entry; entry()", "serve",
                "--codex-home", str(home), "--log-level", "warning"]
    spawned = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.DEVNULL, env=env, cwd=str(home),
                                                limit=256 * 1024 * 1024)
    client = StdioClient(proc)
    await client.call("initialize", {"clientInfo": {"name": "bench", "version": "0"},
                                     "capabilities": {"experimentalApi": True}})
    return client, (time.perf_counter() - spawned) * 1000


async def measure(client: StdioClient, method: str, params: Any, count: int, in_flight: int) -> dict[str, float]:
    first = await client.call(method, params)
    await client.call(method, params)
    slots = asyncio.Semaphore(in_flight)

    async def one() -> float:
        async with slots:
            return await client.call(method, params)

    started = time.perf_counter()
    latencies = sorted(await asyncio.gather(*(one() for _ in range(count))))
    elapsed = time.perf_counter() - started
    return {
        "first_ms": first * 1000,
        "requests": count,
        "rps": count / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))] * 1000,
    }


async def run(quick: bool, in_flight: int) -> dict[str, Any]:
    codex = codex_binary()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        base = Path(tmp)
        long_id, word = build_home(base / "codex", small=100 if quick else 500)
        shutil.copytree(base / "codex", base / "engine", copy_function=shutil.copy2)
        late = generate_thread(8, 1000)  # written once the server runs: its first read replays it
        cases = {
            "thread/read (1,000 turns)": ("thread/read", {"threadId": long_id, "includeTurns": True}, 8 if quick else 30),
            "thread/read (1,000 turns, written after start)": (
                "thread/read", {"threadId": late.thread_id, "includeTurns": True}, 4 if quick else 10),
            "thread/list": ("thread/list", {}, 100 if quick else 400),
            "thread/search (a common word)": ("thread/search", {"searchTerm": word}, 20 if quick else 100),
            "thread/search (no match)": ("thread/search", {"searchTerm": "qqzzvnomatch"}, 20 if quick else 100),
        }
        results: dict[str, Any] = {}
        for kind in ("engine", "codex"):
            if kind == "codex" and codex is None:
                results["codex"] = "not available (no Codex binary: set CODEX_BIN)"
                continue
            client, start_ms = await start(kind, base / kind, codex)
            place(base / kind, late)
            try:
                results[kind] = {name: await measure(client, m, p, n, in_flight) for name, (m, p, n) in cases.items()}
                results[kind]["start_ms"] = start_ms
            finally:
                await client.close()
        return results


def render(results: dict[str, Any]) -> str:
    rows = ["| method | server | first ms | req/s | p50 ms | p99 ms | engine ÷ codex (req/s) |",
            "|---|---|---:|---:|---:|---:|---:|"]
    codex = results.get("codex")
    for name in (name for name in results["engine"] if name != "start_ms"):
        for kind in ("engine", "codex"):
            got = results.get(kind)
            if not isinstance(got, dict):
                rows.append(f"| {name} | {kind} | {got} | | | | |")
                continue
            f = got[name]
            ratio = ""
            if kind == "engine" and isinstance(codex, dict):
                ratio = f"{f['rps'] / codex[name]['rps']:.2f}x"
            rows.append(f"| {name} | {kind} | {f['first_ms']:.0f} | {f['rps']:.1f} | {f['p50_ms']:.1f} | "
                        f"{f['p99_ms']:.1f} | {ratio} |")
    starts = [f"{kind} {got['start_ms']:.0f} ms" for kind, got in results.items() if isinstance(got, dict)]
    return "\n".join(rows) + "\n\nstart (spawn to initialize reply): " + ", ".join(starts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_serve", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer threads and requests")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--in-flight", type=int, default=4, help="requests outstanding at once (default 4)")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args.quick, args.in_flight))
    print(json.dumps(results) if args.json else render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
