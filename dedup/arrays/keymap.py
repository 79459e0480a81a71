"""A map from 64-bit keys to small int64 records for tens of millions of keys: 8 bytes a key
and 8 a field.

A run looks up two things for every article it reads: whether its id was seen before, and
whether its normalised text was (an exact copy). A Python ``dict`` or ``set`` of ten million
keys costs about a gigabyte each; this keeps the keys sorted in numpy arrays and the most
recent ones in a small dict, merged into the arrays when it fills (an ``O(n)`` insert of the
sorted newcomers, not a sort of everything), and answers a batch of lookups with one
``searchsorted``: an LSM tree's memtable and one sorted run.

:func:`string_keys` gives strings two independent 64-bit hashes: the first as the key, the
second as a field to check, so that two different ids are taken for one only if both their
hashes agree (about one chance in 10^24 for ten million ids).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dedup.arrays.hashing import term_ids

_RECENT = 1 << 18  # keys held in the dict before they are merged into the sorted arrays


class KeyMap:
    """Maps uint64 keys to records of ``width`` int64 fields; a key is added once, looked up
    many at a time.

    Examples:
        >>> m = KeyMap()
        >>> m.add(7, 0)
        >>> m.add(3, 1)
        >>> m.get_many(np.array([3, 5, 7], dtype=np.uint64))[:, 0].tolist()
        [1, -1, 0]
    """

    def __init__(self, width: int = 1, *, recent: int = _RECENT) -> None:
        self.width = width
        self._keys = np.zeros(0, dtype=np.uint64)
        self._values = np.zeros((0, width), dtype=np.int64)
        self._recent: dict[int, tuple[int, ...]] = {}
        self._limit = recent

    def __len__(self) -> int:
        return len(self._keys) + len(self._recent)

    def get_many(self, keys: np.ndarray) -> np.ndarray:
        """The ``(len(keys), width)`` records of the keys; a key not in the map gets -1 in its
        first field (a record whose first field is -1 cannot be told from a miss)."""
        keys = np.asarray(keys, dtype=np.uint64)
        out = np.full((len(keys), self.width), -1, dtype=np.int64)
        if len(self._keys):
            at = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
            hit = self._keys[at] == keys
            out[hit] = self._values[at[hit]]
        if self._recent:
            for k in np.flatnonzero(out[:, 0] < 0).tolist():
                record = self._recent.get(int(keys[k]))
                if record is not None:
                    out[k] = record
        return out

    def add(self, key: int, *record: int) -> None:
        """Map ``key`` (not in the map yet) to ``record`` (``width`` ints)."""
        if len(record) != self.width:
            raise ValueError(f"a record of this map has {self.width} field(s), not {len(record)}")
        self._recent[int(key)] = record
        if len(self._recent) >= self._limit:
            self._merge()

    def _merge(self) -> None:
        keys = np.fromiter(self._recent.keys(), dtype=np.uint64, count=len(self._recent))
        values = np.array(list(self._recent.values()), dtype=np.int64).reshape(-1, self.width)
        order = np.argsort(keys)
        at = np.searchsorted(self._keys, keys[order])
        self._keys = np.insert(self._keys, at, keys[order])
        self._values = np.insert(self._values, at, values[order], axis=0)
        self._recent = {}


def string_keys(strings: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 64-bit hashes of each string: :func:`dedup.arrays.hashing.term_ids` (uint64, a
    key) and Python's own keyed SipHash (int64, a record field; the same within one process,
    which is all a map needs)."""
    second = np.fromiter(map(hash, strings), dtype=np.int64, count=len(strings))
    return term_ids(strings), second


class SeenStrings:
    """Which strings (article ids) came before, for tens of millions of them: 24 bytes a
    string (its two hashes, :func:`string_keys`, and a record of where it was first seen)
    instead of a ``dict`` entry and the string itself.

    Examples:
        >>> seen = SeenStrings()
        >>> seen.first_seen(["a", "b", "a"], [10, 11, 12])
        [-1, -1, 10]
        >>> seen.first_seen(["b", "c"], [13, 14])
        [11, -1]
    """

    def __init__(self) -> None:
        self._map = KeyMap(width=2)  # first hash -> (second hash, record)
        self._others: dict[str, int] = {}  # strings whose first hash another string has

    def __len__(self) -> int:
        return len(self._map) + len(self._others)

    def first_seen(self, strings: Sequence[str], records: Sequence[int]) -> list[int]:
        """For each string, the record it was first seen with (earlier in this call or in an
        earlier one), or -1 when it is new, which then remembers it with its record (>= 0)."""
        first, second = string_keys(strings)
        found = self._map.get_many(first)  # (second hash, record); record -1: not in the map
        fresh: dict[int, tuple[int, int]] = {}  # (what this call added to the map)
        out = []
        for k, (s, record) in enumerate(zip(strings, records, strict=True)):
            h1, h2 = int(first[k]), int(second[k])
            entry = (int(found[k, 0]), int(found[k, 1])) if found[k, 1] >= 0 else fresh.get(h1)
            if entry is not None and entry[0] == h2:  # both hashes agree: the same string
                out.append(entry[1])
                continue
            earlier = self._others.get(s, -1) if entry is not None else -1
            out.append(earlier)
            if earlier >= 0:
                continue
            if entry is None:
                self._map.add(h1, h2, record)
                fresh[h1] = (h2, record)
            else:  # another string has this first hash
                self._others[s] = record
        return out
