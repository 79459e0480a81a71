"""Cross-lingual matches in the persistent index (``Index.open(..., cross_lingual=True)``), on
SQLite and on Redis: a translation added later finds its held source, with its language; a batch
added to an empty index links as a batch run over the same articles does."""

from __future__ import annotations

import json

import pytest
from test_crosslingual import EN, OTHER_UK, UK, json_text, needs_embeddings

from dedup import find_duplicates
from dedup.index.index import Index, IndexFileError


def test_a_translation_added_later_is_matched_with_its_held_source(location):
    with Index.open(location, cross_lingual=True, xling_embeddings="no") as idx:
        assert idx.add_many([("uk", UK), ("uk-other", OTHER_UK)]) == [[], []]
        (asked,) = idx.query(EN)  # (nothing stored)
        assert len(idx) == 2 and idx.links() == []
        (found,) = idx.add("en", EN)
        assert found == asked
        assert (found.id, found.kind, found.lang) == ("uk", "cross_lingual", "uk")
        assert found.margin >= idx.params.link_margin(False) and found.score == 0.0
        (link,) = idx.links()
        assert (link.a, link.b, link.lang_a, link.lang_b) == ("uk", "en", "uk", "en")
        assert (link.cosine, link.margin) == (found.cosine, found.margin)
        # a rewrite of the English article joins its group, and so its story
        (same, across) = idx.add("en-copy", EN + " Kirby added nothing.")
        assert (same.id, same.kind, across.id, across.kind) == ("en", "duplicate", "uk", "cross_lingual")


def test_a_removed_source_leaves_no_link_behind(location):
    with Index.open(location, cross_lingual=True, xling_embeddings="no") as idx:
        idx.add_many([("uk", UK), ("uk-other", OTHER_UK), ("en", EN)])
        assert len(idx.links()) == 1
        idx.remove("uk")
        assert idx.links() == []
        assert [m.kind for m in idx.query(UK)] == ["cross_lingual"]  # (the English one is held)


def test_a_cross_lingual_index_keeps_its_cross_lingual_parameters(tmp_path):
    plain, linked = tmp_path / "plain.db", tmp_path / "linked.db"
    Index.open(plain).close()
    with pytest.raises(IndexFileError, match="made with cross_lingual=False, not True"):
        Index.open(plain, cross_lingual=True)
    Index.open(linked, cross_lingual=True, xling_embeddings="no", xling_threshold=1.3).close()
    with pytest.raises(IndexFileError, match="made with xling_threshold=1.3, not 1.5"):
        Index.open(linked, xling_threshold=1.5)
    with pytest.raises(IndexFileError, match="made with xling_embeddings='no', not 'yes'"):
        Index.open(linked, xling_embeddings="yes")
    with Index.open(linked, xling_embeddings="auto") as idx:  # ("auto" was resolved when made)
        assert idx.params.cross_lingual and idx.params.xling_embeddings == "no"


def dev_subset(dev_all: list[dict], every: int, per_source: int = 2) -> list[tuple[str, str]]:
    """Every ``every``-th story of the dev set: its source and ``per_source`` English translations."""
    order = {c: k for k, c in enumerate(dict.fromkeys(a["cluster"] for a in dev_all))}
    seen: dict[str, int] = {}
    out = []
    for a in dev_all:
        if order[a["cluster"]] % every == 0 and (a["lang"] != "en" or seen.get(a["cluster"], 0) < per_source):
            seen[a["cluster"]] = seen.get(a["cluster"], 0) + (a["lang"] == "en")
            out.append((a["id"], a["text"]))
    return out


@pytest.fixture(scope="module")
def dev_all():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from _data import WMT_DEV, load_wmt

    if not (WMT_DEV / "articles.jsonl.gz").exists():
        pytest.skip(f"dev data not found at {WMT_DEV}")
    return load_wmt(None)


def links_of(links) -> set[tuple[frozenset[str], float, float]]:
    return {(frozenset((x.a, x.b)), x.cosine, x.margin) for x in links}


def test_a_dev_subset_added_in_one_batch_links_as_a_run_does(location, dev_all):
    """74 stories (their sources and two English translations each) added to an empty index in
    one batch: the links it holds, cosines and margins included, are the batch run's."""
    articles = dev_subset(dev_all, 3)
    run = find_duplicates(articles, cross_lingual=True, xling_embeddings="no", workers=2)
    with Index.open(location, cross_lingual=True, xling_embeddings="no") as idx:
        found = idx.add_many(articles, batch=len(articles))
        assert len(run.links) > 50 and links_of(idx.links()) == links_of(run.links)
    lang = run.languages
    across = {
        frozenset((x, y)) for c in run.clusters for x in c.members for y in c.members if lang[x] != lang[y]
    }
    reported = {
        frozenset((i, m.id))
        for (i, _), ms in zip(articles, found, strict=True)
        for m in ms
        if m.kind == "cross_lingual"
    }
    assert reported == across


@needs_embeddings
def test_a_dev_subset_with_embeddings_links_as_a_run_does(tmp_path, dev_all):
    articles = dev_subset(dev_all, 8)  # (28 stories: embedding takes ~50 ms a text)
    run = find_duplicates(articles, cross_lingual=True, xling_embeddings="yes", workers=2)
    with Index.open(tmp_path / "news.db", cross_lingual=True, xling_embeddings="yes") as idx:
        idx.load(articles)
        assert len(run.links) > 10 and links_of(idx.links()) == links_of(run.links)


def test_dedup_run_against_a_cross_lingual_index_links_to_held_stories(tmp_path):
    from click.testing import CliRunner

    from dedup import cli

    monday, tuesday = tmp_path / "mon.jsonl", tmp_path / "tue.jsonl"
    monday.write_text(
        f'{{"id": "uk", "text": {json_text(UK)}}}\n{{"id": "uk-other", "text": {json_text(OTHER_UK)}}}\n'
    )
    tuesday.write_text(f'{{"id": "en", "text": {json_text(EN)}}}\n')
    index = str(tmp_path / "news.db")
    first = ["run", str(monday), "--index", index, "--cross-lingual", "--xling-embeddings", "no", "-o"]
    assert CliRunner().invoke(cli.main, [*first, str(tmp_path / "o1")]).exit_code == 0
    done = CliRunner().invoke(cli.main, ["run", str(tuesday), "--index", index, "-o", str(tmp_path / "o2")])
    assert done.exit_code == 0, done.output
    assert "1 links to held ones in other languages" in done.output
    (link,) = [json.loads(x) for x in (tmp_path / "o2" / "links.jsonl").read_text().splitlines()]
    assert (link["a"], link["b"], link["lang_a"], link["lang_b"]) == ("en", "uk", "en", "uk")
    (cluster,) = [json.loads(x) for x in (tmp_path / "o2" / "clusters.jsonl").read_text().splitlines()]
    assert cluster["held"] == ["uk"] and cluster["members"] == ["uk", "en"]
    assert (tmp_path / "o2" / "deduplicated.jsonl").read_text() == ""
    asked = CliRunner().invoke(cli.main, ["index", "query", index, str(tuesday)])
    row = json.loads(asked.stdout.splitlines()[0])
    assert [(m["id"], m["kind"], m["lang"]) for m in row["matches"]] == [
        ("en", "duplicate", None),
        ("uk", "cross_lingual", "uk"),
    ]
