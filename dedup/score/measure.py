"""The scoring rule over pairs of a run's articles: their signals, measured in bounded stretches.

Every engine and the index measure a pair the same way, here: the TF-IDF cosine of the two
rows (:mod:`dedup.score.tfidf`), their sentence match (:mod:`dedup.score.sentences`, only
where the cosine reaches :data:`MATCH_FLOOR` and the score could reach the threshold with it),
the agreement of their numbers (:mod:`dedup.text.numbers`), combined by
:func:`dedup.score.decision.score`. :func:`member_scores` gives the score matrices that the
linkage re-clusters (:mod:`dedup.cluster`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from dedup.arrays.rows import Matrix
from dedup.arrays.store import FEW_ROWS, local_stretches
from dedup.params import Params
from dedup.score.decision import Signals, match_needed, score
from dedup.score.sentences import SentenceMatrix, sentence_matches
from dedup.score.tfidf import pair_cosines
from dedup.text.numbers import NumberSets

# The sentence match of two articles whose cosine is below this is not computed: it is
# taken to be their cosine. (On the dev set and its noisy variants, no candidate pair below
# this cosine scores above 0.28 with its match computed; most chance candidates are below it.)
MATCH_FLOOR = 0.1


class PairValues:
    """Values (one or a row of several) for each of a set of article pairs, looked up in either
    order: a sorted array of pair keys (8 bytes a pair, plus its float32 values) rather than a
    sparse ``n x n`` matrix."""

    def __init__(self, pairs: np.ndarray, values: np.ndarray, n: int) -> None:
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        keys = np.minimum(pairs[:, 0], pairs[:, 1]) * n + np.maximum(pairs[:, 0], pairs[:, 1])
        values = np.asarray(values, dtype=np.float32)
        if len(keys) > 1 and not np.all(keys[1:] >= keys[:-1]):  # candidate pairs come sorted
            order = np.argsort(keys)
            keys, values = keys[order], values[order]
        self._keys, self._values, self._n = keys, values, n

    def get(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which of the pairs ``(a[k], b[k])`` have values, and the values (0 where none)."""
        keys = np.minimum(a, b).astype(np.int64) * self._n + np.maximum(a, b)
        shape = (len(keys), *self._values.shape[1:])
        if len(self._keys) == 0:
            return np.zeros(len(keys), dtype=bool), np.zeros(shape)
        at = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        found = self._keys[at] == keys
        values = np.zeros(shape)
        values[found] = self._values[at[found]]
        return found, values


def measure_pairs(
    pairs: np.ndarray,
    matrix: Matrix,
    sentences: SentenceMatrix | None,
    numbers: NumberSets | None = None,
    *,
    ordered: bool = True,
    params: Params | None = None,
    by_block: bool = False,
    release: Callable[[], None] | None = None,
    step: int = 20_000,
    few_rows: int = FEW_ROWS,
) -> Iterator[tuple[np.ndarray, Signals]]:
    """The :class:`~dedup.score.decision.Signals` of ``pairs``, a stretch of ``step`` at a time, as
    (positions in ``pairs``, their signals): the cosine, the sentence match in order (0 without
    ``sentences``), and the numbers' agreement (NaN without ``numbers``); block pair by block
    pair when ``by_block`` (see :func:`local_stretches`), calling ``release`` after each
    stretch (``few_rows``: see :func:`~dedup.arrays.store.local_stretches`). ``ordered=False``: the
    sentence match in any order.

    With the run's ``params``, the match in order (a dynamic programme over each pair's sentence
    similarities) is computed only for the pairs whose score could reach the threshold with it:
    the match in any order, an upper bound, stands for it in the others, whose score is under
    the threshold either way (:func:`dedup.score.decision.match_needed`)."""
    for idx in local_stretches(pairs, matrix.shape[0], step, by_block=by_block, few_rows=few_rows):
        chunk = pairs[idx]
        cos = pair_cosines(matrix, chunk)
        agree = numbers.agreement(chunk) if numbers is not None else np.full(len(cos), np.nan)
        if sentences is not None:
            at_least = None
            if params is not None and ordered:
                at_least = match_needed(
                    cos,
                    agree,
                    threshold=params.threshold,
                    sentence_weight=params.sentence_weight,
                    number_weight=params.number_weight,
                )
            match, order = floored_match(sentences, chunk, cos, ordered=ordered, at_least=at_least)
        else:
            match, order = np.zeros(len(cos)), np.ones(len(cos))
        yield idx, Signals(cos, match, order, agree)
        if release is not None:
            release()


