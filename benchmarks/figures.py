"""Measure every figure for one store: append, read/resume, fork, bytes on disk, listing, corpus.

``run_store`` drives one ``peers.Driver`` through the whole plan in its own directory and
returns plain numbers (seconds, bytes, counts). Failures and unsupported operations are
recorded per figure as ``{"error": ...}`` or ``{"na": ...}``, so one broken peer never stops
the run. Timed regions hold only the driver call; conversion (``prepare``), reopening and
population are outside them. Reads reopen the store first, so in-process caches are cold.

Imports ``benchmarks.peers`` (not any peer module) and ``benchmarks.workload``.
"""

from __future__ import annotations

import gc
import statistics
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.peers import Driver, Loaded, load
from benchmarks.workload import Thread, corpus_threads, generate_thread, tiny_thread


@dataclass(frozen=True)
class Plan:
    """How much work one run does; ``quick()`` keeps the whole run near two minutes."""

    turns: int = 200                        # the long thread
    append_threads: int = 3                 # long threads appended (median reported)
    bytes_at: tuple[int, ...] = (50, 100, 200)
    repeats: int = 5                        # reads, page listings (median reported)
    fork_repeats: int = 25                  # forks take well under a millisecond: more samples
    list_threads: int = 10_000
    list_page: int = 50
    corpus: bool = True
    seed: int = 7

    @classmethod
    def quick(cls) -> Plan:
        return cls(append_threads=1, repeats=3, fork_repeats=9, list_threads=2_000)


@dataclass
class Workload:
    """Threads shared by every store in one run (generated once)."""

    long: list[Thread]
    tiny: list[Thread]
    corpus: list[Thread] = field(default_factory=list)

    @classmethod
    def build(cls, plan: Plan) -> Workload:
        long = [generate_thread(plan.seed * 101 + i, plan.turns) for i in range(plan.append_threads)]
        tiny = [tiny_thread(plan.seed * 1_000_003 + i) for i in range(plan.list_threads)]
        return cls(long, tiny, corpus_threads() if plan.corpus else [])

    def describe(self) -> dict[str, Any]:
        first = self.long[0]
        return {
            "long_thread": {"turns": len(first.turns), "lines": len(first.lines), "bytes": first.nbytes,
                            "threads": len(self.long)},
            "list_threads": len(self.tiny),
            "tiny_thread_bytes": self.tiny[0].nbytes if self.tiny else 0,
            "corpus": {"threads": len(self.corpus), "turns": sum(len(t.turns) for t in self.corpus),
                       "lines": sum(len(t.lines) for t in self.corpus),
                       "bytes": sum(t.nbytes for t in self.corpus)},
        }


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    """Seconds taken by one awaited call (after a garbage collection), and its result."""
    gc.collect()
    start = time.perf_counter()
    result = await call()
    return time.perf_counter() - start, result


async def run_store(loaded: Loaded, plan: Plan, work: Workload, root: Path) -> dict[str, Any]:
    """Every figure for one store; a key per figure, each a dict of numbers or an error/n-a."""
    results: dict[str, Any] = {}
    steps = [("long", _long), ("list", _listing), ("corpus", _corpus)]
    for name, step in steps:
        if name == "corpus" and not work.corpus:
            continue
        try:
            results.update(await step(loaded.cls, plan, work, root / name))
        except Exception as exc:  # a peer failing must not end the run: the table says so
            results[f"{name}_error"] = {"error": f"{type(exc).__name__}: {exc}",
                                        "trace": traceback.format_exc(limit=-5)}
    return results


async def _long(cls: type[Driver], plan: Plan, work: Workload, root: Path) -> dict[str, Any]:
    appends, sizes = [], {}
    for index, thread in enumerate(work.long):
        driver = cls(root / f"thread-{index}")
        await driver.open()
        turns = driver.prepare(thread)
        total, done = 0.0, 0
        for mark in sorted({*[n for n in plan.bytes_at if n < len(turns)], len(turns)}):
            seconds, _ = await timed(lambda: driver.append_thread(thread.thread_id, turns[done:mark]))
            total, done = total + seconds, mark
            if index == 0 and mark in plan.bytes_at:
                sizes[str(mark)] = driver.bytes_on_disk()
        appends.append(total)
        if index == 0:
            reads = await _reads(driver, thread, plan)
            sizes["resume"] = driver.bytes_on_disk()  # what the reads left behind (snapshots) included
            out = {"read": reads, "read_first": {"seconds": reads["all"][0], "bytes": thread.nbytes},
                   "fork": await _forks(driver, thread, plan)}
        await _finish(driver)
    out["fork_small"] = await _small_fork(cls, plan, work.long[0], root / "fork-50")
    first = work.long[0]
    out["append"] = {"seconds": statistics.median(appends), "all": appends, "turns": len(first.turns),
                     "lines": len(first.lines), "bytes": first.nbytes}
    out["bytes"] = sizes
    return out


