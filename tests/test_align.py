"""Paragraph alignment: the seeds, re-paragraphed texts, moved and added paragraphs, the dev figure."""

import gzip
import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup.report.align as aligner
from dedup import align
from dedup.text.paragraphs import split_paragraphs, split_sentences

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from _data import WMT_DEV, load_wmt  # noqa: E402


def seed(prefix: str) -> str:
    return next(SEEDS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seeds_000_004():
    return align(seed("000"), seed("004"))


def test_seed_translations_link_every_content_paragraph_to_its_counterparts(seeds_000_004):
    al = seeds_000_004
    # 000 ¶1 is 004 ¶1 and the start of ¶2; 000 ¶2 runs from the end of 004 ¶2 into ¶4; 000 ¶3 is
    # the rest of 004 ¶4.
    assert [(link.a, link.b) for link in al.links] == [([1], [1, 2]), ([2], [2, 3, 4]), ([3], [4])]
    assert [link.type for link in al.links] == ["1:2", "1:3", "1:1"]
    assert all(link.score > 0.5 and not link.moved for link in al.links)


def test_seed_extra_opening_paragraph_title_and_boilerplate(seeds_000_004):
    al = seeds_000_004
    assert al.only_b == [0] and al.paragraphs_b[0].startswith("Russian President Vladimir Putin")
    assert al.only_a == [0] and al.paragraphs_a[0].startswith("Xi visits Putin")  # 004 has no title
    assert al.boilerplate_a == [4] and al.paragraphs_a[4] == "Leave a Comment"
    assert al.boilerplate_b == []


def test_to_dict_uses_the_documented_names(seeds_000_004):
    d = seeds_000_004.to_dict()
    assert list(d) == [
        "links", "only_a", "only_b", "boilerplate_a", "boilerplate_b", "similarity", "languages",
    ]  # fmt: skip
    assert d["similarity"] == "tfidf"  # (auto: both English)
    assert d["links"][1] == {
        "a": [2],
        "b": [2, 3, 4],
        "type": "1:3",
        "score": d["links"][1]["score"],
        "moved": False,
    }
    json.dumps(d)
    assert set(seeds_000_004.to_dict(texts=True)) >= {"paragraphs_a", "paragraphs_b"}


@pytest.mark.parametrize("other", ["001", "002", "003"])
def test_different_articles_on_the_same_event_have_little_in_common(other):
    al = align(seed("000"), seed(other))
    share_a, _ = al.coverage()
    assert share_a <= 0.5, al.to_dict()


def test_swapping_the_texts_mirrors_the_alignment(seeds_000_004):
    back = align(seed("004"), seed("000"))
    assert back.pairs() == {(j, i) for i, j in seeds_000_004.pairs()}
    assert (back.only_a, back.only_b) == (seeds_000_004.only_b, seeds_000_004.only_a)


# A real article of distinct sentences, re-paragraphed at random on both sides: every paragraph
# pair sharing a sentence must be linked, and nothing else.
SENTENCES = [s for p in split_paragraphs(seed("001")) for s in split_sentences(p) if len(s.split()) >= 6][:14]


def _grouped(sentences: list[str], cuts: list[bool]) -> tuple[str, list[int]]:
    paragraphs, owner = [[sentences[0]]], [0]
    for sentence, cut in zip(sentences[1:], cuts, strict=False):
        if cut:
            paragraphs.append([])
        paragraphs[-1].append(sentence)
        owner.append(len(paragraphs) - 1)
    return "\n\n".join(" ".join(p) for p in paragraphs), owner


@settings(max_examples=60, deadline=None)
@given(
    cuts_a=st.lists(st.booleans(), min_size=len(SENTENCES) - 1, max_size=len(SENTENCES) - 1),
    cuts_b=st.lists(st.booleans(), min_size=len(SENTENCES) - 1, max_size=len(SENTENCES) - 1),
)
def test_any_re_paragraphing_is_recovered_exactly(cuts_a, cuts_b):
    text_a, owner_a = _grouped(SENTENCES, cuts_a)
    text_b, owner_b = _grouped(SENTENCES, cuts_b)
    al = align(text_a, text_b)
    assert al.pairs() == set(zip(owner_a, owner_b, strict=True))
    assert al.only_a == [] and al.only_b == []
    # the links are an exact cover: no pair is written twice
    assert sum(len(link.a) * len(link.b) for link in al.links) == len(al.pairs())


@pytest.mark.parametrize(
    ("a", "b", "shape"),
    [
        ([[0, 1, 2], [3, 4, 5]], [[0, 1, 2, 3, 4, 5]], "2:1"),
        ([[0, 1, 2, 3, 4, 5]], [[0, 1, 2], [3, 4, 5]], "1:2"),
        ([[0, 1], [2, 3], [4, 5]], [[0, 1, 2, 3, 4, 5]], "3:1"),
        ([[0, 1, 2, 3, 4, 5]], [[0, 1], [2, 3], [4, 5]], "1:3"),
        ([[0, 1], [2, 3]], [[0, 1], [10, 11], [2, 3]], "0:1"),
        ([[0, 1], [10, 11], [2, 3]], [[0, 1], [2, 3]], "1:0"),
    ],
)
def test_link_shapes(a, b, shape):
    def text(groups):
        return "\n\n".join(" ".join(SENTENCES[k] for k in group) for group in groups)

    al = align(text(a), text(b))
    if shape == "0:1":
        assert al.only_b == [1] and al.only_a == []
    elif shape == "1:0":
        assert al.only_a == [1] and al.only_b == []
    else:
        assert [link.type for link in al.links] == [shape]


def test_a_paragraph_moved_elsewhere_is_found_and_marked():
    paragraphs = split_paragraphs(seed("001"))[1:9]
    moved = [paragraphs[5], *paragraphs[:5], *paragraphs[6:]]
    al = align("\n\n".join(paragraphs), "\n\n".join(moved))
    assert al.pairs() == {(5, 0), (0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (6, 6), (7, 7)}
    assert [link.moved for link in al.links if link.a == [5]] == [True]
    assert not any(link.moved for link in al.links if link.a != [5])
    assert not any(link.moved for link in align("\n\n".join(paragraphs), "\n\n".join(paragraphs)).links)


def test_one_paragraph_per_line_texts_align_like_blank_line_texts(seeds_000_004):
    one_per_line = "\n".join(split_paragraphs(seed("004")))
    assert align(seed("000"), one_per_line).pairs() == seeds_000_004.pairs()


def test_boilerplate_learned_from_a_corpus_is_set_aside():
    from dedup.report.boilerplate import Boilerplate

    footer = "Our newsroom brings you the stories that matter, every day of the week."
    corpus = [f"Story {k} text.\n\n{footer}" for k in range(3)]
    learned = Boilerplate.learn(corpus)
    text = seed("000") + "\n\n" + footer
    al = align(text, seed("004"), boilerplate=learned)
    assert al.boilerplate_a == [4, 5]
    assert align(text, seed("004")).boilerplate_a == [4]  # not known without the corpus


def test_no_boilerplate_detection_treats_every_paragraph_as_content():
    al = align(seed("000"), seed("004"), boilerplate=None)
    assert al.boilerplate_a == [] and 4 in al.only_a


def test_paragraph_unit_and_the_fallback_for_very_long_texts(monkeypatch, seeds_000_004):
    by_paragraph = align(seed("000"), seed("004"), unit="paragraph")
    assert by_paragraph.sentence_links == [] and (1, 1) in by_paragraph.pairs()
    monkeypatch.setattr(aligner, "MAX_CELLS", 20)
    fallback = align(seed("000"), seed("004"))
    assert fallback.sentence_links == [] and fallback.pairs() == by_paragraph.pairs()
    # 4 x 5 content paragraphs exceed 4 cells: runs of three paragraphs are aligned, coarser but whole
    monkeypatch.setattr(aligner, "MAX_CELLS", 4)
    coarse = align(seed("000"), seed("004"))
    assert [(link.a, link.b) for link in coarse.links] == [([0, 1, 2], [0, 1, 2]), ([3], [3, 4])]
    assert len(seeds_000_004.pairs() & coarse.pairs()) == 4 and coarse.boilerplate_a == [4]


@pytest.mark.parametrize("similarity", ["fuzz", "mix"])
def test_other_similarities_align_the_seeds(similarity):
    al = align(
        seed("000"), seed("004"), similarity=similarity, threshold=0.5 if similarity == "fuzz" else 0.3
    )
    assert {(1, 1), (2, 3), (3, 4)} <= al.pairs()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 1.5}, "threshold"),
        ({"attach": -0.1}, "attach"),
        ({"min_score": 2}, "min_score"),
        ({"unit": "word"}, "unit"),
        ({"similarity": "bm25"}, "similarity"),
        ({"stopwords": "french"}, "stopwords"),
    ],
)
def test_bad_parameters_are_rejected_early(kwargs, message):
    with pytest.raises(ValueError, match=message):
        align("One text.", "Another text.", **kwargs)


