"""Big families cost their size, not its square: exact copies are one member, large groups are
verified against leaders, and the outputs hold the pairs that made each cluster (issue 21)."""

import numpy as np
import pytest

from dedup import Detector, Params, find_duplicates
from dedup.article import Article
from dedup.explain import explain
from dedup.features import Featurizer, content_key

STORY = (
    "The central bank of Italy raised its main interest rate by half a point on Thursday, "
    "citing inflation that stayed above 8 percent for the fourth month in a row. "
    "Governor Ignazio Visco said further increases could follow in the spring."
)
REWRITE = (
    "Italy's central bank lifted its key interest rate by half a point on Thursday, "
    "pointing to inflation that remained over 8 percent for a fourth straight month. "
    "Governor Ignazio Visco said more increases could come in spring."
)
OTHER = (
    "Heavy snow closed several mountain passes in the Alps on Sunday, and rescue teams "
    "warned hikers of a high avalanche risk across the region until midweek."
)
# The same text as STORY once normalised: case, punctuation and spacing differ.
STORY_AGAIN = STORY.upper().replace(",", "").replace("  ", " ").replace(" in a row", "  in a row")


def test_a_copy_differing_in_case_punctuation_and_spacing_has_the_same_content_key():
    f = Featurizer()
    assert f(STORY).content == f(STORY_AGAIN).content != 0
    assert f(STORY).content != f(REWRITE).content
    assert f(STORY.replace("8 percent", "9 percent")).content != f(STORY).content  # a number differs


def test_a_text_with_nothing_to_compare_is_nobodys_copy():
    assert content_key(np.zeros(0, dtype=np.uint64), np.zeros(0), "en") == 0
    result = find_duplicates([("a", "!!!"), ("b", "!!!"), ("c", STORY)])
    assert result.clusters == [] and result.summary["exact_copies"] == {"articles": 0, "texts": 0}


def test_exact_copies_are_one_cluster_with_exact_pairs_and_no_candidate():
    result = find_duplicates([("a", STORY), ("b", STORY_AGAIN), ("c", OTHER), ("d", STORY)])
    assert [c.members for c in result.clusters] == [["a", "b", "d"]]
    assert [(p.a, p.b, p.kind, p.score, p.cosine) for p in result.pairs] == [
        ("a", "b", "exact", 1.0, 1.0),
        ("a", "d", "exact", 1.0, 1.0),
    ]
    assert result.summary["exact_copies"] == {"articles": 2, "texts": 1}
    assert result.summary["candidates"]["pairs"] == 0  # the copies were never compared
    assert result.summary["articles"]["removed_as_duplicates"] == 2


def test_copies_join_the_cluster_their_text_is_in():
    articles = [("a", STORY), ("b", REWRITE), ("c", STORY_AGAIN), ("d", OTHER), ("e", REWRITE)]
    result = find_duplicates(articles)
    assert [c.members for c in result.clusters] == [["a", "b", "c", "e"]]
    kinds = {(p.a, p.b): p.kind for p in result.pairs}
    assert kinds[("a", "c")] == kinds[("b", "e")] == "exact"
    assert kinds[("a", "b")] == "verified"


def test_all_pairs_compares_copies_like_any_two_articles():
    articles = [("a", STORY), ("b", STORY_AGAIN), ("c", OTHER)]
    result = find_duplicates(articles, all_pairs=True)
    assert [c.members for c in result.clusters] == [["a", "b"]]
    assert [(p.a, p.b, p.kind) for p in result.pairs] == [("a", "b", "verified")]
    assert result.summary["exact_copies"]["articles"] == 0


@pytest.mark.parametrize("workers", [1, 2])
def test_copies_found_in_batches_from_workers_as_one_at_a_time(workers):
    """add_many (packed batches, maybe from worker processes) and add (one at a time) agree."""
    texts = [STORY, REWRITE, OTHER] * 400  # copies within a batch and across batches
    articles = [Article(f"x{k:04d}", t) for k, t in enumerate(texts)]
    many = Detector(Params())
    many.add_many(articles, workers=workers)
    one = Detector(Params())
    for a in articles[:600]:
        one.add(a)
    one.add_many(articles[600:])
    for det in (many, one):
        result = det.finish()
        assert [len(c.members) for c in result.clusters] == [800, 400]
        assert result.summary["exact_copies"] == {"articles": 1197, "texts": 3}
        assert result.summary["candidates"]["pairs"] == 1  # the story and its rewrite, once


def test_explain_says_two_copies_are_exact_copies():
    articles = [("a", STORY), ("b", OTHER), ("c", STORY_AGAIN)]
    why = explain(articles, "a", "c")
    assert why.merged and why.clustering.method == "exact"
    assert "exact copies" in why.candidates.note and why.articles == 3
