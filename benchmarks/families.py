"""A story copied many times: time, memory and pairs of ``dedup run`` as families grow (issue 21).

A story copied a thousand times should cost a thousand, not a million: the pairs inside one
family grow with its size squared. Cases (``--sizes``):

    10, 100, 1000  ``make_corpus.py N --family-rate 1 --family-size K --exact-share 0.3``: every
                   story has a family of K members, 30% of its variants exact copies (of the
                   story or of another member), the rest changed as make_corpus changes them
    dev36          the English articles of ``wmt-variants-dev`` (2,780, in 222 clusters of MT
                   variants), each with 36 light edits (``make_corpus.light_variant``: a few words
                   swapped, site furniture, paragraphs redrawn), shuffled; the family of each is
                   its article's ``cluster`` (about 460 members each)

Corpora are made once and cached in ``benchmarks/.cache/`` (as speed.py's). Each case runs

    dedup           ``python -m dedup run CORPUS --out TMP -q`` (default settings) from this checkout
    rensa pipeline  speed.py's baseline (``speed.py _run "rensa pipeline" CORPUS``)

each in a process session of its own (and, when this runs as root on cgroup v1, in a memory
group of its own, memory_cap.py's ``MemoryGroup``), watched ten times a second: a run still going
after ``--timeout`` seconds, or whose processes hold more than ``--memory-cap-mb`` together, is
killed with all its processes and recorded as stopped (the group's hard limit, 1 GB above the cap,
is the kernel's backstop). For each run: seconds (wall, Python's start included), peak MB (the
largest process's peak RSS, from ``getrusage`` as speed.py reports it), tree MB (the peak of all
its processes together, as sampled), pair precision / recall / F1 against the families (speed.py's
``quality``); for dedup also its candidate and verified pairs and exact copies (summary.json) and
the size of pairs.jsonl.

    python benchmarks/families.py                         # all four cases at 100,000 articles
    python benchmarks/families.py --n 5000 --sizes 10,100,dev36 --dev-clusters 10 --skip-baseline
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import make_corpus  # noqa: E402
from _data import RESULTS, ROOT, load_set, save_json  # noqa: E402
from memory_cap import GroupWatch, MemoryGroup, check_cgroup  # noqa: E402
from speed import CACHE, quality, truth_of  # noqa: E402

from dedup.text.paragraphs import split_sentences  # noqa: E402

MB = 2**20
CASES = ("10", "100", "1000", "dev36")
EXACT_SHARE = 0.3
DEV_COPIES = 36
BACKSTOP = 1024 * MB  # the memory group's hard limit is the cap plus this


def family_corpus(n: int, size: int, exact_share: float = EXACT_SHARE, seed: int = 0) -> Path:
    """The cached corpus of ``n`` articles in families of ``size`` (made on first use)."""
    path = CACHE / f"families-{n}-size{size}-exact{exact_share:g}-seed{seed}.jsonl.gz"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        cmd = [sys.executable, str(HERE / "make_corpus.py"), str(n), "--out", str(path)]
        cmd += ["--seed", str(seed), "--family-rate", "1", "--family-size", str(size)]
        cmd += ["--exact-share", str(exact_share)]
        subprocess.run(cmd, check=True)
    return path


def dev_variants(rows: list[dict], copies: int = DEV_COPIES, seed: int = 0) -> list[dict]:
    """Each article of ``rows`` and ``copies`` light edits of it (``make_corpus.light_variant``,
    drawing swapped words from the articles' own vocabulary), ``{"id", "text", "family",
    "changes"}`` in a shuffled order; the family is the article's ``cluster``."""
    split = [
        [split_sentences(" ".join(p.split())) for p in r["text"].split("\n\n") if p.strip()] for r in rows
    ]
    documents = [[s for p in paragraphs for s in p] for paragraphs in split]
    source = make_corpus.Source("wmt-variants-dev en", documents, make_corpus.vocabulary(documents))
    out = []
    for k, (row, paragraphs) in enumerate(zip(rows, split, strict=True)):
        out.append({"id": row["id"], "text": row["text"], "family": row["cluster"], "changes": []})
        for c in range(1, copies + 1):
            rng = np.random.default_rng([seed, 36, k, c])
            edited, changes = make_corpus.light_variant(source, paragraphs, rng)
            text = "\n\n".join(" ".join(p) for p in edited)
            out.append({"id": f"{row['id']}~{c}", "text": text, "family": row["cluster"], "changes": changes})
    order = np.random.default_rng([seed, 36]).permutation(len(out))
    return [out[k] for k in order.tolist()]


