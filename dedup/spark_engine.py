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

    cluster   connected components of the verified pairs by large-star / small-star (Kiveris et
              al., 2014: rounds of two RDD steps, each a shuffle, until no edge changes); each
              component to re-cluster is one task, scoring its members with the candidates'
              measured values (rounded as the local engine keeps them, float32) and measuring
              the other pairs, then cut by :func:`dedup.cluster._split`; representatives by
              :func:`dedup.cluster.choose_representative`

    write     pairs and clusters collected by the driver; the deduplicated dump by Spark, the
              input lines of the kept articles as they were read (``deduplicated/``, part files)

:func:`run` is the whole of it (what ``find_duplicates(..., engine="spark")`` and ``dedup run
--engine spark`` call). Not built yet: Parquet, and outputs written elsewhere than a local folder.
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

    from dedup.pipeline import Result

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


def spark_session(
    spark: SparkSession | None = None, *, master: str = "local[*]", progress: bool = True
) -> SparkSession:
    """``spark`` if given (a job's own session), else the active one, else a new ``master`` one
    (with Spark's console progress bars if ``progress``)."""
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
        .config("spark.ui.showConsoleProgress", "true" if progress else "false")
        .config("spark.sql.shuffle.partitions", str(max(2, (os.cpu_count() or 2) * 2)))
        .getOrCreate()
    )


def _records(
    lines: Iterable[tuple[bytes, int]], source: str, id_field: str, text_field: str
) -> Iterator[tuple[str, str, str]]:
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
        yield record.article.id, record.article.text, f"{source}:{k + 1}"


def read_jsonl(
    spark: SparkSession, paths: Sequence[str], *, id_field: str = "id", text_field: str = "text"
) -> RDD:
    """The articles of JSONL files as an RDD of ``(position, id, text, "file:line")``: positions
    number the articles in input order (the files in the order given, each line by line)."""
    sc = spark.sparkContext
    parts = []
    for path in paths:
        lines = sc.textFile(str(path), use_unicode=False).zipWithIndex()
        parts.append(lines.mapPartitions(lambda it, p=str(path): _records(it, p, id_field, text_field)))
    articles = parts[0] if len(parts) == 1 else sc.union(parts)
    with bad_records_surface():  # zipWithIndex runs a job now, reading every file
        return articles.zipWithIndex().map(lambda t: (t[1], *t[0]))


def _checked_rows(
    rows: Iterable[tuple[Any, int]], id_field: str, text_field: str
) -> Iterator[tuple[str, str, str]]:
    """``(id, text, "file: record N")`` of Parquet rows, checked as JSONL records are."""
    for row, k in rows:
        where = f"{row['_dedup_file']}: record {k + 1}"
        article_id, text = row[id_field], row[text_field]
        if isinstance(article_id, (int, float)) and not isinstance(article_id, bool):
            article_id = str(article_id)
        if not isinstance(article_id, str) or not article_id:
            raise SparkInputError(
                f"{where}: the id field {id_field!r} must be a non-empty string or a number"
            )
        if not isinstance(text, str) or not text.strip():
            raise SparkInputError(f"{where}: empty or missing text (field {text_field!r})")
        yield article_id, text, where


def read_parquet(
    spark: SparkSession, paths: Sequence[str], *, id_field: str = "id", text_field: str = "text"
) -> tuple[RDD, Any]:
    """The articles of Parquet files or folders, as :func:`read_jsonl` gives them (records
    numbered in the order Spark reads them), and the DataFrame read (for writing the kept rows
    with all their columns)."""
    from pyspark.sql import functions as F

    frame = spark.read.parquet(*[str(p) for p in paths])
    for name in (id_field, text_field):
        if name not in frame.columns:
            raise SparkInputError(
                f"{', '.join(map(str, paths))}: no column {name!r} (columns: {frame.columns})"
            )
    tagged = frame.withColumn("_dedup_file", F.input_file_name())
    with bad_records_surface():
        rows = tagged.rdd.zipWithIndex()
        articles = rows.mapPartitions(lambda it: _checked_rows(it, id_field, text_field))
        return articles.zipWithIndex().map(lambda t: (t[1], *t[0])), frame


def write_parquet_kept(spark: SparkSession, frame: Any, drop: set[int], out: str) -> None:
    """The rows of ``frame`` (as :func:`read_parquet` numbered them) not in ``drop``, all
    columns, as Parquet in the folder ``out``."""
    dropped = spark.sparkContext.broadcast(frozenset(drop))
    kept = frame.rdd.zipWithIndex().filter(lambda t: t[1] not in dropped.value).map(lambda t: t[0])
    spark.createDataFrame(kept, schema=frame.schema).write.mode("error").parquet(out)


