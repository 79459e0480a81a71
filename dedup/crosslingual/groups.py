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

if TYPE_CHECKING:
    from dedup.result import Result


def group_languages(groups: Sequence[Sequence[int]], langs: Sequence[str]) -> list[str]:
    """Each group's language: its members' most frequent (the first seen among equals)."""
    return [Counter(langs[k] for k in g).most_common(1)[0][0] for g in groups]


def linkable(group_langs: Sequence[str]) -> np.ndarray:
    """Which groups can link at all: every group when two languages or more are present, none
    otherwise (a run over one language embeds nothing)."""
    return np.full(len(group_langs), len(set(group_langs)) > 1, dtype=bool)


def embed_groups(
    groups: Sequence[Sequence[int]],
    group_langs: Sequence[str],
    lengths: np.ndarray,
    text_of: Callable[[Sequence[int]], list[str]],
    *,
    threads: int = 1,
) -> np.ndarray:
    """One embedding per group (:func:`~dedup.crosslingual.vectors.voices`: its longest
    article's), zeros for a group that cannot link (:func:`linkable`). ``text_of`` gives the
    texts (their first :data:`~dedup.text.embeddings.HEAD` characters are enough) of articles by
    index."""
    from dedup.text.embeddings import DIMENSIONS, embed

    out = np.zeros((len(groups), DIMENSIONS), dtype=np.float32)
    todo = np.flatnonzero(linkable(group_langs))
    if len(todo):
        chosen = voices([groups[g] for g in todo.tolist()], lengths)
        out[todo] = embed(text_of(chosen.tolist()), threads=threads)
    return out


def link_groups(
    matrix: sp.csr_matrix,
    groups: Sequence[Sequence[int]],
    langs: Sequence[str],
    *,
    threshold: float = 1.4,
    min_cosine: float = MIN_COSINE,
    embeddings: np.ndarray | None = None,
    weight: float = 0.5,
    exact_cells: int = EXACT_CELLS,
) -> tuple[list[list[int]], list[Link]]:
    """The ``groups`` (lists of article indices, each article in one; singletons included) joined
    across languages (:func:`~dedup.crosslingual.links.best_links`, then
    :func:`~dedup.crosslingual.merge.merge`): the merged groups, each a sorted list of article
    indices, in the order of their first article; and the links that joined them, with ``a`` and
    ``b`` the first articles of the two groups. ``matrix``: the articles' fingerprint rows;
    ``langs``: their languages (a group's is its members' most frequent); ``embeddings``: one row
    per group (:func:`embed_groups`), or None for fingerprints alone. ``threshold``: the margin
    a link needs; ``exact_cells``: see :func:`~dedup.crosslingual.links.best_matches`."""
    groups = [sorted(g) for g in groups]
    group_langs = group_languages(groups, langs)
    found = best_links(
        group_vectors(matrix, groups),
        group_langs,
        threshold=threshold,
        min_cosine=min_cosine,
        embeddings=embeddings,
        weight=weight,
        exact_cells=exact_cells,
    )
    joined, used = merge(len(groups), found)
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
) -> tuple[Result, list[tuple[str, str, str, str, float]]]:
    """``result`` (a same-language run over ``articles``, ``(id, text)`` in input order, whose
    languages are ``langs``) with its groups linked across languages (:func:`link_groups`; with
    ``embeddings``, each group's embedding too, :func:`embed_groups`): the clusters merged, and
    the links as ``(id_a, id_b, lang_a, lang_b, margin)`` between the groups' first members."""
    from dedup.cluster import choose_representative
    from dedup.result import Cluster, Result

    ids = [article_id for article_id, _ in articles]
    at = {article_id: k for k, article_id in enumerate(ids)}
    clustered = {m for c in result.clusters for m in c.members}
    groups = [[at[m] for m in c.members] for c in result.clusters]
    groups += [[k] for k, article_id in enumerate(ids) if article_id not in clustered]
    lengths = np.array([len(text) for _, text in articles], dtype=np.int64)
    vectors = None
    if embeddings:
        vectors = embed_groups(
            groups, group_languages(groups, langs), lengths, lambda ks: [articles[k][1] for k in ks]
        )
    merged, links = link_groups(
        fingerprint_matrix([text for _, text in articles]),
        groups,
        langs,
        threshold=threshold,
        min_cosine=min_cosine,
        embeddings=vectors,
    )
    clusters = []
    for members in merged:
        if len(members) < 2:
            continue
        rep = choose_representative(np.array(members), lengths, representative)
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
