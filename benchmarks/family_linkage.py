"""Families clustered from their units against the exhaustive linkage, on real articles.

Each real set is blown up into big families: every article of a few stories gets light edits (2%
of the words dropped, 2% with two letters swapped, three boilerplate lines: `tune.noisy`), which
go with its gold cluster. A family of a story's translations then holds 80 to 500 members, over
``FAMILY_SIZE``, and is clustered by ``dedup.cluster.split_family``. Each case is run with the
defaults and with ``all_pairs=True`` (every pair verified and linked), for several pair budgets:

    python benchmarks/family_linkage.py             # the table; saved to results/family_linkage.json
    python benchmarks/family_linkage.py --budgets 32

Columns: whether the clusters are those of the exhaustive run (or how many differ), the pair
precision and recall of each against the gold, and the seconds of each run.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import click

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from _data import load_set, save_json  # noqa: E402
from tune import noisy  # noqa: E402

import dedup.cluster as cluster  # noqa: E402
from dedup import find_duplicates  # noqa: E402
from dedup.metrics import score_clusters  # noqa: E402

CASES = [("v3", 8, 8), ("ecb", 10, 8), ("dev", 10, 8), ("v2", 10, 10), ("v3", 8, 36)]
"""(set, stories, light edits per article)."""


def blown_up(name: str, stories: int, edits: int, seed: int = 3) -> list[dict]:
    """The first ``stories`` stories of the set (ECB+: topics), each article with ``edits`` light
    edits of it."""
    articles = load_set(name, None if name == "ecb" else "en")
    key = "topic" if name == "ecb" else "cluster"
    chosen = sorted({a[key] for a in articles})[:stories]
    rng = random.Random(seed)
    out = []
    for a in (a for a in articles if a[key] in chosen):
        out.append(a)
        out.extend(
            {**a, "id": f"{a['id']}~{k}", "text": noisy(a["text"], rng, drop=0.02, swap=0.02)}
            for k in range(edits)
        )
    return out


def _scores(articles: list[dict], clusters: list[list[str]]) -> dict[str, float]:
    s = score_clusters([a["id"] for a in articles], clusters, {a["id"]: a["cluster"] for a in articles})
    return {"precision": round(s.precision, 4), "recall": round(s.recall, 4)}


@click.command()
@click.option("--budgets", default="16,32,64", show_default=True, help="Pair budgets to measure.")
@click.option("--save/--no-save", default=True, help="Save results/family_linkage.json.")
def main(budgets: str, save: bool) -> None:
    """Measure the family path against the exhaustive linkage on blown-up real sets."""
    rows = []
    default = cluster.split_family.__kwdefaults__["budget"]
    for name, stories, edits in CASES:
        articles = blown_up(name, stories, edits)
        t0 = time.perf_counter()
        exhaustive = find_duplicates(articles, all_pairs=True)
        row = {
            "set": name,
            "stories": stories,
            "edits": edits,
            "articles": len(articles),
            "largest_cluster": max(len(c.members) for c in exhaustive.clusters),
            "exhaustive": {
                **_scores(articles, [c.members for c in exhaustive.clusters]),
                "seconds": round(time.perf_counter() - t0, 2),
            },  # fmt: skip
        }
        want = {frozenset(c.members) for c in exhaustive.clusters}
        for budget in [int(b) for b in budgets.split(",")]:
            cluster.split_family.__kwdefaults__["budget"] = budget
            t0 = time.perf_counter()
            got = find_duplicates(articles)
            seconds = time.perf_counter() - t0
            clusters = {frozenset(c.members) for c in got.clusters}
            row[f"budget {budget}"] = {
                "differ": len(clusters ^ want),
                **_scores(articles, [c.members for c in got.clusters]),
                "seconds": round(seconds, 2),
            }
        cluster.split_family.__kwdefaults__["budget"] = default
        rows.append(row)
        cells = [f"{name} {stories}x{edits + 1} ({len(articles):,})", _cell(row["exhaustive"], None)]
        cells += [_cell(v, v["differ"]) for k, v in row.items() if k.startswith("budget")]
        click.echo(" | ".join(cells))
    if save:
        click.echo(f"saved {save_json('family_linkage', {'cases': rows})}")


def _cell(v: dict, differ: int | None) -> str:
    same = "" if differ is None else ("same, " if differ == 0 else f"{differ} differ, ")
    return f"{same}P {v['precision']:.3f} R {v['recall']:.3f} {v['seconds']:.1f}s"


if __name__ == "__main__":
    main()
