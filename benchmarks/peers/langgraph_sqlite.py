"""LangGraph ``AsyncSqliteSaver`` (langgraph-checkpoint-sqlite): one checkpoint per turn.

The state is what a ``MessagesState`` chat graph holds: ``messages`` (langchain messages built
from the response items: one ``AIMessage`` per sampling round with reasoning/text blocks and
tool calls, ``ToolMessage`` per tool output, images as ``image_url`` blocks), plus the latest
``turn_context`` and token usage. Each turn is one ``aput`` of the whole state, as the
checkpointer's documented raw usage shows (``put(config, checkpoint, metadata, versions)``).
A compiled graph writes at least this much per turn (it also checkpoints its input step and
stores pending writes), so these figures are LangGraph's best case. Event messages (UI events)
have no place in a messages state and are not stored.

Fork: the SQLite saver does not implement ``acopy_thread``; the equivalent of
``graph.update_state`` on a new thread id is used (latest checkpoint written under the new id).
Listing: the saver lists checkpoints, not threads; ``alist(None)`` is walked newest first and
deduplicated by thread id, deserializing every checkpoint it passes.

Imports langgraph/langchain-core; nothing from ``store``.
"""

from __future__ import annotations

import uuid
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from benchmarks.peers import Driver, decode, envelope
from benchmarks.workload import Thread

_CALLS = ("function_call", "custom_tool_call", "local_shell_call", "tool_search_call")
_OUTPUTS = ("function_call_output", "custom_tool_call_output", "tool_search_output")


class LangGraphDriver(Driver):
    """Drives ``AsyncSqliteSaver`` with a messages state, one checkpoint per turn."""

    name = "langgraph"
    package = "langgraph-checkpoint-sqlite"
    durability = "aput + commit per turn (WAL, synchronous=FULL)"
    how = ("AsyncSqliteSaver.aput of the whole messages state per turn; fork = latest checkpoint "
           "put under the new thread id; list = alist(None) deduplicated by thread id")

    async def open(self) -> None:
        self._cm = AsyncSqliteSaver.from_conn_string(str(self.root / "checkpoints.sqlite"))
        self.saver = await self._cm.__aenter__()
        await self.saver.setup()
        self.heads: dict[str, tuple[dict, dict]] = {}  # thread id -> (config, checkpoint)

    async def close(self) -> None:
        await self._cm.__aexit__(None, None, None)

    def prepare(self, thread: Thread) -> list[tuple[list[BaseMessage], dict | None, dict | None]]:
        return [_turn_state(turn) for turn in thread.turns]

    async def append_thread(self, thread_id: str, turns: Any) -> None:
        config, checkpoint = self.heads.get(thread_id) or (
            {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}, empty_checkpoint())
        for new_messages, context, usage in turns:
            values = dict(checkpoint["channel_values"])
            values["messages"] = [*values.get("messages", ()), *new_messages]  # what add_messages returns
            changed = ["messages"]
            for key, value in (("turn_context", context), ("token_usage", usage)):
                if value is not None:
                    values[key] = value
                    changed.append(key)
            checkpoint, versions = self._next(checkpoint, values, changed)
            step = len(values["messages"])
            config = await self.saver.aput(config, checkpoint, {"source": "loop", "step": step, "parents": {}},
                                           versions)
        self.heads[thread_id] = (config, checkpoint)

    def _next(self, previous: dict, values: dict, changed: list[str]) -> tuple[dict, dict]:
        checkpoint = empty_checkpoint()
        versions = dict(previous["channel_versions"])
        new_versions = {k: self.saver.get_next_version(versions.get(k), None) for k in changed}
        versions.update(new_versions)
        checkpoint["channel_values"] = values
        checkpoint["channel_versions"] = versions
        checkpoint["versions_seen"] = {"agent": dict(versions)}
        checkpoint["updated_channels"] = changed
        return checkpoint, new_versions

    async def read_latest(self, thread_id: str) -> int:
        found = await self.saver.aget_tuple({"configurable": {"thread_id": thread_id}})
        return len(found.checkpoint["channel_values"]["messages"])

    async def fork(self, thread_id: str, new_id: str) -> None:
        found = await self.saver.aget_tuple({"configurable": {"thread_id": thread_id}})
        checkpoint = dict(found.checkpoint)
        checkpoint["id"] = empty_checkpoint()["id"]
        await self.saver.aput({"configurable": {"thread_id": new_id, "checkpoint_ns": ""}}, checkpoint,
                              {"source": "fork", "step": 0, "parents": {}}, checkpoint["channel_versions"])

    async def list_threads(self, limit: int | None) -> list[str]:
        seen: dict[str, None] = {}
        async for item in self.saver.alist(None):
            seen.setdefault(item.config["configurable"]["thread_id"])
            if limit is not None and len(seen) >= limit:
                break
        return list(seen)


