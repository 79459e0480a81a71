"""Score predicted clusters against gold clusters (pair precision/recall/F1, ARI).

Pairs are counted inside clusters: a predicted cluster of k articles claims
k(k-1)/2 duplicate pairs, so transitivity counts, and one wrong merge of two
large clusters costs many pairs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class PairScores:
    """Pair-counting scores of a clustering."""

    precision: float
    recall: float
    f1: float
    ari: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _pairs(labels: Iterable[Hashable]) -> int:
    return sum(c * (c - 1) // 2 for c in Counter(labels).values())


def labels_from_clusters(ids: Sequence[str], clusters: Iterable[Iterable[str]]) -> list[Hashable]:
    """One label per id: its cluster's number, or a unique label for a singleton."""
    label: dict[str, Hashable] = {}
    for k, members in enumerate(clusters):
        for m in members:
            label[m] = ("c", k)
    return [label.get(i, ("s", i)) for i in ids]


def pair_scores(predicted: Sequence[Hashable], gold: Sequence[Hashable]) -> PairScores:
    """Compare two labelings of the same items (same order)."""
    if len(predicted) != len(gold):
        raise ValueError(f"predicted has {len(predicted)} labels, gold {len(gold)}")
    true_pairs = _pairs(gold)
    predicted_pairs = _pairs(predicted)
    correct = _pairs(zip(predicted, gold, strict=True))
    precision = correct / predicted_pairs if predicted_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    codes: dict[Hashable, int] = {}
    from sklearn.metrics import adjusted_rand_score  # (imported when needed)

    ari = adjusted_rand_score(
        [codes.setdefault(("g", g), len(codes)) for g in gold],
        [codes.setdefault(("p", p), len(codes)) for p in predicted],
    )
    return PairScores(precision, recall, f1, float(ari), true_pairs, predicted_pairs, correct)


def score_clusters(
    ids: Sequence[str], clusters: Iterable[Iterable[str]], gold: Mapping[str, Hashable]
) -> PairScores:
    """Scores of predicted ``clusters`` (lists of ids) against ``gold`` (id -> gold cluster)."""
    return pair_scores(labels_from_clusters(ids, clusters), [gold[i] for i in ids])
