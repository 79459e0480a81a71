"""Cross-lingual linking judged on held-out languages and on short texts.

Data: the sets ``benchmarks/xling_data.py`` builds from public WMT system outputs (WMT21 news
in Japanese, Icelandic, French and German, into and out of English and French<->German; WMT22
short texts: conversations, product reviews, social posts, one-line messages; see
docs/xling-data.md). None of these languages or texts was used to tune the linking.

For each set, three runs of ``find_duplicates`` at the library's defaults: without
``cross_lingual``; with it and the fingerprints alone (``xling_embeddings="no"``); and with the
multilingual embeddings of ``newsdedup[xling]`` (``"yes"``; left out if it is not installed).
Scores (:mod:`_xling_score`): pairs of articles in different languages that share an output
cluster against the gold's, per source language (the language the story was written in) and
per language pair; pairs in one language, with and without ``cross_lingual`` (linking must not
change them); per domain on the short-text set; how often the detected language differs from
the label; seconds and articles per second of each whole run.

    python benchmarks/xling_data.py        # once: builds benchmarks/.cache/xling/
    python benchmarks/xling_heldout.py     # prints a table, saves results/xling_heldout.json
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import RESULTS, save_json  # noqa: E402
from _xling_score import (  # noqa: E402
    by_language_pair,
    by_source_language,
    cross_pairs,
    gold_clusters,
    prf,
    same_pairs,
    split_prf,
)
from xling_data import SPECS, load  # noqa: E402

from dedup import find_duplicates  # noqa: E402
from dedup.params import XLING_THRESHOLDS  # noqa: E402
from dedup.text.embeddings import available  # noqa: E402

RUNS = {"fingerprints": "no", "embeddings": "yes"}


def score_set(articles: list[dict], embeddings: tuple[str, ...], workers: int) -> dict:
    """The three runs on the articles of one set and their scores."""
    pairs = [(a["id"], a["text"]) for a in articles]
    lang = {a["id"]: a["lang"] for a in articles}
    origin = {a["id"]: a["origlang"] for a in articles}
    domain = {a["id"]: str(a["domain"]) for a in articles}
    gold = gold_clusters(articles)
    truth_cross, truth_same = cross_pairs(gold, lang), same_pairs(gold, lang)

    t0 = time.perf_counter()
    alone = find_duplicates(pairs, workers=workers)
    seconds = time.perf_counter() - t0
    same_off = prf(same_pairs([c.members for c in alone.clusters], lang), truth_same)
    detected = alone.languages
    wrong = Counter(f"{lang[i]}->{code}" for i, code in detected.items() if code != lang[i])
    out = {
        "articles": len(articles),
        "clusters": len(gold),
        "languages": dict(sorted(Counter(lang.values()).items())),
        "true_cross_pairs": len(truth_cross),
        "true_same_pairs": len(truth_same),
        "language_disagreements": dict(wrong.most_common()),
        "without_cross_lingual": {
            "same_language": same_off,
            "seconds": round(seconds, 2),
            "articles_per_second": round(len(articles) / seconds, 1),
        },
        "runs": {},
    }
    for run, value in RUNS.items():
        if value not in embeddings:
            continue
        if value == "yes" and not available():
            click.echo("the xling extra is not installed: no run with embeddings", err=True)
            continue
        t0 = time.perf_counter()
        linked = find_duplicates(pairs, workers=workers, cross_lingual=True, xling_embeddings=value)
        seconds = time.perf_counter() - t0
        clusters = [c.members for c in linked.clusters]
        found = cross_pairs(clusters, lang)
        result = {
            "cross": prf(found, truth_cross),
            "by_source_language": by_source_language(found, truth_cross, origin),
            "by_language_pair": by_language_pair(found, truth_cross, lang),
            "same_language": prf(same_pairs(clusters, lang), truth_same),
            "links": len(linked.links),
            "largest_cluster": max(map(len, clusters), default=0),
            "seconds": round(seconds, 2),
            "articles_per_second": round(len(articles) / seconds, 1),
            "stages_s": linked.summary.get("timings_s", {}),
        }
        if len(set(domain.values())) > 1:
            result["by_domain"] = split_prf(found, truth_cross, lambda p: {domain[p[0]], domain[p[1]]})
        out["runs"][run] = result
    return out


def row(label: str, s: dict, extra: str = "") -> str:
    return (
        f"{label:30} {s['precision']:>6.3f} {s['recall']:>6.3f} {s['f1']:>6.3f} "
        f"{s['pairs_found']:>7,} {s['true_pairs']:>7,}{extra}"
    )


def show(name: str, s: dict) -> None:
    """Print one set's table."""
    off = s["without_cross_lingual"]
    wrong = s["language_disagreements"]
    click.echo(
        f"\n{name}: {s['articles']:,} articles, {s['clusters']} clusters "
        f"({', '.join(f'{k} {v}' for k, v in s['languages'].items())}); language detected != label: "
        f"{sum(wrong.values())} {dict(list(wrong.items())[:4])}"
    )
    click.echo(f"{'':30} {'P':>6} {'R':>6} {'F1':>6} {'found':>7} {'true':>7}      s  art/s")
    speed = f" {off['seconds']:>6.1f} {off['articles_per_second']:>6.0f}"
    click.echo(row("same-language, no xling", off["same_language"], speed))
    for run, r in s["runs"].items():
        speed = f" {r['seconds']:>6.1f} {r['articles_per_second']:>6.0f}"
        click.echo(row(f"[{run}] cross-language", r["cross"], speed))
        for code, v in r["by_source_language"].items():
            click.echo(row(f"  stories written in {code}", v))
        pairs = r["by_language_pair"]
        if len(pairs) > 1:
            for key, v in pairs.items():
                if v["true_pairs"]:
                    click.echo(row(f"  languages {key}", v))
            wrong_only = sum(v["pairs_found"] for v in pairs.values() if not v["true_pairs"])
            if wrong_only:
                click.echo(f"{'  languages with no true pair':30} {'':20} {wrong_only:>7,}")
        for key, v in r.get("by_domain", {}).items():
            click.echo(row(f"  domain {key}", v))
        click.echo(row(f"[{run}] same-language", r["same_language"]))


