"""Cross-lingual linking at scale: time, memory and link quality on synthetic multilingual dumps.

Data: ``make_xling_corpus.py`` (60% English, 25% Russian, 15% Ukrainian articles made from the
WMT dev sets' sources and translations, with planted families that hold a source and its English
translations; made once per size and seed and cached in ``benchmarks/.cache/``).

For each size (``--sizes``, default 100,000 and 1,000,000) two runs of the CLI, each in a process
group of its own, watched four times a second (``spark.timed``: the resident memory of the whole
process tree, and the CPU time the rest of the machine took meanwhile):

    dedup run CORPUS --cross-lingual --xling-embeddings no --out DIR -q --workers W
    dedup run CORPUS --out DIR -q --workers W                (--no-baseline: not run)

Fingerprints alone: the embedding extra would embed one article per same-language group and
single, some 750,000 of them at 1M (the 100k corpus has 75,375 families), hours on this
machine's two CPU cores: out of reach here.

Reported per run: wall seconds, articles a second, each stage's seconds (``summary.json``'s
``timings_s``; ``cluster`` includes ``cross_lingual``, the linking), CPU seconds of the run's
processes and of the rest of the machine meanwhile (other helpers share it), peak RSS of the
process tree (the target: 1M articles in < 15 min, < 6 GB).
Quality, against the truth file (the planted families; languages as planted, not as detected):
precision, recall and F1 of the cross-language pairs the clusters hold (any two articles of
different languages in one cluster; true when they are of one family), the same split by
language pair (ru-en, uk-en; ru-uk has no true pair); the links of ``links.jsonl`` that join two
articles of one family (link precision), and those that join look-alikes (same event, different
family); and the same-language pairs, with and without ``--cross-lingual`` (they must be equal).
Pairs are counted from the clusters' language and family counts, never listed, so a cluster of
thousands costs no more than its members.

    python benchmarks/xling_scale.py --sizes 10000,30000   # prints a table, saves results/xling_scale.json
    python benchmarks/xling_scale.py                       # 100k and 1M
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import make_xling_corpus  # noqa: E402
from _data import RESULTS, save_json  # noqa: E402
from make_xling_corpus import default_out  # noqa: E402
from spark import timed  # noqa: E402

TARGET = {"seconds": 15 * 60, "peak_mb": 6 * 1024, "articles": 1_000_000}


def corpus(n: int, seed: int, workers: int) -> tuple[Path, float | None]:
    """The cached corpus of ``n`` articles, made first if it is not there (and how long that took)."""
    path = default_out(n, seed)
    if path.exists():
        return path, None
    t0 = time.perf_counter()
    cmd = [
        sys.executable,
        str(HERE / "make_xling_corpus.py"),
        str(n),
        "--seed",
        str(seed),
        "--workers",
        str(workers),
    ]
    subprocess.run(cmd, check=True)
    return path, round(time.perf_counter() - t0, 1)


def read_truth(path: Path) -> tuple[dict[str, tuple[str, str, str | None]], set[str]]:
    """``id: (family, language, family it looks like or None)`` from the truth file beside
    ``path``, and the ids of the big families' articles."""
    truth_path = path.with_name(path.name.replace(".jsonl.gz", ".truth.jsonl.gz"))
    truth, big = {}, set()
    with gzip.open(truth_path, "rt", encoding="utf-8") as f:
        for r in map(json.loads, f):
            truth[r["id"]] = (r["family"], r["lang"], r.get("like"))
            if r["kind"] == "big":
                big.add(r["id"])
    return truth, big


def sharing(n: int, seed: int) -> Callable[[str, str], bool]:
    """``share(family, family)``: whether two stories of the corpus of ``n`` articles hold a
    source unit in common (their units made again from the generator's plan, which is the
    corpus's: the seed and the generator's version name the file)."""
    sources = make_xling_corpus.load_sources()
    stories, _, _ = make_xling_corpus.plan(sources, n, seed)

    def units(family: str) -> set[tuple[str, int, int]]:
        s = int(family[1:])
        return {(stories[s][1], d, u) for d, u in make_xling_corpus.units_of(sources, seed, stories[s], s)}

    return lambda a, b: bool(units(a) & units(b))


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _cross(counts: Counter) -> dict[str, int]:
    """Pairs of articles of two different languages among ``counts`` (articles by language), by
    language pair (``"en-ru"``: sorted codes), and ``"all"``."""
    langs = sorted(counts)
    out = {f"{a}-{b}": counts[a] * counts[b] for i, a in enumerate(langs) for b in langs[i + 1 :]}
    out["all"] = sum(out.values())
    return out


