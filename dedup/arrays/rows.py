"""Sparse rows past 2**31 entries: a CSR matrix that is only ever read a few rows at a time.

scipy keeps a sparse matrix's column indices and row pointers in one integer type, so a matrix
of more than ``2**31 - 1`` stored entries gets 64-bit column indices too, and building one
from 32-bit indices copies them, 8 bytes an entry: 26 GB for the 3.55 billion (sentence, term)
entries of 10M articles of 400 words, more than the machine's memory, at the start of
verification. Verification never needs such a matrix whole: it takes chosen rows (the articles
of a chunk of pairs, the sentences of a few articles) or a stretch of rows (a block to weigh or
sum). :class:`Rows` keeps the three arrays as they were written (64-bit row pointers, 32-bit
columns, float32 values: memory maps when the run is spilled) and gives each take as a small
scipy matrix; :func:`csr_rows` makes a scipy matrix when the entries fit, a :class:`Rows`
otherwise, so that runs of today's sizes keep scipy's own row indexing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import scipy.sparse as sp

from dedup.arrays.store import ranges

MAX_ENTRIES = 2**31 - 1
"""The most stored entries of a scipy matrix with 32-bit positions; past it, :func:`csr_rows`
gives a :class:`Rows`."""


@dataclass(frozen=True, eq=False)
class Rows:
    """A CSR matrix (``shape``, and row ``i``'s entries at ``indptr[i]:indptr[i + 1]`` of
    ``indices`` and ``data``) whose entries may pass ``2**31``, read by row: ``rows[a:b]`` and
    ``rows[array]`` are scipy CSR matrices of those rows (copies, as scipy's own slices are;
    the caller keeps them under 2**31 entries, or scipy gives them 64-bit columns). ``data``
    may be changed in place (weighing does), as a scipy matrix's."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    shape: tuple[int, int]

    def __post_init__(self) -> None:
        if len(self.indptr) != self.shape[0] + 1 or len(self.data) != len(self.indices):
            raise ValueError("Rows: indptr must hold rows + 1 values, and data as many as indices")

    @property
    def nnz(self) -> int:
        """The stored entries."""
        return int(self.indptr[-1])

    @property
    def dtype(self) -> np.dtype:
        """The values' type."""
        return self.data.dtype

    def __getitem__(self, key: slice | np.ndarray) -> sp.csr_matrix:
        if isinstance(key, slice):
            lo, hi, step = key.indices(self.shape[0])
            if step != 1:
                raise IndexError("Rows: only stretches of consecutive rows (step 1) or arrays of rows")
            hi = max(hi, lo)
            a = int(self.indptr[lo])
            ptr = np.asarray(self.indptr[lo : hi + 1], dtype=np.int64) - a
            b = a + int(ptr[-1])
            return sp.csr_matrix((self.data[a:b], self.indices[a:b], ptr), shape=(hi - lo, self.shape[1]))
        rows = np.asarray(key)
        if rows.ndim != 1 or not np.issubdtype(rows.dtype, np.integer):
            raise IndexError("Rows: only stretches of consecutive rows (step 1) or arrays of rows")
        rows = np.where(rows < 0, rows + self.shape[0], rows).astype(np.int64)
        if len(rows) and (rows.min() < 0 or rows.max() >= self.shape[0]):
            raise IndexError(f"Rows: a row out of range for {self.shape[0]} rows")
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        ptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(ends - starts, out=ptr[1:])
        at = ranges(starts, ends)
        return sp.csr_matrix((self.data[at], self.indices[at], ptr), shape=(len(rows), self.shape[1]))


Matrix: TypeAlias = "sp.csr_matrix | Rows"
"""A matrix of rows as verification reads them: scipy's, or :class:`Rows` past its size."""


def csr_rows(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]) -> Matrix:
    """The CSR matrix of these arrays, without copying ``data`` or ``indices``: scipy's when its
    entries fit 32-bit positions (:data:`MAX_ENTRIES`), a :class:`Rows` otherwise."""
    if int(indptr[-1]) > MAX_ENTRIES:
        return Rows(data, indices, indptr, shape)
    return sp.csr_matrix((data, indices, indptr), shape=shape, copy=False)
