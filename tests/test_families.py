"""Big families cost their size, not its square: exact copies are one member, large groups are
verified against leaders, and the outputs hold the pairs that made each cluster (issue 21)."""

import json
import random
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import Detector, Params, find_duplicates
from dedup.cluster import FAMILY_SIZE
from dedup.explain import explain
from dedup.features import Featurizer, content_key
from dedup.io.article import Article

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from _data import DATASETS, load_set  # noqa: E402

STORY = (
    "The central bank of Italy raised its main interest rate by half a point on Thursday, "
    "citing inflation that stayed above 8 percent for the fourth month in a row. "
    "Governor Ignazio Visco said further increases could follow in the spring."
)
REWRITE = (
    "Italy's central bank lifted its key interest rate by half a point on Thursday, "
    "pointing to inflation that remained over 8 percent for a fourth straight month. "
    "Governor Ignazio Visco said more increases could come in spring."
)
OTHER = (
    "Heavy snow closed several mountain passes in the Alps on Sunday, and rescue teams "
    "warned hikers of a high avalanche risk across the region until midweek."
)
# The same text as STORY once normalised: case, punctuation and spacing differ.
STORY_AGAIN = STORY.upper().replace(",", "").replace("  ", " ").replace(" in a row", "  in a row")


def test_a_copy_differing_in_case_punctuation_and_spacing_has_the_same_content_key():
    f = Featurizer()
    assert f(STORY).content == f(STORY_AGAIN).content != 0
    assert f(STORY).content != f(REWRITE).content
    assert f(STORY.replace("8 percent", "9 percent")).content != f(STORY).content  # a number differs


def test_a_text_with_nothing_to_compare_is_nobodys_copy():
    assert content_key(np.zeros(0, dtype=np.uint64), np.zeros(0), "en") == 0
    result = find_duplicates([("a", "!!!"), ("b", "!!!"), ("c", STORY)])
    assert result.clusters == [] and result.summary["exact_copies"] == {"articles": 0, "texts": 0}


def test_exact_copies_are_one_cluster_with_exact_pairs_and_no_candidate():
    result = find_duplicates([("a", STORY), ("b", STORY_AGAIN), ("c", OTHER), ("d", STORY)])
    assert [c.members for c in result.clusters] == [["a", "b", "d"]]
    assert [(p.a, p.b, p.kind, p.score, p.cosine) for p in result.pairs] == [
        ("a", "b", "exact", 1.0, 1.0),
        ("a", "d", "exact", 1.0, 1.0),
    ]
    assert result.summary["exact_copies"] == {"articles": 2, "texts": 1}
    assert result.summary["candidates"]["pairs"] == 0  # the copies were never compared
    assert result.summary["articles"]["removed_as_duplicates"] == 2


def test_copies_join_the_cluster_their_text_is_in():
    articles = [("a", STORY), ("b", REWRITE), ("c", STORY_AGAIN), ("d", OTHER), ("e", REWRITE)]
    result = find_duplicates(articles)
    assert [c.members for c in result.clusters] == [["a", "b", "c", "e"]]
    kinds = {(p.a, p.b): p.kind for p in result.pairs}
    assert kinds[("a", "c")] == kinds[("b", "e")] == "exact"
    assert kinds[("a", "b")] == "verified"


def test_all_pairs_compares_copies_like_any_two_articles():
    articles = [("a", STORY), ("b", STORY_AGAIN), ("c", OTHER)]
    result = find_duplicates(articles, all_pairs=True)
    assert [c.members for c in result.clusters] == [["a", "b"]]
    assert [(p.a, p.b, p.kind) for p in result.pairs] == [("a", "b", "verified")]
    assert result.summary["exact_copies"]["articles"] == 0


