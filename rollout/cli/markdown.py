"""A thread as Markdown (``rollout export --format markdown``).

The same reading model as the HTML view (:mod:`rollout.cli.transcript`): turns
in file order, rolled-back ones marked, tool calls and outputs in fenced
blocks, diffs as ``diff`` blocks. Messages stay Markdown (agents write it), but
raw HTML in them is neutralised outside code, so the file is safe to render.
Fences are longer than any backtick run inside them. Each entry is preceded by
an ``<a id="item-...">`` anchor, the same ids as the HTML view. Images are
named, not embedded (most Markdown renderers do not show ``data:`` URIs; the
HTML view inlines them).

Must not import: rich, store.
"""

from __future__ import annotations

import re
from typing import Any

from .html_items import CLIP, pretty_json
from .images import Image
from .preview import item_detail, lineage, one_line, utc_second
from .tokens import describe
from .transcript import Entry, Transcript, TurnView, content_images

__all__ = ["render_markdown"]

_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
_FENCE_LINE = re.compile(r"^\s{0,3}(```|~~~)")


def _neutral(text: str) -> str:
    """Markdown text with HTML tags made literal, outside code fences and code spans."""
    out, fenced = [], False
    for line in text.split("\n"):
        if _FENCE_LINE.match(line):
            fenced = not fenced
            out.append(line)
        elif fenced:
            out.append(line)
        else:
            pieces, last = [], 0
            for match in _SPAN.finditer(line):
                pieces += [_TAG_START.sub("&lt;", line[last:match.start()]), match.group(0)]
                last = match.end()
            pieces.append(_TAG_START.sub("&lt;", line[last:]))
            out.append("".join(pieces))
    if fenced:
        out.append("```")  # close a fence the text left open, so it cannot swallow what follows
    return "\n".join(out)


def _fence(text: str, lang: str = "") -> str:
    if len(text) > CLIP:
        text = text[:CLIP] + f"\n… {len(text) - CLIP:,} more characters not shown"
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text.rstrip(chr(10))}\n{ticks}"


def _images(found: list[Image]) -> list[str]:
    return [f"*[image: {image.label}]*" for image in found]


def _one_line(text: str) -> str:
    return one_line(text, 200).replace("`", "'")


def _item(entry: Entry, item: Any) -> list[str]:
    tag = item.__struct_config__.tag
    if tag == "userMessage":
        text = "\n".join(p.text for p in item.content if p.__struct_config__.tag == "text")
        return ["**User**", "", _neutral(text), *_images(content_images(item))]
    if tag == "agentMessage":
        return [f"**Agent**{' · ' + item.phase if item.phase else ''}", "", _neutral(item.text)]
    if tag == "reasoning":
        return ["*Reasoning*", "", "\n".join(f"> {line}" for line in "\n".join([*item.summary, *item.content]).splitlines())]
    if tag == "commandExecution":
        facts = [f for f in (item.status, item.exit_code is not None and f"exit {item.exit_code}") if f]
        return [f"**Command** `{_one_line(item.command)}` ({', '.join(facts)})", "",
                _fence(f"$ {item.command}\n{item.aggregated_output or ''}")]
    if tag == "fileChange":
        letters = {"add": "A", "delete": "D", "update": "M"}
        parts = [f"**File change** ({item.status})"]
        for change in item.changes:
            kind = change.kind.type
            body = change.diff if kind == "update" else "\n".join(("+" if kind == "add" else "-") + l for l in change.diff.splitlines())
            parts += ["", f"`{letters.get(kind, '?')} {_one_line(change.path)}`", "", _fence(body, "diff")]
        return parts
    label = {"mcpToolCall": "MCP tool", "dynamicToolCall": "Dynamic tool", "collabAgentToolCall": "Agent tool",
             "webSearch": "Web search", "imageView": "View image", "imageGeneration": "Image generation"}.get(tag)
    if label:
        return [f"**{label}** ({getattr(item, 'status', '') or 'done'})", "", _fence(item_detail(item))]
    return [f"**{tag}**", "", _neutral(item_detail(item))]


def _call(call: Any) -> list[str]:
    patch = call.arguments.lstrip().startswith("*** Begin Patch")
    parts = [f"**Tool** `{_one_line(call.name or 'call not in this file')}`" + (f" ({call.status})" if call.status else "")]
    if call.arguments:
        parts += ["", _fence(call.arguments if patch else pretty_json(call.arguments), "diff" if patch else "")]
    if call.output is not None:
        parts += ["", "Output:", "", _fence(call.output)]
    return parts


def _record(record: Any) -> list[str]:
    if record.type == "reasoning":
        return ["*Reasoning (record)*", "", "\n".join(f"> {p.text}" for p in record.summary)]
    text = "\n".join(getattr(part, "text", "") for part in record.content if getattr(part, "text", ""))
    return [f"**{'User' if record.role == 'user' else 'Agent'}** (message record)", "", _neutral(text)]


def _entry(entry: Entry) -> str:
    if entry.call is not None:
        parts = _call(entry.call)
    elif entry.record is not None:
        parts = _record(entry.record)
    else:
        parts = _item(entry, entry.item)
    parts += _images(entry.images)
    return f'<a id="{entry.anchor}"></a>\n\n' + "\n".join(parts)


def _turn(view: TurnView, source: str | None) -> str:
    turn = view.turn
    title = f"Turn {view.number}" if view.number is not None else "Rolled-back turn"
    facts = [turn.status, utc_second(turn.started_at)]
    if turn.duration_ms is not None:
        facts.append(f"{turn.duration_ms / 1000:.1f}s")
    if view.tokens:
        facts.append(f"{view.tokens:,} tokens this turn")
    head = [f"## {title} · {' · '.join(f for f in facts if f)}"]
    if view.rolled_back:
        head.append("> This turn was rolled back: the thread no longer has it.")
    if view.inherited:
        head.append(f"> Inherited from {source or 'the source thread'} (this thread is a fork).")
    if turn.error is not None:
        head.append(f"> Error: {_one_line(turn.error.message)}")
    return "\n\n".join(head + [_entry(entry) for entry in view.entries])


def render_markdown(transcript: Transcript, *, redacted: bool = False) -> str:
    """The thread as one Markdown document."""
    t = transcript.summary.thread
    y = transcript.parse_yield
    rows = [("thread", t and t.id), ("name", t and t.name), ("created", t and utc_second(t.created_at)),
            ("cwd", t and t.cwd), ("model", t and t.model), ("lineage", t and lineage(t)),
            ("tokens", describe(transcript.tokens)),
            ("read", f"{y.messages} messages, {y.tool_calls} tool calls"), ("warning", y.warning()),
            ("redacted", "secrets are masked ([REDACTED:kind])" if redacted else None)]
    table = ["| | |", "|---|---|", *(f"| {k} | {_one_line(str(v)).replace('|', '&#124;')} |" for k, v in rows if v)]
    parts = [f"# {_one_line(_neutral(transcript.title))}", "\n".join(table)]
    if transcript.loose:
        parts += ["## Records", *map(_entry, transcript.loose)]
    parts += [_turn(view, t.forked_from_id if t else None) for view in transcript.turns]
    return "\n\n".join(parts) + "\n"
