"""serve: Codex's app-server ``thread/*`` JSON-RPC API over any store (``rollout serve``).

Clients written for Codex's app-server (JSON-RPC without ``"jsonrpc"``, one JSON
object per message) read and write the engine's threads through it: over stdio,
a Unix socket or WebSocket (:mod:`serve.transport`), or mounted in an
application's own asyncio server::

    from serve import AppServer

    server = AppServer(store)
    conn = server.connect(send_to_client)      # notifications go to send_to_client(bytes)
    reply = await conn.handle(message)         # the reply's bytes, or None

Must not import: rollout.cli, rich. Only the CLI imports this package.
"""

__version__ = "0.1.0"

from .server import AppServer, Connection

__all__ = ["AppServer", "Connection", "__version__"]