@pytest.mark.parametrize("workers", [1, 2])
def test_copies_found_in_batches_from_workers_as_one_at_a_time(workers):
    """add_many (packed batches, maybe from worker processes) and add (one at a time) agree."""
    texts = [STORY, REWRITE, OTHER] * 400  # copies within a batch and across batches
    articles = [Article(f"x{k:04d}", t) for k, t in enumerate(texts)]
    many = Detector(Params())
    many.add_many(articles, workers=workers)
    one = Detector(Params())
    for a in articles[:600]:
        one.add(a)
    one.add_many(articles[600:])
    for det in (many, one):
        result = det.finish()
        assert [len(c.members) for c in result.clusters] == [800, 400]
        assert result.summary["exact_copies"] == {"articles": 1197, "texts": 3}
        assert result.summary["candidates"]["pairs"] == 1  # the story and its rewrite, once


def test_explain_says_two_copies_are_exact_copies():
    articles = [("a", STORY), ("b", OTHER), ("c", STORY_AGAIN)]
    why = explain(articles, "a", "c")
    assert why.merged and why.clustering.method == "exact"
    assert "exact copies" in why.candidates.note and why.articles == 3


# ---------------------------------------------------------------------------------------------
# The linkage of a family's units


@pytest.mark.parametrize("seed", range(5))
def test_average_linkage_of_single_members_is_scipys(seed):
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    from dedup.cluster import average_linkage

    rng = np.random.default_rng(seed)
    points = rng.random((30, 3))
    dist = np.linalg.norm(points[:, None] - points[None], axis=2)  # (no ties)
    ours = average_linkage(dist, np.ones(30))
    theirs = linkage(squareform(dist, checks=False), method="average")
    np.testing.assert_allclose(ours, theirs)


@pytest.mark.parametrize("seed", range(5))
def test_a_weighted_leaf_counts_as_its_members(seed):
    """A leaf of weight w is w members at distance 0 from each other: the tree over the leaves
    has the merge heights of the tree over all the members, less its zero-height merges."""
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    from dedup.cluster import average_linkage

    rng = np.random.default_rng(seed)
    points = rng.random((12, 2))
    weights = rng.integers(1, 5, 12)
    dist = np.linalg.norm(points[:, None] - points[None], axis=2)
    expanded = np.repeat(np.repeat(dist, weights, axis=0), weights, axis=1)
    full = linkage(squareform(expanded, checks=False), method="average")
    ours = average_linkage(dist, weights)
    np.testing.assert_allclose(ours[:, 2], full[full[:, 2] > 1e-12, 2])
    assert ours[-1, 3] == weights.sum()


def test_family_units_gather_each_member_with_its_tight_neighbours():
    from dedup.cluster import family_units

    # 0-1-2-3 tight around 1; 4-5 tight; 6 alone; 3-4 verified but not tight
    edges = np.array([[0, 1], [1, 2], [1, 3], [4, 5], [3, 4], [5, 6]])
    scores = np.array([0.9, 0.95, 0.85, 0.9, 0.5, 0.4])
    unit, leaders = family_units(7, edges, scores, tight=0.8)
    assert leaders.tolist() == [1, 4, 6]
    assert unit.tolist() == [0, 0, 0, 0, 1, 1, 2]


def test_a_family_of_two_tight_stories_is_split_and_one_of_near_copies_kept_whole():
    """Two stories of 40 near-copies each, whose members score 0.45 across (verified: over the
    threshold) and 0.9 within: one component, two clusters, the stories' cohesion says so."""
    from dedup.cluster import split_family

    story = np.repeat([0, 1], 40)
    members = np.arange(80) * 3  # (indices of a larger run)
    i, j = np.triu_indices(80, 1)
    asked = []

    def score_pairs(pairs):
        asked.append(len(pairs))
        a, b = np.searchsorted(members, pairs[:, 0]), np.searchsorted(members, pairs[:, 1])
        return np.where(story[a] == story[b], 0.9, 0.45).astype(np.float32)

    edges = np.stack([members[i], members[j]], axis=1)
    scores = score_pairs(edges)
    asked.clear()
    parts = split_family(members, edges, scores, score_pairs, threshold=0.34, cohesion=0.63, samples=3)
    assert [p.tolist() for p in parts] == [members[:40].tolist(), members[40:].tolist()]
    assert sum(asked) <= 15  # two units of three samples: 15 pairs, not 3,160
    one = split_family(
        members[:40], edges[(i < 40) & (j < 40)], scores[(i < 40) & (j < 40)], score_pairs, 0.34, 0.63
    )
    assert [p.tolist() for p in one] == [members[:40].tolist()]


