"""Every decision threshold is inclusive, exactly at its value: a pair whose score is the
threshold is a duplicate (local engine and index; the Spark engine's case is in test_spark.py),
a group whose mean similarity to another is the linkage cut merges with it, and a pair of
signatures agreeing on exactly ``min_jaccard`` is a candidate. The scores are taken unrounded
from the run itself (the outputs round them to 4 decimals), then given back as the threshold:
at it the pair is in, one float step above it the pair is out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dedup import find_duplicates
from dedup.cluster import cluster_pairs, cut_tree, linkage_tree
from dedup.engines.local import Detector, RunHook
from dedup.params import Params

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def translations() -> list[tuple[str, str]]:
    """The seeds' two machine translations of one ANSA article: one candidate pair."""
    return [(p.stem[:3], p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("00[04]_*.txt"))]


def above(x: float) -> float:
    """The next float after ``x``: the smallest threshold the score ``x`` misses."""
    return float(np.nextafter(x, 2.0))


class _Verified(RunHook):
    def verified(self, pairs, scores, measure) -> None:
        self.scores = scores.copy()


def exact_score(articles: list[tuple[str, str]], **params) -> float:
    """The unrounded score of the only candidate pair of ``articles``, as the run compares it."""
    from dedup.io.article import Article

    hook = _Verified()
    det = Detector(Params(threshold=0.0, **params), hook=hook)
    det.add_many(Article(i, t) for i, t in articles)
    det.finish()
    [score] = hook.scores.tolist()
    return score


@pytest.mark.parametrize(
    "params",
    [{}, {"sentence_weight": 0.0}, {"number_weight": 0.0}, {"sentence_order": False}],
    ids=["default", "cosine only", "no numbers", "match in any order"],
)
def test_a_pair_exactly_at_the_threshold_is_a_duplicate(translations, params):
    s = exact_score(translations, **params)
    assert 0.3 < s < 0.9  # (a real pair, not a degenerate 0 or 1)
    at = find_duplicates(translations, threshold=s, **params)
    assert [(p.a, p.b) for p in at.pairs] == [("000", "004")]
    assert [c.members for c in at.clusters] == [["000", "004"]]
    assert find_duplicates(translations, threshold=above(s), **params).pairs == []


def test_a_spilled_run_decides_the_boundary_alike(translations, tmp_path):
    s = exact_score(translations)
    assert len(find_duplicates(translations, threshold=s, spill_dir=tmp_path / "a").pairs) == 1
    assert find_duplicates(translations, threshold=above(s), spill_dir=tmp_path / "b").pairs == []


def test_an_index_match_exactly_at_the_threshold_is_a_match(translations, tmp_path, monkeypatch):
    import dedup.index.index
    from dedup.index.index import Index

    (a, text_a), (_, text_b) = translations
    seen: list[float] = []
    real = dedup.index.index.score

    def recording(*args, **kw):
        out = real(*args, **kw)
        seen.extend(out.tolist())
        return out

    monkeypatch.setattr(dedup.index.index, "score", recording)
    db = str(tmp_path / "news.db")
    with Index.open(db, threshold=0.0) as index:
        index.add(a, text_a)
        assert [m.id for m in index.query(text_b)] == [a]
    [s] = seen
    with Index.open(db, threshold=s) as index:
        [match] = index.query(text_b)
        assert match.id == a and match.score == round(s, 4)
    with Index.open(db, threshold=above(s)) as index:
        assert index.query(text_b) == []


def _three(sim_ab: float, sim_ac: float, sim_bc: float) -> np.ndarray:
    return np.array([[1.0, sim_ab, sim_ac], [sim_ab, 1.0, sim_bc], [sim_ac, sim_bc, 1.0]])


def _clusters(sim: np.ndarray, threshold: float, cohesion: float) -> list[list[int]]:
    pairs = np.array([(i, j) for i in range(len(sim)) for j in range(i + 1, len(sim)) if sim[i, j] > 0])
    groups = cluster_pairs(
        len(sim),
        pairs,
        similarity=lambda batch: [sim[np.ix_(g, g)] for g in batch],
        threshold=threshold,
        cohesion=cohesion,
    )
    return [g.tolist() for g in groups]


