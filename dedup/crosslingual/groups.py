"""Same-language groups linked across languages: what the engines and the benchmarks call."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from dedup.crosslingual.links import (
    EXACT_CELLS,
    MIN_COSINE,
    Link,
    best_links,
    combined,
    linked_languages,
)
from dedup.crosslingual.merge import COHESION, merge
from dedup.crosslingual.vectors import centred, fingerprint_matrix, group_vectors, voices

if TYPE_CHECKING:
    from dedup.params import Params
    from dedup.result import Cluster, Result


MACROLANGUAGES = {"bs": "sh", "hr": "sh", "sr": "sh", "nb": "no", "nn": "no", "id": "ms"}
"""Languages linked as one (ISO 639 macrolanguages whose members the detector tells apart by a
few words: Bosnian, Croatian and Serbian; Bokmål and Nynorsk; Indonesian and Malay). Their
texts are compared by the same-language path already; linking them as two languages would join
two groups of what is one language to a reader (on the WMT22 short texts, 35 of 320 Croatian
texts were detected as Bosnian or Serbian)."""


def group_languages(groups: Sequence[Sequence[int]], langs: Sequence[str]) -> list[str]:
    """Each group's language as linking sees it: its members' most frequent (the first seen
    among equals), a member of a :data:`MACROLANGUAGES` counted as the macrolanguage."""
    return [Counter(MACROLANGUAGES.get(langs[k], langs[k]) for k in g).most_common(1)[0][0] for g in groups]


def spoken_languages(groups: Sequence[Sequence[int]], langs: Sequence[str]) -> list[str]:
    """Each group's language as its links name it: its members' most frequent (the first seen
    among equals), macrolanguages not merged."""
    return [Counter(langs[k] for k in g).most_common(1)[0][0] for g in groups]


def linkable(group_langs: Sequence[str]) -> np.ndarray:
    """Which groups can link at all: every group when two languages or more are present, none
    otherwise (a run over one language embeds nothing)."""
    return np.full(len(group_langs), len(set(group_langs)) > 1, dtype=bool)


Embedder = Callable[[Sequence[Sequence[int]]], np.ndarray]
"""Gives one L2-normalised embedding row per group it is handed (lists of article indices)."""


def embedder(
    lengths: np.ndarray,
    text_of: Callable[[Sequence[int]], list[str]],
    langs: Sequence[str],
    *,
    threads: int = 1,
) -> Embedder:
    """An :data:`Embedder` that embeds each group's longest article
    (:func:`~dedup.crosslingual.vectors.voices`), its first
    :func:`~dedup.text.embeddings.head_length` characters for its language (``langs``, one per
    article); ``text_of`` gives the texts (their first :data:`~dedup.text.embeddings.HEAD`
    characters are enough) of articles by index."""

    def embed_groups(groups: Sequence[Sequence[int]]) -> np.ndarray:
        from dedup.text.embeddings import DIMENSIONS, embed, head_length

        if not groups:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        chosen = voices(groups, lengths).tolist()
        texts = [text[: head_length(langs[k])] for k, text in zip(chosen, text_of(chosen), strict=True)]
        return embed(texts, threads=threads)

    return embed_groups


def join_groups(
    vectors: sp.csr_matrix,
    group_langs: Sequence[str],
    *,
    threshold: float = 1.4,
    min_cosine: float = MIN_COSINE,
    embeddings: np.ndarray | None = None,
    weight: float = 0.5,
    exact_cells: int = EXACT_CELLS,
    cohesion: float = COHESION,
) -> tuple[list[list[int]], list[Link]]:
    """Groups joined across languages, from their vectors
    (:func:`~dedup.crosslingual.vectors.group_vectors`), languages (:func:`group_languages`) and
    embeddings (None: fingerprints alone): :func:`~dedup.crosslingual.links.best_links`, then
    :func:`~dedup.crosslingual.merge.merge`, whose clusters of group indices and links used
    (between group indices) it returns. Where every engine's linking is decided: the local
    engine's (:func:`link_groups`) and Spark's, which makes the vectors and embeddings on its
    executors (:mod:`dedup.engines.spark.links`)."""
    found = best_links(
        vectors,
        group_langs,
        threshold=threshold,
        min_cosine=min_cosine,
        embeddings=embeddings,
        weight=weight,
        exact_cells=exact_cells,
    )
    mean_free = None
    if embeddings is not None:
        mean_free = centred(embeddings, linked_languages(group_langs))

    def similarity(these: list[int], those: list[int]) -> float:
        """The mean cosine of the groups ``these`` and ``those`` (as :func:`best_matches` scores)."""
        scores = (vectors[these] @ vectors[those].T).toarray()
        if mean_free is not None:
            scores = combined(scores, mean_free[these] @ mean_free[those].T, weight)
        return float(np.maximum(scores, 0.0).mean())

    return merge(len(group_langs), found, similarity=similarity, cohesion=cohesion)


def link_summary(params: Params, clusters: Sequence[Cluster], links: int, embedded: int | None) -> dict:
    """The ``cross_lingual`` block of a run's summary: links made, clusters mixing languages, the
    margin used, the embedding model (None: fingerprints alone) and how many texts it embedded
    (``embedded`` None: no embeddings)."""
    from dedup.text.embeddings import MODEL

    return {
        "links": links,
        "clusters_mixing_languages": sum(len(set(c.languages.values())) > 1 for c in clusters),
        "xling_threshold": params.link_margin(embedded is not None),
        "embeddings": MODEL if embedded is not None else None,
        "embedded": embedded or 0,
    }


def link_groups(
    matrix: sp.csr_matrix,
    groups: Sequence[Sequence[int]],
    langs: Sequence[str],
    *,
    threshold: float = 1.4,
    min_cosine: float = MIN_COSINE,
    embed: Embedder | None = None,
    weight: float = 0.5,
    exact_cells: int = EXACT_CELLS,
    cohesion: float = COHESION,
) -> tuple[list[list[int]], list[Link]]:
    """The ``groups`` (lists of article indices, each article in one; singletons included) joined
    across languages (:func:`join_groups`): the merged groups, each a sorted list of article
    indices, in the order of their first article; and the links that joined them, with ``a`` and
    ``b`` the first articles of the two groups. ``matrix``: the articles' fingerprint rows;
    ``langs``: their languages (a group's is its members' most frequent). ``threshold``: the
    margin a link needs; ``exact_cells``: see :func:`~dedup.crosslingual.links.best_matches`.

    ``embed`` (:func:`embedder`), or None for fingerprints alone: with it, every group is
    embedded when two languages or more are present, and groups are compared by fingerprints and
    embeddings together.

    (Tried and left out: taking the fingerprint links of margin 2.0 or more first, every one of
    them right on the three WMT dev sets, and embedding only the other groups, 35% to 62% fewer.
    Without those groups as competitors the others' margins and mutual best matches change:
    source-English F1 fell from 0.9995 to 0.993 on the dev set, from 0.999 to 0.995 on v2, and
    to 0.963 when a group whose best fingerprint match was settled was left unlinked.)"""
    groups = [sorted(g) for g in groups]
    group_langs = group_languages(groups, langs)
    embeddings = None
    if embed is not None and linkable(group_langs).any():
        embeddings = embed(groups)
    joined, used = join_groups(
        group_vectors(matrix, groups),
        group_langs,
        threshold=threshold,
        min_cosine=min_cosine,
        embeddings=embeddings,
        weight=weight,
        exact_cells=exact_cells,
        cohesion=cohesion,
    )
    merged = sorted((sorted(k for g in members for k in groups[g]) for members in joined), key=lambda m: m[0])
    spoken = spoken_languages(groups, langs)
    links = [Link(groups[x.a][0], groups[x.b][0], spoken[x.a], spoken[x.b], x.cosine, x.margin) for x in used]
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
    embed = embedder(lengths, lambda ks: [articles[k][1] for k in ks], langs) if embeddings else None
    merged, links = link_groups(
        fingerprint_matrix([text for _, text in articles]),
        groups,
        langs,
        threshold=threshold,
        min_cosine=min_cosine,
        embed=embed,
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
