"""dedup.index.feed.feed: what `dedup index add/query` do, as a generator over articles."""

from pathlib import Path

import pytest

from dedup import Article, Index, InputError
from dedup.index.feed import feed

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture
def seeds() -> list[Article]:
    return [
        Article(p.stem, p.read_text(), source="seeds.jsonl", line=k)
        for k, p in enumerate(sorted(SEEDS.glob("*.txt")), start=1)
    ]


@pytest.mark.parametrize("batch", [1, 2, 100])
def test_each_article_comes_back_with_the_held_ones_it_duplicates(seeds, tmp_path, batch):
    with Index.open(tmp_path / "news.db") as index:
        found = {a.id: [m.id for m in ms] for a, ms in feed(index, seeds, batch=batch)}
        assert len(index) == 5
    assert found["004_89cc63446ebde389"] == ["000_1bdcf60ae9970c12"]
    assert sum(bool(ms) for ms in found.values()) == 1


def test_a_query_adds_nothing(seeds, tmp_path):
    with Index.open(tmp_path / "news.db") as index:
        list(feed(index, seeds[:1]))
        found = [(a.id, [m.id for m in ms]) for a, ms in feed(index, seeds[4:], add=False)]
        assert found == [("004_89cc63446ebde389", ["000_1bdcf60ae9970c12"])] and len(index) == 1


def test_a_held_id_names_its_record_and_the_batches_before_it_stay(seeds, tmp_path):
    with Index.open(tmp_path / "news.db") as index:
        list(feed(index, seeds[2:3]))
        seen = []
        with pytest.raises(InputError, match=r"^seeds\.jsonl:3: .*already in the index"):
            for article, _ in feed(index, seeds, batch=2):
                seen.append(article.id)
        assert seen == [a.id for a in seeds[:2]] and len(index) == 3  # (the first batch, lines 1-2, stays)
