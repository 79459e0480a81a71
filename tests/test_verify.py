"""TF-IDF verification: streaming counts give scikit-learn's vectors; cosines only for the pairs asked."""

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from dedup.score.tfidf import TfidfBuilder, pair_cosines
from dedup.text.normalize import tokenize

TEXTS = [
    "Xi met Putin in Moscow on Monday, Xi's office said.",
    "Putin welcomed Xi to Moscow for talks on Monday.",
    "The Alps: snow, snow and more snow closed the passes!",
    "Snow closed Alpine passes on Monday.",
]


@pytest.mark.parametrize("ngrams", [(1, 1), (1, 2), (2, 3)])
def test_streamed_counts_equal_scikit_learns_vectoriser(ngrams):
    builder = TfidfBuilder(ngram_range=ngrams, tokenizer=tokenize)
    for text in TEXTS:
        builder.add(text)
    reference = TfidfVectorizer(
        tokenizer=tokenize, token_pattern=None, lowercase=False, ngram_range=ngrams, sublinear_tf=True
    ).fit_transform(TEXTS)
    pairs = np.array([[i, j] for i in range(4) for j in range(i + 1, 4)])
    expected = cosine_similarity(reference)[pairs[:, 0], pairs[:, 1]]
    assert pair_cosines(builder.matrix(), pairs, chunk=2) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("ngrams", [(1, 1), (1, 2)])
def test_given_tokens_count_the_same_as_the_text(ngrams):
    from_text, from_tokens = (TfidfBuilder(ngram_range=ngrams, tokenizer=tokenize) for _ in range(2))
    for text in TEXTS:
        from_text.add(text)
        from_tokens.add(text, tokenize(text))
    assert (from_text.matrix() != from_tokens.matrix()).nnz == 0


def test_an_empty_corpus_has_an_empty_matrix():
    matrix = TfidfBuilder().matrix()
    assert matrix.shape[0] == 0
    assert pair_cosines(matrix, np.zeros((0, 2), dtype=np.int64)).shape == (0,)
