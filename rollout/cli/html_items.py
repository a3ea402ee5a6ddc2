"""HTML of one entry of a turn: messages, reasoning, tool calls, diffs, images.

Every piece of thread content goes through :func:`esc` (text and attribute
values alike); the only markup here is this module's own. Images appear only
as vetted ``data:`` URIs (:mod:`rollout.cli.images`). Tool calls and reasoning
fold (``<details>``); diffs are open. A very long output is clipped for the
page (the count of what was left out is shown; the rollout keeps all of it).

Must not import: rich, store.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

import msgspec

from . import images
from .preview import one_line
from .transcript import Entry, content_images

__all__ = ["CLIP", "diff_html", "entry_html", "esc", "image_html", "pretty_json", "prose"]

CLIP = 100_000  # characters of one text block shown in the page
_json = msgspec.json.Encoder()


def esc(text: Any) -> str:
    """Text as HTML (quotes included, so it is safe in attribute values too)."""
    return html.escape(str(text), quote=True)


_FENCED = re.compile(r"^(```[^\n]*\n.*?^```[ \t]*$)", re.M | re.S)
_CODE = re.compile(r"`([^`\n]+)`")
_STRONG = re.compile(r"\*\*([^*\n]+)\*\*")


def prose(text: str) -> str:
    """An agent's Markdown, lightly: fenced blocks, `code` and **bold**; everything else as text.

    The text is escaped first and the patterns only wrap escaped text in this
    module's own tags, so no markup from the thread survives.
    """
    out = []
    for number, part in enumerate(_FENCED.split(text)):
        if number % 2:
            body = part.split("\n", 1)[1].rsplit("```", 1)[0]
            out.append(f"<pre>{esc(body)}</pre>")
        else:
            out.append(_STRONG.sub(r"<strong>\1</strong>", _CODE.sub(r"<code>\1</code>", esc(part))))
    return "".join(out)


def _pre(text: str, cls: str = "") -> str:
    clipped = ""
    if len(text) > CLIP:
        clipped = f'<div class="clipped">… {len(text) - CLIP:,} more characters not shown</div>'
        text = text[:CLIP]
    attr = f' class="{cls}"' if cls else ""
    return f"<pre{attr}>{esc(text)}</pre>{clipped}"


def pretty_json(value: Any) -> str:
    """JSON arguments indented when they parse (a string of JSON, or a value), else as they are."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    try:
        return json.dumps(value, indent=2, ensure_ascii=False)
    except (TypeError, ValueError):
        return _json.encode(value).decode()


def image_html(image: images.Image) -> str:
    """A figure for an inlinable image, or a one-line note naming what is not shown."""
    if image.uri is None:
        return f'<div class="image-missing">[{esc(image.label)}]</div>'
    return f'<figure class="image"><img src="{esc(image.uri)}" alt="{esc(image.label)}"><figcaption>{esc(image.label)}</figcaption></figure>'


def diff_html(diff: str, kind: str = "update") -> str:
    """A unified diff with added, removed, hunk and header lines coloured.

    An added or deleted file's "diff" is its content: every line is an addition
    (or a removal).
    """
    spans = []
    for line in diff.splitlines():
        if kind == "add":
            cls, line = "add", "+" + line
        elif kind == "delete":
            cls, line = "del", "-" + line
        elif line.startswith(("+++", "---", "***", "diff ", "index ")):
            cls = "meta"
        elif line.startswith("+"):
            cls = "add"
        elif line.startswith("-"):
            cls = "del"
        elif line.startswith("@@"):
            cls = "hunk"
        else:
            cls = ""
        spans.append(f'<span class="{cls}">{esc(line) or " "}</span>' if cls else f"<span>{esc(line) or ' '}</span>")
    return '<pre class="diff">' + "".join(spans) + "</pre>"


def _folded(entry: Entry, kind: str, head: str, body: str, *, cls: str = "tool", status: str | None = None,
            open_: bool = False) -> str:
    state = f'<span class="status {esc(status)}">{esc(status)}</span>' if status else ""
    shown = " open" if open_ else ""
    pictures = "".join(image_html(image) for image in entry.images)
    return (f'<details class="entry {cls}" id="{esc(entry.anchor)}"{shown}><summary><span class="kind">{esc(kind)}</span>'
            f"{head}{state}</summary><div class=\"body\">{body}{pictures}</div></details>")


