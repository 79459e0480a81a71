"""The batch pipeline on Apache Spark (``pip install 'newsdedup[spark]'``), for dumps that outgrow one
machine.

It is the local pipeline's data flow, stage by stage, with the same functions inside each task,
so that it finds the same candidates, pairs and clusters. Articles are keyed by their position
(their place in the input) and spread over ``P`` partitions by it
(:func:`~dedup.engines.spark.sign.partitions_for`; a gzipped file is one partition as read):
every stage below that meets an article's features meets them in the partition they already sit
in, so features cross the network once per candidate pair, not once per join.

    read      :mod:`dedup.engines.spark.io`: JSONL or Parquet, each record checked as the local reader
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
              records written by Spark (:mod:`dedup.engines.spark.io`)

Each stage is a module (``sign``, ``verify``, ``clusters``); :func:`run`
(:mod:`dedup.engines.spark.job`) is the whole of it (what ``find_duplicates(..., engine="spark")``
and ``dedup run --engine spark`` call).
"""

from dedup.engines.spark.clusters import components
from dedup.engines.spark.job import SparkResult, check_unique_ids, run
from dedup.engines.spark.sign import spark_candidates

__all__ = ["SparkResult", "check_unique_ids", "components", "run", "spark_candidates"]
