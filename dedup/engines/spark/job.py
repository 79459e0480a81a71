"""The Spark engine's driver: :func:`run` chains the stages and gathers the :class:`SparkResult`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from dedup.cluster import spanning_pairs
from dedup.engines.spark.clusters import clusters, copy_info, copy_names, with_copies
from dedup.engines.spark.io import (
    SparkInputError,
    SparkJobError,
    bad_records_surface,
)
from dedup.engines.spark.links import link_languages
from dedup.engines.spark.sign import candidates, exact_copies, featurize, partitions_for, spread
from dedup.engines.spark.verify import document_frequencies, measure
from dedup.features import uses_embeddings
from dedup.params import Params
from dedup.result import Result
from dedup.text.language import by_frequency

if TYPE_CHECKING:
    from pyspark import RDD
    from pyspark.sql import SparkSession


@dataclass
class SparkResult(Result):
    """A :class:`~dedup.engines.local.Result`, with the input positions of the articles it drops
    (sorted), for writing the kept records without collecting every id on the driver."""

    duplicate_positions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


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

    sc = spark.sparkContext
    embeds = uses_embeddings(params)  # (decided here: the executors are told, not asked)
    work = replace(params, xling_embeddings="yes" if embeds else "no") if params.cross_lingual else params
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with bad_records_surface():
        articles = articles.persist()
        n = articles.count()
        parts = partitions or partitions_for(spark, n)
        check_unique_ids(articles, parts)
        features = featurize(spread(articles, parts), work).persist()
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
            info = copy_info(everything, copies, sc)
        else:
            info = {}
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
        groups = with_copies(groups, copies, info, params)
        timings["cluster"] = time.perf_counter() - t0
        for rdd in {measured, found, features}:
            rdd.unpersist()
        frequencies.unpersist()
        linked = None
        if params.cross_lingual:
            linked = link_languages(everything, groups, n, params, embeds, parts)
            groups, timings["cross_lingual"] = linked.clusters, linked.seconds
        everything.unpersist()
    shown, exact = copy_names(copies, info, {c[0] for c in groups})
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
    links = []
    if linked is not None:
        from dedup.crosslingual import link_summary

        links = linked.links
        summary["cross_lingual"] = link_summary(params, out, len(links), linked.embedded)
    return SparkResult(pairs=pairs, clusters=out, summary=summary, links=links, duplicate_positions=dropped)
