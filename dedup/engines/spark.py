"""The batch pipeline on Apache Spark (``pip install 'dedup[spark]'``), for dumps that outgrow one
machine.

It is the local pipeline's data flow, stage by stage, with the same functions inside each task,
so that it finds the same candidates, pairs and clusters. Articles are keyed by their position
(their place in the input) and spread over ``P`` partitions by it (:func:`partitions_for`; a
gzipped file is one partition as read): every stage below that meets an article's features
meets them in the partition they already sit in, so features cross the network once per
candidate pair, not once per join.

    read      :mod:`dedup.engines.spark_io`: JSONL or Parquet, each record checked as the local reader
              checks it, numbered in input order; a bad record fails the job with its file and
              line, never a smaller output
    sign      ``mapPartitions``: :class:`~dedup.features.Featurizer` over batches of articles,
              the same hash functions, signatures and sentence term counts as the local engine
              (each article's :class:`~dedup.sketch.record.Sketch` record, packed)
    candidates  each partition's band keys as numpy blocks, routed by key to ``P`` shards; a
              shard sorts its keys and expands its buckets with the local engine's own rule
              (:func:`dedup.sketch.lsh.bucket_pair_codes`: all pairs, or, in a bucket of more
              than ``max_bucket``, each member with the bucket's leaders); the pairs
              made distinct, each sent to the partition of its lower position
    verify    document frequencies by a Spark aggregation (``reduceByKey``), broadcast; each pair
              takes its lower article's record to the partition of the higher one, where every
              pair of the partition is scored in one pass by
              :func:`dedup.index.index.measure_pairs`: the batch run's TF-IDF cosine and sentence match
    cluster   connected components of the verified pairs by large-star / small-star (Kiveris et
              al., 2014: rounds of two shuffles until no edge changes); each component to
              re-cluster is one task, scoring its members with the candidates' measured values
              (rounded as the local engine keeps them, float32) and measuring the other pairs,
              cut by :func:`dedup.cluster.split_component`; representatives by
              :func:`dedup.cluster.choose_representative`
    write     pairs, clusters (and the positions to drop) collected by the driver; the kept
              records written by Spark (:mod:`dedup.engines.spark_io`)

:func:`run` is the whole of it (what ``find_duplicates(..., engine="spark")`` and ``dedup run
--engine spark`` call).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dedup.cluster import spanning_pairs
from dedup.engines.spark_io import (
    SparkInputError,
    SparkJobError,
    bad_records_surface,
    read_jsonl,
    spark_session,
)
from dedup.features import Featurizer
from dedup.featurize import chunked
from dedup.params import Params
from dedup.result import Result
from dedup.sketch.lsh import EMPTY, LEADERS, bucket_pair_codes, row_keys, signature_ranks
from dedup.sketch.record import Sketch
from dedup.text.language import by_frequency

if TYPE_CHECKING:
    from pyspark import RDD
    from pyspark.sql import SparkSession

_SIGN_BATCH = 500  # articles featurised together in a task
_PARTITION_ARTICLES = 10_000  # articles a partition holds at most (their records: ~50 MB)
_SCORE_BATCH = 10_000  # candidate pairs scored together in a task
_RECLUSTER_BATCH = 200_000  # pairs of a component measured together
_COMPONENT_EDGES = 200_000  # verified pairs a partition of the components' rounds holds


def partitions_for(spark: SparkSession, n: int) -> int:
    """How many partitions ``n`` articles are spread over: two per task slot
    (``defaultParallelism``), or more so that none holds more than 10,000 articles."""
    return max(2, 2 * spark.sparkContext.defaultParallelism, -(-n // _PARTITION_ARTICLES))


@dataclass
class SparkResult(Result):
    """A :class:`~dedup.engines.local.Result`, with the input positions of the articles it drops
    (sorted), for writing the kept records without collecting every id on the driver."""

    duplicate_positions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def spread(articles: RDD, parts: int) -> RDD:
    """``(position, (id, text, where))`` of each ``(position, id, text, where)`` article, spread
    over ``parts`` partitions by position."""
    return articles.map(lambda a: (a[0], tuple(a[1:]))).partitionBy(parts)


def _featurize(
    articles: Iterable[tuple[Any, ...]], params: Params
) -> Iterator[tuple[int, Sketch, int, str, int]]:
    """``(position, what the index would keep of it, its length, its language, its content key)``
    of each ``(position, id, text, ...)`` (:attr:`dedup.features.Features.content`)."""
    from dedup.index.index import Index

    featurizer = Featurizer(params)
    holder = Index.__new__(Index)  # (only its _hold, which reads params)
    holder.params = params
    for chunk in chunked(articles, _SIGN_BATCH):
        try:
            features = featurizer.batch([a[2] for a in chunk])
        except Exception as err:  # find the article, so that the job's error names it
            for a in chunk:
                try:
                    featurizer.batch([a[2]])
                except Exception as one:
                    where = f"{a[3]}: " if len(a) > 3 else ""
                    raise SparkInputError(f"{where}article {a[1]!r} failed: {one!r}") from one
            raise err
        for a, f in zip(chunk, features, strict=True):
            yield a[0], holder._hold(a[1], f), f.length, f.lang, f.content


def featurize(spread_articles: RDD, params: Params) -> RDD:
    """``(position, (packed Sketch record, length, language, content key))`` of each article of
    :func:`spread`: its id, signature and sentence term counts (:class:`dedup.sketch.record.Sketch`),
    made in the partition the article sits in (which it keeps)."""

    def features(
        items: Iterable[tuple[int, tuple[Any, ...]]],
    ) -> Iterator[tuple[int, tuple[bytes, int, str, int]]]:
        flat = ((pos, *rest) for pos, rest in items)
        return (
            (pos, (held.pack(), length, lang, content))
            for pos, held, length, lang, content in _featurize(flat, params)
        )

    return spread_articles.mapPartitions(features, preservesPartitioning=True)


def exact_copies(features: RDD, params: Params, parts: int) -> np.ndarray:
    """``(k, 2)`` positions ``(copy, first)`` of every article whose normalised text an earlier
    one has (the same content key; :mod:`dedup.engines.local` makes them one member), sorted; none
    with ``all_pairs``."""
    if params.all_pairs:
        return np.zeros((0, 2), dtype=np.int64)
    keyed = features.filter(lambda kv: kv[1][3] != 0).map(lambda kv: (kv[1][3], kv[0]))
    firsts = keyed.reduceByKey(min, parts)
    found = keyed.join(firsts, parts).filter(lambda kv: kv[1][0] != kv[1][1]).values().collect()
    return np.array(sorted(found), dtype=np.int64).reshape(-1, 2)


def band_keys(signature: np.ndarray, bands: int, rows: int) -> list[tuple[int, int]]:
    """The ``(band, key)`` of each band of a signature (none if it is empty: no shingles), the keys
    :func:`dedup.sketch.lsh.candidate_pairs` groups by."""
    if np.all(signature == EMPTY):
        return []
    keys = row_keys(signature[: bands * rows].reshape(bands, rows)).view(np.int64).tolist()
    return list(enumerate(keys))


def _by_shard(shard: np.ndarray, shards: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(k, the positions whose shard is k)`` for each of the ``shards`` shards that has any,
    positions in their original order (a numpy block is sent to each shard's partition)."""
    order = np.argsort(shard, kind="stable")
    bounds = np.searchsorted(shard[order], np.arange(shards + 1))
    for k in range(shards):
        if bounds[k + 1] > bounds[k]:
            yield k, order[bounds[k] : bounds[k + 1]]


