"""Speed, memory and quality at growing N, side by side with what users would pick instead.

For each size N (synthetic corpora of ``make_corpus.py``, ~400 words an article, planted
families; made once and cached in ``benchmarks/.cache/``), each method runs in a process
of its own (peak RSS is that process tree's largest, from ``getrusage``):

    dedup                 ``dedup run --workers W``: end to end, with per-stage seconds
    rensa pipeline        dedup's shingles -> rensa RMinHash (120 perm) -> RMinHashLSH
                          (40 bands of 3) -> pairs whose MinHash Jaccard estimate is >= 0.3
                          -> connected components -> clusters and the kept articles written
                          (JSONL, gzip level 3), as dedup writes them
    datasketch LSH        word 5-gram shingles -> datasketch MinHash (update per shingle)
                          -> MinHashLSH with its defaults (threshold 0.9, 128 perm) ->
                          connected components
    datasketch signatures the naive loop alone (one MinHash per article), for the ratio
    rensa signatures      RMinHash alone

Quality is pair precision / recall / F1 of the clusters against the planted families.
Baselines run up to ``--baseline-max`` articles (the naive loop is slow).

    python benchmarks/speed.py --sizes 10000,100000      # table, results/speed.json, results/speed.png
    python benchmarks/speed.py --sizes 10000,100000,1000000
    python benchmarks/speed.py --sizes 1000000 --only dedup   # re-measure one row, keep the others
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from _data import RESULTS, save_json  # noqa: E402

CACHE = HERE / ".cache"


def corpus(n: int, seed: int = 0) -> Path:
    """The cached synthetic corpus of ``n`` articles (made on first use)."""
    path = CACHE / f"corpus-{n}-seed{seed}.jsonl.gz"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        cmd = [sys.executable, str(HERE / "make_corpus.py"), str(n), "--out", str(path), "--seed", str(seed)]
        subprocess.run(cmd, check=True)
    return path


def truth_of(path: Path) -> dict[str, str]:
    truth_path = path.with_name(path.name.replace(".jsonl.gz", ".truth.jsonl.gz"))
    with gzip.open(truth_path, "rt", encoding="utf-8") as f:
        return {row["id"]: row["family"] for row in map(json.loads, f)}


def quality(truth: dict[str, str], clusters: list[list[str]]) -> dict[str, float]:
    from dedup.metrics import labels_from_clusters, pair_scores

    ids = list(truth)
    scores = pair_scores(labels_from_clusters(ids, clusters), [truth[i] for i in ids])
    return {
        "precision": round(scores.precision, 4),
        "recall": round(scores.recall, 4),
        "f1": round(scores.f1, 4),
    }


def _articles(path: Path) -> list[tuple[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [(row["id"], row["text"]) for row in map(json.loads, f)]


def _components(n: int, pairs: list[tuple[int, int]]) -> list[np.ndarray]:
    from dedup.cluster import components

    labels = components(n, np.array(pairs, dtype=np.int64).reshape(-1, 2))
    order = np.argsort(labels, kind="stable")
    groups = np.split(order, np.flatnonzero(np.diff(labels[order])) + 1)
    return [g for g in groups if len(g) > 1]


def _word_shingles(text: str) -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from dedup.text.normalize import shingles, tokenize

    return list(shingles(tokenize(text), stopwords=frozenset(ENGLISH_STOP_WORDS)))


def _write_kept(articles: list[tuple[str, str]], clusters: list[list[str]]) -> None:
    """Write the clusters and the deduplicated articles (first of each cluster kept), gzipped
    at dedup's level, to a temporary folder: the output a pipeline has to produce."""
    dropped = {m for c in clusters for m in c[1:]}
    with tempfile.TemporaryDirectory() as out:
        with open(Path(out, "clusters.jsonl"), "w", encoding="utf-8") as f:
            f.writelines(json.dumps({"members": c}) + "\n" for c in clusters)
        with gzip.open(Path(out, "deduplicated.jsonl.gz"), "wt", encoding="utf-8", compresslevel=3) as f:
            f.writelines(json.dumps({"id": i, "text": t}) + "\n" for i, t in articles if i not in dropped)