def _turn_state(lines: list[bytes]) -> tuple[list[BaseMessage], dict | None, dict | None]:
    """Messages added by one turn, plus its turn context and last token usage (None if absent)."""
    builder = _Messages()
    context = usage = None
    for line in lines:
        kind, payload = envelope(decode(line))
        if kind == "response_item":
            builder.item(payload)
        elif kind == "turn_context":
            context = payload
        elif kind == "event_msg" and payload.get("type") == "token_count":
            builder.flush()  # a token count closes one model response
            usage = payload.get("info") or usage
    builder.flush()
    return builder.out, context, usage


class _Messages:
    """Groups response items into langchain messages the way ChatOpenAI's Responses mode does."""

    def __init__(self) -> None:
        self.out: list[BaseMessage] = []
        self.blocks: list[Any] = []
        self.calls: list[dict] = []

    def flush(self) -> None:
        if self.blocks or self.calls:
            self.out.append(AIMessage(content=self.blocks, tool_calls=self.calls, id=str(uuid.uuid4())))
            self.blocks, self.calls = [], []

    def item(self, payload: dict) -> None:
        kind = payload.get("type")
        if kind == "message" and payload.get("role") != "assistant":
            self.flush()
            cls = HumanMessage if payload.get("role") == "user" else SystemMessage
            self.out.append(cls(content=_blocks(payload.get("content")), id=str(uuid.uuid4())))
        elif kind == "message":
            self.blocks += _blocks(payload.get("content"))
        elif kind in _CALLS:
            self.calls.append({"name": str(payload.get("name") or kind), "args": _args(payload),
                               "id": str(payload.get("call_id") or uuid.uuid4()), "type": "tool_call"})
        elif kind in _OUTPUTS:
            self.flush()
            output = payload.get("output", payload.get("tools", ""))
            content = output if isinstance(output, str) else _blocks(output)
            self.out.append(ToolMessage(content=content, tool_call_id=str(payload.get("call_id") or ""),
                                        id=str(uuid.uuid4())))
        else:  # reasoning, web search, compaction...: content blocks of the model's response
            self.blocks.append({k: v for k, v in payload.items() if v is not None})


def _blocks(content: Any) -> list[Any]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    blocks = []
    for part in content or ():
        if not isinstance(part, dict):
            continue
        if part.get("type") in ("input_text", "output_text", "text"):
            blocks.append({"type": "text", "text": part.get("text", "")})
        elif part.get("type") == "input_image":
            blocks.append({"type": "image_url", "image_url": {"url": part.get("image_url", "")}})
        else:
            blocks.append(part)
    return blocks


def _args(payload: dict) -> dict:
    raw = payload.get("arguments", payload.get("input", payload.get("action")))
    if isinstance(raw, str):
        try:
            parsed = decode(raw.encode())
        except UnicodeEncodeError:
            parsed = {}
        return parsed or {"input": raw}
    return raw if isinstance(raw, dict) else {"input": raw}
