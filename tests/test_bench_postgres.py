"""The PostgreSQL benchmark's verdicts and report, from made-up numbers (no server needed)."""

from __future__ import annotations

from benchmarks import bench_postgres, report


def _store(append: float, read: float, fork: float = 0.004, fork_small: float = 0.004) -> dict:
    return {"append": {"seconds": append}, "read": {"seconds": read}, "fork": {"seconds": fork},
            "fork_small": {"seconds": fork_small}, "bytes": {"50": 1e6, "100": 2e6, "200": 4e6},
            "list_page": {"seconds": 0.001}, "list_all": {"seconds": 0.01}}


def _rates(share_at_64: float) -> list[dict]:
    rate = {"rows_per_s": 1.0, "mb_per_s": 1.0, "commits": 1, "processes": 4}
    return [{"producers": n, "copy": rate, "store": rate, "share": share_at_64 if n == 64 else 0.1}
            for n in (1, 16, 64)]


def test_targets_are_met_or_missed_by_the_measured_ratios():
    """Each peer and figure is checked on its own; fork growth and the COPY share too."""
    stores = {"ours-pg": _store(0.5, 0.02), "ours": _store(0.4, 0.02),
              "langgraph-pg": _store(30.0, 0.2), "agents-pg": _store(1.2, 0.1, 0.3, 0.1)}
    table = report.ratios(stores, base="ours-pg")
    verdicts = {c["target"]: c["verdict"] for c in bench_postgres.checks(stores, table, _rates(0.31))}
    assert verdicts["durable append >= 3x langgraph-pg"] == "met"
    assert verdicts["durable append >= 3x agents-pg"] == "missed"  # 2.4x
    assert verdicts["read/resume >= 3x agents-pg"] == "met"
    assert verdicts["fork in constant time (200-turn fork / 50-turn fork <= 1.5)"] == "met"
    assert verdicts["64 producers >= 0.3x the raw COPY bound"] == "met"
    stores["ours-pg"]["fork"]["seconds"] = 0.01
    growth = bench_postgres.checks(stores, table, _rates(0.2))
    assert [c["verdict"] for c in growth[-2:]] == ["missed", "missed"]


def test_the_report_has_the_figures_throughput_and_targets():
    """RESULTS-postgres.md: one column per store, one row per producer count, every target."""
    stores = {name: _store(1.0, 0.05) for name in bench_postgres.STORES}
    table = report.ratios(stores, base="ours-pg")
    run = {"date": "now", "command": "python -m benchmarks.bench_postgres", "server": "PostgreSQL 15",
           "commit_ms": [0.2, 0.3],
           "machine": {"cores": 2, "cpu": "x", "memory": "1 GiB", "os": "linux", "python": "3.11"},
           "plan": {"list_page": 50}, "stores": stores, "ratios": table, "throughput": _rates(0.5),
           "workload": {"long_thread": {"turns": 200, "lines": 6630, "bytes": 7e6, "threads": 3},
                        "list_threads": 10_000, "corpus": {"threads": 0}},
           "peers": {name: {"version": "1", "durability": "d", "how": "h"} for name in bench_postgres.STORES},
           "targets": bench_postgres.checks(stores, table, _rates(0.5))}
    text = bench_postgres.markdown(run)
    assert "| figure | ours-pg | ours | langgraph-pg | agents-pg |" in text
    assert "| 64 | 4 | 1 | 1 | 1.0 | 1 | 0.50x |" in text
    assert text.count("**met**") + text.count("**missed**") == 6
