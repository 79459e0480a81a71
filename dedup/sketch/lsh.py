"""Candidate pairs from MinHash LSH banding.

The signature is cut into ``bands`` bands of ``rows`` values; two documents
become candidates when all ``rows`` values of at least one band agree. For two
sets of Jaccard similarity ``J`` this happens with probability
``1 - (1 - J**rows)**bands``: an S-curve whose steep part sits near
``(1 / bands) ** (1 / rows)``. ``dedup`` aims that curve at a LOW Jaccard on
SHORT shingles, where machine-translation variants of one article still meet.

Banding is done with numpy (one 64-bit key per document and band, sorted and
grouped) rather than Python sets, and oversized buckets are capped.

So low a curve has a cost that grows with the corpus: two unrelated articles of Jaccard 0.08
meet with probability 0.02, and the pairs of that Jaccard grow with the square of the corpus.
A pair that met in a band is therefore kept only if its whole signatures agree on at least
``min_jaccard`` of their values (:func:`dedup.sketch.minhash.estimate_jaccard_pairs`, the MinHash estimate
of its Jaccard): measured, that leaves chance candidates flat in the corpus size (0.23 an article at
100k and at 1M synthetic articles, where banding alone gave 1.7 and 4.4) and drops no verified
pair of any dev set, whose lowest estimate is 0.15 (``benchmarks/chance.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from dedup.sketch.minhash import estimate_jaccard_pairs

EMPTY = np.uint32(0xFFFFFFFF)
"""Every value of the signature of an article without shingles (never a candidate)."""
MIN_JACCARD = 0.1
"""The default floor on a candidate pair's signature agreement (see the module docstring)."""


def candidate_probability(jaccard: float, bands: int, rows: int) -> float:
    """Probability that two sets of Jaccard similarity ``jaccard`` become candidates."""
    return 1.0 - (1.0 - jaccard**rows) ** bands


@functools.cache
def _quadrature() -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre quadrature on [-1, 1], its nodes and weights: exact for polynomials of degree
    up to 511, and the S-curve is one of degree ``bands * rows <= num_perm`` (so exact for
    ``num_perm <= 511``; within 1e-12 of SciPy's ``quad``, which datasketch uses, beyond:
    ``tests/test_candidates.py``). Made on first use: it takes a few tenths of a second, which
    every command would pay at import."""
    return np.polynomial.legendre.leggauss(256)


def _area(f: Callable[[np.ndarray], np.ndarray], lo: float, hi: float) -> float:
    """The integral of ``f`` from ``lo`` to ``hi`` (:func:`_quadrature`)."""
    nodes, weights = _quadrature()
    half = (hi - lo) / 2.0
    return float(half * (weights @ f(lo + half * (nodes + 1.0))))


def _false_positive_area(threshold: float, bands: int, rows: int) -> float:
    return _area(lambda j: candidate_probability(j, bands, rows), 0.0, threshold)


def _false_negative_area(threshold: float, bands: int, rows: int) -> float:
    return _area(lambda j: 1.0 - candidate_probability(j, bands, rows), threshold, 1.0)


def lsh_params(threshold: float, num_perm: int, weights: tuple[float, float] = (0.5, 0.5)) -> tuple[int, int]:
    """Bands and rows (``bands * rows <= num_perm``) whose S-curve best fits ``threshold``.

    Minimises ``weights[0] * FP + weights[1] * FN``, the areas under the
    curve below and above the threshold: the same rule as datasketch's
    ``MinHashLSH``, so a threshold means the same thing in both.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold!r}")
    best, best_err = (1, 1), float("inf")
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            err = weights[0] * _false_positive_area(threshold, bands, rows) + weights[
                1
            ] * _false_negative_area(threshold, bands, rows)
            if err < best_err:
                best, best_err = (bands, rows), err
    return best


