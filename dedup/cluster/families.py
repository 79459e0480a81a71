"""Big components (families of a story copied many times) clustered from their tight units: the
near-copies are one unit, and the linkage judges the units from samples of their members, with
a bounded number of pairs per member measured."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dedup.cluster.linkage import MAX_RECLUSTER, average_linkage, cut_tree

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
