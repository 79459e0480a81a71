"""The cross-lingual scorer of the benchmarks (benchmarks/_xling_score.py) on small cases."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from _xling_score import (  # noqa: E402
    by_language_pair,
    by_source_language,
    cross_pairs,
    gold_clusters,
    prf,
    same_pairs,
)

# Two stories: s1 written in Japanese (source + two English translations), s2 in English
# (source + a Japanese translation).
ARTICLES = [
    {"id": "ja1", "cluster": "s1", "lang": "ja", "origlang": "ja"},
    {"id": "en1a", "cluster": "s1", "lang": "en", "origlang": "ja"},
    {"id": "en1b", "cluster": "s1", "lang": "en", "origlang": "ja"},
    {"id": "en2", "cluster": "s2", "lang": "en", "origlang": "en"},
    {"id": "ja2", "cluster": "s2", "lang": "ja", "origlang": "en"},
]
LANG = {a["id"]: a["lang"] for a in ARTICLES}
ORIGIN = {a["id"]: a["origlang"] for a in ARTICLES}
GOLD = gold_clusters(ARTICLES)


def test_gold_pairs_split_by_language():
    assert GOLD == [["ja1", "en1a", "en1b"], ["en2", "ja2"]]
    assert cross_pairs(GOLD, LANG) == {("en1a", "ja1"), ("en1b", "ja1"), ("en2", "ja2")}
    assert same_pairs(GOLD, LANG) == {("en1a", "en1b")}


def test_prf_counts_found_against_true_pairs():
    assert prf({1, 2}, {2, 3, 4}) == {
        "precision": 0.5,
        "recall": 0.3333,
        "f1": 0.4,
        "pairs_found": 2,
        "true_pairs": 3,
    }
    assert prf(set(), {1})["f1"] == 0.0 and prf(set(), {1})["precision"] == 1.0


def test_a_run_that_glues_two_stories_loses_precision_in_both_source_languages():
    run = [["ja1", "en1a", "en1b", "ja2", "en2"]]
    found = cross_pairs(run, LANG)
    truth = cross_pairs(GOLD, LANG)
    assert prf(found, truth)["recall"] == 1.0 and prf(found, truth)["precision"] == 0.5
    per = by_source_language(found, truth, ORIGIN)
    # the three pairs that join the two stories, (en1a, ja2), (en1b, ja2) and (en2, ja1), count
    # against both: ja has 2 right of 5, en 1 right of 4
    assert per["ja"]["precision"] == 0.4 and per["en"]["precision"] == 0.25
    assert set(by_language_pair(found, truth, LANG)) == {"en-ja"}


def test_a_run_that_misses_a_link_loses_recall_of_that_story_only():
    run = [["ja1", "en1a", "en1b"], ["en2"], ["ja2"]]
    per = by_source_language(cross_pairs(run, LANG), cross_pairs(GOLD, LANG), ORIGIN)
    assert per["ja"]["f1"] == 1.0
    assert per["en"]["recall"] == 0.0 and per["en"]["pairs_found"] == 0
