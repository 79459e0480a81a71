"""Chance candidates as the corpus grows, and what a floor on signature agreement costs (issue 21).

``dedup`` bands 128-value MinHash signatures into 37 bands of 3 rows, a curve aimed low (Jaccard
0.3 of word 1-grams) so that machine translations still meet. Two unrelated articles of Jaccard
0.08 then meet with probability 0.02, and as such pairs grow with the square of the corpus, the
band hits of unrelated articles per article grow with it (1.7 at 100k synthetic articles, 4.4 at
1M). ``min_jaccard`` keeps a band hit only if the two whole signatures agree on at least that
share of their values. This script measures, for floors from 0 to 0.18:

* on the synthetic corpora (``make_corpus.py``, cached as speed.py caches them): the candidate
  pairs per member (distinct text) whose articles are of different planted families ("chance"),
  and the same-family candidates the floor would drop;
* on every dev set in ``../shared/data``: chance candidates per member, and the pairs verified
  without a floor (score at or above the threshold) that the floor would drop, split by whether
  the gold says they are one story.

Each corpus is run once through :class:`dedup.engines.local.Detector` with ``min_jaccard=0`` (the
synthetic ones stop after the candidate step), and each floor is applied to the pairs it saw.

    python benchmarks/chance.py                       # 100k and 1M synthetic articles, dev sets
    python benchmarks/chance.py --sizes 10000 --floors 0,0.1
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from _data import DATASETS, load_set, save_json  # noqa: E402
from speed import CACHE, corpus, truth_of  # noqa: E402

from dedup.engines.local import Detector, RunHook  # noqa: E402
from dedup.io.article import Article  # noqa: E402
from dedup.io.read import Inputs  # noqa: E402
from dedup.params import Params  # noqa: E402
from dedup.sketch.lsh import MIN_JACCARD  # noqa: E402
from dedup.sketch.minhash import estimate_jaccard_pairs  # noqa: E402

FLOORS = (0.0, 0.08, 0.1, 0.12, 0.15, 0.18)


class _Stop(Exception):
    """Raised by the hook to end a run after its candidate step."""


class _Capture(RunHook):
    def __init__(self, stop: bool) -> None:
        self.stop = stop
        self.verified_pairs: np.ndarray | None = None

    def candidates(self, signatures: np.ndarray, pairs: np.ndarray) -> None:
        self.jaccard = estimate_jaccard_pairs(signatures, pairs)
        self.pairs = pairs.copy()
        self.signatures = signatures
        if self.stop:
            raise _Stop

    def verified(self, pairs: np.ndarray, scores: np.ndarray, measure: Any) -> None:
        self.verified_pairs = pairs.copy()


def capture(articles: Iterator[Article], *, stop: bool, workers: int) -> tuple[_Capture, Detector, float]:
    """Run ``articles`` with no floor; what the candidate (and verify) step saw."""
    hook = _Capture(stop)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="chance-") as spill:
        det = Detector(Params(min_jaccard=0.0), hook=hook, spill_dir=spill)
        det.add_many(articles, workers=workers)
        try:
            det.finish()
        except _Stop:
            pass
        finally:
            det.close()
    return hook, det, time.perf_counter() - t0


def member_families(det: Detector, family_of: dict[str, str]) -> np.ndarray:
    """Each member's family as a small integer (a member's articles are one text: one family)."""
    first = det.member_of  # each article's member
    members = np.zeros(int(first.max()) + 1 if len(first) else 0, dtype=np.int64)
    _, codes = np.unique([family_of[i] for i in det.ids], return_inverse=True)
    members[first] = codes  # (every article of a member has the member's family)
    return members


def row_for(name: str, hook: _Capture, families: np.ndarray, floors: tuple[float, ...]) -> dict[str, Any]:
    m = len(families)
    same = families[hook.pairs[:, 0]] == families[hook.pairs[:, 1]]
    row: dict[str, Any] = {"corpus": name, "members": m, "band_hits": len(hook.pairs), "floors": {}}
    if len(hook.pairs):
        row["lowest_same_family_jaccard"] = round(float(hook.jaccard[same].min()), 4) if same.any() else None
    v = hook.verified_pairs
    vj = vsame = None
    if v is not None:
        vj = estimate_jaccard_pairs(hook.signatures, v)
        vsame = families[v[:, 0]] == families[v[:, 1]]
        row["verified"] = len(v)
        row["lowest_verified_jaccard"] = round(float(vj.min()), 4) if len(v) else None
    for floor in floors:
        keep = hook.jaccard >= floor
        cell = {
            "candidates": int(keep.sum()),
            "chance_per_member": round(float((keep & ~same).sum() / max(m, 1)), 4),
            "same_family_dropped": int((~keep & same).sum()),
        }
        if v is not None:
            assert vj is not None and vsame is not None
            cell["verified_dropped"] = int((vj < floor).sum())
            cell["verified_same_story_dropped"] = int(((vj < floor) & vsame).sum())
        row["floors"][f"{floor:g}"] = cell
    return row


def synthetic(n: int, workers: int) -> tuple[_Capture, np.ndarray, float]:
    path = corpus(n)
    truth = truth_of(path)
    with Inputs([str(path)]) as inputs:
        hook, det, seconds = capture(inputs.articles(), stop=True, workers=workers)
    return hook, member_families(det, truth), seconds


def dev_set(name: str) -> tuple[_Capture, np.ndarray, float]:
    rows = load_set(name)
    gold = {r["id"]: str(r["cluster"]) for r in rows}
    hook, det, seconds = capture((Article(r["id"], r["text"]) for r in rows), stop=False, workers=1)
    return hook, member_families(det, gold), seconds


def print_table(rows: list[dict[str, Any]], floors: tuple[float, ...]) -> None:
    head = f"{'corpus':<10} {'members':>9} " + " ".join(f"{'J>=' + format(f, 'g'):>9}" for f in floors)
    print("chance candidates per member (pairs of different families), by floor on signature agreement")
    print(head)
    print("-" * len(head))
    for r in rows:
        cells = " ".join(f"{r['floors'][format(f, 'g')]['chance_per_member']:>9.4f}" for f in floors)
        print(f"{r['corpus']:<10} {r['members']:>9,} {cells}")
    print()
    print("what each floor drops: same-family candidates / verified pairs (of them one story)")
    wide = f"{'corpus':<10} {'members':>9} " + " ".join(f"{'J>=' + format(f, 'g'):>15}" for f in floors)
    print(wide)
    print("-" * len(wide))
    for r in rows:
        cells = []
        for f in floors:
            c = r["floors"][format(f, "g")]
            cell = str(c["same_family_dropped"])
            if "verified_dropped" in c:
                cell += f" / {c['verified_dropped']} ({c['verified_same_story_dropped']})"
            cells.append(f"{cell:>15}")
        print(f"{r['corpus']:<10} {r['members']:>9,} " + " ".join(cells))
    print(f"\n(the default floor, min_jaccard: {MIN_JACCARD:g})")


@click.command()
@click.option("--sizes", default="100000,1000000", show_default=True, help="Synthetic corpus sizes.")
@click.option("--sets", default=",".join(DATASETS), show_default=True, help="Dev sets.")
@click.option("--floors", default=",".join(f"{f:g}" for f in FLOORS), show_default=True)
@click.option("--workers", type=int, default=2, show_default=True)
@click.option("--save/--no-save", default=True, show_default=True, help="Write results/chance.json.")
def main(sizes: str, sets: str, floors: str, workers: int, save: bool) -> None:
    chosen = tuple(float(f) for f in floors.split(",") if f)
    rows = []
    runs: list[tuple[str, Any]] = [(f"syn{int(n) // 1000}k", int(n)) for n in sizes.split(",") if n]
    runs += [(s, s) for s in sets.split(",") if s]
    for name, what in runs:
        hook, families, seconds = synthetic(what, workers) if isinstance(what, int) else dev_set(what)
        row = row_for(name, hook, families, chosen)
        row["seconds"] = round(seconds, 1)
        rows.append(row)
        hits = f"{row['members']:,} members, {row['band_hits']:,} band hits"
        print(f"{name}: {hits} ({seconds:.0f} s)", flush=True)
        del hook
    print()
    print_table(rows, chosen)
    if save:
        print("saved", save_json("chance", {"rows": rows, "default_min_jaccard": MIN_JACCARD}))


if __name__ == "__main__":
    main()
