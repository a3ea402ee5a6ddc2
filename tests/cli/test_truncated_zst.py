"""Issue 17's rough edge: a truncated small .zst is reported as truncated, not as an empty rollout."""

from __future__ import annotations

import zstandard

from .conftest import SAMPLE


def test_inspect_validate_and_import_say_a_cut_zst_is_truncated(cli, tmp_path):
    """Every command names the file and says 'truncated zstd data' (exit 1, one error line)."""
    cut = tmp_path / (SAMPLE.name + ".zst")
    cut.write_bytes(zstandard.ZstdCompressor().compress(SAMPLE.read_bytes())[:200])
    code, out, err = cli("inspect", cut)
    assert (code, out) == (1, "")
    assert err.startswith(f"error: {cut}: truncated zstd data: it ends inside a frame")
    code, out, _ = cli("validate", cut)
    assert code == 1 and f"{cut}:0: unreadable: truncated zstd data" in out
    code, out, err = cli("import", cut, "--db", tmp_path / "t.db", "--json")
    assert code == 1 and '"status":"failed"' in out and "truncated zstd data" in out
    assert "empty rollout" not in out + err
