"""The synthetic multilingual corpus: deterministic by seed, families that hold a source and its
English translations, each story with names and numbers of its own, and a truth that says so."""

import gzip
import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import make_xling_corpus  # noqa: E402

_NUMBER = re.compile(r"\d{3,}")

# Six aligned segments (Russian source, two English translations), two a paragraph.
RU = [
    "Министр Петров посетил завод в Самаре {n} июля.",
    "Рабочие завода получили премию в размере {m} рублей.",
    "Директор Смирнов рассказал о новых планах компании.",
    "Строительство нового цеха начнется осенью этого года.",
    "В регионе открыли {k} новых школ и детских садов.",
    "Губернатор Козлов поддержал инициативу предприятия.",
]
EN = [
    [
        "Minister Petrov visited the plant in Samara on July {n}.",
        "Minister Petrov came to the Samara factory on {n} July.",
    ],
    [
        "The plant's workers received a bonus of {m} roubles.",
        "Factory workers were given a premium of {m} rubles.",
    ],
    [
        "Director Smirnov spoke about the company's new plans.",
        "Smirnov, the director, described the company's plans.",
    ],
    [
        "Construction of a new workshop will begin this autumn.",
        "Building of the new shop starts in the autumn.",
    ],
    [
        "{k} new schools and kindergartens were opened in the region.",
        "The region opened {k} new schools and nurseries.",
    ],
    [
        "Governor Kozlov supported the initiative of the enterprise.",
        "Governor Kozlov backed the company's initiative.",
    ],
]
UK = [
    "Міністр Петренко відвідав завод у Львові {n} липня.",
    "Працівники заводу отримали премію {m} гривень.",
    "Директор Шевченко розповів про нові плани компанії.",
    "Будівництво нового цеху почнеться восени.",
]
UK_EN = [
    [
        "Minister Petrenko visited the plant in Lviv on July {n}.",
        "Minister Petrenko came to a Lviv factory on {n} July.",
    ],
    [
        "The plant's workers received a bonus of {m} hryvnias.",
        "Factory workers got a premium of {m} hryvnias.",
    ],
    [
        "Director Shevchenko spoke about the company's new plans.",
        "Shevchenko, the director, told of new plans.",
    ],
    ["Construction of a new workshop will begin in autumn.", "Building of the new shop starts in autumn."],
]
SYSTEMS = ["sys-A", "sys-B"]


def _numbers(d: int) -> dict[str, int]:
    return {"n": 1000 + d, "m": 25000 + 7 * d, "k": 300 + d}


