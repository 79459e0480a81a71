"""LSH banding: who becomes a candidate, and how big buckets are kept in check."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.sketch.lsh import candidate_pairs, candidate_probability, lsh_params
from dedup.sketch.minhash import Signer


@pytest.mark.parametrize(("threshold", "num_perm"), [(0.3, 128), (0.5, 128), (0.8, 256)])
def test_lsh_params_centre_the_s_curve_on_the_threshold(threshold, num_perm):
    bands, rows = lsh_params(threshold, num_perm)
    assert bands * rows <= num_perm
    assert (
        candidate_probability(threshold - 0.2, bands, rows)
        < 0.5
        < candidate_probability(min(threshold + 0.2, 0.99), bands, rows)
    )


@pytest.mark.parametrize(
    ("threshold", "num_perm"),
    [(0.8, 128), (0.5, 256), (0.3, 128), (0.12, 128), (0.15, 256), (0.07, 64), (0.85, 32), (0.41, 600)],
)
def test_same_rule_as_datasketch_minhashlsh(threshold, num_perm):
    """datasketch integrates the S-curve with SciPy's quad; dedup with a Gauss-Legendre rule
    (no scipy.integrate to import): the same bands and rows."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    assert lsh_params(threshold, num_perm) == (lsh.b, lsh.r)


@pytest.mark.parametrize(("bands", "rows"), [(1, 1), (25, 5), (64, 4), (128, 2), (30, 17), (2, 300)])
@pytest.mark.parametrize("threshold", [0.05, 0.3, 0.77])
def test_the_s_curve_areas_are_scipys_quad(bands, rows, threshold):
    from scipy.integrate import quad

    from dedup.sketch.lsh import _false_negative_area, _false_positive_area

    below = quad(lambda j: candidate_probability(j, bands, rows), 0.0, threshold)[0]
    above = quad(lambda j: 1.0 - candidate_probability(j, bands, rows), threshold, 1.0)[0]
    assert _false_positive_area(threshold, bands, rows) == pytest.approx(below, abs=1e-12)
    assert _false_negative_area(threshold, bands, rows) == pytest.approx(above, abs=1e-12)


def test_similar_sets_become_candidates_and_dissimilar_do_not():
    signer = Signer(num_perm=128)
    base = {f"w{i}" for i in range(100)}
    sigs = signer.sign_many([base, base - {f"w{i}" for i in range(30)}, {f"x{i}" for i in range(100)}])
    pairs, stats = candidate_pairs(sigs, bands=37, rows=3)
    assert pairs.tolist() == [[0, 1]]
    assert stats.pairs == 1


def test_empty_signatures_are_never_candidates():
    signer = Signer(num_perm=16)
    sigs = signer.sign_many([set(), set(), {"a"}])
    pairs, _ = candidate_pairs(sigs, bands=8, rows=2)
    assert len(pairs) == 0


def test_oversized_buckets_are_chained_with_all_pairs():
    signer = Signer(num_perm=16)
    sigs = signer.sign_many([{"same", "text"}] * 50)
    pairs, stats = candidate_pairs(sigs, bands=8, rows=2, max_bucket=10, leaders=None)
    assert stats.oversized_buckets == 8 and stats.largest_bucket == 50
    # each member is paired with its next 8 neighbours only: linear, still connected
    assert len(pairs) == sum(min(8, 49 - i) for i in range(50))
    assert set(pairs[:, 0]) | set(pairs[:, 1]) == set(range(50))


@pytest.mark.parametrize("leaders", [1, 2, 4])
def test_oversized_buckets_are_stars_around_their_leaders(leaders):
    """Each member of a bucket over max_bucket is paired with the bucket's leaders only: the
    members of lowest signature rank, the same in every band and in any input order."""
    from dedup.sketch.lsh import signature_ranks

    sigs = Signer(num_perm=16).sign_many([{"same", "text", str(k)} for k in range(60)])
    sigs[:, :8] = sigs[0, :8]  # every member in one bucket in bands 0-3; bands 4-7 apart
    pairs, stats = candidate_pairs(sigs, bands=8, rows=2, max_bucket=10, leaders=leaders)
    heads = set(np.argsort(signature_ranks(sigs), kind="stable")[:leaders].tolist())
    big = {(int(i), int(j)) for i, j in pairs if i in heads or j in heads}
    assert len(big) == sum(59 - k for k in range(leaders))  # every member with every leader, once
    assert stats.oversized_buckets >= 4
    shuffled = np.random.default_rng(0).permutation(60)
    again, _ = candidate_pairs(sigs[shuffled], bands=8, rows=2, max_bucket=10, leaders=leaders)
    back = {tuple(sorted((int(shuffled[i]), int(shuffled[j])))) for i, j in again}
    assert back == {tuple(p) for p in pairs.tolist()}  # the same pairs, whatever the order


