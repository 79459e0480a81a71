"""Sentence match: how much of the smaller article is said, sentence by sentence, in the other.

Two translations of one article carry the same sentences in the same places,
each reworded a little; two articles on the same event share names, places
and quotes but not sentence after sentence. The document cosine sees only the
shared words, so a long same-event article can score as high as a noisy
translation. The sentence match looks one level down:

    match(A, B) = sum_s w_s * max_t cos(s, t) / sum_s w_s

over the sentences ``s`` of the article with less content (so a trimmed copy
matches its original fully) and the sentences ``t`` of the other, where
``cos`` is the TF-IDF cosine of two sentences and ``w_s`` the TF-IDF mass of
``s`` (the norm of its weighted term vector): a sentence of rare, specific
words counts for more than a short one of common words, and boilerplate lines
that recur across the corpus ("Share this article", "Leave a Comment") are
made of words with a low IDF and weigh little, without any list of them.

Sentence vectors use the documents' IDF (a word's document frequency, counted
once per article), sublinear term frequency, and are L2-normalised. Scores
for many pairs are computed at once with one sparse product per chunk: each
(pair, term) is given a column of its own, numbered densely, so that the
product only holds the sentence pairs of the same article pair.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from dedup.arrays.hashing import TermIndex, counted, dense_ids, term_ids
from dedup.arrays.rows import Matrix, csr_rows
from dedup.arrays.store import Store
from dedup.score.ordered import ordered_gains
from dedup.score.tfidf import smooth_idf, weigh_rows


@dataclass(frozen=True)
class SentenceMatrix:
    """L2-normalised TF-IDF rows of every sentence, grouped by article.

    Attributes:
        rows: ``(sentences, terms)`` CSR matrix, each row of unit length (a
            :class:`~dedup.arrays.rows.Rows` past 2**31 entries).
        weights: TF-IDF mass of each sentence (its row's norm before normalising).
        ptr: sentences of article ``i`` are ``rows[ptr[i]:ptr[i + 1]]``.
    """

    rows: Matrix
    weights: np.ndarray
    ptr: np.ndarray

    def mass(self) -> np.ndarray:
        """Total sentence weight of each article (0 for an article without sentences);
        computed once."""
        if "_mass" not in self.__dict__:
            n = len(self.ptr) - 1
            owner = np.repeat(np.arange(n), np.diff(self.ptr))
            total = np.bincount(owner, weights=self.weights.astype(np.float64), minlength=n)
            self.__dict__["_mass"] = total.astype(np.float32)
        return self.__dict__["_mass"]


class SentenceBuilder:
    """Accumulates term counts sentence by sentence, article by article (streaming).

    Terms are named by their 64-bit hash (:mod:`dedup.arrays.hashing`), so counts made
    in other processes can be added with :meth:`add_counts`; they are stored
    numbered by a :class:`~dedup.arrays.hashing.TermIndex` (4 bytes a term), in batches
    of about ``batch`` entries. When the counts are first read, the numbers are
    made the terms' ranks by id, so the matrix (and each float sum over its
    rows) does not depend on how the articles were batched.
    """

    def __init__(self, *, batch: int = 2_000_000, store: Store | None = None) -> None:
        self._store = store = store or Store()
        self._index = TermIndex()
        self._batch = batch
        # terms not yet numbered: (vocabulary, positions in it) of each add_many
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._pending_entries = 0
        self._terms = store.column("sentence-terms", np.int32)  # every sentence's distinct terms
        self._counts = store.column("sentence-counts", np.float32)  # (numbered), one after the other
        # sentence k's terms are _terms[_indptr[k]:_indptr[k + 1]] (a column: 8 bytes a sentence)
        self._indptr = store.column("sentence-indptr", np.int64)
        self._indptr.extend(np.zeros(1, dtype=np.int64))
        self._entries = 0  # the last value of _indptr
        self._ptr = array("q", [0])  # article i's sentences are _ptr[i] .. _ptr[i + 1] - 1
        self._df: np.ndarray | None = None  # articles holding each term, counted at the end
        self._ranked = False  # the stored numbers are the terms' ranks: the counts have been read
        self._done = False  # matrix() made: the counts are now weights

    def add(self, sentences: Sequence[Sequence[str]]) -> None:
        """Count the tokens of one article's sentences (a sentence with no token is skipped)."""
        parts = [counted(term_ids(tokens)) for tokens in sentences if tokens]
        if parts:
            terms = np.concatenate([t for t, _ in parts])
            counts = np.concatenate([c for _, c in parts])
        else:
            terms, counts = np.zeros(0, np.uint64), np.zeros(0, np.float32)
        self.add_counts(terms, counts, np.array([len(t) for t, _ in parts], dtype=np.int64))

    def add_counts(self, terms: np.ndarray, counts: np.ndarray, sizes: np.ndarray) -> None:
        """Add one article given as its sentences' distinct term ids and counts, one sentence
        after the other, ``sizes[k]`` terms for sentence ``k``."""
        self.add_many(terms, counts, sizes, np.array([len(sizes)]))

    def add_many(
        self,
        terms: np.ndarray,
        counts: np.ndarray,
        sizes: np.ndarray,
        sentences: np.ndarray,
        *,
        vocabulary: np.ndarray | None = None,
    ) -> None:
        """Add consecutive articles at once: :meth:`add_counts` of each, concatenated, with
        ``sentences[i]`` sentences (entries of ``sizes``) for article ``i``. With
        ``vocabulary``, ``terms`` are positions in it (a :class:`~dedup.features.FeatureBatch`'s
        term columns), and each distinct term is numbered once."""
        if self._ranked:
            raise RuntimeError("SentenceBuilder's counts were read: it takes no more articles")
        if vocabulary is None:
            vocabulary = np.asarray(terms, dtype=np.uint64)
            terms = np.arange(len(vocabulary), dtype=np.int64)
        self._pending.append((vocabulary, terms))
        self._pending_entries += len(terms)
        self._counts.extend(counts)
        ends = self._entries + np.cumsum(np.asarray(sizes, dtype=np.int64))
        self._indptr.extend(ends)
        if len(ends):
            self._entries = int(ends[-1])
        starts = self._ptr[-1] + np.cumsum(np.asarray(sentences, dtype=np.int64))
        self._ptr.frombytes(starts.tobytes())
        if self._pending_entries >= self._batch:
            self._number()

    def _number(self) -> None:
        if not self._pending:
            return
        numbers = self._index.number(np.concatenate([vocabulary for vocabulary, _ in self._pending]))
        offset = 0
        for vocabulary, positions in self._pending:
            self._terms.extend(numbers[offset:][positions])
            offset += len(vocabulary)
        self._pending, self._pending_entries = [], 0

    def _rank(self, *, block: int = 1 << 24) -> None:
        """Renumber the stored terms by rank of their ids (once, when the counts are first read),
        ``block`` entries at a time."""
        if self._ranked:
            return
        self._number()
        self._ranked = True
        rank = self._index.ranks()
        terms = self._terms.view()
        for lo in range(0, len(terms), block):
            terms[lo : lo + block] = rank[terms[lo : lo + block]]
            self._store.release()

    def __len__(self) -> int:
        return len(self._ptr) - 1

    def _count_matrix(self) -> Matrix:
        self._rank()
        shape = (len(self._indptr) - 1, max(len(self._index), 1))
        return csr_rows(self._counts.view(), self._terms.view(), self._indptr.view(), shape)

    def _documents(self, block: int) -> Iterator[sp.csr_matrix]:
        """Each article's term counts, ``block`` articles at a time; counts the document
        frequencies (``_df``) on the way."""
        counts = self._count_matrix()
        ptr = np.frombuffer(self._ptr, dtype=np.int64)
        df = np.zeros(counts.shape[1], dtype=np.int64)
        for lo in range(0, len(self), block):
            hi = min(lo + block, len(self))
            docs = sum_rows(counts[ptr[lo] : ptr[hi]], ptr[lo : hi + 1] - ptr[lo])
            df += np.bincount(docs.indices, minlength=len(df))  # each row holds a term once
            yield docs
            self._store.release()
        self._df = df

    def document_counts(self, *, block: int = 20_000) -> Matrix:
        """Each article's term counts, the sum of its sentences' (an article's tokens are its
        sentences' tokens): the document vectors, without storing them twice. Made ``block``
        articles at a time, into columns of the builder's store."""
        terms = self._store.column("document-terms", np.int32)
        values = self._store.column("document-counts", np.float32)
        indptr = [np.zeros(1, dtype=np.int64)]
        for docs in self._documents(block):
            terms.extend(docs.indices)
            values.extend(docs.data)
            indptr.append(docs.indptr[1:] + len(terms) - docs.nnz)
        shape = (len(self), max(len(self._index), 1))
        return csr_rows(values.view(), terms.view(), np.concatenate(indptr), shape)

    def document_frequencies(self) -> np.ndarray:
        """How many articles hold each term (counted with the document vectors, or on its own)."""
        if self._df is None:
            for _ in self._documents(20_000):
                pass
        assert self._df is not None
        return self._df

    def gathered(
        self,
        order: np.ndarray,
        *,
        sublinear_tf: bool = True,
        block: int = 20_000,
        budget: int | None = None,
    ) -> tuple[Matrix, SentenceMatrix]:
        """The document TF-IDF rows (``sublinear_tf`` as the run's) and the :meth:`matrix` of
        the articles ``order`` (their positions), in that order: the same rows, bit for bit, as
        :meth:`document_counts` weighted by :func:`~dedup.score.tfidf.tfidf_rows` and :meth:`matrix`
        give for them (the IDF counts every article), but the counts are read once and only
        these articles' are kept, gathered by :func:`dedup.score.gather.gather_ranges`. The builder's
        own files are removed: it is spent afterwards."""
        from dedup.score.gather import BUDGET, gather_ranges

        if self._done:
            raise RuntimeError("SentenceBuilder.gathered(): its counts are already weights")
        order = np.asarray(order, dtype=np.int64)
        n = len(self)
        df = self.document_frequencies()
        counts = self._count_matrix()
        ptr = np.frombuffer(self._ptr, dtype=np.int64)
        self._done = True
        rows = gather_ranges(
            counts,
            ptr[order],
            ptr[order + 1],
            store=self._store,
            name="gathered-sentences",
            budget=BUDGET if budget is None else budget,
            release=self._store.release,
        )
        local_ptr = np.concatenate(([0], np.cumsum(ptr[order + 1] - ptr[order])))
        for column in (self._terms, self._counts, self._indptr):
            self._store.discard(column)
        idf = smooth_idf(n, df)
        terms = self._store.column("gathered-document-terms", np.int32)
        values = self._store.column("gathered-document-counts", np.float32)
        indptr = [np.zeros(1, dtype=np.int64)]
        for lo in range(0, len(order), block):
            hi = min(lo + block, len(order))
            docs = sum_rows(rows[local_ptr[lo] : local_ptr[hi]], local_ptr[lo : hi + 1] - local_ptr[lo])
            terms.extend(docs.indices)
            values.extend(docs.data)
            indptr.append(docs.indptr[1:] + len(terms) - docs.nnz)
            self._store.release()
        documents = csr_rows(values.view(), terms.view(), np.concatenate(indptr), (len(order), rows.shape[1]))
        if documents.nnz:
            weigh_rows(documents, idf, sublinear_tf=sublinear_tf, release=self._store.release)
        weights = weigh_rows(rows, idf, sublinear_tf=True, release=self._store.release)
        return documents, SentenceMatrix(rows, weights, local_ptr)

    def matrix(self) -> SentenceMatrix:
        """Weight the counts by sublinear TF x smoothed IDF and normalise each sentence.

        The builder's own arrays become the matrix, transformed in place (no copy of the
        largest structure of a run): after this the builder takes no more articles.
        """
        if self._done:
            raise RuntimeError("SentenceBuilder.matrix() was already called: its counts are now weights")
        df = self.document_frequencies()
        counts = self._count_matrix()
        self._done = True
        weights = weigh_rows(
            counts, smooth_idf(len(self), df), sublinear_tf=True, release=self._store.release
        )
        return SentenceMatrix(counts, weights, np.frombuffer(self._ptr, dtype=np.int64))


