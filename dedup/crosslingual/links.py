"""Which groups of different languages tell one story: each group's best match in each other
language, kept when the match is mutual and stands out from the next candidates (its margin)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from dedup.crosslingual.vectors import centred
from dedup.text.language import UNDETERMINED

MARGIN_K = 4
"""Neighbours whose mean cosine a link's cosine is measured against (its margin); missing ones
(fewer candidates than that) count as 0."""

MIN_COSINE = 0.05
"""The cosine a link needs whatever its margin: in a small corpus, with few candidates, any
match stands out from the (missing) next ones. (On the WMT dev set 0.05 costs nothing; 0.1 costs
0.9 points of recall.)"""


EXACT_CELLS = 2**26
"""Pairs of groups of two languages compared exhaustively (about 67 million: 8,000 groups a
language); beyond, each group is compared with its candidates only (:func:`candidate_pairs`)."""

KEYS = 64
"""Tokens of a group's fingerprint vector (its heaviest: rarer names and numbers) that find its
candidates."""

MAX_DF = 64
"""A key held by more groups of the other language than this finds no candidates (a common name
or number says little about which story; it would only make the candidate lists long)."""

CANDIDATES = 32
"""Candidates kept per group and other language: those sharing the most keys with it."""


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


def heaviest(vectors: sp.csr_matrix, keys: int = KEYS) -> sp.csr_matrix:
    """``vectors`` with only each row's ``keys`` heaviest entries kept."""
    vectors = vectors.tocsr()
    rows = np.repeat(np.arange(vectors.shape[0]), np.diff(vectors.indptr))
    order = np.lexsort((-vectors.data, rows))
    rank = np.arange(len(order)) - vectors.indptr[rows[order]]
    kept = order[rank < keys]
    return sp.csr_matrix((vectors.data[kept], (rows[kept], vectors.indices[kept])), shape=vectors.shape)


def without_common(theirs: sp.csr_matrix, max_df: int = MAX_DF) -> sp.csc_matrix:
    """``theirs`` (group vectors of one language) transposed to token rows, without the tokens
    more than ``max_df`` groups hold: an inverted index without its longest lists."""
    rare = theirs.tocsc(copy=True)
    df = np.diff(rare.indptr)
    rare.data[np.repeat(df > max_df, df)] = 0
    rare.eliminate_zeros()
    return rare.T.tocsc()


def candidate_pairs(
    mine: sp.csr_matrix,
    rare: sp.csc_matrix,
    *,
    keys: int = KEYS,
    limit: int = CANDIDATES,
) -> tuple[np.ndarray, np.ndarray]:
    """The candidate pairs ``(row of mine, group of the other language)``, sorted by row: each
    row of ``mine`` (group vectors) with the (at most ``limit``) groups of the other language with
    which its cosine over its ``keys`` heaviest tokens and the other's rarer tokens (``rare``,
    :func:`without_common`) is highest. A translation shares its rarer names and numbers with
    its original, so its counterpart is among its candidates; the work grows with the number of
    groups where comparing every pair grows with its square."""
    shared = (heaviest(mine, keys) @ rare).tocoo()
    order = np.lexsort((-shared.data, shared.row))
    row, col = shared.row[order], shared.col[order]
    starts = np.searchsorted(row, row, side="left")
    kept = np.arange(len(row)) - starts < limit
    return row[kept].astype(np.int64), col[kept].astype(np.int64)


def embedding_neighbours(
    mine: np.ndarray, theirs: np.ndarray, *, limit: int = CANDIDATES, block: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """Each row of ``mine`` with its ``limit`` nearest rows of ``theirs`` by embedding cosine
    (exact, ``block`` rows at a time: the product is cheap beside making the embeddings), as
    pairs sorted by row. What finds the counterparts fingerprints cannot: texts in scripts whose
    names transliterate badly (Japanese), or with no rare name or number."""
    k = min(limit, len(theirs))
    rows, cols = [], []
    for start in range(0, len(mine), block):
        scores = mine[start : start + block] @ theirs.T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        rows.append(np.repeat(np.arange(start, start + len(scores)), k))
        cols.append(top.ravel())
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64)


