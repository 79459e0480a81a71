"""Signatures are exactly datasketch's, only computed in batches."""

import numpy as np
import pytest
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup.sketch.minhash as sign
from dedup.arrays.hashing import hash32
from dedup.sketch.minhash import Signer, estimate_jaccard, estimate_jaccard_pairs


def datasketch_signature(shingles, num_perm=128, seed=1):
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=hash32)
    m.update_batch([s.encode("utf-8") for s in shingles])
    return m.hashvalues


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sets(st.text(min_size=1, max_size=12), max_size=30), min_size=1, max_size=8))
def test_batch_signatures_equal_datasketch_minhash(shingle_sets):
    signer = Signer(num_perm=32, seed=3)
    got = signer.sign_many(shingle_sets)
    for row, shingles in zip(got, shingle_sets, strict=True):
        np.testing.assert_array_equal(row, datasketch_signature(shingles, 32, 3))


@pytest.mark.parametrize("block_hashes", [1, 7, 12, 1000])
def test_blocks_of_any_size_give_datasketch_values(monkeypatch, block_hashes):
    # Small blocks put several documents in one block, or one document larger than a block alone.
    monkeypatch.setattr(sign, "_BLOCK_CELLS", 16 * block_hashes)
    sets = [{f"w{i}" for i in range(k)} for k in (3, 11, 1, 20, 0, 5)]
    got = Signer(num_perm=16).sign_many(sets)
    for row, shingles in zip(got, sets, strict=True):
        np.testing.assert_array_equal(row, datasketch_signature(shingles, 16))


@pytest.mark.parametrize(("num_perm", "seed"), [(1, 0), (128, 1), (256, 1), (97, 12345)])
def test_permutations_are_datasketchs(num_perm, seed):
    a, b = sign.affine32_permutations(num_perm, seed)
    assert a.dtype == b.dtype == np.uint32 and (a % 2 == 1).all()
    theirs = MinHash(num_perm=num_perm, seed=seed).permutations
    np.testing.assert_array_equal(np.stack([a, b]), theirs)


def test_a_run_does_not_import_datasketch():
    """Half a second that every run and every `dedup index add` would pay (SciPy's integrate,
    redis): signing draws datasketch's permutations itself."""
    import subprocess
    import sys

    code = (
        "import sys, dedup; dedup.find_duplicates([('a', 'one text'), ('b', 'one text')]); "
        "print(sorted(m for m in sys.modules if m.startswith(('datasketch', 'redis', 'scipy.integrate'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_to_minhash_round_trips_into_datasketch():
    signer = Signer(num_perm=64)
    a = signer.to_minhash(signer.sign({"xi", "putin", "moscow", "visit"}))
    b = signer.to_minhash(signer.sign({"xi", "putin", "moscow", "talks"}))
    assert a.jaccard(b) == pytest.approx(3 / 5, abs=0.2)


def test_jaccard_estimates():
    signer = Signer(num_perm=256)
    sigs = signer.sign_many([{str(i) for i in range(100)}, {str(i) for i in range(50, 150)}, set("xyz")])
    assert estimate_jaccard(sigs[0], sigs[1]) == pytest.approx(50 / 150, abs=0.1)
    est = estimate_jaccard_pairs(sigs, np.array([[0, 1], [0, 2]]))
    assert est[0] == pytest.approx(1 / 3, abs=0.1) and est[1] < 0.05


def test_num_perm_must_be_positive():
    with pytest.raises(ValueError, match="num_perm"):
        Signer(num_perm=0)
