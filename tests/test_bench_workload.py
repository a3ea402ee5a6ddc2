"""The benchmark workload generator: deterministic, and every line a Codex rollout envelope."""

from __future__ import annotations

import json

import pytest

from benchmarks.workload import Mix, corpus_dir, corpus_threads, generate_thread, split_turns, tiny_thread

ENVELOPE = {"timestamp", "type", "payload"}


def _payload_types(thread):
    return [(json.loads(line)["type"], json.loads(line)["payload"].get("type")) for line in thread.lines]


def test_same_seed_gives_identical_bytes():
    """Two threads built from one seed are byte-for-byte equal; another seed differs."""
    assert generate_thread(3, 6).lines == generate_thread(3, 6).lines
    assert tiny_thread(9).lines == tiny_thread(9).lines
    assert generate_thread(4, 6).lines != generate_thread(3, 6).lines


def test_every_line_is_a_json_envelope():
    """Each line is bytes holding one JSON object with exactly timestamp, type and payload."""
    for thread in (generate_thread(5, 8), tiny_thread(2)):
        for line in thread.lines:
            assert isinstance(line, bytes) and b"\n" not in line
            obj = json.loads(line)
            assert set(obj) == ENVELOPE
            assert obj["timestamp"].endswith("Z") and len(obj["timestamp"]) == 24


def test_thread_follows_codex_turn_order():
    """session_meta first; each turn opens with task_started and closes with task_complete."""
    thread = generate_thread(6, 5)
    first = json.loads(thread.turns[0][0])
    assert first["type"] == "session_meta" and first["payload"]["id"] == thread.thread_id
    for turn in thread.turns:
        kinds = [json.loads(line)["payload"].get("type") for line in turn if json.loads(line)["type"] == "event_msg"]
        assert kinds[0] == "task_started" and kinds[-1] == "task_complete"
        assert "turn_context" in {json.loads(line)["type"] for line in turn}


def test_calls_pair_with_outputs_and_images_repeat():
    """Every function_call has its output; images are data URLs in output arrays, some repeated."""
    thread = generate_thread(8, 12, mix=Mix(images_per_thread=24, image_repeat_share=0.5, calls_median=6))
    items = [json.loads(line)["payload"] for line in thread.lines if json.loads(line)["type"] == "response_item"]
    calls = {i["call_id"] for i in items if i["type"] == "function_call"}
    outputs = [i for i in items if i["type"] == "function_call_output"]
    assert calls == {o["call_id"] for o in outputs}
    images = [part["image_url"] for o in outputs if isinstance(o["output"], list) for part in o["output"]]
    assert images and all(url.startswith("data:image/png;base64,") for url in images)
    assert len(set(images)) < len(images)


def test_split_turns_recovers_generated_turns():
    """Cutting the flat lines at task_started gives back the generator's turns."""
    thread = generate_thread(10, 4)
    assert split_turns(thread.lines) == thread.turns


def test_corpus_loads_as_threads():
    """The real corpus, when present beside the checkout, loads with every line kept."""
    if not corpus_dir().is_dir():
        pytest.skip(f"corpus not found at {corpus_dir()}")
    threads = corpus_threads()
    assert threads and all(thread.turns for thread in threads)
    total = sum(len(p.read_bytes().splitlines()) for p in corpus_dir().glob("*.jsonl"))
    blank = sum(1 for p in corpus_dir().glob("*.jsonl") for line in p.read_bytes().splitlines() if not line.strip())
    assert sum(len(t.lines) for t in threads) == total - blank
