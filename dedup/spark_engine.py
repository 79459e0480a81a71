"""The batch pipeline on Apache Spark (``pip install 'dedup[spark]'``), for dumps that outgrow one
machine.

It is the local pipeline's data flow, stage by stage, with the same functions inside each task,
so that it finds the same candidates (and, stage by stage, the same pairs and clusters):

    read      JSONL lines as bytes (local paths, ``s3a://``, ``hdfs://``; ``.gz`` by extension),
              each checked by the local reader's own record check, numbered in input order
              (files in the order given, lines in file order): a bad record fails the job with
              its file and line, never a smaller output
    sign      in ``mapPartitions``: :class:`~dedup.features.Featurizer` over batches of articles,
              the same hash functions, signatures and band keys as the local engine
    candidates  band keys grouped into buckets; a bucket's members in input order are paired
              all with all, or, in a bucket of more than ``max_bucket``, each with the next
              ``min(max_bucket, 8)`` (as :func:`dedup.candidates.candidate_pairs` does)

    verify    document frequencies counted by a Spark aggregation (``reduceByKey``) and broadcast;
              each article's candidates grouped with it, and scored in the task by the function
              the index scores with (:func:`dedup.index._measure`), given those frequencies: the
              batch run's TF-IDF cosine and sentence match

Not built yet: connected components, re-clustering, writing, and ``dedup run --engine spark``.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from dedup.article import InputError
from dedup.candidates import _EMPTY, _band_keys
from dedup.features import Featurizer, _chunks
from dedup.index_store import Held
from dedup.params import Params

if TYPE_CHECKING:
    from pyspark import RDD
    from pyspark.sql import SparkSession

_BOM = b"\xef\xbb\xbf"
_SIGN_BATCH = 500  # articles featurised together in a task


class SparkInputError(ValueError):
    """A record Spark could not use: ``str(err)`` names its file and line (and the job stops)."""


_RAISED = re.compile(r"dedup\.spark_engine\.SparkInputError: (.+)")


@contextlib.contextmanager
def bad_records_surface() -> Iterator[None]:
    """Spark jobs run inside raise a bad record's error as the one line it is (a
    :class:`SparkInputError` naming its file and line), not as an executor's traceback."""
    try:
        yield
    except SparkInputError:
        raise
    except Exception as err:
        found = _RAISED.search(str(err))
        if found:
            raise SparkInputError(found.group(1).strip()) from None
        raise


def spark_session(spark: SparkSession | None = None, *, master: str = "local[*]") -> SparkSession:
    """``spark`` if given (a job's own session), else the active one, else a new ``master`` one."""
    if spark is not None:
        return spark
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ImportError("the Spark engine needs pyspark: pip install 'dedup[spark]'") from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # local workers run this Python, with dedup
    return (
        SparkSession.builder.master(master)
        .appName("dedup")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(max(2, (os.cpu_count() or 2) * 2)))
        .getOrCreate()
    )


def _records(
    lines: Iterable[tuple[bytes, int]], source: str, id_field: str, text_field: str
) -> Iterator[tuple[str, str]]:
    """The ``(id, text)`` of each non-blank line (numbered from 0), checked as the local reader
    checks them; a bad one raises :class:`SparkInputError`."""
    from dedup.read import _jsonl_record

    for line, k in lines:
        if k == 0 and line.startswith(_BOM):
            line = line[len(_BOM) :]
        if not line.strip():
            continue
        record = _jsonl_record(line, source, k + 1, id_field, text_field)
        if isinstance(record, InputError):
            raise SparkInputError(str(record))
        yield record.article.id, record.article.text


def read_jsonl(
    spark: SparkSession, paths: Sequence[str], *, id_field: str = "id", text_field: str = "text"
) -> RDD:
    """The articles of JSONL files as an RDD of ``(position, id, text)``: positions number the
    articles in input order (the files in the order given, each line by line)."""
    sc = spark.sparkContext
    parts = []
    for path in paths:
        lines = sc.textFile(str(path), use_unicode=False).zipWithIndex()
        parts.append(lines.mapPartitions(lambda it, p=str(path): _records(it, p, id_field, text_field)))
    articles = parts[0] if len(parts) == 1 else sc.union(parts)
    return articles.zipWithIndex().map(lambda t: (t[1], t[0][0], t[0][1]))


