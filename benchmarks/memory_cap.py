"""A dump larger than the memory allowed still runs: ``dedup run`` under a hard memory limit.

``dedup run INPUT --out DIR -q --workers W`` runs on the synthetic corpus of ``--size`` articles
(``make_corpus.py``, made once and cached in ``benchmarks/.cache/``) inside a cgroup v1 memory
group of its own, ``/sys/fs/cgroup/memory/dedup-bench-<pid>-<k>``, made fresh for each run (so
its counters start at zero), given ``memory.limit_in_bytes`` (on a machine with swap,
``memory.memsw.limit_in_bytes`` too, so that swap is no extra room) and removed once the run has
exited. The group holds the main process, its fork server and its workers, and its limit counts
their resident memory *and* the page cache they bring in: the spilled term counts, the outputs,
the corpus as it is read. Page cache is charged to the group that first read it, so before each
run the corpus is dropped from the page cache (``posix_fadvise(DONTNEED)``;
``--keep-corpus-cache`` not to) and its reading is charged to the run, as on a first read.

Each mode, ``spilled`` (the default: term counts appended to files in ``--out`` and read back
through memory maps) and ``in-memory`` (``--in-memory``), runs once under each ``--limit-mb``;
one uncapped run of the default mode comes first as the reference (unless ``--no-reference``),
in a group too (no limit), so that its peak is measured the same way. For each run:

    seconds      wall time, Python's start included
    finished     exited within ``--timeout`` (else it is killed, with its workers, and noted
                 "did not finish in T s")
    exit         exit code (negative: killed by that signal; -9 from the OOM killer or the timeout)
    peak MB      the group's ``memory.max_usage_in_bytes``: page cache included, so more than the
                 peak RSS speed.py reports; under a limit it reaches the limit and the kernel reclaims
    peak RSS     the group's resident anonymous memory (``total_rss`` of ``memory.stat``, sampled
                 ten times a second): what no reclaim can take back short of the OOM killer
    failcnt      ``memory.failcnt`` (+ ``memory.memsw.failcnt``, counted first when swap is
                 limited too): how many times a charge hit the limit and had to reclaim
    OOM kills    from ``memory.oom_control`` (``under_oom`` is also recorded at a timeout: whether
                 the group was stuck waiting for the OOM killer when it was killed)
    maj faults   ``total_pgmajfault`` of ``memory.stat``: pages read again from disk
    spilled MB   ``spill.bytes`` of the run's summary.json (whose stage timings are kept too)

MB are 2**20 bytes, ``--limit-mb`` too. Requires root and the cgroup v1 memory controller at
/sys/fs/cgroup/memory. Each run's --out is a temporary folder in benchmarks/.cache/ (on the
corpus's disk: /tmp may be a small tmpfs), removed after the run. The results go to
``results/memory_cap-<size>.json``, one file per size, so that a 1M run does not overwrite the
100k one.

    python benchmarks/memory_cap.py                                    # 100,000 articles, 700 MB
    python benchmarks/memory_cap.py --size 1000000 --limit-mb 4500 --timeout 1800
    python benchmarks/memory_cap.py --size 10000 --limit-mb 300 --limit-mb 400 --timeout 60

A limit below the run's peak RSS (the uncapped row's) measures only the OOM killer.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TypedDict

import click

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _data import save_json  # noqa: E402
from _watch import Watch  # noqa: E402
from speed import CACHE, corpus  # noqa: E402

MEMCG = Path("/sys/fs/cgroup/memory")
MB = 2**20
MODES = {"spilled": [], "in-memory": ["--in-memory"]}
SPILL_PER_ARTICLE = 5_000  # bytes: 4.6 kB spilled per article at 1M, for the free-space check


class GroupStats(TypedDict):
    max_usage_bytes: int
    failcnt: int
    memsw_failcnt: int | None
    oom_kill: int | None
    under_oom: int
    major_faults: int


class MemoryGroup:
    """A fresh cgroup v1 memory group, removed on exit: started with ``preexec_fn=group.join``,
    a process runs inside it, and so do the processes it starts."""

    def __init__(self, name: str, limit_bytes: int | None) -> None:
        self.path = MEMCG / name
        self.limit_bytes = limit_bytes

    def __enter__(self) -> MemoryGroup:
        self.path.mkdir()
        if self.limit_bytes is not None:
            self._write("memory.limit_in_bytes", self.limit_bytes)
            if has_swap() and (self.path / "memory.memsw.limit_in_bytes").exists():
                self._write("memory.memsw.limit_in_bytes", self.limit_bytes)  # swap is no extra room
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def _write(self, name: str, value: int) -> None:
        (self.path / name).write_text(f"{value}\n")

    def _read(self, name: str) -> str:
        return (self.path / name).read_text()

    def join(self) -> None:
        """Move the calling process into the group (a ``preexec_fn``: runs in the child)."""
        self._write("cgroup.procs", os.getpid())

    def _int(self, name: str) -> int | None:
        return int(self._read(name)) if (self.path / name).exists() else None

    def rss_bytes(self) -> int:
        """Resident anonymous memory of the group now (``memory.stat``'s total_rss: page cache
        not included)."""
        for line in self._read("memory.stat").splitlines():
            key, value = line.split()
            if key == "total_rss":
                return int(value)
        return 0

    def pids(self) -> list[int]:
        return [int(p) for p in self._read("cgroup.procs").split()]

    def limit(self) -> int:
        """The limit the kernel took (rounded to pages)."""
        return int(self._read("memory.limit_in_bytes"))

    def stats(self) -> GroupStats:
        oom = dict(line.split() for line in self._read("memory.oom_control").splitlines())
        stat = dict(line.split() for line in self._read("memory.stat").splitlines())
        return {
            "max_usage_bytes": int(self._read("memory.max_usage_in_bytes")),
            "failcnt": int(self._read("memory.failcnt")),
            "memsw_failcnt": self._int("memory.memsw.failcnt"),
            "oom_kill": int(oom["oom_kill"]) if "oom_kill" in oom else None,  # kernels >= 4.13
            "under_oom": int(oom["under_oom"]),
            "major_faults": int(stat.get("total_pgmajfault", stat.get("pgmajfault", 0))),
        }

    def remove(self) -> None:
        """Kill what is left in the group (only processes this script started are in it), wait
        for it to empty and remove it (charged page cache moves to the parent)."""
        deadline = time.monotonic() + 30
        while True:
            left = self.pids()
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            if not left:
                with contextlib.suppress(OSError):  # EBUSY while the last exits are accounted
                    self.path.rmdir()
                    return
            if time.monotonic() > deadline:
                raise click.ClickException(f"could not remove {self.path}: still holds {left}")
            time.sleep(0.1)


class GroupWatch(Watch):
    """:class:`_watch.Watch` over a memory group (``rss`` sampled ten times a second); at the
    deadline, the group's counters are kept in ``at_timeout`` before the run is killed."""

    def __init__(self, group: MemoryGroup, pgid: int, deadline: float) -> None:
        super().__init__(pgid, deadline, lambda: {"rss": group.rss_bytes()})
        self.group = group
        self.at_timeout: GroupStats | None = None  # the group's counters when it was killed

    @property
    def peak_rss(self) -> int:
        return self.peak.get("rss", 0)

    def on_stop(self) -> None:
        self.at_timeout = self.group.stats()


