"""The measurements behind the pair and cluster decision (dedup.score.decision): each signal on and off,
and a grid of its two weights, on every dev set and on stress variants.

Sets (English members; gold = `cluster`): wmt-variants-dev, -v2, -v3 (rival outlets' reports of
one event: the look-alikes), ose-rewrites-dev (human rewrites), ecbplus-stories-dev (two
look-alike events per topic: only the different-event pairs clustered are counted, they must be
0), the dev set cut to 40 words and made noisy (benchmarks/tune.py), and the look-alike stress
sets of benchmarks/lookalikes.py when present (template siblings, short posts). Each cell is the
pair F1 of the clusters (P when below 0.995); the last column the worst F1 over the sets.

    python benchmarks/decision.py              # table, saves results/decision.json
    python benchmarks/decision.py --grid       # also number_weight x cohesion
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import DATA, ROOT, load_wmt, save_json  # noqa: E402
from tune import variants  # noqa: E402

from dedup import find_duplicates  # noqa: E402
from dedup.metrics import score_clusters  # noqa: E402
from dedup.params import Params  # noqa: E402

SETS = {
    "dev": "wmt-variants-dev",
    "v2": "wmt-variants-dev-v2",
    "v3": "wmt-variants-dev-v3",
    "ose": "ose-rewrites-dev",
    "ecb": "ecbplus-stories-dev",
}
TODAY = dict(sentence_order=False, number_weight=0.0, cohesion=0.0)
"""The decision before this measurement: the cosine and the sentence match in any order."""
_D = Params()
ORDER, NUMBERS, COHESION = (
    {"sentence_order": True},
    {"number_weight": _D.number_weight},
    {"cohesion": _D.cohesion},
)
CONFIGS = {
    "before: cosine + match in any order": TODAY,
    "+ order": {**TODAY, **ORDER},
    "+ numbers": {**TODAY, **NUMBERS},
    "+ cohesion": {**TODAY, **COHESION},
    "+ order + numbers": {**TODAY, **ORDER, **NUMBERS},
    "+ order + cohesion": {**TODAY, **ORDER, **COHESION},
    "+ numbers + cohesion": {**TODAY, **NUMBERS, **COHESION},
    "all three (defaults)": {},
}


def load_sets() -> dict[str, list[dict]]:
    """Every set measured, by short name."""
    out = {name: load_wmt("en", DATA / folder) for name, folder in SETS.items()}
    stress = variants(out["dev"])
    out["dev-40w"] = stress["short-40w"]
    out["dev-noisy"] = stress["noisy"]
    out["dev-40w+noisy"] = stress["short-40w+noisy"]
    try:
        from lookalikes import short_posts, template_listings
    except ImportError:  # (the stress module is optional here)
        pass
    else:
        out["templates"] = template_listings()
        out["posts"] = short_posts()
    return out


def seeds_ok(params: dict) -> bool:
    arts = [(p.stem, p.read_text(encoding="utf-8")) for p in sorted((ROOT / "seeds").glob("*.txt"))]
    clusters = [sorted(m[:3] for m in c.members) for c in find_duplicates(arts, **params).clusters]
    return clusters == [["000", "004"]]


def measure(sets: dict[str, list[dict]], params: dict) -> dict[str, dict]:
    """Pair scores of the defaults with ``params`` on each set (ECB+: pairs of different events)."""
    out = {}
    for name, articles in sets.items():
        t0 = time.perf_counter()
        result = find_duplicates(articles, **params)
        seconds = time.perf_counter() - t0
        gold = {a["id"]: a["cluster"] for a in articles}
        ids = [a["id"] for a in articles]
        if name == "ecb":
            wrong = sum(
                1
                for c in result.clusters
                for k, x in enumerate(c.members)
                for y in c.members[k + 1 :]
                if gold[x] != gold[y]
            )
            out[name] = {"different_event_pairs": wrong, "seconds": round(seconds, 2)}
            continue
        s = score_clusters(ids, [c.members for c in result.clusters], gold)
        out[name] = {**s.to_dict(), "seconds": round(seconds, 2)}
    return out


def cell(name: str, m: dict) -> str:
    if name == "ecb":
        return f"{m['different_event_pairs']}"
    text = f"{m['f1']:.4f}"
    return text + (f" (P {m['precision']:.3f})" if m["precision"] < 0.995 else "")


@click.command()
@click.option("--grid/--no-grid", default=False, help="Also number_weight x cohesion.")
@click.option("--save/--no-save", default=True, help="Save results/decision.json.")
def main(grid: bool, save: bool) -> None:
    """Each signal of the decision on and off, on every set."""
    sets = load_sets()
    configs = dict(CONFIGS)
    if grid:
        for v in (0.2, 0.3, 0.4, 0.5):
            for c in (0.5, 0.6, 0.63, 0.7):
                configs[f"number_weight {v}, cohesion {c}"] = {"number_weight": v, "cohesion": c}
        for t in (0.30, 0.38):
            configs[f"defaults, threshold {t}"] = {"threshold": t}
    names = list(sets)
    click.echo(" | ".join(["decision", *names, "worst F1", "seeds"]))
    results = {}
    for label, params in configs.items():
        got = measure(sets, params)
        worst = min(m["f1"] for n, m in got.items() if n != "ecb")
        seeds = seeds_ok(params)
        results[label] = {"params": params, "sets": got, "worst_f1": worst, "seeds_ok": seeds}
        cells = [cell(n, got[n]) for n in names]
        click.echo(" | ".join([label, *cells, f"{worst:.4f}", "ok" if seeds else "WRONG"]))
    if save:
        sizes = {n: len(a) for n, a in sets.items()}
        click.echo(f"saved {save_json('decision', {'sets': sizes, 'results': results})}")


if __name__ == "__main__":
    main()