def test_bands_times_rows_cannot_exceed_num_perm():
    sigs = Signer(num_perm=16).sign_many([{"a"}, {"b"}])
    with pytest.raises(ValueError, match="exceeds num_perm"):
        candidate_pairs(sigs, bands=9, rows=2)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2), min_size=6, max_size=6), min_size=2, max_size=40))
def test_candidates_are_exactly_the_pairs_sharing_a_band(rows_of_values):
    # Tiny value ranges make many buckets of many sizes; none exceeds max_bucket here.
    signatures = np.array(rows_of_values, dtype=np.uint32)
    pairs, stats = candidate_pairs(signatures, bands=3, rows=2, max_bucket=100)
    expected = {
        (i, j)
        for i in range(len(signatures))
        for j in range(i + 1, len(signatures))
        if any((signatures[i, 2 * b : 2 * b + 2] == signatures[j, 2 * b : 2 * b + 2]).all() for b in range(3))
    }
    assert {tuple(p) for p in pairs.tolist()} == expected
    assert stats.pairs == len(expected) and stats.oversized_buckets == 0


def test_removing_duplicate_hits_along_the_way_changes_nothing(monkeypatch):
    import dedup.sketch.lsh as candidates

    rng = np.random.default_rng(5)
    signatures = rng.integers(0, 3, size=(300, 12), dtype=np.uint32)  # many collisions
    expected, _ = candidate_pairs(signatures, bands=4, rows=3, max_bucket=1000)
    monkeypatch.setattr(candidates, "_COMPACT_AT", 50)
    pairs, _ = candidate_pairs(signatures, bands=4, rows=3, max_bucket=1000)
    assert np.array_equal(pairs, expected) and len(expected) > 1000


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 2), min_size=6, max_size=6), min_size=2, max_size=40),
    st.sampled_from([0.0, 1 / 6, 3 / 6, 4 / 6, 1.0]),
)
def test_the_floor_keeps_the_band_hits_whose_signatures_agree_enough(rows_of_values, floor):
    """A pair that shares a band stays a candidate only if its signatures agree on at least
    ``min_jaccard`` of their values, a pair exactly at the floor included."""
    signatures = np.array(rows_of_values, dtype=np.uint32)
    pairs, stats = candidate_pairs(signatures, bands=3, rows=2, max_bucket=100, min_jaccard=floor)
    everything, _ = candidate_pairs(signatures, bands=3, rows=2, max_bucket=100)
    expected = [(i, j) for i, j in everything.tolist() if (signatures[i] == signatures[j]).sum() / 6 >= floor]
    assert [tuple(p) for p in pairs.tolist()] == expected
    assert stats.pairs == len(expected) and stats.below_min_jaccard == len(everything) - len(expected)


def test_chance_band_hits_of_unrelated_texts_stop_at_the_floor():
    """Sets of Jaccard about 0.04 meet in a band now and then (37 bands of 3 rows: 0.2% a pair,
    but there are many such pairs); the floor (0.1) takes nearly all those hits out and keeps
    the pair of Jaccard 0.54."""
    signer = Signer(num_perm=128)
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(100_000)]
    docs = []
    for _ in range(300):  # unrelated texts: 25 of 40 common words, 175 of their own
        common = set(rng.choice(words[:40], 25, replace=False).tolist())
        docs.append(common | set(rng.choice(words[40:], 175, replace=False).tolist()))
    docs += [set(words[1000:1100]), set(words[1030:1130])]  # Jaccard 70 / 130 = 0.54
    sigs = signer.sign_many(docs)
    everything, _ = candidate_pairs(sigs, bands=37, rows=3)
    pairs, stats = candidate_pairs(sigs, bands=37, rows=3, min_jaccard=0.1)
    assert [300, 301] in pairs.tolist() and [300, 301] in everything.tolist()
    assert len(everything) > 50 and len(pairs) <= 0.1 * len(everything), (len(everything), len(pairs))
    assert stats.below_min_jaccard == len(everything) - len(pairs)
