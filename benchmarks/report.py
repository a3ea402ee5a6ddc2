"""Turn one run's numbers into ratios, target checks, a Markdown table and ``RESULTS.md``.

Every ratio is ``peer / ours`` of a time or a size, so above 1 means ours is better, for every
row alike. The same Markdown goes to stdout and to ``RESULTS.md``, which is only ever written
by this module (it says so at its top). Pure formatting: no I/O except ``write_results``.
"""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

#: (key, label, unit); label may use {turns}, {threads}, {page}, {corpus}.
FIGURES: list[tuple[str, str, str]] = [
    ("append", "(1) durable append of a {turns}-turn thread, turn by turn", "s"),
    ("read", "(2) read/resume latest state of the {turns}-turn thread", "ms"),
    ("read_first", "(2) first read/resume after reopening (no earlier read)", "ms"),
    ("fork", "(3) fork of the {turns}-turn thread", "ms"),
    ("fork_small", "(3) fork of a 50-turn thread (scaling)", "ms"),
    ("bytes@50", "(4) bytes on disk after 50 turns", "MB"),
    ("bytes@100", "(4) bytes on disk after 100 turns", "MB"),
    ("bytes@200", "(4) bytes on disk after 200 turns", "MB"),
    ("bytes@resume", "(4) bytes on disk after 200 turns and the reads (snapshots included)", "MB"),
    ("list_page", "(5) list newest {page} of {threads} threads", "ms"),
    ("list_all", "(5) list all {threads} threads", "ms"),
    ("corpus_append", "corpus: durable append of {corpus} real threads", "s"),
    ("corpus_read", "corpus: read/resume all of them", "s"),
    ("corpus_bytes", "corpus: bytes on disk", "MB"),
]

#: (figure, peer, minimum ratio, wording)
TARGETS: list[tuple[str, str, float, str]] = [
    ("append", "langgraph", 5.0, "durable append >= 5x LangGraph"),
    ("append", "agents", 2.0, "durable append >= 2x Agents SDK"),
    ("read", "langgraph", 10.0, "read/resume of a 200-turn thread >= 10x LangGraph"),
    ("bytes@200", "langgraph", 20.0, "bytes after 200 turns <= 1/20 of LangGraph"),
    ("bytes@200", "jsonl", 2.0, "bytes after 200 turns <= 0.5x raw JSONL"),
]


def value(results: dict[str, Any], key: str) -> float | None:
    """The number behind figure ``key`` for one store (seconds or bytes), None if absent."""
    if key.startswith("bytes@"):
        return results.get("bytes", {}).get(key.split("@")[1])
    entry = results.get(key, {})
    return entry.get("bytes") if key == "corpus_bytes" else entry.get("seconds")


def ratios(stores: dict[str, dict[str, Any]], base: str = "ours") -> dict[str, dict[str, float]]:
    """``{figure: {peer: peer/ours}}`` for every figure both sides measured (``base``: the store called ours)."""
    ours = stores.get(base, {})
    out: dict[str, dict[str, float]] = {}
    for key, _, _ in FIGURES:
        mine = value(ours, key)
        if not mine:
            continue
        out[key] = {name: v / mine for name, res in stores.items()
                    if name != base and (v := value(res, key)) is not None}
    return out


