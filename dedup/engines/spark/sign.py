"""Spark stages sign and candidates: articles spread by position over the partitions, featurised
in batches (the local engine's :class:`~dedup.features.Featurizer`), their band keys routed to
shards that expand their buckets by the local rule, the pairs made distinct."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from dedup.engines.spark.io import (
    SparkInputError,
    bad_records_surface,
    read_jsonl,
    spark_session,
)
from dedup.features import Featurizer
from dedup.featurize import chunked
from dedup.params import Params
from dedup.sketch.lsh import EMPTY, LEADERS, bucket_pair_codes, row_keys, signature_ranks
from dedup.sketch.record import Sketch

if TYPE_CHECKING:
    from pyspark import RDD
    from pyspark.sql import SparkSession


SIGN_BATCH = 500  # articles featurised together in a task


PARTITION_ARTICLES = 10_000  # articles a partition holds at most (their records: ~50 MB)
PARTITION_LEAST = 500
"""Articles a partition is given at least while there are fewer partitions than task slots: a
task over a few articles costs more to schedule than to run (a job runs about 70 stages, one task
per partition each: on ``local[2]``, two articles over 4 partitions took 10 s, over 1 took 5)."""


def partitions_for(spark: SparkSession, n: int) -> int:
    """How many partitions ``n`` articles are spread over: two per task slot
    (``defaultParallelism``), fewer for a small job (:data:`PARTITION_LEAST`), more so that none
    holds more than 10,000 articles (:data:`PARTITION_ARTICLES`)."""
    slots = 2 * spark.sparkContext.defaultParallelism
    return max(1, min(slots, -(-n // PARTITION_LEAST)), -(-n // PARTITION_ARTICLES))


def spread(articles: RDD, parts: int) -> RDD:
    """``(position, (id, text, where))`` of each ``(position, id, text, where)`` article, spread
    over ``parts`` partitions by position."""
    return articles.map(lambda a: (a[0], tuple(a[1:]))).partitionBy(parts)


def _featurize(
    articles: Iterable[tuple[Any, ...]], params: Params
) -> Iterator[tuple[int, Sketch, int, str, int, tuple[bytes, ...]]]:
    """``(position, what the index would keep of it, its length, its language, its content key,
    what cross-lingual linking needs)`` of each ``(position, id, text, ...)``
    (:attr:`dedup.features.Features.content`; the last: nothing, or, in a cross-lingual run, its
    :attr:`~dedup.features.Features.fingerprint` and :attr:`~dedup.features.Features.head` as bytes)."""
    from dedup.index.index import Index

    featurizer = Featurizer(params)
    holder = Index.__new__(Index)  # (only its _hold, which reads params)
    holder.params = params
    for chunk in chunked(articles, SIGN_BATCH):
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
            linking = (f.fingerprint.tobytes(), f.head.tobytes()) if params.cross_lingual else ()
            yield a[0], holder._hold(a[1], f), f.length, f.lang, f.content, linking


def featurize(spread_articles: RDD, params: Params) -> RDD:
    """``(position, (packed Sketch record, length, language, content key, ...))`` of each
    article of :func:`spread`: its id, signature and sentence term counts
    (:class:`dedup.sketch.record.Sketch`), made in the partition the article sits in (which it
    keeps); in a cross-lingual run, then its fingerprint token ids (uint64) and its head (UTF-8),
    as bytes (:mod:`dedup.engines.spark.links`)."""

    def features(items: Iterable[tuple[int, tuple[Any, ...]]]) -> Iterator[tuple[int, tuple[Any, ...]]]:
        flat = ((pos, *rest) for pos, rest in items)
        return (
            (pos, (held.pack(), length, lang, content, *linking))
            for pos, held, length, lang, content, linking in _featurize(flat, params)
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


def by_shard(shard: np.ndarray, shards: int) -> Iterator[tuple[int, np.ndarray]]:
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
        for s, at in by_shard((keys % np.uint64(shards)).astype(np.int64), shards):
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
    for d, at in by_shard((codes // n) % parts, parts):
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
