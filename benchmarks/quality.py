"""Quality of `dedup` on real MT variants, against two baselines, in one run.

Data: ../shared/data/wmt-variants-dev (its English members; gold = `cluster`).
Scores: pair precision / recall / F1 counted inside the output clusters, and
the adjusted Rand index. Baselines: exact-hash dedup of the normalised text,
and MinHash LSH at Jaccard 0.8 on word 5-grams (the usual dedup setting).
Also checks that the seeds give exactly one pair (000 <-> 004).

    python benchmarks/quality.py            # prints a table, saves results/quality.json
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

import click
import numpy as np
from datasketch import MinHash, MinHashLSH

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import ROOT, WMT_DEV, load_wmt, save_json  # noqa: E402

from dedup import find_duplicates  # noqa: E402
from dedup.candidates import candidate_pairs  # noqa: E402
from dedup.cluster import components  # noqa: E402
from dedup.metrics import score_clusters  # noqa: E402
from dedup.normalize import normalize, shingles, tokenize  # noqa: E402
from dedup.sign import estimate_jaccard_pairs  # noqa: E402


def exact_hash_clusters(articles: list[dict]) -> list[list[str]]:
    """Articles whose normalised text is identical."""
    groups: dict[str, list[str]] = {}
    for a in articles:
        key = hashlib.sha1(" ".join(normalize(a["text"]).split()).encode()).hexdigest()
        groups.setdefault(key, []).append(a["id"])
    return [g for g in groups.values() if len(g) > 1]


def component_clusters(ids: list[str], edges: np.ndarray) -> list[list[str]]:
    """The connected components (of two or more ids) of the graph with these index edges."""
    groups: dict[int, list[str]] = {}
    for art_id, label in zip(ids, components(len(ids), edges), strict=True):
        groups.setdefault(int(label), []).append(art_id)
    return [g for g in groups.values() if len(g) > 1]


def minhash_lsh_clusters(articles: list[dict], threshold: float = 0.8, ngram: int = 5) -> list[list[str]]:
    """The usual near-duplicate setting: datasketch MinHashLSH on word n-grams, every pair it
    returns taken as a duplicate (as most dedup pipelines do), grouped into connected components."""
    lsh = MinHashLSH(threshold=threshold, num_perm=128)
    sigs = []
    for i, a in enumerate(articles):
        m = MinHash(num_perm=128)
        m.update_batch([s.encode() for s in shingles(tokenize(a["text"]), size=ngram)])
        lsh.insert(i, m)
        sigs.append(m)
    edges = [(i, j) for i, m in enumerate(sigs) for j in lsh.query(m) if j > i]
    return component_clusters([a["id"] for a in articles], np.array(edges, dtype=np.int64).reshape(-1, 2))


def all_pairs_tfidf(
    articles: list[dict], ids: list[str], gold: dict, *, sublinear_tf: bool
) -> tuple[float, object]:
    """The quadratic reference: TF-IDF cosine of every pair (scikit-learn's word features), connected
    components, the threshold picked in hindsight as the one with the best F1 on this very set."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    x = TfidfVectorizer(sublinear_tf=sublinear_tf).fit_transform(a["text"] for a in articles)
    sim = (x @ x.T).toarray()
    np.fill_diagonal(sim, 0.0)
    best = None
    for t in np.round(np.arange(0.20, 0.71, 0.01), 2):
        i, j = np.nonzero(np.triu(sim >= t))
        sc = score_clusters(ids, component_clusters(ids, np.stack([i, j], axis=1).astype(np.int64)), gold)
        if best is None or sc.f1 > best[1].f1:
            best = (float(t), sc)
    return best


def seeds_check() -> dict:
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


def minhash_jaccard_clusters(articles: list[dict], threshold: float = 0.3) -> list[list[str]]:
    """A MinHash-only pipeline at the Jaccard translation variants need (what a rensa or
    datasketch pipeline does when it verifies): dedup's word 1-gram signatures and LSH bands
    (37 x 3), pairs kept when their Jaccard estimate reaches ``threshold``, then components."""
    from dedup.features import Featurizer

    features = Featurizer().batch([a["text"] for a in articles])
    signatures = np.stack([f.signature for f in features])
    pairs, _ = candidate_pairs(signatures, bands=37, rows=3)
    edges = pairs[estimate_jaccard_pairs(signatures, pairs) >= threshold]
    return component_clusters([a["id"] for a in articles], edges)


@click.command()
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), default=WMT_DEV)
@click.option("--save/--no-save", default=True, help="Save results/quality.json.")
def main(data: Path, save: bool) -> None:
    """Pair P/R/F1 and ARI of dedup (defaults) and the baselines on the dev set."""
    articles = load_wmt("en", data)
    ids = [a["id"] for a in articles]
    gold = {a["id"]: a["cluster"] for a in articles}
    rows = []

    t0 = time.perf_counter()
    result = find_duplicates(articles)
    dt = time.perf_counter() - t0
    s = score_clusters(ids, [c.members for c in result.clusters], gold)
    rows.append(("dedup (defaults)", s, dt, result.summary["candidates"]["pairs"]))

    t0 = time.perf_counter()
    clusters = exact_hash_clusters(articles)
    rows.append(("exact hash", score_clusters(ids, clusters, gold), time.perf_counter() - t0, None))

    t0 = time.perf_counter()
    clusters = minhash_lsh_clusters(articles)
    rows.append(
        ("MinHash LSH 0.8, word 5-grams", score_clusters(ids, clusters, gold), time.perf_counter() - t0, None)
    )
    for jaccard in (0.3, 0.4):
        t0 = time.perf_counter()
        clusters = minhash_jaccard_clusters(articles, jaccard)
        name = f"MinHash Jaccard >= {jaccard}, word 1-grams"
        rows.append((name, score_clusters(ids, clusters, gold), time.perf_counter() - t0, None))
    for sublinear in (False, True):
        t0 = time.perf_counter()
        t_best, sc = all_pairs_tfidf(articles, ids, gold, sublinear_tf=sublinear)
        name = f"all-pairs TF-IDF{' sublinear' if sublinear else ''}, t={t_best:.2f} *"
        rows.append((name, sc, time.perf_counter() - t0, len(ids) * (len(ids) - 1) // 2))
    seeds = seeds_check()

    click.echo(f"{len(articles)} articles, {rows[0][1].true_pairs} true pairs ({data})")
    click.echo(f"{'method':38s} {'precision':>9s} {'recall':>7s} {'F1':>7s} {'ARI':>7s} {'seconds':>8s}")
    for name, sc, sec, _ in rows:
        click.echo(f"{name:38s} {sc.precision:9.4f} {sc.recall:7.4f} {sc.f1:7.4f} {sc.ari:7.4f} {sec:8.1f}")
    click.echo(
        f"candidate pairs verified by dedup: {rows[0][3]:,} of {len(ids) * (len(ids) - 1) // 2:,} possible"
    )
    click.echo("* quadratic reference: every pair compared, threshold picked in hindsight on this set")
    click.echo(f"seeds: clusters {seeds['clusters']}, false pairs {seeds['false_pairs']}")
    if save:
        out = save_json(
            "quality",
            {
                "data": str(data),
                "articles": len(articles),
                "methods": {
                    name: {**sc.to_dict(), "seconds": round(sec, 2), "candidate_pairs": cands}
                    for name, sc, sec, cands in rows
                },
                "seeds": seeds,
                "params": result.summary["params"],
                "versions": result.summary["versions"],
            },
        )
        click.echo(f"saved {out}")


if __name__ == "__main__":
    main()
