"""From verified pairs to clusters: components re-clustered in batches (:func:`cluster_pairs`),
the pairs that span each cluster, and its representative."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from dedup.cluster.families import split_family
from dedup.cluster.linkage import LINKAGES, MAX_RECLUSTER, components, split_component

REPRESENTATIVES = ("longest", "first")


SIMILARITY_CELLS = 4_000_000
"""Similarity values asked for at once (a batch of components to re-cluster)."""


@dataclass(frozen=True, slots=True)
class Cluster:
    """Articles found to be the same story: one representative, the others duplicates."""

    representative: int
    members: tuple[int, ...]  # all members, representative included, in input order


def _batches(groups: list[np.ndarray], cells: int) -> Iterator[list[np.ndarray]]:
    """Consecutive runs of ``groups`` whose similarity matrices hold about ``cells`` values."""
    batch: list[np.ndarray] = []
    held = 0
    for members in groups:
        batch.append(members)
        held += len(members) ** 2
        if held >= cells:
            yield batch
            batch, held = [], 0
    if batch:
        yield batch


def cluster_pairs(
    n: int,
    pairs: np.ndarray,
    *,
    similarity: Callable[[list[np.ndarray]], list[np.ndarray]],
    threshold: float,
    linkage_method: str = "average",
    cohesion: float = 0.0,
    scores: np.ndarray | None = None,
    score_pairs: Callable[[np.ndarray], np.ndarray] | None = None,
    family_size: int | None = None,
) -> list[np.ndarray]:
    """Clusters (arrays of node indices, sorted, each of size >= 2) from verified pairs.

    Args:
        n: number of nodes (articles).
        pairs: ``(k, 2)`` verified pairs.
        similarity: given the sorted member indices of each component to
            re-cluster, their ``(m, m)`` similarity matrices (one call for many
            components, about ``SIMILARITY_CELLS`` values at a time, so that the
            scores are computed in batches and memory stays bounded).
        threshold: similarity at which the linkage still merges two groups.
        linkage_method: ``"single"`` (plain connected components),
            ``"average"`` or ``"complete"``.
        cohesion: with average linkage, the group-level rule of :func:`cut_tree` (0: off).
        family_size: with average linkage, components larger than this are clustered by
            :func:`split_family`, from the verified pairs' ``scores`` and ``score_pairs`` (the
            scores of any pairs); None: every component from all its pairs.
    """
    if linkage_method not in LINKAGES:
        raise ValueError(f"linkage must be one of {LINKAGES}, got {linkage_method!r}")
    labels = components(n, pairs)
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    out: list[np.ndarray] = []
    recluster: list[np.ndarray] = []
    families = family_size is not None and linkage_method == "average"
    if families and (scores is None or score_pairs is None):
        raise ValueError("family_size needs the verified pairs' scores and score_pairs")
    by_label = np.argsort(labels[pairs[:, 0]], kind="stable") if families and len(pairs) else None
    edge_labels = labels[pairs[by_label, 0]] if by_label is not None else None
    for members in np.split(order, bounds):
        if len(members) < 2:
            continue
        members = np.sort(members)
        if families and len(members) > family_size:  # type: ignore[operator]
            assert by_label is not None and edge_labels is not None and scores is not None
            label = labels[members[0]]
            at = by_label[np.searchsorted(edge_labels, label) : np.searchsorted(edge_labels, label, "right")]
            parts = split_family(members, pairs[at], scores[at], score_pairs, threshold, cohesion)  # type: ignore[arg-type]
            out.extend(part for part in parts if len(part) >= 2)
        elif linkage_method == "single" or len(members) == 2 or len(members) > MAX_RECLUSTER:
            out.append(members)
        else:
            recluster.append(members)
    for batch in _batches(recluster, SIMILARITY_CELLS):
        for members, sim in zip(batch, similarity(batch), strict=True):
            parts = split_component(members, sim, threshold, linkage_method, cohesion)
            out.extend(part for part in parts if len(part) >= 2)
    out.sort(key=lambda m: int(m[0]))
    return out


class IdForest:
    """Disjoint sets of ids (union-find, with path halving): the smaller id of a set is its
    root, so the sets do not depend on the order of the unions. Ids are strings, or positions
    (:func:`spanning_positions`)."""

    def __init__(self) -> None:
        self.parent: dict[Any, Any] = {}

    def find(self, x: Any) -> Any:
        """The root of ``x``'s set (``x`` joins the forest alone if new)."""
        parent = self.parent
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: Any, b: Any) -> bool:
        """Join the sets of ``a`` and ``b``; False if they were one already."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self.parent[max(ra, rb)] = min(ra, rb)
        return True

    def __iter__(self) -> Iterator[Any]:
        return iter(self.parent)


class PairLike(Protocol):
    a: str
    b: str
    score: float
    kind: str


def spanning_pairs(
    clusters: Sequence[tuple[str, Sequence[str]]], pairs: Sequence[PairLike]
) -> tuple[list[int], list[tuple[str, str]]]:
    """The pairs that made each cluster: for clusters given as ``(representative, members)``,
    the positions in ``pairs`` (verified and exact pairs, by id) of a spanning tree of each
    cluster, one pair per member but its representative, so that what a run lists grows with
    its articles, not with the square of its families.

    The tree takes first the pairs with the representative (a reader compares each duplicate
    with the article kept), then exact copies, then the highest scores (Kruskal's rule; ties
    by ids, so the tree does not depend on the input order). A member the linkage put in the
    cluster without a listed pair to it comes back in the second list, as
    ``(representative, the first id of its part)``, for the caller to measure."""
    where: dict[str, int] = {}
    for k, (_, members) in enumerate(clusters):
        for x in members:
            where[x] = k
    reps = [rep for rep, _ in clusters]
    inside = [
        (k, q) for k, q in enumerate(pairs) if (c := where.get(q.a)) is not None and c == where.get(q.b)
    ]

    def priority(item: tuple[int, PairLike]) -> tuple[bool, bool, float, str, str]:
        q = item[1]
        rep = reps[where[q.a]]
        return (rep not in (q.a, q.b), q.kind != "exact", -q.score, q.a, q.b)

    forest = IdForest()
    kept = [k for k, q in sorted(inside, key=priority) if forest.union(q.a, q.b)]
    missing = []
    for rep, members in clusters:
        seen = {forest.find(rep)}
        for x in sorted(members):
            if (r := forest.find(x)) not in seen:
                seen.add(r)
                missing.append((rep, x))
    return sorted(kept), missing


def spanning_positions(
    groups: Sequence[np.ndarray],
    reps: np.ndarray,
    pairs: np.ndarray,
    exact: np.ndarray,
    scores: np.ndarray,
    rank: np.ndarray,
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """:func:`spanning_pairs` over article positions, for a run of millions: the same tree by
    the same rule, from arrays, with no object per pair.

    Args:
        groups: each cluster's members (positions); ``reps``: each cluster's representative.
        pairs: ``(k, 2)`` positions of the verified and exact pairs; ``exact``: which are exact
            copies; ``scores``: their scores as listed (rounded as in ``pairs.jsonl``).
        rank: each article's rank by id (the ties are broken by ids, as in :func:`spanning_pairs`).

    Returns:
        The indices in ``pairs`` of each cluster's tree (ascending), and each member left out
        of its representative's part as ``(representative, its part's member of lowest id)``.
    """
    label = np.full(len(rank), -1, dtype=np.int64)
    for k, members in enumerate(groups):
        label[members] = k
    a, b = pairs[:, 0], pairs[:, 1]
    inside = np.flatnonzero((label[a] >= 0) & (label[a] == label[b]))
    ia, ib = a[inside], b[inside]
    swap = rank[ia] > rank[ib]
    lo, hi = np.where(swap, ib, ia), np.where(swap, ia, ib)  # (a pair's ids in order)
    rep = np.asarray(reps, dtype=np.int64)[label[ia]]
    off_rep = (ia != rep) & (ib != rep)
    order = np.lexsort((rank[hi], rank[lo], -scores[inside], ~exact[inside], off_rep))
    forest = IdForest()
    kept = [
        k
        for k, x, y in zip(inside[order].tolist(), lo[order].tolist(), hi[order].tolist(), strict=True)
        if forest.union(x, y)
    ]
    missing = []
    for r, members in zip(np.asarray(reps).tolist(), groups, strict=True):
        seen = {forest.find(r)}
        for x in members[np.argsort(rank[members], kind="stable")].tolist():
            if (root := forest.find(x)) not in seen:
                seen.add(root)
                missing.append((r, x))
    return np.sort(np.asarray(kept, dtype=np.int64)), missing


def choose_representative(
    members: np.ndarray,
    lengths: np.ndarray,
    rule: str = "longest",
    *,
    langs: Sequence[str] | Mapping[int, str] | None = None,
    prefer: Sequence[str] | None = None,
) -> int:
    """The member kept in the deduplicated output.

    ``"longest"``: the member with the longest text (ties: first seen), since
    it usually carries the most content; ``"first"``: the first seen.

    With ``prefer`` (language codes, the most preferred first) and ``langs`` (each article's
    language, indexed as ``lengths``), the rule picks among the members in the first preferred
    language the cluster has (a mixed-language cluster keeps its English copy with ``["en"]``);
    a cluster with none of them, among all.

    Examples:
        >>> lengths = np.array([300, 120, 110])
        >>> choose_representative(np.array([0, 1, 2]), lengths)
        0
        >>> choose_representative(np.array([0, 1, 2]), lengths, langs=["uk", "en", "en"], prefer=["en"])
        1
    """
    if rule not in REPRESENTATIVES:
        raise ValueError(f"representative must be one of {REPRESENTATIVES}, got {rule!r}")
    members = preferred_members(members, langs, prefer)
    if rule == "first":
        return int(members[0])
    return int(members[np.argmax(lengths[members])])  # argmax takes the first of ties


def preferred_members(
    members: np.ndarray,
    langs: Sequence[str] | Mapping[int, str] | None,
    prefer: Sequence[str] | None,
) -> np.ndarray:
    """The ``members`` in the first language of ``prefer`` that any of them is in (``langs``:
    each article's); all of them when none is, or without ``prefer``."""
    if not prefer or langs is None:
        return members
    theirs = np.array([langs[int(x)] for x in members.tolist()], dtype=object)
    for code in prefer:
        found = theirs == code
        if found.any():
            return members[found]
    return members
