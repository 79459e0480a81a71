"""The local engine against Spark ``local[2]``: wall time at 10k and 100k articles, and what an
added executor should buy, reasoned from the measured stage costs.

For each size N (``--sizes``; the synthetic corpora of ``make_corpus.py``, ~400 words an article,
planted families, one gzipped JSONL file each, made once and cached in ``benchmarks/.cache/``),
every run is a process of its own, timed from outside (Python's and the JVM's start included):

    local            ``dedup run CORPUS -o OUT -q --workers 2``, with its summary's stage timings
    spark CLI        ``dedup run --engine spark CORPUS -o OUT -q``: a ``local[*]`` session
                     (``os.cpu_count()`` task slots), with its summary's stage timings
    spark local[K]   this script's driver (``spark.py _spark``): ``spark_session(master="local[K]")``,
                     then what ``dedup run --engine spark`` calls after it (``cli._run_on_spark``:
                     read_jsonl, run, pairs / clusters / summary written, write_deduplicated), each
                     part timed. K=2 at every size: the run the stage costs are read from; K=1 at
                     ``--scaling-sizes``
    ..., P parts     the same with the corpus cut into ``--parts`` gzipped files (the same lines in
                     the same order: the same positions, so the same outputs), at ``--scaling-sizes``
    session          once: a driver that only starts a ``local[2]`` session and stops it, the fixed
                     cost ("work s" is a run's wall time less this process's)

Every Spark run's clusters.jsonl is compared byte for byte with the local run's; of pairs.jsonl,
the (a, b) list, and how many pairs' values differ (in which field, by how much at most); and the kept lines
(the local deduplicated.jsonl.gz against the Spark part files, decompressed, in order).

Stage costs: every Spark run writes Spark's event log (``spark.eventLog.enabled``, uncompressed,
through ``PYSPARK_SUBMIT_ARGS``, into a temporary folder). Each Spark stage goes to a phase of the
driver (by its submission time against the phases' bounds: session, read, run()'s own timings
read_sign_candidates / verify / cluster, then write), labelled by its call site (``groupByKey at
engines/spark/sign.py:190`` and the function holding that line). Per phase:

    wall        the phase's seconds
    busy        seconds with at least one task running
    driver      wall - busy: no task running (the Python driver working on what it collected or
                building a broadcast, Spark planning and scheduling the next job or stage)
    task-s      the tasks' seconds (launch to finish) summed
    1-task      task-seconds in stages of one task (one partition: no added slot speeds them up)
    to driver   bytes the tasks sent back to the driver (result sizes: what collect() gathers)
    shuffle     bytes written to shuffle files
    spilled     bytes spilled to disk (the Python workers' external groupBy / merge included)

Scaling with k task slots (``--slots``; an executor of c cores adds c slots): the run's seconds,
the session's start left out (a cluster pays it once), estimated three ways, the first two from
the stage costs of the local[2] run and again from the local[1] run's (where there is one: its
tasks ran one at a time, not slowed by one another on two shared cores):

    as run      driver + the sum over waves (stages running at once) of the LPT makespan of the
                wave's tasks on k slots: tasks keep their measured seconds and their number, so a
                stage of one task stays one task however many slots there are
    split       driver + task-s / k: every stage spread evenly over k slots (what the engine
                would do with >= k even partitions everywhere), Amdahl's law with the driver time
                as the serial part
    measured    at ``--scaling-sizes``: local[1]'s and local[2]'s seconds T1, T2 give the
                parallel fraction p = 2 (1 - T2 / T1) (Amdahl's law solved at 2), then
                T1 ((1 - p) + p / k)

Both models are checked against the measured local[2] and local[1] runs. Two cores cannot show a
cluster's scaling: the estimates leave out what a cluster adds (shuffles and broadcasts over the
network, executors' JVMs, stragglers) and what it takes away (two cores shared by the JVM, the
Python driver and the Python workers).

A run longer than ``--timeout`` is killed (its process group) and reported with how far it got:
the driver's phase and the Spark stage it was in, from the event log. Peak MB: the resident
memory of the run's process tree (the JVM, the Python driver, the Python workers), summed, sampled
four times a second; the JVM's and the Python driver's own peaks too. Other CPU s: the CPU
time the machine spent outside the run while it ran (/proc/stat, less the CPU time of the run's
processes as last sampled and this script's own): near 0 when nothing else competed for the
cores. Outputs and event logs go to a temporary folder in ``benchmarks/.cache/`` (on the corpus's
disk), removed at the end.

    python benchmarks/spark.py                          # 10k and 100k (~45 min on 2 cores)
    python benchmarks/spark.py --sizes 10000 --parts 0  # no split-input runs
"""

from __future__ import annotations

import ast
import contextlib
import gzip
import hashlib
import heapq
import importlib.metadata
import itertools
import json
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from _data import save_json  # noqa: E402
from _watch import Watch  # noqa: E402
from speed import CACHE, corpus  # noqa: E402

MB = 2**20
PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")
RUN_STAGES = ("read_sign_candidates", "verify", "cluster")  # run()'s timings_s, in order
PHASES = ("session", "read", *RUN_STAGES, "write")
WHAT = {  # what each phase of the Spark driver does
    "session": "JVM and SparkSession start",
    "read": "read_jsonl (numbering: a job only with more than one partition)",
    "read_sign_candidates": "read + unique ids + spread by position + featurize + band keys sharded",
    "verify": "document frequencies (reduceByKey, broadcast) + lower records sent, pairs scored",
    "cluster": "large-star/small-star rounds + components re-clustered",
    "write": "pairs/clusters written, kept lines saved by Spark",
}


# ---------------------------------------------------------------- processes, timed and watched


