"""Targeted mutations: one-line bugs in the decisions, and whether the tests catch each (issue 22).

A suite can pass while a decision is wrong: a ``>=`` turned into ``>`` changes nothing until a
score lands exactly on the threshold, and a quality guard that scores clusters only passes
with the verification cut anywhere in a wide band. Each mutation below is one textual change
to one line of ``dedup/`` (the line must occur exactly once), applied to a fresh copy of the
committed tree (``git worktree`` at HEAD, in a temporary folder, removed afterwards); the tests
named for it run against the copy (``PYTHONPATH`` points there, so subprocesses see it too) and
stop at the first failure. A mutation is *caught* when they fail, *missed* when they pass, and
an *error* when the change no longer applies (the line moved: update the list). Not in CI: it
reruns the slow quality guards once per mutation of a default.

    python benchmarks/mutations.py                  # every mutation: a table, results/mutations.json
    python benchmarks/mutations.py --only metrics   # those whose name holds "metrics" (the
                                                    # other rows of results/mutations.json stay)

mutmut and cosmic-ray mutate every operator of a module blindly (thousands of mutants, each
running a suite of 14 minutes); the list here holds the decisions that matter and the tests
meant to guard each, so a run takes minutes and a miss names what is unguarded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import click

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from _data import DATA, RESULTS, save_json  # noqa: E402


@dataclass(frozen=True)
class Mutation:
    """Replace ``old`` (which must occur exactly once in ``path``) by ``new``; ``tests`` should
    then fail (pytest arguments, relative to the repository)."""

    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


THRESHOLDS = "tests/test_thresholds.py"
QUALITY = "tests/test_quality.py"

MUTATIONS = [
    Mutation(
        "pair decision: >= threshold becomes >",
        "dedup/engines/local.py",
        "keep = np.flatnonzero(scores >= p.threshold)",
        "keep = np.flatnonzero(scores > p.threshold)",
        (THRESHOLDS,),
    ),
    Mutation(
        "index match: >= threshold becomes >",
        "dedup/index/index.py",
        "if s >= p.threshold:",
        "if s > p.threshold:",
        (THRESHOLDS,),
    ),
    Mutation(
        "Spark pair decision: >= threshold becomes >",
        "dedup/engines/spark/job.py",
        "rows = measured.filter(lambda r: r[7] >= params.threshold).collect()",
        "rows = measured.filter(lambda r: r[7] > params.threshold).collect()",
        ("tests/test_spark.py", "-k", "exactly_at"),
    ),
    Mutation(
        "average-linkage cut without its tolerance",
        "dedup/cluster/linkage.py",
        "passes = cross >= threshold - 1e-9  # (as fcluster's nudge in split_component)",
        "passes = cross >= threshold",
        (THRESHOLDS, "tests/test_cluster.py"),
    ),
    Mutation(
        "threshold-only cut (fcluster) without its nudge",
        "dedup/cluster/linkage.py",
        'labels = fcluster(tree, t=1.0 - threshold + 1e-9, criterion="distance")',
        'labels = fcluster(tree, t=1.0 - threshold, criterion="distance")',
        (THRESHOLDS, "tests/test_cluster.py"),
    ),
    Mutation(
        "cohesion rule: > instead of >=",
        "dedup/cluster/linkage.py",
        "passes = cross >= cohesion * own - 1e-9",
        "passes = cross > cohesion * own",
        ("tests/test_cluster.py", THRESHOLDS),
    ),
    Mutation(
        "groups of 3 never re-clustered",
        "dedup/cluster/groups.py",
        'elif linkage_method == "single" or len(members) == 2 or len(members) > MAX_RECLUSTER:',
        'elif linkage_method == "single" or len(members) <= 3 or len(members) > MAX_RECLUSTER:',
        (THRESHOLDS, "tests/test_cluster.py"),
    ),
    Mutation(
        "candidate floor: >= min_jaccard becomes >",
        "dedup/sketch/lsh.py",
        "close = estimate_jaccard_pairs(view.signatures, pairs, release=view.release) >= min_jaccard",
        "close = estimate_jaccard_pairs(view.signatures, pairs, release=view.release) > min_jaccard",
        ("tests/test_candidates.py",),
    ),
    Mutation(
        "index candidate floor: >= min_jaccard becomes >",
        "dedup/index/index.py",
        "close = jac >= p.min_jaccard  # (a batch run's floor on band hits)",
        "close = jac > p.min_jaccard",
        (THRESHOLDS,),
    ),
    Mutation(
        "Spark candidate floor: >= min_jaccard becomes >",
        "dedup/engines/spark/verify.py",
        "close = np.flatnonzero(jac >= params.min_jaccard)  # (the local engine's floor)",
        "close = np.flatnonzero(jac > params.min_jaccard)",
        ("tests/test_spark.py", "-k", "exactly_at"),
    ),
    Mutation(
        "sentence match floor: >= MATCH_FLOOR becomes >",
        "dedup/score/measure.py",
        "near = match >= MATCH_FLOOR",
        "near = match > MATCH_FLOOR",
        (THRESHOLDS,),
    ),
    Mutation(
        "metrics: precision always 1.0",
        "dedup/metrics.py",
        "precision = correct / predicted_pairs if predicted_pairs else 1.0",
        "precision = 1.0",
        ("tests/test_metrics.py",),
    ),
    Mutation(
        "metrics: recall over the predicted pairs",
        "dedup/metrics.py",
        "recall = correct / true_pairs if true_pairs else 1.0",
        "recall = correct / predicted_pairs if predicted_pairs else 1.0",
        ("tests/test_metrics.py",),
    ),
    Mutation(
        "decision: the cosine alone (sentence weight 0)",
        "dedup/params.py",
        "sentence_weight: float = 0.5",
        "sentence_weight: float = 0.0",
        (QUALITY,),
    ),
    Mutation(
        "decision: the sentence match alone (sentence weight 1)",
        "dedup/params.py",
        "sentence_weight: float = 0.5",
        "sentence_weight: float = 1.0",
        (QUALITY,),
    ),
    Mutation(
        "decision: the numbers ignored (number weight 0)",
        "dedup/params.py",
        "number_weight: float = 0.3",
        "number_weight: float = 0.0",
        (QUALITY,),
    ),
    Mutation(
        "verification cut at 0.19",
        "dedup/params.py",
        "threshold: float = 0.34",
        "threshold: float = 0.19",
        (QUALITY,),
    ),
    Mutation(
        "verification cut at 0.30",
        "dedup/params.py",
        "threshold: float = 0.34",
        "threshold: float = 0.30",
        (QUALITY,),
    ),
    Mutation(
        "verification cut at 0.37",
        "dedup/params.py",
        "threshold: float = 0.34",
        "threshold: float = 0.37",
        (QUALITY,),
    ),
    Mutation(
        "verification cut at 0.40",
        "dedup/params.py",
        "threshold: float = 0.34",
        "threshold: float = 0.40",
        (QUALITY,),
    ),
]


def _worktree(folder: Path) -> Path:
    tree = folder / "tree"
    cmd = ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), "HEAD"]
    subprocess.run(cmd, check=True)
    return tree


def _remove(tree: Path) -> None:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)


def apply(tree: Path, m: Mutation) -> None:
    """Make the change in the copy (ValueError if ``old`` is not there exactly once)."""
    path = tree / m.path
    text = path.read_text(encoding="utf-8")
    if text.count(m.old) != 1:
        raise ValueError(f"{m.path}: the line to mutate occurs {text.count(m.old)} times (want 1): {m.old!r}")
    path.write_text(text.replace(m.old, m.new), encoding="utf-8")


def run_tests(tree: Path, tests: tuple[str, ...]) -> tuple[bool, str]:
    """Whether ``tests`` pass on the copy, and the last line pytest printed."""
    env = {**os.environ, "PYTHONPATH": str(tree), "DEDUP_DATA": str(DATA), "CI": "true"}
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return done.returncode == 0, lines[-1] if lines else done.stderr.strip()[-200:]


@click.command()
@click.option("--only", default=None, help="Only the mutations whose name holds this text.")
@click.option("--baseline/--no-baseline", default=True, help="First check that the tests pass unmutated.")
def main(only: str | None, baseline: bool) -> None:
    """Apply each mutation to a copy of HEAD and run its tests: caught or missed, in
    results/mutations.json."""
    chosen = [m for m in MUTATIONS if only is None or only in m.name]
    if not chosen:
        raise click.BadParameter(f"no mutation's name holds {only!r}", param_hint="--only")
    rows = []
    with tempfile.TemporaryDirectory(prefix="dedup-mutations-") as folder:
        tree = _worktree(Path(folder))
        try:
            for tests in dict.fromkeys(m.tests for m in chosen) if baseline else ():
                ok, last = run_tests(tree, tests)
                if not ok:
                    raise click.ClickException(f"{' '.join(tests)} fail without any mutation: {last}")
                click.echo(f"unmutated: {' '.join(tests)}: {last}")
            for m in chosen:
                t0 = time.perf_counter()
                subprocess.run(["git", "-C", str(tree), "checkout", "-q", "--", "."], check=True)
                try:
                    apply(tree, m)
                except ValueError as err:
                    rows.append({"mutation": m.name, "outcome": "error", "detail": str(err), "seconds": 0.0})
                    click.echo(f"{'error':>7}  {m.name}: {err}")
                    continue
                passed, last = run_tests(tree, m.tests)
                outcome = "missed" if passed else "caught"
                seconds = time.perf_counter() - t0
                rows.append(
                    {"mutation": m.name, "outcome": outcome, "tests": list(m.tests), "detail": last,
                     "seconds": round(seconds, 1)}
                )  # fmt: skip
                click.echo(f"{outcome:>7}  {m.name}  ({seconds:.0f} s; {last})")
        finally:
            _remove(tree)
    if only is not None and (RESULTS / "mutations.json").exists():  # keep the rows not rerun
        names = {m.name for m in chosen}
        kept = json.loads((RESULTS / "mutations.json").read_text(encoding="utf-8"))["rows"]
        order = [m.name for m in MUTATIONS]
        rows += [r for r in kept if r["mutation"] not in names and r["mutation"] in order]
        rows.sort(key=lambda r: order.index(r["mutation"]))
    caught = sum(r["outcome"] == "caught" for r in rows)
    click.echo(f"\n{'outcome':>7}  mutation")
    for r in rows:
        click.echo(f"{r['outcome']:>7}  {r['mutation']}")
    click.echo(f"caught {caught} of {len(rows)}")
    path = save_json("mutations", {"rows": rows, "caught": caught, "total": len(rows)})
    click.echo(f"saved {path}")
    if caught < len(rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