def _said(entry: Entry, who: str, cls: str, text: str, extra: str = "", *, markdown: bool = False) -> str:
    pictures = "".join(image_html(image) for image in entry.images)
    body = prose(text) if markdown else esc(text)
    return (f'<article class="entry {cls}" id="{esc(entry.anchor)}"><div class="who">{esc(who)}</div>'
            f'<div class="text">{body}</div>{extra}{pictures}</article>')


# --------------------------------------------------------------------------- rebuilt items


def _user(entry: Entry, item: Any) -> str:
    texts, chips = [], []
    for part in item.content:
        tag = part.__struct_config__.tag
        if tag == "text":
            texts.append(part.text)
        elif tag in ("skill", "mention"):
            chips.append(f'<div class="label">{esc(tag)}: {esc(part.name)} ({esc(part.path)})</div>')
    extra = "".join(chips) + "".join(image_html(image) for image in content_images(item))
    return _said(entry, "User", "user", "\n".join(texts), extra)


def _agent(entry: Entry, item: Any) -> str:
    who = "Agent" + (f" · {item.phase}" if item.phase else "")
    return _said(entry, who, "agent", item.text, markdown=True)


def _reasoning(entry: Entry, item: Any) -> str:
    lines = [*item.summary, *item.content]
    head = esc(one_line(item.summary[0] if item.summary else (item.content[0] if item.content else ""), 160))
    return _folded(entry, "reasoning", head, f'<div class="text">{esc(chr(10).join(lines))}</div>', cls="reasoning")


def _command(entry: Entry, item: Any) -> str:
    facts = [f"exit {item.exit_code}" if item.exit_code is not None else "",
             f"{item.duration_ms / 1000:.1f}s" if item.duration_ms is not None else ""]
    head = f"<code>$ {esc(one_line(item.command, 200))}</code>"
    body = (f'<div class="label">in {esc(item.cwd)}</div>' if item.cwd else "") + _pre(f"$ {item.command}")
    if item.aggregated_output:
        body += _pre(item.aggregated_output, "output")
    status = " · ".join(f for f in [item.status, *facts] if f)
    return _folded(entry, "command", head, body, status=status)


def _file_change(entry: Entry, item: Any) -> str:
    letters = {"add": "A", "delete": "D", "update": "M"}
    paths = ", ".join(f"{letters.get(c.kind.type, '?')} {c.path}" for c in item.changes)
    body = "".join(
        f'<div class="file"><div class="path">{esc(letters.get(c.kind.type, "?"))} {esc(c.path)}</div>'
        f"{diff_html(c.diff, c.kind.type)}</div>"
        for c in item.changes
    )
    return _folded(entry, "file change", esc(paths), body, status=item.status, open_=True)


def _mcp(entry: Entry, item: Any) -> str:
    body = '<div class="label">arguments</div>' + _pre(pretty_json(item.arguments))
    pictures = []
    if item.error is not None:
        body += '<div class="label error">error</div>' + _pre(item.error.message)
    elif item.result is not None:
        texts = []
        for block in item.result.content:
            if isinstance(block, dict) and block.get("type") == "image":
                pictures.append(images.from_base64(str(block.get("data", "")), str(block.get("mimeType", ""))))
            elif isinstance(block, dict) and block.get("type") == "text":
                texts.append(str(block.get("text", "")))
            else:
                texts.append(pretty_json(block))
        if item.result.structured_content is not None:
            texts.append(pretty_json(item.result.structured_content))
        body += '<div class="label">result</div>' + _pre("\n".join(texts)) if texts else ""
    body += "".join(image_html(image) for image in pictures)
    return _folded(entry, "mcp", f"<code>{esc(item.server)}.{esc(item.tool)}</code>", body, status=item.status)


def _dynamic(entry: Entry, item: Any) -> str:
    name = f"{item.namespace}.{item.tool}" if item.namespace else item.tool
    body = '<div class="label">arguments</div>' + _pre(pretty_json(item.arguments))
    for part in item.content_items or []:
        tag = part.__struct_config__.tag
        body += _pre(part.text) if tag == "inputText" else image_html(images.from_url(part.image_url))
    return _folded(entry, "dynamic tool", f"<code>{esc(name)}</code>", body, status=item.status)


