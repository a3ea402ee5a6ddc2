"""The one keyset-and-filter condition every SQL backend uses (store.listing.sql_conditions)."""

from __future__ import annotations

from store.listing import encode_cursor, list_query, sql_conditions


def _query(**changes):
    base = dict(limit=10, cursor=None, sort="updated_at", archived=False, source=None, model_provider=None,
                cwd=["/a", "/b"], search=None)
    return list_query(**{**base, **changes})


def test_conditions_with_qmark_placeholders():
    """Filters, then the (sort key, id) keyset, each value a parameter in order."""
    cursor = encode_cursor("updated_at", 1234, "019e0000-0000-7000-8000-000000000001")
    where, params = sql_conditions(_query(cursor=cursor))
    assert where == ["archived = ?", "source_kind IN (?, ?)", "model_provider IN (?)", "cwd IN (?, ?)",
                     "(updated_ms, id) < (?, ?)"]
    assert params == [0, "cli", "vscode", "openai", "/a", "/b", 1234, "019e0000-0000-7000-8000-000000000001"]


def test_conditions_with_numbered_placeholders_and_no_filters():
    """asyncpg's $n numbering starts where the caller says; [] filters and archived=None add nothing."""
    where, params = sql_conditions(_query(archived=None, source=[], model_provider=[], cwd=None), numbered=3)
    assert (where, params) == ([], [])
    where, params = sql_conditions(_query(archived=True, source=[], model_provider=["x"], cwd=None), numbered=3)
    assert where == ["archived = $3", "model_provider IN ($4)"] and params == [1, "x"]
