"""dedup: find rewrites and machine-translation variants of news articles.

Library first: :func:`find_duplicates` for a batch of articles,
:class:`Detector` to stream articles through, :class:`Params` for settings.
"""

from dedup.article import Article, InputError
from dedup.params import Params
from dedup.pipeline import Cluster, Detector, Pair, Result, find_duplicates

__all__ = ["Article", "Cluster", "Detector", "InputError", "Pair", "Params", "Result", "find_duplicates"]
__version__ = "0.1.0"