def band_keys(signature: np.ndarray, bands: int, rows: int) -> list[tuple[int, int]]:
    """The ``(band, key)`` of each band of a signature (none if it is empty: no shingles), the keys
    :func:`dedup.candidates.candidate_pairs` groups by."""
    if np.all(signature == _EMPTY):
        return []
    keys = _band_keys(signature[: bands * rows].reshape(bands, rows)).view(np.int64).tolist()
    return list(enumerate(keys))


def _sign(articles: Iterable[tuple[int, str, str]], params: Params) -> Iterator[tuple[int, str, bytes]]:
    for pos, held, _ in _featurize(articles, params):
        yield pos, held.id, held.signature.astype(np.uint32).tobytes()


def _featurize(articles: Iterable[tuple[int, str, str]], params: Params) -> Iterator[tuple[int, Held, int]]:
    """``(position, what the index would keep of it, its length)`` of each article."""
    from dedup.index import Index

    featurizer = Featurizer(params)
    holder = Index.__new__(Index)  # (only its _hold, which reads params)
    holder.params = params
    for chunk in _chunks(articles, _SIGN_BATCH):
        for (pos, article_id, _), f in zip(chunk, featurizer.batch([t for _, _, t in chunk]), strict=True):
            yield pos, holder._hold(article_id, f), f.length


def sign(articles: RDD, params: Params) -> RDD:
    """``(position, id, signature)`` of each article (the signature as uint32 bytes), made in
    each partition with the local engine's featuriser."""
    return articles.mapPartitions(lambda it: _sign(it, params))


def featurize(articles: RDD, params: Params) -> RDD:
    """``(position, (packed Held record, length))`` of each article: its id, signature and
    sentence term counts (:class:`dedup.index_store.Held`), made in each partition."""
    return articles.mapPartitions(
        lambda it: ((pos, (held.pack(), length)) for pos, held, length in _featurize(it, params))
    )


def document_frequencies(features: RDD) -> tuple[np.ndarray, np.ndarray]:
    """Every term (sorted uint64) and the number of articles holding it: a Spark aggregation,
    collected (what verification needs of the whole corpus)."""
    counted = (
        features.flatMap(lambda kv: Held.unpack(kv[1][0]).document_terms().view(np.int64).tolist())
        .map(lambda t: (t, 1))
        .reduceByKey(lambda a, b: a + b)
        .collect()
    )
    if not counted:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    table = np.array(counted, dtype=np.int64)
    terms = table[:, 0].view(np.uint64)
    order = np.argsort(terms)
    return terms[order], table[order, 1]


class _Frequencies:
    """A reader of :func:`dedup.index._measure` backed by the corpus's document frequencies."""

    def __init__(self, terms: np.ndarray, counts: np.ndarray, n: int) -> None:
        self.terms, self.counts, self.n = terms, counts, n

    def count(self) -> int:
        return self.n

    def document_frequencies(self, terms: np.ndarray) -> np.ndarray:
        at = np.searchsorted(self.terms, terms)
        return self.counts[np.minimum(at, len(self.counts) - 1)].astype(np.int64)


def _score_groups(
    groups: Iterable[tuple[int, tuple[Iterable[tuple[int, bytes]], tuple[bytes, int]]]],
    frequencies: Any,
    params: Params,
) -> Iterator[tuple[int, int, str, str, float, float, float, float]]:
    """For each article with its candidates (all of higher position): ``(i, j, id_i, id_j,
    jaccard, cosine, match, score)`` of every candidate pair."""
    from dedup.index import _against_first, _measure
    from dedup.sign import estimate_jaccard_pairs

    table = _Frequencies(*frequencies.value)
    w = params.sentence_weight
    for i, (others, (blob, _)) in groups:
        new = Held.unpack(blob)
        ordered = sorted(others)
        held = [Held.unpack(b) for _, b in ordered]
        cos, match = _measure(new, held, table, params, counted=True)
        score = (1.0 - w) * cos + w * match
        jac = estimate_jaccard_pairs(
            np.stack([new.signature, *(h.signature for h in held)]), _against_first(len(held))
        )
        for (j, _), h, a, c, m, s in zip(ordered, held, jac, cos, match, score, strict=True):
            yield i, j, new.id, h.id, float(a), float(c), float(m), float(s)


