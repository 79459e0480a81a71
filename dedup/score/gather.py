"""The rows that verification reads, gathered family by family before it starts.

A spilled run keeps each article's sentence term counts in files, in the order the articles
were read (:mod:`dedup.arrays.store`). Verification and clustering then read them pair by pair, and
the pairs of one family lie all over those files: once the files outgrow the page cache (about
30 GB of counts at 10 million articles, on a machine of 24 GB), each pair would read its rows
from disk again, at random, and a disk that reads a few thousand random pages a second would
take hours.

So, once the candidate pairs are known, the rows of the articles that are in some pair are
copied once, in the order of the candidate graph's connected components (:func:`component_order`:
a family's articles side by side), by an external scatter (:func:`gather_ranges`): the source
is read once from start to end, each article's rows are appended to the bucket of its new
place (buckets of about ``budget`` bytes), and each bucket is then put in order in memory and
appended to the result. Every pair verified or clustered afterwards lies inside one component,
so its rows lie near each other, every later stage reads the copy from start to end, and
memory holds one bucket. The articles in no candidate pair (most of a dump) are never read
again.

The copy holds the same rows, bit for bit, as the source: what a pair scores does not depend
on it (the tests compare the two).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dedup.arrays.rows import Matrix, csr_rows
from dedup.arrays.store import Column, Store, ranges
from dedup.cluster import components

BUDGET = 64 * 1024 * 1024
"""Bytes of rows held at once while gathering (one bucket, or one stretch of the source)."""


def component_order(n: int, pairs: np.ndarray) -> np.ndarray:
    """The nodes that are in some pair of ``pairs`` (edges of a graph on ``n`` nodes), one
    connected component after the other: components in the order of their lowest node, each
    one's nodes ascending. Nodes in no pair are left out."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if len(pairs) == 0:
        return np.zeros(0, dtype=np.int64)
    used = np.zeros(n, dtype=bool)
    used[pairs[:, 0]] = True
    used[pairs[:, 1]] = True
    nodes = np.flatnonzero(used)
    labels = components(n, pairs)[nodes]
    return nodes[np.argsort(labels, kind="stable")]


def positions(n: int, order: np.ndarray) -> np.ndarray:
    """Where each of ``n`` nodes stands in ``order`` (-1: not in it)."""
    at = np.full(n, -1, dtype=np.int64)
    at[order] = np.arange(len(order), dtype=np.int64)
    return at


def gather_ranges(
    source: Matrix,
    starts: np.ndarray,
    ends: np.ndarray,
    *,
    store: Store,
    name: str,
    budget: int = BUDGET,
    release: Callable[[], None] | None = None,
) -> Matrix:
    """The rows ``starts[k]:ends[k]`` of ``source``, for k = 0, 1, ..., one range after the
    other (a CSR matrix of ``(ends - starts).sum()`` rows, the same values as ``source``'s).

    In memory (``store`` not spilled) it is ``source[rows]``. Spilled, the result is written
    into columns of ``store`` by an external scatter that reads ``source`` once, in order, and
    holds about ``budget`` bytes of rows at a time; the buckets' files are removed as they are
    used. ``release`` is called after each stretch of the source it read.
    """
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    if not store.spilled:
        return source[ranges(starts, ends)]
    return _Scatter(source, starts, ends, store, name, budget, release).run()


@dataclass
class _Bucket:
    items: Column  # the destination of each range put in (int64), in the order they came
    rows: Column  # how many rows each range has (int64)
    sizes: Column  # each row's entries (int64)
    indices: Column
    data: Column

    def columns(self) -> tuple[Column, ...]:
        return (self.items, self.rows, self.sizes, self.indices, self.data)


