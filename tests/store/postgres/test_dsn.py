"""A wrong DSN gives one clear line naming host and database, never the password."""

from __future__ import annotations

import pytest

from rollout.errors import InvalidInput, StoreError
from store.postgres.database import Database
from store.postgres.dsn import connect_args, redact, target

SECRET = "pa55-w0rd-XYZ"


def test_target_reads_url_dsns():
    """Host, port, database and user come from the URL; the password is kept apart."""
    found = target(f"postgresql://alice:{SECRET}@db.example:6543/threads?sslmode=disable")
    assert found.describe() == "db.example:6543 database 'threads' as user 'alice'"
    assert found.password == SECRET
    assert SECRET not in found.describe()


def test_target_reads_keyword_dsns_and_libpq_defaults(monkeypatch):
    """Key/value DSNs work, and missing parts come from PG* variables as libpq does."""
    monkeypatch.setenv("PGHOST", "envhost")
    monkeypatch.setenv("PGUSER", "envuser")
    assert target(f"dbname=d password='{SECRET}'").describe() == "envhost:5432 database 'd' as user 'envuser'"
    assert target("host=h port=7 dbname=d user=u").describe() == "h:7 database 'd' as user 'u'"


def test_keyword_dsns_become_driver_keywords():
    """asyncpg reads URLs only: key/value DSNs are handed over as keywords; unknown ones are refused."""
    assert connect_args("host=h port=7 dbname=d") == (None, {"host": "h", "port": "7", "database": "d"})
    assert connect_args("postgresql://h/d") == ("postgresql://h/d", {})
    with pytest.raises(InvalidInput, match="unsupported DSN keywords: bogus"):
        connect_args("host=h bogus=1")


def test_redact_masks_passwords_in_any_form():
    """The DSN's password, ``password=`` words and ``user:secret@`` URLs are all masked."""
    dsn = f"postgresql://alice:{SECRET}@h/d"
    text = f"failed for {dsn} (password={SECRET}) and postgres://bob:other@h2/x"
    masked = redact(text, dsn)
    assert SECRET not in masked and "other" not in masked
    assert "alice:***@h/d" in masked and "bob:***@h2" in masked


@pytest.mark.parametrize("user, tail, reason", [
    ("postgres", "@127.0.0.1:1/test", "connection refused"),
    ("postgres", "@127.0.0.1:5432/no_such_database_here", 'database "no_such_database_here" does not exist'),
    ("rollout_nobody", "@127.0.0.1:5432/test", 'role "rollout_nobody" does not exist'),
    ("postgres", "@no-such-host.invalid:5432/test", ""),
])
async def test_a_wrong_dsn_fails_with_one_line_naming_host_and_database(dsn, user, tail, reason):
    """Refused port, unknown database, role or host: one line, host and database named, no password."""
    wrong = f"postgresql://{user}:{SECRET}{tail}"
    with pytest.raises(StoreError) as caught:
        await Database.connect(wrong, schema="t_never_created", timeout=5)
    message = str(caught.value)
    where = target(wrong)
    assert message.startswith(f"cannot connect to PostgreSQL at {where.host}:{where.port} database '{where.database}'")
    assert reason in message
    assert "\n" not in message and SECRET not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
