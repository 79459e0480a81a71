"""`dedup explain`: why two articles of a run were, or were not, put in one cluster."""

import dataclasses
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import seed_texts

from dedup import find_duplicates
from dedup.cli import main
from dedup.cluster import split_component
from dedup.explain import ExplainError, explain, explain_run
from dedup.explain.trace import _clustering, _Watch
from dedup.params import Params
from dedup.score.decision import Signals

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DUP, REP = (
    "000_1bdcf60ae9970c12",
    "004_89cc63446ebde389",
)  # the seed cluster: two translations of one ANSA piece
OTHER = "001_5966cff20377aa69"  # another article on the same event (Xi visits Putin)

sys.path.insert(0, str(ROOT / "benchmarks"))
from _data import DATA, load_wmt  # noqa: E402

WMT_V3 = DATA / "wmt-variants-dev-v3"
# Two outlets' Navy Day reports: 10 English versions each, two tight groups barely alike.
NAVY_DAY = ("wmt21.ru-en.kp.235507", "wmt21.ru-en.xinhua-zh.21311")


def recorded_pairs(run: Path) -> dict[tuple[str, str], dict]:
    lines = (json.loads(line) for line in (run / "pairs.jsonl").read_text().splitlines())
    return {(p["a"], p["b"]): p for p in lines}


def test_the_seed_duplicates_are_explained_as_a_verified_pair_in_one_cluster(seed_run):
    e = explain_run(seed_run, DUP, REP)

    assert e.merged and e.clusters == (0, 0)
    assert e.candidates.candidates and e.candidates.shared_bands >= 1
    assert e.verified and e.score >= e.threshold == 0.34
    assert e.clustering.same_component and e.clustering.together
    assert e.clustering.reason == "two members: the verified pair itself"
    # The values are the run's own: those pairs.jsonl holds.
    line = recorded_pairs(seed_run)[DUP, REP]
    assert round(e.signal_values["cosine"], 4) == line["cosine"]
    assert round(e.signal_values["match"], 4) == line["sentence_match"]
    assert round(e.score, 4) == line["score"]
    assert e.recorded is not None and e.recorded.agrees and e.recorded.pair == line
    # The text starts with the verdict, then one line per signal.
    text = e.to_text()
    assert e.verdict == (
        f"{DUP} and {REP} are in one cluster (cluster 0): "
        f"their score {line['score']} reaches the threshold 0.34"
    )
    assert " ".join(text.split()).startswith(e.verdict)
    for name in ("cosine", "match", "order", "numbers", "score"):
        assert f" {name} " in text
    assert "kept whole (two members: the verified pair itself)" in text
    assert "recorded the pair (score" in text and "as recomputed" in text
    assert "alignment   3 links" in text


def test_two_articles_on_one_event_are_explained_as_apart_and_why(seed_run):
    e = explain_run(seed_run, DUP, OTHER)

    assert not e.merged and e.clusters == (0, None)
    assert not e.candidates.candidates and e.candidates.shared_bands == 0
    assert e.candidates.jaccard < 0.3  # the LSH aims at 0.3
    assert not e.verified and e.score < e.threshold  # measured all the same
    assert not e.clustering.same_component
    assert e.verdict == (
        f"{DUP} and {OTHER} are not in one cluster: they were not LSH candidates (0 of 37 bands shared), "
        f"and no chain of verified pairs links them (their score {e.score:.4f} would be under the "
        "threshold 0.34)"
    )


def test_the_numbers_behind_the_numbers_signal(seed_run):
    e = explain_run(seed_run, DUP, "002_a9a5fae8619f537b")
    assert e.numbers.a == ["12"] and e.numbers.shared == ["12"] and e.numbers.only_a == []
    assert e.signal_values["numbers"] == 1.0  # every number of the one with fewer is in the other