class _Scatter:
    """One :func:`gather_ranges` of a spilled run (see there)."""

    def __init__(
        self,
        source: Matrix,
        starts: np.ndarray,
        ends: np.ndarray,
        store: Store,
        name: str,
        budget: int,
        release: Callable[[], None] | None,
    ) -> None:
        self.source, self.starts, self.ends = source, starts, ends
        self.store, self.name, self.release = store, name, release
        self.entry_bytes = source.data.itemsize + source.indices.itemsize
        self.budget = max(budget, 1)
        indptr = source.indptr
        # Each range's entries; read in the order of the source (its indptr may be a memory map).
        self.by_source = np.argsort(starts, kind="stable")
        entries = np.zeros(len(starts), dtype=np.int64)
        entries[self.by_source] = indptr[ends[self.by_source]] - indptr[starts[self.by_source]]
        self.entries = entries
        self._released()
        # The bucket of each range: ranges in destination order, cut every `budget` bytes.
        weight = (entries * self.entry_bytes + (ends - starts) * 8).astype(np.int64)
        before = np.cumsum(weight) - weight
        self.bucket = before // self.budget
        self.buckets = int(self.bucket[-1]) + 1 if len(weight) else 0

    def _released(self) -> None:
        if self.release is not None:
            self.release()

    def run(self) -> Matrix:
        source = self.source
        indices = self.store.column(f"{self.name}-indices", source.indices.dtype)
        data = self.store.column(f"{self.name}-data", source.data.dtype)
        indptr = self.store.column(f"{self.name}-indptr", np.int64)
        indptr.extend(np.zeros(1, dtype=np.int64))
        buckets = [self._bucket(b) for b in range(self.buckets)]
        self._scatter(buckets)
        end = 0
        for bucket in buckets:
            sizes = self._assemble(bucket, indices, data)
            ends = end + np.cumsum(sizes)
            indptr.extend(ends)
            if len(ends):
                end = int(ends[-1])
            for column in bucket.columns():
                self.store.discard(column)
        rows = int((self.ends - self.starts).sum())
        return csr_rows(data.view(), indices.view(), indptr.view(), (rows, source.shape[1]))

    def _bucket(self, b: int) -> _Bucket:
        def column(part: str, dtype: np.dtype | type) -> Column:
            return self.store.column(f"{self.name}-bucket{b}-{part}", dtype, buffer=1 << 16)

        return _Bucket(
            column("items", np.int64),
            column("rows", np.int64),
            column("sizes", np.int64),
            column("indices", self.source.indices.dtype),
            column("data", self.source.data.dtype),
        )

    def _scatter(self, buckets: list[_Bucket]) -> None:
        """Read the source's ranges in its order, a stretch of about ``budget`` bytes at a time,
        and append each range to its bucket."""
        source, order = self.source, self.by_source
        weight = self.entries[order] * self.entry_bytes
        cuts = np.searchsorted(np.cumsum(weight), np.arange(self.budget, int(weight.sum()), self.budget))
        for part in np.split(order, np.unique(cuts)):
            if len(part) == 0:
                continue
            part = part[np.argsort(self.bucket[part], kind="stable")]  # (source order within a bucket)
            rows = ranges(self.starts[part], self.ends[part])
            lo, hi = source.indptr[rows], source.indptr[rows + 1]
            at = ranges(lo, hi)
            indices, data = source.indices[at], source.data[at]
            sizes = hi - lo
            counts = self.ends[part] - self.starts[part]
            entries = self.entries[part]
            b_of = self.bucket[part]
            first = np.flatnonzero(np.r_[True, b_of[1:] != b_of[:-1]])
            last = np.r_[first[1:], len(part)]
            row_at = np.r_[0, np.cumsum(counts)]
            entry_at = np.r_[0, np.cumsum(entries)]
            for i, j in zip(first.tolist(), last.tolist(), strict=True):
                bucket = buckets[int(b_of[i])]
                bucket.items.extend(part[i:j])
                bucket.rows.extend(counts[i:j])
                bucket.sizes.extend(sizes[row_at[i] : row_at[j]])
                bucket.indices.extend(indices[entry_at[i] : entry_at[j]])
                bucket.data.extend(data[entry_at[i] : entry_at[j]])
            self._released()

    def _assemble(self, bucket: _Bucket, indices: Column, data: Column) -> np.ndarray:
        """Append one bucket's ranges, in destination order, to ``indices`` and ``data``;
        return the sizes of their rows, in that order."""
        items = np.array(bucket.items.view())
        if len(items) == 0:
            return np.zeros(0, dtype=np.int64)
        counts = np.array(bucket.rows.view())
        sizes = np.array(bucket.sizes.view())
        b_indices, b_data = bucket.indices.view(), bucket.data.view()
        order = np.argsort(items, kind="stable")
        row_at = np.cumsum(counts) - counts
        rows = ranges(row_at[order], row_at[order] + counts[order])
        entry_at = np.cumsum(sizes) - sizes
        at = ranges(entry_at[rows], entry_at[rows] + sizes[rows])
        indices.extend(b_indices[at])
        data.extend(b_data[at])
        self._released()
        return sizes[rows]


__all__ = ["BUDGET", "component_order", "gather_ranges", "positions"]
