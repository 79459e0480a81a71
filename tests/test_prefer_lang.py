"""The kept copy of a mixed-language cluster (issue 20): ``prefer_lang`` (``--prefer-lang``) keeps a
member in the first preferred language the cluster has, chosen among them by the ``representative``
rule; a cluster with none of them keeps by the rule alone. The mixed clusters here are built with
the fingerprints alone (``xling_embeddings="no"``), or from a bilingual text that the same-language
path joins to its English part."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import dedup_run, one_line_error, read_jsonl, seed_texts
from test_crosslingual import EN, OTHER_UK, UK

from dedup import Params, find_duplicates
from dedup.cluster import choose_representative
from dedup.result import verdicts
from dedup.text.language import detect

UK_ORIGINAL = UK + " Про це повідомляє Укрінформ з посиланням на Офіс президента."
"""The Ukrainian original, longer than its English translations: the longest member."""
EN_UPDATED = EN + " Kirby said more would follow."
MIXED = UK + "\n\n" + EN
"""A bilingual article (a Ukrainian summary above the English text): detected Ukrainian, and a
rewrite of EN for the same-language path."""

# (a cluster: its members' languages and lengths)
LANGS = ["uk", "en", "en", "ru"]
LENGTHS = np.array([300, 120, 180, 250])


@pytest.mark.parametrize(
    ("rule", "prefer", "kept"),
    [
        ("longest", None, 0),  # the Ukrainian original, longest
        ("longest", ["en"], 2),  # the longest English copy
        ("first", ["en"], 1),  # the first English copy
        ("longest", ["de", "en"], 2),  # no German member: the next preference
        ("longest", ["ru", "en"], 3),  # the first preference present wins, not the longest
        ("longest", ["en", "ru"], 2),
        ("longest", ["de"], 0),  # no preferred language present: the rule over all
        ("first", ["de", "it"], 0),
        ("longest", [], 0),
    ],
)
def test_the_kept_member_is_in_the_first_preferred_language_present(rule, prefer, kept):
    members = np.arange(4)
    assert choose_representative(members, LENGTHS, rule, langs=LANGS, prefer=prefer) == kept


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("rule", ["longest", "first"])
@pytest.mark.parametrize("prefer", [["en"], ["de"], ["de", "en"]])
def test_a_cluster_of_one_language_keeps_what_the_rule_alone_keeps(seed, rule, prefer):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 12))
    lengths = rng.integers(10, 60, n)  # (ties among them, often)
    members = np.sort(rng.choice(n, int(rng.integers(2, n + 1)), replace=False))
    langs = [str(rng.choice(["en", "uk"]))] * n
    assert choose_representative(members, lengths, rule, langs=langs, prefer=prefer) == (
        choose_representative(members, lengths, rule)
    )


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("en", ("en",)),
        ("EN, de", ("en", "de")),  # in the order given: the first is the most preferred
        ("de,en", ("de", "en")),
        (["uk", "ru"], ("uk", "ru")),
        ("en,de,en", ("en", "de")),  # a repeat keeps its first place
        ("iw", ("he",)),  # CLD2's old code, as detection gives it
        (None, None),
    ],
)
def test_prefer_lang_is_an_ordered_list_of_codes(given, stored):
    p = Params(prefer_lang=given)
    assert p.prefer_lang == stored
    assert p.to_dict()["prefer_lang"] == (None if stored is None else list(stored))


@pytest.mark.parametrize(
    ("given", "start"),
    [
        ("english", "prefer_lang: unknown language code 'english' (did you mean 'en'?)"),
        ("en,xx", "prefer_lang: unknown language code 'xx':"),
        ("", "prefer_lang must be language codes"),
        (["en", 3], "prefer_lang must be language codes"),
        (("en", ""), "prefer_lang must be language codes"),
    ],
)
def test_a_wrong_preference_is_refused_in_one_line(given, start):
    with pytest.raises(ValueError) as caught:
        Params(prefer_lang=given)
    assert str(caught.value).startswith(start) and "\n" not in str(caught.value)


def mixed_story() -> list[tuple[str, str]]:
    """A Ukrainian original, its two English translations, and another Ukrainian story."""
    return [("uk", UK_ORIGINAL), ("en-1", EN), ("en-2", EN_UPDATED), ("uk-other", OTHER_UK)]


@pytest.mark.parametrize(
    ("prefer", "rule", "kept"),
    [
        (None, "longest", "uk"),  # (what happened before prefer_lang: every English copy dropped)
        ("en", "longest", "en-2"),
        ("en", "first", "en-1"),
        ("de,en", "longest", "en-2"),
        ("uk,en", "longest", "uk"),
        ("de", "longest", "uk"),  # no German member: the usual rule
    ],
)
def test_a_cross_lingual_cluster_keeps_a_copy_in_the_preferred_language(prefer, rule, kept):
    result = find_duplicates(
        mixed_story(), cross_lingual=True, xling_embeddings="no", prefer_lang=prefer, representative=rule
    )
    (cluster,) = result.clusters
    assert cluster.members == ["uk", "en-1", "en-2"]
    assert cluster.languages == {"uk": "uk", "en-1": "en", "en-2": "en"}
    assert cluster.representative == kept
    assert sorted(result.duplicates) == sorted(set(cluster.members) - {kept})
    assert result.summary["params"]["prefer_lang"] == (None if prefer is None else prefer.split(","))


@pytest.mark.parametrize("prefer", [None, "en", "de"])
def test_clusters_of_one_language_are_what_they_were_without_a_preference(prefer):
    texts = seed_texts()
    articles = [(k, v) for k, v in texts.items()] + [("en-1", EN), ("en-2", EN_UPDATED)]
    assert {detect(t)[0] for _, t in articles} == {"en"}
    plain = find_duplicates(articles)
    assert len(plain.clusters) == 2
    got = find_duplicates(articles, prefer_lang=prefer)
    assert got.clusters == plain.clusters and got.pairs == plain.pairs


@pytest.mark.parametrize(("prefer", "kept"), [(None, "mixed"), ("en", "en"), ("uk", "mixed")])
def test_a_cluster_of_a_misdetected_article_follows_the_preference_too(prefer, kept):
    """Without --cross-lingual a cluster may still mix languages: a bilingual text detected as
    Ukrainian joins its English part on the same-language path."""
    assert (detect(MIXED)[0], detect(EN)[0]) == ("uk", "en")
    result = find_duplicates([("mixed", MIXED), ("en", EN), ("uk-other", OTHER_UK)], prefer_lang=prefer)
    (cluster,) = result.clusters
    assert cluster.members == ["mixed", "en"] and cluster.representative == kept


@pytest.mark.parametrize("all_pairs", [False, True])
@pytest.mark.parametrize(("rule", "kept"), [("longest", "en-long"), ("first", "en-copy")])
def test_exact_copies_of_the_preferred_language_give_the_kept_copy(all_pairs, rule, kept):
    """Exact copies are one member of the run (unless all_pairs): the copy kept is the one the
    rule picks among all the English articles, as when every copy is compared."""
    articles = [
        ("uk", UK_ORIGINAL),
        ("en-copy", EN),
        ("en-long", EN_UPDATED),
        ("en", EN),
        ("uk-other", OTHER_UK),
    ]
    result = find_duplicates(
        articles,
        cross_lingual=True,
        xling_embeddings="no",
        prefer_lang="en",
        representative=rule,
        all_pairs=all_pairs,
    )
    (cluster,) = result.clusters
    assert cluster.members == ["uk", "en-copy", "en-long", "en"] and cluster.representative == kept
    said = verdicts(result)
    assert {m: v.duplicate_of for m, v in said.items()} == {
        m: None if m == kept else kept for m in cluster.members
    }
    assert [q.score for q in result.pairs if (q.a, q.b) == ("en", "en-copy")] == [1.0]


def test_dedup_run_prefer_lang_is_followed_by_every_output(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in mixed_story())
    )
    out = tmp_path / "out"
    common = [str(source), "--cross-lingual", "--xling-embeddings", "no", "--annotate", "-q"]
    result = dedup_run(*common, "-o", str(out), "--prefer-lang", "de,en", "--report")
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["params"]["prefer_lang"] == ["de", "en"]
    (cluster,) = read_jsonl(out / "clusters.jsonl")
    assert cluster["representative"] == "en-2"
    assert [r["id"] for r in read_jsonl(out / "deduplicated.jsonl")] == ["en-2", "uk-other"]
    removed = read_jsonl(out / "removed.jsonl")
    assert {r["id"]: r["duplicate_of"] for r in removed} == {"uk": "en-2", "en-1": "en-2"}
    annotated = {r["id"]: r for r in read_jsonl(out / "annotated.jsonl")}
    assert annotated["en-2"]["kept"] and annotated["en-2"]["duplicate_of"] is None
    assert annotated["uk"]["duplicate_of"] == "en-2" and not annotated["uk"]["kept"]
    assert '<span class="tag">kept</span> <b>en-2</b>' in (out / "report.html").read_text()
    plain = dedup_run(*common, "-o", str(tmp_path / "plain"))
    assert plain.exit_code == 0, plain.output
    assert read_jsonl(tmp_path / "plain" / "clusters.jsonl")[0]["representative"] == "uk"


def test_dedup_run_refuses_an_unknown_preferred_language_in_one_line(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "a", "text": EN}) + "\n")
    result = dedup_run(str(source), "-o", str(tmp_path / "o"), "--prefer-lang", "en,english")
    line = one_line_error(result, 2)
    assert line.startswith("prefer_lang: unknown language code 'english' (did you mean 'en'?)")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("prefer", "kept"), [(None, "uk"), (["en"], "en-2")])
def test_link_languages_afterwards_keeps_by_the_preference_too(prefer, kept):
    from dedup.crosslingual import link_languages

    articles = mixed_story()
    langs = [detect(text)[0] for _, text in articles]
    linked, _ = link_languages(find_duplicates(articles), articles, langs, prefer_lang=prefer)
    (cluster,) = linked.clusters
    assert cluster.members == ["uk", "en-1", "en-2"] and cluster.representative == kept


def test_an_index_run_keeps_its_new_stories_by_the_preference_and_a_held_story_by_its_held_copy(location):
    """prefer_lang is chosen at each opening of an index (it shapes nothing the index stores): a
    story new to the index keeps its preferred copy; a story held already stays represented by
    its held article, kept by an earlier run, and all of its new copies are dropped, whatever
    their language (the story was seen)."""
    from dedup import Index

    today = [("mixed", MIXED), ("en", EN), ("en-updated", EN_UPDATED), ("uk-other", OTHER_UK)]
    Index.open(location).close()  # (made without a preference)
    for prefer, kept in ((None, "mixed"), ("en", "en-updated"), ("de,en", "en-updated"), ("de", "mixed")):
        result = find_duplicates(today, index=location, add_to_index=False, prefer_lang=prefer)
        (cluster,) = result.clusters
        assert cluster.members == ["mixed", "en", "en-updated"] and cluster.representative == kept
        assert result.summary["params"]["prefer_lang"] == (None if prefer is None else prefer.split(","))
    with Index.open(location) as idx:
        idx.add("held", MIXED + " Оновлено.")  # (the story, kept by an earlier run)
    for prefer in (None, "en"):
        result = find_duplicates(today, index=location, add_to_index=False, prefer_lang=prefer)
        (cluster,) = result.clusters
        assert cluster.held == ["held"] and cluster.representative == "held"
        assert result.duplicates == {"mixed", "en", "en-updated"}


@pytest.mark.parametrize(
    ("prefer", "rule", "kept"),
    [("en", "longest", "en-2"), ("de,en", "first", "en-1"), ("uk", "longest", None), (None, "longest", None)],
)
def test_explain_says_when_the_kept_copy_was_chosen_by_language(prefer, rule, kept):
    from dedup.explain import explain

    e = explain(
        mixed_story(),
        "uk",
        "en-1",
        cross_lingual=True,
        xling_embeddings="no",
        prefer_lang=prefer,
        representative=rule,
    )
    assert e.merged
    notes = [n for n in e.notes if "chosen by language" in n]
    if kept is None:  # (no preference, or the rule alone keeps a member in the preferred language)
        assert notes == []
        return
    expected = (
        f"cluster 0 keeps {kept} (en), chosen by language: prefer_lang {prefer} keeps a member in en "
        f"first (the {rule} rule alone would keep uk, in uk)"
    )
    assert notes == [expected] and expected in e.to_text(width=400)