def measure(candidate_pairs: RDD, features: RDD, params: Params) -> RDD:
    """``(i, j, id_i, id_j, jaccard, cosine, match, score)`` of every candidate pair, scored as
    the local engine scores it (with the corpus's document frequencies, broadcast)."""
    sc = features.context
    terms, counts = document_frequencies(features)
    frequencies = sc.broadcast((terms, counts, features.count()))
    # each candidate's record goes to the article it is paired with (the lower position)
    others = candidate_pairs.map(lambda ij: (ij[1], ij[0])).join(features)
    groups = others.map(lambda kv: (kv[1][0], (kv[0], kv[1][1][0]))).groupByKey().join(features)
    return groups.mapPartitions(lambda it: _score_groups(it, frequencies, params))


def _bucket_pairs(members: Iterable[int], max_bucket: int) -> Iterator[tuple[int, int]]:
    ordered = sorted(members)
    size = len(ordered)
    if size <= max_bucket:
        for a in range(size):
            for b in range(a + 1, size):
                yield ordered[a], ordered[b]
        return
    window = min(max_bucket, 8)
    for a in range(size):
        for b in range(a + 1, min(a + 1 + window, size)):
            yield ordered[a], ordered[b]


def candidates(signed: RDD, params: Params) -> RDD:
    """The distinct candidate pairs ``(i, j)``, ``i < j`` (positions), of signed articles."""
    bands, rows = params.bands_rows
    max_bucket = params.max_bucket

    def keyed(item: tuple[int, str, bytes]) -> list[tuple[tuple[int, int], int]]:
        pos, _, signature = item
        return [(key, pos) for key in band_keys(np.frombuffer(signature, dtype=np.uint32), bands, rows)]

    buckets = signed.flatMap(keyed).groupByKey()
    return buckets.flatMap(lambda kv: _bucket_pairs(kv[1], max_bucket)).distinct()


def spark_candidates(
    spark: SparkSession | None,
    paths: Sequence[str],
    *,
    id_field: str = "id",
    text_field: str = "text",
    **params: Any,
) -> np.ndarray:
    """The candidate pairs of JSONL ``paths``, computed on Spark, as a sorted ``(k, 2)`` array of
    input positions (what :func:`dedup.candidates.candidate_pairs` gives for the same articles)."""
    p = Params.from_kwargs(**params)
    session = spark_session(spark)
    with bad_records_surface():
        articles = read_jsonl(session, paths, id_field=id_field, text_field=text_field)
        found = np.array(sorted(candidates(sign(articles, p), p).collect()), dtype=np.int64)
    return found.reshape(-1, 2)


def spark_pairs(
    spark: SparkSession | None,
    paths: Sequence[str],
    *,
    id_field: str = "id",
    text_field: str = "text",
    **params: Any,
) -> list[tuple[str, str, float, float, float, float]]:
    """The verified pairs of JSONL ``paths``, computed on Spark: ``(a, b, jaccard, cosine,
    sentence_match, score)`` with ``a < b``, sorted, rounded as :class:`dedup.pipeline.Pair`."""
    p = Params.from_kwargs(**params)
    session = spark_session(spark)
    with bad_records_surface():
        articles = read_jsonl(session, paths, id_field=id_field, text_field=text_field)
        features = featurize(articles, p).persist()
        signed = features.map(lambda kv: (kv[0], "", Held.unpack(kv[1][0]).signature.tobytes()))
        found = candidates(signed, p)
        measured = measure(found, features, p).filter(lambda r: r[7] >= p.threshold).collect()
        features.unpersist()
    out = []
    for _, _, a, b, jac, cos, match, score in measured:
        a, b = (a, b) if a < b else (b, a)
        out.append((a, b, round(jac, 4), round(min(cos, 1.0), 4), round(match, 4), round(min(score, 1.0), 4)))
    return sorted(out)
