"""Explaining a pair of a finished run: its folder read again (inputs, parameters, outputs), the
run recomputed over the same inputs, and what the folder recorded set beside it."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dedup.explain.explanation import Explanation
from dedup.explain.facts import ExplainError, Recorded
from dedup.explain.format import decimals, listed
from dedup.explain.trace import explain_articles
from dedup.io.article import InputError
from dedup.params import Params
from dedup.result import versions
from dedup.runtime.progress import Progress, no_progress


def explain_run(
    run_dir: str | os.PathLike[str],
    id_a: str,
    id_b: str,
    *,
    inputs: Sequence[str | os.PathLike[str]] | None = None,
    workers: int = 1,
    spill_dir: str | os.PathLike[str] | None = None,
    progress: Progress = no_progress,
) -> Explanation:
    """:func:`explain` for the pair in a ``dedup run`` output folder: with the run's parameters
    (``summary.json``), over its inputs read again (the paths ``summary.json`` recorded, or
    ``inputs``), and compared with what the run wrote (``pairs.jsonl``, ``clusters.jsonl``): if
    the recomputed decision differs (the inputs changed since the run), ``recorded`` and the
    text say so.

    It costs a full run over the inputs (see :func:`explain`).

    Raises:
        ExplainError: the folder is not a run's, ``summary.json`` is missing, the inputs cannot be
            read, or an id is not among them.
    """
    from dedup.report.build import ReportError, load_run

    folder = Path(run_dir)
    try:
        run = load_run(folder)
    except ReportError as err:
        raise ExplainError(str(err)) from None
    summary_path = folder / "summary.json"
    if not run.summary:
        raise ExplainError(f"{summary_path}: missing, so the run's parameters and inputs are unknown")
    recorded = run.summary.get("params")
    if not isinstance(recorded, dict):
        raise ExplainError(f'{summary_path}: records no parameters ("params")')
    known = {f.name for f in dataclasses.fields(Params)}
    notes = []
    unknown = sorted(set(recorded) - known)
    if unknown:
        notes.append(f"parameters of the run this version does not know, ignored: {', '.join(unknown)}")
    try:
        params = Params(**{k: v for k, v in recorded.items() if k in known})
    except (TypeError, ValueError) as err:
        raise ExplainError(f"{summary_path}: bad parameters: {err}") from None
    bad: list[InputError] = []
    try:
        with run.inputs(inputs) as source:
            explanation = explain_articles(
                source.articles(on_bad=bad.append),
                id_a,
                id_b,
                params,
                workers,
                spill_dir,
                progress,
                where=f"the inputs of the run in {folder}",
            )
    except ReportError as err:
        raise ExplainError(str(err)) from None
    except ExplainError as err:
        raise ExplainError(f"{err}; first problem reading them: {bad[0]}" if bad else str(err)) from None
    except InputError as err:
        raise ExplainError(str(err)) from None
    except OSError as err:
        raise ExplainError(f"{err.filename or folder}: {err.strerror or err}") from None
    return dataclasses.replace(
        explanation,
        recorded=_recorded(folder, run, explanation, bad, notes),
        notes=explanation.notes + notes,
    )


def _recorded(folder: Path, run: Any, e: Explanation, bad: list[InputError], notes: list[str]) -> Recorded:
    """What the run folder says of the pair, compared with ``e``; adds to ``notes`` what may
    explain a difference."""
    key = tuple(sorted((e.a, e.b)))
    pair = None
    pairs_path = folder / "pairs.jsonl"
    if pairs_path.is_file():
        with open(pairs_path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if e.a not in line or e.b not in line:
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as err:
                    raise ExplainError(f"{pairs_path}:{n}: malformed JSON: {err.msg}") from None
                if isinstance(obj, dict) and (obj.get("a"), obj.get("b")) == key:
                    pair = obj
                    break
    member_of = {m: c for c in run.clusters for m in c.members}
    ca, cb = member_of.get(e.a), member_of.get(e.b)
    clusters = (None if ca is None else ca.cluster, None if cb is None else cb.cluster)
    differences = []
    if (pair is not None) != e.verified:
        differences.append(
            f"pairs.jsonl {'has' if pair is not None else 'does not have'} the pair, "
            f"recomputed it is {'' if e.verified else 'not '}a verified pair"
        )
    elif pair is not None and pair.get("score") != round(min(e.score, 1.0), 4):
        differences.append(f"pairs.jsonl scores the pair {pair.get('score')}, recomputed {decimals(e.score)}")
    together = ca is not None and ca is cb
    if together != e.merged:
        differences.append(
            f"clusters.jsonl has them {'in one cluster' if together else 'apart'}, "
            f"recomputed they are {'in one cluster' if e.merged else 'apart'}"
        )
    for x, c, now in (("A", ca, e.members[0]), ("B", cb, e.members[1])):
        if together and e.merged and x == "B":
            break  # (one cluster: compared once)
        was = [] if c is None else list(c.members)
        if sorted(was) != sorted(now):
            differences.append(
                f"{x}'s cluster is {{{listed(sorted(was), 4)}}} in clusters.jsonl, "
                f"{{{listed(sorted(now), 4)}}} recomputed"
                if was and now
                else f"{x} is in {'a cluster' if was else 'no cluster'} in clusters.jsonl, "
                f"in {'a cluster' if now else 'no cluster'} recomputed"
            )
    counts = run.summary.get("articles", {})
    read, skipped = counts.get("read"), counts.get("skipped_bad_input", 0)
    if isinstance(read, int) and read != e.articles + len(bad):
        notes.append(f"the run read {read:,} records; its inputs now hold {e.articles + len(bad):,}")
    if bad and len(bad) != skipped:
        notes.append(
            f"{len(bad)} bad record(s) skipped reading the inputs (the run skipped {skipped}): {bad[0]}"
        )
    if run.summary.get("index"):
        notes.append(
            f"the run was checked against the index {run.summary['index'].get('location')}: clusters it "
            "joined through articles the index held are not recomputed here"
        )
    engine = run.summary.get("engine")
    if engine and engine != "local":
        notes.append(
            f"the run used the {engine} engine; explained with the local one (the same pairs and clusters)"
        )
    version = run.summary.get("versions", {}).get("dedup")
    if differences and version and version != versions().get("dedup"):
        notes.append(f"the run was made by dedup {version}, this is {versions().get('dedup')}")
    return Recorded(pair, clusters, differences)
