"""Cross-lingual linking on the WMT dev set: each English translation linked to its Ukrainian or
Russian source, without translating.

Data: ../shared/data/wmt-variants-dev (all 3,002 articles: 222 sources in ``uk`` or ``ru``, 2,780
English translations; gold = ``cluster``). The run is ``find_duplicates(...,
cross_lingual=True)``: the same-language pipeline over every article, each article's
language detected (:mod:`dedup.text.language`), then the groups linked across languages by their
fingerprints (:mod:`dedup.crosslingual`).

Two runs: the fingerprints alone (``xling_embeddings="no"``), and with the multilingual
embeddings of ``newsdedup[xling]`` (:mod:`dedup.text.embeddings`; left out if it is not installed).
Scores: over the pairs (source, English article) that the output clusters hold, precision,
recall and F1 against the gold pairs (2,780); the same split by the source's language; the links
made between two non-English groups (there is no true one here); and a sweep of the margin
threshold with the fingerprints alone. Speed: articles per second of the whole run (the
same-language path included) and seconds per stage, on this machine. Also: how often the
language detected differs from the data's label; and the paragraph links ``dedup align`` finds
(its defaults: fingerprints across languages) on the 84 cross-language pairs of
``alignment.jsonl.gz``, link precision, recall and F1 counted as in ``benchmarks/alignment.py``.

    python benchmarks/xling.py              # prints a table, saves results/xling.json
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import platform
import sys
import time
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import WMT_DEV, load_wmt, save_json  # noqa: E402

from dedup import find_duplicates  # noqa: E402
from dedup.crosslingual import link_languages  # noqa: E402
from dedup.report.align import align  # noqa: E402
from dedup.text.embeddings import available  # noqa: E402


def cross_pairs(clusters: list[list[str]], lang: dict[str, str]) -> set[tuple[str, str]]:
    """The (non-English, English) pairs of articles that share a cluster."""
    out = set()
    for members in clusters:
        for x, y in itertools.product(members, members):
            if lang[x] != "en" and lang[y] == "en":
                out.add((x, y))
    return out


def prf(found: set, truth: set) -> dict[str, float]:
    tp = len(found & truth)
    p = tp / len(found) if found else 0.0
    r = tp / len(truth) if truth else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "pairs_found": len(found),
        "true_pairs": len(truth),
    }


@click.command()
@click.option("--threshold", default=1.4, show_default=True, help="Margin a cross-lingual link needs.")
@click.option("--sweep", default="1.1,1.2,1.3,1.4,1.5,1.6,1.8", show_default=True, help="Margins to sweep.")
@click.option("--workers", default=2, show_default=True, help="Featurising processes.")
def main(threshold: float, sweep: str, workers: int) -> None:
    """Print the table, save results/xling.json."""
    articles = load_wmt(None)
    pairs = [(a["id"], a["text"]) for a in articles]
    gold = {a["id"]: a["cluster"] for a in articles}
    label = {a["id"]: a["lang"] for a in articles}
    sources = [a["id"] for a in articles if a["lang"] != "en"]
    english = [a["id"] for a in articles if a["lang"] == "en"]
    truth = {(s, e) for s in sources for e in english if gold[s] == gold[e]}

    t0 = time.perf_counter()
    same = find_duplicates(pairs, workers=workers)
    t_same = time.perf_counter() - t0
    runs: dict[str, dict] = {}
    for name, embeddings in (("fingerprints (no extra)", "no"), ("fingerprints + embeddings (xling)", "yes")):
        if embeddings == "yes" and not available():
            click.echo("the xling extra is not installed: no run with embeddings", err=True)
            continue
        t0 = time.perf_counter()
        linked = find_duplicates(
            pairs, workers=workers, cross_lingual=True, xling_threshold=threshold, xling_embeddings=embeddings
        )
        seconds = time.perf_counter() - t0
        found = cross_pairs([c.members for c in linked.clusters], label)
        by_source = {}
        for code in sorted({label[s] for s in sources}):
            mine = {s for s in sources if label[s] == code}
            by_source[code] = prf({p for p in found if p[0] in mine}, {p for p in truth if p[0] in mine})
        runs[name] = {
            "scores": prf(found, truth),
            "by_source_language": by_source,
            "links": len(linked.links),
            "links_between_non_english": sum("en" not in (x.lang_a, x.lang_b) for x in linked.links),
            "seconds": round(seconds, 3),
            "articles_per_second": round(len(articles) / seconds, 1),
            "stages_s": linked.summary["timings_s"],
            "embeddings": linked.summary["cross_lingual"]["embeddings"],
        }
    langs = [linked.languages[a["id"]] for a in articles]
    wrong_lang = [
        (a["id"], a["lang"], code) for a, code in zip(articles, langs, strict=True) if code != a["lang"]
    ]
    baseline = prf(cross_pairs([c.members for c in same.clusters], label), truth)

    # paragraph links on the cross-language pairs of alignment.jsonl.gz (dedup align's default)
    with gzip.open(WMT_DEV / "alignment.jsonl.gz", "rt", encoding="utf-8") as f:
        gold_rows = [r for r in map(json.loads, f) if r["lang_a"] != r["lang_b"]]
    texts = dict(pairs)
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
    t_align = time.perf_counter() - t0
    lp, lr = tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0
    paragraphs = {
        "pairs": len(gold_rows),
        "precision": round(lp, 4),
        "recall": round(lr, 4),
        "f1": round(2 * lp * lr / (lp + lr), 4) if lp + lr else 0.0,
        "seconds": round(t_align, 3),
    }

    swept = []
    for value in (float(x) for x in sweep.split(",") if x):
        other, _ = link_languages(same, pairs, langs, threshold=value)
        swept.append(
            {"threshold": value, **prf(cross_pairs([c.members for c in other.clusters], label), truth)}
        )

    click.echo(
        f"{len(articles):,} articles ({len(sources)} sources, {len(english):,} English), margin {threshold}"
    )
    click.echo(f"{'':34} {'precision':>9} {'recall':>7} {'F1':>6} {'pairs':>6} {'links':>6} {'art/s':>7}")
    for name, run in runs.items():
        rows = [
            (name, run["scores"]),
            *((f"  sources in {k}", v) for k, v in run["by_source_language"].items()),
        ]
        for row, s in rows:
            more = f" {run['links']:>6} {run['articles_per_second']:>7,.0f}" if row == name else ""
            cells = f"{s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1']:>6.3f} {s['pairs_found']:>6,}"
            click.echo(f"{row:34} {cells}{more}")
    s = baseline
    click.echo(
        f"{'same-language path alone':34} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1']:>6.3f} "
        f"{s['pairs_found']:>6,} {'':>6} {len(articles) / t_same:>7,.0f}"
    )
    for name, run in runs.items():
        stages = ", ".join(f"{k} {v:.2f}" for k, v in run["stages_s"].items())
        click.echo(
            f"{name}: {run['seconds']:.1f} s ({stages}); links between two non-English groups: "
            f"{run['links_between_non_english']}"
        )
    click.echo(
        f"paragraph links, {paragraphs['pairs']} cross-language pairs of alignment.jsonl.gz (dedup align): "
        f"P {paragraphs['precision']:.3f} R {paragraphs['recall']:.3f} F1 {paragraphs['f1']:.3f} "
        f"({paragraphs['seconds']:.1f} s)"
    )
    click.echo(f"--workers {workers}, {os.cpu_count()} cores")
    click.echo(f"language detected differs from the label: {len(wrong_lang)} {wrong_lang[:3]}")
    click.echo(
        "margin sweep, fingerprints alone: "
        + ", ".join(f"{s['threshold']}: F1 {s['f1']:.3f} (P {s['precision']:.3f})" for s in swept)
    )
    out = save_json(
        "xling",
        {
            "data": str(WMT_DEV.name),
            "threshold": threshold,
            "runs": runs,
            "same_language_path_alone": baseline,
            "paragraph_links_cross_language": paragraphs,
            "same_language_seconds": round(t_same, 3),
            "language_disagreements": wrong_lang,
            "sweep_fingerprints_alone": swept,
            "workers": workers,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        },
    )
    click.echo(f"saved {out}")


if __name__ == "__main__":
    main()
