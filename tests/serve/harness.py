"""An in-process client of ``serve.AppServer`` that checks every reply and notification against Codex's schemas.

Schemas: ``../shared/schema/codex-0.171.0/`` (responses) and
``codex-0.171.0-experimental/`` (notifications, and the ``thread/search`` family's responses). ``thread/rollback`` answers
``{"thread": Thread}`` (``codex-older-rollback``); it is checked against
``ThreadReadResponse``, which has exactly that shape and today's Thread.
"""

from __future__ import annotations

import functools
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from serve import AppServer

from ..corpus import SHARED

SCHEMA = SHARED / "schema" / "codex-0.171.0"
NOTIFICATION_SCHEMA = SHARED / "schema" / "codex-0.171.0-experimental"

_RESPONSES = {
    "thread/start": "ThreadStartResponse", "thread/resume": "ThreadResumeResponse",
    "thread/fork": "ThreadForkResponse", "thread/read": "ThreadReadResponse",
    "thread/list": "ThreadListResponse", "thread/turns/list": "ThreadTurnsListResponse",
    "thread/items/list": "ThreadItemsListResponse", "thread/archive": "ThreadArchiveResponse",
    "thread/unarchive": "ThreadUnarchiveResponse", "thread/delete": "ThreadDeleteResponse",
    "thread/name/set": "ThreadSetNameResponse", "thread/metadata/update": "ThreadMetadataUpdateResponse",
    "thread/inject_items": "ThreadInjectItemsResponse", "thread/unsubscribe": "ThreadUnsubscribeResponse",
    "thread/loaded/list": "ThreadLoadedListResponse", "thread/rollback": "ThreadReadResponse",
}
_NOTIFICATIONS = {
    "thread/started": "ThreadStartedNotification", "thread/status/changed": "ThreadStatusChangedNotification",
    "thread/archived": "ThreadArchivedNotification", "thread/unarchived": "ThreadUnarchivedNotification",
    "thread/deleted": "ThreadDeletedNotification", "thread/closed": "ThreadClosedNotification",
    "thread/name/updated": "ThreadNameUpdatedNotification",
}
#: experimental methods: their responses are in the experimental schema folder
_EXPERIMENTAL_RESPONSES = {
    "thread/search": "ThreadSearchResponse", "thread/search/stream": "ThreadSearchResponse",
    "thread/search/cancel": "ThreadSearchCancelResponse", "thread/search/stream/cancel": "ThreadSearchCancelResponse",
}
_NOTIFICATIONS_EXPERIMENTAL = {"thread/search/partial": "ThreadSearchPartialNotification"}
CHECKED_METHODS = frozenset(_RESPONSES) | frozenset(_EXPERIMENTAL_RESPONSES)


def require_schemas() -> None:
    if not SCHEMA.is_dir() or not NOTIFICATION_SCHEMA.is_dir():
        pytest.skip(f"Codex's JSON schemas are not at {SCHEMA} (the shared folder beside the checkout)")


@functools.cache
def _validator(path: Path) -> Any:
    import jsonschema

    schema = json.loads(path.read_text())
    return jsonschema.Draft7Validator(schema)


def check_reply(method: str, reply: dict[str, Any]) -> None:
    """Assert ``reply`` is one well-formed reply, and its result fits ``method``'s response schema."""
    assert set(reply) in ({"id", "result"}, {"id", "error"}), reply
    if "error" in reply:
        error = reply["error"]
        assert set(error) == {"code", "message"} and isinstance(error["code"], int), reply
        assert isinstance(error["message"], str) and error["message"], reply
        return
    name = _RESPONSES.get(method)
    folder = SCHEMA
    if name is None and method in _EXPERIMENTAL_RESPONSES:
        name, folder = _EXPERIMENTAL_RESPONSES[method], NOTIFICATION_SCHEMA
    if name is not None:
        errors = sorted(_validator(folder / f"{name}.json").iter_errors(reply["result"]), key=str)
        assert not errors, f"{method} reply does not fit {name}: {errors[0].message} at {list(errors[0].path)}"


def check_notification(note: dict[str, Any]) -> None:
    """Assert a notification has Codex's envelope and fits its schema."""
    assert set(note) == {"method", "params", "emittedAtMs"}, note
    name = {**_NOTIFICATIONS, **_NOTIFICATIONS_EXPERIMENTAL}[note["method"]]
    errors = sorted(_validator(NOTIFICATION_SCHEMA / f"{name}.json").iter_errors(note["params"]), key=str)
    assert not errors, f"{note['method']} does not fit {name}: {errors[0].message} at {list(errors[0].path)}"


class Client:
    """One connection to an in-process server; every reply and notification is schema-checked."""

    def __init__(self, server: AppServer, *, name: str = "tests", experimental: bool = False) -> None:
        require_schemas()
        self.server = server
        self.notifications: list[dict[str, Any]] = []
        self.conn = server.connect(self._notified)
        self._ids = itertools.count(1)
        self._init = {"clientInfo": {"name": name, "version": "0"}, "capabilities": {"experimentalApi": experimental}}

    def _notified(self, payload: bytes) -> None:
        note = json.loads(payload)
        check_notification(note)
        self.notifications.append(note)

    async def start(self) -> Client:
        await self.request("initialize", self._init)
        await self.conn.handle(b'{"method":"initialized"}')
        return self

    async def request(self, method: str, params: Any = None, **extra: Any) -> dict[str, Any]:
        """Send a request; returns the whole reply (``result`` or ``error``)."""
        message: dict[str, Any] = {"id": next(self._ids), "method": method, **extra}
        if params is not None:
            message["params"] = params
        raw = await self.conn.handle(json.dumps(message))
        assert raw is not None, f"{method}: no reply"
        reply = json.loads(raw)
        assert reply["id"] == message["id"]
        check_reply(method, reply)
        return reply

    async def call(self, method: str, params: Any = None) -> Any:
        """Send a request that must succeed; returns its result."""
        reply = await self.request(method, params if params is not None else {})
        assert "result" in reply, f"{method} failed: {reply.get('error')}"
        return reply["result"]

    def methods(self) -> list[str]:
        return [note["method"] for note in self.notifications]
