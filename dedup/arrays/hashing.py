"""Terms named by a 64-bit hash instead of an index in a vocabulary.

The id of a term is a hash of its UTF-8 bytes ``b[0] .. b[L-1]``: the
polynomial ``sum((b[k] + 1) * P**k)`` modulo 2**64 (``P`` a fixed odd 64-bit
constant), combined with ``L`` and passed through MurmurHash3's 64-bit
finaliser so that every bit of the id depends on every byte. Unlike a
cryptographic hash it can be computed for many terms at once with numpy
(:func:`term_ids`: one join and one encode in Python, then a few passes over
the bytes), which is what makes hashing every token of every article cheap.
Its low 32 bits (:func:`hash32`) are the MinHash input, and can be given to
datasketch as ``MinHash(hashfunc=dedup.arrays.hashing.hash32)`` to get the very
signatures ``dedup`` computes.

Counts made in different processes (or, later, stored on disk) can be put
side by side without first agreeing on a vocabulary. Two distinct terms share
an id with probability about n²/2⁶⁵ for n distinct terms (for ten million,
one chance in 370,000); the polynomial cannot be made to collide for every
``P`` by terms shorter than about 2,000 bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_EMPTY_U64 = np.zeros(0, dtype=np.uint64)
_EMPTY_F32 = np.zeros(0, dtype=np.float32)

_MASK = (1 << 64) - 1
_P = 0x9E3779B97F4A7C15  # odd: invertible modulo 2**64
_P_INV = pow(_P, -1, 1 << 64)
_LENGTH = 0xD6E8FEB86659FD93  # mixes the length in before the finaliser
_M1, _M2 = 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53  # MurmurHash3 fmix64


def _fmix64(k: int) -> int:
    k ^= k >> 33
    k = (k * _M1) & _MASK
    k ^= k >> 33
    k = (k * _M2) & _MASK
    return k ^ (k >> 33)


def hash_bytes(data: bytes) -> int:
    """The 64-bit id of a term given as its UTF-8 bytes (one at a time; see :func:`term_ids`)."""
    h = 0
    for b in reversed(data):  # Horner: sum((b[k] + 1) * P**k)
        h = (h * _P + b + 1) & _MASK
    return _fmix64(h ^ ((len(data) * _LENGTH) & _MASK))


def term_hash(term: str) -> int:
    """The 64-bit id of a term (see the module doc)."""
    return hash_bytes(term.encode("utf-8"))


def hash32(data: bytes) -> int:
    """The MinHash input of a shingle's UTF-8 bytes: the low 32 bits of its id. A datasketch
    ``hashfunc``: ``MinHash(num_perm, seed, hashfunc=hash32)`` updated with the shingles' bytes
    has the values of :class:`dedup.sketch.minhash.Signer`."""
    return hash_bytes(data) & 0xFFFFFFFF


class _Powers:
    """``P**k`` and ``P**-k`` modulo 2**64 for k = 0, 1, ..., grown on demand."""

    def __init__(self) -> None:
        self.up = np.ones(1, dtype=np.uint64)
        self.down = np.ones(1, dtype=np.uint64)

    def upto(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if len(self.up) < n:
            size = max(n, 2 * len(self.up), 1 << 16)
            self.up, self.down = (np.ones(size, dtype=np.uint64) for _ in range(2))
            self.up[1:] = np.cumprod(np.full(size - 1, _P, dtype=np.uint64))  # wraps modulo 2**64
            self.down[1:] = np.cumprod(np.full(size - 1, _P_INV, dtype=np.uint64))
        return self.up, self.down


_powers = _Powers()


def term_ids(terms: Sequence[str]) -> np.ndarray:
    """The ids of ``terms``, in order, as a uint64 array, computed together: the terms are
    joined by NUL and encoded once, and each term's polynomial is a difference of prefix sums
    over the bytes (the same values as :func:`term_hash`, term by term)."""
    n = len(terms)
    if n == 0:
        return _EMPTY_U64.copy()
    joined = "\x00".join(terms).encode("utf-8")
    data = np.frombuffer(joined, dtype=np.uint8)
    cuts = np.flatnonzero(data == 0)
    if len(cuts) != n - 1:  # a term holds a NUL itself: find the boundaries from the lengths
        encoded = [t.encode("utf-8") for t in terms]
        data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=n)
        ends = np.cumsum(lengths)
        starts = ends - lengths
    else:
        starts = np.concatenate(([0], cuts + 1))
        ends = np.append(cuts, len(data))
    up, down = _powers.upto(len(data) + 1)
    with np.errstate(over="ignore"):
        prefix = np.zeros(len(data) + 1, dtype=np.uint64)
        np.cumsum((data.astype(np.uint64) + np.uint64(1)) * up[: len(data)], out=prefix[1:])
        h = (prefix[ends] - prefix[starts]) * down[starts]
        h ^= (ends - starts).astype(np.uint64) * np.uint64(_LENGTH)
        h ^= h >> np.uint64(33)
        h *= np.uint64(_M1)
        h ^= h >> np.uint64(33)
        h *= np.uint64(_M2)
        h ^= h >> np.uint64(33)
    return h


def sorted_distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (``np.unique`` without its overhead on small arrays)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    new = np.empty(len(ordered), dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    return ordered[new]


def counted_inverse(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct ids (sorted), the position of each id among them, and their counts (float32).

    (``np.unique(ids, return_inverse=True, return_counts=True)`` made of a sort, a search and a
    count, which is several times faster on the few hundred ids of one article.)
    """
    if len(ids) == 0:
        return _EMPTY_U64, np.zeros(0, dtype=np.int64), _EMPTY_F32
    distinct = sorted_distinct(ids)
    inverse = np.searchsorted(distinct, ids)
    return distinct, inverse, np.bincount(inverse, minlength=len(distinct)).astype(np.float32)


