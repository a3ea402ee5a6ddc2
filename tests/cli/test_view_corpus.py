"""`rollout view` and `export --format markdown` on every real rollout: structure only, never its text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

import replay
import rollout
from rollout.cli.view import render_thread
from rollout.compat import upcast
from tests.corpus import corpus_params


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.mark.parametrize("path", corpus_params())
def test_page_of_a_real_rollout_is_well_formed(path):
    """Every surviving item has its anchor once, ids are unique, one script, images only as data: URIs."""
    data = path.read_bytes()
    parser = _Tags()
    parser.feed(render_thread(data, fmt="html").decode())
    ids = [attrs["id"] for _, attrs in parser.tags if attrs.get("id")]
    assert len(ids) == len(set(ids))
    turns = replay.build_turns(upcast(rollout.read_rollout(path).lines))
    sections = [attrs["id"] for tag, attrs in parser.tags if tag == "section" and "turn" in attrs.get("class", "")]
    assert len([s for s in sections if s != "records"]) >= len(turns)
    items = sum(len(turn.items) for turn in turns)
    assert len([i for i in ids if i.startswith("item-")]) >= items
    assert [tag for tag, _ in parser.tags].count("script") == 1
    assert all(attrs.get("src", "").startswith("data:image/") for tag, attrs in parser.tags if tag == "img")
    assert not [name for _, attrs in parser.tags for name in attrs if name.startswith("on")]


@pytest.mark.parametrize("path", corpus_params())
def test_markdown_of_a_real_rollout_keeps_fences_balanced(path):
    """Every fence opened in the Markdown export is closed (content cannot break out of a code block)."""
    md = render_thread(path.read_bytes(), fmt="markdown").decode()
    open_fence = None
    for line in md.splitlines():
        match = re.match(r"^(`{3,})", line)
        if match and open_fence is None:
            open_fence = match.group(1)
        elif match and line.strip() == open_fence:
            open_fence = None
    assert open_fence is None
