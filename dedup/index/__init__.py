"""The persistent index: articles kept between runs, to ask "have we seen this story already?".

:class:`Index` scores new articles against those held as a run would; the stores behind it
(SQLite, Redis) only read and write; :mod:`dedup.index.run` is a batch run against an index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dedup.runtime.lazy import lazy_names

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

__getattr__, __dir__ = lazy_names(__name__, _HOMES, globals())