@dataclass
class CandidateStats:
    """What banding did: how many pairs it proposed and which buckets it capped."""

    bands: int
    rows: int
    pairs: int = 0
    buckets: int = 0
    oversized_buckets: int = 0
    largest_bucket: int = 0
    oversized_examples: list[int] = field(default_factory=list)
    below_min_jaccard: int = 0
    """Pairs that met in a band but whose signatures agree on less than ``min_jaccard``."""


_COMPACT_AT = 5_000_000  # band hits held (in one part) before duplicates are first removed
_PARTS = 64  # ranges of pair codes deduplicated apart


class _PairSet:
    """The distinct pair codes (``i * n + j``) of many band hits, in memory that follows the
    distinct pairs, not the hits: hits are dealt into ``_PARTS`` ranges of codes, and a range's
    duplicates are removed when its hits have doubled since the last time (each removal sorts
    one range, not all the pairs, and never at every band: that was quadratic)."""

    def __init__(self, n: int) -> None:
        self._stride = -(-n // _PARTS) * n  # codes per range
        self._parts: list[list[np.ndarray]] = [[] for _ in range(_PARTS)]
        self._held = np.zeros(_PARTS, dtype=np.int64)
        self._compacted = np.zeros(_PARTS, dtype=np.int64)

    def add(self, codes: np.ndarray) -> None:
        if len(codes) == 0:
            return
        part = (codes // self._stride).astype(np.uint8)
        order = np.argsort(part, kind="stable")  # a radix sort on 8-bit keys: linear
        counts = np.bincount(part, minlength=_PARTS)
        ends = np.cumsum(counts)
        codes = codes[order]
        for k in np.flatnonzero(counts).tolist():
            self._parts[k].append(codes[ends[k] - counts[k] : ends[k]])
            self._held[k] += counts[k]
            if self._held[k] > max(_COMPACT_AT // _PARTS, 2 * self._compacted[k]):
                self._compact(k)

    def _compact(self, k: int) -> None:
        self._parts[k] = [np.unique(np.concatenate(self._parts[k]))]
        self._held[k] = self._compacted[k] = len(self._parts[k][0])

    def ranges(self) -> Iterator[np.ndarray]:
        """The distinct codes of each range in turn, sorted (each range is consumed as it goes)."""
        for k in range(_PARTS):
            if self._parts[k]:
                self._compact(k)
                codes = self._parts[k][0]
                self._parts[k] = []
                yield codes

    def distinct(self) -> np.ndarray:
        """All distinct codes, sorted."""
        out = list(self.ranges())
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def signature_ranks(signatures: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each signature (as int64): the order in which the members of an
    oversized bucket are taken as its leaders (:func:`bucket_pair_codes`), the same in every
    band and whatever the input order."""
    return row_keys(signatures).view(np.int64)


def row_keys(band: np.ndarray) -> np.ndarray:
    """One 64-bit key per row of a ``(n, rows)`` uint32 band (a hash of its values)."""
    key = np.full(band.shape[0], np.uint64(0x9E3779B97F4A7C15), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for col in range(band.shape[1]):
            key ^= band[:, col].astype(np.uint64)
            key *= np.uint64(0xBF58476D1CE4E5B9)
            key ^= key >> np.uint64(31)
    return key


LEADERS = 1
"""Members of an oversized bucket (those of lowest signature rank) that every other member is
paired with. One gives every dev set its clusters, as 2 and 4 do, for the fewest pairs."""


def bucket_pair_codes(
    members: np.ndarray,
    starts: np.ndarray,
    sizes: np.ndarray,
    max_bucket: int,
    n: int,
    leaders: int | None = LEADERS,
    ranks: np.ndarray | None = None,
) -> Iterator[np.ndarray]:
    """The codes ``i * n + j`` of the pairs each bucket proposes: bucket ``k`` is
    ``members[starts[k] : starts[k] + sizes[k]]``, in input order (so ``i < j``). A bucket of at
    most ``max_bucket`` gives all its pairs; a larger one each member with the bucket's
    ``leaders`` members of lowest ``ranks`` (:func:`signature_ranks`, aligned with ``members``;
    ties and ``ranks=None``: the first). That is a star: the pairs grow with the bucket's size,
    and as a member's rank is the same in every band, the same leaders come back in every
    bucket a family shares, so its members meet few distinct partners, whatever the input
    order. With ``leaders=None``, each member is paired with its next ``min(max_bucket, 8)`` (a
    chain: the rule of ``all_pairs``). Buckets of one member give none. (The rule of
    :func:`candidate_pairs`, shared with the Spark engine.)"""
    window = min(max_bucket, 8)
    normal = (sizes >= 2) & (sizes <= max_bucket)
    for size in np.unique(sizes[normal]).tolist():  # buckets of one size as one (buckets, size) array
        first = starts[normal & (sizes == size)]
        grouped = members[first[:, None] + np.arange(size)]
        i, j = np.triu_indices(size, 1)
        yield (grouped[:, i] * np.int64(n) + grouped[:, j]).ravel()
    for start, size in zip(
        starts[sizes > max_bucket].tolist(), sizes[sizes > max_bucket].tolist(), strict=True
    ):
        grouped = members[start : start + size]
        if leaders is not None:
            lead = min(leaders, size - 1)
            if ranks is None:
                heads = np.arange(lead)
            else:
                heads = np.argsort(ranks[start : start + size], kind="stable")[:lead]
            i = np.repeat(heads, size)
            j = np.tile(np.arange(size), lead)
            keep = ~np.isin(j, heads) | (j > i)  # (each pair of leaders once)
            i, j = np.minimum(i[keep], j[keep]), np.maximum(i[keep], j[keep])
        else:
            i = np.repeat(np.arange(size), window)
            j = i + np.tile(np.arange(1, window + 1), size)
            i, j = i[j < size], j[j < size]
        yield grouped[i] * np.int64(n) + grouped[j]


@dataclass(frozen=True)
class Banded:
    """What banding reads of a run's signatures: which rows have shingles, each band's keys
    for those rows, and each row's rank (:func:`signature_ranks`).

    Made from a signature array (:meth:`of`), or kept as the articles arrive, a column of
    keys per band (the Detector's spilled runs): banding then reads 8 bytes a row per band
    instead of the whole signatures once per band.

    Attributes:
        n: rows (documents), valid or not.
        valid: the rows with a non-empty signature, ascending.
        band: ``band(b)``: the keys of band ``b`` of the valid rows (uint64, aligned with ``valid``).
        ranks: ``ranks()``: :func:`signature_ranks` of the valid rows.
        signatures: the ``(n, num_perm)`` signatures (perhaps a memory map), for the floor.
        release: called after each band and each block of the floor to hand spilled pages back
            (None: the signatures are in memory).
    """

    n: int
    valid: np.ndarray
    band: Callable[[int], np.ndarray]
    ranks: Callable[[], np.ndarray]
    signatures: np.ndarray
    release: Callable[[], None] | None = None

    @classmethod
    def of(cls, signatures: np.ndarray, rows: int) -> Banded:
        """The banding view of an in-memory ``(n, num_perm)`` signature array."""
        valid = np.flatnonzero(has_shingles(signatures))
        return cls(
            n=len(signatures),
            valid=valid,
            band=lambda b: row_keys(signatures[valid, b * rows : (b + 1) * rows]),
            ranks=lambda: signature_ranks(signatures[valid]),
            signatures=signatures,
        )


def has_shingles(signatures: np.ndarray) -> np.ndarray:
    """Which rows of an ``(n, num_perm)`` signature array are not the empty signature (a text
    with no shingle, which banding never pairs)."""
    return ~np.all(signatures == EMPTY, axis=1)


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """The ``(bands, n)`` keys of each band of each row of an ``(n, num_perm)`` signature array
    (what :class:`Banded` reads; an empty signature's keys are never read)."""
    return np.stack([row_keys(signatures[:, b * rows : (b + 1) * rows]) for b in range(bands)])


def candidate_pairs(
    signatures: np.ndarray | Banded,
    *,
    bands: int,
    rows: int,
    max_bucket: int = 200,
    leaders: int | None = LEADERS,
    min_jaccard: float = 0.0,
    on_band: Callable[[], None] | None = None,
) -> tuple[np.ndarray, CandidateStats]:
    """All candidate pairs ``(i, j)``, ``i < j``, of an ``(n, num_perm)`` signature array (or of
    its :class:`Banded` view).

    A bucket holding more than ``max_bucket`` documents (a large family, or
    documents made of boilerplate) is not expanded into all its pairs: each
    member is paired with the bucket's ``leaders`` members of lowest signature
    rank (or, with
    ``leaders=None``, with its next ``min(max_bucket, 8)`` members), so its
    members still end up connected and the work stays linear in the bucket
    size (:func:`bucket_pair_codes`). Documents with an empty signature (no
    shingles) are never candidates. A pair whose signatures agree on less than
    ``min_jaccard`` of their values (:func:`dedup.sketch.minhash.estimate_jaccard_pairs`) is dropped,
    one range of pairs at a time, so memory follows the pairs kept. ``on_band`` is called as each
    band is done (a progress bar).

    Returns:
        ``(pairs, stats)``: a sorted, duplicate-free ``(k, 2)`` int64 array and
        a :class:`CandidateStats`.
    """
    view = signatures if isinstance(signatures, Banded) else Banded.of(signatures, rows)
    num_perm = view.signatures.shape[1]
    if bands * rows > num_perm:
        raise ValueError(
            f"bands * rows = {bands * rows} exceeds num_perm = {num_perm}: "
            "use fewer bands or rows, or more permutations"
        )
    stats = CandidateStats(bands=bands, rows=rows)
    n, valid = view.n, view.valid
    if len(valid) < 2:
        return np.zeros((0, 2), dtype=np.int64), stats
    hits = _PairSet(n)
    ranks = view.ranks() if leaders is not None else None
    for b in range(bands):
        if on_band is not None and b > 0:  # (the band before is done)
            on_band()
        keys = view.band(b)
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        del keys
        starts = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
        del sorted_keys
        sizes = np.diff(np.append(starts, len(order)))
        if view.release is not None:
            view.release()
        multi = sizes >= 2
        stats.buckets += int(multi.sum())
        if not multi.any():
            continue
        stats.largest_bucket = max(stats.largest_bucket, int(sizes.max()))
        oversized = sizes[sizes > max_bucket].tolist()
        stats.oversized_buckets += len(oversized)
        stats.oversized_examples.extend(oversized[: 10 - len(stats.oversized_examples)])
        # Members of a bucket are in input order (stable sort), so i < j within a bucket.
        in_order = None if ranks is None else ranks[order]
        for codes in bucket_pair_codes(valid[order], starts, sizes, max_bucket, n, leaders, in_order):
            hits.add(codes)
    if on_band is not None:
        on_band()
    kept = []
    for codes in hits.ranges():
        pairs = np.empty((len(codes), 2), dtype=np.int64)
        np.divmod(codes, n, out=(pairs[:, 0], pairs[:, 1]))  # (no temporaries the size of the pairs)
        del codes
        if min_jaccard > 0:
            close = estimate_jaccard_pairs(view.signatures, pairs, release=view.release) >= min_jaccard
            stats.below_min_jaccard += int(len(pairs) - np.count_nonzero(close))
            pairs = pairs[close]
        kept.append(pairs)
    pairs = np.concatenate(kept) if kept else np.zeros((0, 2), dtype=np.int64)
    stats.pairs = len(pairs)
    return pairs, stats