def commit() -> str:
    """The clone's commit (``+`` if its tree has changes), to date the figures."""
    git = ["git", "-C", str(Path(__file__).resolve().parent.parent)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout
    dirty = subprocess.run([*git, "status", "--porcelain", "dedup"], capture_output=True, text=True).stdout
    return head.strip() + ("+" if dirty.strip() else "")


@click.command()
@click.option("--only", type=click.Choice(sorted(SPECS)), multiple=True, help="Score only these sets.")
@click.option(
    "--embeddings",
    type=click.Choice(["no", "yes", "both"]),
    default="both",
    show_default=True,
    help="Runs: fingerprints alone (no), with the xling extra (yes), or both.",
)
@click.option("--workers", default=2, show_default=True, help="Featurising processes.")
@click.option(
    "--keep-done", is_flag=True, help="Keep the saved figures of a set (or part) and do not run it again."
)
def main(only: tuple[str, ...], embeddings: str, workers: int, keep_done: bool) -> None:
    """Print the table, save results/xling_heldout.json."""
    wanted = ("no", "yes") if embeddings == "both" else (embeddings,)
    names = only or tuple(SPECS)
    for name in names:  # fail at once, not after an hour, if a set is not built
        load(name)
    previous = RESULTS / "xling_heldout.json"
    saved = json.loads(previous.read_text())["sets"] if previous.exists() else {}
    sets = saved if only or keep_done else {}
    for name in names:
        articles = load(name)
        subsets = {name: articles}
        if SPECS[name].score_parts:  # each language pair alone, then all mixed
            for pair in sorted({a["pair"] for a in articles}):
                subsets[f"{name}[{pair}]"] = [a for a in articles if a["pair"] == pair]
        for key, chosen in subsets.items():
            if keep_done and key in saved:
                continue
            sets[key] = score_set(chosen, wanted, workers)
            sets[key]["measured"] = {"commit": commit(), "at": time.strftime("%Y-%m-%d %H:%M")}
            show(key, sets[key])
    out = save_json(
        "xling_heldout",
        {
            "data": "benchmarks/.cache/xling (python benchmarks/xling_data.py); docs/xling-data.md",
            "xling_thresholds": XLING_THRESHOLDS,
            "sets": sets,
            "workers": workers,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        },
    )
    click.echo(f"\nsaved {out}")


if __name__ == "__main__":
    main()