def _band_hits(
    items: Iterable[tuple[int, tuple[bytes, int]]], bands: int, rows: int, shards: int
) -> Iterator[tuple[int, np.ndarray]]:
    """A partition's band keys as ``(shard, (k, 3) int64 array of band, key, position)``, the
    shard chosen by key; articles with an empty signature (no shingles) give none."""
    for chunk in chunked(items, 5_000):
        positions = np.array([pos for pos, _ in chunk], dtype=np.int64)
        signatures = np.stack([Sketch.unpack(value[0]).signature for _, value in chunk])
        valid = ~np.all(signatures == EMPTY, axis=1)
        positions, signatures = positions[valid], signatures[valid]
        if not len(positions):
            continue
        keys = np.concatenate([row_keys(signatures[:, b * rows : (b + 1) * rows]) for b in range(bands)])
        table = np.column_stack(
            (
                np.repeat(np.arange(bands, dtype=np.int64), len(positions)),
                keys.view(np.int64),
                np.tile(positions, bands),
                np.tile(signature_ranks(signatures), bands),
            )
        )
        for s, at in _by_shard((keys % np.uint64(shards)).astype(np.int64), shards):
            yield s, table[at]


def _shard_pairs(
    blocks: Iterable[tuple[int, np.ndarray]], max_bucket: int, n: int, parts: int, leaders: int | None
) -> Iterator[tuple[int, np.ndarray]]:
    """A shard's buckets (band keys in common) expanded into pair codes ``i * n + j``, distinct,
    as ``(partition of i, codes)``."""
    arrays = [block for _, block in blocks]
    if not arrays:
        return
    table = np.concatenate(arrays)
    table = table[np.lexsort((table[:, 2], table[:, 1], table[:, 0]))]  # by band, key, position
    change = (table[1:, 0] != table[:-1, 0]) | (table[1:, 1] != table[:-1, 1])
    starts = np.flatnonzero(np.concatenate(([True], change)))
    sizes = np.diff(np.append(starts, len(table)))
    found = list(bucket_pair_codes(table[:, 2], starts, sizes, max_bucket, n, leaders, table[:, 3]))
    if not found:
        return
    codes = np.unique(np.concatenate(found))
    for d, at in _by_shard((codes // n) % parts, parts):
        yield d, codes[at]


def _distinct_pairs(blocks: Iterable[tuple[int, np.ndarray]], n: int) -> Iterator[tuple[int, int]]:
    arrays = [block for _, block in blocks]
    if arrays:
        codes = np.unique(np.concatenate(arrays))
        yield from zip((codes // n).tolist(), (codes % n).tolist(), strict=True)


def candidates(features: RDD, params: Params, n: int, parts: int) -> RDD:
    """The distinct candidate pairs ``(i, j)``, ``i < j`` (positions), of :func:`featurize`'s
    records, each in the partition of ``i`` (``n``: the number of articles)."""
    bands, rows = params.bands_rows
    max_bucket = params.bucket_cap
    leaders = None if params.all_pairs else LEADERS
    hits = features.mapPartitions(lambda it: _band_hits(it, bands, rows, parts)).partitionBy(parts)
    routed = hits.mapPartitions(lambda it: _shard_pairs(it, max_bucket, n, parts, leaders)).partitionBy(parts)
    return routed.mapPartitions(lambda it: _distinct_pairs(it, n), preservesPartitioning=True)


def spark_candidates(
    spark: SparkSession | None,
    paths: Sequence[str],
    *,
    id_field: str = "id",
    text_field: str = "text",
    **params: Any,
) -> np.ndarray:
    """The candidate pairs of JSONL ``paths``, computed on Spark, as a sorted ``(k, 2)`` array of
    input positions (what :func:`dedup.sketch.lsh.candidate_pairs` gives for the same articles)."""
    p = Params.from_kwargs(**params)
    session = spark_session(spark)
    with bad_records_surface():
        articles = read_jsonl(session, paths, id_field=id_field, text_field=text_field)
        n = articles.count()
        parts = partitions_for(session, n)
        found = candidates(featurize(spread(articles, parts), p), p, n, parts).collect()
    return np.array(sorted(found), dtype=np.int64).reshape(-1, 2)


def _term_counts(
    items: Iterable[tuple[int, tuple[bytes, int]]], shards: int
) -> Iterator[tuple[int, tuple[np.ndarray, np.ndarray]]]:
    """A partition's distinct terms and in how many of its articles each is, as numpy blocks
    ``(shard, (terms, counts))``, the shard chosen by term."""
    terms = np.concatenate(
        [Sketch.unpack(value[0]).document_terms() for _, value in items] or [np.zeros(0, dtype=np.uint64)]
    )
    terms, counts = np.unique(terms, return_counts=True)
    for s, at in _by_shard((terms % np.uint64(shards)).astype(np.int64), shards):
        yield s, (terms[at], counts[at])


def _summed(
    blocks: Iterable[tuple[int, tuple[np.ndarray, np.ndarray]]],
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The blocks of one shard added up: each term once, with its count over all partitions."""
    blocks = [block for _, block in blocks]
    if blocks:
        terms, at = np.unique(np.concatenate([t for t, _ in blocks]), return_inverse=True)
        yield terms, np.bincount(at, weights=np.concatenate([c for _, c in blocks])).astype(np.int64)


def document_frequencies(features: RDD, parts: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every term (sorted uint64) and the number of articles holding it: counted per partition,
    added up per shard of terms (``parts`` shards), collected (what verification needs of the
    whole corpus: 16 bytes a term)."""
    parts = parts or features.getNumPartitions()
    blocks = (
        features.mapPartitions(lambda it: _term_counts(it, parts))
        .partitionBy(parts)
        .mapPartitions(_summed)
        .collect()
    )
    if not blocks:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    terms = np.concatenate([t for t, _ in blocks])
    counts = np.concatenate([c for _, c in blocks])
    order = np.argsort(terms)
    return terms[order], counts[order]


class _Frequencies:
    """A reader of :func:`dedup.index.index.measure_pairs` backed by the corpus's document frequencies."""

    def __init__(self, terms: np.ndarray, counts: np.ndarray, n: int) -> None:
        self.terms, self.counts, self.n = terms, counts, n

    def count(self) -> int:
        return self.n

    def document_frequencies(self, terms: np.ndarray) -> np.ndarray:
        at = np.searchsorted(self.terms, terms)
        return self.counts[np.minimum(at, len(self.counts) - 1)].astype(np.int64)


def _send_lower(
    group: tuple[int, tuple[Iterable[int], Iterable[tuple[bytes, int]]]],
) -> list[tuple[int, tuple[int, bytes]]]:
    """``(j, (i, record of i))`` for each candidate ``j`` of article ``i``."""
    i, (partners, mine) = group
    partners = list(partners)
    if not partners:
        return []
    ((blob, *_),) = mine
    return [(j, (i, blob)) for j in partners]


def _score_partition(
    groups: Iterable[tuple[int, tuple[Iterable[tuple[int, bytes]], Iterable[tuple[bytes, int]]]]],
    frequencies: Any,
    params: Params,
) -> Iterator[tuple[int, int, str, str, float, float, float, float, float, float]]:
    """``(i, j, id_i, id_j, jaccard, cosine, match, score, order, numbers)`` of every pair whose
    higher article ``j`` is in this partition (each ``j`` with the records of its lower partners
    ``i``), scored ``_SCORE_BATCH`` pairs at a time."""
    from dedup.index.index import measure_pairs
    from dedup.score.decision import score
    from dedup.sketch.minhash import estimate_jaccard_pairs

    table = _Frequencies(*frequencies.value)
    blobs: list[bytes] = []
    slot: dict[int, int] = {}
    pairs: list[tuple[int, int]] = []
    named: list[tuple[int, int]] = []

    def place(pos: int, blob: bytes) -> int:
        if pos not in slot:
            slot[pos] = len(blobs)
            blobs.append(blob)
        return slot[pos]

    def scored() -> Iterator[tuple[int, int, str, str, float, float, float, float, float, float]]:
        held = [Sketch.unpack(b) for b in blobs]
        at = np.array(pairs, dtype=np.int64)
        jac = estimate_jaccard_pairs(np.stack([h.signature for h in held]), at)
        close = np.flatnonzero(jac >= params.min_jaccard)  # (the local engine's floor)
        at, jac = at[close], jac[close]
        signals = measure_pairs(held, at, table, params)
        scores = score(signals, sentence_weight=params.sentence_weight, number_weight=params.number_weight)
        values = zip(
            [named[k] for k in close.tolist()],
            at.tolist(),
            jac,
            signals.cosine,
            signals.match,
            scores,
            signals.order,
            signals.numbers,
            strict=True,
        )
        for (i, j), (a, b), *rest in values:
            yield (i, j, held[a].id, held[b].id, *(float(x) for x in rest))

    for j, (incoming, mine) in groups:
        incoming = sorted(incoming)
        if not incoming:
            continue
        ((blob_j, *_),) = mine
        b = place(j, blob_j)
        for i, blob_i in incoming:
            pairs.append((place(i, blob_i), b))
            named.append((i, j))
        if len(pairs) >= _SCORE_BATCH:
            yield from scored()
            blobs, slot, pairs, named = [], {}, [], []
    if pairs:
        yield from scored()


def measure(found: RDD, features: RDD, frequencies: Any, params: Params, parts: int) -> RDD:
    """``(i, j, id_i, id_j, jaccard, cosine, match, score, order, numbers)`` of every candidate
    pair whose signatures agree on ``min_jaccard`` of their values, scored as the local engine
    scores it, with the corpus's document frequencies (``frequencies``: a broadcast ``(terms,
    counts, n)``). ``found`` and ``features`` are partitioned alike (by position, ``parts``): the
    record of ``i`` is the only one to cross the network."""
    sent = found.cogroup(features, parts).flatMap(_send_lower).partitionBy(parts)
    return sent.cogroup(features, parts).mapPartitions(lambda it: _score_partition(it, frequencies, params))


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
        table = _Frequencies(*frequencies.value)
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
        table = _Frequencies(*frequencies.value)
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
        for start in range(0, len(a), _RECLUSTER_BATCH):  # the other pairs, in bounded batches
            x, y = a[start : start + _RECLUSTER_BATCH], b[start : start + _RECLUSTER_BATCH]
            signals = measure_pairs(held, np.column_stack((x, y)), table, params)
            got = score(signals, sentence_weight=params.sentence_weight, number_weight=params.number_weight)
            sim[x, y] = sim[y, x] = got.astype(np.float32)
        found = split_component(positions, sim, params.threshold, params.linkage, params.cohesion)
        parts = [part for part in found if len(part) >= 2]
    out = []
    for part in parts:
        part_lengths = np.zeros(int(part.max()) + 1, dtype=np.int64)
        part_lengths[part] = [lengths[int(p)] for p in part]
        rep = choose_representative(part, part_lengths, params.representative)
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
        rounds = min(parts, max(least, -(-edges // _COMPONENT_EDGES)))
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


def _copy_info(features: RDD, copies: np.ndarray, sc: Any) -> dict[int, tuple[str, int, str, bool]]:
    """``position -> (id, length, language, states numbers)`` of the copies and of the first
    article of each copied text (what the driver needs to put the copies in their clusters)."""
    wanted = sc.broadcast(frozenset(copies.ravel().tolist()))

    def info(kv: tuple[int, tuple[bytes, int, str, int]]) -> tuple[int, tuple[str, int, str, bool]]:
        held = Sketch.unpack(kv[1][0])
        return kv[0], (held.id, kv[1][1], kv[1][2], bool(len(held.numbers)))

    found = dict(features.filter(lambda kv: kv[0] in wanted.value).map(info).collect())
    wanted.unpersist()
    return found


def _with_copies(
    groups: list[tuple[int, list[int], list[str], list[str], list[int]]],
    copies: np.ndarray,
    info: dict[int, tuple[str, int, str, bool]],
    params: Params,
) -> tuple[
    list[tuple[int, list[int], list[str], list[str], list[int]]], dict[int, str], list[tuple[str, str, bool]]
]:
    """The clusters of the members with each member's exact copies in its cluster (and the copies
    of a text in no cluster as a cluster of their own), representatives chosen again among all;
    the id that names each copied member in the pairs (as :meth:`dedup.engines.local.Detector._shown`
    chooses it); and the exact pairs ``(shown id, copy id, states numbers)``."""
    from dedup.cluster import choose_representative

    if not len(copies):
        return groups, {}, []
    of: dict[int, list[int]] = {}
    for copy, first in copies.tolist():
        of.setdefault(first, []).append(copy)
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
        rep = choose_representative(np.array(members), lengths, params.representative)
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
    reps = {c[0] for c in clusters}
    shown: dict[int, str] = {}
    exact = []
    for first, more in of.items():
        texts = [first, *more]
        named = next((x for x in texts if x in reps), None)
        if named is None:
            named = min(texts, key=lambda x: info[x][0])
        shown[first] = info[named][0]
        exact.extend((info[named][0], info[x][0], info[first][3]) for x in texts if x != named)
    return clusters, shown, exact


def check_unique_ids(articles: RDD, parts: int | None = None) -> None:
    """Raise :class:`SparkInputError` for an id held by two articles, naming where both are."""
    twice = (
        articles.map(lambda a: (a[1], (a[0], a[3])))
        .groupByKey(parts)
        .filter(lambda kv: len(kv[1]) > 1)
        .take(1)
    )
    if twice:
        article_id, places = twice[0]
        (_, first), (_, second) = sorted(places)[:2]
        raise SparkInputError(f"{second}: duplicate id {article_id!r} (first seen at {first})")


def run(spark: SparkSession, articles: RDD, params: Params, *, partitions: int | None = None) -> SparkResult:
    """The pipeline on Spark over ``(position, id, text, "file:line")`` articles: the
    :class:`~dedup.engines.local.Result` the local engine gives (its pairs and clusters, with their
    members' languages; the languages of the other articles are only counted, in the summary),
    with the positions of the articles it drops. ``partitions``: how many the articles are spread over
    (default :func:`partitions_for`)."""
    from dedup.result import Cluster, Pair, versions
    from dedup.score.decision import Signals
    from dedup.sketch.minhash import HASH_SCHEME

    if params.cross_lingual:
        raise ValueError("cross_lingual is not available on the Spark engine yet: run it locally")
    sc = spark.sparkContext
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with bad_records_surface():
        articles = articles.persist()
        n = articles.count()
        parts = partitions or partitions_for(spark, n)
        check_unique_ids(articles, parts)
        features = featurize(spread(articles, parts), params).persist()
        signed = features.count()
        if signed != n:  # (Spark loses no record; this says so in every run)
            raise SparkJobError(f"{n:,} articles read but {signed:,} signed")
        languages = dict(features.map(lambda kv: kv[1][2]).countByValue())
        # Exact copies are one member (as in the local engine): the rest runs on the members.
        copies = exact_copies(features, params, parts)
        everything = features
        if len(copies):
            dropped_rdd = sc.parallelize([(int(c), None) for c in copies[:, 0]], parts)
            features = everything.subtractByKey(dropped_rdd, parts).persist()
            copy_info = _copy_info(everything, copies, sc)
        else:
            copy_info = {}
        m = n - len(copies)
        found = candidates(features, params, n, parts).persist()
        n_candidates = found.count()
        articles.unpersist()
        timings["read_sign_candidates"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        frequencies = sc.broadcast((*document_frequencies(features, parts), m))
        measured = measure(found, features, frequencies, params, parts).persist()
        n_measured = measured.count()  # (the candidates whose signatures agree on min_jaccard)
        rows = measured.filter(lambda r: r[7] >= params.threshold).collect()
        timings["verify"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        groups = clusters(measured, features, frequencies, params, parts, edges=len(rows))
        timings["cluster"] = time.perf_counter() - t0
        for rdd in {measured, found, features, everything}:
            rdd.unpersist()
        frequencies.unpersist()
    groups, shown, exact = _with_copies(groups, copies, copy_info, params)
    pairs = []
    for i, j, a, b, jac, cos, match, score, order, numbers in rows:
        signals = Signals(np.array([cos]), np.array([match]), np.array([order]), np.array([numbers]))
        pairs.append(Pair.of(shown.get(i, a), shown.get(j, b), jac, signals, 0, score))
    pairs.extend(Pair.exact(a, b, numbers=stated) for a, b, stated in exact)
    pairs.sort(key=lambda q: (q.a, q.b))
    out = [
        Cluster(k, ids[members.index(rep)], ids, languages=dict(zip(ids, langs, strict=True)))
        for k, (rep, members, ids, langs, _) in enumerate(groups)
    ]
    verified = len(rows)
    if not params.all_pairs:  # the pairs that made each cluster (the local engine's rule)
        kept, _ = spanning_pairs([(c.representative, c.members) for c in out], pairs)
        pairs = [pairs[k] for k in kept]
    dropped = np.array(sorted(m for rep, members, *_ in groups for m in members if m != rep), dtype=np.int64)
    counted = {
        "read": n,
        "kept": n - len(dropped),
        "removed_as_duplicates": len(dropped),
        "skipped_bad_input": 0,
    }
    if params.languages is not None:
        counted["not_compared_language"] = sum(v for k, v in languages.items() if k not in params.languages)
    bands, rows_per_band = params.bands_rows
    summary = {
        "engine": "spark",
        "spark": {"master": sc.master, "version": spark.version, "partitions": parts},
        "articles": counted,
        "languages": by_frequency(languages),
        "candidates": {
            "pairs": n_measured,
            "below_min_jaccard": n_candidates - n_measured,
            "verified_pairs": verified,
            "listed_pairs": len(pairs),
            "bands": bands,
            "rows": rows_per_band,
            "max_bucket": params.bucket_cap,
        },
        "exact_copies": {"articles": len(copies), "texts": len(set(copies[:, 1].tolist()))},
        "clusters": len(out),
        "params": params.to_dict(),
        "minhash": {"num_perm": params.num_perm, "seed": params.seed, "hash_scheme": HASH_SCHEME},
        "versions": versions(),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }
    return SparkResult(pairs=pairs, clusters=out, summary=summary, duplicate_positions=dropped)
