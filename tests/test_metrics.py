"""The scores every quality figure rests on (dedup.metrics): hand-computed cases, and pair
counting and ARI checked against brute force and scikit-learn on random labelings."""

from __future__ import annotations

from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from dedup.metrics import labels_from_clusters, pair_scores, score_clusters


def test_a_hand_computed_case():
    """Gold: {a, b, c} and {d, e}; predicted: {a, b}, {c, d, e}.
    Gold pairs: ab ac bc de (4). Predicted pairs: ab cd ce de (4). Right: ab de (2)."""
    ids = list("abcde")
    gold = {"a": 1, "b": 1, "c": 1, "d": 2, "e": 2}
    s = score_clusters(ids, [["a", "b"], ["c", "d", "e"]], gold)
    assert (s.true_pairs, s.predicted_pairs, s.correct_pairs) == (4, 4, 2)
    assert s.precision == 0.5 and s.recall == 0.5 and s.f1 == 0.5
    # ARI by its formula: index 2, expected 4 * 4 / C(5, 2) = 1.6, max 4.
    assert s.ari == pytest.approx((2 - 1.6) / (4 - 1.6))


def test_one_wrong_merge_costs_many_pairs():
    """Two gold clusters of 3, merged into one predicted cluster: 15 pairs claimed, 6 right."""
    gold = {f"{g}{k}": g for g in "xy" for k in range(3)}
    s = score_clusters(list(gold), [list(gold)], gold)
    assert (s.predicted_pairs, s.correct_pairs) == (15, 6)
    assert s.precision == pytest.approx(6 / 15) and s.recall == 1.0
    assert s.f1 == pytest.approx(2 * 0.4 / 1.4)


def test_perfect_and_empty_predictions():
    gold = {"a": 1, "b": 1, "c": 2}
    perfect = score_clusters(list(gold), [["a", "b"]], gold)
    assert (perfect.precision, perfect.recall, perfect.f1, perfect.ari) == (1.0, 1.0, 1.0, 1.0)
    nothing = score_clusters(list(gold), [], gold)
    # No pair claimed: precision is vacuously 1, recall 0, F1 0.
    assert (nothing.precision, nothing.recall, nothing.f1) == (1.0, 0.0, 0.0)
    assert nothing.predicted_pairs == 0 and nothing.true_pairs == 1


def test_singletons_get_labels_of_their_own():
    labels = labels_from_clusters(["a", "b", "c", "d"], [["b", "c"]])
    assert labels[1] == labels[2] and len({labels[0], labels[1], labels[3]}) == 3


def test_labelings_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="predicted has 2 labels, gold 3"):
        pair_scores([1, 1], [1, 1, 2])


@settings(max_examples=150)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=2, max_size=25))
def test_pair_counts_and_ari_match_brute_force_and_scikit_learn(labels):
    predicted = [p for p, _ in labels]
    gold = [g for _, g in labels]
    s = pair_scores(predicted, gold)
    pairs = list(combinations(range(len(labels)), 2))
    claimed = {(i, j) for i, j in pairs if predicted[i] == predicted[j]}
    true = {(i, j) for i, j in pairs if gold[i] == gold[j]}
    right = claimed & true
    assert (s.predicted_pairs, s.true_pairs, s.correct_pairs) == (len(claimed), len(true), len(right))
    precision = len(claimed & true) / len(claimed) if claimed else 1.0
    recall = len(claimed & true) / len(true) if true else 1.0
    assert s.precision == pytest.approx(precision) and s.recall == pytest.approx(recall)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    assert s.f1 == pytest.approx(f1)
    assert s.ari == pytest.approx(adjusted_rand_score(gold, predicted))
