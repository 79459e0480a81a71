"""dedup: find rewrites and machine-translation variants of news articles.

Library first: :func:`find_duplicates` for a batch of articles,
:class:`Detector` to stream articles through, :class:`Params` for settings;
:class:`Index` to check new articles against those seen before, kept on disk;
:func:`align` to show which paragraphs of two variants match; :func:`deduplicate` for what
``dedup run`` does (files in, a run folder out).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dedup.runtime.lazy import lazy_names
from dedup.version import __version__

if TYPE_CHECKING:
    from dedup.api import find_duplicates
    from dedup.engines.local import Detector
    from dedup.index import Index, IndexFileError, Match
    from dedup.io.article import Article, InputError
    from dedup.params import Params
    from dedup.report.align import align
    from dedup.report.alignment import Alignment, Link
    from dedup.result import Cluster, Pair, Result, Verdict
    from dedup.runs import OutFolderError, deduplicate

# Each public name and the module it lives in: ``import dedup`` loads none of them (numpy, SciPy
# and scikit-learn take most of a second to import); the first use of a name loads its module
# (PEP 562), so ``dedup --help`` and a script that only needs ``dedup.Params`` start fast.
_HOMES = {
    "find_duplicates": "dedup.api",
    "Detector": "dedup.engines.local",
    "Index": "dedup.index",
    "IndexFileError": "dedup.index",
    "Match": "dedup.index",
    "Article": "dedup.io.article",
    "InputError": "dedup.io.article",
    "Params": "dedup.params",
    "align": "dedup.report.align",
    "Alignment": "dedup.report.alignment",
    "Link": "dedup.report.alignment",
    "Cluster": "dedup.result",
    "Pair": "dedup.result",
    "Result": "dedup.result",
    "Verdict": "dedup.result",
    "OutFolderError": "dedup.runs",
    "deduplicate": "dedup.runs",
}

__all__ = [
    "Alignment",
    "Article",
    "Cluster",
    "Detector",
    "Index",
    "IndexFileError",
    "InputError",
    "Link",
    "Match",
    "OutFolderError",
    "Pair",
    "Params",
    "Result",
    "Verdict",
    "align",
    "deduplicate",
    "find_duplicates",
    "__version__",
]

__getattr__, __dir__ = lazy_names(__name__, _HOMES, globals())
