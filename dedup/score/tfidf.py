"""Verify candidate pairs by TF-IDF cosine similarity.

The vectoriser is scikit-learn's, fitted on the corpus at hand, so rare
words shared by two articles (names, numbers, places) weigh more than common
ones. Term counts are gathered one document at a time while the input
streams past (a sparse matrix, never a dense documents x terms one), and the
cosine is computed only for candidate pairs, as sparse row dot products.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from dedup.arrays.hashing import TermIndex, counted, term_ids
from dedup.arrays.rows import Matrix, Rows, csr_rows


class TfidfBuilder:
    """Accumulates term counts document by document, then weights them by TF-IDF.

    Args:
        analyzer: ``"word"`` (word n-grams of the normalised tokens) or
            ``"char_wb"`` (character n-grams inside word boundaries).
        ngram_range: ``(min_n, max_n)`` of the n-grams.
        sublinear_tf: use ``1 + log(tf)`` instead of raw counts, so a word
            repeated in a long article does not dominate it.
        tokenizer: turns a text into tokens (``analyzer="word"``); by default
            the same normalisation as the shingles.

    Terms are named by their 64-bit hash (:mod:`dedup.arrays.hashing`), so counts
    made in other processes can be added with :meth:`add_counts`; they are
    stored numbered by a :class:`~dedup.arrays.hashing.TermIndex` (4 bytes a term), in
    batches of ``batch`` entries.
    """

    def __init__(
        self,
        *,
        analyzer: str = "word",
        ngram_range: tuple[int, int] = (1, 2),
        sublinear_tf: bool = True,
        tokenizer: Callable[[str], list[str]] | None = None,
        batch: int = 2_000_000,
    ) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer  # (imported when needed)

        vectorizer = TfidfVectorizer(
            analyzer=analyzer,
            ngram_range=ngram_range,
            lowercase=analyzer != "word",
            tokenizer=tokenizer if analyzer == "word" else None,
            token_pattern=None if analyzer == "word" and tokenizer else r"(?u)\b\w+\b",
        )
        self._analyze = vectorizer.build_analyzer()
        self._words = analyzer == "word"
        self.ngram_range = ngram_range
        self.sublinear_tf = sublinear_tf
        self._index = TermIndex()
        self._batch = batch
        self._pending = array("Q")  # terms not yet numbered
        self._terms = array("i")  # numbered by self._index
        self._counts = array("f")
        self._indptr = array("q", [0])

    def add(self, text: str, tokens: list[str] | None = None) -> None:
        """Count the terms of one more document (row ``len(self)``).

        ``tokens``, if given, are ``text`` already tokenised the way the
        tokenizer would (word analyzer only): they are not tokenised again.
        """
        if tokens is not None and self._words:
            lo, hi = self.ngram_range
            spans = ((i, n) for n in range(lo, hi + 1) for i in range(len(tokens) - n + 1))
            terms = [" ".join(tokens[i : i + n]) for i, n in spans]
        else:
            terms = self._analyze(text)
        self.add_counts(*counted(term_ids(terms)))

    def add_counts(self, terms: np.ndarray, counts: np.ndarray) -> None:
        """Add one document given as its distinct term ids and their counts."""
        self._pending.frombytes(np.ascontiguousarray(terms, dtype=np.uint64).tobytes())
        self._counts.frombytes(np.ascontiguousarray(counts, dtype=np.float32).tobytes())
        self._indptr.append(len(self._counts))
        if len(self._pending) >= self._batch:
            self._number()

    def _number(self) -> None:
        self._terms.frombytes(self._index.number(np.frombuffer(self._pending, dtype=np.uint64)).tobytes())
        self._pending = array("Q")

    def __len__(self) -> int:
        return len(self._indptr) - 1

    def matrix(self) -> Matrix:
        """The L2-normalised TF-IDF matrix, one row per document added (columns: the terms, in
        the order :class:`~dedup.arrays.hashing.TermIndex` numbered them)."""
        self._number()
        counts = csr_rows(
            np.frombuffer(self._counts, dtype=np.float32),
            np.frombuffer(self._terms, dtype=np.int32),
            np.frombuffer(self._indptr, dtype=np.int64),
            (len(self), max(len(self._index), 1)),
        )
        return tfidf_rows(counts, sublinear_tf=self.sublinear_tf)


_BLOCK = 4_000_000  # stored entries transformed at once (bounds the temporaries)


def tfidf_rows(
    counts: Matrix,
    *,
    sublinear_tf: bool = True,
    df: np.ndarray | None = None,
    release: Callable[[], None] | None = None,
) -> Matrix:
    """Term counts (documents x terms) weighted by TF-IDF and L2-normalised, as scikit-learn's
    ``TfidfTransformer`` (smooth IDF) does, in float32.

    A float32 ``counts`` is transformed in place (its ``data`` becomes the weights), so that
    the largest matrix of a run is never held twice. ``release`` is called after each block of
    rows (to hand the pages of a spilled matrix back, see :mod:`dedup.arrays.store`). ``df``, the
    document frequency of each term, is counted from ``counts`` unless given.
    """
    if not isinstance(counts, Rows):
        counts = sp.csr_matrix(counts, dtype=np.float32, copy=False)
    elif counts.dtype != np.float32:
        raise TypeError("tfidf_rows: Rows of counts must hold float32 (weighed in place)")
    n_docs, n_terms = counts.shape
    if n_docs == 0 or counts.nnz == 0:
        return counts
    if df is None:
        df = np.zeros(n_terms, dtype=np.int64)  # each document holds a term at most once
        for lo in range(0, counts.nnz, _BLOCK):
            df += np.bincount(counts.indices[lo : lo + _BLOCK], minlength=n_terms)
            if release is not None:
                release()
    weigh_rows(counts, smooth_idf(n_docs, df), sublinear_tf=sublinear_tf, release=release)
    return counts


def smooth_idf(n_docs: int, df: np.ndarray) -> np.ndarray:
    """scikit-learn's smooth IDF, ``ln((1 + n) / (1 + df)) + 1``, in float32."""
    return (np.log((1.0 + n_docs) / (1.0 + df)) + 1.0).astype(np.float32)


