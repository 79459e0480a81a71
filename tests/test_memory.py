"""A run's memory limit (dedup.runtime.memory): sizes read as users write them, workers and blocks of
work sized to it, the same results under it, and a clean stop (one line, no file left) over it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import one_line_error
from hypothesis import given
from hypothesis import strategies as st

from dedup import cli
from dedup.api import find_duplicates
from dedup.runtime import memory
from dedup.runtime.memory import (
    MB,
    MIN_LIMIT,
    WORKER_BYTES,
    MemoryGuard,
    MemoryLimitError,
    check_limit,
    parse_size,
    resident_bytes,
    work_budget,
    workers_within,
)

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4G", 4 << 30),
        ("4g", 4 << 30),
        ("4GB", 4 << 30),
        ("4GiB", 4 << 30),
        ("800M", 800 << 20),
        ("800 MB", 800 << 20),
        ("1.5G", 3 << 29),
        ("2048k", 2 << 20),
        ("1T", 1 << 40),
        ("123456", 123456),
        (5 << 30, 5 << 30),
    ],
)
def test_sizes_read_as_users_write_them(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "G", "4X", "-1G", "four gigs", "4 G B"])
def test_a_size_that_is_no_size_is_refused(text):
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)


def test_a_limit_too_small_to_start_is_refused_up_front():
    with pytest.raises(ValueError, match="below"):
        check_limit("100M")
    assert check_limit(None) is None
    assert check_limit("256M") == MIN_LIMIT


@given(limit=st.integers(min_value=MIN_LIMIT, max_value=1 << 40), wanted=st.integers(1, 64))
def test_workers_fit_in_half_the_limit_and_never_exceed_the_wish(limit, wanted):
    n = workers_within(limit, wanted)
    assert 1 <= n <= wanted
    if n > 1:  # (1: featurising in the main process, no worker at all)
        assert n * WORKER_BYTES <= (limit - memory.MAIN_BYTES) / 2
    assert workers_within(None, wanted) == wanted


def test_blocks_of_work_shrink_under_a_small_limit_only():
    assert work_budget(None, 64 * MB) == 64 * MB
    assert work_budget(8 << 30, 64 * MB) == 64 * MB
    assert work_budget(512 * MB, 64 * MB) == 32 * MB


def test_resident_bytes_counts_what_this_process_holds():
    before = resident_bytes()
    ballast = np.ones(64 * MB // 8)  # pages touched: resident
    assert resident_bytes() - before >= 60 * MB
    del ballast


def test_resident_bytes_counts_child_processes():
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; b = bytearray(80 * 2**20); sys.stdout.write('x'); "
         "sys.stdout.flush(); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert child.stdout is not None and child.stdout.read(1) == b"x"
        assert resident_bytes() >= resident_bytes(child.pid) >= 80 * MB
    finally:
        child.communicate(b"")


def test_the_guard_looks_at_most_every_interval_and_raises_over_the_limit():
    guard = MemoryGuard(limit=resident_bytes() + 512 * MB, every=3600)
    guard.check("now")
    guard.check("again")  # (within the interval: not looked at)
    assert guard.checks == 1 and guard.peak > 0
    ballast = np.ones(600 * MB // 8)
    guard.check("still within the interval")
    with pytest.raises(MemoryLimitError, match=r"while testing: the run's processes hold .* over the limit"):
        guard.check("while testing", force=True)
    del ballast


def dev_articles() -> list[tuple[str, str]]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from _data import load_set

    return [(a["id"], a["text"]) for a in load_set("v3")]


def test_a_run_under_a_limit_finds_what_it_finds_without(tmp_path):
    """Real variants (v3, rival outlets included), spilled and gathered: under a 512 MB limit
    (blocks of work of 32 MB instead of 64) the same pairs and clusters as with no limit."""
    articles = dev_articles()
    free = find_duplicates(articles, spill_dir=tmp_path / "a")
    limited = find_duplicates(articles, spill_dir=tmp_path / "b", memory_limit="512M")
    assert free.pairs and limited.pairs == free.pairs and limited.clusters == free.clusters
    held = limited.summary["memory"]
    assert held["limit_bytes"] == 512 * MB and 0 < held["peak_resident_bytes_seen"] <= 512 * MB
    assert held["checks"] >= 3  # (one at each stage's start at least)
    assert "memory" not in free.summary


def test_a_run_over_its_limit_stops_and_leaves_no_file(tmp_path):
    """This process already holds more than the limit (a ballast): the run stops at its first
    look, with MemoryLimitError, and its spill folder is gone."""
    ballast = np.ones((resident_bytes() + 300 * MB) // 8)
    limit = resident_bytes() - 100 * MB
    with pytest.raises(MemoryLimitError, match="memory limit exceeded while reading"):
        find_duplicates(dev_articles(), spill_dir=tmp_path / "spill", memory_limit=limit)
    assert not (tmp_path / "spill").exists()
    del ballast


def test_the_command_line_stops_with_one_line_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "resident_bytes", lambda pid=None: 9 << 30)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli.main, ["run", str(SEEDS), "-o", str(out), "-q", "--memory-limit", "1G"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: memory limit exceeded while reading")
    assert "9.0 GB, over the limit of 1.0 GB" in lines[0] and lines[0].endswith("nothing written")
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(("value", "message"), [("lots", "not a size"), ("64M", "below")])
def test_a_bad_limit_is_a_usage_error(tmp_path, value, message):
    result = CliRunner().invoke(cli.main, ["run", str(SEEDS), "-o", str(tmp_path), "--memory-limit", value])
    assert message in one_line_error(result, 2)


def test_the_installed_command_holds_its_limit_and_records_it(tmp_path):
    """A real run in its own process: 2 workers asked, a 400 MB limit holds one (featurising in
    the main process), and the summary says what the guard saw."""
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "dedup", "run", str(SEEDS), "-o", str(out), "--workers", "2",
         "--memory-limit", "400M"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "--memory-limit 400 MB holds 1 worker(s), not 2" in done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["workers"] == 1
    assert 0 < summary["memory"]["peak_resident_bytes_seen"] <= 400 * MB
