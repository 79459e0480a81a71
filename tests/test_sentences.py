"""The sentence match: sentence by sentence, how much of the smaller article the other one says."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.score.sentences import SentenceBuilder, _chunk_starts, sentence_match
from dedup.text.normalize import tokenize
from dedup.text.paragraphs import split_sentences


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Xi met Putin. They talked.", ["Xi met Putin.", "They talked."]),
        ("Is it over? Yes! Done…  Next", ["Is it over?", "Yes!", "Done…", "Next"]),
        ('He said: "We will stay." Then he left.', ['He said: "We will stay."', "Then he left."]),
        ("Growth was 3.5 percent in Q2.", ["Growth was 3.5 percent in Q2."]),
        (
            "Headline\n\nFirst paragraph.\r\nLeave a Comment\n",
            ["Headline", "First paragraph.", "Leave a Comment"],
        ),
        ("   ", []),
        ("习近平抵达莫斯科。他将会见普京！", ["习近平抵达莫斯科。", "他将会见普京！"]),
    ],
)
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


def build(texts):
    builder = SentenceBuilder()
    for text in texts:
        builder.add([tokenize(s) for s in split_sentences(text)])
    return builder.matrix()


STORY = [
    "Chinese leader Xi Jinping arrived in Moscow on Monday for talks with Vladimir Putin.",
    "The visit is his first abroad since he secured a third term in March.",
    "Ukraine's foreign minister urged Beijing to press Russia to withdraw its troops.",
    "Analysts expect the two leaders to sign agreements on energy and trade.",
]
OTHER = [
    "Heavy snow closed several mountain passes in the Alps on Sunday.",
    "Rescue teams warned hikers of a high avalanche risk until midweek.",
]


def test_identical_articles_match_fully_and_unrelated_ones_not_at_all():
    m = build([" ".join(STORY), " ".join(STORY), " ".join(OTHER)])
    same, unrelated = sentence_match(m, np.array([[0, 1], [0, 2]]))
    assert same == pytest.approx(1.0) and unrelated < 0.1  # they share only "the", "on", "in"


def test_a_trimmed_copy_matches_its_original_fully_in_either_order():
    m = build([" ".join(STORY), " ".join(STORY[1:3]), " ".join(OTHER)])
    assert sentence_match(m, np.array([[0, 1], [1, 0]])) == pytest.approx([1.0, 1.0], abs=1e-6)


def test_boilerplate_shared_by_many_articles_weighs_little():
    """Two different stories that end with the same site boilerplate hardly match: the boilerplate
    line is a third of the shorter one's sentences but, made of words every article has, far less
    of its weight."""
    boiler = "Share this article on Facebook and Twitter."
    filler = [f"Article {k} is about topic number {k} and nothing else at all." for k in range(20)]
    texts = [" ".join(STORY) + "\n" + boiler, " ".join(OTHER) + "\n" + boiler] + [
        f + "\n" + boiler for f in filler
    ]
    m = build(texts)
    assert sentence_match(m, np.array([[0, 1]]))[0] < 0.25 < 1 / 3


def test_an_article_without_words_matches_nothing():
    m = build([" ".join(STORY), "!!! ...", " ".join(STORY)])
    assert sentence_match(m, np.array([[0, 1], [1, 2]])).tolist() == [0.0, 0.0]
    assert sentence_match(m, np.zeros((0, 2), dtype=np.int64)).shape == (0,)


def naive_match(m, a, b):
    """Reference: one dense similarity matrix per pair, from the article with less mass (on a tie,
    the lower index)."""
    mass = m.mass()
    if mass[a] > mass[b] or (mass[a] == mass[b] and a > b):
        a, b = b, a
    sa = m.rows[m.ptr[a] : m.ptr[a + 1]].toarray()
    sb = m.rows[m.ptr[b] : m.ptr[b + 1]].toarray()
    w = m.weights[m.ptr[a] : m.ptr[a + 1]]
    if len(sa) == 0 or len(sb) == 0 or w.sum() == 0:
        return 0.0
    return float((w * np.minimum((sa @ sb.T).max(axis=1), 1.0)).sum() / w.sum())


words = st.sampled_from(["xi", "putin", "moscow", "talks", "ukraine", "war", "trade", "snow", "the", "of"])
sentence = st.lists(words, min_size=1, max_size=8).map(lambda ws: " ".join(ws) + ".")
article = st.lists(sentence, min_size=1, max_size=6).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(article, min_size=2, max_size=6), st.integers(1, 4))
def test_vectorised_match_equals_the_naive_one_whatever_the_chunk(texts, chunk):
    m = build(texts)
    i, j = np.triu_indices(len(texts), 1)
    pairs = np.stack([i, j], axis=1)
    got = sentence_match(m, pairs, chunk=chunk)
    want = [naive_match(m, a, b) for a, b in pairs]
    assert got == pytest.approx(want, abs=1e-5)
    assert np.all((got >= 0) & (got <= 1))
    assert sentence_match(m, pairs[:, ::-1]) == pytest.approx(got, abs=1e-6)  # symmetric


# The splitter as first written, with look-behinds at every position: the reference for the faster one.
_REFERENCE = __import__("re").compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'»”’)\]]))\s+|(?<=[。！？])\s*|\s*\n\s*")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab .!?…\"'»”’)]。！？\n\t")), max_size=40))
def test_the_splitter_cuts_where_the_look_behind_pattern_did(text):
    assert split_sentences(text) == [s for s in (p.strip() for p in _REFERENCE.split(text)) if s]


def test_articles_without_sentences_have_no_mass_and_match_nothing():
    builder = SentenceBuilder()
    for text in ["Xi met Putin in Moscow.", "", "— … !", "Xi met Putin in Moscow today."]:
        builder.add([tokenize(s) for s in split_sentences(text)])
    m = builder.matrix()
    mass = m.mass()
    assert mass[1] == 0 and mass[2] == 0 and mass[0] > 0 and mass[3] > 0
    assert sentence_match(m, np.array([[0, 1], [2, 3], [0, 3]])).tolist()[:2] == [0.0, 0.0]


@pytest.mark.parametrize(
    ("weight", "most", "budget", "starts"),
    [
        ([1, 1, 1, 1, 1], 2, 100, [0, 2, 4, 5]),  # at most `most` a chunk
        ([5, 5, 5, 5], 10, 10, [0, 2, 4]),  # no more than the budget
        ([50, 1, 1, 50, 1], 10, 10, [0, 1, 3, 4, 5]),  # an item over the budget is a chunk alone
        ([], 3, 3, [0]),
    ],
)
def test_chunks_hold_at_most_so_many_pairs_and_about_so_many_cells(weight, most, budget, starts):
    assert _chunk_starts(np.array(weight, dtype=np.int64), most, budget).tolist() == starts