class TreeWatch(Watch):
    """:class:`_watch.Watch` over a process tree (four samples a second): the resident memory of
    the tree, the JVM, the driver and the Python workers, and each process's CPU seconds."""

    def __init__(self, pid: int, deadline: float) -> None:
        super().__init__(pid, deadline, self._tree, every=0.25)
        self.pid = pid
        self.peak = {"tree": 0, "jvm": 0, "driver": 0, "workers": 0}
        self.cpu: dict[int, float] = {}  # CPU seconds of each process of the tree, as last seen

    def _tree(self) -> dict[str, int]:
        parent: dict[int, int] = {}
        cpu: dict[int, float] = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                with (
                    contextlib.suppress(OSError, ValueError, IndexError),
                    open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as f,
                ):
                    fields = f.read().rsplit(")", 1)[1].split()  # from the 3rd field, state, on
                    parent[int(entry.name)] = int(fields[1])
                    cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
        members, frontier = {self.pid}, [self.pid]
        children: dict[int, list[int]] = {}
        for pid, ppid in parent.items():
            children.setdefault(ppid, []).append(pid)
        while frontier:
            for child in children.get(frontier.pop(), []):
                members.add(child)
                frontier.append(child)
        used = {"tree": 0, "jvm": 0, "driver": 0, "workers": 0}
        for pid in members:
            self.cpu[pid] = max(self.cpu.get(pid, 0.0), cpu.get(pid, 0.0))
            with contextlib.suppress(OSError, ValueError, IndexError):
                with open(f"/proc/{pid}/statm", encoding="ascii") as f:
                    rss = int(f.read().split()[1]) * PAGE
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
                kind = "driver"
                if argv and argv[0].endswith(b"java"):
                    kind = "jvm"
                elif b"pyspark.daemon" in argv or b"pyspark.worker" in argv:
                    kind = "workers"
                used["tree"] += rss
                if kind == "workers":
                    used["workers"] += rss
                else:
                    used[kind] = max(used[kind], rss)
        return used