async def _reads(driver: Driver, thread: Thread, plan: Plan) -> dict[str, Any]:
    times, items = [], 0
    for _ in range(plan.repeats):
        await driver.reopen()
        seconds, items = await timed(lambda: driver.read_latest(thread.thread_id))
        times.append(seconds)
        if not items:
            raise RuntimeError("read_latest returned nothing")
    return {"seconds": statistics.median(times), "all": times, "items": items, "bytes": thread.nbytes}


async def _forks(driver: Driver, thread: Thread, plan: Plan) -> dict[str, Any]:
    times = []
    for i in range(plan.fork_repeats):
        new_id = str(uuid.uuid5(uuid.NAMESPACE_OID, f"{thread.thread_id}/fork/{i}"))
        seconds, _ = await timed(lambda: driver.fork(thread.thread_id, new_id))
        times.append(seconds)
    return {"seconds": statistics.median(times), "all": times}


async def _small_fork(cls: type[Driver], plan: Plan, thread: Thread, root: Path) -> dict[str, Any]:
    """Forks of a 50-turn thread: with the 200-turn figure, shows whether fork time grows."""
    driver = cls(root)
    await driver.open()
    await driver.append_thread(thread.thread_id, driver.prepare(thread.head(50)))
    result = await _forks(driver, thread, plan)
    await _finish(driver)
    return result


async def _listing(cls: type[Driver], plan: Plan, work: Workload, root: Path) -> dict[str, Any]:
    if cls.list_threads is Driver.list_threads:
        reason = "no API lists threads"
        return {"list_page": {"na": reason}, "list_all": {"na": reason}}
    driver = cls(root)
    await driver.open()
    start = time.perf_counter()
    for thread in work.tiny:
        await driver.append_thread(thread.thread_id, driver.prepare(thread))
    populate = time.perf_counter() - start
    await driver.reopen()
    pages = []
    for _ in range(plan.repeats):
        seconds, page = await timed(lambda: driver.list_threads(plan.list_page))
        pages.append(seconds)
    seconds_all, everything = await timed(lambda: driver.list_threads(None))
    await _finish(driver)
    expected = (min(plan.list_page, len(work.tiny)), len(work.tiny))
    if (len(page), len(set(everything))) != expected:
        raise RuntimeError(f"listed {len(page)} and {len(set(everything))} threads, expected {expected}")
    return {
        "list_page": {"seconds": statistics.median(pages), "all": pages, "returned": len(page),
                      "threads": len(work.tiny), "populate_seconds": populate},
        "list_all": {"seconds": seconds_all, "returned": len(everything), "threads": len(work.tiny)},
    }


async def _corpus(cls: type[Driver], plan: Plan, work: Workload, root: Path) -> dict[str, Any]:
    driver = cls(root)
    await driver.open()
    prepared = [(t, driver.prepare(t)) for t in work.corpus]
    append = 0.0
    for thread, turns in prepared:
        seconds, _ = await timed(lambda: driver.append_thread(thread.thread_id, turns))
        append += seconds
    await driver.reopen()
    read = 0.0
    for thread, _ in prepared:
        seconds, _ = await timed(lambda: driver.read_latest(thread.thread_id))
        read += seconds
    size = driver.bytes_on_disk()
    await _finish(driver)
    total = sum(t.nbytes for t in work.corpus)
    return {"corpus_append": {"seconds": append, "bytes": total},
            "corpus_read": {"seconds": read, "bytes": total},
            "corpus_bytes": {"bytes": size}}


async def _finish(driver: Driver) -> None:
    """Close a driver for good: what it keeps on a server goes too."""
    try:
        await driver.close()
    finally:
        await driver.destroy()


def unsupported(reason: str) -> dict[str, Any]:
    """The result of a store that cannot run at all."""
    return {"unavailable": reason}


async def run_stores(names: list[str], plan: Plan, work: Workload, root: Path,
                     log: Callable[[str], None]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every figure for each named store in turn: ``(results by store, versions and how each is driven)``.

    A store whose package is missing gets an ``unavailable`` result; progress goes to ``log``.
    """
    stores: dict[str, Any] = {}
    peers: dict[str, Any] = {}
    for name in names:
        loaded = load(name)
        if loaded.cls is None:
            log(f"{name}: {loaded.reason}")
            peers[name] = {"version": "not installed", "reason": loaded.reason}
            stores[name] = unsupported(loaded.reason)
            continue
        cls = loaded.cls
        peers[name] = {"version": cls.version(), "durability": cls.durability, "how": cls.how}
        log(f"{name} {peers[name]['version']} ...")
        t0 = time.perf_counter()
        stores[name] = await run_store(loaded, plan, work, root / name)
        for key, entry in stores[name].items():
            if key.endswith("_error"):
                log(f"  {key}: {entry['error']}")
        log(f"  done in {time.perf_counter() - t0:.1f} s")
    return stores, peers


__all__ = ["Plan", "Workload", "run_store", "run_stores", "timed", "unsupported"]