def band_keys(signature: np.ndarray, bands: int, rows: int) -> list[tuple[int, int]]:
    """The ``(band, key)`` of each band of a signature (none if it is empty: no shingles), the keys
    :func:`dedup.candidates.candidate_pairs` groups by."""
    if np.all(signature == _EMPTY):
        return []
    keys = _band_keys(signature[: bands * rows].reshape(bands, rows)).view(np.int64).tolist()
    return list(enumerate(keys))


def _sign(articles: Iterable[tuple[Any, ...]], params: Params) -> Iterator[tuple[int, str, bytes]]:
    for pos, held, _ in _featurize(articles, params):
        yield pos, held.id, held.signature.astype(np.uint32).tobytes()


def _featurize(articles: Iterable[tuple[Any, ...]], params: Params) -> Iterator[tuple[int, Held, int]]:
    """``(position, what the index would keep of it, its length)`` of each ``(position, id, text,
    ...)``."""
    from dedup.index import Index

    featurizer = Featurizer(params)
    holder = Index.__new__(Index)  # (only its _hold, which reads params)
    holder.params = params
    for chunk in _chunks(articles, _SIGN_BATCH):
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
            yield a[0], holder._hold(a[1], f), f.length


def sign(articles: RDD, params: Params) -> RDD:
    """``(position, id, signature)`` of each article (the signature as uint32 bytes), made in
    each partition with the local engine's featuriser."""
    return articles.mapPartitions(lambda it: _sign(it, params))


def signatures(features: RDD) -> RDD:
    """``(position, "", signature)`` from :func:`featurize`'s records, as :func:`candidates` takes
    them (the articles are not featurised twice)."""
    return features.map(lambda kv: (kv[0], "", Held.unpack(kv[1][0]).signature.tobytes()))


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


def components(pairs: RDD, *, max_rounds: int = 100) -> RDD:
    """``(node, component)`` of every node of ``pairs`` (edges ``(i, j)``): the component is its
    smallest node. Large-star and small-star alternate until a round changes no edge."""
    parts = max(2, pairs.context.defaultParallelism)  # (each round's shuffles keep this many)
    edges = pairs.map(lambda e: (max(e), min(e))).distinct(parts).persist()
    for _ in range(max_rounds):
        moved = _small_star(_large_star(edges)).persist()
        if moved.subtract(edges, parts).isEmpty() and edges.subtract(moved, parts).isEmpty():
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
    group: tuple[int, tuple[Iterable[tuple[int, bytes, int]], Iterable[tuple[int, int, float, float]]]],
    frequencies: Any,
    params: Params,
) -> list[tuple[int, list[int]]]:
    """The clusters (representative, members) of one component, as the local engine makes them."""
    from dedup.cluster import MAX_RECLUSTER, _split, choose_representative
    from dedup.index import _measure

    _, (members_in, known_in) = group
    members = sorted(members_in)
    positions = np.array([m[0] for m in members], dtype=np.int64)
    lengths = {m[0]: m[2] for m in members}
    size = len(members)
    if params.linkage == "single" or size == 2 or size > MAX_RECLUSTER:
        parts = [positions]
    else:
        table = _Frequencies(*frequencies.value)
        held = [Held.unpack(m[1]) for m in members]
        w = params.sentence_weight
        cos, match = np.eye(size), np.eye(size)
        for a in range(size - 1):
            c, t = _measure(held[a], held[a + 1 :], table, params, counted=True)
            cos[a, a + 1 :] = cos[a + 1 :, a] = c
            match[a, a + 1 :] = match[a + 1 :, a] = t
        at = {int(p): k for k, p in enumerate(positions)}
        for i, j, c, t in known_in:  # the candidates' values, as the local engine keeps them
            a, b = at[i], at[j]
            cos[a, b] = cos[b, a] = float(np.float32(c))
            match[a, b] = match[b, a] = float(np.float32(t))
        sim = cos if w == 0 else (1.0 - w) * cos + w * match
        parts = [part for part in _split(positions, sim, params.threshold, params.linkage) if len(part) >= 2]
    out = []
    for part in parts:
        part_lengths = np.zeros(int(part.max()) + 1, dtype=np.int64)
        part_lengths[part] = [lengths[int(p)] for p in part]
        out.append((choose_representative(part, part_lengths, params.representative), part.tolist()))
    return out