@pytest.mark.parametrize("cohesion", [0.0, 0.8], ids=["threshold only (fcluster)", "with cohesion"])
def test_a_group_whose_mean_is_exactly_the_cut_merges(cohesion):
    """c scores 0.7 and 0.1 with a and b: its mean with {a, b} is 0.4, which floats compute as
    0.39999999999999991. At a cut of 0.4 it merges (the cut allows for the rounding); at a cut
    a hair above, it stays out."""
    sim = _three(0.9, 0.7, 0.1)
    tree = linkage_tree(sim, "average")
    assert 1.0 - tree[-1, 2] < 0.4  # (the rounding the tolerance is for)
    assert _clusters(sim, 0.4, cohesion) == [[0, 1, 2]]
    assert _clusters(sim, 0.4 + 1e-6, cohesion) == [[0, 1]]
    assert sorted(map(sorted, (p.tolist() for p in cut_tree(tree, 0.4, 0.8)))) == [[0, 1, 2]]


def test_a_chain_of_three_is_split_by_average_linkage():
    """a-b and b-c are copies (0.9), a and c share nothing: the component of three is one chain,
    and c's mean with {a, b} is 0.45, under a cut of 0.5. A component of three is re-clustered,
    not kept whole as one of two is."""
    sim = _three(0.9, 0.0, 0.9)
    assert _clusters(sim, 0.5, 0.0) == [[0, 1]]
    assert _clusters(sim, 0.5, 0.8) == [[0, 1]]
    assert _clusters(sim, 0.45, 0.0) == [[0, 1, 2]]  # (at its mean it joins)


def test_a_pair_of_two_is_kept_whole_without_re_clustering():
    """Verified pairs reach the threshold already: a component of two is one cluster."""
    sim = np.array([[1.0, 0.2], [0.2, 1.0]])

    def never(batch):
        raise AssertionError("a component of two is not re-clustered")

    assert cluster_pairs(2, np.array([[0, 1]]), similarity=never, threshold=0.9)[0].tolist() == [0, 1]
    assert sim[0, 1] < 0.9


def test_two_groups_exactly_at_the_cohesion_rule_merge():
    """{a, b} and {c, d} score 0.8 inside and 0.4 across: at cohesion 0.5 the cross mean is
    exactly half of each group's own (0.4 = 0.5 x 0.8, computed as 0.39999999999999991) and they
    merge; at a cohesion a hair above, they stay apart (the threshold, 0.3, passes either way)."""
    inside, across = 0.8, 0.4
    sim = np.full((4, 4), across)
    sim[:2, :2] = sim[2:, 2:] = inside
    np.fill_diagonal(sim, 1.0)
    assert _clusters(sim, 0.3, 0.5) == [[0, 1, 2, 3]]
    assert _clusters(sim, 0.3, 0.5 + 1e-6) == [[0, 1], [2, 3]]


class _Signals(RunHook):
    def verified(self, pairs, scores, measure) -> None:
        self.signals = measure(pairs)


def _signals(articles: list[tuple[str, str]]):
    from dedup.io.article import Article

    hook = _Signals()
    det = Detector(Params(threshold=0.0), hook=hook)
    det.add_many(Article(i, t) for i, t in articles)
    det.finish()
    return hook.signals


def test_the_sentence_match_is_measured_from_a_cosine_exactly_at_its_floor(translations, monkeypatch):
    """Under ``MATCH_FLOOR`` the cosine stands for the sentence match; at it, the match is
    measured (here the floor is moved onto the pair's own cosine)."""
    import dedup.score.measure

    measured = _signals(translations)
    [cosine], [match] = measured.cosine.tolist(), measured.match.tolist()
    assert match != cosine
    monkeypatch.setattr(dedup.score.measure, "MATCH_FLOOR", cosine)
    assert _signals(translations).match.tolist() == [match]
    monkeypatch.setattr(dedup.score.measure, "MATCH_FLOOR", above(cosine))
    assert _signals(translations).match.tolist() == [cosine]


def test_an_index_candidate_exactly_at_the_signature_floor_is_kept(translations, tmp_path):
    """The index drops a band hit whose signatures agree on less than ``min_jaccard`` of their
    values, as a batch run does; one agreeing on exactly that share is kept."""
    from dedup.features import Featurizer
    from dedup.index.index import Index
    from dedup.sketch.minhash import estimate_jaccard_pairs

    (a, text_a), (_, text_b) = translations
    signatures = np.stack([f.signature for f in Featurizer(Params()).batch([text_a, text_b])])
    [j] = estimate_jaccard_pairs(signatures, np.array([[0, 1]])).tolist()
    db = str(tmp_path / "news.db")
    with Index.open(db, threshold=0.0, min_jaccard=j) as index:
        index.add(a, text_a)
        assert [m.id for m in index.query(text_b)] == [a]
    with Index.open(db, threshold=0.0, min_jaccard=above(j)) as index:
        assert index.query(text_b) == []
