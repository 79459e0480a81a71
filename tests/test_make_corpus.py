"""The synthetic corpus generator: deterministic by seed, with the ground truth of what it planted."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import make_corpus  # noqa: E402

SENTENCES = [
    "The committee approved the budget for the new bridge after a long debate",
    "Engineers expect the construction to take three years and cost less than planned",
    "Residents of the northern district asked for more buses during the works",
    "The mayor said the project would create hundreds of jobs in the region",
    "Critics argued that the money should have gone to schools and hospitals instead",
    "A final vote on the contract is expected before the end of the month",
]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    folder = tmp_path_factory.mktemp("source")
    for k in range(4):
        text = "\n\n".join(f"{s} number {k} {j}." for j, s in enumerate(SENTENCES))
        (folder / f"doc{k}.txt").write_text(text, encoding="utf-8")
    return make_corpus.load_source(folder)


def test_the_same_seed_makes_the_same_corpus(source):
    one = list(make_corpus.make(source, 60, seed=3, words=80))
    two = list(make_corpus.make(source, 60, seed=3, words=80))
    other = list(make_corpus.make(source, 60, seed=4, words=80))
    assert one == two and one != other
    assert len(one) == 60 and len({a["id"] for a in one}) == 60


def test_families_are_a_story_and_its_changed_copies(source):
    articles = list(make_corpus.make(source, 200, seed=1, family_rate=0.5, words=80))
    families: dict[str, list[dict]] = {}
    for a in articles:
        families.setdefault(a["family"], []).append(a)
    assert any(len(f) > 1 for f in families.values())
    for family, members in families.items():
        for a in members:
            assert a["id"].startswith(family)
            assert bool(a["changes"]) == (not a["id"].endswith("-0"))
            assert set(a["changes"]) <= {"rewrite", "reorder", "truncate", "boilerplate", "reparagraph"}


def test_the_command_writes_corpus_and_truth(source, tmp_path):
    from click.testing import CliRunner

    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "a.txt").write_text("\n\n".join(f"{s}." for s in SENTENCES), encoding="utf-8")
    out = tmp_path / "c.jsonl.gz"
    result = CliRunner().invoke(
        make_corpus.main, ["25", "--out", str(out), "--source", str(folder), "--words", "60"]
    )
    assert result.exit_code == 0, result.output
    import gzip

    with gzip.open(out, "rt") as f, gzip.open(tmp_path / "c.truth.jsonl.gz", "rt") as t:
        rows, truth = [json.loads(line) for line in f], [json.loads(line) for line in t]
    assert [r["id"] for r in rows] == [t["id"] for t in truth] and len(rows) == 25
    assert not list(tmp_path.glob("*.tmp"))


def test_a_source_without_usable_text_is_a_clear_error(tmp_path):
    (tmp_path / "x.txt").write_text("too short", encoding="utf-8")
    with pytest.raises(Exception, match="no document with five usable sentences"):
        make_corpus.load_source(tmp_path)