def targets(table: dict[str, dict[str, float]], stores: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each issue-7 target with its measured ratio and a verdict (met / missed / not measured)."""
    checks = []
    for key, peer, minimum, text in TARGETS:
        ratio = table.get(key, {}).get(peer)
        verdict = "not measured" if ratio is None else ("met" if ratio >= minimum else "missed")
        checks.append({"target": text, "ratio": ratio, "minimum": minimum, "verdict": verdict})
    small, big = value(stores.get("ours", {}), "fork_small"), value(stores.get("ours", {}), "fork")
    growth = big / small if small and big else None
    checks.append({"target": "fork in constant time (200-turn fork / 50-turn fork <= 1.5)", "ratio": growth,
                   "minimum": None, "verdict": "not measured" if growth is None
                   else ("met" if growth <= 1.5 else "missed")})
    return checks


def _verdict(text: str, ratio: float | None, ok: bool | None) -> dict[str, Any]:
    verdict = "not measured" if ratio is None or ok is None else ("met" if ok else "missed")
    return {"target": text, "ratio": ratio, "minimum": None, "verdict": verdict}


def issue15_targets(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 15's "done when" list, each with its measured ratio and a verdict."""
    table, bounds, start = run["ratios"], run.get("bounds") or {}, run.get("startup") or {}

    def at_least(ratio: float | None, minimum: float) -> bool | None:
        return None if ratio is None else ratio >= minimum

    def bound(name: str) -> float | None:
        return bounds.get(name, {}).get("ratio")

    checks = [
        ("durable append of a 200-turn thread >= 2x Agents SDK", table.get("append", {}).get("agents"), 2.0),
        ("one producer >= 0.8x raw SQLite commit per turn", bound("one_producer"), 0.8),
        ("64 producers >= 0.8x executemany", bound("many_producers"), 0.8),
        ("FileStore append >= 0.8x JSONL + fsync per turn", bound("files"), 0.8),
        ("first read/resume after reopening >= 10x LangGraph", table.get("read_first", {}).get("langgraph"), 10.0),
        ("corpus read/resume at least as fast as plain JSONL", table.get("corpus_read", {}).get("jsonl"), 1.0),
        ("bytes after append <= 0.40x JSONL (JSONL / ours >= 2.5)", table.get("bytes@200", {}).get("jsonl"), 2.5),
        ("bytes after resume <= 0.40x JSONL (JSONL / ours >= 2.5)", table.get("bytes@resume", {}).get("jsonl"), 2.5),
    ]
    out = [_verdict(text, ratio, at_least(ratio, minimum)) for text, ratio, minimum in checks]
    rows = {row["turns"]: row for row in bounds.get("scaling", [])}
    growth = None
    if 200 in rows and rows and max(rows) > 200:
        growth = rows[max(rows)]["snapshot_per_turn_ms"] / rows[200]["snapshot_per_turn_ms"]
    out.append(_verdict(f"snapshot-backed resume per turn flat ({max(rows) if rows else '?'} turns / 200 turns <= 1.5)",
                        growth, None if growth is None else growth <= 1.5))
    inspect = start.get("inspect", {}).get("ratio")
    out.append(_verdict("`rollout inspect` start-up <= 3x `python -c 'import msgspec'`", inspect,
                        None if inspect is None else inspect <= 3.0))
    return out


def bounds_section(run: dict[str, Any]) -> list[str]:
    """Markdown lines: ours against the machine's bounds, resume scaling, CLI start-up, issue-15 targets."""
    bounds, start = run.get("bounds") or {}, run.get("startup") or {}
    out = ["## Against the machine's bounds (issue 15)", ""]
    if bounds:
        one, many, files = bounds["one_producer"], bounds["many_producers"], bounds["files"]
        out += [
            "Each pair measured interleaved in this run (`python -m benchmarks.bounds`); median of the repeats.", "",
            "| figure | ours | bound | bound ÷ ours (ours ÷ bound for rates) |", "|---|---|---|---|",
            f"| one producer, 200-turn thread, durable append per turn | {one['ours_s']:.3f} s | "
            f"{one['bound_s']:.3f} s (raw sqlite3 executemany + COMMIT per turn) | {one['ratio']:.2f}x |",
            f"| {many['producers']} producers, {many['lines']:,} lines | {many['ours_lines_s']:,.0f} lines/s | "
            f"{many['bound_rows_s']:,.0f} rows/s (executemany, one transaction) | {many['ratio']:.2f}x |",
            f"| FileStore, 200-turn thread, durable append per turn | {files['ours_s']:.3f} s | "
            f"{files['bound_s']:.3f} s (JSONL: one write + fsync per turn) | {files['ratio']:.2f}x |",
            "", "Resume as the thread grows (SqliteStore, store reopened before each resume; cold: the first "
            "resume after an import, no snapshot yet; snapshot-backed: median of five more resumes, from the "
            "snapshot the first one saved):", "",
            "| turns | lines | JSONL MB | cold resume | per turn | snapshot-backed resume | per turn |",
            "|---|---|---|---|---|---|---|",
        ]
        out += [f"| {r['turns']:,} | {r['lines']:,} | {r['bytes'] / 1e6:.1f} | {r['cold_ms']:.1f} ms | "
                f"{r['cold_per_turn_ms']:.3f} ms | {r['snapshot_ms']:.1f} ms | {r['snapshot_per_turn_ms']:.3f} ms |"
                for r in bounds["scaling"]]
        out.append("")
    if start:
        inspect = start.get("inspect", {})
        shown = (f"`rollout inspect --json` of the largest corpus file ({inspect['file_bytes'] / 1e6:.1f} MB) "
                 f"{inspect['seconds'] * 1e3:.0f} ms = {inspect['ratio']:.2f}x" if "seconds" in inspect
                 else f"`rollout inspect`: {inspect.get('na', 'not measured')}")
        out += [f"CLI start-up, whole process, best of {start['repeat']}: `python -c 'import msgspec'` "
                f"{start['import_msgspec'] * 1e3:.0f} ms; `rollout --version` {start['version'] * 1e3:.0f} ms; "
                f"{shown} (`python -m benchmarks.startup`).", ""]
    out += ["### Targets (issue 15)", ""]
    for check in issue15_targets(run):
        ratio = "" if check["ratio"] is None else f" (measured {check['ratio']:.2f}x)"
        out.append(f"- {check['target']}: **{check['verdict']}**{ratio}")
    return [*out, ""]


def losses(table: dict[str, dict[str, float]], fill: dict[str, Any]) -> list[str]:
    """One sentence per figure and peer where ours came out worse."""
    labels = {key: label.format(**fill).split(") ", 1)[-1] for key, label, _ in FIGURES}
    return [f"{peer} beats ours on {labels[key]}: ours takes {1 / r:.2f}x its "
            f"{'bytes' if 'bytes' in key else 'time'}"
            for key, row in table.items() for peer, r in row.items() if r < 1]


def label_fill(run: dict[str, Any]) -> dict[str, Any]:
    """Values for the ``{turns}``-style placeholders of ``FIGURES`` labels."""
    work = run["workload"]
    return {"turns": work["long_thread"]["turns"], "threads": f"{work['list_threads']:,}",
            "page": run["plan"]["list_page"], "corpus": work["corpus"]["threads"]}


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory, OS and Python of this machine."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "?"
    memory = "?"
    try:
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kib / 2**20:.0f} GiB"
    except (OSError, IndexError, ValueError):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cores": cores, "cpu": cpu, "memory": memory, "os": platform.platform(),
            "python": sys.version.split()[0]}


