"""The look-alike decision's parts: numbers, the sentence match in order, the cohesion cut, the score."""

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup.score.ordered
import dedup.score.sentences
from dedup import find_duplicates
from dedup.cluster import cut_tree, split_component
from dedup.score.decision import Signals, combine, number_factor
from dedup.score.sentences import SentenceBuilder, sentence_matches
from dedup.text.normalize import tokenize
from dedup.text.numbers import NumberSets, agreement, numbers
from dedup.text.paragraphs import split_sentences


@pytest.mark.parametrize(
    "text, values",
    [
        ("1,250 people and 1 250 more and 1.250 again", ["#1250", "#1250", "#1250"]),
        ("inflation of 3,5% or 3.5 or 3.50", ["#3.5", "#3.5", "#3.5"]),
        ("1.5 million or 1,500,000", ["#1500000", "#1500000"]),
        ("0.5 million", ["#500000"]),
        ("after 19:00, at 7:00 PM, at 7 p.m.", ["t19:00", "t19:00", "t19:00"]),
        ("10.00 and 10", ["#10", "#10"]),
        ("no numbers here", []),
    ],
)
def test_numbers_are_read_as_values_however_written(text, values):
    assert numbers(text) == values


def _sets(*texts: str) -> NumberSets:
    from dedup.text.numbers import number_ids

    return NumberSets.of([number_ids(t) for t in texts])


def test_agreement_is_the_share_of_the_fewer_numbers_found_in_the_other():
    sets = _sets("15 ships, 46 boats", "15 ships", "46 boats and 3 planes", "no numbers")
    got = sets.agreement(np.array([[0, 1], [1, 0], [0, 2], [1, 2], [0, 3]]))
    # (shared + 1) / (fewer + 1): one number more or less is weak evidence
    np.testing.assert_allclose(got[:4], [(1 + 1) / 2, (1 + 1) / 2, (1 + 1) / 3, (0 + 1) / 2])
    assert np.isnan(got[4])  # nothing to compare: the decision leaves the score alone


@settings(deadline=None, max_examples=60)
@given(st.lists(st.sets(st.integers(0, 12), max_size=6), min_size=2, max_size=6), st.data())
def test_agreement_equals_the_set_arithmetic(groups, data):
    arrays = [np.array(sorted(g), dtype=np.uint64) for g in groups]
    sets = NumberSets.of(arrays)
    pairs = np.array(
        data.draw(st.lists(st.tuples(st.integers(0, len(groups) - 1), st.integers(0, len(groups) - 1)))),
        dtype=np.int64,
    ).reshape(-1, 2)
    got = agreement(sets.values, sets.ptr, pairs)
    for (i, j), value in zip(pairs.tolist(), got, strict=True):
        a, b = groups[i], groups[j]
        if not a or not b:
            assert np.isnan(value)
        else:
            assert value == pytest.approx((len(a & b) + 1) / (min(len(a), len(b)) + 1))


def _sentence_matrix(texts):
    builder = SentenceBuilder()
    for text in texts:
        builder.add([tokenize(s) for s in split_sentences(text)])
    return builder.matrix()


def _brute_ordered(sim: np.ndarray, w: np.ndarray) -> float:
    """The best monotone alignment by plain recursion over (row, first column allowed)."""

    n, m = sim.shape

    @functools.cache
    def best(i: int, j: int) -> float:
        if i == n:
            return 0.0
        skip = best(i + 1, j)
        take = max((w[i] * min(max(sim[i, k], 0.0), 1.0) + best(i + 1, k) for k in range(j, m)), default=0.0)
        return max(skip, take)

    return best(0, 0)


