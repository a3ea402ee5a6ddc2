"""Codex 0.171.0's thread-metadata rules (rollout.thread_meta), each on a small example of our own.

The same rules are held against the real binary in tests/conformance/test_thread_objects.py.
"""

from __future__ import annotations

import pytest

from rollout import events as ev
from rollout.compat import v2_source
from rollout.thread_meta import (
    is_guardian,
    redact_origin_url,
    settings_of,
    spawn_of,
    user_item_text,
)


@pytest.mark.parametrize(("url", "shown"), [
    ("alice@example.com:team/repo.git", "example.com:team/repo.git"),
    ("git@example.com:team/repo.git", "git@example.com:team/repo.git"),
    ("ssh://bob:pw@example.com/team/repo.git", "ssh://example.com/team/repo.git"),
    ("ssh://git@example.com/team/repo.git", "ssh://git@example.com/team/repo.git"),
    ("https://user:token@github.com/a/b.git", "https://github.com/a/b.git"),
    ("https://git@example.com/team/repo.git", "https://example.com/team/repo.git"),
    ("/srv/repo.git", "/srv/repo.git"),
    ("file:///srv/repo.git", "file:///srv/repo.git"),
    ("bob@host", "bob@host"),
    (None, None),
])
def test_origin_urls_lose_their_user_as_codex_shows_them(url, shown):
    """A user part is dropped, except the git user of an ssh or scp-style URL."""
    assert redact_origin_url(url) == shown


def test_guardian_and_spawned_sub_agents_are_recognised():
    """Only {"subagent": {"other": "guardian"}} is the guardian; a spawn's record is found in its source."""
    assert is_guardian({"subagent": {"other": "guardian"}})
    assert not is_guardian({"subagent": {"other": "helper"}}) and not is_guardian("cli")
    spawn = {"subagent": {"thread_spawn": {"parent_thread_id": "p", "depth": 1}}}
    assert spawn_of(spawn) == {"parent_thread_id": "p", "depth": 1} and spawn_of("cli") is None


def test_a_spawn_source_is_sent_with_codexs_keys_in_order():
    """v2 thread_spawn: parent_thread_id, depth, agent_path, agent_nickname, agent_role (nulls included)."""
    source = v2_source({"subagent": {"thread_spawn": {"agent_role": "r", "depth": 2, "parent_thread_id": "p"}}})
    spawn = source["subAgent"]["thread_spawn"]
    assert list(spawn.items()) == [("parent_thread_id", "p"), ("depth", 2), ("agent_path", None),
                                   ("agent_nickname", None), ("agent_role", "r")]


_SANDBOX = {"type": "read-only"}


@pytest.mark.parametrize(("context", "read"), [
    (ev.TurnContext(cwd="/w", model="m", approval_policy="never", sandbox_policy=_SANDBOX), True),
    (ev.TurnContext(cwd="/w", model="m", approval_policy="never", sandbox_policy={"mode": "read-only"}), False),
    (ev.TurnContext(cwd="C:\\w", model="m", approval_policy="never", sandbox_policy=_SANDBOX), False),
    (ev.TurnContext(cwd="/w", approval_policy="never", sandbox_policy=_SANDBOX), False),
])
def test_settings_come_only_from_turn_contexts_codex_decodes(context, read):
    """An old `mode` sandbox tag, a Windows cwd or no model make Codex skip the line (rollout.readable)."""
    assert (settings_of(context) is not None) is read


def test_settings_come_from_turn_contexts_and_applied_thread_settings():
    """(model, effort) from a readable turn_context or a thread_settings_applied event."""
    context = ev.TurnContext(cwd="/w", model="m", effort="high", approval_policy="never", sandbox_policy=_SANDBOX)
    assert settings_of(context) == ("m", "high")
    applied = ev.ThreadSettingsAppliedEvent(thread_settings={"model": "g", "reasoning_effort": "medium", "cwd": "/p"})
    assert settings_of(applied) == ("g", "medium")
    windows = ev.ThreadSettingsAppliedEvent(thread_settings={"model": "g", "cwd": "C:\\p"})
    assert settings_of(windows) is None and settings_of(ev.AgentMessageEvent(message="x")) is None


def test_user_message_items_give_their_text():
    """Today's UserMessage items: the text parts, joined; images have no text."""
    content = [{"type": "text", "text": "hello"}, {"type": "image", "url": "x"}, {"type": "text", "text": "there"}]
    assert user_item_text(content) == "hello\nthere"
