"""Deterministic, seeded Codex rollout threads, and the real corpus as a second workload.

Every line is ``bytes``: one compact JSON object ``{"timestamp","type","payload"}`` shaped the
way Codex 0.14x writes it (spec §3, §4 "typical line sequence of one regular turn", §14.1).
A thread is ``session_meta`` then, per turn: ``task_started``, ``turn_context``, the user
``message`` + ``user_message``, sampling rounds of ``reasoning`` (+ ``agent_reasoning``),
optional commentary, ``function_call``/``function_call_output`` pairs and ``token_count``,
then the final answer (``message`` + ``agent_message``), ``token_count``, ``task_complete``.
The first turn also carries the injected developer/AGENTS.md/environment messages.

The proportions come from the real corpus (``python -m benchmarks.corpus_mix``); ``Mix``
documents each parameter next to the figure it was fitted to. Text is synthetic (a Zipf
vocabulary of made-up words, with re-read "file" regions) tuned so zstd compresses it like
the corpus does; encrypted reasoning and images are random bytes, as incompressible as the
real ones. No corpus content is copied here.

Must not import rollout, replay, store or a peer package: the smoke test imports it bare.
"""

from __future__ import annotations

import base64
import itertools
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import msgspec

__all__ = [
    "MIX",
    "Mix",
    "Thread",
    "corpus_dir",
    "corpus_threads",
    "generate_thread",
    "generate_threads",
    "split_turns",
    "tiny_thread",
]


@dataclass(frozen=True)
class Mix:
    """Shape of a generated thread, fitted to the real corpus (85 modern turns in 28 files).

    Corpus figures per modern turn: 24 lines median (p90 129), 6.2 function calls mean
    (median 1, p90 21), 5.2 reasoning items, 3.4 assistant messages, 6.8 token counts.
    Line sizes (p50/p90): function_call_output 606 B/7.6 KB, reasoning 1.6/5 KB,
    token_count 605/670 B, turn_context 353 B/4.4 KB, function_call 344/951 B.
    zstd-3 ratio: tool output 3.1 per line and 5.4 over a thread; whole corpus 3.5.
    """

    turns: tuple[int, int] = (50, 200)          # issue 7: 50-200 turns per thread
    calls_median: float = 3.5                   # lognormal; corpus: median 1-3, mean 8, p90 ~25
    calls_sigma: float = 1.1
    calls_max: int = 40
    parallel_calls: tuple[int, ...] = (1, 1, 1, 1, 2, 3)  # calls per sampling round
    output_median: int = 600                    # function_call_output text bytes, lognormal
    output_sigma: float = 1.5
    output_bounds: tuple[int, int] = (200, 20_000)
    args_median: int = 160                      # function_call arguments bytes
    args_sigma: float = 0.8
    reasoning_median: int = 1_100               # encrypted_content bytes (base64)
    reasoning_sigma: float = 0.8
    summary_share: float = 0.57                 # reasoning with a summary (730 of 1299)
    agent_reasoning_share: float = 0.15         # summaries echoed as agent_reasoning (0.3/turn)
    commentary_share: float = 0.35              # rounds with a commentary message
    message_median: int = 420                   # assistant message bytes
    user_median: int = 220                      # user prompt bytes
    images_per_thread: float = 4.0              # view_image outputs per thread (mean)
    image_bounds: tuple[int, int] = (50_000, 300_000)  # base64 length of one image
    image_repeat_share: float = 0.3             # share of images that repeat an earlier one
    base_instructions: int = 9_000              # session_meta p50 is 9.8 KB
    developer_message: int = 2_200              # first-turn permissions message p50


MIX = Mix()

