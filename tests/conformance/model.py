"""A scripted model: a local OpenAI Responses endpoint, so the real Codex runs whole turns offline.

Codex streams each model request to ``POST {base_url}/responses``. :class:`ScriptedModel`
answers each request with the next entry of its script: a list of Responses output items
(``message``, ``reasoning``, ``function_call``, ``custom_tool_call``, ...), a :class:`Fail`
to answer with an HTTP error, a :class:`Hold` to keep the request open until the test
releases it (to interrupt a turn mid-request), or a callable that receives the request
body and returns one of those (to answer with what only the request tells, such as a
process id). Entries are consumed in order; :meth:`ScriptedModel.push` appends more.
When the script runs out it answers with a short assistant message. Every request body is
kept in ``requests``, so a test can see exactly what Codex sent (the history it rebuilt,
the tools it offered, call outputs).

Must not import: the engine's packages (this is the oracle's side).
"""

from __future__ import annotations

import http.server
import json
import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Fail:
    """Answer a request with this HTTP status and error body instead of a stream."""

    status: int = 500
    message: str = "scripted failure"


class Hold:
    """Keep the request open until :meth:`release` (or ``timeout`` seconds), then fail it."""

    def __init__(self, timeout: float = 60) -> None:
        self.timeout = timeout
        self._event = threading.Event()

    def release(self) -> None:
        self._event.set()

    def wait(self) -> None:
        self._event.wait(self.timeout)


def text(message: str, *, phase: str | None = None) -> dict[str, Any]:
    """An assistant message output item."""
    item: dict[str, Any] = {"type": "message", "role": "assistant",
                            "content": [{"type": "output_text", "text": message}]}
    if phase:
        item["phase"] = phase
    return item


def reasoning(summary: str) -> dict[str, Any]:
    """A reasoning output item with one summary part."""
    return {"type": "reasoning", "summary": [{"type": "summary_text", "text": summary}]}


def call(name: str, arguments: dict[str, Any], call_id: str) -> dict[str, Any]:
    """A ``function_call`` output item (arguments JSON-encoded, as the API sends them)."""
    return {"type": "function_call", "name": name, "arguments": json.dumps(arguments), "call_id": call_id}


def custom_call(name: str, payload: str, call_id: str) -> dict[str, Any]:
    """A ``custom_tool_call`` output item (e.g. ``apply_patch`` with a patch as input)."""
    return {"type": "custom_tool_call", "name": name, "input": payload, "call_id": call_id}


class ScriptedModel:
    """The endpoint, on 127.0.0.1 at a free port, in a background thread; use as a context manager."""

    def __init__(self, script: list[Any] | None = None) -> None:
        self.script: list[Any] = list(script or [])
        self.requests: list[dict[str, Any]] = []
        self.holds: list[Hold] = []
        self._served = 0
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL to configure (``http://127.0.0.1:PORT/v1``)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> ScriptedModel:
        self._thread.start()
        return self

    def push(self, *entries: Any) -> None:
        """Append entries to the script (answered after every entry already there)."""
        with self._lock:
            self.script.extend(entries)

    def pending(self) -> int:
        """Entries not consumed yet."""
        with self._lock:
            return len(self.script) - self._served

    def __exit__(self, *exc: object) -> None:
        for hold in self.holds:
            hold.release()
        self._server.shutdown()
        self._server.server_close()

    def _next(self, body: dict[str, Any]) -> tuple[int, Any]:
        with self._lock:
            index = len(self.requests)
            self.requests.append(body)
            if self._served < len(self.script):
                entry = self.script[self._served]
                self._served += 1
            else:
                entry = [text(f"reply {index}")]
        if callable(entry):
            entry = entry(body.get("body", body))
        if isinstance(entry, Hold):
            self.holds.append(entry)
        return index, entry

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        model = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, ctype: str, body: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("content-type", ctype)
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # Codex gave up on the request (an interrupted turn)

            def do_GET(self) -> None:
                self._reply(200, "application/json", b'{"object": "list", "data": [], "models": []}')

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", 0) or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_unparsed": raw.decode("utf-8", "replace")}
                index, entry = model._next({"path": self.path, "body": body})
                if isinstance(entry, Hold):
                    entry.wait()
                    entry = Fail(503, "held request released")
                if isinstance(entry, Fail):
                    error = {"error": {"message": entry.message, "type": "server_error", "code": None}}
                    self._reply(entry.status, "application/json", json.dumps(error).encode())
                    return
                self._reply(200, "text/event-stream", _stream(f"resp_{index}", index, entry))

        return Handler


def _sse(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


def _stream(response_id: str, index: int, items: list[dict[str, Any]]) -> bytes:
    out = [_sse({"type": "response.created", "response": {"id": response_id}})]
    for position, original in enumerate(items):
        item = json.loads(json.dumps(original))
        item.setdefault("id", f"item_{index}_{position}")
        if item.get("type") == "message":
            item.setdefault("status", "completed")
            for part in item.get("content", []):
                if part.get("type") == "output_text":
                    part.setdefault("annotations", [])
        out.append(_sse({"type": "response.output_item.added", "output_index": position, "item": item}))
        out.append(_sse({"type": "response.output_item.done", "output_index": position, "item": item}))
    usage = {"input_tokens": 100, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 10,
             "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 110}
    out.append(_sse({"type": "response.completed", "response": {"id": response_id, "usage": usage}}))
    return b"".join(out)
