"""The linkage inside one component: agglomerative clustering of its members' scores, cut where
a merge falls under the threshold or (with ``cohesion``) joins two groups less alike than each
is inside; :func:`judge_merges` says which merge passed and by which rule."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LINKAGES = ("single", "average", "complete")


MAX_RECLUSTER = 5_000
"""Components larger than this keep single linkage (an all-pairs matrix would not fit); in a
family (:data:`FAMILY_SIZE`), the most units it is re-clustered from."""


def components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Connected-component label of each of ``n`` nodes, given ``(k, 2)`` edges."""
    if len(pairs) == 0:
        return np.arange(n)
    import scipy.sparse as sp  # (imported when used: SciPy's sparse package takes 0.3 s)
    from scipy.sparse.csgraph import connected_components

    graph = sp.coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def split_component(
    members: np.ndarray, sim: np.ndarray, threshold: float, method: str, cohesion: float = 0.0
) -> list[np.ndarray]:
    """The clusters of one component: its ``method`` dendrogram cut where a merge falls under
    ``threshold`` or, with ``cohesion``, joins two groups less alike than each is inside
    (:func:`cut_tree`)."""
    from scipy.cluster.hierarchy import fcluster  # (imported when used: 0.2 s)

    tree = linkage_tree(sim, method)
    if method == "average" and cohesion > 0:
        return [members[np.sort(part)] for part in cut_tree(tree, threshold, cohesion)]
    # fcluster merges up to (and including) the cut distance: nudge so that
    # an average similarity exactly equal to the threshold still merges.
    labels = fcluster(tree, t=1.0 - threshold + 1e-9, criterion="distance")
    return [members[labels == k] for k in np.unique(labels)]


def cut_tree(
    tree: np.ndarray,
    threshold: float,
    cohesion: float,
    sizes: np.ndarray | None = None,
    totals: np.ndarray | None = None,
) -> list[np.ndarray]:
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

    ``sizes`` and ``totals``: when a leaf stands for a group (a unit of a family), its members
    and the sum of its pairs' similarities (see :class:`Merges`); by default, one article.
    """
    m = len(tree) + 1
    whole = judge_merges(tree, threshold, cohesion, sizes, totals).whole
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
    matrix: the tree :func:`split_component` cuts (and :mod:`dedup.explain` reads again)."""
    from scipy.cluster.hierarchy import linkage  # (imported when used: 0.2 s)
    from scipy.spatial.distance import squareform

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


def judge_merges(
    tree: np.ndarray,
    threshold: float,
    cohesion: float,
    sizes: np.ndarray | None = None,
    totals: np.ndarray | None = None,
) -> Merges:
    """Judge every merge of an average-linkage ``tree`` by the rules of :func:`cut_tree` (whose
    ``sizes`` and ``totals`` give the leaves' members and pair totals)."""
    m = len(tree) + 1
    size = np.ones(2 * m - 1, dtype=np.int64)
    total = np.zeros(2 * m - 1)  # the sum of the similarities of a node's pairs
    if sizes is not None:
        size[:m] = sizes
    if totals is not None:
        total[:m] = totals
    refused = np.zeros(2 * m - 1, dtype=np.int8)
    whole = np.ones(2 * m - 1, dtype=bool)  # every merge under (and at) the node passes
    for k, (left, right, distance, _) in enumerate(tree):
        left, right, node = int(left), int(right), m + k
        cross = 1.0 - float(distance)
        size[node] = size[left] + size[right]
        total[node] = total[left] + total[right] + cross * size[left] * size[right]
        passes = cross >= threshold - 1e-9  # (as fcluster's nudge in split_component)
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


def average_linkage(dist: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The average-linkage (UPGMA) tree, in SciPy's linkage format, of leaves that each stand
    for ``weights`` members: the distance of two groups is the mean over their members' pairs,
    a leaf's pairs with another counted ``weights`` times (Lance-Williams:
    ``d(k, i+j) = (w_i d(k, i) + w_j d(k, j)) / (w_i + w_j)``). With all weights 1 it is
    SciPy's ``linkage(method="average")``.

    Built by the nearest-neighbour chain (Müllner 2011, as SciPy does): ``O(m^2)`` time,
    one ``(m, m)`` matrix; the merges are then sorted by distance and numbered."""
    m = len(dist)
    if m < 2:
        return np.zeros((0, 4))
    d = np.array(dist, dtype=np.float64)
    np.fill_diagonal(d, np.inf)
    size = np.asarray(weights, dtype=np.float64).copy()
    merges: list[tuple[int, int, float]] = []
    chain: list[int] = []
    alive = np.ones(m, dtype=bool)
    while len(merges) < m - 1:
        if not chain:
            chain.append(int(np.flatnonzero(alive)[0]))
        a = chain[-1]
        b = int(np.argmin(d[a]))
        if len(chain) >= 2 and d[a, chain[-2]] <= d[a, b]:
            b = chain[-2]  # (ties go back down the chain: it must end in a reciprocal pair)
        if len(chain) < 2 or b != chain[-2]:
            chain.append(b)
            continue
        chain.pop()
        chain.pop()
        lo, hi = min(a, b), max(a, b)
        merges.append((lo, hi, float(d[a, b])))
        row = (size[a] * d[a] + size[b] * d[b]) / (size[a] + size[b])
        size[lo] += size[hi]
        d[lo, :] = row
        d[:, lo] = row
        d[hi, :] = np.inf
        d[:, hi] = np.inf
        d[lo, lo] = np.inf
        alive[hi] = False
    # Number the merges in the order of their distances (a union-find over the slots).
    parent = np.arange(m)
    label = np.arange(m)
    weight = np.asarray(weights, dtype=np.float64).copy()

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = int(parent[x])
        return x

    tree = np.zeros((m - 1, 4))
    for k, (a, b, dist_ab) in enumerate(sorted(merges, key=lambda q: q[2])):
        ra, rb = root(a), root(b)
        la, lb = sorted((int(label[ra]), int(label[rb])))
        tree[k] = (la, lb, dist_ab, weight[ra] + weight[rb])
        parent[rb] = ra
        weight[ra] += weight[rb]
        label[ra] = m + k
    return tree