def floored_match(
    sentences: SentenceMatrix,
    pairs: np.ndarray,
    cosines: np.ndarray,
    *,
    ordered: bool = True,
    at_least: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The sentence match in order of each pair and its ``order`` (the match in order over the
    match in any order), computed only where the cosine reaches ``MATCH_FLOOR`` (below, the
    cosine stands for the match, and the order is 1). ``ordered=False``: the match in any order
    (its order still measured). ``at_least``: the match in order only where the match in any
    order reaches it (elsewhere the match in any order, with order 1)."""
    match = np.array(cosines, dtype=np.float64)
    order = np.ones(len(match))
    near = match >= MATCH_FLOOR
    need = None if at_least is None else at_least[near]
    anywhere, in_order = sentence_matches(sentences, pairs[near], at_least=need)
    match[near] = in_order if ordered else anywhere
    order[near] = np.divide(in_order, anywhere, out=np.ones(len(in_order)), where=anywhere > 0)
    return match, order


def _upper_pairs(m: int, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs ``(i, j)``, ``i < j < m``, of the rows ``lo <= i < hi`` of an ``m x m`` matrix."""
    rows = np.arange(lo, hi)
    sizes = m - 1 - rows
    i = np.repeat(rows, sizes)
    starts = np.cumsum(sizes) - sizes
    j = np.arange(len(i)) - np.repeat(starts, sizes) + i + 1
    return i, j


def pair_scores(
    pairs: np.ndarray,
    matrix: Matrix,
    sentences: SentenceMatrix | None,
    params: Params,
    *,
    numbers: NumberSets | None = None,
    by_block: bool = False,
    release: Callable[[], None] | None = None,
    few_rows: int = FEW_ROWS,
) -> np.ndarray:
    """The scores (:func:`dedup.score.decision.score`) of ``pairs``, measured by :func:`measure_pairs`
    with the run's ``params``, as float32 (as the candidates' scores are kept, so that a pair
    scores the same whichever stage measured it)."""
    values = np.zeros(len(pairs))
    for idx, signals in measure_pairs(
        pairs,
        matrix,
        sentences if params.sentence_weight else None,
        numbers,
        ordered=params.sentence_order,
        params=params,
        by_block=by_block,
        release=release,
        few_rows=few_rows,
    ):
        w, v = params.sentence_weight, params.number_weight
        values[idx] = score(signals, sentence_weight=w, number_weight=v)
    return values.astype(np.float32)


def member_scores(
    groups: list[np.ndarray],
    matrix: Matrix,
    sentences: SentenceMatrix | None,
    params: Params,
    *,
    numbers: NumberSets | None = None,
    known: PairValues | None = None,
    chunk: int = 2_000_000,
    release: Callable[[], None] | None = None,
) -> list[np.ndarray]:
    """The ``(m, m)`` scores (:func:`dedup.score.decision.score`) among the members of each group (a
    component to re-cluster).

    ``known`` holds the scores of pairs already measured (the candidates); the others are
    measured in batches of about ``chunk`` pairs (many small groups together, a large one in
    parts), so that the temporaries stay bounded whatever the size of a group. ``release`` is
    called after each batch (to hand back the pages of spilled matrices, see :mod:`dedup.arrays.store`).
    """
    scores = [np.eye(len(members)) for members in groups]
    pending: list[tuple[int, np.ndarray, np.ndarray]] = []  # (group, i, j) still to measure
    held = 0

    def measure() -> None:
        pairs = np.concatenate([np.stack([groups[g][i], groups[g][j]], axis=1) for g, i, j in pending])
        values = pair_scores(
            pairs, matrix, sentences, params, numbers=numbers, by_block=release is not None, release=release
        )
        at = 0
        for g, i, j in pending:
            scores[g][i, j] = scores[g][j, i] = values[at : at + len(i)]
            at += len(i)
        pending.clear()

    for g, members in enumerate(groups):
        m = len(members)
        rows = max(1, chunk // max(m, 1))
        for lo in range(0, m - 1, rows):
            i, j = _upper_pairs(m, lo, min(lo + rows, m - 1))
            if known is not None:
                found, values = known.get(members[i], members[j])
                fi, fj = i[found], j[found]
                scores[g][fi, fj] = scores[g][fj, fi] = values[found]
                i, j = i[~found], j[~found]
            if len(i):
                pending.append((g, i, j))
                held += len(i)
            if held >= chunk:
                measure()
                held = 0
    if pending:
        measure()
    return scores