def pair_counts(
    groups: Iterable[list[str]], truth: dict[str, tuple[str, str, str | None]]
) -> dict[str, Counter]:
    """Cross-language and same-language pairs in ``groups`` (clusters, or families), and the
    ones of them inside one family: ``{"cross": ..., "cross_true": ..., "same": ..., "same_true": ...}``."""
    out = {k: Counter() for k in ("cross", "cross_true", "same", "same_true")}
    for members in groups:
        langs = Counter(truth[m][1] for m in members)
        out["cross"].update(_cross(langs))
        out["same"].update(
            {lang: _pairs(c) for lang, c in langs.items()} | {"all": sum(map(_pairs, langs.values()))}
        )
        by_family: dict[str, Counter] = {}
        for m in members:
            by_family.setdefault(truth[m][0], Counter())[truth[m][1]] += 1
        for fam_langs in by_family.values():
            out["cross_true"].update(_cross(fam_langs))
            same = {lang: _pairs(c) for lang, c in fam_langs.items()}
            out["same_true"].update(same | {"all": sum(same.values())})
    return out


def prf(found: int, true: int, right: int) -> dict[str, float | int]:
    p = right / found if found else 0.0
    r = right / true if true else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "pairs_found": found,
        "true_pairs": true,
    }


def quality(
    out: Path,
    truth: dict[str, tuple[str, str, str | None]],
    families: dict[str, Counter],
    big: set[str],
    small_true: int,
    share: Callable[[str, str], bool],
) -> dict[str, Any]:
    """Cross- and same-language pair scores of a run's clusters (also without the big families'
    articles, whose hundreds of members hold most of the true pairs), and its links: right (one
    family), look-alike (one event), shared sentences (two stories that ``share`` source units,
    told with different names and numbers: the generator draws ~3,000 units again and again) or
    wrong."""
    with open(out / "clusters.jsonl", encoding="utf-8") as f:
        clusters = [json.loads(line)["members"] for line in f]
    found = pair_counts(clusters, truth)
    rest = pair_counts(([m for m in members if m not in big] for members in clusters), truth)
    scores: dict[str, Any] = {
        "cross": {
            key: prf(found["cross"][key], families["cross_true"][key], found["cross_true"][key])
            for key in sorted(set(families["cross_true"]) | set(found["cross"]))
        },
        "cross_without_big": prf(rest["cross"]["all"], small_true, rest["cross_true"]["all"]),
        "same": {
            key: prf(found["same"][key], families["same_true"][key], found["same_true"][key])
            for key in sorted(families["same_true"])
        },
    }
    links = out / "links.jsonl"
    if links.exists():
        kinds: Counter = Counter()
        with open(links, encoding="utf-8") as f:
            for link in map(json.loads, f):
                a, b = truth[link["a"]], truth[link["b"]]
                if a[0] == b[0]:
                    kinds["right"] += 1
                elif a[2] == b[0] or b[2] == a[0] or (a[2] is not None and a[2] == b[2]):
                    kinds["look_alike"] += 1
                elif share(a[0], b[0]):
                    kinds["shared_sentences"] += 1
                else:
                    kinds["wrong"] += 1
        total = sum(kinds.values())
        scores["links"] = {
            "links": total,
            **{k: kinds[k] for k in ("right", "look_alike", "shared_sentences", "wrong")},
        }
        scores["links"]["precision"] = round(kinds["right"] / total, 4) if total else 0.0
    return scores


def run(path: Path, cross: bool, workers: int, timeout: float) -> tuple[dict[str, Any], Path]:
    """One ``dedup run`` of ``path``: its figures and its output folder."""
    out = Path(tempfile.mkdtemp(prefix="xling_scale-", dir=HERE / ".cache")) / "out"
    cmd = [
        sys.executable,
        "-m",
        "dedup",
        "run",
        str(path),
        "--out",
        str(out),
        "-q",
        "--workers",
        str(workers),
    ]
    if cross:
        cmd += ["--cross-lingual", "--xling-embeddings", "no"]
    got = timed(cmd, timeout, env={**os.environ, "PYTHONPATH": str(HERE.parent)})
    figures: dict[str, Any] = {
        "command": " ".join(["dedup", *cmd[3:]]),
        "wall_s": got["wall_s"],
        "exit_code": got["exit_code"],
        "timed_out": got["timed_out"],
        "peak_rss_mb": got["peak_mb"]["tree"],
        "largest_process_mb": got["peak_mb"]["driver"],
        "cpu_s": got["cpu_s"],
        "other_cpu_s": got["other_cpu_s"],
    }
    if got["exit_code"] != 0:
        figures["stderr_tail"] = got["stderr_tail"][-1500:]
        return figures, out
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    figures["timings_s"] = summary["timings_s"]
    figures["articles_per_s"] = (
        round(summary["articles"]["read"] / got["wall_s"], 1) if got["wall_s"] else None
    )
    if cross:
        figures["cross_lingual"] = {
            k: v for k, v in summary.get("cross_lingual", {}).items() if not isinstance(v, (list, dict))
        }
    return figures, out


