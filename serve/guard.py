"""Who may open a WebSocket: Host and Origin checks, and an optional bearer token.

* **Host** (against DNS rebinding): a page on ``evil.example`` that re-points its
  name at 127.0.0.1 still sends ``Host: evil.example``. Only loopback names and
  addresses (``localhost``, ``127.0.0.1``, ``[::1]``), the address the server is
  bound to, and names given with ``--allow-host`` are accepted.
* **Origin** (against cross-site pages): browsers send it, other clients
  usually do not. A request without one passes; one with an Origin passes only
  if that origin was allowed with ``--allow-origin``.
* **Token**: with a token configured, every upgrade needs
  ``Authorization: Bearer <token>`` (compared in constant time). A non-loopback
  listener refuses to start without one (see :func:`check_bind`).

A refused upgrade gets an HTTP 403 (401 for a missing or wrong token) and the
reason in the body; it is logged without the token.

Must not import: rollout.cli, rich.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Guard", "check_bind", "is_loopback"]

log = logging.getLogger("serve.guard")

_LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address, brackets allowed) is loopback."""
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse a listener reachable from other machines unless a token protects it.

    Raises:
        ValueError: ``host`` is not loopback and no token is set.
    """
    if not is_loopback(host) and not token:
        raise ValueError(
            f"refusing to listen on {host}, which other machines can reach, without a token: "
            "set ROLLOUT_SERVE_TOKEN (clients send 'Authorization: Bearer <token>')"
        )


def _host_name(value: str) -> str:
    return urlsplit(f"//{value}").hostname or ""


class Guard:
    """The WebSocket upgrade check (``process_request`` of ``websockets``)."""

    def __init__(self, bind_host: str, *, token: str | None = None, allow_hosts: tuple[str, ...] = (),
                 allow_origins: tuple[str, ...] = ()) -> None:
        self._token = token.encode() if token else None
        self._hosts = {h.lower() for h in allow_hosts} | {bind_host.strip("[]").lower()}
        self._origins = {o.rstrip("/").lower() for o in allow_origins}

    def refusal(self, headers: Any) -> tuple[HTTPStatus, str] | None:
        """Why an upgrade with these headers is refused, or None to accept it."""
        host = _host_name(headers.get("Host", ""))
        if not (is_loopback(host) or host in self._hosts):
            return HTTPStatus.FORBIDDEN, f"Host {host or '(none)'} is not allowed"
        origin = headers.get("Origin")
        if origin is not None and origin.rstrip("/").lower() not in self._origins:
            return HTTPStatus.FORBIDDEN, f"Origin {origin} is not allowed"
        if self._token is not None:
            given = headers.get("Authorization", "")
            scheme, _, value = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), self._token):
                return HTTPStatus.UNAUTHORIZED, "a valid bearer token is required"
        return None

    def check(self, connection: Any, request: Any) -> Any:
        """``process_request`` hook: None accepts, a response refuses."""
        refused = self.refusal(request.headers)
        if refused is None:
            return None
        status, reason = refused
        log.warning("refused a WebSocket client: %s", reason)
        return connection.respond(status, reason + "\n")
