"""Cross-lingual matches in the persistent index: agreement with a batch run, and speed.

Data: a subset of ../shared/data/wmt-variants-dev: every story's source (``uk`` or ``ru``) and
its first ``--per`` English translations (666 articles at 2). The batch run is
``find_duplicates(subset, cross_lingual=True)``; each index (SQLite, ``Index.open(...,
cross_lingual=True)``, a new file each time) is filled with the same articles by ``add_many``
in batches of each ``--batches`` size (``all``: one batch). For each: seconds and adds/s, the
links the index holds and whether they equal the batch run's (ids, cosine, margin), and the
cross-language pairs of articles the adds reported against the batch run's. Then ``--queries``
new English translations (each story's next one, held nowhere) are asked of the index filled in
one batch: p50 and p99 ms of ``idx.query``, and how many found their story's source across
languages. Fingerprints alone by default (``--embeddings yes`` to use the extra, slowly).

    python benchmarks/index_xling.py         # prints a table, saves results/index_xling.json
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import load_wmt, save_json  # noqa: E402

from dedup import find_duplicates  # noqa: E402
from dedup.index import Index  # noqa: E402


def subset(per: int) -> tuple[list[dict], list[dict]]:
    """Each story's source and first ``per`` English translations, and its next translation."""
    held, asked, seen = [], [], {}
    for a in load_wmt(None):
        if a["lang"] != "en":
            held.append(a)
            continue
        k = seen.get(a["cluster"], 0)
        seen[a["cluster"]] = k + 1
        if k < per:
            held.append(a)
        elif k == per:
            asked.append(a)
    return held, asked


@click.command()
@click.option("--per", default=2, show_default=True, help="English translations held per story.")
@click.option("--batches", default="all,100,10", show_default=True, help="add_many batch sizes.")
@click.option("--queries", default=100, show_default=True, help="New translations asked.")
@click.option("--embeddings", type=click.Choice(["no", "yes"]), default="no", show_default=True)
def main(per: int, batches: str, queries: int, embeddings: str) -> None:
    """Print the table, save results/index_xling.json."""
    held, asked = subset(per)
    articles = [(a["id"], a["text"]) for a in held]
    t0 = time.perf_counter()
    run = find_duplicates(articles, cross_lingual=True, xling_embeddings=embeddings, workers=2)
    batch_seconds = time.perf_counter() - t0
    want = {(frozenset((x.a, x.b)), x.cosine, x.margin) for x in run.links}
    lang = run.languages
    pairs = {
        frozenset((x, y)) for c in run.clusters for x in c.members for y in c.members if lang[x] != lang[y]
    }
    click.echo(f"{len(articles)} articles held; batch run {batch_seconds:.1f} s, {len(run.links)} links")
    click.echo(f"{'batch':>6} {'s':>7} {'adds/s':>7} {'links':>6} {'= run':>6} {'pairs':>6} {'of run':>7}")
    rows, filled = [], None
    for size in batches.split(","):
        n = len(articles) if size == "all" else int(size)
        location = os.path.join(tempfile.mkdtemp(prefix="index-xling-"), "x.db")
        t0 = time.perf_counter()
        with Index.open(location, cross_lingual=True, xling_embeddings=embeddings) as idx:
            found = idx.add_many(articles, batch=n)
            links = idx.links()
        seconds = time.perf_counter() - t0
        have = {(frozenset((x.a, x.b)), x.cosine, x.margin) for x in links}
        reported = {
            frozenset((a, m.id))
            for (a, _), ms in zip(articles, found, strict=True)
            for m in ms
            if m.kind == "cross_lingual"
        }
        row = {
            "batch": size,
            "seconds": round(seconds, 2),
            "adds_per_second": round(len(articles) / seconds, 1),
            "links": len(links),
            "links_equal_run": have == want,
            "links_only_index": len(have - want),
            "links_only_run": len(want - have),
            "cross_pairs_reported": len(reported),
            "cross_pairs_of_run_reported": len(reported & pairs),
            "cross_pairs_run": len(pairs),
        }
        rows.append(row)
        filled = filled or location
        click.echo(
            f"{size:>6} {seconds:>7.1f} {row['adds_per_second']:>7.1f} {len(links):>6} "
            f"{'yes' if row['links_equal_run'] else 'no':>6} {len(reported):>6} "
            f"{row['cross_pairs_of_run_reported']:>3}/{len(pairs)}"
        )
    source = {a["cluster"]: a["id"] for a in held if a["lang"] != "en"}
    times, hits = [], 0
    with Index.open(filled) as idx:
        for a in asked[:queries]:
            t0 = time.perf_counter()
            matches = idx.query(a["text"])
            times.append((time.perf_counter() - t0) * 1000)
            hits += any(m.kind == "cross_lingual" and m.id == source[a["cluster"]] for m in matches)
    asked_n = len(times)
    query = {
        "queries": asked_n,
        "found_source": hits,
        "p50_ms": round(statistics.median(times), 1) if times else None,
        "p99_ms": round(sorted(times)[int(0.99 * (asked_n - 1))], 1) if times else None,
    }
    click.echo(
        f"query: {asked_n} new translations, {hits} found their source across languages; "
        f"p50 {query['p50_ms']} ms, p99 {query['p99_ms']} ms"
    )
    out = save_json(
        "index_xling",
        {
            "data": "wmt-variants-dev subset",
            "articles": len(articles),
            "embeddings": embeddings,
            "batch_run": {
                "seconds": round(batch_seconds, 2),
                "links": len(run.links),
                "cross_pairs": len(pairs),
            },
            "stores": {"sqlite": rows},
            "query": query,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        },
    )
    click.echo(f"saved {out}")


if __name__ == "__main__":
    main()