def _remove(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder.parent, ignore_errors=True)


COLUMNS = ["articles", "run", "wall s", "art/s", "peak MB", "xling s", "x P", "x R", "x F1", "xF1 -big",
           "same P", "same R", "other s"]  # fmt: skip


def _row(n: int, name: str, figures: dict[str, Any]) -> str:
    """A line of the table: the run's time and memory, then its pair scores (x: cross-language;
    -big: without the big families; other s: CPU seconds the rest of the machine took meanwhile)."""
    q = figures.get("quality", {})
    cross, small = q.get("cross", {}).get("all", {}), q.get("cross_without_big", {})
    same = q.get("same", {}).get("all", {})
    nan = float("nan")
    linking = figures.get("timings_s", {}).get("cross_lingual", 0)
    cells = [
        f"{n:>9,}",
        f"{name:<9}",
        f"{figures['wall_s']:>8.1f}",
        f"{figures.get('articles_per_s') or 0:>8.0f}",
    ]
    cells += [f"{figures['peak_rss_mb']:>8.0f}", f"{linking:>8.1f}"]
    for score in (cross.get("precision"), cross.get("recall"), cross.get("f1"), small.get("f1")):
        cells.append(f"{nan if score is None else score:>8.3f}")
    cells += [
        f"{same.get('precision', nan):>8.3f}",
        f"{same.get('recall', nan):>8.3f}",
        f"{figures['other_cpu_s']:>8.0f}",
    ]
    return " ".join(cells)


@click.command()
@click.option("--sizes", default="100000,1000000", show_default=True, help="Corpus sizes, comma-separated.")
@click.option("--seed", default=0, show_default=True, help="Seed of the corpora.")
@click.option(
    "--workers", default=2, show_default=True, help="Processes of dedup run (and of the generator)."
)
@click.option(
    "--baseline/--no-baseline", default=True, show_default=True, help="Also run without --cross-lingual."
)
@click.option(
    "--timeout", default=3600.0, show_default=True, help="Seconds a run may take before it is killed."
)
@click.option("--keep", is_flag=True, help="Keep the runs' output folders (in benchmarks/.cache/).")
def main(sizes: str, seed: int, workers: int, baseline: bool, timeout: float, keep: bool) -> None:
    """Print the table, save results/xling_scale.json."""
    ns = [int(s) for s in sizes.split(",") if s.strip()]
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "target": TARGET,
        "seed": seed,
        "workers": workers,
        "sizes": {},
    }
    saved = RESULTS / "xling_scale.json"
    if saved.exists():  # sizes measured before with the same seed and workers stay
        before = json.loads(saved.read_text(encoding="utf-8"))
        if (before.get("seed"), before.get("workers")) == (seed, workers):
            results["sizes"] = before.get("sizes", {})
    widths = [9, 9] + [8] * (len(COLUMNS) - 2)
    head = " ".join(
        f"{c:>{w}}" if k != 1 else f"{c:<{w}}" for k, (c, w) in enumerate(zip(COLUMNS, widths, strict=True))
    )
    click.echo(head)
    for n in ns:
        path, made_s = corpus(n, seed, workers)
        truth, big = read_truth(path)
        share = sharing(n, seed)
        by_family: dict[str, list[str]] = {}
        for article, (family, _, _) in truth.items():
            by_family.setdefault(family, []).append(article)
        families = pair_counts(by_family.values(), truth)
        small = pair_counts((m for m in by_family.values() if m[0] not in big), truth)["cross_true"]["all"]
        entry: dict[str, Any] = {
            "corpus": str(path.relative_to(HERE.parent)),
            "corpus_mb": round(path.stat().st_size / 2**20, 1),
            "made_s": made_s,
            "languages": dict(Counter(t[1] for t in truth.values())),
            "families": len(by_family),
            "big_families": len({truth[a][0] for a in big}),
            "true_cross_pairs": dict(families["cross_true"]),
            "true_same_pairs": dict(families["same_true"]),
            "runs": {},
        }
        for name, cross in (("xling", True), ("baseline", False))[: 2 if baseline else 1]:
            figures, out = run(path, cross, workers, timeout)
            if figures["exit_code"] == 0:
                figures["quality"] = quality(out, truth, families, big, small, share)
            if not keep:
                _remove(out)
            entry["runs"][name] = figures
            click.echo(_row(n, name, figures))
        runs = entry["runs"]
        if "baseline" in runs and all("quality" in r for r in runs.values()):
            a, b = runs["xling"]["quality"]["same"]["all"], runs["baseline"]["quality"]["same"]["all"]
            entry["same_language_f1_change"] = round(a["f1"] - b["f1"], 4)
        results["sizes"][str(n)] = entry
        save_json("xling_scale", results)
    click.echo(f"saved {HERE / 'results' / 'xling_scale.json'}")


if __name__ == "__main__":
    main()
