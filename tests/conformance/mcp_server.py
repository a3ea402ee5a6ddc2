"""A tiny stdio MCP server for the scenarios: one ``echo`` tool, newline-delimited JSON-RPC.

Codex starts it from the scenario home's ``config.toml`` (``[mcp_servers.tiny]``) and offers
its tool to the model as ``echo`` in the ``mcp__tiny`` namespace. Standard library only.

Must not import: the engine's packages (this is the oracle's side).
"""

from __future__ import annotations

import json
import sys

TOOLS = [{
    "name": "echo",
    "description": "Echo the text back",
    "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
}]


def answer(message: dict) -> dict:
    """The JSON-RPC reply to one request."""
    method, params = message.get("method"), message.get("params") or {}
    if method == "initialize":
        result = {"protocolVersion": params.get("protocolVersion", "2025-06-18"), "capabilities": {"tools": {}},
                  "serverInfo": {"name": "tiny", "version": "1.0"}}
    elif method == "tools/list":
        result = {"tools": TOOLS}
    elif method == "tools/call":
        arguments = params.get("arguments") or {}
        result = {"content": [{"type": "text", "text": f"echo: {arguments.get('text')}"}], "isError": False}
    else:
        return {"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": f"no method {method}"}}
    return {"jsonrpc": "2.0", "id": message["id"], "result": result}


def main() -> None:
    for raw in sys.stdin:
        message = json.loads(raw)
        if message.get("id") is None:
            continue  # a notification
        sys.stdout.write(json.dumps(answer(message)) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
