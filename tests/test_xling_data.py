"""The held-out set builder's pure parts (benchmarks/xling_data.py) on a hand-made WMT sample:
no mirror, no network."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from xling_data import (  # noqa: E402
    Part,
    build_part,
    domain_of,
    look_alikes,
    paragraphs,
    parse_wmt_xml,
    read_file,
    screen_systems,
    select_docs,
    tokens,
)

# Three stories in French with their German references; the third is too short for the long sets.
STORIES_FR = [
    [
        "Le conseil municipal de Lyon a voté mardi un budget de 12 millions d'euros.",
        "Les travaux du pont Wilson commenceront en mars.",
        "Le maire Grégory Doucet a salué un accord historique.",
        "L'opposition dénonce une dépense inutile.",
        "Le chantier doit durer deux ans.",
        "La circulation sera déviée par le quai Augagneur.",
    ],
    [
        "Un incendie a ravagé 300 hectares de forêt près de Marseille.",
        "Plus de 500 pompiers ont lutté toute la nuit contre les flammes.",
        "Deux villages ont été évacués par précaution.",
        "Le vent violent a compliqué l'intervention des canadairs.",
        "Aucune victime n'est à déplorer selon la préfecture.",
    ],
    [
        "Le PSG a battu Nantes 3 à 1 samedi soir.",
        "Kylian Mbappé a marqué deux buts.",
        "L'entraîneur s'est dit satisfait.",
    ],
]
STORIES_DE = [
    [
        "Der Stadtrat von Lyon hat am Dienstag ein Budget von 12 Millionen Euro beschlossen.",
        "Die Arbeiten an der Wilson-Brücke beginnen im März.",
        "Bürgermeister Grégory Doucet begrüßte eine historische Einigung.",
        "Die Opposition kritisiert eine unnötige Ausgabe.",
        "Die Baustelle soll zwei Jahre dauern.",
        "Der Verkehr wird über den Quai Augagneur umgeleitet.",
    ],
    [
        "Ein Feuer hat 300 Hektar Wald bei Marseille zerstört.",
        "Mehr als 500 Feuerwehrleute kämpften die ganze Nacht gegen die Flammen.",
        "Zwei Dörfer wurden vorsorglich evakuiert.",
        "Der starke Wind erschwerte den Einsatz der Löschflugzeuge.",
        "Nach Angaben der Präfektur gab es keine Opfer.",
    ],
    [
        "PSG hat Nantes am Samstagabend mit 3:1 geschlagen.",
        "Kylian Mbappé erzielte zwei Tore.",
        "Der Trainer zeigte sich zufrieden.",
    ],
]
# "Copy-MT" left the first story untranslated (that member is skipped); "Online-X" output an
# unrelated text and "Holey-MT" left most segments empty: both are screened out.
JUNK = ["Xyz qqq.", "Abc rrr.", "Uvw sss.", "Def ttt.", "Ghi uuu.", "Jkl vvv."]


def segs(sentences: list[str], empty: tuple[int, ...] = ()) -> str:
    return "".join(f'<seg id="{i + 1}">{"" if i in empty else s}</seg>' for i, s in enumerate(sentences))


def sample(collection: bool = False) -> str:
    docs = []
    for n, (fr, de) in enumerate(zip(STORIES_FR, STORIES_DE, strict=True)):
        domain = ' domain="news"' if n == 0 else ""
        docs.append(
            f'<doc origlang="fr" id="story.{n}"{domain}>'
            f'<src lang="fr"><p>{segs(fr)}</p></src>'
            f'<ref lang="de" translator="A"><p>{segs(de)}</p></ref>'
            f'<hyp system="Good-MT" lang="de"><p>{segs(de)}</p></hyp>'
            f'<hyp system="Copy-MT" lang="de"><p>{segs(fr if n == 0 else de)}</p></hyp>'
            f'<hyp system="Holey-MT" lang="de"><p>{segs(de, empty=(1, 2))}</p></hyp>'
            f'<hyp system="Online-X" lang="de"><p>{segs(JUNK[: len(de)])}</p></hyp>'
            "</doc>"
        )
    body = "".join(docs)
    if collection:
        body = (
            f'<collection id="general">{body}</collection><collection id="testsuite">'
            '<doc id="t1" origlang="fr"><src lang="fr"><p><seg id="1">x</seg></p></src></doc></collection>'
        )
    return f"<?xml version='1.0' encoding='utf-8'?><dataset id='newstest'>{body}</dataset>"


def test_a_wmt_file_reads_into_documents_with_source_references_and_outputs():
    docs = parse_wmt_xml(sample())
    assert [d.id for d in docs] == ["story.0", "story.1", "story.2"]
    first = docs[0]
    assert first.origlang == "fr" and first.domain == "news" and docs[1].domain is None
    assert first.src.lang == "fr" and list(first.src.segments) == ["1", "2", "3", "4", "5", "6"]
    assert first.src.paragraphs == [["1", "2", "3", "4", "5", "6"]]
    assert first.refs["A"].segments["1"] == STORIES_DE[0][0]
    assert sorted(first.hyps) == ["Copy-MT", "Good-MT", "Holey-MT", "Online-X"]
    assert first.hyps["Holey-MT"].segments["3"] == ""


def test_collections_are_read_and_the_ones_not_general_are_left_out():
    docs = parse_wmt_xml(sample(collection=True))
    assert [d.collection for d in docs] == ["general"] * 3 + ["testsuite"]
    kept, left_out = select_docs(docs, Part("wmt22", "fr-de", min_segments=1))
    assert [d.id for d in kept] == ["story.0", "story.1", "story.2"] and left_out["test suite"] == 1


def test_a_malformed_file_names_the_document():
    with pytest.raises(ValueError, match="doc 'd1'"):
        parse_wmt_xml('<dataset><doc id="d1"><src><p><seg id="1">x</seg></p></src></doc></dataset>', "f.xml")


def test_the_domain_comes_from_the_attribute_or_the_id():
    docs = parse_wmt_xml(
        '<dataset><doc id="social_ru_3"><src lang="ru"><p><seg id="1">x</seg></p></src></doc>'
        '<doc id="test_uk_1"><src lang="uk"><p><seg id="1">x</seg></p></src></doc></dataset>'
    )
    assert [domain_of(d) for d in docs] == ["social", None]


def test_japanese_is_compared_by_characters_and_latin_by_words():
    assert tokens("Tokyo 東京都") == ["tokyo", "東", "京", "都"]
    assert tokens("東京都", cjk=2) == ["東京", "京都"]


def test_degenerate_systems_are_screened_out():
    screening = screen_systems(parse_wmt_xml(sample()))
    assert screening["Online-X"]["kept"] is False and screening["Online-X"]["median_jaccard_to_ref"] < 0.2
    assert screening["Holey-MT"]["kept"] is False and screening["Holey-MT"]["empty_share"] > 0.05
    assert screening["Good-MT"]["kept"] is True


def test_random_paragraphs_keep_every_sentence_in_order_and_depend_on_the_seed():
    side = parse_wmt_xml(sample())[0].src
    layouts = {seed: paragraphs(side, "random-2-4", seed) for seed in range(20)}
    for layout in layouts.values():
        assert [s for p in layout for s in p] == list(side.segments)
        assert all(2 <= len(p) <= 4 for p in layout[:-1])
    assert len({str(v) for v in layouts.values()}) > 1
    assert paragraphs(side, "random-2-4", 7) == layouts[7]
    assert paragraphs(side, "one", 0) == [list(side.segments)]


def test_empty_segments_are_left_out_of_the_paragraphs():
    holey = parse_wmt_xml(sample())[0].hyps["Holey-MT"]
    assert paragraphs(holey, "xml", 0) == [["1", "4", "5", "6"]]


def test_a_part_makes_one_cluster_per_document_without_copies_or_junk():
    docs = parse_wmt_xml(sample())
    rows, meta = build_part(docs, Part("wmt21", "fr-de", systems=6, min_segments=5))
    assert meta["documents_kept"] == 2 and meta["left_out"] == {"fewer than 5 segments": 1}
    assert meta["systems_kept"] == ["Copy-MT", "Good-MT"]
    assert meta["members_skipped"] == {"copy of the source": 1}
    assert sorted(r["id"] for r in rows) == [
        f"wmt21.fr-de.story.{n}::{m}" for n, m in [(0, "Good-MT"), (0, "ref-A"), (0, "src")]
    ] + [f"wmt21.fr-de.story.1::{m}" for m in ("Copy-MT", "Good-MT", "ref-A", "src")]
    good = next(r for r in rows if r["id"] == "wmt21.fr-de.story.0::Good-MT")
    assert good["lang"] == "de" and good["origlang"] == "fr" and good["cluster"] == "wmt21.fr-de.story.0"
    assert good["domain"] == "news" and good["pair"] == "fr-de" and good["system"] == "Good-MT"
    assert all(sentence in good["text"] for sentence in STORIES_DE[0])
    assert [s for p in good["seg_ids"] for s in p] == ["1", "2", "3", "4", "5", "6"]
    assert good["text"].count("\n\n") == len(good["seg_ids"]) - 1


def test_near_copies_of_an_earlier_source_are_left_out():
    canned = "Thank you for taking the time to chat to me today, have a wonderful day."
    xml = "".join(
        f'<doc id="c{n}" domain="conversation"><src lang="en"><p><seg id="1">{text}</seg></p></src></doc>'
        for n, text in enumerate([canned, "Hello! " + canned, "Where is my parcel? It was due on Monday."])
    )
    kept, left_out = select_docs(
        parse_wmt_xml(f"<dataset>{xml}</dataset>"), Part("wmt22", "en-de", min_segments=1)
    )
    assert [d.id for d in kept] == ["c0", "c2"]
    assert left_out == {"near-copy of an earlier document's source": 1}


def test_look_alikes_find_two_stories_told_with_the_same_words():
    rows = [
        {"cluster": "a", "lang": "de", "system": "ref-A", "origlang": "fr", "text": " ".join(STORIES_DE[0])},
        {
            "cluster": "b",
            "lang": "de",
            "system": "src",
            "origlang": "de",
            "text": " ".join(STORIES_DE[0][1:4]),
        },
        {
            "cluster": "c",
            "lang": "de",
            "system": "src",
            "origlang": "de",
            "text": "Heute regnet es in Hamburg.",
        },
    ]
    found = look_alikes(rows)
    assert found["pairs"] == 1 and found["top"][0]["a"] == "a" and found["top"][0]["b"] == "b"
    assert found["pairs_of_different_source_languages"] == 1


def test_a_missing_mirror_is_one_line_saying_how_to_get_it(tmp_path):
    with pytest.raises(click.ClickException) as caught:
        read_file("wmt21", "fr-de", root=tmp_path)
    message = caught.value.format_message()
    assert "\n" not in message and "fetch" in message and "wmt21-news-systems" in message
