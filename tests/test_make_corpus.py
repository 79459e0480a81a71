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


def test_the_corpus_is_the_one_made_before_the_speed_up(source):
    # sha256 of the articles as make_corpus.py made them before stories were cached and their
    # draws made in Python (commit 0248461); a new numpy may change its streams, and this with them
    import hashlib

    made = {
        "423010889dec8d11bc8bc33092e3cdd694bc0c52ed37e9b59a912be452024191": dict(seed=3, words=80),
        "88ffe562979545402e2b040d86d630ba0f1d50302d911c4d49eb05b99b4c51b5": dict(
            seed=1, family_rate=0.5, words=80
        ),
    }
    for digest, options in made.items():
        rows = list(make_corpus.make(source, 200, **options))
        assert hashlib.sha256(json.dumps(rows).encode()).hexdigest() == digest, options


def test_draws_in_python_are_numpys_and_leave_the_generator_where_numpy_would():
    import numpy as np

    bounds = [1, 2, 3, 12, 38, 1000, 99_991, 2**31 + 11, 3 * 2**30, 2**32 - 1]
    for trial in range(50):
        ours, numpys = np.random.default_rng([trial, 7]), np.random.default_rng([trial, 7])
        if trial % 2:  # a generator holding half of a 64-bit draw for the next integer
            ours.integers(5), numpys.integers(5)
        draws = make_corpus._Draws(ours)
        plan = np.random.default_rng(trial)
        for _ in range(int(plan.integers(1, 700))):
            if plan.random() < 0.5:
                assert draws.random() == numpys.random()
            else:
                k = bounds[int(plan.integers(len(bounds)))]
                assert draws.integers(k) == int(numpys.integers(k))
                assert draws.integers(2, k + 2) == int(numpys.integers(2, k + 2))
                assert draws.below(k, 3) == numpys.integers(k, size=3).tolist()
        draws.done()
        after = (ours.random(), int(ours.integers(10)), int(ours.integers(10)), ours.normal())
        assert after == (numpys.random(), int(numpys.integers(10)), int(numpys.integers(10)), numpys.normal())


def _families(articles: list[dict]) -> dict[str, list[dict]]:
    families: dict[str, list[dict]] = {}
    for a in articles:
        families.setdefault(a["family"], []).append(a)
    return families


@pytest.mark.parametrize("size", [2, 7, 2000])
def test_every_family_has_the_size_asked_for(source, size):
    sizes = make_corpus.FamilySizes(size, size)
    articles = list(make_corpus.make(source, 3 * size, seed=2, family_rate=1.0, words=40, family_sizes=sizes))
    families = _families(articles)
    assert len(articles) == 3 * size and sorted(map(len, families.values())) == [size] * 3
    for members in families.values():
        copies = sorted(int(a["id"].rsplit("-", 1)[1]) for a in members)
        assert copies == list(range(size))  # the story (copy 0) and its size - 1 variants


def test_only_the_last_family_is_cut_to_make_n(source):
    sizes = make_corpus.FamilySizes(4, 4)
    articles = list(make_corpus.make(source, 50, seed=5, family_rate=0.5, words=60, family_sizes=sizes))
    counts = sorted(len(m) for m in _families(articles).values())
    assert len(articles) == 50 and set(counts[:-1]) <= {1, 4} and 4 in counts
    assert sum(1 for c in counts if c not in (1, 4)) <= 1


def test_family_sizes_parse_fixed_ranges_and_zipf():
    import numpy as np

    parse = make_corpus.FamilySizes.parse
    assert parse("10") == make_corpus.FamilySizes(10, 10)
    assert parse("2-2000") == make_corpus.FamilySizes(2, 2000)
    assert parse("zipf") == make_corpus.FamilySizes(2, 2000, zipf=True)
    assert parse("zipf:3-30") == make_corpus.FamilySizes(3, 30, zipf=True)
    drawn = parse("zipf").draw(np.random.default_rng(0), 20_000)
    assert drawn.min() >= 2 and drawn.max() <= 2000 and np.median(drawn) <= 3 and drawn.max() > 100
    for bad in ("1", "5-3", "x", "zipf:2-"):
        with pytest.raises(ValueError, match="family sizes"):
            parse(bad)


