"""The persistent index: articles kept between runs, to ask "have we seen this story already?".

:class:`Index` scores new articles against those held as a run would; the stores behind it
(SQLite, Redis) only read and write; :mod:`dedup.index.run` is a batch run against an index.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dedup.index.index import Index, Match
    from dedup.index.store import HeldIdError, IndexFileError

# Loaded on first use (PEP 562), as the package's own names are: the store's errors and its
# location helpers are wanted by every command line, the scoring behind Index only by some.
_HOMES = {
    "Index": "dedup.index.index",
    "Match": "dedup.index.index",
    "HeldIdError": "dedup.index.store",
    "IndexFileError": "dedup.index.store",
}

__all__ = ["HeldIdError", "Index", "IndexFileError", "Match"]


def __getattr__(name: str) -> Any:
    """Load a public name's module on first use (PEP 562) and keep the name here after."""
    try:
        home = _HOMES[name]
    except KeyError:
        raise AttributeError(f"module 'dedup.index' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