# ---------------------------------------------------------------------------------------------
# Big families of real articles: what the exhaustive linkage finds


def _light_edits(articles, edits, seed=3):
    """Each article and ``edits`` light edits of it (2% of the words dropped, 2% with two letters
    swapped, three boilerplate lines added), which go with the article's gold cluster."""
    from tune import noisy

    rng = random.Random(seed)
    out = []
    for a in articles:
        out.append(a)
        out.extend(
            {**a, "id": f"{a['id']}~{k}", "text": noisy(a["text"], rng, drop=0.02, swap=0.02)}
            for k in range(edits)
        )
    return out


@pytest.mark.skipif(
    not all((p / "articles.jsonl.gz").exists() for p in DATASETS.values()), reason="no dev sets"
)
@pytest.mark.parametrize(
    ("name", "stories", "edits"),
    [("v3", 8, 8), ("ecb", 10, 8)],
    ids=["v3: rival outlets' takes, 8 stories x 9", "ecb: look-alike events, 10 topics x 9"],
)
def test_big_families_give_the_clusters_of_the_exhaustive_linkage(name, stories, edits):
    """Families of 80-100 members (over FAMILY_SIZE) clustered from their units give exactly the
    clusters that verifying and linking all their pairs gives (all_pairs=True), on the two real
    sets where telling stories apart is hardest, for a fraction of the pairs."""
    articles = load_set(name, None if name == "ecb" else "en")
    key = "topic" if name == "ecb" else "cluster"
    chosen = sorted({a[key] for a in articles})[:stories]
    big = _light_edits([a for a in articles if a[key] in chosen], edits)
    families = find_duplicates(big)
    exhaustive = find_duplicates(big, all_pairs=True)
    assert max(len(c.members) for c in exhaustive.clusters) > FAMILY_SIZE  # (the family path ran)
    assert sorted(c.members for c in families.clusters) == sorted(c.members for c in exhaustive.clusters)
    assert families.summary["candidates"]["pairs"] < 0.8 * exhaustive.summary["candidates"]["pairs"]


# ---------------------------------------------------------------------------------------------
# What the outputs list


class _P:
    def __init__(self, a, b, score, kind="verified"):
        self.a, self.b, self.score, self.kind = a, b, score, kind


