"""Which groups of different languages tell one story: each group's best match in each other
language, kept when the match is mutual and stands out from the next candidates (its margin)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from dedup.crosslingual.vectors import centred

MARGIN_K = 4
"""Neighbours whose mean cosine a link's cosine is measured against (its margin); missing ones
(fewer candidates than that) count as 0."""

MIN_COSINE = 0.05
"""The cosine a link needs whatever its margin: in a small corpus, with few candidates, any
match stands out from the (missing) next ones. (On the WMT dev set 0.05 costs nothing; 0.1 costs
0.9 points of recall.)"""


@dataclass(frozen=True)
class Link:
    """Groups ``a`` and ``b`` (indices), in languages ``lang_a`` != ``lang_b``, tell one story:
    ``cosine`` of their vectors, and its ``margin`` over their nearest candidates'."""

    a: int
    b: int
    lang_a: str
    lang_b: str
    cosine: float
    margin: float


@dataclass
class Matches:
    """Each group's best match in each other language: ``best[g, lang] = (h, cosine)``, and
    ``near[g, lang]``, the mean cosine of its :data:`MARGIN_K` nearest groups of ``lang``."""

    best: dict[tuple[int, str], tuple[int, float]]
    near: dict[tuple[int, str], float]


def _best(scores: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Each row's best column and its value (-1 and 0 for an empty row)."""
    scores = scores.tocsr()
    best = np.full(scores.shape[0], -1, dtype=np.int64)
    value = np.zeros(scores.shape[0], dtype=np.float64)
    has = np.diff(scores.indptr) > 0
    if has.any():
        best[has] = np.asarray(scores[has].argmax(axis=1)).ravel()
        value[has] = np.asarray(scores[has].max(axis=1).todense()).ravel()
    return best, value


def _top_mean(scores: sp.csr_matrix, k: int) -> np.ndarray:
    """Each row's mean of its ``k`` highest values (missing ones count as 0)."""
    out = np.zeros(scores.shape[0])
    for r in range(scores.shape[0]):
        row = scores.data[scores.indptr[r] : scores.indptr[r + 1]]
        if len(row):
            out[r] = np.sort(row)[-k:].sum() / k
    return out


def _dense_best(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's best column (-1 if all are 0), its value, and the mean of its ``k`` highest."""
    best = scores.argmax(axis=1)
    value = scores[np.arange(len(scores)), best]
    best = np.where(value > 0, best, -1)
    top = -np.partition(-scores, min(k, scores.shape[1]) - 1, axis=1)[:, :k]
    return best, value.astype(np.float64), top.sum(axis=1) / k


def by_language(langs: Sequence[str]) -> dict[str, np.ndarray]:
    """The indices of each language's groups."""
    codes = np.array(list(langs), dtype=object)
    return {lang: np.flatnonzero(codes == lang) for lang in sorted(set(langs))}


def best_matches(
    vectors: sp.csr_matrix,
    langs: Sequence[str],
    *,
    embeddings: np.ndarray | None = None,
    weight: float = 0.5,
    block: int = 4096,
) -> Matches:
    """Every group's best match in every other language, and the mean cosine of its nearest
    there, over all pairs of groups (a sparse product ``block`` groups at a time).

    With ``embeddings`` (one L2-normalised row per group, from a multilingual model), the cosine
    is ``(1 - weight) * fingerprint cosine + weight * embedding cosine``, the embeddings first
    centred per language (:func:`~dedup.crosslingual.vectors.centred`), negative values counted
    as 0."""
    groups = by_language(langs)
    mean_free = None if embeddings is None else centred(np.asarray(embeddings, dtype=np.float32), groups)
    found = Matches({}, {})
    for lang, mine in groups.items():
        for other, theirs in groups.items():
            if other == lang:
                continue
            against = vectors[theirs].T.tocsc()
            rows_per_block = block if mean_free is None else max(1, min(block, 2**24 // len(theirs)))
            for start in range(0, len(mine), rows_per_block):
                rows = mine[start : start + rows_per_block]
                scores = (vectors[rows] @ against).tocsr()
                if mean_free is None:
                    best, value = _best(scores)
                    nearest = _top_mean(scores, MARGIN_K)
                else:
                    meaning = mean_free[rows] @ mean_free[theirs].T
                    dense = (1.0 - weight) * scores.toarray() + weight * meaning
                    np.maximum(dense, 0.0, out=dense)
                    best, value, nearest = _dense_best(dense, MARGIN_K)
                for g, b, v, m in zip(
                    rows.tolist(), best.tolist(), value.tolist(), nearest.tolist(), strict=True
                ):
                    found.near[g, other] = m
                    if b >= 0:
                        found.best[g, other] = (int(theirs[b]), v)
    return found


def mutual_links(
    matches: Matches, langs: Sequence[str], *, threshold: float, min_cosine: float = MIN_COSINE
) -> list[Link]:
    """The links between groups that are each other's best match in the other's language,
    whose margin reaches ``threshold`` and whose cosine reaches ``min_cosine`` (each once,
    ``a < b``).

    The margin of a match ``(x, y)`` is their cosine divided by the mean of the cosines of ``x``
    and of ``y`` with their :data:`MARGIN_K` nearest groups of the other's language (the ratio
    margin of Artetxe and Schwenk, 2019, used to mine parallel sentences). A cosine says how
    much two fingerprints share; the margin says how much more they share than either does with
    its next candidates, which is what separates a translation from another report of the same
    event (same names, same numbers) and keeps groups that match everything weakly (hubs) from
    linking at all. A match must be mutual: a story is translated once per language, so a
    group's counterpart has it as its own best match too; a one-sided best match is most often a
    group with no counterpart reaching for the nearest story."""
    out = []
    for (g, other), (h, cosine) in matches.best.items():
        if h < g or matches.best.get((h, langs[g]), (-1, 0.0))[0] != g:
            continue
        margin = cosine / max(1e-9, (matches.near[g, other] + matches.near[h, langs[g]]) / 2)
        if margin >= threshold and cosine >= min_cosine:
            out.append(Link(g, h, langs[g], langs[h], round(cosine, 4), round(margin, 4)))
    return sorted(out, key=lambda x: (x.a, x.b))


def best_links(
    vectors: sp.csr_matrix,
    langs: Sequence[str],
    *,
    threshold: float,
    min_cosine: float = MIN_COSINE,
    block: int = 4096,
    embeddings: np.ndarray | None = None,
    weight: float = 0.5,
) -> list[Link]:
    """The links between groups of different languages (:func:`best_matches`, then
    :func:`mutual_links`)."""
    matches = best_matches(vectors, langs, embeddings=embeddings, weight=weight, block=block)
    return mutual_links(matches, langs, threshold=threshold, min_cosine=min_cosine)
