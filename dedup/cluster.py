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

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import squareform

LINKAGES = ("single", "average", "complete")
REPRESENTATIVES = ("longest", "first")

MAX_RECLUSTER = 5_000
"""Components larger than this keep single linkage (an all-pairs matrix would not fit); in a
family (:data:`FAMILY_SIZE`), the most units it is re-clustered from."""
FAMILY_SIZE = 64
"""Components larger than this are clustered as a family: from its tight units
(:func:`split_family`), not from all its pairs (unless ``all_pairs``)."""
TIGHT = 0.8
"""The score at which two members of a family are one unit: near-copies (light edits, a
trimmed or padded copy). Translations of one text by different systems, and different
outlets' takes on one story, score under it; units are then what the linkage judges."""
SAMPLES = 12
"""Members of a unit (its leader and others spread over it) whose scores stand for the unit's:
with 12, families of 8 to 36 light edits of each article of five real sets give the clusters of
the exhaustive linkage (with 3 or 6, some differ; ``tests/test_families.py``)."""
PAIR_BUDGET = 32
"""Pairs per member that :func:`split_family` may measure (its units' samples' pairs). On the
five real sets blown up into families of 9-37 light edits per article, 64 gives the exhaustive
linkage's clusters on all five, 32 on four (the fifth: 3 clusters differ, recall 0.928 instead
of 0.908, precision 1.000 both), 16 on two; 32 costs half the time of 64."""
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


def split_component(
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


def family_units(
    m: int, edges: np.ndarray, scores: np.ndarray, tight: float = TIGHT
) -> tuple[np.ndarray, np.ndarray]:
    """The tight units of a family of ``m`` members, given its verified ``edges`` (local
    indices) and their ``scores``: each member's unit, and each unit's leader. The member with
    the most tight edges (score >= ``tight``) leads a unit of itself and its tight neighbours
    not yet in one; then the next, and so on (a greedy cover, linear in the edges)."""
    close = edges[scores >= tight]
    degree = np.bincount(close.ravel(), minlength=m)
    both = np.concatenate([close, close[:, ::-1]]) if len(close) else np.zeros((0, 2), dtype=np.int64)
    order = np.argsort(both[:, 0], kind="stable")
    neighbours = both[order, 1]
    starts = np.searchsorted(both[order, 0], np.arange(m + 1))
    unit = np.full(m, -1, dtype=np.int64)
    leaders: list[int] = []
    for x in np.argsort(-degree, kind="stable").tolist():
        if unit[x] >= 0:
            continue
        unit[x] = len(leaders)
        near = neighbours[starts[x] : starts[x + 1]]
        unit[near[unit[near] < 0]] = len(leaders)
        leaders.append(x)
    return unit, np.array(leaders, dtype=np.int64)


def split_family(
    members: np.ndarray,
    edges: np.ndarray,
    scores: np.ndarray,
    score_pairs: Callable[[np.ndarray], np.ndarray],
    threshold: float,
    cohesion: float,
    *,
    tight: float = TIGHT,
    samples: int = SAMPLES,
    budget: int = PAIR_BUDGET,
) -> list[np.ndarray]:
    """The clusters of a large component (a family): average linkage over its tight units
    (:func:`family_units`) rather than over its members, so that its cost follows the number
    of units, not the square of the number of members.

    Each unit stands for its members by ``samples`` of them (its leader and others spread over
    it): two units' similarity is the mean score of their samples' pairs, a unit's own mean the
    mean of its samples' pairs among themselves. The tree is weighted by the units' sizes and
    cut by the rules of :func:`cut_tree`, as the component's would be (a family of near-copies
    is one unit, and one cluster; two tight stories in one component are two).

    What it measures is held to ``budget`` pairs per member: when its units have more pairs
    than that, the units are made coarser (``tight`` lowered by 0.05 at a time, not under the
    threshold), then units get fewer samples (down to the leader alone, whose own mean is then
    its verified pairs' inside the unit).

    Args:
        members: the component's sorted member indices; ``edges``: its verified pairs (member
            indices) and ``scores`` their scores.
        score_pairs: the scores of a ``(k, 2)`` array of member pairs (measured, or known).
    """
    m = len(members)
    local = np.searchsorted(members, edges)
    scores = np.asarray(scores, dtype=np.float64)
    limit = budget * m  # the pairs this family may measure: linear in its size
    while True:
        unit, leaders = family_units(m, local, scores, tight)
        units = len(leaders)
        if units * (units - 1) / 2 <= limit or tight <= threshold:
            break
        tight = max(threshold, tight - 0.05)  # coarser units, until they fit the budget
    if units == 1 or units > MAX_RECLUSTER:
        return [members]
    order = np.argsort(unit, kind="stable")
    bounds = np.searchsorted(unit[order], np.arange(units + 1))
    sizes = np.diff(bounds)
    while samples > 1 and np.minimum(sizes, samples).sum() ** 2 / 2 > limit:
        samples -= 1  # fewer samples a unit, until their pairs fit the budget
    picked: list[int] = []
    of_unit: list[int] = []
    for k in range(units):
        inside = order[bounds[k] : bounds[k + 1]]
        others = inside[inside != leaders[k]]
        take = min(samples - 1, len(others))
        spread = others[np.linspace(0, len(others) - 1, take).astype(np.int64)] if take else others[:0]
        picked.extend([int(leaders[k]), *spread.tolist()])
        of_unit.extend([k] * (1 + take))
    picks, owner = np.array(picked, dtype=np.int64), np.array(of_unit, dtype=np.int64)
    i, j = np.triu_indices(len(picks), 1)
    got = np.asarray(score_pairs(np.stack([members[picks[i]], members[picks[j]]], axis=1)), dtype=np.float64)
    ui, uj = np.minimum(owner[i], owner[j]), np.maximum(owner[i], owner[j])
    sums = np.zeros((units, units))
    counts = np.zeros((units, units))
    np.add.at(sums, (ui, uj), got)
    np.add.at(counts, (ui, uj), 1.0)
    mean = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    own = np.diag(mean).copy()
    alone = (sizes >= 2) & (np.diag(counts) == 0)  # (one sample: the unit's own edges say it)
    if alone.any():
        eu, ev = unit[local[:, 0]], unit[local[:, 1]]
        same = eu == ev
        total = np.bincount(eu[same], weights=scores[same], minlength=units)
        count = np.bincount(eu[same], minlength=units)
        own[alone] = total[alone] / np.maximum(count[alone], 1)
    cross = np.triu(mean, 1)
    cross = cross + cross.T
    np.fill_diagonal(cross, 1.0)
    tree = average_linkage(np.clip(1.0 - cross, 0.0, None), sizes)
    parts = cut_tree(tree, threshold, cohesion, sizes=sizes, totals=own * sizes * (sizes - 1) / 2)
    found = [np.sort(members[np.isin(unit, part)]) for part in parts]
    return sorted(found, key=lambda part: int(part[0]))


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