def dev_corpus(clusters: int | None = None, copies: int = DEV_COPIES, seed: int = 0) -> Path:
    """The cached corpus of the dev set's English articles (of its first ``clusters`` clusters, or
    all) and their light edits, with its truth beside it as speed.py's ``truth_of`` reads it."""
    path = CACHE / f"dev{copies}-{clusters or 'all'}-seed{seed}.jsonl.gz"
    truth = path.with_name(path.name.replace(".jsonl.gz", ".truth.jsonl.gz"))
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        rows = load_set("dev")
        if clusters is not None:
            first = list(dict.fromkeys(r["cluster"] for r in rows))[:clusters]
            rows = [r for r in rows if r["cluster"] in set(first)]
        articles = dev_variants(rows, copies, seed)
        for target, fields in ((truth, ("id", "family", "changes")), (path, ("id", "text"))):
            tmp = target.with_name(target.name + ".tmp")
            with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=3) as f:
                f.writelines(
                    json.dumps({k: a[k] for k in fields}, ensure_ascii=False) + "\n" for a in articles
                )
            os.replace(tmp, target)
    return path


class _Session:
    """The processes of one session (a stand-in for ``MemoryGroup`` where no memory group can be
    made): their resident memory now, read from /proc, and a kill of those left at the end."""

    def __init__(self) -> None:
        self.sid: int | None = None

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc: object) -> None:
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def join(self) -> None:
        """Nothing: the run is started in a new session, whose id is its pid."""

    def pids(self) -> list[int]:
        return [pid for pid, _ in self._members()]

    def rss_bytes(self) -> int:
        return sum(rss for _, rss in self._members())

    def _members(self) -> list[tuple[int, int]]:
        if self.sid is None:
            return []
        page, members = os.sysconf("SC_PAGE_SIZE"), []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError, IndexError, ValueError):
                    fields = Path("/proc", entry, "stat").read_text().rsplit(")", 1)[1].split()
                    if int(fields[3]) == self.sid:  # session (stat field 6)
                        members.append((int(entry), int(fields[21]) * page))  # rss (field 24)
        return members


class Guard(GroupWatch):
    """memory_cap.py's watch over a run (its memory sampled ten times a second, its process group
    killed at the deadline) that also kills it when its processes hold more than ``cap`` bytes."""

    def __init__(self, group: MemoryGroup | _Session, pgid: int, timeout: float, cap: int) -> None:
        super().__init__(group, pgid, time.perf_counter() + timeout)  # type: ignore[arg-type]
        self.timeout, self.cap = timeout, cap

    def reason(self, sample: dict[str, int]) -> str | None:
        return f"memory cap {self.cap / MB:,.0f} MB" if sample["rss"] > self.cap else None

    def on_stop(self) -> None:
        if self.stopped == "time limit":
            self.stopped = f"time limit {self.timeout:,.0f} s"


