"""Spark stage link (a cross-lingual run): the same-language clusters, and every other article
alone, joined across languages as the local engine joins them (:mod:`dedup.crosslingual`).

What grows with the articles runs on the executors: the fingerprint tokens' document frequencies
(a Spark aggregation, as verification counts its terms), and each group's vector, made where the
group's members meet (one shuffle of the fingerprints, keyed by group) by the functions the local
engine calls, :func:`~dedup.crosslingual.fingerprint_rows` (given the corpus's frequencies) and
:func:`~dedup.crosslingual.group_vectors`: the columns are the corpus's tokens in the same order
and every float is summed in the same order, so each group's row is the local engine's to the
bit. With the embedding extra, the article that speaks for each group
(:func:`~dedup.crosslingual.voices`) is embedded on the executor that holds it. Only what a
group is compared by reaches the driver (its sparse row, its language, its embedding), where
:func:`~dedup.crosslingual.join_groups` decides as it decides in a local run; the articles of the
groups it joins are then looked up by position.

Groups are numbered as the local engine numbers them: the clusters first, in their order, then
every other article alone, by position (the order decides ties between equal cosines and margins).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from dedup.engines.spark.clusters import copy_info
from dedup.engines.spark.verify import document_frequencies
from dedup.params import Params
from dedup.result import LanguageLink

if TYPE_CHECKING:
    from pyspark import RDD

GROUP_BATCH = 20_000
"""Articles whose groups' vectors a task makes together (groups are never split)."""

FINGERPRINT, HEAD = 4, 5  # where a featurised record holds them (dedup.engines.spark.sign.featurize)

Clusters = list[tuple[int, list[int], list[str], list[str], list[int]]]
"""``(representative, members, their ids, languages and lengths)``, positions, members in input order."""


@dataclass(frozen=True)
class Grouping:
    """Which group each article is in: ``clustered``, the positions of the articles in a cluster
    (sorted), and ``label``, each one's cluster; the others are groups of their own, numbered
    from ``clusters`` on by position."""

    clustered: np.ndarray
    label: np.ndarray
    clusters: int

    @classmethod
    def of(cls, groups: Clusters) -> Grouping:
        positions = np.array([x for _, members, *_ in groups for x in members], dtype=np.int64)
        labels = np.repeat(np.arange(len(groups)), [len(members) for _, members, *_ in groups])
        order = np.argsort(positions)
        return cls(positions[order], labels[order], len(groups))

    def group_of(self, positions: np.ndarray) -> np.ndarray:
        """The group of each article (by position)."""
        positions = np.asarray(positions, dtype=np.int64)
        at = np.searchsorted(self.clustered, positions)
        if not len(self.clustered):
            return self.clusters + positions
        near = np.minimum(at, len(self.clustered) - 1)
        return np.where(self.clustered[near] == positions, self.label[near], self.clusters + positions - at)


def _fingerprint_tokens(value: tuple[Any, ...]) -> np.ndarray:
    return np.unique(np.frombuffer(value[FINGERPRINT], dtype=np.uint64))