def test_the_match_in_order_is_the_best_monotone_alignment():
    texts = [
        "Putin arrived in Kronstadt. The parade began at ten. Forty ships took part. Sailors cheered.",
        "Sailors cheered the ships. Forty ships took part in it. The parade began at ten. Putin arrived.",
        "The parade began at ten. Putin arrived in Kronstadt. Forty ships took part. Sailors cheered.",
    ]
    m = _sentence_matrix(texts)
    anywhere, in_order = sentence_matches(m, np.array([[0, 1], [0, 2]]))
    assert np.all(in_order <= anywhere + 1e-12)
    assert in_order[0] < 0.6 * anywhere[0]  # the same sentences, told backwards
    for k, (a, b) in enumerate([(0, 1), (0, 2)]):
        rows_a = m.rows[m.ptr[a] : m.ptr[a + 1]]
        rows_b = m.rows[m.ptr[b] : m.ptr[b + 1]]
        w = m.weights[m.ptr[a] : m.ptr[a + 1]].astype(np.float64)
        sim = (rows_a @ rows_b.T).toarray()
        assert in_order[k] == pytest.approx(_brute_ordered(sim, w) / w.sum(), abs=1e-6)


def test_cohesion_keeps_two_tight_groups_apart_and_lets_an_outlier_in():
    # two groups of three, 0.9 inside, 0.45 across (over the threshold 0.34, under 0.6 x 0.9);
    # and one outlier, 0.5 to the first group
    sim = np.full((7, 7), 0.45)
    sim[:3, :3] = sim[3:6, 3:6] = 0.9
    sim[6, :] = sim[:, 6] = 0.1
    sim[6, :3] = sim[:3, 6] = 0.5
    np.fill_diagonal(sim, 1.0)
    members = np.arange(7) * 10
    without = split_component(members, sim, 0.34, "average", 0.0)
    assert sorted(map(list, without)) == [[0, 10, 20, 30, 40, 50, 60]]
    kept = sorted(map(list, split_component(members, sim, 0.34, "average", 0.6)))
    assert kept == [[0, 10, 20, 60], [30, 40, 50]]


def test_a_merge_exactly_at_the_cohesion_limit_still_merges():
    sim = np.full((4, 4), 0.54)  # 0.6 x 0.9: exactly the limit
    sim[:2, :2] = sim[2:, 2:] = 0.9
    np.fill_diagonal(sim, 1.0)
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    tree = linkage(squareform(1.0 - sim, checks=False), method="average")
    assert [sorted(p.tolist()) for p in cut_tree(tree, 0.34, 0.6)] == [[0, 1, 2, 3]]
    assert len(cut_tree(tree, 0.34, 0.61)) == 2


def test_the_score_multiplies_by_the_numbers_factor():
    got = combine(
        np.array([0.6, 0.6, 0.6]),
        np.array([0.4, 0.4, 0.4]),
        np.array([np.nan, 1.0, 0.0]),
        sentence_weight=0.5,
        number_weight=0.3,
    )
    np.testing.assert_allclose(got, [0.5, 0.5, 0.35])
    np.testing.assert_allclose(number_factor(np.array([0.5]), 0.3), [0.85])
    signals = Signals.empty(2)
    assert len(signals) == 2 and np.isnan(signals.numbers).all()


PARADE = (
    "The main parade of the Russian Navy was held in St Petersburg on Sunday. 46 ships took part. "
    "President Putin watched from a boat in the Gulf of Finland."
)


def test_two_templates_with_other_numbers_score_lower_than_with_the_same():
    same = find_duplicates([("a", PARADE), ("b", PARADE.replace("Sunday", "the day"))], threshold=0.0)
    other = find_duplicates([("a", PARADE), ("b", PARADE.replace("46", "15"))], threshold=0.0)
    (p_same,), (p_other,) = same.pairs, other.pairs
    assert p_same.numbers == 1.0 and p_other.numbers == 0.5  # (0 + 1) / (1 + 1)
    assert p_other.score == pytest.approx(0.85 * p_same.score, abs=0.02)


