"""CRLF rollouts: every store gives back the bytes it was given, line endings included."""

from __future__ import annotations

import pytest

from rollout.reader import read_rollout

pytestmark = pytest.mark.asyncio

SAMPLE = __import__("pathlib").Path(__file__).resolve().parents[2] / "examples" / (
    "rollout-2026-06-01T10-00-00-019e2a5c-0000-7000-8000-000000000001.jsonl"
)


def _crlf(data: bytes, every: int = 1) -> bytes:
    """The lines of ``data`` with CRLF endings (on every ``every``-th line; LF on the others)."""
    lines = data.splitlines()
    return b"".join(line + (b"\r\n" if n % every == 0 else b"\n") for n, line in enumerate(lines))


@pytest.mark.parametrize("every", [1, 2])
async def test_crlf_file_exports_byte_for_byte(store, tmp_path, every):
    """Import a CRLF (or mixed) file, export it: the same bytes, \\r included."""
    data = _crlf(SAMPLE.read_bytes(), every)
    path = tmp_path / SAMPLE.name
    path.write_bytes(data)
    thread_id = (await store.import_rollout(path)).thread_id
    assert await store.export_rollout(thread_id) == data


async def test_crlf_file_reads_like_the_lf_file(store, tmp_path):
    """Line endings change no decoded value: the turns are the same."""
    path = tmp_path / SAMPLE.name
    path.write_bytes(_crlf(SAMPLE.read_bytes()))
    assert read_rollout(path).lines == read_rollout(SAMPLE).lines
    thread_id = (await store.import_rollout(path)).thread_id
    assert [t.id for t in (await store.read(thread_id)).turns] == ["turn-1", "turn-2"]