def guarded(cmd: list[str], timeout: float, cap_mb: int, stdout: Path, stderr: Path) -> dict[str, Any]:
    """Run ``cmd`` (from the checkout's root, in a session of its own and a memory group when one
    can be made) under the time limit and the memory cap; its seconds, exit code, peak MB (its
    largest process's, from getrusage), tree MB (all its processes', sampled) and ``stopped``."""
    cap = cap_mb * MB
    try:
        check_cgroup()
        name = f"dedup-families-{os.getpid()}-{time.monotonic_ns()}"
        group: MemoryGroup | _Session = MemoryGroup(name, cap + BACKSTOP)
    except click.ClickException:
        group = _Session()
    with group, open(stdout, "wb") as out, open(stderr, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=out, stderr=err, preexec_fn=group.join, start_new_session=True
        )
        if isinstance(group, _Session):
            group.sid = proc.pid
        guard = Guard(group, proc.pid, timeout, cap)
        guard.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - t0
        finally:
            guard.stop()
            with contextlib.suppress(ProcessLookupError):  # what is left of it (or all, if interrupted)
                os.killpg(proc.pid, signal.SIGKILL)
        proc.returncode = os.waitstatus_to_exitcode(status)
        oom_kills = group.stats()["oom_kill"] if isinstance(group, MemoryGroup) else None
    row: dict[str, Any] = {
        "seconds": round(seconds, 2),
        "exit_code": proc.returncode,
        "peak_mb": round(usage.ru_maxrss / 1024, 1),
        "tree_mb": round(guard.peak_rss / MB, 1),
        "stopped": guard.stopped,
    }
    if guard.stopped is None and oom_kills:
        row["stopped"] = (
            f"{oom_kills} process(es) OOM-killed at the group's limit, {(cap + BACKSTOP) / MB:,.0f} MB"
        )
    elif guard.stopped is None and proc.returncode != 0:
        last = stderr.read_text(errors="replace").strip().splitlines()[-1:]
        row["stopped"] = f"exit {proc.returncode}" + "".join(f": {line[:300]}" for line in last)
    return row


def run_dedup(path: Path, timeout: float, cap_mb: int, work: Path) -> dict[str, Any]:
    """``dedup run`` on a corpus under the guard; its row."""
    out = work / "dedup-out"
    cmd = [sys.executable, "-m", "dedup", "run", str(path), "--out", str(out), "-q"]
    row = guarded(cmd, timeout, cap_mb, work / "dedup.stdout", work / "dedup.stderr")
    if row["stopped"] is None:
        summary = json.loads((out / "summary.json").read_text())
        with open(out / "clusters.jsonl", encoding="utf-8") as f:
            clusters = [r["members"] for r in map(json.loads, f)]
        row["quality"] = quality(truth_of(path), clusters)
        row["candidates"] = summary["candidates"]["pairs"]
        row["verified"] = summary["candidates"]["verified_pairs"]
        row["exact_copies"] = summary.get("exact_copies", {}).get("articles")
        row["pairs_bytes"] = (out / "pairs.jsonl").stat().st_size
        row["stages"] = {k: v for k, v in summary["timings_s"].items() if k != "total"}
    return row


def run_baseline(path: Path, timeout: float, cap_mb: int, work: Path) -> dict[str, Any]:
    """speed.py's rensa pipeline on a corpus under the guard; its row (seconds as it measures them
    itself: reading the corpus to writing the kept articles, Python's start not included)."""
    cmd = [sys.executable, str(HERE / "speed.py"), "_run", "rensa pipeline", str(path)]
    row = guarded(cmd, timeout, cap_mb, work / "rensa.stdout", work / "rensa.stderr")
    if row["stopped"] is None:
        report = json.loads((work / "rensa.stdout").read_text().strip().splitlines()[-1])
        row["wall_s"], row["seconds"] = row["seconds"], report["seconds"]
        row["quality"] = report["quality"]
    return row


def _cell(value: Any, spec: str, width: int) -> str:
    return f"{'-' if value is None else format(value, spec):>{width}}"


HEAD = ("case", "articles", "method", "seconds", "peak MB", "tree MB", "P", "R", "F1",
        "candidates", "verified", "pairs MB")  # fmt: skip
LINE = "{:6} {:>8} {:15} {:>8} {:>8} {:>8} {:>6} {:>6} {:>6} {:>12} {:>11} {:>8}"


