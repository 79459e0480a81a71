"""The library call ingestion jobs and scripts use: no files needed."""

import functools
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import Article, Detector, Params, find_duplicates

STORY = (
    "The central bank of Italy raised its main interest rate by half a point on Thursday, "
    "citing inflation that stayed above eight percent for the fourth month in a row. "
    "Governor Ignazio Visco said further increases could follow in the spring."
)
REWRITE = (
    "Italy's central bank lifted its key interest rate by half a point on Thursday, "
    "pointing to inflation that remained over eight percent for a fourth straight month. "
    "Governor Ignazio Visco said more increases could come in spring."
)
OTHER = (
    "Heavy snow closed several mountain passes in the Alps on Sunday, and rescue teams "
    "warned hikers of a high avalanche risk across the region until midweek."
)


@pytest.mark.parametrize(
    "articles",
    [
        [("a", STORY), ("b", REWRITE), ("c", OTHER)],
        [
            {"id": "a", "text": STORY},
            {"id": "b", "text": REWRITE, "source": "wire"},
            {"id": "c", "text": OTHER},
        ],
        [Article("a", STORY), Article("b", REWRITE), Article("c", OTHER)],
    ],
    ids=["tuples", "dicts", "articles"],
)
def test_find_duplicates_accepts_tuples_dicts_and_articles(articles):
    result = find_duplicates(articles)
    assert [c.members for c in result.clusters] == [["a", "b"]]
    assert result.clusters[0].representative == "a"  # the longer text
    assert [(p.a, p.b) for p in result.pairs] == [("a", "b")]
    assert 0.4 <= result.pairs[0].cosine <= 1 and 0 < result.pairs[0].jaccard <= 1
    assert result.duplicates == {"b"}
    assert result.cluster_of("b").representative == "a" and result.cluster_of("c") is None


def test_summary_accounts_for_every_article():
    result = find_duplicates([("a", STORY), ("b", REWRITE), ("c", OTHER)], representative="first")
    counts = result.summary["articles"]
    assert counts == {"read": 3, "kept": 2, "removed_as_duplicates": 1, "skipped_bad_input": 0}
    assert result.summary["params"]["representative"] == "first"
    assert result.summary["minhash"]["hash_scheme"].startswith("datasketch-affine32")
    assert set(result.summary["timings_s"]) >= {"read_sign", "candidates", "verify", "cluster"}


def test_a_strict_threshold_finds_nothing():
    assert find_duplicates([("a", STORY), ("b", REWRITE)], threshold=0.99).clusters == []


@pytest.mark.parametrize(
    ("articles", "error", "message"),
    [
        ([("a", STORY), ("a", REWRITE)], ValueError, "duplicate id 'a'"),
        ([("a", "   ")], ValueError, "empty text"),
        ([{"id": "a"}], ValueError, "needs 'id' and 'text'"),
        ([("a", 42)], TypeError, "text must be str"),
        (["just text"], TypeError, "expected \\(id, text\\)"),
    ],
)
def test_bad_articles_are_named(articles, error, message):
    with pytest.raises(error, match=message):
        find_duplicates(articles)


def test_no_articles_no_clusters():
    result = find_duplicates([])
    assert result.clusters == [] and result.summary["articles"]["read"] == 0


def test_detector_streams_articles_one_at_a_time():
    detector = Detector(Params(threshold=0.3))
    for i, text in enumerate([STORY, OTHER, REWRITE]):
        detector.add(Article(f"id{i}", text))
    assert len(detector) == 3
    assert [c.members for c in detector.finish().clusters] == [["id0", "id2"]]


def test_sentence_weight_zero_is_the_document_cosine_alone():
    result = find_duplicates([("a", STORY), ("b", REWRITE)], sentence_weight=0.0, threshold=0.3)
    (pair,) = result.pairs
    assert pair.score == pair.cosine and pair.sentence_match == 0.0


def test_the_score_mixes_cosine_and_sentence_match():
    (pair,) = find_duplicates([("a", STORY), ("b", REWRITE)], sentence_weight=0.25).pairs
    assert pair.score == pytest.approx(0.75 * pair.cosine + 0.25 * pair.sentence_match, abs=2e-4)


DEV = (
    Path(__file__).resolve().parent.parent.parent
    / "shared"
    / "data"
    / "wmt-variants-dev"
    / "articles.jsonl.gz"
)


@functools.cache
def _dev_in_order() -> tuple[list[tuple[str, str]], Any, Any]:
    """The dev set's first 400 English articles in their order, and their results with every
    verified pair listed and by default (each example shuffles them; this order is run once)."""
    with gzip.open(DEV, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    articles = [(r["id"], r["text"]) for r in rows if r["lang"] == "en"][:400]
    return articles, find_duplicates(articles, all_pairs=True), find_duplicates(articles)


@pytest.mark.skipif(not DEV.exists(), reason=f"dev data not found at {DEV}")
@settings(max_examples=5, deadline=None)
@given(st.randoms(use_true_random=False))
def test_input_order_does_not_change_the_clusters(rnd):
    """The same articles in another order: the same clusters, and the same pairs verified (every
    pair with all_pairs; the pairs listed by default are a spanning tree of each cluster, which
    leans on its representative, the first seen of equally long members)."""
    articles, a, listed_a = _dev_in_order()
    shuffled = articles[:]
    rnd.shuffle(shuffled)
    b = find_duplicates(shuffled, all_pairs=True)
    assert sorted(map(tuple, (sorted(c.members) for c in a.clusters))) == sorted(
        map(tuple, (sorted(c.members) for c in b.clusters))
    )
    assert {(p.a, p.b): p.score for p in a.pairs} == pytest.approx({(p.a, p.b): p.score for p in b.pairs})
    listed_b = find_duplicates(shuffled)
    assert sorted(c.members for c in listed_a.clusters) == sorted(c.members for c in a.clusters)
    for listed in (listed_a, listed_b):
        assert len(listed.pairs) == sum(len(c.members) - 1 for c in listed.clusters)
        assert {(p.a, p.b) for p in listed.pairs} <= {(p.a, p.b) for p in a.pairs}


def test_chinese_rewrites_are_found_and_a_same_topic_article_is_not():
    """Scripts without spaces are tokenised into character bigrams, so the same rules apply."""
    a = (
        "中国国家主席习近平周一抵达莫斯科，与俄罗斯总统普京举行会谈。"
        "这是习近平连任以来首次出访。双方预计将签署能源和贸易协议。"
    )
    b = (
        "周一，中国国家主席习近平抵达莫斯科，同俄罗斯总统普京会谈。"
        "这是他再次当选后的首次出国访问。预计两国将签署能源与贸易方面的协议。"
    )
    same_topic = (
        "俄罗斯总统普京周二在莫斯科会见了印度外长，双方讨论了石油贸易。印度表示将继续购买俄罗斯能源。"
    )
    other = "阿尔卑斯山周日普降大雪，多条山口道路被迫关闭。救援队警告徒步者，雪崩风险将持续到周中。"
    result = find_duplicates([("a", a), ("b", b), ("t", same_topic), ("o", other)])
    assert [c.members for c in result.clusters] == [["a", "b"]]
