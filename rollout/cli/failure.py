"""The command's own failures, beside :class:`rollout.errors.RolloutError`.

``main`` turns a :class:`UsageError` into exit status 2 and every other
``RolloutError`` (these included) into one ``error:`` line and exit status 1.

Must not import: rich, store.
"""

from __future__ import annotations

from ..errors import RolloutError

__all__ = ["CommandError", "NoRollouts", "UsageError"]


class CommandError(RolloutError):
    """The command cannot do what was asked (a turn that does not exist, ...): exit 1."""


class NoRollouts(CommandError):
    """A folder holds no rollout file."""


class UsageError(CommandError):
    """The arguments do not make sense together: exit 2, like an argparse error."""
