"""Clusters: components of verified pairs, split where one borderline pair would chain stories."""

import numpy as np
import pytest

from dedup.cluster import choose_representative, cluster_pairs


def similarity_from(matrix):
    matrix = np.asarray(matrix, dtype=float)
    return lambda groups: [matrix[np.ix_(members, members)] for members in groups]


# Two tight stories {0,1,2} and {3,4,5}, joined by one borderline pair (2, 3).
SIM = np.full((6, 6), 0.05)
SIM[np.ix_([0, 1, 2], [0, 1, 2])] = 0.8
SIM[np.ix_([3, 4, 5], [3, 4, 5])] = 0.8
SIM[2, 3] = SIM[3, 2] = 0.45
PAIRS = np.array([[0, 1], [0, 2], [1, 2], [2, 3], [3, 4], [3, 5], [4, 5]])


def test_single_linkage_chains_the_two_stories():
    groups = cluster_pairs(6, PAIRS, similarity=similarity_from(SIM), threshold=0.4, linkage_method="single")
    assert [g.tolist() for g in groups] == [[0, 1, 2, 3, 4, 5]]


@pytest.mark.parametrize("method", ["average", "complete"])
def test_stricter_linkage_keeps_them_apart(method):
    groups = cluster_pairs(6, PAIRS, similarity=similarity_from(SIM), threshold=0.4, linkage_method=method)
    assert [g.tolist() for g in groups] == [[0, 1, 2], [3, 4, 5]]


def test_singletons_are_not_clusters():
    groups = cluster_pairs(4, np.array([[1, 3]]), similarity=similarity_from(np.eye(4)), threshold=0.5)
    assert [g.tolist() for g in groups] == [[1, 3]]
    assert cluster_pairs(3, np.zeros((0, 2), dtype=np.int64), similarity=None, threshold=0.5) == []


@pytest.mark.parametrize(("rule", "expected"), [("longest", 7), ("first", 2)])
def test_representative(rule, expected):
    lengths = np.zeros(10)
    lengths[[2, 5, 7]] = [100, 300, 500]
    assert choose_representative(np.array([2, 5, 7]), lengths, rule) == expected


def test_longest_ties_go_to_the_first_seen():
    assert choose_representative(np.array([1, 4]), np.array([0, 50, 0, 0, 50]), "longest") == 1


def test_similarities_are_asked_for_in_bounded_batches(monkeypatch):
    # Four copies of the two joined stories: with room for one 6 x 6 matrix at a time, the
    # similarity is asked for component by component, and the clusters are the same.
    big = np.kron(np.eye(4), SIM)
    pairs = np.concatenate([PAIRS + 6 * k for k in range(4)])
    whole = cluster_pairs(24, pairs, similarity=similarity_from(big), threshold=0.4)
    calls = []

    def counted(groups):
        calls.append(sum(len(g) ** 2 for g in groups))
        return similarity_from(big)(groups)

    monkeypatch.setattr("dedup.cluster.groups.SIMILARITY_CELLS", 36)
    batched = cluster_pairs(24, pairs, similarity=counted, threshold=0.4)
    assert calls == [36] * 4
    assert [g.tolist() for g in batched] == [g.tolist() for g in whole] and len(whole) == 8


@pytest.mark.parametrize("known", [False, True])
def test_member_scores_do_not_depend_on_the_batch_size(known):
    from dedup.params import Params
    from dedup.score.measure import PairValues, member_scores
    from dedup.score.sentences import SentenceBuilder
    from dedup.score.tfidf import tfidf_rows
    from dedup.text.normalize import tokenize
    from dedup.text.paragraphs import split_sentences

    texts = [
        "Xi met Putin in Moscow. They talked about Ukraine. Trade grew.",
        "Putin met Xi in Moscow. Ukraine was discussed. Trade grew again.",
        "Snow closed the Alpine passes. Drivers waited for hours.",
        "Xi arrived in Moscow on Monday. Putin greeted him. They talked.",
        "Alpine passes closed by snow. Hours of waiting for drivers.",
    ] * 3
    builder = SentenceBuilder()
    for text in texts:
        builder.add([tokenize(s) for s in split_sentences(text)])
    matrix = tfidf_rows(builder.document_counts())
    sentences = builder.matrix()
    groups = [np.arange(0, 15, 2), np.arange(1, 15, 2), np.array([3, 4])]
    measured = np.array([0.85, 0.15, 0.55])  # the scores of three candidates
    seen = PairValues(np.array([[0, 2], [1, 3], [3, 4]]), measured, 15) if known else None
    whole = member_scores(groups, matrix, sentences, Params(), known=seen)
    parts = member_scores(groups, matrix, sentences, Params(), known=seen, chunk=3)
    for a, b in zip(whole, parts, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, a.T)
