"""Rows past 2**31 entries (dedup.arrays.rows): read by stretch or by take, they give what scipy's
matrix of the same arrays gives, and a run whose matrices are all Rows finds what it finds
with scipy's."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.arrays import rows as rows_module
from dedup.arrays.rows import Rows, csr_rows
from dedup.score.tfidf import pair_cosines, smooth_idf, weigh_rows

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


def random_matrix(seed: int, n: int, width: int = 40) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    dense = rng.random((n, width)).astype(np.float32)
    dense[dense < 0.8] = 0  # about 8 entries a row, some rows empty
    return sp.csr_matrix(dense)


def as_rows(m: sp.csr_matrix) -> Rows:
    """``m``'s arrays as a run past the limit holds them: 64-bit row pointers, 32-bit columns."""
    return Rows(m.data.copy(), m.indices.astype(np.int32), m.indptr.astype(np.int64), m.shape)


def same(a: sp.csr_matrix, b: sp.csr_matrix) -> bool:
    return (
        a.shape == b.shape
        and np.array_equal(a.indptr, b.indptr)
        and np.array_equal(a.indices, b.indices)
        and np.array_equal(a.data, b.data)
    )


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 1000),
    n=st.integers(1, 30),
    lo=st.integers(-35, 35),
    hi=st.integers(-35, 35),
    take=st.lists(st.integers(0, 10_000), max_size=25),
)
def test_stretches_and_takes_are_scipys(seed, n, lo, hi, take):
    m = random_matrix(seed, n)
    r = as_rows(m)
    assert r.nnz == m.nnz and r.shape == m.shape
    assert same(r[lo:hi], m[lo:hi])
    assert same(r[lo:], m[lo:]) and same(r[:hi], m[:hi])
    picked = np.array([t % n for t in take], dtype=np.int64)
    assert same(r[picked], m[picked])
    assert same(r[-1 - picked], m[-1 - picked])  # (negative rows count from the end)


@pytest.mark.parametrize("key", [slice(0, 5, 2), np.array([0.5, 1.0]), np.array([[0, 1]]), np.array([10])])
def test_what_rows_cannot_give_is_an_index_error(key):
    with pytest.raises(IndexError, match="Rows"):
        as_rows(random_matrix(0, 10))[key]


def test_past_the_limit_csr_rows_keeps_64_bit_pointers_and_32_bit_columns(monkeypatch):
    m = random_matrix(1, 50)
    arrays = (m.data, m.indices.astype(np.int32), m.indptr.astype(np.int64), m.shape)
    small = csr_rows(*arrays)
    assert isinstance(small, sp.csr_matrix) and same(small, m)
    monkeypatch.setattr(rows_module, "MAX_ENTRIES", m.nnz - 1)
    big = csr_rows(*arrays)
    assert isinstance(big, Rows)
    assert big.indices.dtype == np.int32 and big.indptr.dtype == np.int64
    assert np.shares_memory(big.indices, arrays[1])  # (no copy into 64-bit columns)
    # What is read of it is scipy's: a stretch, or chosen rows.
    assert same(big[:], m) and same(big[np.array([3, 1])], m[[3, 1]])


def test_weighing_and_cosines_on_rows_are_scipys_bit_for_bit():
    m = random_matrix(2, 60)
    m.data = np.ceil(m.data * 5)  # counts
    r = as_rows(m)
    idf = smooth_idf(60, np.bincount(m.indices, minlength=m.shape[1]))
    norms = weigh_rows(m, idf, block=37)
    assert np.array_equal(weigh_rows(r, idf, block=37), norms)
    assert np.array_equal(r.data, m.data)
    pairs = np.random.default_rng(0).integers(0, 60, (200, 2))
    assert np.array_equal(pair_cosines(r, pairs, chunk=17), pair_cosines(m, pairs, chunk=17))


@pytest.mark.parametrize("sentence_weight", [None, 0.0])
def test_a_run_whose_matrices_are_all_rows_finds_what_it_finds_with_scipys(
    tmp_path, monkeypatch, sentence_weight
):
    """The dev set's start, in memory and spilled (gathered), with and without the sentence
    match (the TF-IDF builder's path): every matrix past a limit of 1,000 entries is Rows."""
    from _data import load_set

    from dedup.engines.local import Detector
    from dedup.io.article import Article
    from dedup.params import Params

    articles = [Article(a["id"], a["text"]) for a in load_set("v3")[:300]]
    params = Params() if sentence_weight is None else Params(sentence_weight=sentence_weight)

    def run(**kw) -> tuple[list, list]:
        det = Detector(params, **kw)
        det.add_many(articles)
        result = det.finish()
        return result.pairs, result.clusters

    expected = run()
    assert expected[0]
    monkeypatch.setattr(rows_module, "MAX_ENTRIES", 1_000)
    made = []
    real = rows_module.csr_rows

    def spy(*args):
        made.append(type(got := real(*args)))
        return got

    for module in ("dedup.score.sentences", "dedup.score.tfidf", "dedup.score.gather"):
        monkeypatch.setattr(f"{module}.csr_rows", spy)
    assert run() == expected
    assert run(spill_dir=tmp_path / "spill") == expected
    assert Rows in made
