"""Structured logs on stderr: text lines, or one JSON object per line (``--log-format json``).

Every record made while a request is served carries that request's W3C
``traceparent`` (from the request's ``trace`` field, as Codex's app-server reads
it) through a context variable, so a client's trace id links its requests to
the server's log lines. Nothing is sent anywhere: no telemetry.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, TextIO

from .server import traceparent

__all__ = ["JsonFormatter", "TraceFilter", "configure"]

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "traceparent"}


class TraceFilter(logging.Filter):
    """Stamps each record with the current request's ``traceparent`` (or None)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.traceparent = traceparent.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, traceparent, extras."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        trace = getattr(record, "traceparent", None)
        if trace:
            out["traceparent"] = trace
        out.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        trace = getattr(record, "traceparent", None)
        return f"{line} traceparent={trace}" if trace else line


def configure(fmt: str = "text", level: str = "info", stream: TextIO | None = None) -> logging.Handler:
    """Send the server's log records to stderr in ``fmt`` (``text`` or ``json``); returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(TraceFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(_TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler
