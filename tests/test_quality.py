"""Guards the quality figures reached on the dev set, so no change lowers them unseen.

Reads ../shared/data/wmt-variants-dev in place (CI has it beside the clone).
"""

import sys
from pathlib import Path

import pytest

from dedup import find_duplicates
from dedup.metrics import score_clusters

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from _data import WMT_DEV, load_wmt  # noqa: E402
from tune import variants  # noqa: E402

pytestmark = pytest.mark.skipif(
    not (WMT_DEV / "articles.jsonl.gz").exists(), reason=f"dev data not found at {WMT_DEV}"
)


@pytest.fixture(scope="module")
def dev_result():
    articles = load_wmt("en")
    result = find_duplicates(articles)
    return articles, result


def test_pair_f1_on_the_dev_set_stays_at_least_0_998(dev_result):
    articles, result = dev_result
    scores = score_clusters(
        [a["id"] for a in articles],
        [c.members for c in result.clusters],
        {a["id"]: a["cluster"] for a in articles},
    )
    assert scores.f1 >= 0.998, scores
    assert scores.precision >= 0.999, scores


def test_no_cluster_mixes_two_stories(dev_result):
    articles, result = dev_result
    gold = {a["id"]: a["cluster"] for a in articles}
    mixed = [c.members for c in result.clusters if len({gold[m] for m in c.members}) > 1]
    assert mixed == []


@pytest.mark.parametrize(
    "variant, min_f1, min_precision",
    [("short-40w", 0.995, 0.999), ("noisy", 0.994, 0.999), ("short-40w+noisy", 0.994, 0.999)],
)
def test_defaults_hold_on_short_and_noisy_variants(variant, min_f1, min_precision):
    """Stress variants of benchmarks/tune.py: every text cut to 40 words; typos, dropped words and
    shared boilerplate; both. Measured 0.9960, 0.9951, 0.9948, precision 1.000 (python
    benchmarks/decision.py; before the look-alike decision 0.9925, 0.9967, 0.9952)."""
    articles = variants(load_wmt("en"))[variant]
    result = find_duplicates(articles)
    gold = {a["id"]: a["cluster"] for a in articles}
    scores = score_clusters(list(gold), [c.members for c in result.clusters], gold)
    assert scores.f1 >= min_f1, scores
    assert scores.precision >= min_precision, scores


# The look-alike decision (issue 17), guarded on every dev set: python benchmarks/quality.py and
# python benchmarks/decision.py measure the same figures (results/quality.json, decision.json).
from _data import DATASETS, ecb_pair_counts, load_set  # noqa: E402


def _scores(name: str, **params):
    articles = load_set(name)
    result = find_duplicates(articles, **params)
    gold = {a["id"]: a["cluster"] for a in articles}
    return score_clusters(list(gold), [c.members for c in result.clusters], gold), result, articles


needs_sets = pytest.mark.skipif(
    not all((path / "articles.jsonl.gz").exists() for path in DATASETS.values()),
    reason=f"dev sets not found at {DATASETS['dev'].parent}",
)


@needs_sets
@pytest.mark.parametrize(
    "name, min_f1, min_precision",
    [
        # measured 1.0000 / 1.0000 (the decision before issue 17: F1 0.9474, P 0.900; the
        # all-pairs TF-IDF oracle with its threshold picked in hindsight: 0.9890)
        ("v3", 0.99, 0.995),
        ("v2", 0.997, 0.999),  # 0.9971 / 1.000
        # 0.9906 / 0.9962: the one false pair and the 2 missed ones are one mislabelled record
        # (ose.wnl_the_millenials::ele holds the e-cigarette article's text)
        ("ose", 0.99, 0.996),
    ],
)
def test_the_look_alike_decision_holds_on_every_dev_set(name, min_f1, min_precision):
    scores, _, _ = _scores(name)
    assert scores.f1 >= min_f1, scores
    assert scores.precision >= min_precision, scores


@needs_sets
def test_different_events_of_one_topic_never_merge():
    """ECB+: two look-alike events per topic (two earthquakes, two DUI arrests); 0 pairs of
    different events clustered (14 before issue 17), 409 same-event pairs (mostly one agency
    report rewritten)."""
    _, result, articles = _scores("ecb")
    counts = ecb_pair_counts(articles, [c.members for c in result.clusters])
    assert counts["different_event"] == 0 and counts["cross_topic"] == 0, counts
    assert counts["same_event"] >= 380, counts


@needs_sets
@pytest.mark.parametrize(
    "off",
    [
        {"number_weight": 0.0},  # measured 0.9890 (P 0.978)
        {"cohesion": 0.0},  # 0.9574 (P 0.918)
    ],
    ids=["without numbers", "without cohesion"],
)
def test_numbers_and_cohesion_are_needed_on_rival_outlets(off):
    """wmt-variants-dev-v3 (rival outlets' reports of one event): the decision without its numbers
    or without its cohesion rule merges different documents (benchmarks/decision.py)."""
    scores, _, _ = _scores("v3", **off)
    assert scores.precision < 0.99, scores