def test_exact_copies_repeat_a_member_byte_for_byte(source):
    sizes = make_corpus.FamilySizes(11, 11)
    articles = list(
        make_corpus.make(source, 44, seed=4, family_rate=1.0, words=60, family_sizes=sizes, exact_share=0.3)
    )
    by_id = {a["id"]: a for a in articles}
    for members in _families(articles).values():
        exact = [a for a in members if a["changes"] == ["exact"]]
        assert len(exact) == 3  # 30% of 10 variants
        for a in exact:
            original = by_id[a["copy_of"]]
            assert a["text"] == original["text"] and original["changes"] != ["exact"]
            assert original["family"] == a["family"] and original["id"] != a["id"]
    again = list(
        make_corpus.make(source, 44, seed=4, family_rate=1.0, words=60, family_sizes=sizes, exact_share=0.3)
    )
    assert again == articles


def test_the_command_takes_family_sizes_and_exact_copies(tmp_path):
    import gzip

    from click.testing import CliRunner

    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "a.txt").write_text("\n\n".join(f"{s}." for s in SENTENCES), encoding="utf-8")
    out = tmp_path / "c.jsonl.gz"
    args = ["40", "--out", str(out), "--source", str(folder), "--words", "60", "--family-rate", "1"]
    result = CliRunner().invoke(make_corpus.main, [*args, "--family-size", "20", "--exact-share", "0.5"])
    assert result.exit_code == 0, result.output
    with gzip.open(out, "rt") as f, gzip.open(tmp_path / "c.truth.jsonl.gz", "rt") as t:
        texts = {r["id"]: r["text"] for r in map(json.loads, f)}
        truth = [json.loads(line) for line in t]
    exact = [r for r in truth if r["changes"] == ["exact"]]
    assert len(truth) == 40 and len({r["family"] for r in truth}) == 2 and len(exact) == 20
    assert all(texts[r["id"]] == texts[r["copy_of"]] for r in exact)
    both = CliRunner().invoke(make_corpus.main, [*args, "--family-size", "5", "--family-sizes", "2-9"])
    assert both.exit_code == 2 and "give one of them" in both.output
    bad = CliRunner().invoke(make_corpus.main, [*args, "--family-sizes", "1-9"])
    assert bad.exit_code == 2 and "2 <= low <= high" in bad.output


def test_a_light_variant_swaps_a_few_words_and_keeps_every_sentence_in_order(source):
    import numpy as np

    paragraphs = make_corpus.story(source, 0, 1, words=80)
    for k in range(30):
        edited, changes = make_corpus.light_variant(source, paragraphs, np.random.default_rng([k]))
        assert changes and set(changes) <= {"swap", "boilerplate", "reparagraph"}
        again = make_corpus.light_variant(source, paragraphs, np.random.default_rng([k]))
        assert again == (edited, changes)
        body = [s for p in edited for s in p if s not in make_corpus.FURNITURE]
        before = [s for p in paragraphs for s in p]
        assert len(body) == len(before)
        pairs = [(x.split(), y.split()) for x, y in zip(before, body, strict=True)]
        differ = sum(a != b for x, y in pairs for a, b in zip(x, y, strict=True))
        assert differ <= (5 if "swap" in changes else 0)


def test_worker_processes_make_the_same_corpus(source, monkeypatch):
    monkeypatch.setattr(make_corpus, "PARALLEL_FROM", 0)  # workers for a small corpus too
    sizes = make_corpus.FamilySizes(2, 30)
    options = dict(seed=6, family_rate=0.6, words=60, family_sizes=sizes, exact_share=0.2)
    alone = list(make_corpus.make(source, 300, **options))
    assert list(make_corpus.make(source, 300, workers=3, **options)) == alone
