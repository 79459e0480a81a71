"""Spark jobs in processes of their own (each starts its own JVM, so they need not wait for the
session of test_spark.py and run beside it on another test worker): a task that fails once is
retried and the output is whole, one that keeps failing stops the job in one line, and
``spark-submit`` runs dedup on the master it is given."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'newsdedup[spark]')")
if shutil.which("java") is None:
    pytest.skip(
        "no Java runtime for Spark (apt-get install openjdk-17-jre-headless)", allow_module_level=True
    )

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture
def seeds() -> list[dict]:
    return [{"id": p.name[:3], "text": p.read_text()} for p in sorted(SEEDS.glob("*.txt"))]


def write_jsonl(path: Path, articles: list[dict]) -> str:
    path.write_text("".join(json.dumps({"id": a["id"], "text": a["text"]}) + "\n" for a in articles))
    return str(path)


_FAILING = """
import json, os, sys
from pathlib import Path
from dedup import find_duplicates
from dedup.params import Params
from dedup.engines.spark import run
from dedup.engines.spark.io import SparkJobError, bad_records_surface, spark_session

marker, mode = Path(sys.argv[1]), sys.argv[2]
articles = [json.loads(line) for line in open(sys.argv[3])]
rows = [(k, a["id"], a["text"], f"in.jsonl:{k + 1}") for k, a in enumerate(articles)]


def flaky(row):
    if row[0] == 2 and (mode == "always" or not marker.exists()):
        marker.touch()
        if mode == "once":
            os._exit(3)  # the Python worker dies: its task is lost and run again
        raise OSError("the disk went away")
    return row


spark = spark_session(master="local[2,3]")  # a task may be tried 3 times
spark.sparkContext.setLogLevel("OFF")
try:
    with bad_records_surface():
        result = run(spark, spark.sparkContext.parallelize(rows, 2).map(flaky), Params())
except SparkJobError as err:
    print(json.dumps({"error": str(err)}))
    sys.exit(0)
local = find_duplicates([(a["id"], a["text"]) for a in articles])
print(json.dumps({
    "same": result.pairs == local.pairs and result.clusters == local.clusters,
    "read": result.summary["articles"]["read"],
}))
"""


@pytest.mark.parametrize("mode", ["once", "always"])
def test_a_failed_task_is_retried_or_stops_the_job_never_a_smaller_output(seeds, tmp_path, mode):
    """A Python worker that dies once: its task runs again and the result is whole. A task that
    keeps failing: the job stops, saying why in one line. (A session of its own, with retries,
    in a process of its own.)"""
    import subprocess
    import sys

    script = tmp_path / "failing.py"
    script.write_text(_FAILING)
    source = write_jsonl(tmp_path / "seeds.jsonl", seeds)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "marker"), mode, source],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    if mode == "once":
        assert got == {"same": True, "read": 5} and (tmp_path / "marker").exists()
    else:
        assert got["error"].startswith("the Spark job failed") and got["error"].endswith(
            ": OSError: the disk went away"
        )  # (after 3 tries: local[2,3])


_JOB = 'from dedup.cli import main\n\nmain(prog_name="dedup")\n'


def test_spark_submit_runs_dedup_on_the_master_it_is_given(seeds, tmp_path):
    """The cluster recipe of docs/spark.md, on local[2]: ``spark-submit --master ... dedup_job.py run
    --engine spark ...`` runs on spark-submit's master (the command line starts no session of its
    own choosing)."""
    import os
    import subprocess
    import sys

    import pyspark

    job = tmp_path / "dedup_job.py"
    job.write_text(_JOB)
    source = write_jsonl(tmp_path / "seeds.jsonl", seeds)
    out = tmp_path / "out"
    submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    env.pop("PYSPARK_SUBMIT_ARGS", None)
    done = subprocess.run(
        [str(submit), "--master", "local[2]", "--conf", "spark.ui.enabled=false", str(job),
         "run", "--engine", "spark", source, "-o", str(out), "-q"],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["spark"]["master"] == "local[2]" and summary["clusters"] == 1
