"""Quality of `dedup` on every dev set, against the baselines, in one run and one table.

Sets (`--sets`, short names of `_data.DATASETS`; the English members of each, gold = `cluster`):
  dev  wmt-variants-dev      MT variants of WMT23 uk/ru-en documents
  v2   wmt-variants-dev-v2   MT variants of WMT23 ru-en documents
  v3   wmt-variants-dev-v3   MT variants of WMT21 ru-en news of one weekend, with same-story look-alikes
  ose  ose-rewrites-dev      human rewrites (OneStopEnglish reading levels)
  ecb  ecbplus-stories-dev   independent reports of the same events (ECB+), two look-alike events a topic

Methods, on each set: `dedup.find_duplicates` with its defaults (timed); exact hash of the
normalised text; datasketch MinHash LSH at Jaccard 0.8 on word 5-grams, every pair it returns a
duplicate (the usual dedup setting); on `dev` only, a MinHash-only pipeline on dedup's word 1-gram
signatures at Jaccard 0.3 and 0.4 (cheap, and kept there for comparison with the table of docs/quality.md);
and, unless `--no-oracle`, the all-pairs TF-IDF hindsight oracle (word 1-grams, sublinear tf,
connected components, threshold picked on the set itself; quadratic).

Scores: pair precision / recall / F1 counted inside the output clusters, and the adjusted Rand
index (`dedup.metrics.score_clusters`). On ECB+ these are not targets (its same-event articles mix
rewrites and independent reporting), so the table shows instead the pairs clustered that are
same-event, different-event (same topic, another event: must be 0) and cross-topic; the oracle's
threshold there is the lowest one that clusters no different-event and no cross-topic pair.
Also checks that the seeds give exactly the cluster {000, 004}.

    python benchmarks/quality.py                       # every set; saves results/quality.json
    python benchmarks/quality.py --sets dev,ecb --no-oracle --no-save
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np
from datasketch import MinHash, MinHashLSH

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import DATASETS, ROOT, ecb_pair_counts, load_set, save_json  # noqa: E402

from dedup import find_duplicates  # noqa: E402
from dedup.cluster import components  # noqa: E402
from dedup.metrics import PairScores, score_clusters  # noqa: E402
from dedup.sketch.lsh import candidate_pairs  # noqa: E402
from dedup.sketch.minhash import estimate_jaccard_pairs  # noqa: E402
from dedup.text.normalize import normalize, shingles, tokenize  # noqa: E402

ECB = "ecb"  # the set scored by ecb_pair_counts instead of P/R/F1
ORACLE = "all-pairs TF-IDF *"
THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.01), 2)  # the oracle's grid of cosine thresholds

Clusters = list[list[str]]


@dataclass
class Row:
    """One method's figures on one set."""

    method: str
    scores: PairScores
    seconds: float
    candidates: int | None
    threshold: float | None = None
    ecb: dict[str, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {**self.scores.to_dict(), "seconds": round(self.seconds, 2)}
        out["candidate_pairs"] = self.candidates
        if self.threshold is not None:
            out["threshold"] = self.threshold
        if self.ecb is not None:
            out.update(self.ecb)
        return out


def exact_hash_clusters(articles: list[dict]) -> Clusters:
    """Articles whose normalised text is identical."""
    groups: dict[str, list[str]] = {}
    for a in articles:
        key = hashlib.sha1(" ".join(normalize(a["text"]).split()).encode()).hexdigest()
        groups.setdefault(key, []).append(a["id"])
    return [g for g in groups.values() if len(g) > 1]


def component_clusters(ids: list[str], edges: np.ndarray) -> Clusters:
    """The connected components (of two or more ids) of the graph with these index edges."""
    groups: dict[int, list[str]] = {}
    for art_id, label in zip(ids, components(len(ids), edges), strict=True):
        groups.setdefault(int(label), []).append(art_id)
    return [g for g in groups.values() if len(g) > 1]


def minhash_lsh_clusters(
    articles: list[dict], threshold: float = 0.8, ngram: int = 5
) -> tuple[Clusters, int]:
    """The usual near-duplicate setting: datasketch MinHashLSH on word n-grams, every pair it
    returns taken as a duplicate (as most dedup pipelines do), grouped into connected components.
    Returns the clusters and the number of pairs the LSH returned."""
    lsh = MinHashLSH(threshold=threshold, num_perm=128)
    sigs = []
    for i, a in enumerate(articles):
        m = MinHash(num_perm=128)
        m.update_batch([s.encode() for s in shingles(tokenize(a["text"]), size=ngram)])
        lsh.insert(i, m)
        sigs.append(m)
    edges = np.array([(i, j) for i, m in enumerate(sigs) for j in lsh.query(m) if j > i], dtype=np.int64)
    return component_clusters([a["id"] for a in articles], edges.reshape(-1, 2)), len(edges)


def minhash_jaccard_clusters(articles: list[dict], threshold: float = 0.3) -> tuple[Clusters, int]:
    """A MinHash-only pipeline at the Jaccard translation variants need (what a rensa or
    datasketch pipeline does when it verifies): dedup's word 1-gram signatures and LSH bands
    (37 x 3), pairs kept when their Jaccard estimate reaches ``threshold``, then components.
    Returns the clusters and the number of LSH candidate pairs."""
    from dedup.features import Featurizer

    features = Featurizer().batch([a["text"] for a in articles])
    signatures = np.stack([f.signature for f in features])
    pairs, _ = candidate_pairs(signatures, bands=37, rows=3)
    edges = pairs[estimate_jaccard_pairs(signatures, pairs) >= threshold]
    return component_clusters([a["id"] for a in articles], edges), len(pairs)


def all_pairs_tfidf(
    articles: list[dict], choose: Callable[[Clusters], float], thresholds: np.ndarray = THRESHOLDS
) -> tuple[float, Clusters]:
    """The quadratic reference: TF-IDF cosine (scikit-learn's word features, sublinear tf) of every
    pair, connected components of the pairs at or above a threshold, the threshold picked in
    hindsight as the one whose clusters ``choose`` scores highest (the lowest such on ties).

    Components at every threshold come from one single-linkage tree of the dense cosine matrix
    (the same components as thresholding the graph, without rebuilding it per threshold)."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform
    from sklearn.feature_extraction.text import TfidfVectorizer

    ids = [a["id"] for a in articles]
    x = TfidfVectorizer(sublinear_tf=True).fit_transform(a["text"] for a in articles)
    dist = 1.0 - (x @ x.T).toarray()
    np.fill_diagonal(dist, 0.0)
    tree = linkage(squareform(np.clip(dist, 0.0, None), checks=False), method="single")
    del dist
    best: tuple[float, float, Clusters] | None = None
    for t in thresholds:
        groups: dict[int, list[str]] = {}
        for art_id, label in zip(ids, fcluster(tree, 1.0 - t, criterion="distance"), strict=True):
            groups.setdefault(int(label), []).append(art_id)
        clusters = [g for g in groups.values() if len(g) > 1]
        score = choose(clusters)
        if best is None or score > best[1]:
            best = (float(t), score, clusters)
    assert best is not None
    return best[0], best[2]


def seeds_check() -> dict[str, Any]:
    """Defaults on seeds/: the one true pair is 000 <-> 004; any other pair is false."""
    arts = [(p.stem, p.read_text(encoding="utf-8")) for p in sorted((ROOT / "seeds").glob("*.txt"))]
    result = find_duplicates(arts)
    pairs = [(p.a[:3], p.b[:3]) for p in result.pairs]
    clusters = [sorted(m[:3] for m in c.members) for c in result.clusters]
    return {
        "pairs": pairs,
        "clusters": clusters,
        "false_pairs": sum(1 for p in pairs if p != ("000", "004")),
        "ok": clusters == [["000", "004"]] and pairs == [("000", "004")],
    }


def run_set(name: str, articles: list[dict], oracle: bool) -> tuple[list[Row], dict[str, Any]]:
    """Every method on one set: its rows, and dedup's summary (params, versions)."""
    ids = [a["id"] for a in articles]
    gold = {a["id"]: a["cluster"] for a in articles}
    ecb = name == ECB
    rows: list[Row] = []

    def add(
        method: str, clusters: Clusters, seconds: float, cands: int | None, t: float | None = None
    ) -> None:
        counts = ecb_pair_counts(articles, clusters) if ecb else None
        rows.append(Row(method, score_clusters(ids, clusters, gold), seconds, cands, t, counts))

    t0 = time.perf_counter()
    result = find_duplicates(articles)
    dt = time.perf_counter() - t0
    clusters = [list(c.members) for c in result.clusters]
    add("dedup (defaults)", clusters, dt, result.summary["candidates"]["pairs"])

    t0 = time.perf_counter()
    clusters = exact_hash_clusters(articles)
    add("exact hash", clusters, time.perf_counter() - t0, None)

    t0 = time.perf_counter()
    clusters, cands = minhash_lsh_clusters(articles)
    add("MinHash LSH 0.8, word 5-grams", clusters, time.perf_counter() - t0, cands)

    if name == "dev":
        for jaccard in (0.3, 0.4):
            t0 = time.perf_counter()
            clusters, cands = minhash_jaccard_clusters(articles, jaccard)
            add(f"MinHash J >= {jaccard}, word 1-grams", clusters, time.perf_counter() - t0, cands)

    if oracle:
        if ecb:

            def choose(clusters: Clusters) -> float:
                c = ecb_pair_counts(articles, clusters)
                return c["same_event"] if c["different_event"] == c["cross_topic"] == 0 else -1.0

        else:

            def choose(clusters: Clusters) -> float:
                return score_clusters(ids, clusters, gold).f1

        t0 = time.perf_counter()
        t_best, clusters = all_pairs_tfidf(articles, choose)
        add(ORACLE, clusters, time.perf_counter() - t0, len(ids) * (len(ids) - 1) // 2, t_best)
    return rows, result.summary


def set_info(name: str, articles: list[dict]) -> dict[str, Any]:
    """Size of a set and its gold pairs (for ECB+, its same- and different-event pairs too)."""
    gold = {a["id"]: a["cluster"] for a in articles}
    info: dict[str, Any] = {
        "data": str(DATASETS[name]),
        "articles": len(articles),
        "clusters": len(set(gold.values())),
        "true_pairs": score_clusters(list(gold), [], gold).true_pairs,
    }
    if name == ECB:
        topics: dict[str, list[str]] = {}
        for a in articles:
            topics.setdefault(a["topic"], []).append(a["id"])
        gold_counts = ecb_pair_counts(articles, list(topics.values()))
        info["same_event_pairs"] = gold_counts["same_event"]
        info["different_event_pairs"] = gold_counts["different_event"]
    return info


def print_table(results: dict[str, tuple[dict[str, Any], list[Row]]]) -> None:
    """One table: a row per set and method; ECB+ rows show its pair counts instead of P/R/F1/ARI."""
    for name, (info, _) in results.items():
        line = f"{name:4s} {Path(info['data']).name:22s} {info['articles']:6,} articles "
        line += f"{info['clusters']:4,} clusters {info['true_pairs']:7,} true pairs"
        if name == ECB:
            line += f", {info['different_event_pairs']:,} different-event"
        click.echo(line)
    click.echo()
    head = f"{'set':4s} {'method':31s} {'P':>6s} {'R':>6s} {'F1':>6s} {'ARI':>6s} {'sec':>6s} {'cands':>9s}"
    head += f"  {'same-ev':>7s} {'diff-ev':>7s} {'x-topic':>7s}"
    click.echo(head)
    click.echo("-" * len(head))
    for name, (_, rows) in results.items():
        for r in rows:
            method = f"{r.method[:-2]}, t={r.threshold:.2f} *" if r.threshold is not None else r.method
            s = r.scores
            cells = [f"{getattr(s, k):6.4f}" for k in ("precision", "recall", "f1", "ari")]
            if s.predicted_pairs == 0:  # no pair claimed: precision undefined (dedup.metrics says 1.0)
                cells[0] = f"{'-':>6s}"
            if r.ecb:  # not targets on ECB+: its pair counts instead
                cells = [" " * 6] * 4
            line = f"{name:4s} {method:31s} " + " ".join(cells)
            line += f" {r.seconds:6.1f} " + (f"{r.candidates:9,}" if r.candidates is not None else " " * 9)
            if r.ecb:
                line += "  " + " ".join(
                    f"{r.ecb[k]:7,}" for k in ("same_event", "different_event", "cross_topic")
                )
            click.echo(line.rstrip())
    click.echo("cands: candidate pairs the method compared (dedup: verified; MinHash: LSH pairs)")
    click.echo("P -: no pair claimed, precision undefined (1.0 in the JSON, as dedup.metrics counts it)")
    click.echo("* quadratic reference: every pair compared, threshold picked in hindsight on the set itself")
    if ECB in results:
        click.echo("ecb: pairs clustered that are same-event / different-event (same topic, must be 0) /")
        click.echo("     cross-topic; the oracle's threshold there: the lowest with neither of the last two")


def parse_sets(_ctx: click.Context, _param: click.Parameter, value: str) -> list[str]:
    """``--sets`` as a list of known short names, in the order given."""
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in DATASETS]
    if unknown or not names:
        known = ",".join(DATASETS)
        raise click.BadParameter(f"unknown set(s) {', '.join(unknown) or '(none)'}; known: {known}")
    return list(dict.fromkeys(names))


@click.command()
@click.option(
    "--sets",
    default=",".join(DATASETS),
    callback=parse_sets,
    show_default=True,
    help="Comma-separated short names of the dev sets to run.",
)
@click.option("--oracle/--no-oracle", default=True, help="Run the quadratic all-pairs TF-IDF reference.")
@click.option("--save/--no-save", default=True, help="Save results/quality.json.")
def main(sets: list[str], oracle: bool, save: bool) -> None:
    """Pair P/R/F1 and ARI of dedup (defaults) and the baselines on every dev set, in one table."""
    results: dict[str, tuple[dict[str, Any], list[Row]]] = {}
    summary: dict[str, Any] = {}
    for name in sets:
        articles = load_set(name)
        rows, summary = run_set(name, articles, oracle)
        results[name] = (set_info(name, articles), rows)
    seeds = seeds_check()
    print_table(results)
    click.echo(f"seeds: clusters {seeds['clusters']}, false pairs {seeds['false_pairs']}")
    if not seeds["ok"]:
        click.echo("seeds check FAILED: expected exactly the cluster [000, 004]", err=True)
    if save:
        out = save_json(
            "quality",
            {
                "sets": {
                    name: {**info, "methods": {r.method: r.to_dict() for r in rows}}
                    for name, (info, rows) in results.items()
                },
                "seeds": seeds,
                "params": summary["params"],
                "versions": summary["versions"],
            },
        )
        click.echo(f"saved {out}")


if __name__ == "__main__":
    main()