def clusters(measured: RDD, features: RDD, params: Params) -> list[tuple[int, list[int]]]:
    """The clusters, ``(representative, members)`` as positions, members in input order, sorted
    by their first member (the local engine's order)."""
    sc = features.context
    verified = measured.filter(lambda r: r[7] >= params.threshold).map(lambda r: (r[0], r[1]))
    label = components(verified).persist()
    frequencies = sc.broadcast(document_frequencies(features) + (features.count(),))
    members = label.join(features).map(lambda kv: (kv[1][0], (kv[0], kv[1][1][0], kv[1][1][1])))
    # every candidate pair inside a component: the values re-clustering reuses
    known = (
        measured.map(lambda r: (r[0], (r[1], r[5], r[6])))
        .join(label)
        .map(lambda kv: (kv[1][0][0], (kv[0], kv[1][0], kv[1][1])))
        .join(label)
        .filter(lambda kv: kv[1][0][2] == kv[1][1])
        .map(lambda kv: (kv[1][1], (kv[1][0][0], kv[0], kv[1][0][1][1], kv[1][0][1][2])))
    )
    found = members.cogroup(known).flatMap(lambda g: _recluster(g, frequencies, params)).collect()
    label.unpersist()
    return sorted(((rep, sorted(m)) for rep, m in found), key=lambda c: c[1][0])


def check_unique_ids(articles: RDD) -> None:
    """Raise :class:`SparkInputError` for an id held by two articles, naming where both are."""
    twice = (
        articles.map(lambda a: (a[1], (a[0], a[3]))).groupByKey().filter(lambda kv: len(kv[1]) > 1).take(1)
    )
    if twice:
        article_id, places = twice[0]
        (_, first), (_, second) = sorted(places)[:2]
        raise SparkInputError(f"{second}: duplicate id {article_id!r} (first seen at {first})")


def run(spark: SparkSession, articles: RDD, params: Params) -> Result:
    """The pipeline on Spark over ``(position, id, text, "file:line")`` articles: the
    :class:`~dedup.pipeline.Result` the local engine gives (its pairs and clusters)."""
    import time

    from dedup.pipeline import Cluster, Pair, Result, versions
    from dedup.sign import HASH_SCHEME

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with bad_records_surface():
        articles = articles.persist()
        n = articles.count()
        check_unique_ids(articles)
        features = featurize(articles, params).persist()
        found = candidates(signatures(features), params).persist()
        n_candidates = found.count()
        timings["read_sign_candidates"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        measured = measure(found, features, params).persist()
        rows = measured.filter(lambda r: r[7] >= params.threshold).collect()
        timings["verify"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        groups = clusters(measured, features, params)
        ids = dict(articles.map(lambda a: (a[0], a[1])).collect())
        timings["cluster"] = time.perf_counter() - t0
        for rdd in (measured, found, features, articles):
            rdd.unpersist()
    pairs = []
    for _, _, a, b, jac, cos, match, score in rows:
        a, b = (a, b) if a < b else (b, a)
        pairs.append(
            Pair(a, b, round(jac, 4), round(min(cos, 1.0), 4), round(match, 4), round(min(score, 1.0), 4))
        )
    pairs.sort(key=lambda q: (q.a, q.b))
    out = [Cluster(k, ids[rep], [ids[m] for m in members]) for k, (rep, members) in enumerate(groups)]
    removed = sum(len(c.members) - 1 for c in out)
    bands, rows_per_band = params.bands_rows
    summary = {
        "engine": "spark",
        "spark": {"master": spark.sparkContext.master, "version": spark.version},
        "articles": {
            "read": n,
            "kept": n - removed,
            "removed_as_duplicates": removed,
            "skipped_bad_input": 0,
        },
        "candidates": {
            "pairs": n_candidates,
            "verified_pairs": len(pairs),
            "bands": bands,
            "rows": rows_per_band,
        },
        "clusters": len(out),
        "params": params.to_dict(),
        "minhash": {"num_perm": params.num_perm, "seed": params.seed, "hash_scheme": HASH_SCHEME},
        "versions": versions(),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }
    return Result(pairs=pairs, clusters=out, summary=summary)


def write_deduplicated(spark: SparkSession, paths: Sequence[str], drop: set[int], out: str) -> None:
    """The input lines of the articles not in ``drop`` (positions), as they were read, in input
    order, into the Spark output folder ``out`` (part files; gzipped when every input is)."""
    sc = spark.sparkContext
    dropped = sc.broadcast(frozenset(drop))
    parts = []
    for path in paths:
        lines = sc.textFile(str(path), use_unicode=False).zipWithIndex()
        parts.append(lines.filter(lambda t: t[0].strip()).map(lambda t: t[0]))
    kept = (parts[0] if len(parts) == 1 else sc.union(parts)).zipWithIndex()
    kept = kept.filter(lambda t: t[1] not in dropped.value).map(lambda t: t[0].decode("utf-8"))
    codec = "org.apache.hadoop.io.compress.GzipCodec" if all(str(p).endswith(".gz") for p in paths) else None
    kept.saveAsTextFile(out, compressionCodecClass=codec)