def _write(folder: Path, rows: list[dict]) -> None:
    folder.mkdir()
    with gzip.open(folder / "articles.jsonl.gz", "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """Dev sets in the real ones' format, small: two Russian sets with seg_ids, a Ukrainian one without."""
    root = tmp_path_factory.mktemp("data")
    seg_ids = [["1", "2"], ["3", "4"], ["5", "6"]]
    for key, year in (("v2", "wmt23"), ("v3", "wmt21")):
        rows = []
        for d in range(3):
            cluster = f"{year}.ru-en.doc{d}"
            texts = {"src": [s.format(**_numbers(d)) for s in RU]}
            texts |= {sys_: [e[k].format(**_numbers(d)) for e in EN] for k, sys_ in enumerate(SYSTEMS)}
            for system, sentences in texts.items():
                paragraphs = [" ".join(sentences[2 * p : 2 * p + 2]) for p in range(3)]
                lang = "ru" if system == "src" else "en"
                row = {"id": f"{cluster}::{system}", "text": "\n\n".join(paragraphs), "cluster": cluster}
                rows.append(row | {"system": system, "lang": lang, "seg_ids": seg_ids})
        _write(root / key, rows)
    rows = []
    for d in range(3):
        cluster = f"wmt2023.uk-en.{d}"
        texts = {"src": [s.format(**_numbers(d)) for s in UK]}
        texts |= {sys_: [e[k].format(**_numbers(d)) for e in UK_EN] for k, sys_ in enumerate(SYSTEMS)}
        for system, sentences in texts.items():
            text = " ".join(sentences[:2]) + "\n\n" + " ".join(sentences[2:])
            rows.append({"id": f"{cluster}::{system}", "text": text, "cluster": cluster, "system": system,
                         "lang": "uk" if system == "src" else "en"})  # fmt: skip
    _write(root / "dev", rows)
    return make_xling_corpus.load_sources({"v2": root / "v2", "v3": root / "v3", "dev": root / "dev"})


def _made(sources, n, **options):
    lines = [(json.loads(a), json.loads(t)) for text, truth in make_xling_corpus.make(sources, n, **options)
             for a, t in zip(text.splitlines(), truth.splitlines(), strict=True)]  # fmt: skip
    return [a for a, _ in lines], [t for _, t in lines]


def test_documents_are_cut_into_the_units_every_member_renders(sources):
    assert {lang: len(docs) for lang, docs in sources.documents.items()} == {"ru": 6, "uk": 3}
    # v2/v3: each paragraph has as many sentences as segments: a unit a segment
    assert sources.units == {"ru": 6 * 6, "uk": 3 * 4}
    assert all(
        len(doc.en) == 2 and doc.systems == tuple(SYSTEMS)
        for docs in sources.documents.values()
        for doc in docs
    )


def test_the_same_seed_makes_the_same_corpus(sources):
    one, two, other = _made(sources, 300, seed=3), _made(sources, 300, seed=3), _made(sources, 300, seed=4)
    assert one == two and one != other
    assert len(one[0]) == 300 and len({a["id"] for a in one[0]}) == 300
    assert [a["id"] for a in one[0]] == [t["id"] for t in one[1]]


def test_languages_have_their_share_exactly(sources):
    _, truth = _made(sources, 600, seed=1)
    assert Counter(t["lang"] for t in truth) == {"en": 360, "ru": 150, "uk": 90}
    _, truth = _made(sources, 200, seed=1, languages={"en": 0.5, "ru": 0.5})
    assert Counter(t["lang"] for t in truth) == {"en": 100, "ru": 100}


def test_a_cross_language_family_holds_its_source_and_english_translations(sources):
    articles, truth = _made(sources, 600, seed=2)
    families: dict[str, list[dict]] = {}
    for t in truth:
        families.setdefault(t["family"], []).append(t)
    xling = [m for m in families.values() if m[0]["kind"] == "xling"]
    assert len(xling) > 10
    cut = max(families, key=lambda f: int(f[1:]))  # only the last family may be cut to make n
    for family, members in families.items():
        langs = {m["lang"] for m in members}
        kind = members[0]["kind"]
        if kind == "xling" and family != cut:
            assert "en" in langs and len(langs) == 2
            assert any(m["role"] == "source" for m in members)
            english = [m["system"] for m in members if m["role"] == "translation"]
            assert len(english) == len(set(english))  # each translation by another system
        if kind in ("same", "single"):
            assert len(langs) == 1
        if kind == "en":
            assert langs == {"en"}
    by_id = {a["id"]: a["text"] for a in articles}
    exact = [t for t in truth if t["role"] == "exact"]
    assert exact and all(by_id[t["id"]] == by_id[t["copy_of"]] for t in exact)


def test_each_story_has_its_own_names_and_numbers_in_every_language(sources):
    articles, truth = _made(sources, 600, seed=5)
    texts = {a["id"]: a["text"] for a in articles}
    assert not any(
        name in text for text in texts.values() for name in ("Petrov", "Петров", "Kozlov", "Петренко")
    )
    assert not any(str(_numbers(d)["m"]) in text for text in texts.values() for d in range(3))
    # the sound codes of capitalised words, wherever they stand, and the numbers
    names = {
        i: make_xling_corpus._name_codes(text)[0] | set(_NUMBER.findall(text)) for i, text in texts.items()
    }
    families: dict[str, list[str]] = {}
    for t in truth:
        if t["role"] in ("source", "translation"):
            families.setdefault(t["family"], []).append(t["id"])
    pairs = [(a, b) for ids in families.values() for a in ids for b in ids if a < b]
    assert pairs and all(names[a] & names[b] for a, b in pairs)  # a source and its translation share names
    stories = [ids[0] for ids in families.values()]
    shared = [len(names[a] & names[b]) / len(names[a] | names[b]) for a in stories for b in stories if a < b]
    assert sum(shared) / len(shared) < 0.2  # different stories mostly do not


def test_look_alikes_share_an_event_with_another_family(sources):
    _, truth = _made(sources, 800, seed=6)
    like = [t for t in truth if "like" in t]
    families = {t["family"] for t in truth}
    assert like and all(t["like"] in families and t["like"] != t["family"] for t in like)


def test_worker_processes_make_the_same_corpus(sources, monkeypatch):
    monkeypatch.setattr(make_xling_corpus, "BATCH", 40)
    assert _made(sources, 400, seed=7, workers=2) == _made(sources, 400, seed=7)


def test_the_command_writes_corpus_and_truth(sources, tmp_path, monkeypatch):
    from click.testing import CliRunner

    monkeypatch.setattr(make_xling_corpus, "load_sources", lambda: sources)
    out = tmp_path / "x.jsonl.gz"
    result = CliRunner().invoke(make_xling_corpus.main, ["50", "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    with gzip.open(out, "rt") as f, gzip.open(tmp_path / "x.truth.jsonl.gz", "rt") as t:
        rows, truth = [json.loads(line) for line in f], [json.loads(line) for line in t]
    assert [r["id"] for r in rows] == [t["id"] for t in truth] and len(rows) == 50
    assert not list(tmp_path.glob("*.tmp"))
    bad = CliRunner().invoke(make_xling_corpus.main, ["5", "--out", str(out), "--languages", "en=1"])
    assert bad.exit_code == 2 and "ru or uk above 0" in bad.output


def test_the_scale_benchmark_counts_the_pairs_listing_them_would():
    import itertools
    import random

    import xling_scale

    rng = random.Random(0)
    truth = {f"a{k}": (f"f{rng.randrange(8)}", rng.choice(["en", "ru", "uk"]), None) for k in range(60)}
    ids = list(truth)
    rng.shuffle(ids)
    clusters = [ids[k : k + rng.randint(1, 9)] for k in range(0, 60, 9)]
    counted = xling_scale.pair_counts(clusters, truth)
    listed = [(truth[a], truth[b]) for members in clusters for a, b in itertools.combinations(members, 2)]
    cross = [(x, y) for x, y in listed if x[1] != y[1]]
    assert counted["cross"]["all"] == len(cross)
    assert counted["cross"]["en-ru"] == sum({x[1], y[1]} == {"en", "ru"} for x, y in cross)
    assert counted["cross_true"]["all"] == sum(x[0] == y[0] for x, y in cross)
    assert counted["same"]["all"] == len(listed) - len(cross)
    assert counted["same_true"]["all"] == sum(x[0] == y[0] and x[1] == y[1] for x, y in listed)


def test_the_scale_benchmark_scores_clusters_and_links_against_the_families(tmp_path):
    import xling_scale

    truth = {  # two stories sharing a sentence, their translations, and a look-alike of the first
        "s0": ("f1", "ru", None), "e0": ("f1", "en", None), "e1": ("f1", "en", None),
        "s1": ("f2", "ru", None), "e2": ("f2", "en", None), "e3": ("f3", "en", "f1"),
    }  # fmt: skip
    clusters = [["s0", "e0", "e3"], ["s1", "e2"], ["e1"]]
    (tmp_path / "clusters.jsonl").write_text("".join(json.dumps({"members": c}) + "\n" for c in clusters))
    links = [("e0", "s0"), ("e3", "s0"), ("e2", "s1"), ("e1", "s1")]
    (tmp_path / "links.jsonl").write_text("".join(json.dumps({"a": a, "b": b}) + "\n" for a, b in links))
    families = xling_scale.pair_counts([["s0", "e0", "e1"], ["s1", "e2"], ["e3"]], truth)
    scores = xling_scale.quality(tmp_path, truth, families, set(), 3, lambda a, b: {a, b} == {"f1", "f2"})
    # found: s0-e0 (true), s0-e3 (a look-alike), s1-e2 (true); missed: s0-e1
    expected = {"precision": 0.6667, "recall": 0.6667, "f1": 0.6667, "pairs_found": 3, "true_pairs": 3}
    assert scores["cross"]["all"] == scores["cross"]["en-ru"] == expected
    assert scores["same"]["all"]["pairs_found"] == 1 and scores["same"]["all"]["precision"] == 0.0
    assert scores["links"] == {
        "links": 4,
        "right": 2,
        "look_alike": 1,
        "shared_sentences": 1,
        "wrong": 0,
        "precision": 0.5,
    }
