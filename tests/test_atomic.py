"""A run's files go in place together: a reader sees one run's outputs, never some of two."""

import os
import sys
from pathlib import Path

import pytest
from conftest import nameless_files

from dedup.io.atomic import RunFolder, atomic_write, exchange


def listing(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def write_run(out, files: dict[str, str], *, commit: bool = True) -> None:
    with RunFolder(out) as run:
        for name, text in files.items():
            with atomic_write(run.path(name), hold=run.hold(name)) as f:
                f.write(text)
        if commit:
            run.commit()


def test_nothing_appears_until_the_run_commits(tmp_path):
    if not nameless_files(tmp_path):
        pytest.skip("platform: this file system makes no file without a name (O_TMPFILE)")
    out = tmp_path / "out"
    with RunFolder(out) as run:
        with atomic_write(run.path("pairs.jsonl"), hold=run.hold("pairs.jsonl")) as f:
            f.write("new")
        assert listing(out) == [] and listing(tmp_path) == ["out"]  # (held: no name anywhere)
        run.commit()
    assert listing(out) == ["pairs.jsonl"] and (out / "pairs.jsonl").read_text() == "new"
    assert listing(tmp_path) == ["out"]


def test_a_rerun_replaces_the_whole_earlier_run(tmp_path):
    out = tmp_path / "out"
    write_run(out, {"pairs.jsonl": "old", "report.html": "old", "summary.json": "old"})
    write_run(out, {"pairs.jsonl": "new", "summary.json": "new"})
    assert listing(out) == ["pairs.jsonl", "summary.json"]  # (the earlier report is gone with its run)
    assert {p.name: p.read_text() for p in out.iterdir()} == {"pairs.jsonl": "new", "summary.json": "new"}
    assert listing(tmp_path) == ["out"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="platform: renameat2 is Linux's")
def test_two_folders_are_exchanged_in_one_step(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    assert exchange(a, b) is True
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


def test_the_output_folder_is_swapped_whole(tmp_path):
    """The output folder is exchanged with the new one: the old folder moves away whole."""
    out = tmp_path / "out"
    write_run(out, {"pairs.jsonl": "old"})
    before = os.stat(out).st_ino
    write_run(out, {"pairs.jsonl": "new"})
    assert os.stat(out).st_ino != before
    assert (out / "pairs.jsonl").read_text() == "new"


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_a_run_that_fails_before_its_commit_leaves_the_earlier_run_whole(tmp_path, error):
    out = tmp_path / "out"
    write_run(out, {"pairs.jsonl": "old", "clusters.jsonl": "old", "summary.json": "old"})
    with pytest.raises(error), RunFolder(out) as run:
        with atomic_write(run.path("pairs.jsonl"), hold=run.hold("pairs.jsonl")) as f:
            f.write("new")
        run.folder("deduplicated")
        raise error("stopped before the commit")
    assert {p.name: p.read_text() for p in out.iterdir()} == dict.fromkeys(
        ["clusters.jsonl", "pairs.jsonl", "summary.json"], "old"
    )
    assert listing(tmp_path) == ["out"]  # (no staging folder left beside it)


def test_a_failed_first_run_leaves_no_output_folder(tmp_path):
    with pytest.raises(ValueError), RunFolder(tmp_path / "out") as run:
        with atomic_write(run.path("pairs.jsonl"), hold=run.hold("pairs.jsonl")) as f:
            f.write("new")
        raise ValueError
    assert listing(tmp_path) == []


def test_a_folder_with_a_users_files_is_filled_file_by_file_with_the_summary_last(tmp_path):
    """A folder holding other files is not swapped away: the run's files go in one by one, the
    earlier run's stale files are removed, and the user's files stay."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "my-notes.txt").write_text("mine")
    write_run(out, {"pairs.jsonl": "old", "report.html": "old", "summary.json": "old"})
    order = []
    real = os.replace

    def noted(src, dst, *args, **kwargs):
        order.append(os.path.basename(dst))
        return real(src, dst, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "replace", noted)
        write_run(out, {"pairs.jsonl": "new", "summary.json": "new"})
    assert order[-1] == "summary.json"
    assert {p.name: p.read_text() for p in out.iterdir()} == {
        "my-notes.txt": "mine", "pairs.jsonl": "new", "summary.json": "new",
    }  # fmt: skip
    assert listing(tmp_path) == ["out"]


def test_a_folder_built_for_the_run_goes_in_with_it(tmp_path):
    out = tmp_path / "out"
    with RunFolder(out) as run:
        folder = run.folder("deduplicated")
        (folder / "a.txt").write_text("kept")
        run.commit()
    assert (out / "deduplicated" / "a.txt").read_text() == "kept"
    assert listing(tmp_path) == ["out"]


@pytest.mark.parametrize("mine", [False, True])
def test_the_working_folder_as_out_is_filled_in_place(tmp_path, monkeypatch, mine):
    """``--out .``: the folder a process works in is never swapped away; the run's files go in."""
    monkeypatch.chdir(tmp_path)
    if mine:
        (tmp_path / "in.jsonl").write_text("mine")
    write_run(Path("."), {"pairs.jsonl": "old", "report.html": "old"})
    write_run(Path("."), {"pairs.jsonl": "new"})
    expected = {"pairs.jsonl": "new", **({"in.jsonl": "mine"} if mine else {})}
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == expected
    assert Path.cwd() == tmp_path


def test_a_killed_runs_staging_folder_is_removed_by_the_next_run_and_a_live_ones_kept(tmp_path):
    """A run killed while it built a folder of .txt files (or between the steps of its commit)
    leaves its staging folder beside --out; the next run into --out removes it, not one of a run
    still going."""
    import subprocess

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    out = tmp_path / "out"
    dead = tmp_path / f".out.{gone.pid}-0a1b2c3d.run"
    live = tmp_path / f".out.{os.getpid()}-0a1b2c3d.run"
    for folder in (dead, live):
        (folder / "deduplicated").mkdir(parents=True)
        (folder / "deduplicated" / "a.txt").write_text("half")
    write_run(out, {"pairs.jsonl": "new"})
    assert listing(tmp_path) == sorted([live.name, "out"])