def _collab(entry: Entry, item: Any) -> str:
    body = _pre(item.prompt) if item.prompt else ""
    if item.receiver_thread_ids:
        body += f'<div class="label">agents: {esc(", ".join(item.receiver_thread_ids))}</div>'
    for thread, state in item.agents_states.items():
        body += f'<div class="label">{esc(thread)}: {esc(state.status)}</div>' + (_pre(state.message) if state.message else "")
    return _folded(entry, "agent", f"<code>{esc(item.tool)}</code>", body, status=item.status)


def _web_search(entry: Entry, item: Any) -> str:
    action = pretty_json(msgspec.to_builtins(item.action)) if item.action is not None else ""
    return _folded(entry, "web search", esc(one_line(item.query, 200)), _pre(action) if action else "")


def _image_generation(entry: Entry, item: Any) -> str:
    picture = image_html(images.from_base64(item.result, "image/png")) if item.result else ""
    head = esc(one_line(item.revised_prompt or "", 200))
    return _folded(entry, "image generation", head, picture, status=item.status, open_=True)


def _image_view(entry: Entry, item: Any) -> str:
    return _folded(entry, "view image", f"<code>{esc(item.path)}</code>", "", open_=True)


def _simple(label: str, text_of: Callable[[Any], str]) -> Callable[[Entry, Any], str]:
    def render(entry: Entry, item: Any) -> str:
        return _said(entry, label, "agent", text_of(item))

    return render


_ITEMS: dict[str, Callable[[Entry, Any], str]] = {
    "userMessage": _user,
    "agentMessage": _agent,
    "reasoning": _reasoning,
    "commandExecution": _command,
    "fileChange": _file_change,
    "mcpToolCall": _mcp,
    "dynamicToolCall": _dynamic,
    "collabAgentToolCall": _collab,
    "webSearch": _web_search,
    "imageGeneration": _image_generation,
    "imageView": _image_view,
    "plan": lambda entry, item: _said(entry, "Plan", "agent", item.text, markdown=True),
    "hookPrompt": _simple("Hook", lambda item: "\n".join(f.text for f in item.fragments)),
    "enteredReviewMode": _simple("Review started", lambda item: item.review),
    "exitedReviewMode": _simple("Review", lambda item: item.review),
    "contextCompaction": _simple("Context compacted", lambda item: ""),
    "subAgentActivity": _simple("Sub-agent", lambda item: f"{item.kind} {item.agent_path or item.agent_thread_id}"),
}


# --------------------------------------------------------------------------- records


def _call(entry: Entry, call: Any) -> str:
    body = ""
    if call.arguments:
        patch = call.arguments.lstrip().startswith("*** Begin Patch")
        body += diff_html(call.arguments) if patch else _pre(pretty_json(call.arguments))
    if call.output is not None:
        body += '<div class="label">output</div>' + _pre(call.output, "output")
    name = call.name or "(call not in this file)"
    return _folded(entry, "tool", f"<code>{esc(name)}</code>", body, status=call.status)


def _record(entry: Entry, record: Any) -> str:
    if record.type == "reasoning":
        text = "\n".join(part.text for part in record.summary)
        return _folded(entry, "reasoning", esc(one_line(text, 160)), f'<div class="text">{esc(text)}</div>', cls="reasoning")
    text = "\n".join(getattr(part, "text", "") for part in record.content if getattr(part, "text", ""))
    pictures = [images.from_url(part.image_url) for part in record.content if part.type == "input_image"]
    who, cls = ("User", "user record") if record.role == "user" else ("Agent", "agent record")
    extra = "".join(image_html(image) for image in pictures)
    return _said(entry, f"{who} (message record)", cls, text, extra, markdown=record.role == "assistant")


def entry_html(entry: Entry) -> str:
    """The HTML of one entry (a rebuilt item, a tool call from records, or a message record)."""
    if entry.call is not None:
        return _call(entry, entry.call)
    if entry.record is not None:
        return _record(entry, entry.record)
    tag = entry.item.__struct_config__.tag
    render = _ITEMS.get(tag)
    if render is None:
        return _folded(entry, tag, "", _pre(pretty_json(msgspec.to_builtins(entry.item))))
    return render(entry, entry.item)