def _keyed(
    items: Iterable[tuple[int, tuple[Any, ...]]], grouping: Any
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """``(group, (position, language, length, fingerprint, head))`` of a partition's articles."""
    for chunk in _chunks(items, GROUP_BATCH):
        groups = grouping.value.group_of(np.array([pos for pos, _ in chunk], dtype=np.int64)).tolist()
        for g, (pos, value) in zip(groups, chunk, strict=True):
            yield g, (pos, value[2], value[1], value[FINGERPRINT], value[HEAD])


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


Block = tuple[
    np.ndarray, list[str], list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[tuple[bytes, str]]
]
"""Some groups: ``(groups, languages linked, languages named, first positions, indptr, indices,
data, voices)``, each voice its head and language."""


def _group_rows(
    items: Iterable[tuple[int, tuple[Any, ...]]], frequencies: Any, embeds: bool
) -> Iterator[Block]:
    """A partition's groups as :data:`Block` s: their fingerprint vectors as the rows of a CSR
    matrix (columns: the corpus's tokens), and, with ``embeds``, the head of each group's voice."""
    ordered = sorted(items, key=lambda kv: (kv[0], kv[1][0]))  # by group, members by position
    batch: list[tuple[int, list[tuple[Any, ...]]]] = []
    size = 0
    for g, members in itertools.groupby(ordered, key=lambda kv: kv[0]):
        batch.append((g, [m for _, m in members]))
        size += len(batch[-1][1])
        if size >= GROUP_BATCH:
            yield _block(batch, frequencies.value, embeds)
            batch, size = [], 0
    if batch:
        yield _block(batch, frequencies.value, embeds)


def _block(batch: list[tuple[int, list[tuple[Any, ...]]]], frequencies: Any, embeds: bool) -> Block:
    """The :data:`Block` of ``(group, its members' (position, language, length, fingerprint,
    head))``, by the local engine's functions."""
    from dedup.crosslingual import fingerprint_rows, group_languages, group_vectors, spoken_languages, voices

    articles = [m for _, members in batch for m in members]
    ends = np.cumsum([len(members) for _, members in batch]).tolist()
    local = [list(range(end - len(members), end)) for (_, members), end in zip(batch, ends, strict=True)]
    rows = fingerprint_rows([np.frombuffer(a[3], dtype=np.uint64) for a in articles], frequencies=frequencies)
    vectors = group_vectors(rows, local)
    article_langs = [a[1] for a in articles]
    langs, spoken = group_languages(local, article_langs), spoken_languages(local, article_langs)
    heads = []
    if embeds:
        chosen = voices(local, np.array([a[2] for a in articles], dtype=np.int64))
        heads = [(articles[k][4], articles[k][1]) for k in chosen.tolist()]
    groups = np.array([g for g, _ in batch], dtype=np.int64)
    firsts = np.array([members[0][0] for _, members in batch], dtype=np.int64)
    return groups, langs, spoken, firsts, vectors.indptr, vectors.indices, vectors.data, heads


def _embedded(blocks: Iterable[Block]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(groups, their embeddings)`` of each block: its voices embedded by the local engine's
    :func:`~dedup.crosslingual.embedder` (each voice a group of its own)."""
    from dedup.crosslingual import embedder

    for block in blocks:
        voices = block[-1]
        embed = embedder(
            np.zeros(len(voices), dtype=np.int64),
            lambda ks, voices=voices: [voices[k][0].decode() for k in ks],
            [lang for _, lang in voices],
        )
        yield block[0], embed([[k] for k in range(len(voices))])


@dataclass
class Linked:
    """What the link stage gives the run: the clusters joined, the links, and the summary's facts."""

    clusters: Clusters
    links: list[LanguageLink]
    embedded: int | None  # groups embedded (None: fingerprints alone)
    seconds: float


def link_languages(
    everything: RDD, groups: Clusters, n: int, params: Params, embeds: bool, parts: int
) -> Linked:
    """The clusters ``groups`` (with their exact copies) and every other of the ``n`` articles of
    ``everything`` (featurised records, :func:`~dedup.engines.spark.sign.featurize`, of a
    cross-lingual run) joined across languages, with embeddings if ``embeds``; representatives
    by :func:`~dedup.cluster.choose_representative`, clusters sorted by their first member."""
    from dedup.cluster import choose_representative
    from dedup.crosslingual import join_groups, linkable

    t0 = time.perf_counter()
    sc = everything.context
    tokens, counts = document_frequencies(everything, parts, terms_of=_fingerprint_tokens)
    frequencies = sc.broadcast((tokens, counts, n))
    grouping = Grouping.of(groups)
    shared = sc.broadcast(grouping)
    blocks = (
        everything.mapPartitions(lambda it: _keyed(it, shared))
        .partitionBy(parts)
        .mapPartitions(lambda it: _group_rows(it, frequencies, embeds))
        .persist()
    )
    found = blocks.map(lambda b: b[:7]).collect()
    total = grouping.clusters + n - len(grouping.clustered)
    order = np.argsort(np.concatenate([b[0] for b in found] or [np.zeros(0, dtype=np.int64)]))
    if len(order) != total:  # (Spark loses no record; this says so in every run)
        raise RuntimeError(f"{total:,} groups to link but {len(order):,} made")
    langs = [lang for b in found for lang in b[1]]
    group_langs = [langs[k] for k in order.tolist()]
    spoken = [lang for b in found for lang in b[2]]
    spoken = [spoken[k] for k in order.tolist()]
    firsts = np.concatenate([b[3] for b in found] or [np.zeros(0, dtype=np.int64)])[order]
    indptr = np.concatenate([[0], np.cumsum(np.concatenate([np.diff(b[4]) for b in found] or [[]]))])
    vectors = sp.csr_matrix(
        (
            np.concatenate([b[6] for b in found] or [np.zeros(0, dtype=np.float32)]),
            np.concatenate([b[5] for b in found] or [np.zeros(0, dtype=np.int32)]),
            indptr.astype(np.int64),
        ),
        shape=(len(order), len(tokens)),
    )[order]
    del found
    embeddings = None
    embedded = None
    if embeds:
        from dedup.text.embeddings import DIMENSIONS

        embedded = 0
        if linkable(group_langs).any():  # (as the local engine: every group, or none)
            embeddings = np.zeros((total, DIMENSIONS), dtype=np.float32)
            for which, rows in blocks.mapPartitions(_embedded).collect():
                embeddings[which] = rows
            embedded = total
    blocks.unpersist()
    frequencies.unpersist()
    shared.unpersist()
    margin = params.link_margin(embeds)
    joined, used = join_groups(vectors, group_langs, threshold=margin, embeddings=embeddings)
    # the articles of the groups joined: a cluster's from the clusters, a lone one's looked up
    alone = sorted(
        int(firsts[g]) for members in joined if len(members) > 1 for g in members if g >= grouping.clusters
    )
    info = copy_info(everything, np.array(alone, dtype=np.int64), sc) if alone else {}
    about: dict[int, tuple[str, str, int]] = {p: (i[0], i[2], i[1]) for p, i in info.items()}
    for _, members, ids, member_langs, lengths in groups:
        about.update(zip(members, zip(ids, member_langs, lengths, strict=True), strict=True))
    out = []
    for members in joined:
        if len(members) == 1:
            if members[0] < grouping.clusters:
                out.append(groups[members[0]])
            continue
        positions = sorted(
            x for g in members for x in (groups[g][1] if g < grouping.clusters else [int(firsts[g])])
        )
        lengths = np.zeros(positions[-1] + 1, dtype=np.int64)
        lengths[positions] = [about[x][2] for x in positions]
        rep = choose_representative(
            np.array(positions),
            lengths,
            params.representative,
            langs={x: about[x][1] for x in positions},
            prefer=params.prefer_lang,
        )
        out.append(
            (rep, positions, *([about[x][k] for x in positions] for k in range(3)))  # type: ignore[arg-type]
        )
    out.sort(key=lambda c: c[1][0])
    named = [(about[int(firsts[x.a])][0], about[int(firsts[x.b])][0]) for x in used]
    links = [
        LanguageLink(a, b, spoken[x.a], spoken[x.b], x.cosine, x.margin)
        for (a, b), x in zip(named, used, strict=True)
    ]
    return Linked(out, links, embedded, time.perf_counter() - t0)
