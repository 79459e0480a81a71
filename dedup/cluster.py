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


def _split(members: np.ndarray, sim: np.ndarray, threshold: float, method: str) -> list[np.ndarray]:
    dist = np.clip(1.0 - sim, 0.0, None)
    np.fill_diagonal(dist, 0.0)
    tree = linkage(squareform(dist, checks=False), method=method)
    # fcluster merges up to (and including) the cut distance: nudge so that
    # an average similarity exactly equal to the threshold still merges.
    labels = fcluster(tree, t=1.0 - threshold + 1e-9, criterion="distance")
    return [members[labels == k] for k in np.unique(labels)]


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
            out.extend(part for part in _split(members, sim, threshold, linkage_method) if len(part) >= 2)
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
