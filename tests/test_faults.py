"""A run under faults: killed, terminated, its input changed between its two reads.

What a stopped run must leave: no process of it alive, no temporary or spill file, old outputs
as they were (or new ones whole). The runs here are real ``dedup run`` processes, stopped from
outside while their workers featurise."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import nameless_files

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="platform: reads /proc (Linux)")


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
            from dedup.featurize import featurize_many

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


def stop_times(rng: np.random.Generator, start: float, end: float, how: int, trials: int = 4) -> list[float]:
    """``trials`` moments to stop a run between ``start`` and ``end`` seconds: the run's length cut
    into ``2 * trials`` equal stretches, one moment drawn at random in every other one, SIGKILL's
    in the even stretches and SIGTERM's in the odd. Each signal stops the run from start to end,
    and the two together hit eight stretches (every stage) with 8 runs, not 16."""
    edges = np.linspace(start, end, 2 * trials + 1)
    first = 0 if how == signal.SIGKILL else 1
    return [float(rng.uniform(edges[k], edges[k + 1])) for k in range(first, 2 * trials, 2)]


# Stopped at random points: whatever the stage, the run leaves the earlier outputs whole or
# its own whole, no process, and no file of its own (spill, temporary, staging) anywhere.
OLD = {"pairs.jsonl": "old pairs\n", "clusters.jsonl": "old clusters\n", "summary.json": '{"old": true}\n'}


@pytest.fixture(scope="module")
def small_dump(tmp_path_factory) -> tuple[Path, float, dict[str, bytes]]:
    """3,000 articles with some copies; the time a whole run takes, and its outputs."""
    rng = np.random.default_rng(1)
    words = [f"w{k}" for k in range(3000)]
    folder = tmp_path_factory.mktemp("small")
    path = folder / "articles.jsonl"
    texts = [" ".join(words[x] for x in rng.integers(0, len(words), 120)) for _ in range(2500)]
    texts += texts[:500]  # (copies: clusters to write)
    with open(path, "w", encoding="utf-8") as f:
        for k, text in enumerate(texts):
            f.write(json.dumps({"id": f"a{k}", "text": text}) + "\n")
    out = folder / "whole"
    t0 = time.monotonic()
    done = subprocess.run(_run_command(path, out), capture_output=True, text=True, env=_env(folder / "tmp"))
    assert done.returncode == 0, done.stderr
    return path, time.monotonic() - t0, {p.name: p.read_bytes() for p in out.iterdir()}


def _old_or_whole(outputs: dict[str, bytes], whole: dict[str, bytes]) -> bool:
    """The earlier run's files exactly, or a whole run's (the summary, which holds times and
    paths, a complete JSON document; every other file byte for byte)."""
    if outputs == {name: text.encode() for name, text in OLD.items()}:
        return True
    if set(outputs) != set(whole):
        return False
    json.loads(outputs["summary.json"])
    return all(outputs[name] == whole[name] for name in whole if name != "summary.json")


def _env(tmp: Path) -> dict[str, str]:
    tmp.mkdir(exist_ok=True)
    return {**os.environ, "TMPDIR": str(tmp)}


def _run_command(dump: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "dedup",
        "run",
        str(dump),
        "--out",
        str(out),
        "-q",
        "--workers",
        "2",
        "--overwrite",
    ]


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_a_run_stopped_anywhere_leaves_old_or_new_outputs_whole_and_nothing_else(small_dump, tmp_path, how):
    if how == signal.SIGKILL and not nameless_files(tmp_path):
        pytest.skip(
            "platform: this file system makes no file without a name (O_TMPFILE): SIGKILL leaves "
            "temporary files"
        )
    dump, seconds, whole = small_dump
    rng = np.random.default_rng(int(how))
    for trial, stop_at in enumerate(stop_times(rng, 0.2, seconds * 1.1, how)):
        place = tmp_path / f"trial{trial}"
        out, tmp = place / "out", place / "tmp"
        out.mkdir(parents=True)
        for name, text in OLD.items():
            (out / name).write_text(text)
        run = subprocess.Popen(_run_command(dump, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=_env(tmp))  # fmt: skip
        time.sleep(stop_at)
        found = descendants(run.pid)
        run.send_signal(how)
        run.wait(timeout=120)
        assert wait_until(lambda f=found: not alive(f), timeout=15), f"trial {trial}: left {alive(found)}"
        outputs = {p.name: p.read_bytes() for p in out.iterdir()}
        assert _old_or_whole(outputs, whole), f"trial {trial}: a mix of runs or a cut file: {sorted(outputs)}"
        assert sorted(p.name for p in place.iterdir()) == ["out", "tmp"], f"trial {trial}: left beside --out"
        assert list(tmp.iterdir()) == [], f"trial {trial}: left in TMPDIR"


# The second read (the kept records written out) must be of the input the first read counted.
SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def _seed_dump(path: Path) -> int:
    rows = [{"id": p.stem, "text": p.read_text(encoding="utf-8")} for p in sorted(SEEDS.glob("*.txt"))]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return len(rows)


@pytest.mark.parametrize("change", ["append", "truncate", "remove"])
def test_an_input_changed_between_the_two_reads_fails_the_run_and_writes_nothing(
    tmp_path, monkeypatch, change
):
    from click.testing import CliRunner

    from dedup import cli
    from dedup.engines.local import Detector

    dump, out = tmp_path / "in.jsonl", tmp_path / "out"
    _seed_dump(dump)
    out.mkdir()
    for name, text in OLD.items():
        (out / name).write_text(text)
    real = Detector.finish

    def finish_then_change(self):
        result = real(self)
        if change == "append":
            with open(dump, "a", encoding="utf-8") as f:
                f.write(json.dumps({"id": "late", "text": "A story that came late."}) + "\n")
        elif change == "truncate":
            dump.write_bytes(dump.read_bytes()[:100])
        else:
            dump.unlink()
        return result

    monkeypatch.setattr(Detector, "finish", finish_then_change)
    result = CliRunner().invoke(cli.main, ["run", str(dump), "--out", str(out), "-q", "--overwrite"])
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: {dump}: changed between the two reads of the run: ")
    assert line.endswith("; nothing written")
    assert {p.name: p.read_text() for p in out.iterdir()} == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["out"] + (["in.jsonl"] if change != "remove" else [])
    )


def _records(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["id"] for line in f]


def test_a_named_pipe_is_read_once_and_the_dump_holds_what_the_summary_counts(tmp_path):
    dump, fifo, out = tmp_path / "in.jsonl", tmp_path / "pipe.jsonl", tmp_path / "out"
    _seed_dump(dump)
    os.mkfifo(fifo)
    run = subprocess.Popen([sys.executable, "-m", "dedup", "run", str(fifo), "--out", str(out), "-q"],
                           stderr=subprocess.PIPE, text=True)  # fmt: skip
    fifo.write_bytes(dump.read_bytes())
    _, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    summary = json.loads((out / "summary.json").read_text())
    kept = _records(out / "deduplicated.jsonl")
    assert len(kept) == summary["articles"]["kept"] == 4  # (the seeds: 000 and 004 are one story)


def test_process_substitution_is_read_once_too(tmp_path):
    """``dedup run <(zcat dump.gz)``: the input is /dev/fd/N, a pipe that can be read once."""
    dump, out = tmp_path / "in.jsonl", tmp_path / "out"
    _seed_dump(dump)
    read_end, write_end = os.pipe()
    command = [sys.executable, "-m", "dedup", "run", f"/dev/fd/{read_end}", "--format", "jsonl"]
    run = subprocess.Popen(
        [*command, "-o", str(out), "-q"], pass_fds=(read_end,), stderr=subprocess.PIPE, text=True
    )
    os.close(read_end)
    with open(write_end, "wb") as f:
        f.write(dump.read_bytes())
    _, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    assert (
        len(_records(out / "deduplicated.jsonl"))
        == json.loads((out / "summary.json").read_text())["articles"]["kept"]
        == 4
    )


def test_a_huge_article_is_refused_with_one_line_or_skipped_and_counted(tmp_path):
    from click.testing import CliRunner

    from dedup import cli

    dump, out = tmp_path / "in.jsonl", tmp_path / "out"
    n = _seed_dump(dump)
    with open(dump, "a", encoding="utf-8") as f:
        f.write(json.dumps({"id": "huge", "text": "word " * 300_000}) + "\n")  # (1.5M characters)
    result = CliRunner().invoke(cli.main, ["run", str(dump), "-o", str(out), "-q"])  # (the default limit)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: {dump}:{n + 1}: text of 1,500,000 characters, over the limit of 1,000,000 (--max-chars) "
        "(nothing written; --skip-bad skips bad records)"
    ]
    assert not out.exists()
    result = CliRunner().invoke(cli.main, ["run", str(dump), "-o", str(out), "-q", "--skip-bad"])
    assert result.exit_code == 0
    assert json.loads((out / "summary.json").read_text())["articles"]["skipped_bad_input"] == 1
    result = CliRunner().invoke(
        cli.main, ["run", str(dump), "-o", str(out), "-q", "--max-chars", "0", "--overwrite"]
    )
    assert (
        result.exit_code == 0 and json.loads((out / "summary.json").read_text())["articles"]["read"] == n + 1
    )


# A full disk: one line, no traceback; outputs whole or absent; an index that still checks.
def _file_size_limit(limit: int):
    """For a child process: files may not grow past ``limit`` bytes (EFBIG, as a full disk
    gives ENOSPC; Python ignores SIGXFSZ, so the write fails instead of killing the process)."""
    import resource

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _articles(n: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    words = [f"w{k}" for k in range(4000)]
    rows = (
        {"id": f"s{seed}-{k}", "text": " ".join(words[x] for x in rng.integers(0, 4000, 150))}
        for k in range(n)
    )
    return "".join(json.dumps(r) + "\n" for r in rows)


def test_a_full_disk_during_a_run_is_one_line_and_the_earlier_run_stays(tmp_path):
    dump, out = tmp_path / "in.jsonl", tmp_path / "out"
    dump.write_text(_articles(3000, 0), encoding="utf-8")
    out.mkdir()
    for name, text in OLD.items():
        (out / name).write_text(text)
    command = [
        sys.executable,
        "-m",
        "dedup",
        "run",
        str(dump),
        "-o",
        str(out),
        "-q",
        "--workers",
        "1",
        "--overwrite",
    ]
    done = subprocess.run(command, capture_output=True, text=True, preexec_fn=_file_size_limit(200_000),
                          env=_env(tmp_path / "tmp"))  # fmt: skip
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("Error: ") and line.endswith(": cannot write: File too large"), line
    assert {p.name: p.read_text() for p in out.iterdir()} == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out", "tmp"]
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_full_disk_during_an_index_add_keeps_what_was_committed(tmp_path):
    from dedup.index.index import Index

    first, second, db = tmp_path / "first.jsonl", tmp_path / "second.jsonl", tmp_path / "core.db"
    first.write_text(_articles(300, 1), encoding="utf-8")
    second.write_text(_articles(3000, 2), encoding="utf-8")
    command = [sys.executable, "-m", "dedup", "index", "add", str(db)]
    done = subprocess.run([*command, str(first), "-q"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    limit = 2 * os.path.getsize(db) + 100_000  # (the file, or its write-ahead log, fills up midway)
    done = subprocess.run([*command, str(second), "-q", "-o", str(tmp_path / "matches.jsonl")],
                          capture_output=True, text=True, preexec_fn=_file_size_limit(limit))  # fmt: skip
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"Error: {db}") and ": cannot write: " in line and "Traceback" not in line, line
    with Index.open(str(db), create=False) as idx:
        idx.check()
        held = len(idx)
    assert 300 <= held < 3300
    assert ("the batches before it were added" if held > 300 else "nothing added") in line
    if held > 300:  # (the matches of what was committed are written)
        assert f"their {held - 300:,} matches written" in line
        assert len((tmp_path / "matches.jsonl").read_text().splitlines()) == held - 300


def _has_tables(db: Path) -> bool:
    if not db.exists():
        return False
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    finally:
        con.close()


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_an_index_add_stopped_anywhere_keeps_whole_batches_and_checks(tmp_path, how):
    """Killed at random points: every batch committed stays, none is half there, check passes."""
    from dedup.index.index import Index

    dump = tmp_path / "in.jsonl"
    dump.write_text(_articles(600, 3), encoding="utf-8")
    command = [sys.executable, "-m", "dedup", "index", "add"]
    t0 = time.monotonic()
    done = subprocess.run(
        [*command, str(tmp_path / "timed.db"), str(dump), "-q"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    seconds = time.monotonic() - t0
    rng = np.random.default_rng(int(how))
    for trial, stop_at in enumerate(stop_times(rng, 0.3, seconds, how)):
        db = tmp_path / f"trial{trial}.db"
        add = subprocess.Popen([*command, str(db), str(dump), "-q"], stderr=subprocess.PIPE, text=True)
        time.sleep(stop_at)
        add.send_signal(how)
        add.wait(timeout=60)
        if (
            not db.exists()
            or sqlite3.connect(db).execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
        ):
            continue  # (stopped before the index was made: an empty file, which the next add makes)
        with Index.open(str(db), create=False) as idx:
            idx.check()
            held = len(idx)
        assert held % 100 == 0 or held == 600, f"trial {trial}: {held} articles, not whole batches"


def test_a_second_read_that_gives_fewer_records_writes_nothing(tmp_path, monkeypatch):
    """Beyond the files' identity, the records the second read gives are counted against the
    first read's: a record lost in between (an I/O error the second read skips) fails the run."""
    from click.testing import CliRunner

    from dedup import cli
    from dedup.io.read import Inputs

    dump, out = tmp_path / "in.jsonl", tmp_path / "out"
    _seed_dump(dump)
    real, reads = Inputs.records, []

    def second_read_loses_one(self, on_bad=None):
        reads.append(1)
        records = real(self, on_bad)
        if len(reads) == 2:
            next(records)  # (the first record lost)
        return records

    monkeypatch.setattr(Inputs, "records", second_read_loses_one)
    result = CliRunner().invoke(cli.main, ["run", str(dump), "-o", str(out), "-q"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: {dump}: read again, the inputs gave 4 records where the first read gave 5; nothing written"
    )
    assert not out.exists()


def test_running_out_of_memory_is_one_line_not_a_traceback(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from dedup import cli
    from dedup.engines.local import Detector

    dump = tmp_path / "in.jsonl"
    _seed_dump(dump)

    def no_memory(self):
        raise MemoryError

    monkeypatch.setattr(Detector, "finish", no_memory)
    result = CliRunner().invoke(cli.main, ["run", str(dump), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: out of memory; nothing written") and "--max-chars" in line
    assert not (tmp_path / "out").exists()


def test_a_run_killed_while_it_builds_a_folder_of_txt_files_leaves_the_earlier_run_and_no_folder_after(
    tmp_path,
):
    """A folder of .txt files is built in a staging folder beside --out: a run killed then leaves
    the earlier run whole, and its staging folder, which the next run into --out removes."""
    from click.testing import CliRunner

    from dedup import cli

    out = tmp_path / "out"
    assert CliRunner().invoke(cli.main, ["run", str(SEEDS), "-o", str(out), "-q"]).exit_code == 0
    before = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    killed = textwrap.dedent(
        f"""
        import os, signal
        from dedup.io.atomic import RunFolder
        run = RunFolder({str(out)!r})
        (run.folder("deduplicated") / "a.txt").write_text("half written")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    assert subprocess.run([sys.executable, "-c", killed], env=os.environ).returncode == -signal.SIGKILL
    assert {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert len(list(tmp_path.iterdir())) == 2  # (out, and the killed run's staging folder)
    again = CliRunner().invoke(cli.main, ["run", str(SEEDS), "-o", str(out), "-q", "--overwrite"])
    assert again.exit_code == 0
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
