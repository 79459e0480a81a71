"""The facts of each step of the decision for one pair, as data: the LSH step, each signal, the
numbers, the clustering step (the merge that joined or refused them), what the run recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dedup.explain.format import decimals, own_scores, plural_articles, rounded


class ExplainError(ValueError):
    """The pair cannot be explained (an unknown id, a run folder or inputs that cannot be read);
    ``str(err)`` is one line that says which."""


@dataclass(frozen=True)
class Candidates:
    """The LSH step: whether the two articles became a candidate pair, and why.

    Attributes:
        candidates: they were a candidate pair (only candidates are verified directly).
        shared_bands: bands of the signature in which the two agree on every row (one is
            enough, unless the bucket was larger than ``max_bucket``: see ``note``).
        bands, rows: the banding in force.
        jaccard: the MinHash estimate of their shingle sets' Jaccard (None: an article has none).
        probability: the chance that two sets of that Jaccard become candidates (None: as ``jaccard``).
        note: why the rule did not apply as usual (an article without shingles, an oversized bucket).
    """

    candidates: bool
    shared_bands: int
    bands: int
    rows: int
    jaccard: float | None
    probability: float | None
    note: str | None = None


@dataclass(frozen=True)
class Signal:
    """One signal of :class:`dedup.score.decision.Signals` for the pair: its value (None: not measured,
    NaN in the run) and the rule it enters."""

    name: str
    value: float | None
    rule: str


@dataclass(frozen=True)
class NumberFacts:
    """The numbers behind the ``numbers`` signal (:func:`dedup.text.numbers.numbers`): the distinct
    values each text states, in order of first mention, and which are shared."""

    a: list[str]
    b: list[str]
    shared: list[str]
    only_a: list[str]
    only_b: list[str]


@dataclass(frozen=True)
class Merge:
    """One merge of the linkage tree: two groups (sides) of articles, and how the cut judged it.

    Attributes:
        sizes: the members of each side.
        members: their ids (in input order).
        holds: which of the pair each side holds: ``"A"``, ``"B"`` or None (the first side is
            the one on the pair's way).
        cross: the two sides' mean cross score (average linkage; complete linkage: the lowest).
        own: each side's own mean score over its pairs (None for one member).
        threshold: the score a merge must reach.
        cohesion: the cohesion factor (0: the rule is off or does not apply to this merge).
        cohesion_limit: ``cohesion`` times the lower own mean, when both sides have two or more
            members (the rule applies), else None.
        refused_by: ``"threshold"``, ``"cohesion"`` or None (the merge passes).
        method: the linkage, ``"average"`` or ``"complete"``.
    """

    sizes: tuple[int, int]
    members: tuple[list[str], list[str]]
    holds: tuple[str | None, str | None]
    cross: float
    own: tuple[float | None, float | None]
    threshold: float
    cohesion: float
    cohesion_limit: float | None
    refused_by: str | None
    method: str = "average"

    @property
    def passes(self) -> bool:
        return self.refused_by is None

    def describe(self) -> str:
        """One phrase: the two groups, their cross score and the rule it met or failed."""
        sides = f"the merge of {plural_articles(self.sizes[0])} and {plural_articles(self.sizes[1])}"
        cross = f"{'cross mean' if self.method == 'average' else 'lowest cross score'} {decimals(self.cross)}"
        if self.refused_by == "threshold":
            return f"{sides} was refused by the threshold: {cross} < {decimals(self.threshold)}"
        limit = ""
        if self.cohesion_limit is not None:
            lower = min(o for o in self.own if o is not None)
            limit = (
                f"{self.cohesion:g} × {decimals(lower)} (the lower of the two groups' own means, "
                f"{own_scores(self.own)}) = {decimals(self.cohesion_limit)}"
            )
        if self.refused_by == "cohesion":
            return (
                f"{sides} was refused by the cohesion rule: the {cross} reaches the threshold "
                f"{decimals(self.threshold)} but is under {limit}"
            )
        rule = f"{cross} ≥ threshold {decimals(self.threshold)}" + (f" and ≥ {limit}" if limit else "")
        return f"{sides} passed: {rule}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "sizes": list(self.sizes),
            "members": [list(self.members[0]), list(self.members[1])],
            "holds": list(self.holds),
            "cross": rounded(self.cross),
            "own": [rounded(o) for o in self.own],
            "threshold": self.threshold,
            "cohesion": self.cohesion,
            "cohesion_limit": rounded(self.cohesion_limit),
            "passes": self.passes,
            "refused_by": self.refused_by,
            "method": self.method,
        }


@dataclass(frozen=True)
class Clustering:
    """The clustering step for the pair.

    Attributes:
        component_sizes: the sizes of the connected components (of verified pairs) holding A and B
            (1: in no verified pair).
        same_component: A and B are linked by a chain of verified pairs (only then can the
            linkage join them).
        method: how the component was clustered: ``"average"``, ``"complete"`` linkage, or
            ``"whole"`` (kept as it is: two members, single linkage, or too large to re-cluster), or
            ``"exact"`` (A and B are exact copies, one member of the run), or ``"family"`` (a
            component over :data:`~dedup.cluster.FAMILY_SIZE`, clustered from its units).
        reason: why it was kept whole (None when re-clustered).
        joining: the merge of the tree that joins A's group with B's (re-clustered components).
        refused: the first merge on the way from A and from B up to ``joining`` that was
            refused, or that could not be made because a merge inside its other side was (a
            refused merge splits every merge above it); None when they stay together.
        refused_where: ``"joining"`` (``refused`` is ``joining``), ``"on the way"`` (a merge
            below it on the way of A or B) or ``"inside"`` (a merge inside a group that was to
            join A's or B's on the way).
        together: the linkage left A and B in one group.
    """

    component_sizes: tuple[int, int]
    same_component: bool
    method: str | None = None
    reason: str | None = None
    joining: Merge | None = None
    refused: Merge | None = None
    refused_where: str | None = None
    together: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "component_sizes": list(self.component_sizes),
            "same_component": self.same_component,
            "method": self.method,
            "reason": self.reason,
            "joining": None if self.joining is None else self.joining.to_dict(),
            "refused": None if self.refused is None else self.refused.to_dict(),
            "refused_where": self.refused_where,
            "together": self.together,
        }


@dataclass(frozen=True)
class Recorded:
    """What the run's output folder says of the pair, and whether it agrees with the recomputation.

    Attributes:
        pair: the pair's line of ``pairs.jsonl`` (None: not a verified pair there).
        clusters: the cluster of A and of B in ``clusters.jsonl`` (None: in none).
        differences: how the recomputation differs (empty: it agrees).
    """

    pair: dict[str, Any] | None
    clusters: tuple[int | None, int | None]
    differences: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        return {
            "pair": self.pair,
            "clusters": list(self.clusters),
            "agrees": self.agrees,
            "differences": list(self.differences),
        }
