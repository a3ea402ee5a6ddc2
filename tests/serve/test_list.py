"""thread/list as Codex filters, sorts and pages it."""

from __future__ import annotations

from ..store.conftest import meta, stamp, turn


async def seed(store) -> dict[str, str]:
    """Threads of several sources and providers, created one second apart (oldest first)."""
    kinds = {
        "cli": meta(source="cli"), "vscode": meta(source="vscode"), "exec": meta(source="exec"),
        "review": meta(source={"subagent": "review"}), "other-provider": meta(source="cli", model_provider="oss"),
        "no-provider": meta(source="cli", model_provider=None),
    }
    ids = {}
    for second, (name, m) in enumerate(kinds.items()):
        info = await store.start_thread(m.__class__(**{**_fields(m), "timestamp": stamp(second)}))
        await store.append(info.id, turn(f"{name}-1", f"question from {name}"))
        ids[name] = info.id
    return ids


def _fields(m):
    return {f: getattr(m, f) for f in m.__struct_fields__}


async def listed(client, **params) -> list[str]:
    return [t["id"] for t in (await client.call("thread/list", params))["data"]]


async def test_default_list_shows_interactive_threads_of_the_default_provider(server, connect):
    """Codex's thread/list {}: cli and vscode sources, provider openai (a missing provider counts as openai)."""
    ids = await seed(server.store)
    client = await connect()
    assert await listed(client) == [ids["no-provider"], ids["vscode"], ids["cli"]]
    assert set(await listed(client, modelProviders=[], sourceKinds=[])) == {
        ids["no-provider"], ids["other-provider"], ids["vscode"], ids["cli"]}
    assert await listed(client, sourceKinds=["exec"]) == [ids["exec"]]
    assert await listed(client, sourceKinds=["subAgentReview"]) == [ids["review"]]
    assert await listed(client, sourceKinds=["subAgentThreadSpawn"]) == []
    assert await listed(client, modelProviders=["oss"]) == [ids["other-provider"]]


async def test_included_and_excluded_ids_filter_before_the_limit(server, connect):
    """includedThreadIds restricts, excludedThreadIds removes, an empty include list matches nothing."""
    ids = await seed(server.store)
    client = await connect()
    assert await listed(client, includedThreadIds=[ids["cli"], ids["exec"]]) == [ids["cli"]]
    assert await listed(client, excludedThreadIds=[ids["vscode"]], limit=1) == [ids["no-provider"]]
    assert await listed(client, includedThreadIds=[]) == []


async def test_pages_cover_every_thread_once_in_both_directions(server, connect):
    """limit 1 pages walk all threads newest first; asc walks them oldest first; backwardsCursor turns around."""
    ids = await seed(server.store)
    client = await connect()
    everything = {"modelProviders": [], "sourceKinds": ["cli", "vscode", "exec", "subAgentReview"]}
    newest_first, cursor = [], None
    while True:
        page = await client.call("thread/list", {**everything, "limit": 1, "cursor": cursor})
        newest_first += [t["id"] for t in page["data"]]
        if (cursor := page["nextCursor"]) is None:
            break
    assert newest_first == list(reversed(ids.values()))
    oldest = await listed(client, **everything, sortDirection="asc", limit=2)
    assert oldest == list(ids.values())[:2]
    page = await client.call("thread/list", {**everything, "limit": 2})
    back = await client.call("thread/list", {**everything, "sortDirection": "asc", "cursor": page["backwardsCursor"]})
    assert back["data"][0]["id"] == page["data"][0]["id"]


async def test_archived_and_search_filters(server, connect):
    """archived: true lists only archived threads; searchTerm matches the preview."""
    ids = await seed(server.store)
    client = await connect()
    await client.call("thread/archive", {"threadId": ids["cli"]})
    assert await listed(client, archived=True) == [ids["cli"]]
    assert ids["cli"] not in await listed(client)
    assert await listed(client, searchTerm="from vscode") == [ids["vscode"]]
