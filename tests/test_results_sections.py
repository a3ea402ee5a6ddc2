"""RESULTS.md is shared: compare rewrites its part and keeps the fuzz and soak sections others wrote."""

from __future__ import annotations

from benchmarks import report


def test_a_section_is_replaced_in_place_and_kept_when_compare_rewrites(tmp_path):
    """write_section replaces only its block; write_results keeps the fuzz and soak blocks after its text."""
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmark results\n\n## Figures\n\nold figures\n")
    report.write_section("## Fuzzing", "fuzz 1", path)
    report.write_section("## Crash soak", "soak 1", path)
    report.write_section("## Fuzzing", "fuzz 2\n\n| a |", path)
    assert path.read_text() == (
        "# Benchmark results\n\n## Figures\n\nold figures\n\n## Fuzzing\n\nfuzz 2\n\n| a |\n\n## Crash soak\n\nsoak 1\n"
    )
    report.write_results("# Benchmark results\n\n## Figures\n\nnew figures\n", path)
    assert path.read_text() == (
        "# Benchmark results\n\n## Figures\n\nnew figures\n\n## Fuzzing\n\nfuzz 2\n\n| a |\n\n## Crash soak\n\nsoak 1\n"
    )


def test_merged_rows_update_this_runs_keys_and_keep_the_others():
    """A run of one target replaces its row and keeps the other targets' rows, in the given order."""
    previous = "## Fuzzing\n\ntext\n\n| target | n |\n|---|---|\n| a | 1 |\n| b | 2 |\n"
    assert report.merge_rows(previous, {"b": "| b | 3 |", "c": "| c | 4 |"}, ["a", "b", "c"]) == [
        "| a | 1 |", "| b | 3 |", "| c | 4 |"
    ]
