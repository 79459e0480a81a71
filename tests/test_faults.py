"""A run under faults: killed, terminated, its input changed between its two reads.

What a stopped run must leave: no process of it alive, no temporary or spill file, old outputs
as they were (or new ones whole). The runs here are real ``dedup run`` processes, stopped from
outside while their workers featurise."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return found


def descendants(pid: int) -> set[int]:
    """The live processes below ``pid`` (children, their children, ...)."""
    todo, seen = [pid], set()
    while todo:
        for child in _children(todo.pop()):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (not zombies)."""
    left = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if state[state.rindex(")") + 2] != "Z":
            left.add(pid)
    return left


def wait_until(condition, timeout: float = 60.0, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


@pytest.fixture(scope="module")
def dump(tmp_path_factory) -> Path:
    """30,000 articles of random words: long enough that workers featurise for a while."""
    rng = np.random.default_rng(0)
    words = [f"w{k}" for k in range(5000)]
    path = tmp_path_factory.mktemp("dump") / "articles.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for k in range(30_000):
            text = " ".join(words[x] for x in rng.integers(0, len(words), 150))
            f.write(json.dumps({"id": f"a{k}", "text": text}) + "\n")
    return path


def start_run(dump: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dedup", "run", str(dump), "--out", str(out), "-q", "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def workers_of(run: subprocess.Popen) -> set[int]:
    """Wait until the run has its two workers; their pids."""
    found: set[int] = set()

    def started() -> bool:
        found.clear()
        found.update(descendants(run.pid))
        return len(found) >= 2 or run.poll() is not None

    assert wait_until(started), "the run's workers did not start"
    assert run.poll() is None, f"the run ended before it could be stopped: {run.stderr.read()}"
    return found


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_a_stopped_run_leaves_no_worker_alive(dump, tmp_path, how):
    out = tmp_path / "out"
    run = start_run(dump, out)
    workers = workers_of(run)
    run.send_signal(how)
    run.wait(timeout=60)
    assert wait_until(lambda: not alive(workers), timeout=10), f"workers left alive: {alive(workers)}"


def test_sigterm_cleans_up_as_ctrl_c_does(dump, tmp_path):
    out = tmp_path / "out"
    run = start_run(dump, out)
    workers_of(run)
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 143
    assert err.strip().splitlines() == ["dedup: stopped by SIGTERM"]
    assert leftovers(out) == []  # (the spill folder removed, nothing written)


def test_workers_started_by_a_fork_server_die_with_the_run(tmp_path):
    """A process with other threads starts its workers from a fork server (forking it is unsafe):
    they are the server's children, not the run's, and still die when the run is killed."""
    script = tmp_path / "run.py"
    script.write_text(
        textwrap.dedent(
            """
            import threading, time
            from dedup.features import featurize_many

            def texts():
                while True:
                    yield "a few words of a text that goes on " * 20

            if __name__ == "__main__":
                threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
                for _ in featurize_many(texts(), workers=2):
                    pass
            """
        )
    )
    run = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE, text=True)
    try:
        found: set[int] = set()

        def started() -> bool:
            found.clear()
            found.update(descendants(run.pid))
            return len(found) >= 3 or run.poll() is not None  # (the server and two workers)

        assert wait_until(started), "the workers did not start"
        run.kill()
        run.wait(timeout=30)
        assert wait_until(lambda: not alive(found), timeout=15), f"left alive: {alive(found)}"
    finally:
        if run.poll() is None:
            run.kill()