def weigh_rows(
    matrix: Matrix,
    idf: np.ndarray,
    *,
    sublinear_tf: bool = True,
    block: int = _BLOCK,
    release: Callable[[], None] | None = None,
) -> np.ndarray:
    """Turn the counts of a float32 CSR matrix into L2-normalised TF-IDF weights, in place,
    a block of rows at a time (``release`` is called after each); returns each row's norm
    before normalising (its TF-IDF mass)."""
    norms = np.zeros(matrix.shape[0], dtype=np.float32)
    indptr = matrix.indptr
    lo = 0
    while lo < matrix.shape[0]:
        # rows lo..hi-1 hold about `block` entries (at least one row)
        hi = max(int(np.searchsorted(indptr, indptr[lo] + block, side="right")) - 1, lo + 1)
        a, b = indptr[lo], indptr[hi]
        data = matrix.data[a:b]
        if sublinear_tf:
            np.log(data, out=data)
            data += 1.0
        data *= idf[matrix.indices[a:b]]
        rows = np.repeat(np.arange(hi - lo), np.diff(indptr[lo : hi + 1]))
        norm = np.sqrt(np.bincount(rows, weights=np.square(data, dtype=np.float64), minlength=hi - lo))
        data *= np.divide(1.0, norm, out=np.zeros_like(norm), where=norm > 0).astype(np.float32)[rows]
        norms[lo:hi] = norm
        lo = hi
        if release is not None:
            release()
    return norms


def pair_cosines(matrix: Matrix, pairs: np.ndarray, *, chunk: int = 4_096) -> np.ndarray:
    """Cosine similarity of each row-index pair of an L2-normalised sparse matrix."""
    out = np.zeros(len(pairs), dtype=np.float64)
    for lo in range(0, len(pairs), chunk):
        p = pairs[lo : lo + chunk]
        out[lo : lo + chunk] = np.asarray(matrix[p[:, 0]].multiply(matrix[p[:, 1]]).sum(axis=1)).ravel()
    return out