_DECODE = msgspec.json.Decoder()
_ENCODE = msgspec.json.Encoder()
_SYLLABLES = ["ka", "lo", "re", "mi", "tu", "sa", "ne", "po", "di", "ga", "ve", "ri", "on", "el", "ar", "is", "um", "ex", "in", "at", "co", "de", "pre", "set", "get", "val", "str", "num", "fn", "obj"]
_PUNCT = ("(", ")", ":", ",", ".", "=", "_", "/", "->", "[", "]", " ==", "{", "}")
_TOOLS = ("shell_command", "exec_command", "shell", "apply_patch", "update_plan")
_EPOCH = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@dataclass
class Thread:
    """One rollout thread: ``turns[0][0]`` is its ``session_meta`` line."""

    thread_id: str
    turns: list[list[bytes]]
    name: str = ""

    @property
    def lines(self) -> list[bytes]:
        """All lines in file order."""
        return [line for turn in self.turns for line in turn]

    @property
    def nbytes(self) -> int:
        """Size as a JSONL file (one newline per line)."""
        return sum(len(line) + 1 for turn in self.turns for line in turn)

    def head(self, n_turns: int) -> Thread:
        """The same thread cut after ``n_turns`` turns."""
        return Thread(self.thread_id, self.turns[:n_turns], self.name)