def test_spanning_pairs_prefer_the_representative_then_copies_then_scores():
    from dedup.cluster import spanning_pairs

    pairs = [
        _P("a", "b", 0.9),
        _P("a", "c", 0.5),  # with the representative: kept over b-c's 0.95
        _P("b", "c", 0.95),
        _P("b", "d", 0.6),
        _P("c", "d", 0.7),
        _P("d", "e", 1.0, "exact"),  # (e is d's copy: the exact pair is taken first)
        _P("c", "e", 0.99),  # then d and e's best way in
        _P("x", "y", 0.8),  # another cluster
        _P("a", "x", 0.4),  # across clusters: never listed
    ]
    kept, missing = spanning_pairs([("a", ["a", "b", "c", "d", "e", "f"]), ("y", ["x", "y"])], pairs)
    assert [(pairs[k].a, pairs[k].b) for k in kept] == [
        ("a", "b"),
        ("a", "c"),
        ("d", "e"),
        ("c", "e"),
        ("x", "y"),
    ]
    assert missing == [("a", "f")]  # f was joined by the linkage, with no listed pair


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_spanning_positions_make_the_tree_spanning_pairs_make(data):
    """The array form the local engine uses (article positions, ranks of ids) and the id form
    Spark uses give the same tree and the same members left out, ties included."""
    from dedup.cluster import spanning_pairs, spanning_positions

    n = data.draw(st.integers(2, 14))
    ids = data.draw(st.permutations([f"id{k:02d}" for k in range(n)]))
    label = data.draw(st.lists(st.integers(-1, 2), min_size=n, max_size=n))
    groups = [np.array([x for x in range(n) if label[x] == c]) for c in range(3)]
    groups = [g for g in groups if len(g) >= 2]
    reps = np.array([int(data.draw(st.sampled_from(g.tolist()))) for g in groups], dtype=np.int64)
    drawn = data.draw(
        st.lists(
            st.tuples(
                st.integers(0, n - 1), st.integers(0, n - 1), st.sampled_from([0.5, 0.7, 1.0]), st.booleans()
            ),
            max_size=30,
        )
    )
    drawn = list({(min(a, b), max(a, b)): (s, e) for a, b, s, e in drawn if a != b}.items())
    pairs = [_P(*sorted((ids[a], ids[b])), s, "exact" if e else "verified") for (a, b), (s, e) in drawn]
    kept, missing = spanning_pairs(
        [(ids[r], [ids[x] for x in g]) for r, g in zip(reps, groups, strict=True)], pairs
    )
    at = np.array([ab for ab, _ in drawn], dtype=np.int64).reshape(-1, 2)
    rank = np.argsort(np.argsort(np.array(ids)))
    kept2, missing2 = spanning_positions(
        groups,
        reps,
        at,
        np.array([e for _, (_, e) in drawn], dtype=bool),
        np.array([s for _, (s, _) in drawn]),
        rank,
    )
    assert kept2.tolist() == kept
    assert [(ids[r], ids[x]) for r, x in missing2] == missing


def test_pairs_list_one_pair_per_duplicate_and_all_pairs_every_verified_pair():
    from tune import noisy

    rng = random.Random(0)
    texts = [STORY] + [noisy(STORY, rng, drop=0.03, swap=0.0, boilerplate=0) for _ in range(29)] + [OTHER]
    articles = [(f"a{k:02d}", t) for k, t in enumerate(texts)]
    result = find_duplicates(articles)
    every = find_duplicates(articles, all_pairs=True)
    (cluster,) = result.clusters
    assert [c.members for c in every.clusters] == [cluster.members]
    assert len(result.pairs) == len(cluster.members) - 1  # a spanning tree, not 435 pairs
    assert {p.b if p.a == cluster.representative else p.a for p in result.pairs} >= set(
        cluster.duplicates[:1]
    )
    assert len(every.pairs) == every.summary["candidates"]["verified_pairs"] > 300
    assert result.summary["candidates"]["listed_pairs"] == len(result.pairs)
    listed = {(p.a, p.b) for p in result.pairs}
    assert listed <= {(p.a, p.b) for p in every.pairs}  # each a verified pair, with its score


def test_the_cli_writes_a_spanning_tree_and_every_pair_with_all_pairs(tmp_path):
    from click.testing import CliRunner

    from dedup.cli import main

    texts = [STORY, STORY_AGAIN, REWRITE, REWRITE.lower(), OTHER]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"a{k}", "text": t}) + "\n" for k, t in enumerate(texts)))
    counts = {}
    for flag in ("--families", "--all-pairs"):
        out = tmp_path / flag.strip("-")
        done = CliRunner().invoke(main, ["run", str(src), "--out", str(out), "--quiet", flag])
        assert done.exit_code == 0, done.output
        rows = [json.loads(x) for x in (out / "pairs.jsonl").read_text().splitlines()]
        counts[flag] = sorted((r["a"], r["b"], r["kind"]) for r in rows)
    assert (
        counts["--families"] == [("a0", "a1", "exact"), ("a0", "a2", "verified"), ("a2", "a3", "exact")]
        or len(counts["--families"]) == 3
    )
    assert len(counts["--all-pairs"]) == 6 and {k for *_, k in counts["--all-pairs"]} == {"verified"}