def test_the_library_call_and_the_command_agree(seed_run):
    from_run = explain_run(seed_run, DUP, REP)
    from_texts = explain(seed_texts().items(), DUP, REP)
    assert {k: v for k, v in from_run.to_dict().items() if k != "recorded"} == {
        k: v for k, v in from_texts.to_dict().items() if k != "recorded"
    }

    text = CliRunner().invoke(main, ["explain", str(seed_run), DUP, REP, "-q"])
    assert text.exit_code == 0, text.output
    assert text.stdout == from_run.to_text()
    as_json = CliRunner().invoke(main, ["explain", str(seed_run), DUP, REP, "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == json.loads(json.dumps(from_run.to_dict()))


def test_json_is_valid_and_gives_every_signal(seed_run):
    result = CliRunner().invoke(main, ["explain", str(seed_run), DUP, OTHER, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    names = {f.name for f in dataclasses.fields(Signals)}
    assert set(out["signals"]) == names and set(out["rules"]) == names
    assert all(isinstance(v, float) or v is None for v in out["signals"].values())
    assert out["merged"] is False and out["verified"] is False and out["threshold"] == 0.34
    assert out["candidates"]["candidates"] is False
    assert out["recorded"]["agrees"] is True
    assert out["alignment"]["links"]


@pytest.mark.parametrize("which", ["a", "b"])
def test_an_unknown_id_is_one_line_naming_it_and_the_run(seed_run, which):
    ids = [DUP, "no-such-id"] if which == "b" else ["no-such-id", DUP]
    result = CliRunner().invoke(main, ["explain", str(seed_run), *ids])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: unknown id 'no-such-id': not among the 5 articles of the inputs of the run in {seed_run}"
    ]
    with pytest.raises(ExplainError, match="unknown id 'nope'"):
        explain(seed_texts().items(), DUP, "nope")


def test_a_folder_that_is_no_run_or_has_no_summary_is_one_line(tmp_path, seed_run):
    result = CliRunner().invoke(main, ["explain", str(tmp_path / "nowhere"), DUP, REP])
    assert result.exit_code == 1 and result.stderr.strip().count("\n") == 0
    assert "no such folder" in result.stderr

    (tmp_path / "bare").mkdir()
    shutil.copy(seed_run / "clusters.jsonl", tmp_path / "bare")
    result = CliRunner().invoke(main, ["explain", str(tmp_path / "bare"), DUP, REP])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: {tmp_path / 'bare' / 'summary.json'}: missing, "
        "so the run's parameters and inputs are unknown"
    ]


def test_inputs_changed_since_the_run_are_said_not_hidden(tmp_path):
    shutil.copytree(SEEDS, tmp_path / "in")
    assert (
        CliRunner().invoke(main, ["run", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-q"]).exit_code
        == 0
    )
    # 000 now says what 001 says: the run's pair is gone.
    shutil.copy(tmp_path / "in" / f"{OTHER}.txt", tmp_path / "in" / f"{DUP}.txt")
    e = explain_run(tmp_path / "out", DUP, REP)
    assert not e.merged and e.recorded is not None and not e.recorded.agrees
    assert "pairs.jsonl has the pair, recomputed it is not a verified pair" in e.recorded.differences
    assert e.to_text().splitlines()[2].startswith("WARNING: this is not what the run recorded")
    # The inputs gone: one line.
    shutil.rmtree(tmp_path / "in")
    result = CliRunner().invoke(main, ["explain", str(tmp_path / "out"), DUP, REP])
    assert result.exit_code == 1 and "input of the run not found" in result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.skipif(not (WMT_V3 / "articles.jsonl.gz").exists(), reason=f"dev data not found at {WMT_V3}")
def test_two_tight_groups_kept_apart_by_the_cohesion_rule():
    """The English versions of two outlets' Navy Day reports: each outlet's 10 versions are one
    group, and some pairs across the outlets reach the threshold, but the two groups are less
    alike than ``cohesion`` (0.63) of their own likeness."""
    articles = [(r["id"], r["text"]) for r in load_wmt("en", WMT_V3) if r["cluster"] in NAVY_DAY]
    result = find_duplicates(articles, all_pairs=True)  # (every verified pair: those across too)
    assert sorted(len(c.members) for c in result.clusters) == [10, 10]
    assert sorted(c.members for c in find_duplicates(articles).clusters) == sorted(
        c.members for c in result.clusters
    )
    across = next(p for p in result.pairs if p.a.split("::")[0] != p.b.split("::")[0])

    e = explain(articles, across.a, across.b)
    assert not e.merged and e.verified and round(e.score, 4) == across.score >= e.threshold
    c = e.clustering
    assert c.same_component and c.component_sizes == (20, 20) and c.method == "average"
    assert c.refused is not None and c.refused_where == "joining"
    merge = c.refused
    assert merge.refused_by == "cohesion" and merge.sizes == (10, 10)
    assert merge.cross >= e.threshold  # the threshold alone would merge them ...
    lower = min(merge.own)
    cohesion = Params().cohesion
    assert merge.cohesion == cohesion and merge.cohesion_limit == pytest.approx(cohesion * lower)
    assert merge.cross < merge.cohesion_limit  # ... the cohesion rule does not
    assert {m.split("::")[0] for m in merge.members[0]} != {m.split("::")[0] for m in merge.members[1]}
    assert "refused by the cohesion rule" in e.verdict and f"{merge.cohesion_limit:.4f}"[:5] in e.verdict
    # Within one outlet's group: one cluster, the merge that joined them passed.
    same = explain(articles, f"{NAVY_DAY[0]}::ref-A", f"{NAVY_DAY[0]}::ref-B")
    assert same.merged and same.clustering.together and same.clustering.joining.passes


def test_the_clustering_trace_agrees_with_the_cut():
    """For random components of two or three tight groups, under every linkage rule: the pair is
    traced as together exactly when the cut (dedup.cluster.split_component) keeps it together, and apart
    with a refused merge."""
    rng = np.random.default_rng(7)
    ids = [f"x{i}" for i in range(40)]
    seen = set()
    for _ in range(300):
        m = int(rng.integers(3, 14))
        group = rng.integers(0, 3, m)
        same = group[:, None] == group[None, :]
        sim = np.where(same, rng.uniform(0.5, 0.95, (m, m)), rng.uniform(0.1, 0.55, (m, m)))
        sim = np.triu(sim, 1) + np.triu(sim, 1).T + np.eye(m)
        p = Params(
            threshold=float(rng.uniform(0.25, 0.5)),
            cohesion=float(rng.choice([0.0, 0.6, 0.9])),
            linkage=str(rng.choice(["average", "complete"])),
        )
        members = np.sort(rng.choice(40, m, replace=False))
        parts = split_component(members, sim, p.threshold, p.linkage, p.cohesion)
        label = {int(x): k for k, part in enumerate(parts) for x in part}
        ia, ib = (int(x) for x in rng.choice(members, 2, replace=False))
        watch = _Watch()
        watch.watch(ia, ib)
        watch.labels = np.where(np.isin(np.arange(40), members), -1, np.arange(40))
        watch.groups = [(members, sim)]
        c = _clustering(watch, ids, p)
        assert c.together == (label[ia] == label[ib])
        assert c.together or not c.refused.passes
        seen.add(c.refused_where)
    assert seen == {None, "joining", "on the way", "inside"}


def test_articles_in_a_language_not_compared_are_never_candidates_and_it_says_so():
    e = explain(seed_texts().items(), DUP, REP, languages=("it",))
    assert not e.merged and not e.candidates.candidates and e.candidates.jaccard is None
    assert "A is in 'en', not among the languages compared (it)" in e.verdict


def test_a_band_hit_under_the_floor_is_said_to_be_dropped_before_verification():
    e = explain(seed_texts().items(), DUP, REP, min_jaccard=0.9)
    assert not e.candidates.candidates and e.candidates.shared_bands > 0
    assert e.candidates.jaccard < 0.9
    assert "under min_jaccard = 0.9: dropped before verification" in e.candidates.note
    assert "not a candidate" in e.verdict or "not LSH candidates" in e.verdict, e.verdict
