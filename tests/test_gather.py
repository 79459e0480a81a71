"""Rows gathered family by family (dedup.score.gather): the same rows, in the asked order, whether
gathered in memory or by the external scatter of a spilled run, whatever its budget."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.arrays.store import Store
from dedup.cluster import components
from dedup.score.gather import component_order, gather_ranges, positions


def random_rows(rng: np.random.Generator, n: int, width: int = 50) -> sp.csr_matrix:
    dense = rng.random((n, width)).astype(np.float32)
    dense[dense < 0.8] = 0  # about 10 entries a row, some rows empty
    return sp.csr_matrix(dense)


def spilled_copy(store: Store, m: sp.csr_matrix) -> sp.csr_matrix:
    """``m`` as a spilled run holds it: its arrays in files of ``store``, read through maps."""
    arrays = {"data": m.data, "indices": m.indices, "indptr": m.indptr}
    columns = {name: store.column(name, a.dtype) for name, a in arrays.items()}
    for name, column in columns.items():
        column.extend(arrays[name])
    data, indices, indptr = (columns[name].view() for name in arrays)
    return sp.csr_matrix((data, indices, indptr), shape=m.shape, copy=False)


@pytest.mark.parametrize("budget", [1, 64, 1_000, 1 << 30])
def test_spilled_gather_equals_fancy_indexing(tmp_path, budget):
    rng = np.random.default_rng(0)
    m = random_rows(rng, 300)
    # Ranges of rows, as a run asks for articles' sentences: some empty, in a shuffled order.
    cuts = np.sort(rng.choice(np.arange(1, 300), size=60, replace=False))
    starts, ends = np.r_[0, cuts], np.r_[cuts, 300]
    pick = rng.permutation(len(starts))[:40]
    starts, ends = starts[pick], ends[pick]
    expected = sp.csr_matrix(m[np.concatenate([np.arange(a, b) for a, b in zip(starts, ends, strict=True)])])
    store = Store(tmp_path)
    try:
        got = gather_ranges(spilled_copy(store, m), starts, ends, store=store, name="g", budget=budget)
        assert got.shape == expected.shape
        assert np.array_equal(got.indptr, expected.indptr)
        assert np.array_equal(got.indices, expected.indices)
        assert np.array_equal(got.data, expected.data)  # bit for bit
        # The buckets' files are gone once the rows are gathered: only the source and the result.
        assert len(store._columns) == 3 + 3
        assert list(tmp_path.iterdir()) == []  # (spilled files have no name)
    finally:
        store.close()


def test_in_memory_gather_is_fancy_indexing():
    m = random_rows(np.random.default_rng(1), 20)
    got = gather_ranges(m, np.array([5, 0, 9]), np.array([7, 2, 9]), store=Store(), name="g")
    assert (got != m[[5, 6, 0, 1]]).nnz == 0


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 30).flatmap(
        lambda n: st.tuples(
            st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=40)
        )
    )
)
def test_component_order_keeps_components_together(case):
    n, edges = case
    pairs = np.array([(a, b) for a, b in edges if a != b], dtype=np.int64).reshape(-1, 2)
    order = component_order(n, pairs)
    # Exactly the nodes of some pair, each once.
    assert sorted(order.tolist()) == sorted(set(pairs.ravel().tolist()))
    at = positions(n, order)
    # Each component is one stretch of the order, and comes once.
    comp = components(n, pairs)
    seen: list[int] = []
    for node in order.tolist():
        if not seen or seen[-1] != comp[node]:
            assert comp[node] not in seen  # a component does not come back
            seen.append(int(comp[node]))
    assert (at[order] == np.arange(len(order))).all()


@pytest.mark.parametrize("all_pairs", [False, True])
def test_a_run_gathered_finds_what_it_finds_ungathered(tmp_path, monkeypatch, all_pairs):
    """The real variants of v3 (rival outlets' same-story documents included) and part of the
    dev set, spilled: gathered into many small buckets, not gathered, and in memory, the same
    pairs (every signal) and clusters."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from _data import load_set

    from dedup.engines.local import Detector
    from dedup.io.article import Article
    from dedup.params import Params

    monkeypatch.setattr("dedup.score.gather.BUDGET", 4096)  # dozens of buckets
    rows = load_set("v3") + load_set("dev")[:400]
    articles = [Article(a["id"], a["text"]) for a in rows]
    articles += [Article(f"copy-{a.id}", a.text) for a in articles[:30]]  # exact copies

    def run(**kw) -> tuple[list, list, dict]:
        det = Detector(Params(all_pairs=all_pairs), **kw)
        det.add_many(articles)
        result = det.finish()
        return result.pairs, result.clusters, result.summary["candidates"]

    gathered = run(spill_dir=tmp_path / "a", gather=True)
    assert gathered[0] and gathered == run(spill_dir=tmp_path / "b", gather=False) == run()
    assert not (tmp_path / "a").exists()  # the spill folder, buckets and all, is gone


@pytest.mark.parametrize(
    ("spilled", "hook", "gathers"), [(True, False, True), (False, False, False), (True, True, False)]
)
def test_a_spilled_run_gathers_unless_in_memory_or_hooked(tmp_path, monkeypatch, spilled, hook, gathers):
    """Gathering is the spilled default; a run in memory has nothing to gather, and a hook (what
    `dedup explain` uses) may measure any pair, so the rows stay where they are."""
    import dedup.score.gather
    from dedup.engines.local import Detector, RunHook
    from dedup.io.article import Article

    calls = []
    real = dedup.score.gather.gather_ranges
    monkeypatch.setattr(dedup.score.gather, "gather_ranges", lambda *a, **k: calls.append(1) or real(*a, **k))
    text = "The council approved the budget of 4.5 million euros for the new bridge on Monday. " * 3
    det = Detector(spill_dir=tmp_path if spilled else None, hook=RunHook() if hook else None)
    det.add_many([Article("a", text), Article("b", text + " It opens next year."), Article("c", "Rain.")])
    result = det.finish()
    assert [c.members for c in result.clusters] == [["a", "b"]]
    assert bool(calls) is gathers
