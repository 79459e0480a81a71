"""The look-alike stress sets of benchmarks/lookalikes.py: deterministic by seed, of the promised shape.

Only the sets are checked here, not how well the detector does on them.
"""

import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import lookalikes  # noqa: E402


def words(text: str) -> int:
    return len(text.split())


def check_shape(articles: list[dict], prefix: str) -> Counter:
    """Keys, unique ids, each cluster named after its first post, 1-4 articles a cluster."""
    assert all(set(a) == {"id", "text", "cluster"} for a in articles)
    ids = [a["id"] for a in articles]
    assert len(ids) == len(set(ids))
    clusters = {a["cluster"] for a in articles}
    assert clusters <= set(ids)
    for a in articles:
        assert a["id"].startswith(prefix)
        assert a["id"] == a["cluster"] or a["id"].startswith(a["cluster"] + ".r")
        assert a["text"] == a["text"].strip() and a["text"]
    sizes = Counter(a["cluster"] for a in articles)
    assert set(sizes.values()) == {1, 2, 3, 4}
    return sizes


@pytest.fixture(scope="module")
def listings() -> list[dict]:
    return lookalikes.template_listings(seed=0)


def test_template_listings_are_the_same_for_a_seed(listings):
    assert lookalikes.template_listings(seed=0) == listings
    assert lookalikes.template_listings(seed=1) != listings


def test_template_listings_shape(listings):
    sizes = check_shape(listings, "listing.")
    families = Counter(lookalikes.group_of(c) for c in sizes)
    assert set(families) == {t.name for t in lookalikes.TEMPLATES} and len(families) >= 4
    short = {t.name for t in lookalikes.TEMPLATES if t.words[1] <= 80}
    assert len(short) >= 3
    for tpl in lookalikes.TEMPLATES:
        assert 10 <= families[tpl.name] == tpl.siblings <= 30  # siblings: distinct listings of one template
        lo, hi = tpl.words
        members = [a for a in listings if lookalikes.group_of(a["id"]) == tpl.name]
        assert all(lo <= words(a["text"]) <= hi for a in members), tpl.name
        assert any(sizes[a["cluster"]] > 1 for a in members), f"{tpl.name} has no re-post"


def test_reposts_are_edits_of_their_original(listings):
    text = {a["id"]: a["text"] for a in listings}
    reposts = [a for a in listings if a["id"] != a["cluster"]]
    for a in reposts:
        assert a["text"] != text[a["cluster"]]
        assert set(a["id"].rsplit("-", 1)[1].split("+")) <= set(lookalikes.EDITS)
    assert {e for a in reposts for e in a["id"].rsplit("-", 1)[1].split("+")} == set(lookalikes.EDITS)


@pytest.fixture(scope="module")
def posts() -> list[dict]:
    if not (lookalikes.WMT_V3 / "articles.jsonl.gz").exists():
        pytest.skip(f"dev data not found at {lookalikes.WMT_V3}")
    return lookalikes.short_posts(seed=0)


def test_short_posts_are_the_same_for_a_seed(posts):
    assert lookalikes.short_posts(seed=0) == posts
    assert lookalikes.short_posts(seed=1) != posts


def test_short_posts_shape(posts):
    sizes = check_shape(posts, "post.")
    assert all(10 <= words(a["text"]) <= 40 for a in posts)
    events = Counter(lookalikes.group_of(c) for c in sizes)
    assert set(events) <= {*lookalikes.EVENTS, "other"}
    # several posts on one event (the negatives that share names, places and hashtags)
    assert sum(1 for e, n in events.items() if e != "other" and n >= 3) >= 5
    assert sum(sizes.values()) - len(sizes) >= 50  # reposts