def baseline(method: str, path: Path) -> dict:
    """Run one baseline on a corpus (in this process) and return its timing (reading the corpus
    included, as it is in dedup's) and clusters."""
    t0 = time.perf_counter()
    articles = _articles(path)
    clusters: list[list[str]] | None = None
    if method == "datasketch signatures":
        from datasketch import MinHash

        for _, text in articles:
            m = MinHash(num_perm=128)
            for s in _word_shingles(text):
                m.update(s.encode("utf-8"))
    elif method == "rensa signatures":
        from rensa import RMinHash

        for _, text in articles:
            m = RMinHash(num_perm=120, seed=1)
            m.update(_word_shingles(text))
            m.digest()
    elif method == "rensa pipeline":
        from rensa import RMinHash, RMinHashLSH

        lsh = RMinHashLSH(threshold=0.3, num_perm=120, num_bands=40)
        hashes = []
        for k, (_, text) in enumerate(articles):
            m = RMinHash(num_perm=120, seed=1)
            m.update(_word_shingles(text))
            lsh.insert(k, m)
            hashes.append(m)
        # verified the way a MinHash-only pipeline does: by the Jaccard estimate of the pair
        pairs = [
            (k, j)
            for k, m in enumerate(hashes)
            for j in lsh.query(m)
            if j > k and m.jaccard(hashes[j]) >= 0.3
        ]
        clusters = [[articles[i][0] for i in g] for g in _components(len(articles), pairs)]
        _write_kept(articles, clusters)  # and writes what dedup writes: clusters, the kept articles
    elif method == "datasketch LSH":
        from datasketch import MinHash, MinHashLSH

        from dedup.text.normalize import shingles, tokenize

        lsh = MinHashLSH()  # its defaults: threshold 0.9, num_perm 128
        hashes = []
        for k, (_, text) in enumerate(articles):
            m = MinHash(num_perm=128)
            for s in shingles(tokenize(text), size=5):
                m.update(s.encode("utf-8"))
            lsh.insert(k, m)
            hashes.append(m)
        pairs = [(k, j) for k, m in enumerate(hashes) for j in lsh.query(m) if j > k]
        clusters = [[articles[i][0] for i in g] for g in _components(len(articles), pairs)]
    else:
        raise ValueError(method)
    return {"seconds": time.perf_counter() - t0, "clusters": clusters}


BASELINES = ("rensa pipeline", "datasketch LSH", "rensa signatures", "datasketch signatures")


