"""PEP 562 lazy exports: a package's public names, each imported from its submodule on first use.

``rollout``, ``replay`` and ``store`` use it so that importing the package (or one of its
submodules) does not load every other submodule: ``rollout --version`` loads no codec and
``import store`` no backend.

Must not import: anything beyond the standard library.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Mapping
from importlib import import_module
from typing import Any

__all__ = ["exports"]


def exports(package: str, where: Mapping[str, str], submodules: Collection[str] = (),
            needs: Mapping[str, str] | None = None) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``.

    Args:
        package: the package's ``__name__``.
        where: each public name and the submodule (relative) defining it.
        submodules: submodules reachable as attributes once asked for.
        needs: for names whose submodule needs an optional dependency, what to install
            (said in the ImportError).
    """
    module = sys.modules[package]

    def __getattr__(name: str) -> Any:
        if name in submodules:
            return import_module(f".{name}", package)  # importing a submodule binds it on the package
        source = where.get(name)
        if source is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        try:
            value = getattr(import_module(f".{source}", package), name)
        except ImportError as exc:
            if needs is None or name not in needs:
                raise
            raise ImportError(f"{name} needs {needs[name]} ({exc})") from exc
        setattr(module, name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(module), *where, *submodules})

    return __getattr__, __dir__