def counted(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ids (sorted) and how often each occurs, as (uint64, float32) arrays."""
    distinct, _, counts = counted_inverse(ids)
    return distinct, counts


def grouped_counts(
    distinct: np.ndarray, inverse: np.ndarray, group: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`counted` for groups of ids at once, the ids given as positions ``inverse`` in
    ``distinct`` with the (non-decreasing) number of the group each is in. Returns each group's
    distinct ids (sorted) and counts, one group after the other, and how many each group has
    (``n_groups`` sizes, 0 for a group without ids)."""
    width = len(distinct)
    keys = np.sort(group * width + inverse)  # by group, then id
    new = np.empty(len(keys), dtype=bool)
    new[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    counts = np.diff(starts, append=len(keys)).astype(np.float32)
    numbers, term = np.divmod(keys[starts], width)
    return distinct[term], counts, np.bincount(numbers, minlength=n_groups)


def counted_groups(ids: np.ndarray, sizes: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`counted` for consecutive groups of ids at once (the sentences of an article):
    ``ids[:sizes[0]]`` is group 0, and so on. Returns each group's distinct ids and counts, one
    group after the other, and how many distinct ids each group has."""
    sizes = np.asarray(sizes, dtype=np.int64)
    if len(ids) == 0:
        return _EMPTY_U64, _EMPTY_F32, np.zeros(len(sizes), dtype=np.int64)
    distinct, inverse, _ = counted_inverse(ids)
    return grouped_counts(distinct, inverse, np.repeat(np.arange(len(sizes)), sizes), len(sizes))


def dense_ids(keys: np.ndarray) -> tuple[np.ndarray, int]:
    """Number the distinct values of ``keys`` 0, 1, ... in ascending order: returns each key's
    number and how many there are (what ``np.unique(keys, return_inverse=True)`` returns, several
    times faster).

    When the keys are non-negative, each is packed with its position into one 64-bit value and
    the values are sorted (numpy's sort of plain integers is far faster than an argsort). Keys
    too wide for that (64-bit hashes) are packed without their lowest bits, which keeps their
    order; if two different keys then look alike (rare for hashes: about n² / 2^(64 - log2 n)),
    an argsort orders them instead.
    """
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64), 0
    position_bits = max(int(n - 1).bit_length(), 1)
    order = None
    if int(keys.min()) >= 0:
        shift = max(int(keys.max()).bit_length() + position_bits - 63, 0)
        short = keys >> shift if shift else keys
        packed = np.sort((short.astype(np.int64) << position_bits) | np.arange(n, dtype=np.int64))
        order = packed & ((1 << position_bits) - 1)
        ordered = keys[order] if shift else packed >> position_bits
        if shift and np.any(ordered[1:] < ordered[:-1]):  # two keys alike once shortened
            order = None
    if order is None:
        order = np.argsort(keys)
        ordered = keys[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    numbers = np.cumsum(new) - 1
    out = np.empty(n, dtype=np.int64)
    out[order] = numbers
    return out, int(numbers[-1]) + 1


def vocabulary(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``ids``, ascending, and each entry's position among them
    (``vocabulary[positions] == ids``)."""
    positions, count = dense_ids(ids)
    distinct = np.empty(count, dtype=ids.dtype)
    distinct[positions] = ids
    return distinct, positions


class TermIndex:
    """Numbers 64-bit term ids 0, 1, 2, ... so that stored counts take 4 bytes a term, not 8.

    Terms are numbered in batches (:meth:`number`): the new terms of a batch get the next
    numbers in ascending order of their ids, so the numbering depends only on the batches
    given, in order.
    """

    def __init__(self) -> None:
        self._keys = np.zeros(0, dtype=np.uint64)  # sorted
        self._numbers = np.zeros(0, dtype=np.int32)  # the number of each key

    def __len__(self) -> int:
        return len(self._keys)

    def ranks(self) -> np.ndarray:
        """Each number's rank among the terms held, by ascending id (int32): renumbering by it
        makes the numbers independent of the batches the terms came in."""
        rank = np.empty(len(self._keys), dtype=np.int32)
        rank[self._numbers] = np.arange(len(self._keys), dtype=np.int32)
        return rank

    def number(self, terms: np.ndarray) -> np.ndarray:
        """The numbers of ``terms`` (int32), numbering the new ones."""
        terms = np.asarray(terms, dtype=np.uint64)
        if len(terms) == 0:
            return np.zeros(0, dtype=np.int32)
        # Look up each distinct term once, in ascending order (cache-friendly), then spread back.
        inverse, count = dense_ids(terms)
        distinct = np.empty(count, dtype=np.uint64)
        distinct[inverse] = terms
        pos = np.searchsorted(self._keys, distinct)
        known = pos < len(self._keys)
        known[known] = self._keys[pos[known]] == distinct[known]
        if not known.all():
            new = distinct[~known]
            if len(self._keys) + len(new) > np.iinfo(np.int32).max:
                raise OverflowError("more than 2**31 - 1 distinct terms")
            fresh = np.arange(len(self), len(self) + len(new), dtype=np.int32)
            # Merge the (sorted) new keys in: linear in the keys held, where sorting them all
            # again at every batch made a long run quadratic.
            at = np.searchsorted(self._keys, new)
            self._keys = np.insert(self._keys, at, new)
            self._numbers = np.insert(self._numbers, at, fresh)
            pos = np.searchsorted(self._keys, distinct)
        return self._numbers[pos][inverse]