def _pair_cosines(a: sp.csr_matrix, b: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The dot products of ``a[rows[k]]`` and ``b[cols[k]]`` (row-normalised: their cosines)."""
    out = np.zeros(len(rows), dtype=np.float64)
    step = 1 << 18
    for start in range(0, len(rows), step):
        r, c = rows[start : start + step], cols[start : start + step]
        out[start : start + step] = np.asarray(a[r].multiply(b[c]).sum(axis=1)).ravel()
    return out


def _row_best(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, n: int, k: int):
    """Per row of ``n``: its best column (-1: none above 0), that value, and the mean of its ``k``
    highest values (missing ones count as 0), from pairs ``(rows, cols, values)``."""
    best = np.full(n, -1, dtype=np.int64)
    value = np.zeros(n)
    nearest = np.zeros(n)
    if len(rows):
        order = np.lexsort((-values, rows))
        rows, cols, values = rows[order], cols[order], values[order]
        rank = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
        top = rank < k
        nearest = np.bincount(rows[top], weights=values[top], minlength=n) / k
        first = (rank == 0) & (values > 0)
        best[rows[first]] = cols[first]
        value[rows[first]] = values[first]
    return best, value, nearest


def by_language(langs: Sequence[str]) -> dict[str, np.ndarray]:
    """The indices of each language's groups."""
    codes = np.array(list(langs), dtype=object)
    return {lang: np.flatnonzero(codes == lang) for lang in sorted(set(langs))}


def linked_languages(langs: Sequence[str]) -> dict[str, np.ndarray]:
    """:func:`by_language` without the groups of no known language (``"und"``): the same-language
    path has compared them with every article already, so they are not linked."""
    return {lang: g for lang, g in by_language(langs).items() if lang != UNDETERMINED}


def combined(fingerprint: np.ndarray, meaning: np.ndarray, weight: float) -> np.ndarray:
    """The cosine two groups are compared by with embeddings: ``(1 - weight) * fingerprint
    cosine + weight * (centred) embedding cosine``, negative values counted as 0."""
    return np.maximum((1.0 - weight) * fingerprint + weight * meaning, 0.0)


def best_matches(
    vectors: sp.csr_matrix,
    langs: Sequence[str],
    *,
    embeddings: np.ndarray | None = None,
    weight: float = 0.5,
    block: int = 4096,
    exact_cells: int = EXACT_CELLS,
) -> Matches:
    """Every group's best match in every other language, and the mean cosine of its nearest
    there: over all pairs of groups (a sparse product ``block`` groups at a time) when two
    languages have at most ``exact_cells`` pairs, over each group's candidates otherwise
    (:func:`candidate_pairs`). Groups of no known language are left out
    (:func:`linked_languages`).

    With ``embeddings`` (one L2-normalised row per group, from a multilingual model), the cosine
    is :func:`combined`, the embeddings first centred per language
    (:func:`~dedup.crosslingual.vectors.centred`)."""
    groups = linked_languages(langs)
    mean_free = None if embeddings is None else centred(np.asarray(embeddings, dtype=np.float32), groups)
    found = Matches({}, {})
    for lang, mine in groups.items():
        for other, theirs in groups.items():
            if other == lang:
                continue
            if len(mine) * len(theirs) > exact_cells:
                _by_candidates(found, vectors, mine, theirs, other, mean_free, weight)
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
                    dense = combined(scores.toarray(), meaning, weight)
                    best, value, nearest = _dense_best(dense, MARGIN_K)
                for g, b, v, m in zip(
                    rows.tolist(), best.tolist(), value.tolist(), nearest.tolist(), strict=True
                ):
                    found.near[g, other] = m
                    if b >= 0:
                        found.best[g, other] = (int(theirs[b]), v)
    return found


MIN_SHARED = 3
"""Distinct fingerprint tokens two groups must share for a link made on fingerprints alone. On
one-line texts a margin can stand out on one or two shared tokens (a number, a common word's
code): of the 790 links fingerprints alone made at margin 1.3 on the WMT22 short texts
(conversations, reviews, posts), 631 were wrong, 585 of them sharing one or two tokens, against
45 of the 159 right ones; on the WMT dev set, 4 right links and 5 wrong ones shared fewer than 3."""

CANDIDATE_BLOCK = 16384
"""Groups whose candidates are found and scored at once."""


def _by_candidates(
    found: Matches,
    vectors: sp.csr_matrix,
    mine: np.ndarray,
    theirs: np.ndarray,
    other: str,
    mean_free: np.ndarray | None,
    weight: float,
) -> None:
    """:func:`best_matches` for the groups ``mine`` against the groups ``theirs`` (of language
    ``other``) over their candidates only, :data:`CANDIDATE_BLOCK` groups at a time."""
    b = vectors[theirs]
    rare = without_common(b)
    for start in range(0, len(mine), CANDIDATE_BLOCK):
        block = mine[start : start + CANDIDATE_BLOCK]
        a = vectors[block]
        rows, cols = candidate_pairs(a, rare)
        if mean_free is not None and len(theirs):
            more = embedding_neighbours(mean_free[block], mean_free[theirs])
            pairs = np.unique(np.concatenate([rows, more[0]]) * len(theirs) + np.concatenate([cols, more[1]]))
            rows, cols = pairs // len(theirs), pairs % len(theirs)
        values = _pair_cosines(a, b, rows, cols)
        if mean_free is not None:
            meaning = np.einsum("ij,ij->i", mean_free[block[rows]], mean_free[theirs[cols]])
            values = combined(values, meaning, weight)
        best, value, nearest = _row_best(rows, cols, values, len(block), MARGIN_K)
        for g, h, v, m in zip(block.tolist(), best.tolist(), value.tolist(), nearest.tolist(), strict=True):
            found.near[g, other] = m
            if h >= 0:
                found.best[g, other] = (int(theirs[h]), v)


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


def shared_tokens(vectors: sp.csr_matrix, links: Sequence[Link]) -> np.ndarray:
    """How many distinct tokens (columns) the two groups of each link both have."""
    if not links:
        return np.zeros(0, dtype=np.int64)
    present = vectors.tocsr(copy=True)
    present.data[:] = 1.0
    a = present[[x.a for x in links]]
    b = present[[x.b for x in links]]
    return np.asarray(a.multiply(b).sum(axis=1)).ravel().astype(np.int64)


def best_links(
    vectors: sp.csr_matrix,
    langs: Sequence[str],
    *,
    threshold: float,
    min_cosine: float = MIN_COSINE,
    min_shared: int = MIN_SHARED,
    block: int = 4096,
    embeddings: np.ndarray | None = None,
    weight: float = 0.5,
    exact_cells: int = EXACT_CELLS,
) -> list[Link]:
    """The links between groups of different languages (:func:`best_matches`, then
    :func:`mutual_links`); without ``embeddings``, only those whose groups share
    ``min_shared`` fingerprint tokens or more (:data:`MIN_SHARED`)."""
    matches = best_matches(
        vectors, langs, embeddings=embeddings, weight=weight, block=block, exact_cells=exact_cells
    )
    links = mutual_links(matches, langs, threshold=threshold, min_cosine=min_cosine)
    if embeddings is None and min_shared > 1:
        links = [
            x for x, n in zip(links, shared_tokens(vectors, links).tolist(), strict=True) if n >= min_shared
        ]
    return links
