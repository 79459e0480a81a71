"""Cross-lingual linking on the WMT dev sets that hold sources: each English translation linked
to its Ukrainian or Russian original, without translating; and what linking does to the
same-language results and to the speed of a run.

Data: ../shared/data/wmt-variants-dev (3,002 articles: 222 sources in ``uk`` or ``ru``, 2,780
English translations), -v2 (1,159: 116 ``ru`` sources, other MT systems) and -v3 (1,100: 100
``ru`` sources, with same-story documents from rival outlets). Gold: ``cluster``.

For each set, three runs of ``find_duplicates`` at the library's defaults, in turn in this one
process (:func:`xling_heldout.score_set`): without ``cross_lingual``; with it and the
fingerprints alone (``xling_embeddings="no"``); with the multilingual embeddings of
``newsdedup[xling]`` (left out if it is not installed). Scores: source<->translation pairs (pairs
of articles in different languages sharing an output cluster) per source language; same-language
pairs with and without ``cross_lingual`` (linking must leave them as they are: the table says
where F1 moves by more than 0.002); articles per second of each whole run. Then a sweep of the
margin with the fingerprints alone, and (``--paragraphs``) the paragraph links ``dedup align``
finds on the 84 cross-language pairs of the dev set's ``alignment.jsonl.gz``.

    python benchmarks/xling.py              # prints a table, saves results/xling.json
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import sys
import time
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import DATASETS, WMT_DEV, load_set, save_json  # noqa: E402
from _xling_score import cross_pairs, gold_clusters, prf  # noqa: E402
from xling_heldout import score_set, show  # noqa: E402

from dedup import find_duplicates  # noqa: E402
from dedup.crosslingual import link_languages  # noqa: E402
from dedup.params import XLING_THRESHOLDS  # noqa: E402
from dedup.report.align import align  # noqa: E402

SETS = ("dev", "v2", "v3")
"""The dev sets with sources (the others are English only)."""


def sweep(articles: list[dict], margins: list[float], workers: int) -> list[dict]:
    """Source<->translation scores with the fingerprints alone at each margin (one same-language
    run, linked again for each)."""
    pairs = [(a["id"], a["text"]) for a in articles]
    lang = {a["id"]: a["lang"] for a in articles}
    truth = cross_pairs(gold_clusters(articles), lang)
    same = find_duplicates(pairs, workers=workers)
    langs = [same.languages[a["id"]] for a in articles]
    out = []
    for margin in margins:
        linked, _ = link_languages(same, pairs, langs, threshold=margin)
        out.append(
            {"threshold": margin, **prf(cross_pairs([c.members for c in linked.clusters], lang), truth)}
        )
    return out


def paragraphs() -> dict:
    """``dedup align``'s paragraph links on the dev set's cross-language gold pairs."""
    with gzip.open(WMT_DEV / "alignment.jsonl.gz", "rt", encoding="utf-8") as f:
        gold_rows = [r for r in map(json.loads, f) if r["lang_a"] != r["lang_b"]]
    texts = {a["id"]: a["text"] for a in load_set("dev", None)}
    t0 = time.perf_counter()
    tp = fp = fn = 0
    for row in gold_rows:
        gold_links = {tuple(x) for x in row["links"]}
        predicted = align(texts[row["a"]], texts[row["b"]]).pairs()
        tp, fp, fn = (
            tp + len(gold_links & predicted),
            fp + len(predicted - gold_links),
            fn + len(gold_links - predicted),
        )
    p, r = tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0
    return {
        "pairs": len(gold_rows),
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "seconds": round(time.perf_counter() - t0, 3),
    }


@click.command()
@click.option("--only", type=click.Choice(SETS), multiple=True, help="Score only these sets.")
@click.option(
    "--embeddings",
    type=click.Choice(["no", "yes", "both"]),
    default="both",
    show_default=True,
    help="Runs: fingerprints alone (no), with the xling extra (yes), or both.",
)
@click.option(
    "--sweep", "margins", default="1.1,1.2,1.3,1.4,1.5", show_default=True, help="Margins to sweep."
)
@click.option(
    "--paragraphs/--no-paragraphs", "with_paragraphs", default=False, help="Also score dedup align."
)
@click.option("--workers", default=2, show_default=True, help="Featurising processes.")
def main(only: tuple[str, ...], embeddings: str, margins: str, with_paragraphs: bool, workers: int) -> None:
    """Print the tables, save results/xling.json."""
    wanted = ("no", "yes") if embeddings == "both" else (embeddings,)
    sets, swept = {}, {}
    for name in only or SETS:
        articles = load_set(name, None)
        sets[name] = s = score_set(articles, wanted, workers)
        show(f"{name} ({DATASETS[name].name})", s)
        swept[name] = sweep(articles, [float(x) for x in margins.split(",") if x], workers)
    click.echo(f"\n{'':10} {'same-language F1':>26} {'source<->translation F1':>24} {'articles/s':>22}")
    click.echo(
        f"{'set':10} {'off':>8} {'fp':>8} {'emb':>8} {'fp':>11} {'emb':>12} {'off':>7} {'fp':>7} {'emb':>6}"
    )
    moved = []
    for name, s in sets.items():
        off = s["without_cross_lingual"]
        runs = s["runs"]

        def cell(run: str, key: str, s: dict = s, runs: dict = runs) -> str:
            return f"{runs[run][key]['f1']:.4f}" if run in runs else "-"

        def speed(run: str, runs: dict = runs) -> str:
            return f"{runs[run]['articles_per_second']:.0f}" if run in runs else "-"

        for run, r in runs.items():
            if abs(r["same_language"]["f1"] - off["same_language"]["f1"]) > 0.002:
                moved.append(f"{name} {run}")
        click.echo(
            f"{name:10} {off['same_language']['f1']:>8.4f} {cell('fingerprints', 'same_language'):>8} "
            f"{cell('embeddings', 'same_language'):>8} {cell('fingerprints', 'cross'):>11} "
            f"{cell('embeddings', 'cross'):>12} {off['articles_per_second']:>7.0f} "
            f"{speed('fingerprints'):>7} {speed('embeddings'):>6}"
        )
    click.echo(f"same-language F1 moved by more than 0.002: {', '.join(moved) or 'nowhere'}")
    for name, rows in swept.items():
        click.echo(
            f"margin sweep, fingerprints alone, {name}: "
            + ", ".join(f"{r['threshold']}: F1 {r['f1']:.3f} (P {r['precision']:.3f})" for r in rows)
        )
    aligned = paragraphs() if with_paragraphs else None
    if aligned:
        click.echo(
            f"paragraph links, {aligned['pairs']} cross-language pairs of alignment.jsonl.gz (dedup align): "
            f"P {aligned['precision']:.3f} R {aligned['recall']:.3f} F1 {aligned['f1']:.3f} "
            f"({aligned['seconds']:.1f} s)"
        )
    out = save_json(
        "xling",
        {
            "data": {name: DATASETS[name].name for name in sets},
            "xling_thresholds": XLING_THRESHOLDS,
            "sets": sets,
            "same_language_moved": moved,
            "sweep_fingerprints_alone": swept,
            "paragraph_links_cross_language": aligned,
            "workers": workers,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        },
    )
    click.echo(f"saved {out}")


if __name__ == "__main__":
    main()
