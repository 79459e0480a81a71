"""What the tuning advice of docs/tuning.md buys: each setting's cost and quality, side by side.

For each setting (the defaults, then the speed, recall and precision options the
docs recommend) it runs ``find_duplicates`` on the dev set as is, cut to the
first 40 words, and made noisy (the stress variants of ``tune.py``), and reports
candidate pairs, seconds per stage and pair precision / recall / F1.

    python benchmarks/knobs.py               # table, saves results/knobs.json
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import WMT_DEV, load_wmt, save_json  # noqa: E402
from tune import variants  # noqa: E402

from dedup import find_duplicates  # noqa: E402
from dedup.metrics import score_clusters  # noqa: E402

SETTINGS = {
    "defaults": {},
    "speed: --sentence-weight 0 --threshold 0.4": {"sentence_weight": 0.0, "threshold": 0.4},
    "speed: --num-perm 64": {"num_perm": 64},
    "speed: --lsh-threshold 0.4": {"lsh_threshold": 0.4},
    "recall: --lsh-threshold 0.2": {"lsh_threshold": 0.2},
    "recall: --num-perm 256 --bands 85 --rows 3": {"num_perm": 256, "bands": 85, "rows": 3},
    "recall: --threshold 0.3": {"threshold": 0.3},
    "precision: --threshold 0.4": {"threshold": 0.4},
    "precision: --linkage complete": {"linkage": "complete"},
    "near-copies: 5-grams, 0.8/0.8": {"shingle_size": 5, "lsh_threshold": 0.8, "threshold": 0.8},
}
VARIANTS = ("all", "short-40w", "noisy", "short-40w+noisy")


@click.command()
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), default=WMT_DEV)
@click.option("--save/--no-save", default=True, help="Save results/knobs.json.")
def main(data: Path, save: bool) -> None:
    """Candidates, time per stage and pair P/R/F1 of each tuning setting."""
    sets = {k: v for k, v in variants(load_wmt("en", data)).items() if k in VARIANTS}
    results: dict[str, dict] = {}
    head = f"{'setting':44s} {'variant':10s} {'cands':>7s} {'sign':>5s} {'cand':>5s} {'verif':>5s}"
    click.echo(head + f" {'total':>6s} {'P':>6s} {'R':>6s} {'F1':>6s}")
    for name, params in SETTINGS.items():
        results[name] = {"params": params}
        for variant in VARIANTS:
            articles = sets[variant]
            gold = {a["id"]: a["cluster"] for a in articles}
            t0 = time.perf_counter()
            result = find_duplicates(articles, **params)
            total = time.perf_counter() - t0
            sc = score_clusters(list(gold), [c.members for c in result.clusters], gold)
            t = result.summary["timings_s"]
            cands = result.summary["candidates"]["pairs"]
            results[name][variant] = {
                **sc.to_dict(), "candidate_pairs": cands, "timings_s": t, "seconds": round(total, 3),
            }  # fmt: skip
            click.echo(
                f"{name:44s} {variant:10s} {cands:7,d} {t['read_sign']:5.2f} {t['candidates']:5.2f} "
                f"{t['verify']:5.2f} {total:6.2f} {sc.precision:6.4f} {sc.recall:6.4f} {sc.f1:6.4f}"
            )
    if save:
        click.echo(f"saved {save_json('knobs', {'data': str(data), 'settings': results})}")


if __name__ == "__main__":
    main()
