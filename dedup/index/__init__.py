"""The persistent index: articles kept between runs, to ask "have we seen this story already?".

:class:`Index` scores new articles against those held as a run would; the stores behind it
(SQLite, Redis) only read and write; :mod:`dedup.index.run` is a batch run against an index.
"""

from dedup.index.index import Index, Match
from dedup.index.store import HeldIdError, IndexFileError

__all__ = ["HeldIdError", "Index", "IndexFileError", "Match"]