def now() -> str:
    """UTC timestamp for the report."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _cell(results: dict[str, Any], key: str, unit: str, ratio: float | None) -> str:
    if "unavailable" in results:
        return "—"
    v = value(results, key)
    if v is None:
        entry = results.get(key.split("@")[0], {})
        if "na" in entry:
            return "n/a"
        return "error" if any(k.endswith("_error") for k in results) else "—"
    shown = {"s": f"{v:.2f} s", "ms": f"{v * 1e3:.1f} ms", "MB": f"{v / 1e6:.1f} MB"}[unit]
    return shown if ratio is None else f"{shown} ({ratio:.1f}x)"


def figure_table(run: dict[str, Any]) -> str:
    """Markdown: one row per figure, one column per store."""
    stores, table, work = run["stores"], run["ratios"], run["workload"]
    names, fill = list(stores), label_fill(run)
    rows = ["| figure | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for key, label, unit in FIGURES:
        if key.startswith("corpus") and not work["corpus"]["threads"]:
            continue
        cells = [_cell(stores[n], key, unit, table.get(key, {}).get(n)) for n in names]
        rows.append(f"| {label.format(**fill)} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def limits_table(run: dict[str, Any]) -> str:
    """Markdown: each store's append and read rates as a share of the machine's bounds."""
    lim = run["limits"]
    rows = ["| store | lines/s | of executemany | turns/s | of fsync | of SQLite commit | read MB/s | of msgspec decode |",
            "|---|---|---|---|---|---|---|---|"]
    for name, res in run["stores"].items():
        append, read = res.get("append", {}), res.get("read", {})
        if not append.get("seconds") or not read.get("seconds"):
            rows.append(f"| {name} | — | — | — | — | — | — | — |")
            continue
        lines_s = append["lines"] / append["seconds"]
        turns_s = append["turns"] / append["seconds"]
        mb_s = read["bytes"] / read["seconds"] / 1e6
        rows.append(f"| {name} | {lines_s:,.0f} | {lines_s / lim['executemany_rows']:.1%} | {turns_s:,.0f} | "
                    f"{turns_s / lim['fsync']:.1%} | {turns_s / lim['sqlite_commit']:.1%} | {mb_s:,.0f} | "
                    f"{mb_s / lim['decode_mb']:.1%} |")
    return "\n".join(rows)


def markdown(run: dict[str, Any]) -> str:
    """The whole report: header, figures, limits, targets, losses, how peers were driven."""
    m, lim, work = run["machine"], run["limits"], run["workload"]
    lt = work["long_thread"]
    out = [
        "# Benchmark results", "",
        "Regenerated by `python -m benchmarks.compare`; do not edit by hand. PostgreSQL (PostgresStore beside "
        "the PostgreSQL peers, and its throughput against a raw COPY): [RESULTS-postgres.md](RESULTS-postgres.md).",
        "",
        f"- date: {run['date']}",
        f"- machine: {m['cores']} cores, {m['cpu']}, {m['memory']} RAM, {m['os']}, Python {m['python']}",
        f"- command: `{run['command']}`",
        "- versions: " + ", ".join(f"{n} {p['version']}" if "how" in p else f"{n} (not available)"
                                   for n, p in run["peers"].items()),
        f"- workload: generated threads of {lt['turns']} turns ({lt['lines']:,} lines, {lt['bytes'] / 1e6:.1f} MB "
        f"as JSONL; append is the median over {lt['threads']}), {work['list_threads']:,} one-turn threads for "
        f"listing, real corpus: {work['corpus']['threads']} files, {work['corpus']['lines']:,} lines, "
        f"{work['corpus']['bytes'] / 1e6:.1f} MB",
        "",
        "## Figures", "",
        "Cell: measured value (peer ÷ ours; above 1x means ours is better). "
        "n/a: the peer cannot do it; —: not run.", "",
        figure_table(run), "",
        "## Limits of this machine", "",
        f"Append bound: `sqlite3` executemany, one transaction, {lim['executemany_rows']:,.0f} rows/s "
        f"({lim['executemany_mb']:,.0f} MB/s). Durable single-append bound: fsync {lim['fsync']:,.0f}/s, "
        f"SQLite WAL commit {lim['sqlite_commit']:,.0f}/s. Read bound: msgspec decode "
        f"{lim['decode_lines']:,.0f} lines/s ({lim['decode_mb']:,.0f} MB/s).", "",
        limits_table(run), "",
        "## Targets (issue 7)", "",
    ]
    for check in run["targets"]:
        ratio = "" if check["ratio"] is None else f" (measured {check['ratio']:.2f}x)"
        out.append(f"- {check['target']}: **{check['verdict']}**{ratio}")
    out += ["", *bounds_section(run)] if run.get("bounds") or run.get("startup") else []
    out += ["", "## Where we lose", ""]
    out += [f"- {line}" for line in run["losses"]] or ["- nowhere measured in this run"]
    if "unavailable" in run["stores"].get("ours", {}):
        out.append(f"- ours did not run: {run['stores']['ours']['unavailable']}")
    out += ["", "## How each store is driven", ""]
    out += [f"- **{n}** ({p['durability']}): {p['how']}" if "how" in p else f"- **{n}**: {p['reason']}"
            for n, p in run["peers"].items()]
    return "\n".join(out) + "\n"


#: Sections of RESULTS.md that other scripts write (``benchmarks.fuzz``, ``benchmarks.soak``);
#: ``write_results`` carries them over.
KEPT_SECTIONS = ("## Fuzzing", "## Crash soak")


def section(text: str, heading: str) -> str:
    """The block of ``text`` from the line ``heading`` to the next ``## `` heading (or the end); '' if absent."""
    lines = text.splitlines(keepends=True)
    if heading + "\n" not in lines and heading not in lines:
        return ""
    start = next(i for i, line in enumerate(lines) if line.rstrip("\n") == heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "".join(lines[start:end]).rstrip("\n") + "\n"


def write_results(text: str, path: Path = RESULTS) -> None:
    """Replace ``RESULTS.md`` with ``text``, keeping the sections other scripts wrote."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    kept = [block for heading in KEPT_SECTIONS if (block := section(old, heading))]
    path.write_text("\n".join([text.rstrip("\n") + "\n", *kept]), encoding="utf-8")


def merge_rows(previous: str, rows: dict[str, str], order: list[str]) -> list[str]:
    """Table rows for the keys of ``order``: from ``rows``, else the row ``previous`` had (first cell = key)."""
    kept = {line.split("|")[1].strip(): line for line in previous.splitlines() if line.startswith("| ")}
    kept |= rows
    return [kept[key] for key in order if key in kept]


def write_section(heading: str, body: str, path: Path = RESULTS) -> None:
    """Replace the ``heading`` section of ``RESULTS.md`` with ``body`` (or add it at the end)."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    block = f"{heading}\n\n{body.strip()}\n"
    current = section(old, heading)
    text = old.replace(current, block) if current else old.rstrip("\n") + "\n\n" + block
    path.write_text(text, encoding="utf-8")
