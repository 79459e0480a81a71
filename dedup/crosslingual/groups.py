"""Same-language groups linked across languages: what the engines and the benchmarks call."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from dedup.crosslingual.links import EXACT_CELLS, MIN_COSINE, Link, best_links
from dedup.crosslingual.merge import merge
from dedup.crosslingual.vectors import fingerprint_matrix, group_vectors, voices

SETTLE = 2.0
"""The margin from which a fingerprint link is taken without embedding its groups
(:func:`link_groups`)."""

if TYPE_CHECKING:
    from dedup.result import Result


def group_languages(groups: Sequence[Sequence[int]], langs: Sequence[str]) -> list[str]:
    """Each group's language: its members' most frequent (the first seen among equals)."""
    return [Counter(langs[k] for k in g).most_common(1)[0][0] for g in groups]


def linkable(group_langs: Sequence[str]) -> np.ndarray:
    """Which groups can link at all: every group when two languages or more are present, none
    otherwise (a run over one language embeds nothing)."""
    return np.full(len(group_langs), len(set(group_langs)) > 1, dtype=bool)


Embedder = Callable[[Sequence[Sequence[int]]], np.ndarray]
"""Gives one L2-normalised embedding row per group it is handed (lists of article indices)."""


def embedder(
    lengths: np.ndarray, text_of: Callable[[Sequence[int]], list[str]], *, threads: int = 1
) -> Embedder:
    """An :data:`Embedder` that embeds each group's longest article
    (:func:`~dedup.crosslingual.vectors.voices`); ``text_of`` gives the texts (their first
    :data:`~dedup.text.embeddings.HEAD` characters are enough) of articles by index."""

    def embed_groups(groups: Sequence[Sequence[int]]) -> np.ndarray:
        from dedup.text.embeddings import DIMENSIONS, embed

        if not groups:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return embed(text_of(voices(groups, lengths).tolist()), threads=threads)

    return embed_groups


def link_groups(
    matrix: sp.csr_matrix,
    groups: Sequence[Sequence[int]],
    langs: Sequence[str],
    *,
    threshold: float = 1.4,
    min_cosine: float = MIN_COSINE,
    embed: Embedder | None = None,
    settle: float | None = SETTLE,
    weight: float = 0.5,
    exact_cells: int = EXACT_CELLS,
) -> tuple[list[list[int]], list[Link]]:
    """The ``groups`` (lists of article indices, each article in one; singletons included) joined
    across languages (:func:`~dedup.crosslingual.links.best_links`, then
    :func:`~dedup.crosslingual.merge.merge`): the merged groups, each a sorted list of article
    indices, in the order of their first article; and the links that joined them, with ``a`` and
    ``b`` the first articles of the two groups. ``matrix``: the articles' fingerprint rows;
    ``langs``: their languages (a group's is its members' most frequent). ``threshold``: the
    margin a link needs; ``exact_cells``: see :func:`~dedup.crosslingual.links.best_matches`.

    ``embed`` (:func:`embedder`), or None for fingerprints alone: with it, the fingerprint links
    whose margin reaches ``settle`` are taken first, as they are; only the other groups are
    embedded, and linked among themselves by fingerprints and embeddings together. (On the
    three WMT dev sets, every fingerprint link of margin 2.0 or more is right, and they settle
    35% to 62% of the groups: that much less to embed, the slowest step by far. None embeds
    every group.)"""
    groups = [sorted(g) for g in groups]
    group_langs = group_languages(groups, langs)
    vectors = group_vectors(matrix, groups)
    options = {"min_cosine": min_cosine, "weight": weight, "exact_cells": exact_cells}
    if embed is None or not linkable(group_langs).any():
        found, sure = best_links(vectors, group_langs, threshold=threshold, **options), []
    else:
        sure = [] if settle is None else best_links(vectors, group_langs, threshold=settle, **options)
        settled = np.zeros(len(groups), dtype=bool)
        for x in sure:
            settled[[x.a, x.b]] = True
        rest = np.flatnonzero(~settled)
        rest_langs = [group_langs[g] for g in rest.tolist()]
        found = []
        if len(set(rest_langs)) > 1:
            embeddings = embed([groups[g] for g in rest.tolist()])
            found = [
                Link(int(rest[x.a]), int(rest[x.b]), x.lang_a, x.lang_b, x.cosine, x.margin)
                for x in best_links(
                    vectors[rest], rest_langs, threshold=threshold, embeddings=embeddings, **options
                )
            ]
    joined, used = merge(len(groups), found, first=sure)
    merged = sorted((sorted(k for g in members for k in groups[g]) for members in joined), key=lambda m: m[0])
    links = [Link(groups[x.a][0], groups[x.b][0], x.lang_a, x.lang_b, x.cosine, x.margin) for x in used]
    return merged, links


def link_languages(
    result: Result,
    articles: Sequence[tuple[str, str]],
    langs: Sequence[str],
    *,
    threshold: float = 1.4,
    min_cosine: float = MIN_COSINE,
    representative: str = "longest",
    embeddings: bool = False,
    settle: float | None = SETTLE,
    prefer_lang: Sequence[str] | None = None,
) -> tuple[Result, list[tuple[str, str, str, str, float]]]:
    """``result`` (a same-language run over ``articles``, ``(id, text)`` in input order, whose
    languages are ``langs``) with its groups linked across languages (:func:`link_groups`; with
    ``embeddings``, each group's embedding too, :func:`embedder`): the clusters merged, and
    the links as ``(id_a, id_b, lang_a, lang_b, margin)`` between the groups' first members. Each
    cluster keeps a member in the first language of ``prefer_lang`` it has, by the
    ``representative`` rule (:func:`dedup.cluster.choose_representative`)."""
    from dedup.cluster import choose_representative
    from dedup.result import Cluster, Result

    ids = [article_id for article_id, _ in articles]
    at = {article_id: k for k, article_id in enumerate(ids)}
    clustered = {m for c in result.clusters for m in c.members}
    groups = [[at[m] for m in c.members] for c in result.clusters]
    groups += [[k] for k, article_id in enumerate(ids) if article_id not in clustered]
    lengths = np.array([len(text) for _, text in articles], dtype=np.int64)
    embed = embedder(lengths, lambda ks: [articles[k][1] for k in ks]) if embeddings else None
    merged, links = link_groups(
        fingerprint_matrix([text for _, text in articles]),
        groups,
        langs,
        threshold=threshold,
        min_cosine=min_cosine,
        embed=embed,
        settle=settle,
    )
    clusters = []
    for members in merged:
        if len(members) < 2:
            continue
        rep = choose_representative(
            np.array(members), lengths, representative, langs=langs, prefer=prefer_lang
        )
        clusters.append(Cluster(len(clusters), ids[rep], [ids[k] for k in members]))
    named = [(ids[x.a], ids[x.b], x.lang_a, x.lang_b, x.margin) for x in links]
    removed = sum(len(c.members) - 1 for c in clusters)
    summary = dict(result.summary)
    if "articles" in summary:
        summary["articles"] = {
            **summary["articles"],
            "kept": summary["articles"]["read"] - summary["articles"]["skipped_bad_input"] - removed,
            "removed_as_duplicates": removed,
        }
    summary["clusters"] = len(clusters)
    return Result(pairs=result.pairs, clusters=clusters, summary=summary), named