def has_swap() -> bool:
    with open("/proc/meminfo", encoding="ascii") as f:
        for line in f:
            if line.startswith("SwapTotal:"):
                return int(line.split()[1]) > 0
    return False


def check_cgroup() -> None:
    """Exit with one line saying what is needed unless cgroup v1 memory groups can be made."""
    if not (MEMCG / "memory.limit_in_bytes").exists():
        if Path("/sys/fs/cgroup/cgroup.controllers").exists():
            raise click.ClickException(
                "this machine runs cgroup v2; this benchmark needs the cgroup v1 memory controller at "
                f"{MEMCG} (under v2, cap one run by hand: systemd-run --user --scope -p MemoryMax=700M "
                "-p MemorySwapMax=0 python -m dedup run INPUT --out DIR)"
            )
        raise click.ClickException(f"no cgroup v1 memory controller mounted at {MEMCG}")
    probe = MEMCG / f"dedup-bench-{os.getpid()}-probe"
    try:
        probe.mkdir()
        probe.rmdir()
    except OSError as err:
        raise click.ClickException(
            f"cannot create a memory cgroup in {MEMCG} ({err.strerror}): run as root"
        ) from None


def drop_from_page_cache(path: Path) -> None:
    """Evict a file's clean pages from the page cache, so that the next read is charged to the
    group of the process that reads it."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def run_once(
    path: Path, mode: str, limit_mb: int | None, workers: int, timeout: float, work: Path, k: int
) -> dict[str, Any]:
    """One ``dedup run`` in a memory group of its own; its row."""
    out = work / f"run-{k}"
    out.mkdir()
    cmd = [sys.executable, "-m", "dedup", "run", str(path), "--out", str(out), "-q"]
    cmd += ["--workers", str(workers), *MODES[mode]]
    limit = None if limit_mb is None else limit_mb * MB
    row: dict[str, Any] = {"mode": mode, "limit_mb": limit_mb}
    try:
        with (
            MemoryGroup(f"dedup-bench-{os.getpid()}-{k}", limit) as group,
            open(out.with_suffix(".err"), "wb") as err,
        ):
            row["limit_bytes"] = None if limit is None else group.limit()
            t0 = time.perf_counter()
            # its own session: the timeout kills its process group (it and its workers) by id
            proc = subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL, stderr=err, preexec_fn=group.join, start_new_session=True
            )
            watch = GroupWatch(group, proc.pid, t0 + timeout)
            watch.start()
            try:
                proc.wait()
                row["seconds"] = round(time.perf_counter() - t0, 2)
            finally:
                watch.stop()
                if proc.poll() is None:  # interrupted: leave nothing running
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            at_timeout = watch.at_timeout
            row["exit_code"] = proc.returncode
            row["finished"] = at_timeout is None
            group_stats = group.stats()
        row.update(group_stats)
        row["peak_mb"] = round(group_stats["max_usage_bytes"] / MB, 1)
        row["peak_rss_mb"] = round(watch.peak_rss / MB, 1)
        if at_timeout is not None:
            row["note"] = f"did not finish in {timeout:g} s"
            row["under_oom_at_timeout"] = at_timeout["under_oom"]
        elif proc.returncode != 0:
            kills = group_stats["oom_kill"]
            row["note"] = f"{kills} process(es) OOM-killed; " if kills else ""
            if proc.returncode == -signal.SIGKILL:
                row["note"] += "killed (-9)"
            else:  # e.g. a worker was killed and the pool broke
                last = out.with_suffix(".err").read_text(errors="replace").strip().splitlines()[-1:]
                row["note"] += f"exit {proc.returncode}" + "".join(f": {line}" for line in last)
        summary_path = out / "summary.json"
        if row["finished"] and proc.returncode == 0 and summary_path.exists():
            summary = json.loads(summary_path.read_text())
            row["spill_bytes"] = summary.get("spill", {}).get("bytes")
            row["stages"] = summary["timings_s"]
    finally:
        shutil.rmtree(out, ignore_errors=True)
        out.with_suffix(".err").unlink(missing_ok=True)
    return row


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(rows: list[dict[str, Any]]) -> None:
    head: tuple[str, ...] = (
        "mode",
        "limit MB",
        "seconds",
        "finished",
        "exit",
        "peak MB",
        "peak RSS",
        "failcnt",
    )
    head += ("OOM kills", "maj faults", "spilled MB")
    click.echo("{:10} {:>8} {:>8} {:>8} {:>5} {:>8} {:>8} {:>9} {:>9} {:>10} {:>10}".format(*head))
    for r in rows:
        spilled = None if r.get("spill_bytes") is None else r["spill_bytes"] / MB
        cells = (
            f"{r['mode']:10}",
            f"{r['limit_mb'] or 'none'!s:>8}",
            f"{r['seconds']:>8.1f}",
            f"{'yes' if r['finished'] else 'no':>8}",
            f"{r['exit_code']:>5}",
            f"{r['peak_mb']:>8,.0f}",
            f"{r['peak_rss_mb']:>8,.0f}",
            f"{r['failcnt'] + (r['memsw_failcnt'] or 0):>9,}",
            f"{_fmt(r['oom_kill'], ','):>9}",
            f"{r['major_faults']:>10,}",
            f"{_fmt(spilled, ',.0f'):>10}",
        )
        click.echo(" ".join(cells))


@click.command()
@click.option("--size", default=100_000, show_default=True, help="Articles in the synthetic corpus.")
@click.option(
    "--limit-mb",
    "limits",
    multiple=True,
    type=click.IntRange(min=16),
    default=(700,),
    show_default=True,
    help="Memory limit of the group in MB (2**20 bytes), page cache included; repeat for several.",
)
@click.option(
    "--modes",
    default="spilled,in-memory",
    show_default=True,
    help="Comma-separated: spilled (the default of dedup run), in-memory (--in-memory).",
)
@click.option("--timeout", default=600.0, show_default=True, help="Seconds before a run is killed.")
@click.option(
    "--workers", default=2, show_default=True, type=click.IntRange(min=1), help="dedup's --workers."
)
@click.option(
    "--no-reference",
    is_flag=True,
    help="Skip the uncapped reference run (speed.py's row at the same size is one).",
)
@click.option(
    "--keep-corpus-cache",
    is_flag=True,
    help="Do not drop the corpus from the page cache before each run (pages cached before are "
    "charged to whoever read them first, so the run's reading of it then costs it nothing).",
)
def main(
    size: int,
    limits: tuple[int, ...],
    modes: str,
    timeout: float,
    workers: int,
    no_reference: bool,
    keep_corpus_cache: bool,
) -> None:
    """Print the table and save results/memory_cap-<size>.json."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up (kill the run, rmdir) as on ^C
    run_modes = modes.split(",")
    if unknown := set(run_modes) - set(MODES):
        raise click.BadParameter(
            f"unknown modes {sorted(unknown)} (known: {', '.join(MODES)})", param_hint="--modes"
        )
    check_cgroup()
    path = corpus(size)
    CACHE.mkdir(exist_ok=True)
    need = size * SPILL_PER_ARTICLE + 2 * path.stat().st_size
    free = shutil.disk_usage(CACHE).free
    if free < need:
        raise click.ClickException(
            f"{CACHE}: {free / MB:,.0f} MB free, a run needs about {need / MB:,.0f} MB"
        )
    plan: list[tuple[str, int | None]] = [] if no_reference else [("spilled", None)]
    plan += [(mode, limit) for limit in limits for mode in run_modes]
    rows = []
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="memory_cap-") as work:
        for k, (mode, limit) in enumerate(plan):
            if not keep_corpus_cache:
                drop_from_page_cache(path)
            label = "uncapped" if limit is None else f"{limit} MB"
            click.echo(f"{mode}, {label} ...", err=True)
            rows.append(run_once(path, mode, limit, workers, timeout, Path(work), k))
    print_table(rows)
    for r in rows:
        if "note" in r:
            where = "uncapped" if r["limit_mb"] is None else f"at {r['limit_mb']} MB"
            click.echo(f"{r['mode']} {where}: {r['note']}")
    result = {
        "n": size,
        "corpus": path.name,
        "corpus_bytes": path.stat().st_size,
        "workers": workers,
        "timeout_s": timeout,
        "corpus_cache_dropped": not keep_corpus_cache,
        "cpus": os.cpu_count(),
        "mem_total_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
        "kernel": platform.release(),
        "rows": rows,
    }
    click.echo(f"saved {save_json(f'memory_cap-{size}', result)}")


if __name__ == "__main__":
    main()
