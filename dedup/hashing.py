"""Terms named by a 64-bit hash instead of an index in a vocabulary.

The id of a term is the first 8 bytes of the SHA-1 of its UTF-8 bytes, read
little-endian. Its low 32 bits are datasketch's ``sha1_hash32`` of the term,
so a token's id also gives its MinHash input. Counts made in different
processes (or, later, stored on disk) can be put side by side without first
agreeing on a vocabulary. Two distinct terms share an id with probability
about n²/2⁶⁵ for n distinct terms (for ten million, one chance in 370,000).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from operator import itemgetter

import numpy as np

_EMPTY_U64 = np.zeros(0, dtype=np.uint64)
_EMPTY_F32 = np.zeros(0, dtype=np.float32)


_sha1 = hashlib.sha1
_first_u64 = struct.Struct("<Q").unpack_from


def term_hash(term: str) -> int:
    """The 64-bit id of a term (see the module doc)."""
    return _first_u64(_sha1(term.encode("utf-8")).digest())[0]


class TermHasher:
    """Maps terms to their 64-bit ids, remembering up to ``cache_size`` of them."""

    def __init__(self, cache_size: int = 2_000_000) -> None:
        self._cache: dict[str, int] = {}
        self._cache_size = cache_size

    def ids(self, terms: Sequence[str]) -> np.ndarray:
        """The ids of ``terms``, in order, as a uint64 array."""
        cache = self._cache
        if len(terms) < 2:  # (itemgetter of one key returns the value, not a tuple)
            return np.array([cache.get(t) or term_hash(t) for t in terms], dtype=np.uint64)
        get = itemgetter(*terms)
        try:
            # One C-level lookup of every term; almost always all are known after the first articles.
            found = get(cache)
        except KeyError:
            missing = set(terms).difference(cache)  # (a dict argument: looked up, not iterated)
            if len(cache) + len(missing) > self._cache_size:
                cache.clear()  # a full cache starts again: cheaper than tracking what is least used
                missing = set(terms)
            cache.update((term, term_hash(term)) for term in missing)
            found = get(cache)
        return np.array(found, dtype=np.uint64)


def counted(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ids (sorted) and how often each occurs, as (uint64, float32) arrays."""
    if len(ids) == 0:
        return _EMPTY_U64, _EMPTY_F32
    uniq, counts = np.unique(ids, return_counts=True)
    return uniq, counts.astype(np.float32)


def counted_groups(ids: np.ndarray, sizes: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`counted` for consecutive groups of ids at once (the sentences of an article):
    ``ids[:sizes[0]]`` is group 0, and so on. Returns each group's distinct ids and counts, one
    group after the other, and how many distinct ids each group has."""
    sizes = np.asarray(sizes, dtype=np.int64)
    if len(ids) == 0:
        return _EMPTY_U64, _EMPTY_F32, np.zeros(len(sizes), dtype=np.int64)
    group = np.repeat(np.arange(len(sizes)), sizes)
    order = np.lexsort((ids, group))
    ids, group = ids[order], group[order]
    first = np.ones(len(ids), dtype=bool)
    first[1:] = (ids[1:] != ids[:-1]) | (group[1:] != group[:-1])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(ids))).astype(np.float32)
    return ids[starts], counts, np.bincount(group[starts], minlength=len(sizes))


def dense_ids(keys: np.ndarray) -> tuple[np.ndarray, int]:
    """Number the distinct values of ``keys`` 0, 1, ... in ascending order: returns each key's
    number and how many there are (what ``np.unique(keys, return_inverse=True)`` returns, several
    times faster).

    When the keys are non-negative and small enough, each is packed with its position into one
    64-bit value and the values are sorted (numpy's sort of plain integers is far faster than
    an argsort); otherwise an argsort orders them.
    """
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64), 0
    position_bits = max(int(n - 1).bit_length(), 1)
    top = int(keys.max())
    if int(keys.min()) >= 0 and top.bit_length() + position_bits <= 63:
        packed = np.sort((keys.astype(np.int64) << position_bits) | np.arange(n, dtype=np.int64))
        order = packed & ((1 << position_bits) - 1)
        ordered = packed >> position_bits
    else:
        order = np.argsort(keys)
        ordered = keys[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    numbers = np.cumsum(new) - 1
    out = np.empty(n, dtype=np.int64)
    out[order] = numbers
    return out, int(numbers[-1]) + 1


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