def table_row(r: dict[str, Any]) -> str:
    """One row of the table: a run's measures, and why it was stopped if it was."""
    q = r.get("quality") or {}
    pairs_mb = None if r.get("pairs_bytes") is None else r["pairs_bytes"] / MB
    cells = [
        f"{r['case']:6}",
        _cell(r["n"], ",", 8),
        f"{r['method']:15}",
        _cell(r["seconds"], ".1f", 8),
        _cell(r["peak_mb"], ",.0f", 8),
        _cell(r["tree_mb"], ",.0f", 8),
        *(_cell(q.get(k), ".3f", 6) for k in ("precision", "recall", "f1")),
        _cell(r.get("candidates"), ",", 12),
        _cell(r.get("verified"), ",", 11),
        _cell(pairs_mb, ",.1f", 8),
    ]
    return " ".join(cells) + (f"  stopped: {r['stopped']}" if r["stopped"] else "")


def save(rows: list[dict[str, Any]], settings: dict[str, Any]) -> Path:
    """results/families.json: these rows, and the rows of other cases, n or methods kept from
    the file."""
    known = RESULTS / "families.json"
    kept = json.loads(known.read_text())["rows"] if known.exists() else []
    done = {(r["case"], r["n"], r["method"]) for r in rows}
    rows = [r for r in kept if (r["case"], r["n"], r["method"]) not in done] + rows
    return save_json("families", {"rows": rows, **settings})


def _commit() -> str | None:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() or None


@click.command()
@click.option(
    "--sizes",
    default=",".join(CASES),
    show_default=True,
    help="Cases, comma-separated: family sizes (any, e.g. 10) and dev36.",
)
@click.option(
    "--n",
    "n",
    default=100_000,
    show_default=True,
    type=click.IntRange(min=2),
    help="Articles of the synthetic cases.",
)
@click.option(
    "--dev-clusters",
    type=click.IntRange(min=1),
    default=None,
    help="dev36 from the first K clusters of the dev set only (default: all 222).",
)
@click.option("--skip-baseline", is_flag=True, help="Run dedup only.")
@click.option(
    "--timeout", default=1800.0, show_default=True, help="Seconds a run may take before it is killed."
)
@click.option(
    "--memory-cap-mb",
    default=16_384,
    show_default=True,
    type=click.IntRange(min=64),
    help="MB (2**20 bytes) a run's processes may hold together before it is killed.",
)
def main(
    sizes: str, n: int, dev_clusters: int | None, skip_baseline: bool, timeout: float, memory_cap_mb: int
) -> None:
    """Print the table, a row as each run ends, and save results/families.json after each (rows
    of other cases or n kept)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # kill the run and clean up, as on ^C
    cases = [c.strip() for c in sizes.split(",") if c.strip()]
    if not cases:
        raise click.BadParameter("no case given", param_hint="--sizes")
    for case in cases:
        if case != "dev36" and not (case.isdigit() and int(case) >= 2):
            raise click.BadParameter(f"{case!r}: a family size (2 or more) or dev36", param_hint="--sizes")
    methods = ["dedup"] if skip_baseline else ["dedup", "rensa pipeline"]
    settings = {"timeout_s": timeout, "memory_cap_mb": memory_cap_mb, "exact_share": EXACT_SHARE,
                "dev_copies": DEV_COPIES, "commit": _commit(), "cpus": os.cpu_count()}  # fmt: skip
    rows: list[dict[str, Any]] = []
    click.echo(LINE.format(*HEAD))
    for case in cases:
        path = dev_corpus(dev_clusters) if case == "dev36" else family_corpus(n, int(case))
        articles = len(truth_of(path))
        for method in methods:
            click.echo(f"{case} ({articles:,} articles): {method} ...", err=True)
            with tempfile.TemporaryDirectory(dir=CACHE, prefix="families-") as work:
                run = run_dedup if method == "dedup" else run_baseline
                row = run(path, timeout, memory_cap_mb, Path(work))
            rows.append({"case": case, "n": articles, "method": method, "corpus": path.name, **row})
            click.echo(table_row(rows[-1]))
            saved = save(rows, settings)  # after each run: an interrupted run keeps what it measured
    click.echo(f"saved {saved}")


if __name__ == "__main__":
    main()