def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def measure(args: list[str]) -> dict:
    """Run ``speed.py _run ...`` in a fresh process; its JSON report, with wall seconds."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "_run", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise click.ClickException(f"{' '.join(args)} failed:\n{done.stderr[-2000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    report["wall_s"] = round(time.perf_counter() - t0, 2)
    return report


@click.group(invoke_without_command=True)
@click.option("--sizes", default="10000,100000", show_default=True, help="Corpus sizes, comma-separated.")
@click.option("--workers", default=None, type=int, help="dedup's --workers (default: all cores).")
@click.option("--baseline-max", default=100_000, show_default=True, help="Largest N the baselines run on.")
@click.option(
    "--only",
    default=None,
    help="Run only these methods (comma-separated, e.g. dedup) and keep the other rows of "
    "results/speed.json as they are.",
)
@click.pass_context
def main(ctx: click.Context, sizes: str, workers: int | None, baseline_max: int, only: str | None) -> None:
    """Print the table, save results/speed.json and the log-log plot results/speed.png."""
    if ctx.invoked_subcommand is not None:
        return
    run_ns = [int(s) for s in sizes.split(",")]
    methods = ["dedup", *BASELINES] if only is None else only.split(",")
    if unknown := set(methods) - {"dedup", *BASELINES}:
        raise click.BadParameter(f"unknown methods {sorted(unknown)}", param_hint="--only")
    rows = []
    if only is not None and (RESULTS / "speed.json").exists():  # keep the rows not re-measured
        kept = json.loads((RESULTS / "speed.json").read_text())["rows"]
        rows = [r for r in kept if not (r["method"] in methods and r["n"] in run_ns)]
    for n in run_ns:
        path = corpus(n)
        for method in methods:
            if method == "dedup":
                rows.append({"n": n, "method": "dedup", **measure(["dedup", str(path), str(workers or 0)])})
            elif n <= baseline_max:
                rows.append({"n": n, "method": method, **measure([method, str(path)])})
    rows.sort(key=lambda r: (r["n"], ["dedup", *BASELINES].index(r["method"])))
    ns = sorted({r["n"] for r in rows if r["method"] == "dedup"})
    by_n = {n: next(r for r in rows if r["n"] == n and r["method"] == "dedup") for n in ns}
    head = ("N", "method", "seconds", "art/s", "x dedup", "peak MB", "P", "R", "F1")
    click.echo("{:>9} {:22} {:>9} {:>9} {:>8} {:>8} {:>6} {:>6} {:>6}".format(*head))
    for r in rows:
        ratio = r["seconds"] / by_n[r["n"]]["seconds"]
        q = r.get("quality") or {}
        scores = " ".join(f"{q.get(k, float('nan')):>6.3f}" for k in ("precision", "recall", "f1"))
        click.echo(
            f"{r['n']:>9,} {r['method']:22} {r['seconds']:>9.1f} {r['n'] / r['seconds']:>9,.0f} "
            f"{ratio:>8.2f} {r['peak_mb']:>8,.0f} {scores}"
        )
    for n in ns:
        stages = by_n[n]["stages"]
        click.echo(f"dedup stages at {n:,}: " + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()))
    slope = None
    if len(ns) >= 2:
        x = np.log([float(n) for n in ns])
        y = np.log([by_n[n]["seconds"] for n in ns])
        slope = float(np.polyfit(x, y, 1)[0])
        click.echo(f"log-log slope of dedup's time vs N: {slope:.2f}")
    path = save_json("speed", {"rows": rows, "loglog_slope": slope, "cpus": os.cpu_count()})
    plot(rows, RESULTS / "speed.png")
    click.echo(f"saved {path} and {RESULTS / 'speed.png'}")


def plot(rows: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for method in dict.fromkeys(r["method"] for r in rows):
        pts = sorted((r["n"], r["seconds"]) for r in rows if r["method"] == method)
        ax.plot(*zip(*pts, strict=True), marker="o", label=method)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("articles")
    ax.set_ylabel("seconds")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    tmp = out.with_name(out.name + ".tmp.png")
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, out)


@main.command("_run", hidden=True)
@click.argument("method")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.argument("workers", required=False, type=int)
def run_one(method: str, path: Path, workers: int | None) -> None:
    """One measurement, in this process; prints one JSON line."""
    truth = truth_of(path)
    if method == "dedup":
        with tempfile.TemporaryDirectory() as out:
            cmd = [sys.executable, "-m", "dedup", "run", str(path), "--out", out, "-q"]
            if workers:
                cmd += ["--workers", str(workers)]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True)
            seconds = time.perf_counter() - t0
            summary = json.loads(Path(out, "summary.json").read_text())
            with open(Path(out, "clusters.jsonl"), encoding="utf-8") as f:
                clusters = [row["members"] for row in map(json.loads, f)]
        report = {
            "seconds": round(seconds, 2),
            "stages": {k: v for k, v in summary["timings_s"].items() if k != "total"},
            "candidates": summary["candidates"]["pairs"],
            "verified": summary["candidates"]["verified_pairs"],
            "spill_bytes": summary.get("spill", {}).get("bytes"),
            "quality": quality(truth, clusters),
        }
    else:
        result = baseline(method, path)
        report = {"seconds": round(result["seconds"], 2)}
        if result["clusters"] is not None:
            report["quality"] = quality(truth, result["clusters"])
    report["peak_mb"] = round(_peak_mb(), 1)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
