"""Where a command's output goes: JSON Lines, or rich renderables on a console.

:class:`Output` is handed to every command. In ``--json`` mode it writes one
compact JSON document per line and never loads rich; otherwise it prints the
renderables :mod:`rollout.cli.render` builds. Colour follows ``--color``
(``auto``: only on a terminal, and never when ``NO_COLOR`` is set).

Must not import: rich (render does, lazily, when a console is first needed).
"""

from __future__ import annotations

import sys
from typing import IO, Any

from ..codec import encode_payload

__all__ = ["Output"]


class Output:
    """Output streams and mode of one command run.

    Args:
        json: write JSON Lines instead of rich output.
        color: ``"auto"``, ``"always"`` or ``"never"``.
        stdout, stderr: text streams (default: the current ``sys.stdout``/``sys.stderr``).
    """

    def __init__(
        self,
        *,
        json: bool = False,
        color: str = "auto",
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
    ) -> None:
        self.json = json
        self.color = color
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr
        self._console: Any = None
        self._err_console: Any = None

    @property
    def console(self) -> Any:
        """The rich console on stdout (created on first use)."""
        if self._console is None:
            from . import render

            self._console = render.make_console(self.stdout, color=self.color)
        return self._console

    @property
    def err_console(self) -> Any:
        """The rich console on stderr, for progress bars."""
        if self._err_console is None:
            from . import render

            self._err_console = render.make_console(self.stderr, color=self.color)
        return self._err_console

    def show(self, renderable: Any, *, whole: bool = False) -> None:
        """Print a rich renderable on stdout.

        Args:
            whole: never wrap or crop it (``file:line: reason`` lines stay greppable).
        """
        self.console.print(renderable, soft_wrap=whole)

    def emit(self, value: Any) -> None:
        """Write one value as a JSON line (msgspec Structs, model payloads, dicts)."""
        self.stdout.write(encode_payload(value).decode())
        self.stdout.write("\n")

    def emit_raw(self, record: bytes) -> None:
        """Write one already-encoded JSON record as a line."""
        self.stdout.write(record.decode("utf-8", "replace"))
        self.stdout.write("\n")

    def write_bytes(self, payload: bytes) -> None:
        """Write bytes as they are (a rollout, a page) to stdout, through its binary buffer when it has one."""
        buffer = getattr(self.stdout, "buffer", None)
        if buffer is None:
            self.stdout.write(payload.decode("utf-8", "replace"))
            return
        self.stdout.flush()
        buffer.write(payload)
        buffer.flush()

    def error(self, message: str) -> None:
        """Print the one ``error:`` line of a failed command on stderr."""
        self.stderr.write(f"error: {message}\n")
        self.stderr.flush()

    def note(self, message: str) -> None:
        """Print a short human note on stderr (never in ``--json`` mode)."""
        if not self.json:
            self.stderr.write(f"{message}\n")