@pytest.mark.parametrize(
    ("a", "b", "name"), [("", "Some text.", "text_a"), ("Some text.", " \n\n \n", "text_b")]
)
def test_a_text_without_paragraphs_is_an_error(a, b, name):
    with pytest.raises(ValueError, match=name):
        align(a, b)


def test_texts_without_shared_words_have_no_links():
    al = align("Completely unrelated words here.\n\nNothing shared.", "Zebra quantum marmalade.")
    assert al.links == [] and al.only_a == [0, 1] and al.only_b == [0]


@pytest.mark.skipif(not (WMT_DEV / "alignment.jsonl.gz").exists(), reason=f"dev data not found at {WMT_DEV}")
def test_link_f1_on_the_same_language_dev_pairs_stays_at_least_0_996():
    """Guards the figure of benchmarks/alignment.py (0.9968: P 1.000, R 0.9936)."""
    articles = {a["id"]: a["text"] for a in load_wmt(None)}
    with gzip.open(WMT_DEV / "alignment.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    tp = fp = fn = 0
    for row in rows:
        if row["lang_a"] != row["lang_b"]:
            continue
        gold = {tuple(x) for x in row["links"]}
        pred = align(articles[row["a"]], articles[row["b"]]).pairs()
        tp, fp, fn = tp + len(gold & pred), fp + len(pred - gold), fn + len(gold - pred)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert precision >= 0.999
    assert 2 * precision * recall / (precision + recall) >= 0.996
