"""What a run finds, whichever engine ran it: verified pairs, clusters, cross-lingual links.

Every engine (:mod:`dedup.engines.local`, :mod:`dedup.engines.spark`) and the run against an
index (:mod:`dedup.index.run`) returns a :class:`Result` of these types, so they live apart
from all of them: a caller, a writer or a report needs only this module.
"""

from __future__ import annotations

import platform
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dedup.score.decision import Signals


@dataclass(frozen=True, slots=True)
class Pair:
    """A verified pair, ``a < b`` (ids), with every signal the decision used
    (:mod:`dedup.score.decision`): the MinHash Jaccard estimate (what made it a candidate), the TF-IDF
    ``cosine``, the ``sentence_match`` in order, ``order`` (that match over the match in any
    order: 1 when all that matched is in order), ``numbers`` (the agreement of their numbers,
    ``(shared + 1) / (fewer + 1)``; None when either states none), and the ``score``
    compared with the threshold. ``kind``: ``"verified"`` (measured), ``"exact"`` (exact copies,
    one normalised text: never measured, every signal 1) or ``"linked"`` (measured, under the
    threshold, but joined by the clustering through the other members; see
    :func:`dedup.cluster.spanning_pairs`)."""

    a: str
    b: str
    jaccard: float
    cosine: float
    sentence_match: float
    score: float
    order: float = 1.0
    numbers: float | None = None
    kind: str = "verified"

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "jaccard": self.jaccard,
            "cosine": self.cosine,
            "sentence_match": self.sentence_match,
            "order": self.order,
            "numbers": self.numbers,
            "score": self.score,
            "kind": self.kind,
        }

    @classmethod
    def exact(cls, a: str, b: str, *, numbers: bool) -> Pair:
        """Two exact copies (one normalised text): every signal 1, no pairwise work
        (``numbers``: whether the text states any, else its agreement is None)."""
        a, b = (a, b) if a < b else (b, a)
        return cls(a, b, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0 if numbers else None, "exact")

    @classmethod
    def of(cls, a: str, b: str, jaccard: float, signals: Signals, at: int, score: float) -> Pair:
        """The pair of ids ``a`` and ``b`` (either order) with the ``at``-th of ``signals``, rounded."""
        a, b = (a, b) if a < b else (b, a)
        cosine, match, order, numbers = signals.rounded(at)
        return cls(
            a, b, round(float(jaccard), 4), cosine, match, round(min(float(score), 1.0), 4), order, numbers
        )


@dataclass(frozen=True, slots=True)
class LanguageLink:
    """Two groups of articles in different languages found to tell one story (a cross-lingual
    run): ``a`` and ``b`` are their first members; ``cosine`` is the groups' fingerprint cosine,
    ``margin`` how far it stands out from their nearest other candidates' (see
    :mod:`dedup.crosslingual`)."""

    a: str
    b: str
    lang_a: str
    lang_b: str
    cosine: float
    margin: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Cluster:
    """A group of articles that are the same story; ``members`` include the representative.

    In a run against an index (``dedup run --index``), ``held`` lists the members the index
    already held; the representative is then one of them, and every member of the run is a
    duplicate."""

    cluster: int
    representative: str
    members: list[str]
    held: list[str] = field(default_factory=list)
    languages: dict[str, str] = field(default_factory=dict)

    @property
    def duplicates(self) -> list[str]:
        """The run's members other than the representative (dropped from the deduplicated output)."""
        held = set(self.held)
        return [m for m in self.members if m != self.representative and m not in held]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "cluster": self.cluster,
            "representative": self.representative,
            "members": list(self.members),
        }
        if self.held:
            out["held"] = list(self.held)
        if self.languages:
            out["languages"] = dict(self.languages)
        return out


@dataclass
class Result:
    """What a run found: verified ``pairs``, ``clusters`` of >= 2 articles, and a ``summary``;
    each article's detected ``languages`` (id -> ISO 639-1 code), and, in a cross-lingual run,
    the ``links`` that joined groups across languages."""

    pairs: list[Pair]
    clusters: list[Cluster]
    summary: dict[str, Any] = field(default_factory=dict)
    languages: dict[str, str] = field(default_factory=dict)
    links: list[LanguageLink] = field(default_factory=list)
    _member_of: dict[str, Cluster] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def duplicates(self) -> set[str]:
        """Ids removed from the deduplicated output (non-representative cluster members)."""
        return {d for c in self.clusters for d in c.duplicates}

    def cluster_of(self, article_id: str) -> Cluster | None:
        """The cluster holding ``article_id``, or None if it has no duplicate."""
        if self._member_of is None:
            self._member_of = {m: c for c in self.clusters for m in c.members}
        return self._member_of.get(article_id)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a run decided of one article, as ``annotated.<format>`` and ``removed.<format>`` say it:
    its ``cluster`` (None: no duplicate), the kept article it duplicates (``duplicate_of``; None
    when it is kept), the ``score`` that joined it to its cluster (see :func:`verdicts`), and
    whether it is ``kept`` in ``deduplicated.<format>``."""

    cluster: int | None = None
    duplicate_of: str | None = None
    score: float | None = None
    kept: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "duplicate_of": self.duplicate_of,
            "score": self.score,
            "kept": self.kept,
        }


KEPT = Verdict()
"""The verdict of an article in no cluster."""


def verdicts(result: Result) -> dict[str, Verdict]:
    """The :class:`Verdict` of every article in a cluster (any other article's is :data:`KEPT`).

    A duplicate's ``score`` is that of its pair with the representative when ``pairs.jsonl``
    lists it; otherwise (the pairs list a tree of each cluster, not all its pairs) that of the
    pair by which it joins the tree on its way to the representative, the first step of the path
    ``pairs.jsonl`` shows. The representative's is None (it is kept; its pairs are the others').
    """
    edges: dict[str, list[tuple[str, float]]] = {}
    for p in result.pairs:
        edges.setdefault(p.a, []).append((p.b, p.score))
        edges.setdefault(p.b, []).append((p.a, p.score))
    out: dict[str, Verdict] = {}
    for c in result.clusters:
        members = set(c.members)
        rep = c.representative
        joined: dict[str, float] = {}  # member -> the score of its step towards the representative
        todo, seen = deque([rep]), {rep}
        while todo:  # (breadth first from the representative: each member's parent on the tree)
            here = todo.popleft()
            for there, value in edges.get(here, ()):
                if there in members and there not in seen:
                    seen.add(there)
                    joined[there] = value
                    todo.append(there)
        held = set(c.held)
        for m in c.members:
            if m in held:
                continue
            if m == rep:
                out[m] = Verdict(c.cluster, None, None, True)
            else:
                fallback = max((v for other, v in edges.get(m, ()) if other in members), default=None)
                out[m] = Verdict(c.cluster, rep, joined.get(m, fallback), False)
    return out


def versions() -> dict[str, str]:
    """Versions of dedup and the libraries whose behaviour shapes its results."""
    from importlib.metadata import PackageNotFoundError, version

    from dedup.version import __version__

    out = {"python": platform.python_version(), "dedup": __version__}
    for name in ("datasketch", "scikit-learn", "numpy", "scipy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "unknown"
    return out
