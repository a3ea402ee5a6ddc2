"""What a PostgreSQL DSN points at, said without its password.

Error messages name the server and database a store tried to reach, never the
password: :func:`target` reads host, port, database and user from a URL DSN
(``postgresql://user:secret@host:5432/db?...``) or a key/value one
(``host=h dbname=db password=secret``), falling back to libpq's environment
variables and defaults; :func:`redact` removes the password from any text
(a driver's message may quote the DSN).

Must not import: asyncpg, rollout.cli, rich.
"""

from __future__ import annotations

import getpass
import os
import re
import shlex
from urllib.parse import parse_qs, unquote, urlsplit

import msgspec

from rollout.errors import InvalidInput

__all__ = ["Target", "connect_args", "redact", "target"]

_SCHEMES = ("postgres://", "postgresql://")


class Target(msgspec.Struct, frozen=True, kw_only=True):
    """Where a DSN connects: enough to name it in one line, nothing secret."""

    host: str
    port: str
    database: str
    user: str
    password: str | None = None

    def describe(self) -> str:
        """``host:port database 'db' as user 'u'`` (the password is never shown)."""
        return f"{self.host}:{self.port} database {self.database!r} as user {self.user!r}"


def target(dsn: str) -> Target:
    """The server, database and user a DSN names (libpq defaults fill the gaps).

    Raises:
        InvalidInput: ``dsn`` is not a string.
    """
    if not isinstance(dsn, str):
        raise InvalidInput(f"a PostgreSQL DSN must be a string, not {type(dsn).__name__}")
    fields = _url_fields(dsn) if dsn.startswith(_SCHEMES) else _keyword_fields(dsn)
    env = os.environ
    user = fields.get("user") or env.get("PGUSER") or _login()
    host = fields.get("host") or env.get("PGHOST") or "localhost"
    return Target(
        host=host,
        port=fields.get("port") or env.get("PGPORT") or "5432",
        database=fields.get("dbname") or fields.get("database") or env.get("PGDATABASE") or user,
        user=user,
        password=fields.get("password") or None,
    )


def connect_args(dsn: str) -> tuple[str | None, dict[str, str]]:
    """``(dsn, keyword arguments)`` for asyncpg, which reads URL DSNs only: a key/value DSN becomes keywords."""
    if dsn.startswith(_SCHEMES):
        return dsn, {}
    fields = _keyword_fields(dsn)
    names = {"host": "host", "port": "port", "user": "user", "password": "password", "dbname": "database",
             "database": "database", "sslmode": "ssl", "passfile": "passfile"}
    unknown = sorted(set(fields) - set(names))
    if unknown:
        raise InvalidInput(f"unsupported DSN keywords: {', '.join(unknown)} (use a postgresql:// URL)")
    return None, {names[key]: value for key, value in fields.items()}


def redact(text: str, dsn: str) -> str:
    """``text`` with the DSN's password (and any ``password=...`` / ``user:secret@``) masked."""
    secret = _password_of(dsn)
    if secret:
        text = text.replace(secret, "***")
    text = re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", text, flags=re.IGNORECASE)
    return re.sub(r"(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)


def _password_of(dsn: object) -> str | None:
    try:
        return target(dsn).password if isinstance(dsn, str) else None
    except ValueError:
        return None


def _url_fields(dsn: str) -> dict[str, str]:
    try:
        parts = urlsplit(dsn)
        port = str(parts.port) if parts.port else ""
    except ValueError:  # a malformed port: keep what can be read, the driver reports the rest
        parts, port = urlsplit(re.sub(r":[^/@]*(?=/|$)", "", dsn)), ""
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    fields = {
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "host": unquote(parts.hostname or ""),
        "port": port,
        "dbname": unquote(parts.path.lstrip("/")),
    }
    return {**{k: v for k, v in fields.items() if v}, **query}


def _keyword_fields(dsn: str) -> dict[str, str]:
    try:
        words = shlex.split(dsn)
    except ValueError:
        words = dsn.split()
    pairs = (word.partition("=") for word in words)
    return {key.strip(): value for key, sep, value in pairs if sep}


def _login() -> str:
    try:
        return getpass.getuser()  # what libpq and asyncpg use
    except (OSError, KeyError):
        return "postgres"
