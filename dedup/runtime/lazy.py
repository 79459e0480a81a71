"""Public names loaded on first use (PEP 562): a package's ``__getattr__`` and ``__dir__`` that
import a name's module only when the name is first asked for, so that ``import dedup`` and the
command line do not pay for numpy, SciPy and scikit-learn before they need them."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(
    package: str, homes: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` whose public names live in the modules
    ``homes`` gives (name → module); a name, once loaded, is kept in ``namespace`` (the package's
    ``globals()``) so that the next use finds it there."""

    def getattr_(name: str) -> Any:
        try:
            home = homes[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted(set(namespace) | set(homes))

    return getattr_, dir_