def sum_rows(rows: sp.csr_matrix, ptr: np.ndarray) -> sp.csr_matrix:
    """Each group's rows summed into one: group ``k`` is ``rows[ptr[k]:ptr[k + 1]]`` (an
    article's document counts are its sentences' counts summed)."""
    n_rows = rows.shape[0]
    owner = sp.csr_matrix(
        (np.ones(n_rows, dtype=np.float32), np.arange(n_rows), ptr), shape=(len(ptr) - 1, n_rows)
    )
    return sp.csr_matrix(owner @ rows)


def _rows_of(m: SentenceMatrix, docs: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """The sentence rows of ``docs`` in order, the position in ``docs`` owning each row, and the
    row numbers."""
    starts, ends = m.ptr[docs], m.ptr[docs + 1]
    sizes = ends - starts
    owner = np.repeat(np.arange(len(docs)), sizes)
    row_ids = np.arange(len(owner)) + np.repeat(starts - np.concatenate(([0], np.cumsum(sizes)[:-1])), sizes)
    return m.rows[row_ids], owner, row_ids


def _pair_keys(rows: sp.csr_matrix, owner: np.ndarray, n_terms: int) -> np.ndarray:
    """One key per stored entry: (owning pair, term), so that only terms of one pair meet."""
    return np.repeat(owner.astype(np.int64), np.diff(rows.indptr)) * n_terms + rows.indices


def _row_max(product: sp.csr_matrix) -> np.ndarray:
    """Each row's largest value (0 for an empty row), without sorting the product's indices."""
    best = np.zeros(product.shape[0])
    filled = np.diff(product.indptr) > 0
    if filled.any():
        best[filled] = np.maximum.reduceat(product.data, product.indptr[:-1][filled])
    return np.maximum(best, 0.0)


def sentence_match(m: SentenceMatrix, pairs: np.ndarray, *, chunk: int = 2_000) -> np.ndarray:
    """The sentence match of each article pair (rows of ``pairs`` are article indices), in [0, 1],
    in any order (see :func:`sentence_matches` for the match in order)."""
    return sentence_matches(m, pairs, chunk=chunk)[0]


def best_in_order(product: sp.csr_matrix, best: np.ndarray, owner: np.ndarray, pairs: int) -> np.ndarray:
    """For each pair, whether its sentences' best matches already follow the other article's
    order: each sentence of the smaller article (``product``'s rows, ``owner[row]`` its pair),
    taking the first of its best columns, never goes back from the last sentence that matched.
    Such a pair's match in order is its match in any order (the upper bound is an alignment that
    never goes back), with no dynamic programme to run: most pairs of near-copies, translations
    and rewrites. A pair that needs another of its tied best columns is left to the programme."""
    matched = np.flatnonzero(np.diff(product.indptr) > 0)  # (a CSR row's entries are together)
    best = np.minimum(best, 1.0)
    row = np.repeat(np.arange(product.shape[0]), np.diff(product.indptr))
    top = (np.minimum(product.data, 1.0) >= best[row]) & (best[row] > 0.0)
    columns = np.where(top, product.indices, np.iinfo(product.indices.dtype).max)
    first = np.minimum.reduceat(columns, product.indptr[matched]) if len(matched) else columns[:0]
    keep = best[matched] > 0.0
    col, who = first[keep], owner[matched[keep]]
    back = (who[1:] == who[:-1]) & (col[1:] < col[:-1])
    out = np.ones(pairs, dtype=bool)
    out[who[1:][back]] = False
    return out


def _chunk_starts(weight: np.ndarray, most: int, budget: int) -> np.ndarray:
    """Where chunks of consecutive items start (and, last, the end): at most ``most`` items a
    chunk, and no more than ``budget`` of ``weight`` unless one item alone has more."""
    starts = [0]
    total = np.concatenate(([0], np.cumsum(weight)))
    n = len(weight)
    while starts[-1] < n:
        lo = starts[-1]
        hi = int(np.searchsorted(total, total[lo] + budget, side="right")) - 1
        starts.append(min(max(hi, lo + 1), lo + most, n))
    return np.array(starts, dtype=np.int64)


def sentence_matches(
    m: SentenceMatrix,
    pairs: np.ndarray,
    *,
    chunk: int = 2_000,
    cells: int = 1_000_000,
    ordered: bool = True,
    at_least: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The sentence match of each article pair in any order, and in order (0 without ``ordered``).

    In any order, each sentence of the article with less content counts its best match anywhere
    in the other. In order, the sentences' matches must follow the other article's order (an
    alignment that never goes back: :func:`ordered_gains`): a translation or a rewrite says its
    source's sentences in their order, two outlets' reports of one event share facts and quotes
    here and there. The match in order is never above the match in any order. With
    ``at_least`` (one value per pair), the match in order is computed only for the pairs whose
    match in any order reaches it; the others are given their match in any order. Pairs are
    measured ``chunk`` at a time, fewer when their sentence pairs would pass ``cells`` (about
    16 bytes each in the product, and as much in the alignment's grids).
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    out = np.zeros(len(pairs), dtype=np.float64)
    in_order = np.zeros(len(pairs), dtype=np.float64)
    if len(pairs) == 0:
        return out, in_order
    mass = m.mass()
    n_terms = m.rows.shape[1]
    # The article with less content is the one whose sentences are looked for in the other (on
    # equal content, the one with the lower index, so that the match does not depend on order).
    m0, m1 = mass[pairs[:, 0]], mass[pairs[:, 1]]
    swap = (m0 > m1) | ((m0 == m1) & (pairs[:, 0] > pairs[:, 1]))
    small = np.where(swap, pairs[:, 1], pairs[:, 0])
    large = np.where(swap, pairs[:, 0], pairs[:, 1])
    # Chunks of at most `chunk` pairs and about `cells` sentence pairs (the product and the
    # alignment's grids grow with those: long articles make few pairs a chunk).
    sizes = np.diff(m.ptr)
    weight = np.maximum(sizes[small] * sizes[large], 1)
    starts = _chunk_starts(weight, chunk, cells)
    for lo, hi in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True):
        s, g = small[lo:hi], large[lo:hi]
        a, owner, row_ids = _rows_of(m, s)
        b, b_owner, _ = _rows_of(m, g)
        # Renumber the (pair, term) columns densely: the product then holds only the sentence
        # pairs of one article pair, and its width is bounded by the entries, not pairs x terms.
        cols, width = dense_ids(
            np.concatenate([_pair_keys(a, owner, n_terms), _pair_keys(b, b_owner, n_terms)])
        )
        width = max(width, 1)
        a = sp.csr_matrix((a.data, cols[: a.nnz], a.indptr), shape=(a.shape[0], width))
        b = sp.csr_matrix((b.data, cols[a.nnz :], b.indptr), shape=(b.shape[0], width))
        product = a @ b.T if b.shape[0] else sp.csr_matrix((a.shape[0], 0))
        best = _row_max(product) if b.shape[0] else np.zeros(a.shape[0])
        w = m.weights[row_ids].astype(np.float64)
        total = np.bincount(owner, weights=w, minlength=len(s))
        hit = np.bincount(owner, weights=w * np.minimum(best, 1.0), minlength=len(s))
        out[lo:hi] = np.divide(hit, total, out=np.zeros(len(s)), where=total > 0)
        anywhere = out[lo:hi]
        if not ordered or not product.nnz:
            in_order[lo:hi] = anywhere if not ordered else 0.0
            continue
        wanted = np.ones(len(s), dtype=bool) if at_least is None else anywhere >= at_least[lo:hi]
        here = in_order[lo:hi]
        here[:] = anywhere
        if wanted.any():  # (those whose best matches keep order: the match anywhere is theirs)
            wanted &= ~best_in_order(product, best, owner, len(s))
        if wanted.any():
            product = product.tocoo()
            if not wanted.all():  # only the wanted pairs' entries, so that ordered_gains sorts fewer
                keep = wanted[owner[product.row]]
                product = sp.coo_matrix(
                    (product.data[keep], (product.row[keep], product.col[keep])), shape=product.shape
                )
            gained = ordered_gains(product, w, owner, b_owner, len(s), only=wanted)
            here[wanted] = np.divide(
                gained[wanted], total[wanted], out=np.zeros(int(wanted.sum())), where=total[wanted] > 0
            )
    return out, in_order