def timed(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd`` in a process group of its own: wall seconds, exit code, stdout, the end of
    stderr, peak memory; killed (the group) after ``timeout`` seconds."""
    t0 = time.perf_counter()
    busy0, self0 = _cpu_busy(), _self_cpu()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, start_new_session=True)
        watch = TreeWatch(proc.pid, t0 + timeout)
        watch.start()
        try:
            proc.wait()
            seconds = time.perf_counter() - t0
        finally:
            watch.stop()
            if proc.poll() is None:  # interrupted: leave nothing running
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        with contextlib.suppress(ProcessLookupError):  # a worker left behind by a killed JVM
            os.killpg(proc.pid, signal.SIGKILL)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    return {
        "wall_s": round(seconds, 2),
        "exit_code": proc.returncode,
        "timed_out": watch.timed_out,
        "stdout": stdout,
        "stderr_tail": stderr[-3000:],
        "peak_mb": {k: round(v / MB, 1) for k, v in watch.peak.items()},
        "cpu_s": round(sum(watch.cpu.values()), 1),
        "other_cpu_s": round(
            max(0.0, _cpu_busy() - busy0 - sum(watch.cpu.values()) - (_self_cpu() - self0)), 1
        ),
    }


def _cpu_busy() -> float:
    """CPU seconds the machine has spent busy since boot (every process's)."""
    with open("/proc/stat", encoding="ascii") as f:
        user, nice, system, _, _, irq, softirq, steal = (int(x) for x in f.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / TICK


def _self_cpu() -> float:
    """CPU seconds of this process (its watching included)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def spark_env(events: Path) -> dict[str, str]:
    """The environment of a Spark run: its event log into ``events`` (one file, uncompressed)."""
    events.mkdir(parents=True, exist_ok=True)
    conf = {
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": events.resolve().as_uri(),
        "spark.eventLog.compress": "false",
        "spark.eventLog.rolling.enabled": "false",
    }
    args = " ".join(f"--conf {k}={v}" for k, v in conf.items())
    return {**os.environ, "PYSPARK_SUBMIT_ARGS": f"{args} pyspark-shell"}


# ---------------------------------------------------------------- the Spark event log


def read_events(folder: Path) -> list[dict]:
    """The events of the one application logged in ``folder`` (a killed run's too)."""
    out = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith((".", "app"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                with contextlib.suppress(json.JSONDecodeError):  # a killed run's last line
                    out.append(json.loads(line))
    return out


_functions: dict[str, list[tuple[int, int, str]]] = {}


def _function_at(file: str, line: int) -> str | None:
    """The innermost function of ``file`` holding ``line`` (lambdas left out)."""
    if file not in _functions:
        spans = []
        with contextlib.suppress(OSError, SyntaxError):
            tree = ast.parse(Path(file).read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    spans.append((node.lineno, node.end_lineno or node.lineno, node.name))
        _functions[file] = spans
    holding = [s for s in _functions[file] if s[0] <= line <= s[1]]
    return min(holding, key=lambda s: s[1] - s[0])[2] if holding else None


_CALL_SITE = re.compile(r"^(\w+) at (\S+\.py):(\d+)$")


def _call_site(name: str) -> tuple[str, str | None]:
    """``"groupByKey at /x/dedup/engines/spark/job.py:38"`` -> (``"groupByKey at engines/spark/job.py:38"``,
    the function holding that line)."""
    found = _CALL_SITE.match(name)
    if not found:
        return name, None
    op, file, line = found.groups()
    where = file.rsplit("/dedup/", 1)[1] if "/dedup/" in file else Path(file).name
    return f"{op} at {where}:{line}", _function_at(file, int(line))


def stages_of(events: list[dict]) -> list[dict]:
    """Every stage that ran (skipped ones left out), with its tasks' (launch, finish) in seconds
    since the epoch, their sums and its label; in submission order."""
    stages: dict[int, dict] = {}
    names: dict[int, str] = {}  # every stage of every job, skipped ones too
    parents: dict[int, list[int]] = {}
    for e in events:
        kind = e["Event"]
        if kind == "SparkListenerJobStart":
            for info in e.get("Stage Infos", []):
                names[info["Stage ID"]] = info["Stage Name"]
                parents[info["Stage ID"]] = info.get("Parent IDs", [])
        elif kind == "SparkListenerStageSubmitted":
            info = e["Stage Info"]
            stages[info["Stage ID"]] = {
                "stage": info["Stage ID"],
                "name": info["Stage Name"],
                "tasks": info["Number of Tasks"],
                "submitted": info.get("Submission Time", 0) / 1000,
                "completed": None,
                "spans": [],
                "result_bytes": 0,
                "shuffle_write_bytes": 0,
                "shuffle_read_bytes": 0,
                "input_bytes": 0,
                "gc_s": 0.0,
                "memory_spilled_bytes": 0,
                "disk_spilled_bytes": 0,
            }
        elif kind == "SparkListenerStageCompleted":
            info = e["Stage Info"]
            if info["Stage ID"] in stages and info.get("Completion Time"):
                stages[info["Stage ID"]]["completed"] = info["Completion Time"] / 1000
        elif kind == "SparkListenerTaskEnd" and e["Stage ID"] in stages:
            s, task, metrics = stages[e["Stage ID"]], e["Task Info"], e.get("Task Metrics") or {}
            s["spans"].append((task["Launch Time"] / 1000, task["Finish Time"] / 1000))
            if e.get("Task Type") == "ResultTask":
                s["result_bytes"] += metrics.get("Result Size", 0)
            written = metrics.get("Shuffle Write Metrics", {})
            s["shuffle_write_bytes"] += written.get("Shuffle Bytes Written", 0)
            read = metrics.get("Shuffle Read Metrics", {})
            s["shuffle_read_bytes"] += read.get("Local Bytes Read", 0) + read.get("Remote Bytes Read", 0)
            s["input_bytes"] += metrics.get("Input Metrics", {}).get("Bytes Read", 0)
            s["gc_s"] += metrics.get("JVM GC Time", 0) / 1000
            s["memory_spilled_bytes"] += metrics.get("Memory Bytes Spilled", 0)  # (the Python
            s["disk_spilled_bytes"] += metrics.get("Disk Bytes Spilled", 0)  # workers' spills too)
    out = []
    for s in sorted(stages.values(), key=lambda s: s["submitted"]):
        site, function = _call_site(s["name"])
        s["site"] = site
        s["function"] = function or _inherited(s["stage"], names, parents)
        s["task_s"] = sum(b - a for a, b in s["spans"])
        out.append(s)
    return out


def _inherited(stage: int, names: dict[int, str], parents: dict[int, list[int]]) -> str | None:
    """The function of a stage named by no Python call site (``runJob at PythonRDD.scala``: a
    take() or isEmpty()): its nearest parent stage's; ``saveAsTextFile`` for Hadoop's writer."""
    if "SparkHadoopWriter" in names.get(stage, ""):
        return "saveAsTextFile"
    frontier = sorted(parents.get(stage, []), reverse=True)
    while frontier:
        parent = frontier.pop(0)
        function = _call_site(names.get(parent, ""))[1]
        if function:
            return function
        frontier.extend(sorted(parents.get(parent, []), reverse=True))
    return None


def jobs_of(events: list[dict]) -> list[tuple[float, float | None]]:
    """(submitted, completed) of every job, in seconds since the epoch."""
    jobs: dict[int, list[float | None]] = {}
    for e in events:
        if e["Event"] == "SparkListenerJobStart":
            jobs[e["Job ID"]] = [e["Submission Time"] / 1000, None]
        elif e["Event"] == "SparkListenerJobEnd" and e["Job ID"] in jobs:
            jobs[e["Job ID"]][1] = e["Completion Time"] / 1000
    return [(a, b) for a, b in jobs.values() if a is not None]


def _union(spans: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for a, b in sorted(spans):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def waves(stages: list[dict]) -> list[list[float]]:
    """The task seconds of each wave: stages whose tasks ran at the same time, merged."""
    out: list[list[float]] = []
    end = float("-inf")
    for s in sorted((s for s in stages if s["spans"]), key=lambda s: min(a for a, _ in s["spans"])):
        first, last = min(a for a, _ in s["spans"]), max(b for _, b in s["spans"])
        durations = [b - a for a, b in s["spans"]]
        if first < end:
            out[-1].extend(durations)
        else:
            out.append(durations)
        end = max(end, last)
    return out


def lpt(durations: list[float], k: int) -> float:
    """The makespan of ``durations`` on ``k`` slots, longest first, each to the least loaded."""
    slots = [0.0] * k
    for d in sorted(durations, reverse=True):
        heapq.heapreplace(slots, slots[0] + d)
    return max(slots)


def by_function(stages: list[dict]) -> list[dict]:
    """The stages grouped by the function holding their call site, in order of first use."""
    groups: dict[str | None, list[dict]] = {}
    for s in stages:
        groups.setdefault(s["function"], []).append(s)
    return [
        {
            "function": function,
            "stages": len(group),
            "tasks": sum(len(s["spans"]) for s in group),
            "max_tasks": max(len(s["spans"]) for s in group),
            "task_s": round(sum(s["task_s"] for s in group), 3),
            "busy_s": round(_union([span for s in group for span in s["spans"]]), 3),
        }
        for function, group in groups.items()
    ]


def phase_costs(stages: list[dict], bounds: dict[str, tuple[float, float]]) -> dict[str, dict]:
    """Per phase: wall, busy, driver, task seconds, one-task stages, bytes; and its stages."""
    out = {}
    for phase, (start, end) in bounds.items():
        inside = [s for s in stages if start <= s["submitted"] < end]
        spans = [(max(a, start), min(b, end)) for s in inside for a, b in s["spans"]]
        busy = _union([(a, b) for a, b in spans if b > a])
        out[phase] = {
            "wall_s": end - start,
            "busy_s": busy,
            "driver_s": (end - start) - busy,
            "task_s": sum(s["task_s"] for s in inside),
            "one_task_s": sum(s["task_s"] for s in inside if len(s["spans"]) == 1),
            "stages": len(inside),
            "tasks": sum(len(s["spans"]) for s in inside),
            "max_tasks": max((len(s["spans"]) for s in inside), default=0),
            "to_driver_bytes": sum(s["result_bytes"] for s in inside),
            "shuffle_write_bytes": sum(s["shuffle_write_bytes"] for s in inside),
            "disk_spilled_bytes": sum(s["disk_spilled_bytes"] for s in inside),
            "memory_spilled_bytes": sum(s["memory_spilled_bytes"] for s in inside),
            "waves": waves(inside),
            "stage_list": inside,
        }
    return out


def predict(costs: dict[str, dict], k: int) -> dict[str, float]:
    """Seconds of the phases but the session on ``k`` slots: as run (tasks as they are) and split
    (each wave's task seconds spread evenly)."""
    as_run = split = 0.0
    for phase, c in costs.items():
        if phase == "session":
            continue
        as_run += c["driver_s"] + sum(lpt(w, k) for w in c["waves"])
        split += c["driver_s"] + c["task_s"] / k
    return {"as_run_s": as_run, "split_s": split}


def bounds_of(marks: dict[str, float], timings: dict[str, float]) -> dict[str, tuple[float, float]]:
    """The phases' (start, end) in seconds since the epoch, from a finished driver's marks and
    run()'s timings (its stages follow one another from its start; what is left of run(), the
    Result built, goes with write)."""
    out = {"session": (marks["session"], marks["read"]), "read": (marks["read"], marks["run"])}
    at = marks["run"]
    for name in RUN_STAGES:
        out[name] = (at, at + timings[name])
        at += timings[name]
    out["write"] = (at, marks["end"])
    return out


def how_far(events: list[dict], marks: dict[str, float], killed_at: float) -> str:
    """Where a killed run was: the driver's phase, the stage running (or the last done)."""
    phase = max((p for p in marks if p != "end"), key=lambda p: marks[p], default="start")
    stages = stages_of(events)
    running = [s for s in stages if s["completed"] is None]
    done = [s for s in stages if s["completed"] is not None]
    parts = [f"driver in {phase} ({killed_at - marks[phase]:.0f} s in it)"] if marks else []
    parts.append(f"{len(done)} stages done")
    for s in running:
        parts.append(
            f"running {s['site']} ({s['function']}) for {killed_at - s['submitted']:.0f} s, "
            f"{len(s['spans'])}/{s['tasks']} tasks done"
        )
    if not running and done:
        last = max(done, key=lambda s: s["completed"])
        parts.append(
            f"last stage done {killed_at - last['completed']:.0f} s before: {last['site']} "
            f"({last['function']})"
        )
    return "; ".join(parts)


# ---------------------------------------------------------------- comparing outputs


def _kept_lines(out: Path) -> Iterator[bytes]:
    local = out / "deduplicated.jsonl.gz"
    files = [local] if local.exists() else sorted((out / "deduplicated").glob("part-*"))
    for path in files:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            yield from (line.rstrip(b"\r\n") for line in f)


def compare(local: Path, spark: Path) -> dict[str, Any]:
    """The Spark outputs against the local run's."""

    def pairs(out: Path) -> list[dict]:
        with open(out / "pairs.jsonl", encoding="utf-8") as f:
            return [json.loads(line) for line in f]

    def same(name: str) -> bool:
        return (local / name).read_bytes() == (spark / name).read_bytes()

    a, b = pairs(local), pairs(spark)
    same_ab = [(p["a"], p["b"]) for p in a] == [(p["a"], p["b"]) for p in b]
    differ, largest = 0, 0.0
    fields: dict[str, int] = {}
    if same_ab:
        for p, q in zip(a, b, strict=True):
            gaps = {k: abs(p[k] - q[k]) for k in p if k not in ("a", "b")}
            differ += any(gaps.values())
            largest = max(largest, *gaps.values())
            for k, gap in gaps.items():
                fields[k] = fields.get(k, 0) + bool(gap)
    return {
        "clusters_bytes_equal": same("clusters.jsonl"),
        "pairs_ab_equal": same_ab,
        "pairs": [len(a), len(b)],
        "pairs_values_differ": differ if same_ab else None,
        "pairs_values_max_gap": round(largest, 6) if same_ab else None,
        "pairs_values_differ_by_field": fields if same_ab else None,
        "pairs_bytes_equal": same("pairs.jsonl"),
        "kept_lines_equal": all(
            x == y for x, y in itertools.zip_longest(_kept_lines(local), _kept_lines(spark))
        ),
    }


# ---------------------------------------------------------------- the runs


def split_corpus(path: Path, parts: int, folder: Path) -> list[Path]:
    """``path``'s lines cut into ``parts`` gzipped files of consecutive lines, in order."""
    with gzip.open(path, "rb") as f:
        lines = f.readlines()
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    step = -(-len(lines) // parts)
    for k in range(parts):
        part = folder / f"part-{k:03d}.jsonl.gz"
        with gzip.open(part, "wb", compresslevel=6) as f:
            f.writelines(lines[k * step : (k + 1) * step])
        out.append(part)
    return out


def run_local(path: Path, out: Path, workers: int, timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "dedup", "run", str(path), "-o", str(out), "-q", "--workers", str(workers)]
    done = timed(cmd, timeout)
    row: dict[str, Any] = {"run": f"local --workers {workers}", "command": _shown(cmd), **_outcome(done)}
    if done["exit_code"] == 0:
        summary = json.loads((out / "summary.json").read_text())
        row["stages_s"] = summary["timings_s"]
        row["candidates"] = summary["candidates"]["pairs"]
        row["verified"] = summary["candidates"]["verified_pairs"]
        row["clusters"] = summary["clusters"]
    return row


def run_spark(
    kind: str, paths: list[Path], out: Path, events: Path, master: str, timeout: float
) -> dict[str, Any]:
    """A Spark run: ``kind`` "cli" (dedup run --engine spark) or "driver" (this script's, on
    ``master``), with its event log read into stage costs."""
    marks_file = out.with_name(out.name + ".marks")
    if kind == "cli":
        cmd = [sys.executable, "-m", "dedup", "run", "--engine", "spark", *map(str, paths)]
        cmd += ["-o", str(out), "-q"]
    else:
        cmd = [sys.executable, __file__, "_spark", *map(str, paths), "--out", str(out)]
        cmd += ["--master", master, "--marks", str(marks_file)]
    started = time.time()
    done = timed(cmd, timeout, env=spark_env(events))
    ended = time.time()
    row: dict[str, Any] = {"command": _shown(cmd), **_outcome(done)}
    stages = stages_of(read_events(events))
    marks = {}
    if marks_file.exists():
        marks = {m["phase"]: m["at"] for m in map(json.loads, marks_file.read_text().splitlines())}
    if done["exit_code"] == 0:
        summary = json.loads((out / "summary.json").read_text())
        row["master"] = summary["spark"]["master"]
        row["stages_s"] = summary["timings_s"]
        row["candidates"] = summary["candidates"]["pairs"]
        row["verified"] = summary["candidates"]["verified_pairs"]
        row["clusters"] = summary["clusters"]
        row["params"] = summary["params"]
        if kind == "driver":
            report = json.loads(done["stdout"].strip().splitlines()[-1])
            row["driver"] = report
            row["stages_s"] = {"session": report["session_s"], "read": report["read_s"], **row["stages_s"]}
            row["stages_s"]["write"] = report["write_s"]
            bounds = bounds_of(marks, summary["timings_s"])
            row["costs"] = phase_costs(stages, bounds)
    elif done["timed_out"]:
        row["note"] = f"did not finish in {timeout:g} s: " + how_far(read_events(events), marks, ended)
    row["spark_stages"] = len(stages)
    row["spark_jobs"] = len(jobs_of(read_events(events)))
    row["started_at"] = started
    return row


def _outcome(done: dict[str, Any]) -> dict[str, Any]:
    row = {k: done[k] for k in ("wall_s", "exit_code", "timed_out", "peak_mb", "cpu_s", "other_cpu_s")}
    if done["exit_code"] != 0 and not done["timed_out"]:
        row["stderr_tail"] = done["stderr_tail"]
    return row


def _shown(cmd: list[str]) -> str:
    here = str(HERE.parent) + "/"
    return " ".join(c.replace(here, "") for c in cmd).replace(sys.executable, "python")


def session_only(master: str, events: Path, timeout: float) -> dict[str, Any]:
    done = timed([sys.executable, __file__, "_session", "--master", master], timeout, env=spark_env(events))
    if done["exit_code"] != 0:
        raise click.ClickException(f"a Spark session did not start:\n{done['stderr_tail']}")
    return {"wall_s": done["wall_s"], **json.loads(done["stdout"].strip().splitlines()[-1])}


# ---------------------------------------------------------------- the report


def amdahl(t1: float, t2: float) -> float:
    """The parallel fraction p of Amdahl's law from the seconds on 1 and on 2 slots."""
    return min(1.0, max(0.0, 2 * (1 - t2 / t1)))


def _after_session(costs: dict[str, dict], key: str) -> float:
    return sum(c[key] for phase, c in costs.items() if phase != "session")


def scaling(row2: dict, row1: dict | None, slots: list[int]) -> dict[str, Any]:
    """The estimates at ``slots``: the two models from the stage costs of the local[2] run and,
    if there is one, of the local[1] run (whose tasks ran one at a time, uncontended), and
    Amdahl's law from the two runs' seconds; each model checked against both measurements."""
    bases = {2: row2["costs"]}  # slots of the run -> its stage costs
    if row1 is not None and "costs" in row1:
        bases[1] = row1["costs"]
    measured = {n: _after_session(costs, "wall_s") for n, costs in bases.items()}
    out: dict[str, Any] = {"measured_s": {f"local[{n}]": round(v, 2) for n, v in measured.items()}}
    out["models"] = {}
    for n, costs in bases.items():
        out["models"][f"tasks of local[{n}]"] = {
            "driver_s": round(_after_session(costs, "driver_s"), 2),
            "task_s": round(_after_session(costs, "task_s"), 2),
            "one_task_s": round(_after_session(costs, "one_task_s"), 2),
            "limit_as_run_s": round(
                sum(
                    c["driver_s"] + sum(max(w) for w in c["waves"])
                    for ph, c in costs.items()
                    if ph != "session"
                ),
                2,
            ),
            "limit_split_s": round(_after_session(costs, "driver_s"), 2),
            "check": {f"as_run_at_{k}_s": round(predict(costs, k)["as_run_s"], 2) for k in measured},
        }
    t1 = measured.get(1)
    p = None
    if t1 is not None:
        t2 = measured[2]
        p = amdahl(t1, t2)
        out["speedup_1_to_2"] = round(t1 / t2, 3)
        out["parallel_fraction"] = round(p, 3)
        out["per_phase"] = {
            ph: {
                "local1_s": round(row1["costs"][ph]["wall_s"], 2),
                "local2_s": round(c["wall_s"], 2),
                "parallel_fraction": round(amdahl(row1["costs"][ph]["wall_s"], c["wall_s"]), 3),
            }
            for ph, c in row2["costs"].items()
            if ph != "session" and row1["costs"].get(ph, {}).get("wall_s", 0) > 0
        }
    table = []
    for k in slots:
        entry: dict[str, Any] = {"slots": k}
        for n, costs in bases.items():
            est, at2 = predict(costs, k), predict(costs, 2)
            for model in ("as_run", "split"):
                key = f"{model}_{n}"  # as_run_2: the as-run model from local[2]'s tasks
                entry[f"{key}_s"] = round(est[f"{model}_s"], 2)
                entry[f"{key}_x"] = round(at2[f"{model}_s"] / est[f"{model}_s"], 2)
        if p is not None and t1 is not None:
            entry["amdahl_s"] = round(t1 * ((1 - p) + p / k), 2)
            entry["amdahl_x"] = round(t1 * ((1 - p) + p / 2) / entry["amdahl_s"], 2)
        table.append(entry)
    out["table"] = table
    return out


def print_costs(label: str, costs: dict[str, dict]) -> None:
    click.echo(f"\nstage costs, {label}:")
    head = ("phase", "wall s", "busy s", "driver s", "task-s", "1-task s", "stages", "tasks", "max/stage")
    click.echo("{:22} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6} {:>6} {:>9} {:>11} {:>10} {:>13}".format(
        *head, "to drv MB", "shuffle MB", "spilled MB"))  # fmt: skip
    for phase, c in costs.items():
        click.echo(
            f"{phase:22} {c['wall_s']:>8.2f} {c['busy_s']:>8.2f} {c['driver_s']:>8.2f} {c['task_s']:>8.2f} "
            f"{c['one_task_s']:>8.2f} {c['stages']:>6} {c['tasks']:>6} {c['max_tasks']:>9} "
            f"{c['to_driver_bytes'] / MB:>11.1f} {c['shuffle_write_bytes'] / MB:>10.1f} "
            f"{c['disk_spilled_bytes'] / MB:>13.1f}"
        )
    click.echo("  by the function holding the call site (stages pipeline the narrow steps before it):")
    for phase, c in costs.items():
        for g in by_function(c["stage_list"]):
            click.echo(
                f"    {phase:22} {g['function'] or '?':26} {g['stages']:>4} stages {g['tasks']:>5} tasks "
                f"(max {g['max_tasks']:>3}) {g['task_s']:>8.2f} task-s {g['busy_s']:>8.2f} s busy"
            )
    heavy = sorted((s for c in costs.values() for s in c["stage_list"]), key=lambda s: -s["task_s"])[:8]
    click.echo("  the stages with the most task-seconds:")
    for s in heavy:
        wall = (s["completed"] or s["submitted"]) - s["submitted"]
        click.echo(
            f"    {s['task_s']:7.2f} task-s {wall:7.2f} s wall {len(s['spans']):>3} tasks  "
            f"{s['site']} ({s['function']})"
        )


def reasoning(analyses: dict[str, dict], session: dict) -> list[str]:
    """What the measured costs say about added slots, as sentences built from the numbers."""
    lines = []
    for key, a in analyses.items():
        costs, s = a["costs"], a["scaling"]
        m = s["models"]["tasks of local[2]"]
        lines.append(
            f"{key}: {s['measured_s']['local[2]']:.1f} s after the session; tasks ran {m['task_s']:.1f} "
            f"task-s, {m['one_task_s']:.1f} of them in stages of one task; no task was running for "
            f"{m['driver_s']:.1f} s (the driver and Spark's scheduling)"
        )
        for phase in (*RUN_STAGES, "write"):
            c = costs.get(phase)
            if c:
                lines.append(
                    f"  {phase}: {c['wall_s']:.1f} s = {c['busy_s']:.1f} s with tasks running "
                    f"({c['task_s']:.1f} task-s, {c['one_task_s']:.1f} in one-task stages, at most "
                    f"{c['max_tasks']} tasks a stage, {c['stages']} stages) + {c['driver_s']:.1f} s without; "
                    f"{c['to_driver_bytes'] / MB:.1f} MB to the driver, "
                    f"{c['shuffle_write_bytes'] / MB:.1f} MB shuffled"
                )
        t = {e["slots"]: e for e in s["table"]}
        top = max(t)
        base = "1" if "local[1]" in s["measured_s"] else "2"
        m = s["models"][f"tasks of local[{base}]"]
        two, most = t[2], t[top]
        ar, sp = f"as_run_{base}", f"split_{base}"
        lines.append(
            f"  with k slots (tasks as measured on local[{base}]), as run: {two[ar + '_s']:.1f} s at 2 -> "
            f"{most[ar + '_s']:.1f} s at {top} (x{most[ar + '_x']:.2f}; limit {m['limit_as_run_s']:.1f} s); "
            f"every stage split evenly: {two[sp + '_s']:.1f} s -> {most[sp + '_s']:.1f} s "
            f"(x{most[sp + '_x']:.2f}; limit {m['limit_split_s']:.1f} s, the driver's time)"
        )
        if "parallel_fraction" in s:
            lines.append(
                f"  measured: local[1] {s['measured_s']['local[1]']:.1f} s, local[2] "
                f"{s['measured_s']['local[2]']:.1f} s (x{s['speedup_1_to_2']:.2f}): parallel fraction "
                f"p = {s['parallel_fraction']:.2f}; Amdahl at {top} slots {most['amdahl_s']:.1f} s "
                f"(x{most['amdahl_x']:.2f} on 2)"
            )
    lines.append(
        f"the session (JVM + SparkSession) costs {session['wall_s']:.1f} s of process time once "
        f"({session['start_s']:.1f} s for the session itself), whatever the size"
    )
    return lines


def git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=HERE.parent, capture_output=True, text=True).stdout.strip()

    sources = sorted((HERE.parent / "dedup" / "engines" / "spark").glob("*.py"))
    engine = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    return {
        "commit": git("rev-parse", "HEAD"),
        "dedup_uncommitted": git("status", "--porcelain", "dedup").splitlines(),
        "spark_engine_sha256": engine,
    }


@click.group(invoke_without_command=True)
@click.option("--sizes", default="10000,100000", show_default=True, help="Corpus sizes, comma-separated.")
@click.option(
    "--scaling-sizes",
    default="10000,100000",
    show_default=True,
    help="Sizes at which local[1] and the split input run too (comma-separated; '' for none).",
)
@click.option(
    "--parts",
    default=8,
    show_default=True,
    type=click.IntRange(min=0),
    help="Files the corpus is cut into for the split-input runs (0: none).",
)
@click.option("--workers", default=2, show_default=True, help="The local engine's --workers.")
@click.option(
    "--slots", default="1,2,4,8,16,32", show_default=True, help="Task slots of the scaling estimate."
)
@click.option(
    "--timeout",
    default=1800.0,
    show_default=True,
    help="Seconds a run may take before it is killed and reported as far as it got.",
)
@click.option("--no-cli", is_flag=True, help="Leave out the `dedup run --engine spark` runs.")
@click.pass_context
def main(
    ctx: click.Context,
    sizes: str,
    scaling_sizes: str,
    parts: int,
    workers: int,
    slots: str,
    timeout: float,
    no_cli: bool,
) -> None:
    """Print the tables, save results/spark.json."""
    if ctx.invoked_subcommand is not None:
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the temporary folder removed, as on ^C
    run_ns = [int(s) for s in sizes.split(",")]
    scale_ns = {int(s) for s in scaling_sizes.split(",") if s}
    ks = [int(k) for k in slots.split(",")]
    if 2 not in ks:
        ks = sorted({*ks, 2})
    rows: list[dict] = []
    analyses: dict[str, dict] = {}
    CACHE.mkdir(exist_ok=True)
    before = git_state()
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="spark-") as tmp:
        work = Path(tmp)
        click.echo("session alone (local[2]) ...", err=True)
        session = session_only("local[2]", work / "events-session", timeout)
        for n in run_ns:
            path = corpus(n)
            local_out = work / f"local-{n}"
            click.echo(f"{n:,}: local engine ...", err=True)
            local = {"n": n, **run_local(path, local_out, workers, timeout)}
            rows.append(local)
            plan: list[tuple[str, str, str, list[Path]]] = []  # (label, kind, master, inputs)
            if not no_cli:
                plan.append(("spark CLI local[*]", "cli", "", [path]))
            plan.append(("spark local[2]", "driver", "local[2]", [path]))
            if n in scale_ns:
                plan.append(("spark local[1]", "driver", "local[1]", [path]))
                if parts:
                    pieces = split_corpus(path, parts, work / f"parts-{n}")
                    plan.append((f"spark local[2], {parts} parts", "driver", "local[2]", pieces))
                    plan.append((f"spark local[1], {parts} parts", "driver", "local[1]", pieces))
            for k, (label, kind, master, inputs) in enumerate(plan):
                click.echo(f"{n:,}: {label} ...", err=True)
                out = work / f"spark-{n}-{k}"
                events = work / f"events-{n}-{k}"
                row = {"n": n, "run": label, **run_spark(kind, inputs, out, events, master, timeout)}
                if row["exit_code"] == 0 and local["exit_code"] == 0:
                    row["equal_to_local"] = compare(local_out, out)
                    local_params = json.loads((local_out / "summary.json").read_text())["params"]
                    row["params_equal_to_local"] = row.pop("params") == local_params
                rows.append(row)
                shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(local_out, ignore_errors=True)
            for suffix in ("", f", {parts} parts"):
                two = next((r for r in rows if r["n"] == n and r["run"] == f"spark local[2]{suffix}"), None)
                one = next((r for r in rows if r["n"] == n and r["run"] == f"spark local[1]{suffix}"), None)
                if two is not None and "costs" in two:
                    key = f"{n:,} local[2]{suffix}"
                    analyses[key] = {"costs": two["costs"], "scaling": scaling(two, one, ks)}
    # ---- the tables
    by_local = {r["n"]: r for r in rows if r["run"].startswith("local")}
    head = ("N", "run", "wall s", "work s", "x local", "peak MB", "JVM MB", "driver MB", "other CPU s")
    head += ("clusters =", "pairs (a,b) =")
    click.echo("{:>9} {:28} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>11} {:>11} {:>14}".format(*head))
    for r in rows:
        ok = r["exit_code"] == 0
        work_s = r["wall_s"] - session["wall_s"] if "spark" in r["run"] else r["wall_s"]
        ratio = r["wall_s"] / by_local[r["n"]]["wall_s"]
        eq = r.get("equal_to_local", {})
        same = {True: "yes", False: "NO", None: "-"}
        jvm = f"{r['peak_mb']['jvm']:,.0f}" if "spark" in r["run"] else "-"
        click.echo(
            f"{r['n']:>9,} {r['run']:28} {r['wall_s']:>8.1f} {work_s if ok else float('nan'):>8.1f} "
            f"{ratio:>8.1f} {r['peak_mb']['tree']:>8,.0f} {jvm:>8} {r['peak_mb']['driver']:>9,.0f} "
            f"{r['other_cpu_s']:>11.1f} {same[eq.get('clusters_bytes_equal')]:>11} "
            f"{same[eq.get('pairs_ab_equal')]:>14}"
        )
        if r.get("note"):
            click.echo(f"{'':>9} {r['note']}")
        if r.get("stderr_tail") and not r.get("note"):
            click.echo(f"{'':>9} failed: {r['stderr_tail'][-500:]}")
    click.echo(
        f"session alone (local[2], start + stop, in its own process): {session['wall_s']:.1f} s "
        f"(session start {session['start_s']:.1f} s, stop {session['stop_s']:.1f} s)"
    )
    for r in rows:
        if "stages_s" in r:
            stages = ", ".join(f"{k} {v:.2f}" for k, v in r["stages_s"].items())
            click.echo(f"{r['n']:,} {r['run']}: {stages}")
    for r in rows:
        eq = r.get("equal_to_local")
        if eq:
            click.echo(
                f"{r['n']:,} {r['run']} vs local: clusters.jsonl "
                f"{'equal' if eq['clusters_bytes_equal'] else 'DIFFER'}, pairs (a,b) "
                f"{'equal' if eq['pairs_ab_equal'] else 'DIFFER'} ({eq['pairs'][1]:,}), "
                f"values differ in {eq['pairs_values_differ']} ({eq['pairs_values_differ_by_field']}, "
                f"at most {eq['pairs_values_max_gap']}), "
                f"pairs.jsonl {'equal' if eq['pairs_bytes_equal'] else 'differs'}, kept lines "
                f"{'equal' if eq['kept_lines_equal'] else 'DIFFER'}"
            )
    for key, a in analyses.items():
        print_costs(key, a["costs"])
        s = a["scaling"]
        click.echo(f"scaling estimate from {key}, seconds after the session (x: on 2 slots):")
        click.echo(f"  measured: {s['measured_s']}; models at 1 and 2 slots: " + "; ".join(
            f"{name} {m['check']}" for name, m in s["models"].items()))  # fmt: skip
        names = [n for n in ("2", "1") if f"as_run_{n}_s" in s["table"][0]]
        head = [f"{model} (local[{n}] tasks)" for n in names for model in ("as run", "split")]
        head += ["Amdahl, measured p"] if "amdahl_s" in s["table"][0] else []
        click.echo(f"{'slots':>6} " + " ".join(f"{h:>24}" for h in head))
        for e in s["table"]:
            cells = [
                (e[f"{model}_{n}_s"], e[f"{model}_{n}_x"]) for n in names for model in ("as_run", "split")
            ]
            cells += [(e["amdahl_s"], e["amdahl_x"])] if "amdahl_s" in e else []
            click.echo(f"{e['slots']:>6} " + " ".join(f"{v:>15.1f} s x{x:<5.2f}" for v, x in cells))
    lines = reasoning(analyses, session)
    if git_state() != before:
        lines.append(f"the code changed while this ran: {before} -> {git_state()}")
    click.echo("")
    for line in lines:
        click.echo(line)
    # ---- the JSON (stages kept short: label, tasks, seconds)
    for analysis in analyses.values():
        for c in analysis["costs"].values():
            c["by_function"] = by_function(c["stage_list"])
            c["stage_list"] = [
                {
                    "stage": s["stage"],
                    "site": s["site"],
                    "function": s["function"],
                    "tasks": len(s["spans"]),
                    "wall_s": round((s["completed"] or s["submitted"]) - s["submitted"], 3),
                    "task_s": round(s["task_s"], 3),
                    "max_task_s": round(max((b - a for a, b in s["spans"]), default=0.0), 3),
                    "to_driver_bytes": s["result_bytes"],
                    "shuffle_write_bytes": s["shuffle_write_bytes"],
                    "disk_spilled_bytes": s["disk_spilled_bytes"],
                    "memory_spilled_bytes": s["memory_spilled_bytes"],
                }
                for s in c["stage_list"]
            ]
            c["waves"] = len(c["waves"])
            for key in ("wall_s", "busy_s", "driver_s", "task_s", "one_task_s"):
                c[key] = round(c[key], 3)
    for r in rows:
        r.pop("costs", None)
    result = {
        "sizes": run_ns,
        "scaling_sizes": sorted(scale_ns),
        "parts": parts,
        "workers": workers,
        "timeout_s": timeout,
        "session": session,
        "rows": rows,
        "analyses": analyses,
        "phases": WHAT,
        "reasoning": lines,
        "machine": {
            "cpus": os.cpu_count(),
            "mem_total_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
            "kernel": platform.release(),
            "python": platform.python_version(),
            "java": _java_version(),
            "pyspark": importlib.metadata.version("pyspark"),
            "dedup": importlib.metadata.version("dedup"),
        },
        "git": before,
        "load_average_at_end": os.getloadavg(),
    }
    click.echo(f"saved {save_json('spark', result)}")


def _java_version() -> str | None:
    with contextlib.suppress(OSError):
        done = subprocess.run(["java", "-version"], capture_output=True, text=True)
        return done.stderr.splitlines()[0] if done.stderr else None
    return None


@main.command("_session", hidden=True)
@click.option("--master", required=True)
def session_run(master: str) -> None:
    """Start a session and stop it; prints one JSON line."""
    from dedup.engines.spark.io import spark_session

    t0 = time.perf_counter()
    session = spark_session(master=master, progress=False)
    session.sparkContext.setLogLevel("ERROR")
    start = time.perf_counter() - t0
    t0 = time.perf_counter()
    session.stop()
    print(json.dumps({"start_s": round(start, 3), "stop_s": round(time.perf_counter() - t0, 3)}))


@main.command("_spark", hidden=True)
@click.argument("paths", nargs=-1, required=True)
@click.option("--out", required=True, type=click.Path(path_type=Path))
@click.option("--master", required=True)
@click.option("--marks", required=True, type=click.Path(path_type=Path))
def spark_run(paths: tuple[str, ...], out: Path, master: str, marks: Path) -> None:
    """What ``dedup run --engine spark PATHS -o OUT -q`` does (cli._run_on_spark, default
    parameters), on ``master``, each part timed; each phase's start appended to ``marks`` as it
    begins (a killed run's too). Prints one JSON line."""
    from dedup.engines.spark import run
    from dedup.engines.spark.io import read_jsonl, spark_session, write_deduplicated
    from dedup.io.write import write_json, write_jsonl
    from dedup.params import Params

    def mark(phase: str) -> float:
        with open(marks, "a", encoding="utf-8") as f:
            f.write(json.dumps({"phase": phase, "at": time.time()}) + "\n")
        return time.perf_counter()

    started = t0 = mark("session")
    session = spark_session(master=master, progress=False)
    session.sparkContext.setLogLevel("ERROR")
    t1 = mark("read")
    articles = read_jsonl(session, paths)
    t2 = mark("run")
    result = run(session, articles, Params())
    t3 = mark("write")
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "pairs.jsonl", (p.to_dict() for p in result.pairs))
    write_jsonl(out / "clusters.jsonl", (c.to_dict() for c in result.clusters))
    write_deduplicated(session, paths, result.duplicate_positions, str(out / "deduplicated"))
    t4 = mark("end")
    result.summary["timings_s"]["total"] = round(t4 - started, 3)
    result.summary["inputs"] = list(paths)
    write_json(out / "summary.json", result.summary)
    report = {
        "master": session.sparkContext.master,
        "default_parallelism": session.sparkContext.defaultParallelism,
        "input_partitions": articles.getNumPartitions(),
        "session_s": round(t1 - t0, 3),
        "read_s": round(t2 - t1, 3),
        "run_s": round(t3 - t2, 3),
        "write_s": round(t4 - t3, 3),
    }
    session.stop()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
