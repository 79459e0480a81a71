"""Verify candidate pairs by TF-IDF cosine similarity.

The vectoriser is scikit-learn's, fitted on the corpus at hand, so rare
words shared by two articles (names, numbers, places) weigh more than common
ones. Term counts are gathered one document at a time while the input
streams past (a sparse matrix, never a dense documents x terms one), and the
cosine is computed only for candidate pairs, as sparse row dot products.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer


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
    """

    def __init__(
        self,
        *,
        analyzer: str = "word",
        ngram_range: tuple[int, int] = (1, 2),
        sublinear_tf: bool = True,
        tokenizer: Callable[[str], list[str]] | None = None,
    ) -> None:
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
        self.vocabulary_: dict[str, int] = {}
        self._indices = array("i")
        self._counts = array("f")
        self._indptr = array("q", [0])

    def add(self, text: str, tokens: list[str] | None = None) -> None:
        """Count the terms of one more document (row ``len(self)``).

        ``tokens``, if given, are ``text`` already tokenised the way the
        tokenizer would (word analyzer only): they are not tokenised again.
        """
        vocab = self.vocabulary_
        if tokens is not None and self._words:
            lo, hi = self.ngram_range
            terms = [
                " ".join(tokens[i : i + n]) for n in range(lo, hi + 1) for i in range(len(tokens) - n + 1)
            ]
        else:
            terms = self._analyze(text)
        for term, count in Counter(terms).items():
            idx = vocab.get(term)
            if idx is None:
                idx = vocab[term] = len(vocab)
            self._indices.append(idx)
            self._counts.append(count)
        self._indptr.append(len(self._indices))

    def __len__(self) -> int:
        return len(self._indptr) - 1

    def matrix(self) -> sp.csr_matrix:
        """The L2-normalised TF-IDF matrix, one row per document added."""
        if len(self) == 0:
            return sp.csr_matrix((0, max(len(self.vocabulary_), 1)), dtype=np.float32)
        counts = sp.csr_matrix(
            (
                np.frombuffer(self._counts, dtype=np.float32),
                np.frombuffer(self._indices, dtype=np.int32),
                np.frombuffer(self._indptr, dtype=np.int64),
            ),
            shape=(len(self), max(len(self.vocabulary_), 1)),
        )
        transformer = TfidfTransformer(sublinear_tf=self.sublinear_tf, norm="l2")
        return transformer.fit_transform(counts).astype(np.float32).tocsr()


def pair_cosines(matrix: sp.csr_matrix, pairs: np.ndarray, *, chunk: int = 50_000) -> np.ndarray:
    """Cosine similarity of each row-index pair of an L2-normalised sparse matrix."""
    out = np.zeros(len(pairs), dtype=np.float64)
    for lo in range(0, len(pairs), chunk):
        p = pairs[lo : lo + chunk]
        out[lo : lo + chunk] = np.asarray(matrix[p[:, 0]].multiply(matrix[p[:, 1]]).sum(axis=1)).ravel()
    return out
