"""dedup: find rewrites and machine-translation variants of news articles.

Library first: :func:`find_duplicates` for a batch of articles,
:class:`Detector` to stream articles through, :class:`Params` for settings;
:class:`Index` to check new articles against those seen before, kept on disk;
:func:`align` to show which paragraphs of two variants match; :func:`deduplicate` for what
``dedup run`` does (files in, a run folder out).
"""

from dedup.api import find_duplicates
from dedup.engines.local import Detector
from dedup.index import Index, IndexFileError, Match
from dedup.io.article import Article, InputError
from dedup.params import Params
from dedup.report.align import align
from dedup.report.alignment import Alignment, Link
from dedup.result import Cluster, Pair, Result, Verdict
from dedup.runs import OutFolderError, deduplicate
from dedup.version import __version__

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