class _Text:
    """Made-up source/log text that compresses like real tool output (zstd ~3x per line).

    The vocabulary and the pool of re-read "file" lines are shared by every thread (built once
    from a fixed seed, like one code base); each thread draws from them with its own rng.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.vocab, self.cum, self.pool = _shared_text()

    def line(self) -> str:
        return _text_line(self.rng, self.vocab, self.cum)

    def text(self, size: int) -> str:
        rng, parts, total = self.rng, [], 0
        while total < size:
            if rng.random() < 0.25:
                start = rng.randrange(len(self.pool))
                chunk = self.pool[start:start + rng.randint(5, 60)]
            else:
                chunk = [self.line() for _ in range(rng.randint(2, 20))]
            for piece in chunk:
                parts.append(piece)
                total += len(piece) + 1
                if total >= size:
                    break
        return "\n".join(parts)[:size]

    def sentence(self, size: int) -> str:
        words = self.rng.choices(self.vocab[:600], k=max(1, size // 7))
        return (" ".join(words).capitalize() + ".")[:size]


@lru_cache(maxsize=1)
def _shared_text() -> tuple[list[str], list[float], list[str]]:
    rng = random.Random(0x7E47)
    words: set[str] = set()
    while len(words) < 3000:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((1, 2, 2, 3, 3, 4)))))
    vocab = sorted(words)
    rng.shuffle(vocab)
    cum = list(itertools.accumulate(1 / (i + 1) ** 1.5 for i in range(len(vocab))))
    return vocab, cum, [_text_line(rng, vocab, cum) for _ in range(4000)]


def _text_line(rng: random.Random, vocab: list[str], cum: list[float]) -> str:
    out = [" " * rng.choice((0, 0, 4, 4, 8, 8, 12))]
    for word in rng.choices(vocab, cum_weights=cum, k=rng.randint(2, 12)):
        out.append(word)
        if rng.random() < 0.3:
            out.append(rng.choice(_PUNCT))
        elif rng.random() < 0.04:
            out.append(str(rng.randint(0, 99_999)))
        out.append(" ")
    return "".join(out).rstrip()


class _Builder:
    """Emits one thread's lines; all randomness flows from one seeded ``random.Random``."""

    def __init__(self, seed: int, mix: Mix) -> None:
        self.rng = random.Random(seed)
        self.mix = mix
        self.text = _Text(random.Random(seed ^ 0x5EED))
        self.now = _EPOCH + timedelta(minutes=self.rng.randrange(60 * 24 * 60))
        self.thread_id = self.uuid7()
        self.images: list[str] = []
        self.tokens = 0

    def uuid7(self) -> str:
        ms = int(self.now.timestamp() * 1000)
        rand = self.rng.getrandbits(74)
        value = (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & (2**62 - 1))
        return str(uuid.UUID(int=value))

    def lognormal(self, median: float, sigma: float, lo: int = 1, hi: int = 1 << 30) -> int:
        return int(min(hi, max(lo, self.rng.lognormvariate(0, sigma) * median)))

    def line(self, kind: str, payload: dict) -> bytes:
        self.now += timedelta(milliseconds=self.rng.randint(1, 2500))
        stamp = self.now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.now.microsecond // 1000:03d}Z"
        return _ENCODE.encode({"timestamp": stamp, "type": kind, "payload": payload})

    def event(self, payload: dict) -> bytes:
        return self.line("event_msg", payload)

    def item(self, payload: dict) -> bytes:
        return self.line("response_item", payload)

    def meta(self) -> bytes:
        stamp = self.now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.now.microsecond // 1000:03d}Z"
        return self.line("session_meta", {
            "id": self.thread_id, "timestamp": stamp, "cwd": "/home/dev/project",
            "originator": "codex_cli_rs", "cli_version": "0.140.0", "source": "cli",
            "model_provider": "openai",
            "base_instructions": {"text": self.text.text(self.mix.base_instructions)},
            "git": {"commit_hash": f"{self.rng.getrandbits(160):040x}", "branch": "main",
                    "repository_url": "https://example.invalid/dev/project.git"},
        })

    def turn(self, index: int, turns: int) -> list[bytes]:
        mix, rng, turn_id = self.mix, self.rng, self.uuid7()
        started = int(self.now.timestamp())
        out = [self.event({"type": "task_started", "turn_id": turn_id, "started_at": started,
                           "model_context_window": 258400, "collaboration_mode_kind": "default"})]
        if index == 0:
            out += self.initial_context()
        out.append(self.line("turn_context", self.turn_context(turn_id)))
        prompt = self.text.sentence(self.lognormal(mix.user_median, 1.0, 20, 8000))
        out.append(self.item({"type": "message", "role": "user",
                              "content": [{"type": "input_text", "text": prompt}]}))
        out.append(self.event({"type": "user_message", "message": prompt, "images": [],
                               "local_images": [], "text_elements": []}))
        calls = min(mix.calls_max, int(rng.lognormvariate(0, mix.calls_sigma) * mix.calls_median))
        image = rng.random() < mix.images_per_thread / max(1, turns)
        while calls > 0:
            batch = min(calls, rng.choice(mix.parallel_calls))
            calls -= batch
            out += self.round(batch, image)
            image = False
        final = self.text.sentence(self.lognormal(mix.message_median, 1.0, 20, 12_000))
        out += self.reasoning()
        out += self.assistant(final, "final_answer")
        out.append(self.token_count())
        out.append(self.event({"type": "task_complete", "turn_id": turn_id,
                               "last_agent_message": final, "completed_at": int(self.now.timestamp()),
                               "duration_ms": int((self.now.timestamp() - started) * 1000)}))
        return out

    def initial_context(self) -> list[bytes]:
        text = self.text.text
        return [
            self.item({"type": "message", "role": "developer", "content": [
                {"type": "input_text", "text": "<permissions instructions>\n"
                 + text(self.mix.developer_message) + "\n</permissions instructions>"}]}),
            self.item({"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "# AGENTS.md instructions for /home/dev/project\n\n"
                 "<INSTRUCTIONS>\n" + text(1800) + "\n</INSTRUCTIONS>"}]}),
            self.item({"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "<environment_context>\n  <cwd>/home/dev/project</cwd>\n"
                 "  <shell>bash</shell>\n</environment_context>"}]}),
        ]

    def turn_context(self, turn_id: str) -> dict:
        return {"turn_id": turn_id, "cwd": "/home/dev/project",
                "current_date": self.now.strftime("%Y-%m-%d"), "timezone": "Etc/UTC",
                "approval_policy": "on-request",
                "sandbox_policy": {"type": "workspace-write", "writable_roots": [], "network_access": False,
                                   "exclude_tmpdir_env_var": False, "exclude_slash_tmp": False},
                "model": "gpt-5.4", "effort": "medium", "summary": "auto"}

    def round(self, batch: int, image: bool) -> list[bytes]:
        out = self.reasoning()
        if self.rng.random() < self.mix.commentary_share:
            out += self.assistant(self.text.sentence(self.lognormal(160, 0.8, 20, 2000)), "commentary")
        calls = [f"call_{self.rng.getrandbits(120):030x}" for _ in range(batch)]
        images = [image and i == 0 for i in range(batch)]
        for call_id, image in zip(calls, images):
            out.append(self.item(self.function_call(call_id, image)))
        for call_id, image in zip(calls, images):
            output = self.image_output() if image else self.text.text(
                self.lognormal(self.mix.output_median, self.mix.output_sigma, *self.mix.output_bounds))
            out.append(self.item({"type": "function_call_output", "call_id": call_id, "output": output}))
        out.append(self.token_count())
        return out

    def function_call(self, call_id: str, image: bool) -> dict:
        if image:
            args = {"path": f"/home/dev/project/shots/{self.rng.getrandbits(32):08x}.png"}
            name = "view_image"
        else:
            name = self.rng.choice(_TOOLS)
            args = {"command": self.text.text(self.lognormal(self.mix.args_median, self.mix.args_sigma, 10, 16_000)),
                    "workdir": "/home/dev/project", "timeout_ms": 120000}
        return {"type": "function_call", "name": name,
                "arguments": _ENCODE.encode(args).decode(), "call_id": call_id}

    def image_output(self) -> list[dict]:
        if self.images and self.rng.random() < self.mix.image_repeat_share:
            url = self.rng.choice(self.images)
        else:
            size = self.rng.randint(*self.mix.image_bounds) * 3 // 4
            png = b"\x89PNG\r\n\x1a\n" + self.rng.randbytes(size - 8)
            url = "data:image/png;base64," + base64.b64encode(png).decode()
            self.images.append(url)
        return [{"type": "input_image", "image_url": url, "detail": "original"}]

    def reasoning(self) -> list[bytes]:
        rng = self.rng
        token = "gAAAAA" + base64.urlsafe_b64encode(rng.randbytes(
            self.lognormal(self.mix.reasoning_median, self.mix.reasoning_sigma, 64, 40_000) * 3 // 4)).decode()
        summary = []
        if rng.random() < self.mix.summary_share:
            summary = [{"type": "summary_text", "text": "**" + self.text.sentence(self.lognormal(180, 0.6, 20, 900)) + "**"}]
        out = [self.item({"type": "reasoning", "summary": summary, "content": None, "encrypted_content": token})]
        if summary and rng.random() < self.mix.agent_reasoning_share:
            out.append(self.event({"type": "agent_reasoning", "text": summary[0]["text"]}))
        return out

    def assistant(self, text: str, phase: str) -> list[bytes]:
        return [self.item({"type": "message", "role": "assistant",
                           "content": [{"type": "output_text", "text": text}], "phase": phase}),
                self.event({"type": "agent_message", "message": text, "phase": phase, "memory_citation": None})]

    def token_count(self) -> bytes:
        rng = self.rng
        last = {"input_tokens": rng.randint(2_000, 120_000), "cached_input_tokens": rng.randint(0, 100_000),
                "output_tokens": rng.randint(20, 4_000), "reasoning_output_tokens": rng.randint(0, 2_000)}
        last["total_tokens"] = last["input_tokens"] + last["output_tokens"]
        self.tokens += last["total_tokens"]
        total = {k: v * 7 for k, v in last.items()} | {"total_tokens": self.tokens}
        return self.event({"type": "token_count", "info": {
            "total_token_usage": total, "last_token_usage": last, "model_context_window": 258400},
            "rate_limits": {"limit_id": "codex", "primary": {"used_percent": round(rng.random() * 90, 1),
                            "window_minutes": 300, "resets_at": int(self.now.timestamp()) + 9000},
                            "secondary": {"used_percent": round(rng.random() * 40, 1),
                                          "window_minutes": 10080, "resets_at": int(self.now.timestamp()) + 400000},
                            "credits": None, "plan_type": "plus"}})


def generate_thread(seed: int, turns: int | None = None, *, mix: Mix = MIX) -> Thread:
    """Build one thread; the same ``seed`` (and ``turns``, ``mix``) always gives the same bytes.

    Args:
        seed: any int; threads with different seeds differ everywhere, ids included.
        turns: number of turns; drawn from ``mix.turns`` when None.
        mix: the shape parameters.

    Returns:
        A ``Thread`` whose first line is its ``session_meta``.
    """
    builder = _Builder(seed, mix)
    n = turns if turns is not None else builder.rng.randint(*mix.turns)
    body = [builder.turn(i, n) for i in range(n)]
    body[0].insert(0, builder.meta())
    return Thread(builder.thread_id, body, name=f"synthetic-{seed}")


def generate_threads(seed: int, count: int, *, mix: Mix = MIX) -> list[Thread]:
    """``count`` threads of ``mix.turns`` turns each, seeded from ``seed``."""
    return [generate_thread(seed * 1_000_003 + i, mix=mix) for i in range(count)]


def tiny_thread(seed: int) -> Thread:
    """A one-turn thread with small lines, for filling a store with thousands of threads."""
    builder = _Builder(seed, Mix(calls_median=0.5, output_median=300, base_instructions=600,
                                 developer_message=300, images_per_thread=0, reasoning_median=400))
    turn = builder.turn(1, 1)  # index 1: no first-turn context messages
    return Thread(builder.thread_id, [[builder.meta(), *turn]], name=f"tiny-{seed}")


def corpus_dir() -> Path:
    """Where the real corpus lives: ``shared/corpus/codex-real`` beside the checkout."""
    return Path(__file__).resolve().parents[2] / "shared" / "corpus" / "codex-real"


def corpus_threads(root: Path | None = None) -> list[Thread]:
    """The real corpus as threads, turns split at ``task_started`` (or user input in old files).

    Returns an empty list when the corpus is absent; callers print why and skip.
    """
    root = root or corpus_dir()
    if not root.is_dir():
        return []
    threads = []
    for path in sorted(root.glob("*.jsonl")):
        lines = [line for line in path.read_bytes().splitlines() if line.strip()]
        if lines:
            threads.append(Thread(_corpus_id(lines, path), split_turns(lines), name=path.name[:40]))
    return threads


def split_turns(lines: list[bytes]) -> list[list[bytes]]:
    """Cut a rollout into turns: before each ``task_started``; without any, before user input.

    Lines before the first cut (``session_meta``, an old file's header) join the first turn.
    """
    kinds = [_kind(line) for line in lines]
    cuts = [i for i, k in enumerate(kinds) if k == "task_started"]
    if not cuts:
        cuts = [i for i, k in enumerate(kinds) if k == "user_message"]
    if not cuts:
        cuts = [i for i, k in enumerate(kinds) if k == "user"]
    cuts = [0, *cuts[1:]] if cuts else [0]
    return [lines[a:b] for a, b in zip(cuts, [*cuts[1:], len(lines)])]


def _kind(line: bytes) -> str:
    try:
        obj = _DECODE.decode(line)
    except msgspec.DecodeError:
        return ""
    if not isinstance(obj, dict):
        return ""
    payload = obj.get("payload", obj)
    if not isinstance(payload, dict):
        return ""
    if payload.get("type") == "message" and payload.get("role") == "user":
        return "user"
    return str(payload.get("type", ""))


def _corpus_id(lines: list[bytes], path: Path) -> str:
    for line in lines[:5]:
        try:
            obj = _DECODE.decode(line)
        except msgspec.DecodeError:
            continue
        if isinstance(obj, dict):
            payload = obj.get("payload", obj)
            if isinstance(payload, dict) and isinstance(payload.get("id"), str):
                return payload["id"]
    return str(uuid.uuid5(uuid.NAMESPACE_URL, path.name))