@needs_sets
@pytest.mark.parametrize(
    "off", [{"sentence_order": False}, {"number_weight": 0.0}], ids=["without order", "without numbers"]
)
def test_order_and_numbers_are_needed_on_look_alike_events(off):
    """ECB+: without the match in order (1 pair of different events clustered) or without the
    numbers (6), look-alike events merge; with all three, none."""
    _, result, articles = _scores("ecb", **off)
    assert ecb_pair_counts(articles, [c.members for c in result.clusters])["different_event"] > 0


@needs_sets
def test_the_verified_pairs_themselves_are_right_on_rival_outlets():
    """Not only the clusters: of the pairs the decision verifies on v3 (pairs.jsonl), nearly all
    join two versions of one document (measured: 4,641 verified, 4,476 right, 0.964; the rest are
    look-alike pairs over the threshold that the clustering keeps apart)."""
    _, _, articles = _scores("v3")
    result = find_duplicates(articles, all_pairs=True)  # (every verified pair, not a spanning tree)
    gold = {a["id"]: a["cluster"] for a in articles}
    right = sum(gold[p.a] == gold[p.b] for p in result.pairs)
    assert right >= 4_470 and right / len(result.pairs) >= 0.96, (right, len(result.pairs))


def test_every_verified_pair_of_the_dev_set_is_right(dev_result):
    """The dev set's verified pairs (15,752) all join two translations of one document (0.993
    before issue 17, whose order and numbers signals took out the look-alike pairs)."""
    articles, _ = dev_result
    result = find_duplicates(articles, all_pairs=True)  # (every verified pair, not a spanning tree)
    gold = {a["id"]: a["cluster"] for a in articles}
    wrong = [(p.a, p.b, p.score) for p in result.pairs if gold[p.a] != gold[p.b]]
    assert wrong == [] and len(result.pairs) >= 15_700


@needs_sets
@pytest.mark.parametrize("name", list(DATASETS))
def test_the_floor_on_signature_agreement_drops_chance_pairs_only(name):
    """``min_jaccard`` (0.1) drops the band hits whose signatures barely agree: on every dev set
    it verifies exactly the pairs a run without it verifies (the lowest verified estimate is 0.15,
    on ecb), with 4-26% fewer candidates (python benchmarks/chance.py)."""
    articles = load_set(name)
    floored = find_duplicates(articles, all_pairs=True)
    every = find_duplicates(articles, all_pairs=True, min_jaccard=0.0)
    assert [(p.a, p.b, p.score) for p in floored.pairs] == [(p.a, p.b, p.score) for p in every.pairs]
    assert [c.members for c in floored.clusters] == [c.members for c in every.clusters]
    fewer, more = floored.summary["candidates"], every.summary["candidates"]
    assert fewer["pairs"] + fewer["below_min_jaccard"] == more["pairs"]
    assert fewer["pairs"] <= 0.96 * more["pairs"], (fewer, more)


def _best_f1(values, right) -> float:
    """The best F1 of the rule "value >= t" over every threshold t, as a classifier of ``right``."""
    import numpy as np

    order = np.argsort(-np.asarray(values), kind="stable")
    hits = np.cumsum(np.asarray(right)[order])
    precision = hits / np.arange(1, len(order) + 1)
    recall = hits / max(int(np.sum(right)), 1)
    return float(np.max(2 * precision * recall / np.maximum(precision + recall, 1e-12)))


@needs_sets
def test_the_combined_score_separates_rival_outlets_better_than_any_signal_alone():
    """On v3 (4,742 candidate pairs of rival outlets' reports, 4,442 of them one document), the
    combined score at its best threshold separates them better than the cosine alone, the
    sentence match alone, or the two without the numbers, each at its own best threshold
    (measured pair F1: 0.9976 against 0.9953, 0.9968 and 0.9957): a decision that regressed to
    one signal, or lost one, fails here whatever threshold it were given."""
    from dedup.engines.local import Detector, RunHook
    from dedup.io.article import Article
    from dedup.params import Params
    from dedup.score.decision import score

    class Candidates(RunHook):
        def verified(self, pairs, scores, measure) -> None:  # (threshold 0: every candidate)
            self.pairs, self.signals = pairs.copy(), measure(pairs)

    articles = load_set("v3")
    hook = Candidates()
    det = Detector(Params(threshold=0.0), hook=hook)
    det.add_many(Article(a["id"], a["text"]) for a in articles)
    det.finish()
    gold = {a["id"]: a["cluster"] for a in articles}
    right = [gold[det.ids[i]] == gold[det.ids[j]] for i, j in hook.pairs.tolist()]
    assert len(right) >= 4_700 and sum(right) >= 4_400
    p, s = Params(), hook.signals
    combined = _best_f1(score(s, sentence_weight=p.sentence_weight, number_weight=p.number_weight), right)
    alone = {
        "cosine": _best_f1(s.cosine, right),
        "sentence match": _best_f1(s.match, right),
        "both, no numbers": _best_f1(score(s, sentence_weight=p.sentence_weight, number_weight=0.0), right),
    }
    assert combined >= 0.997, combined
    assert all(combined > f for f in alone.values()), (combined, alone)
