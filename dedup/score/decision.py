"""The pair decision: what is measured of two articles, and how it makes the score.

Two articles are the same text, translated or rewritten, when they say the same things in the
same order with the same facts. Three signals measure that, for every candidate pair:

    cosine    the TF-IDF cosine of the two documents: the shared words, rare ones weighing more
    match     the sentence match *in order* (:func:`dedup.score.sentences.sentence_matches`): how much
              of the article with less content the other says sentence by sentence, along an
              alignment that never goes back
    numbers   how far their numbers agree (:mod:`dedup.text.numbers`): ``(shared + 1) / (fewer + 1)``
              over their distinct values; NaN when either states none

and the score compared with the threshold is::

    score = ((1 - w) * cosine + w * match) * (1 - v * (1 - numbers))      (numbers NaN: factor 1)

with ``w = sentence_weight`` (0.5) and ``v = number_weight`` (0.3): a pair that disagrees on every
number keeps at least 70% of its score. The match in order, unlike the match in any order, falls when two
articles share quotes and facts in another order (the same story told again); the numbers fall
when two documents differ exactly in their figures (one template, another product; two reports
of one event, each with its own counts). ``order`` (the match in order over the match in any
order, 1 where nothing matched) is recorded to explain a decision; the score uses the match in
order itself.

The clusters add a group-level rule (:func:`dedup.cluster.cut_tree`): two groups are not merged
when their mean cross score is under ``cohesion`` times the lower of their own mean scores.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass(frozen=True)
class Signals:
    """What was measured of each of a set of article pairs (arrays of one length)."""

    cosine: np.ndarray
    match: np.ndarray
    order: np.ndarray
    numbers: np.ndarray

    @classmethod
    def empty(cls, n: int = 0) -> Signals:
        return cls(np.zeros(n), np.zeros(n), np.ones(n), np.full(n, np.nan))

    def __len__(self) -> int:
        return len(self.cosine)

    def take(self, at: np.ndarray) -> Signals:
        """The signals of the pairs at ``at`` (indices or a mask)."""
        return Signals(*(getattr(self, f.name)[at] for f in fields(self)))

    def rounded(self, at: int) -> tuple[float, float, float, float | None]:
        """The ``at``-th pair's (cosine, match, order, numbers) as outputs give them: 4 decimals,
        the cosine at most 1, numbers None when not compared."""
        numbers = float(self.numbers[at])
        return (
            round(min(float(self.cosine[at]), 1.0), 4),
            round(float(self.match[at]), 4),
            round(float(self.order[at]), 4),
            None if np.isnan(numbers) else round(numbers, 4),
        )

    @classmethod
    def concatenate(cls, parts: list[Signals]) -> Signals:
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))


def number_factor(numbers: np.ndarray, number_weight: float) -> np.ndarray:
    """``1 - number_weight * (1 - numbers)``, and 1 where ``numbers`` is NaN (nothing to compare)."""
    numbers = np.asarray(numbers, dtype=np.float64)
    return np.where(np.isnan(numbers), 1.0, 1.0 - number_weight * (1.0 - np.nan_to_num(numbers, nan=1.0)))


def combine(
    cosine: np.ndarray,
    match: np.ndarray,
    numbers: np.ndarray,
    *,
    sentence_weight: float,
    number_weight: float,
) -> np.ndarray:
    """The score of each pair (see the module docstring), in [0, 1]."""
    cosine = np.asarray(cosine, dtype=np.float64)
    base = cosine if sentence_weight == 0 else (1.0 - sentence_weight) * cosine + sentence_weight * match
    return base * number_factor(numbers, number_weight)


def score(signals: Signals, *, sentence_weight: float, number_weight: float) -> np.ndarray:
    """:func:`combine` of ``signals``."""
    return combine(
        signals.cosine,
        signals.match,
        signals.numbers,
        sentence_weight=sentence_weight,
        number_weight=number_weight,
    )


def match_needed(
    cosine: np.ndarray,
    numbers: np.ndarray,
    *,
    threshold: float,
    sentence_weight: float,
    number_weight: float,
) -> np.ndarray:
    """The least sentence match each pair needs for its score to reach ``threshold`` (inf when
    no match can): a pair whose match in any order is under it is under the threshold with its
    match in order too (never higher), so the dynamic programme of the match in order is only
    run for the others."""
    factor = number_factor(numbers, number_weight)
    if sentence_weight == 0:
        return np.where(np.asarray(cosine) * factor >= threshold, 0.0, np.inf)
    with np.errstate(divide="ignore"):
        need = (threshold / factor - (1.0 - sentence_weight) * np.asarray(cosine)) / sentence_weight
    return need - 1e-9  # (a pair exactly at the threshold is measured)
