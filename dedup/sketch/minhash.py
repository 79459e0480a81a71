"""MinHash signatures, computed in batches and compatible with datasketch.

A signature of ``num_perm`` values summarises a set of shingles so that the
fraction of positions where two signatures agree is an unbiased estimate of
the Jaccard similarity of the two sets (standard error about
``sqrt(J (1 - J) / num_perm)``).

The values are exactly those of ``datasketch.MinHash(num_perm, seed,
hashfunc=dedup.arrays.hashing.hash32)`` (datasketch's default ``affine32`` scheme)
updated with the UTF-8 bytes of every shingle, so a signature can be turned
into a ``datasketch.MinHash`` (:meth:`Signer.to_minhash`) and used with
datasketch's own LSH indexes. What is faster here: the shingles of a whole
batch are hashed together (:func:`dedup.arrays.hashing.term_ids`), and the
permutations of a whole batch of documents are applied in vectorised numpy
steps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from dedup.arrays.hashing import hash32, term_ids
from dedup.arrays.store import local_stretches

if TYPE_CHECKING:
    from datasketch import MinHash

HASH_SCHEME = "datasketch-affine32/dedup.arrays.hashing.hash32/utf-8"
"""What the signature values mean: recorded in every output."""

# MurmurHash3's 32-bit finaliser, datasketch's pre-mix for the affine32 scheme.
_FMIX32 = (16, np.uint32(0x85EBCA6B), 13, np.uint32(0xC2B2AE35), 16)
_EMPTY = np.uint32(0xFFFFFFFF)
_BLOCK_CELLS = 512 * 1024  # hashes x permutations permuted at once (2 MB: fits the CPU cache)


def _fmix32(hv: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2, s3 = _FMIX32
    hv = hv ^ (hv >> np.uint32(s1))
    hv = hv * m1
    hv = hv ^ (hv >> np.uint32(s2))
    hv = hv * m2
    return hv ^ (hv >> np.uint32(s3))


def affine32_permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``num_perm`` affine permutations ``h -> a * h + b mod 2**32`` of datasketch's
    ``MinHash(num_perm, seed)`` (its ``affine32`` scheme): the same random draws, odd ``a`` (a
    bijection), as uint32 arrays ``a`` and ``b``. Drawn here rather than by a ``MinHash``: importing
    datasketch costs half a second (SciPy's integrate, redis), which every run and every
    ``dedup index add`` would pay; ``tests/test_sign.py`` checks they are datasketch's."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


class Signer:
    """Computes MinHash signatures of shingle sets.

    Args:
        num_perm: number of permutations (signature length). More gives a
            more accurate Jaccard estimate and allows more LSH bands, at a
            cost linear in ``num_perm``.
        seed: seed of the random permutations; two signatures are comparable
            only if made with the same ``num_perm`` and ``seed``.

    Examples:
        >>> signer = Signer(num_perm=64)
        >>> sig = signer.sign({"putin", "xi", "visit"})
        >>> sig.shape
        (64,)
    """

    def __init__(self, num_perm: int = 128, seed: int = 1) -> None:
        if num_perm < 1:
            raise ValueError(f"num_perm must be a positive integer, got {num_perm!r}")
        self.num_perm = num_perm
        self.seed = seed
        self._a, self._b = affine32_permutations(num_perm, seed)

    def sign(self, shingles: Iterable[str]) -> np.ndarray:
        """The signature (``num_perm`` uint32 values) of one shingle set."""
        return self.sign_many([shingles])[0]

    def sign_many(self, shingle_sets: Sequence[Iterable[str]]) -> np.ndarray:
        """Signatures of many shingle sets as an ``(n, num_perm)`` uint32 array.

        An empty set gets datasketch's empty signature (all ``2**32 - 1``).
        """
        # All the sets' shingles are hashed at once, then cut back into sets.
        sets = [s if isinstance(s, set | frozenset | list | tuple) else list(s) for s in shingle_sets]
        hashes = term_ids([m for s in sets for m in s]).astype(np.uint32)
        ends = np.cumsum([len(s) for s in sets])
        return self.sign_hashes(np.split(hashes, ends[:-1]) if len(ends) else [])

    def sign_hashes(self, hash_sets: Sequence[np.ndarray]) -> np.ndarray:
        """Signatures of many sets given as arrays of their members' 32-bit hashes
        (:func:`dedup.arrays.hashing.hash32` of each shingle's UTF-8 bytes: the low 32 bits of its id,
        as :mod:`dedup.features` makes them).

        The permuted hashes are laid out one permutation per row, documents side by side
        along the row, so that each document's minimum is a reduction over a contiguous run
        (ten times faster than reducing down columns), and a few hundred documents at a time,
        so that the block stays in the CPU cache.
        """
        sizes = np.fromiter((len(h) for h in hash_sets), dtype=np.int64, count=len(hash_sets))
        out = np.full((len(hash_sets), self.num_perm), _EMPTY, dtype=np.uint32)
        nonempty = np.flatnonzero(sizes)
        if len(nonempty) == 0:
            return out
        hv = _fmix32(np.concatenate([np.asarray(hash_sets[i], dtype=np.uint32) for i in nonempty]))
        sizes = sizes[nonempty]
        ends = np.cumsum(sizes)
        starts = ends - sizes
        a, b = self._a[:, None], self._b[:, None]
        mins = np.empty((self.num_perm, len(nonempty)), dtype=np.uint32)
        step = max(1, _BLOCK_CELLS // self.num_perm)  # hashes per block
        buf = np.empty((self.num_perm, step), dtype=np.uint32)
        d = 0
        while d < len(starts):
            lo = starts[d]
            e = max(int(np.searchsorted(ends, lo + step, side="right")), d + 1)  # whole documents
            hi = ends[e - 1]
            block = buf[:, : hi - lo] if hi - lo <= step else np.empty((self.num_perm, hi - lo), np.uint32)
            np.multiply(a, hv[None, lo:hi], out=block)
            np.add(block, b, out=block)
            mins[:, d:e] = np.minimum.reduceat(block, starts[d:e] - lo, axis=1)
            d = e
        out[nonempty] = mins.T
        return out

    def to_minhash(self, signature: np.ndarray) -> MinHash:
        """Wrap a signature as a ``datasketch.MinHash`` (for datasketch's LSH classes)."""
        from datasketch import MinHash

        return MinHash(seed=self.seed, hashvalues=signature, scheme="affine32", hashfunc=hash32)


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """MinHash estimate of the Jaccard similarity: the fraction of equal values."""
    return float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)


def estimate_jaccard_pairs(
    signatures: np.ndarray, pairs: np.ndarray, *, release: Callable[[], None] | None = None
) -> np.ndarray:
    """For each row-index pair of an ``(k, 2)`` array, the share of positions where the two
    signatures agree: the MinHash estimate of their sets' Jaccard (float64, in steps of
    ``1 / num_perm``; the ``jaccard`` of ``pairs.jsonl``).

    With ``release`` (signatures in a spilled memory map), the pairs are visited block pair by
    block pair (:func:`dedup.arrays.store.local_stretches`) and ``release`` is called after each
    stretch, so that the pages mapped at once are those of two ranges of rows, not all of them.
    """
    out = np.empty(len(pairs))
    stretches = (
        [np.arange(len(pairs))] if release is None else local_stretches(pairs, len(signatures), 1 << 20)
    )
    step = max(1, 2_000_000 // signatures.shape[1])  # (pairs gathered at once: 16 MB of values)
    for idx in stretches:
        for lo in range(0, len(idx), step):
            at = idx[lo : lo + step]
            p = pairs[at]
            out[at] = np.count_nonzero(signatures[p[:, 0]] == signatures[p[:, 1]], axis=1)
        if release is not None:
            release()
    return out / signatures.shape[1]