_navy = st.sampled_from(["ships", "parade", "putin", "ten", "sailors", "forty", "navy"])
_said = st.lists(_navy, min_size=1, max_size=5).map(" ".join)
_told = st.lists(_said, min_size=1, max_size=7).map(lambda sentences: ". ".join(sentences) + ".")


@settings(max_examples=40, deadline=None)
@given(
    st.lists(_told, min_size=2, max_size=6),
    st.sampled_from([(1, 1), (7, 30), (50, 200), (1_000_000, 16_000_000)]),
)
def test_the_match_in_order_is_the_brute_force_one_however_the_grids_are_batched(texts, sizes):
    """Every pair's match in order, computed in batches of ``cells`` values filled ``held`` at a
    time (one pair a batch and a batch a fill, up to all at once), is the best monotone alignment."""
    cells, held = sizes
    m = _sentence_matrix(texts)
    i, j = np.triu_indices(len(texts), 1)
    pairs = np.stack([i, j], axis=1)
    real = dedup.score.ordered.ordered_gains
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dedup.score.sentences, "ordered_gains", functools.partial(real, cells=cells, held=held))
        anywhere, in_order = sentence_matches(m, pairs, cells=cells)  # (chunks of few pairs too)
    mass = m.mass()
    for k, (a, b) in enumerate(pairs.tolist()):
        if mass[a] > mass[b] or (mass[a] == mass[b] and a > b):
            a, b = b, a  # (the article with less content is the one looked for in the other)
        rows_a, rows_b = m.rows[m.ptr[a] : m.ptr[a + 1]], m.rows[m.ptr[b] : m.ptr[b + 1]]
        w = m.weights[m.ptr[a] : m.ptr[a + 1]].astype(np.float64)
        want = _brute_ordered((rows_a @ rows_b.T).toarray(), w) / w.sum() if w.sum() > 0 else 0.0
        assert in_order[k] == pytest.approx(want, abs=1e-6)
        assert in_order[k] <= anywhere[k] + 1e-12


@settings(max_examples=40, deadline=None)
@given(st.lists(_told, min_size=2, max_size=6))
def test_pairs_whose_best_matches_keep_order_skip_the_programme_and_get_its_value(texts):
    """The shortcut (dedup.score.sentences.best_in_order) gives each pair the value the dynamic
    programme gives it, to the last bits; only the pairs whose best matches go back are left to it."""
    m = _sentence_matrix(texts)
    i, j = np.triu_indices(len(texts), 1)
    pairs = np.stack([i, j], axis=1)
    anywhere, in_order = sentence_matches(m, pairs)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dedup.score.sentences, "best_in_order", lambda _p, _b, _o, n: np.zeros(n, dtype=bool))
        _, programme = sentence_matches(m, pairs)
    np.testing.assert_allclose(in_order, programme, rtol=0, atol=1e-12)
    np.testing.assert_array_less(in_order, anywhere + 1e-12)


def test_a_near_copy_needs_no_programme_and_a_story_told_backwards_does(monkeypatch):
    texts = [
        "Putin arrived in Kronstadt. The parade began at ten. Forty ships took part. Sailors cheered.",
        "Putin arrived in Kronstadt on Sunday. The parade began at ten. Forty ships took part.",
        "Sailors cheered the ships. Forty ships took part in it. The parade began at ten. Putin arrived.",
    ]
    m = _sentence_matrix(texts)
    asked: list[int] = []
    real = dedup.score.sentences.ordered_gains

    def counting(product, weights, owner, b_owner, pairs, *, only=None, **kw):
        asked.extend(np.flatnonzero(only).tolist() if only is not None else range(pairs))
        return real(product, weights, owner, b_owner, pairs, only=only, **kw)

    monkeypatch.setattr(dedup.score.sentences, "ordered_gains", counting)
    anywhere, in_order = sentence_matches(m, np.array([[0, 1], [0, 2]]))
    assert asked == [1]  # (the second pair, the story told backwards, alone)
    assert in_order[0] == anywhere[0] and in_order[1] < 0.6 * anywhere[1]
