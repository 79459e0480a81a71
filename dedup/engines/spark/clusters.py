"""Spark stage cluster: connected components of the verified pairs (large-star / small-star),
each component to re-cluster one task cut by the local linkage; exact copies folded back in."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from dedup.engines.spark.verify import Frequencies
from dedup.params import Params
from dedup.sketch.record import Sketch

if TYPE_CHECKING:
    from pyspark import RDD


RECLUSTER_BATCH = 200_000  # pairs of a component measured together


COMPONENT_EDGES = 200_000  # verified pairs a partition of the components' rounds holds


def _large_star(edges: RDD) -> RDD:
    """Each node links its larger neighbours to the smallest of its neighbourhood (itself included)."""

    def step(kv: tuple[int, Iterable[int]]) -> Iterator[tuple[int, int]]:
        u, near = kv
        near = set(near)
        m = min(near | {u})
        return ((v, m) for v in near if v > u)

    parts = edges.getNumPartitions()
    both = edges.flatMap(lambda e: ((e[0], e[1]), (e[1], e[0])))
    return both.groupByKey(parts).flatMap(step).distinct(parts)


def _small_star(edges: RDD) -> RDD:
    """Each node links itself and its smaller neighbours to the smallest of them."""

    def step(kv: tuple[int, Iterable[int]]) -> Iterator[tuple[int, int]]:
        u, near = kv
        group = set(near) | {u}
        m = min(group)
        return ((v, m) for v in group if v != m)

    parts = edges.getNumPartitions()
    oriented = edges.map(lambda e: (max(e), min(e)))  # (node, a smaller neighbour)
    return oriented.groupByKey(parts).flatMap(step).distinct(parts)


def _same_edges(a: RDD, b: RDD, parts: int) -> bool:
    """Whether two RDDs of distinct edges hold the same edges (one shuffle: an edge in one only?)."""
    tagged = a.map(lambda e: (e, 1)).union(b.map(lambda e: (e, 2)))
    return tagged.reduceByKey(lambda x, y: x + y, parts).filter(lambda kv: kv[1] != 3).isEmpty()


def components(pairs: RDD, *, parts: int | None = None, max_rounds: int = 100) -> RDD:
    """``(node, component)`` of every node of ``pairs`` (edges ``(i, j)``): the component is its
    smallest node. Large-star and small-star alternate until a round changes no edge (each
    round's shuffles into ``parts`` partitions)."""
    parts = parts or max(2, pairs.context.defaultParallelism)  # (each round's shuffles keep this many)
    edges = pairs.map(lambda e: (max(e), min(e))).distinct(parts).persist()
    for _ in range(max_rounds):
        moved = _small_star(_large_star(edges)).persist()
        if _same_edges(moved, edges, parts):
            edges.unpersist()
            edges = moved
            break
        edges.unpersist()
        edges = moved
    else:
        raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
    labels = edges.map(lambda e: (e[0], e[1]))  # a star: every node but the centre points to it
    centres = edges.map(lambda e: (e[1], e[1])).distinct()
    return labels.union(centres).distinct(parts)


def _recluster(
    group: tuple[int, tuple[Iterable[tuple[int, bytes, int, str]], Iterable[tuple[int, int, float]]]],
    frequencies: Any,
    params: Params,
) -> list[tuple[int, list[int], list[str], list[str], list[int]]]:
    """The clusters ``(representative, members, their ids, their languages, their lengths)`` of
    one component, as the local engine makes them (positions; members in input order)."""
    from dedup.cluster import FAMILY_SIZE, MAX_RECLUSTER, choose_representative, split_component, split_family
    from dedup.index.index import measure_pairs
    from dedup.score.decision import score

    _, (members_in, known_in) = group
    members = sorted(members_in)
    positions = np.array([m[0] for m in members], dtype=np.int64)
    lengths = {m[0]: m[2] for m in members}
    langs = {m[0]: m[3] for m in members}
    held = [Sketch.unpack(m[1]) for m in members]
    ids = {m[0]: h.id for m, h in zip(members, held, strict=True)}
    size = len(members)
    family = params.linkage == "average" and not params.all_pairs and size > FAMILY_SIZE
    if family:
        table = Frequencies(*frequencies.value)
        at = {int(p): k for k, p in enumerate(positions)}
        known = {(min(i, j), max(i, j)): float(np.float32(s_ij)) for i, j, s_ij in known_in}

        def score_pairs(pairs: np.ndarray) -> np.ndarray:
            got = np.array([known.get((int(i), int(j)), np.nan) for i, j in pairs.tolist()])
            todo = np.flatnonzero(np.isnan(got))
            if len(todo):
                local = np.array([[at[int(i)], at[int(j)]] for i, j in pairs[todo].tolist()], dtype=np.int64)
                signals = measure_pairs(held, local, table, params)
                got[todo] = score(
                    signals, sentence_weight=params.sentence_weight, number_weight=params.number_weight
                ).astype(np.float32)
            return got.astype(np.float32)

        verified = [(min(i, j), max(i, j), v) for (i, j), v in known.items() if v >= params.threshold]
        edges = np.array([(i, j) for i, j, _ in verified], dtype=np.int64).reshape(-1, 2)
        edge_scores = np.array([v for _, _, v in verified], dtype=np.float32)
        found = split_family(positions, edges, edge_scores, score_pairs, params.threshold, params.cohesion)
        parts = [part for part in found if len(part) >= 2]
    elif params.linkage == "single" or size == 2 or size > MAX_RECLUSTER:
        parts = [positions]
    else:
        table = Frequencies(*frequencies.value)
        sim = np.eye(size)
        at = {int(p): k for k, p in enumerate(positions)}
        measured = np.eye(size, dtype=bool)
        for i, j, s_ij in known_in:  # the candidates' scores, as the local engine keeps them
            x, y = at[i], at[j]
            sim[x, y] = sim[y, x] = float(np.float32(s_ij))
            measured[x, y] = measured[y, x] = True
        a, b = np.triu_indices(size, 1)
        todo = ~measured[a, b]
        a, b = a[todo], b[todo]
        for start in range(0, len(a), RECLUSTER_BATCH):  # the other pairs, in bounded batches
            x, y = a[start : start + RECLUSTER_BATCH], b[start : start + RECLUSTER_BATCH]
            signals = measure_pairs(held, np.column_stack((x, y)), table, params)
            got = score(signals, sentence_weight=params.sentence_weight, number_weight=params.number_weight)
            sim[x, y] = sim[y, x] = got.astype(np.float32)
        found = split_component(positions, sim, params.threshold, params.linkage, params.cohesion)
        parts = [part for part in found if len(part) >= 2]
    out = []
    for part in parts:
        part_lengths = np.zeros(int(part.max()) + 1, dtype=np.int64)
        part_lengths[part] = [lengths[int(p)] for p in part]
        rep = choose_representative(
            part, part_lengths, params.representative, langs=langs, prefer=params.prefer_lang
        )
        listed = part.tolist()
        out.append(
            (rep, listed, [ids[p] for p in listed], [langs[p] for p in listed], [lengths[p] for p in listed])
        )
    return out


def _labelled(
    group: tuple[int, tuple[Iterable[int], Iterable[tuple[bytes, int]]]],
) -> list[tuple[int, tuple[int, bytes, int]]]:
    node, (label, mine) = group
    label = list(label)
    if not label:
        return []
    ((blob, length, lang, *_),) = mine
    return [(label[0], (node, blob, length, lang))]


def clusters(
    measured: RDD, features: RDD, frequencies: Any, params: Params, parts: int, *, edges: int | None = None
) -> list[tuple[int, list[int], list[str], list[str], list[int]]]:
    """The clusters, ``(representative, members, their ids, languages and lengths)`` with positions,
    members in input order, sorted by their first member (the local engine's order). ``edges``: how many pairs
    are verified, if known (the components' rounds then use fewer partitions: a round of
    small tasks costs their scheduling)."""
    verified = measured.filter(lambda r: r[7] >= params.threshold).map(lambda r: (r[0], r[1]))
    rounds = parts
    if edges is not None:
        least = max(2, measured.context.defaultParallelism)
        rounds = min(parts, max(least, -(-edges // COMPONENT_EDGES)))
    label = components(verified, parts=rounds).partitionBy(parts).persist()
    members = label.cogroup(features, parts).flatMap(_labelled)  # (component, member's record)
    # every candidate pair inside a component: the values re-clustering reuses
    known = (
        measured.map(lambda r: (r[0], (r[1], r[7])))
        .join(label, parts)
        .map(lambda kv: (kv[1][0][0], (kv[0], kv[1][0], kv[1][1])))
        .join(label, parts)
        .filter(lambda kv: kv[1][0][2] == kv[1][1])
        .map(lambda kv: (kv[1][1], (kv[1][0][0], kv[0], kv[1][0][1][1])))
    )
    found = members.cogroup(known, parts).flatMap(lambda g: _recluster(g, frequencies, params)).collect()
    label.unpersist()
    return sorted(found, key=lambda c: c[1][0])


def copy_info(features: RDD, copies: np.ndarray, sc: Any) -> dict[int, tuple[str, int, str, bool]]:
    """``position -> (id, length, language, states numbers)`` of the copies and of the first
    article of each copied text (what the driver needs to put the copies in their clusters)."""
    wanted = sc.broadcast(frozenset(copies.ravel().tolist()))

    def info(kv: tuple[int, tuple[bytes, int, str, int]]) -> tuple[int, tuple[str, int, str, bool]]:
        held = Sketch.unpack(kv[1][0])
        return kv[0], (held.id, kv[1][1], kv[1][2], bool(len(held.numbers)))

    found = dict(features.filter(lambda kv: kv[0] in wanted.value).map(info).collect())
    wanted.unpersist()
    return found


def _copies_of(copies: np.ndarray) -> dict[int, list[int]]:
    """The copies of each copied text's first article, by that article."""
    of: dict[int, list[int]] = {}
    for copy, first in copies.tolist():
        of.setdefault(first, []).append(copy)
    return of


def with_copies(
    groups: list[tuple[int, list[int], list[str], list[str], list[int]]],
    copies: np.ndarray,
    info: dict[int, tuple[str, int, str, bool]],
    params: Params,
) -> list[tuple[int, list[int], list[str], list[str], list[int]]]:
    """The clusters of the members with each member's exact copies in its cluster (and the copies
    of a text in no cluster as a cluster of their own), representatives chosen again among all."""
    from dedup.cluster import choose_representative

    if not len(copies):
        return groups
    of = _copies_of(copies)
    out = []
    seen: set[int] = set()
    for _, members, ids, langs, lengths in groups:
        row = dict(zip(members, zip(ids, langs, lengths, strict=True), strict=True))
        for x in members:
            for c in of.get(x, []):
                row[c] = (info[c][0], info[c][2], info[c][1])
            seen.add(x)
        out.append(row)
    for first in sorted(set(of) - seen):
        out.append({x: (info[x][0], info[x][2], info[x][1]) for x in [first, *of[first]]})
    clusters = []
    for row in out:
        members = sorted(row)
        lengths = np.zeros(members[-1] + 1, dtype=np.int64)
        lengths[members] = [row[x][2] for x in members]
        langs = {x: row[x][1] for x in members}
        rep = choose_representative(
            np.array(members), lengths, params.representative, langs=langs, prefer=params.prefer_lang
        )
        clusters.append(
            (
                rep,
                members,
                [row[x][0] for x in members],
                [row[x][1] for x in members],
                [row[x][2] for x in members],
            )
        )
    clusters.sort(key=lambda c: c[1][0])
    return clusters


def copy_names(
    copies: np.ndarray, info: dict[int, tuple[str, int, str, bool]], reps: set[int]
) -> tuple[dict[int, str], list[tuple[str, str, bool]]]:
    """The id that names each copied member in the pairs (as
    :meth:`dedup.engines.local.Detector._shown` chooses it: the representative of its cluster
    when it is one of the copies, ``reps``), and the exact pairs ``(shown id, copy id, states
    numbers)``."""
    shown: dict[int, str] = {}
    exact = []
    for first, more in _copies_of(copies).items():
        texts = [first, *more]
        named = next((x for x in texts if x in reps), None)
        if named is None:
            named = min(texts, key=lambda x: info[x][0])
        shown[first] = info[named][0]
        exact.extend((info[named][0], info[x][0], info[first][3]) for x in texts if x != named)
    return shown, exact
