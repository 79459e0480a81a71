"""Spark stage verify: document frequencies by a Spark aggregation, broadcast; each candidate
pair scored in the partition of its higher article, by the index's own measure."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from dedup.engines.spark.sign import by_shard
from dedup.params import Params
from dedup.sketch.record import Sketch

if TYPE_CHECKING:
    from pyspark import RDD


SCORE_BATCH = 10_000  # candidate pairs scored together in a task


def _document_terms(value: tuple[Any, ...]) -> np.ndarray:
    """An article's distinct terms, from its :func:`~dedup.engines.spark.sign.featurize` record."""
    return Sketch.unpack(value[0]).document_terms()


def _term_counts(
    items: Iterable[tuple[int, tuple[Any, ...]]],
    shards: int,
    terms_of: Callable[[tuple[Any, ...]], np.ndarray] = _document_terms,
) -> Iterator[tuple[int, tuple[np.ndarray, np.ndarray]]]:
    """A partition's distinct terms (``terms_of`` each record) and in how many of its articles
    each is, as numpy blocks ``(shard, (terms, counts))``, the shard chosen by term."""
    terms = np.concatenate([terms_of(value) for _, value in items] or [np.zeros(0, dtype=np.uint64)])
    terms, counts = np.unique(terms, return_counts=True)
    for s, at in by_shard((terms % np.uint64(shards)).astype(np.int64), shards):
        yield s, (terms[at], counts[at])


def _summed(
    blocks: Iterable[tuple[int, tuple[np.ndarray, np.ndarray]]],
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The blocks of one shard added up: each term once, with its count over all partitions."""
    blocks = [block for _, block in blocks]
    if blocks:
        terms, at = np.unique(np.concatenate([t for t, _ in blocks]), return_inverse=True)
        yield terms, np.bincount(at, weights=np.concatenate([c for _, c in blocks])).astype(np.int64)


def document_frequencies(
    features: RDD,
    parts: int | None = None,
    *,
    terms_of: Callable[[tuple[Any, ...]], np.ndarray] = _document_terms,
) -> tuple[np.ndarray, np.ndarray]:
    """Every term (sorted uint64) and the number of articles holding it: counted per partition,
    added up per shard of terms (``parts`` shards), collected (what verification needs of the
    whole corpus: 16 bytes a term). ``terms_of``: an article's distinct terms, from its record
    (default: those TF-IDF weighs; cross-lingual linking counts its fingerprint tokens)."""
    parts = parts or features.getNumPartitions()
    blocks = (
        features.mapPartitions(lambda it: _term_counts(it, parts, terms_of))
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


class Frequencies:
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
    ``i``), scored ``SCORE_BATCH`` pairs at a time."""
    from dedup.index.index import measure_pairs
    from dedup.score.decision import score
    from dedup.sketch.minhash import estimate_jaccard_pairs

    table = Frequencies(*frequencies.value)
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
        if len(pairs) >= SCORE_BATCH:
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
