"""Group verified pairs into clusters and pick each cluster's representative.

Connected components of the verified-pair graph are the starting point.
Plain components let one borderline pair chain two different stories
together, so inside each component ``dedup`` can re-cluster with a stricter
rule: agglomerative clustering on the cosine distance between all its
members (``linkage="average"``: two groups merge only if their members are,
on average, at least ``threshold`` similar). ``linkage="single"`` keeps the
plain components.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import squareform

LINKAGES = ("single", "average", "complete")
REPRESENTATIVES = ("longest", "first")

MAX_RECLUSTER = 5_000
"""Components larger than this keep single linkage (an all-pairs matrix would not fit)."""
SIMILARITY_CELLS = 4_000_000
"""Similarity values asked for at once (a batch of components to re-cluster)."""


@dataclass(frozen=True, slots=True)
class Cluster:
    """Articles found to be the same story: one representative, the others duplicates."""

    representative: int
    members: tuple[int, ...]  # all members, representative included, in input order


def components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Connected-component label of each of ``n`` nodes, given ``(k, 2)`` edges."""
    if len(pairs) == 0:
        return np.arange(n)
    graph = sp.coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _split(
    members: np.ndarray, sim: np.ndarray, threshold: float, method: str, cohesion: float = 0.0
) -> list[np.ndarray]:
    """The clusters of one component: its ``method`` dendrogram cut where a merge falls under
    ``threshold`` or, with ``cohesion``, joins two groups less alike than each is inside
    (:func:`cut_tree`)."""
    tree = linkage_tree(sim, method)
    if method == "average" and cohesion > 0:
        return [members[np.sort(part)] for part in cut_tree(tree, threshold, cohesion)]
    # fcluster merges up to (and including) the cut distance: nudge so that
    # an average similarity exactly equal to the threshold still merges.
    labels = fcluster(tree, t=1.0 - threshold + 1e-9, criterion="distance")
    return [members[labels == k] for k in np.unique(labels)]


def cut_tree(tree: np.ndarray, threshold: float, cohesion: float) -> list[np.ndarray]:
    """The groups (leaf numbers) of an average-linkage ``tree`` kept whole: each merge of the tree
    must reach ``threshold`` (its two sides' mean cross similarity), and a merge of two sides of
    two or more members each must also reach ``cohesion`` times the lower of the two sides' own
    mean similarity (the mean over their pairs).

    Two translations groups of different documents on one event are each tight (their members
    score 0.7-0.9 together) and score 0.4-0.5 across: the cohesion rule keeps them apart where
    the threshold alone would merge them. One outlier article joining a group is a merge with a
    side of one member, which only the threshold decides (a poor translation is still one). A
    merge refused splits every merge above it too: the result is the largest subtrees whose
    merges all pass.
    """
    m = len(tree) + 1
    whole = judge_merges(tree, threshold, cohesion).whole
    children = {m + k: (int(row[0]), int(row[1])) for k, row in enumerate(tree)}
    out: list[np.ndarray] = []
    stack = [2 * m - 2]
    while stack:
        node = stack.pop()
        if whole[node]:
            leaves, todo = [], [node]
            while todo:
                x = todo.pop()
                if x < m:
                    leaves.append(x)
                else:
                    todo.extend(children[x])
            out.append(np.array(leaves, dtype=np.int64))
        else:
            stack.extend(children[node])
    return out


def linkage_tree(sim: np.ndarray, method: str) -> np.ndarray:
    """The ``method`` dendrogram (SciPy's linkage matrix) of a component's ``(m, m)`` similarity
    matrix: the tree :func:`_split` cuts (and :mod:`dedup.explain` reads again)."""
    dist = np.clip(1.0 - sim, 0.0, None)
    np.fill_diagonal(dist, 0.0)
    return linkage(squareform(dist, checks=False), method=method)


PASSES, REFUSED_BY_THRESHOLD, REFUSED_BY_COHESION = 0, 1, 2
"""How :func:`judge_merges` judged a merge."""


@dataclass(frozen=True)
class Merges:
    """How :func:`cut_tree` judges each node of an average-linkage tree of ``m`` leaves: arrays
    over its ``2m - 1`` nodes (the leaves ``0 .. m-1``, then merge ``k`` of the tree at ``m + k``).

    Attributes:
        size: the members under each node.
        total: the sum of the similarities of the pairs under each node (its own mean is
            ``total / (size * (size - 1) / 2)``).
        refused: ``PASSES``, ``REFUSED_BY_THRESHOLD`` or ``REFUSED_BY_COHESION`` (leaves pass).
        whole: every merge under the node, and its own, passes: the node is kept as one group.
    """

    size: np.ndarray
    total: np.ndarray
    refused: np.ndarray
    whole: np.ndarray


def judge_merges(tree: np.ndarray, threshold: float, cohesion: float) -> Merges:
    """Judge every merge of an average-linkage ``tree`` by the rules of :func:`cut_tree`."""
    m = len(tree) + 1
    size = np.ones(2 * m - 1, dtype=np.int64)
    total = np.zeros(2 * m - 1)  # the sum of the similarities of a node's pairs
    refused = np.zeros(2 * m - 1, dtype=np.int8)
    whole = np.ones(2 * m - 1, dtype=bool)  # every merge under (and at) the node passes
    for k, (left, right, distance, _) in enumerate(tree):
        left, right, node = int(left), int(right), m + k
        cross = 1.0 - float(distance)
        size[node] = size[left] + size[right]
        total[node] = total[left] + total[right] + cross * size[left] * size[right]
        passes = cross >= threshold - 1e-9  # (as fcluster's nudge in _split)
        if not passes:
            refused[node] = REFUSED_BY_THRESHOLD
        elif size[left] >= 2 and size[right] >= 2:
            own = min(
                total[left] / (size[left] * (size[left] - 1) / 2),
                total[right] / (size[right] * (size[right] - 1) / 2),
            )
            passes = cross >= cohesion * own - 1e-9
            if not passes:
                refused[node] = REFUSED_BY_COHESION
        whole[node] = whole[left] and whole[right] and passes
    return Merges(size, total, refused, whole)


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
    """
    if linkage_method not in LINKAGES:
        raise ValueError(f"linkage must be one of {LINKAGES}, got {linkage_method!r}")
    labels = components(n, pairs)
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    out: list[np.ndarray] = []
    recluster: list[np.ndarray] = []
    for members in np.split(order, bounds):
        if len(members) < 2:
            continue
        members = np.sort(members)
        if linkage_method == "single" or len(members) == 2 or len(members) > MAX_RECLUSTER:
            out.append(members)
        else:
            recluster.append(members)
    for batch in _batches(recluster, SIMILARITY_CELLS):
        for members, sim in zip(batch, similarity(batch), strict=True):
            parts = _split(members, sim, threshold, linkage_method, cohesion)
            out.extend(part for part in parts if len(part) >= 2)
    out.sort(key=lambda m: int(m[0]))
    return out


def choose_representative(members: np.ndarray, lengths: np.ndarray, rule: str = "longest") -> int:
    """The member kept in the deduplicated output.

    ``"longest"``: the member with the longest text (ties: first seen), since
    it usually carries the most content; ``"first"``: the first seen.
    """
    if rule == "first":
        return int(members[0])
    if rule == "longest":
        return int(members[np.argmax(lengths[members])])  # argmax takes the first of ties
    raise ValueError(f"representative must be one of {REPRESENTATIVES}, got {rule!r}")
