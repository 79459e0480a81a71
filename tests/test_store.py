"""Columns in memory or spilled to files give the same arrays, and spilled runs the same results."""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from dedup.api import find_duplicates
from dedup.arrays.store import Store
from dedup.engines.local import Detector

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


@pytest.fixture(params=["memory", "spilled"])
def store(request, tmp_path):
    s = Store(None if request.param == "memory" else tmp_path / "spill")
    yield s
    s.close()


def test_a_column_reads_back_what_was_appended(store, monkeypatch):
    monkeypatch.setattr("dedup.arrays.store._FLUSH_BYTES", 64)  # several writes to the file
    col = store.column("numbers", np.int32)
    parts = [np.arange(k, dtype=np.int64) for k in (0, 5, 100, 1, 37)]
    for part in parts:
        col.extend(part)
    assert len(col) == sum(map(len, parts))
    view = col.view()
    assert view.dtype == np.int32
    np.testing.assert_array_equal(view, np.concatenate(parts))


def test_a_view_is_writable_and_survives_release(store):
    col = store.column("weights", np.float32)
    col.extend(np.ones(10_000))
    view = col.view()
    view *= 3.0
    store.release()  # pages handed back are read again from the file
    np.testing.assert_array_equal(col.view(), np.full(10_000, 3.0, dtype=np.float32))
    with pytest.raises(RuntimeError, match="cannot grow"):
        col.extend(np.ones(1))


def test_an_empty_column_views_as_empty(store):
    assert store.column("nothing", np.int64).view().shape == (0,)


def test_the_spill_folder_is_made_when_needed_and_removed(tmp_path):
    parent = tmp_path / "out"
    s = Store(parent)
    col = s.column("x", np.int64)
    assert not parent.exists()  # nothing written yet
    col.extend(np.arange(10))
    col.view()
    assert parent.is_dir() and list(parent.iterdir()) == []  # (its files have no name)
    assert s.nbytes == 80
    s.close()
    assert not parent.exists()  # made by the store, left empty: removed


@pytest.mark.parametrize("tmpfile", [True, False])
def test_spilled_files_have_no_name_and_go_with_their_column(tmp_path, monkeypatch, tmpfile):
    """Nothing to leave behind, however the run ends; where O_TMPFILE is missing, a name
    removed at once."""
    if not tmpfile:
        monkeypatch.delattr(os, "O_TMPFILE")
    s = Store(tmp_path)
    col = s.column("x", np.int64)
    col.extend(np.arange(1000))
    np.testing.assert_array_equal(col.view(), np.arange(1000))
    fd = col._file.fileno()
    assert os.fstat(fd).st_nlink == 0 and os.fstat(fd).st_size == 8000
    assert list(tmp_path.iterdir()) == []
    s.discard(col)
    assert col._file is None  # (closed: the disk it took is free)
    s.close()


def test_a_discarded_column_frees_its_file_and_the_peak_is_remembered(tmp_path):
    s = Store(tmp_path)
    a, b = s.column("a", np.int64), s.column("b", np.int64)
    a.extend(np.arange(1000))
    b.extend(np.arange(10))
    a.view(), b.view()  # (written to their files)
    s.discard(a)
    assert a._file is None and b._file is not None
    c = s.column("c", np.int64)
    c.extend(np.arange(100))
    assert s.nbytes == 8 * (1000 + 10 + 100)  # written in all
    assert s.peak_bytes == 8 * (1000 + 10)  # held at once: before a was removed
    np.testing.assert_array_equal(b.view(), np.arange(10))
    s.close()


def test_closing_keeps_a_folder_the_store_did_not_make(tmp_path):
    s = Store(tmp_path)
    s.column("x", np.int64).view()
    s.close()
    assert tmp_path.exists() and list(tmp_path.iterdir()) == []


def test_a_spilled_run_finds_what_an_in_memory_run_finds(tmp_path, monkeypatch):
    from _data import WMT_DEV, load_wmt

    if not WMT_DEV.exists():
        pytest.skip(f"{WMT_DEV} is not here")
    monkeypatch.setattr("dedup.arrays.store._FLUSH_BYTES", 4096)  # many writes to each file
    articles = [(a["id"], a["text"]) for a in load_wmt("en")[:600]]
    articles += [("only-stop-words", "It is what it is, and so it was."), ("and-again", "It was.")]
    in_memory = find_duplicates(articles)
    spilled = find_duplicates(articles, spill_dir=tmp_path)
    assert in_memory.pairs and spilled.pairs == in_memory.pairs
    assert spilled.clusters == in_memory.clusters
    # (banding read the keys kept as the articles came: the same candidates)
    assert spilled.summary["candidates"] == in_memory.summary["candidates"]
    assert spilled.summary["spill"]["bytes"] >= spilled.summary["spill"]["peak_bytes"] > 0
    assert list(tmp_path.iterdir()) == []  # the spill folder is gone


def test_a_finished_detector_takes_no_more_articles(tmp_path):
    det = Detector(spill_dir=tmp_path)
    det.add_many([])
    first = det.finish()
    assert det.finish() is first
    with pytest.raises(RuntimeError, match="finished"):
        det.add_many([])


@pytest.mark.parametrize("step", [1, 3, 1000])
def test_local_stretches_visit_every_pair_once_within_one_block_pair(step):
    from dedup.arrays.store import local_stretches

    rng = np.random.default_rng(3)
    n = 100
    pairs = np.sort(rng.integers(0, n, size=(500, 2)), axis=1)
    stretches = list(local_stretches(pairs, n, step, blocks=4, few_rows=0))
    seen = np.concatenate(stretches)
    assert sorted(seen.tolist()) == list(range(len(pairs)))
    for idx in stretches:
        assert 1 <= len(idx) <= step
        cells = {(i // 25, j // 25) for i, j in pairs[idx].tolist()}
        assert len(cells) == 1
    assert list(local_stretches(np.zeros((0, 2), dtype=np.int64), n, step)) == []


def test_pairs_touching_few_rows_are_one_stretch_however_they_spread():
    """A family's sampled pairs: few members, all over the matrix. Cut by block pair they would
    be many small calls that touch no fewer rows; within one stretch's size they are one."""
    from dedup.arrays.store import local_stretches

    members = np.arange(0, 10_000, 25)  # 400 rows spread over 16 blocks
    i, j = np.triu_indices(len(members), 1)
    pairs = np.stack([members[i], members[j]], axis=1)  # 79,800 pairs
    assert len(list(local_stretches(pairs, 10_000, 100_000, few_rows=4096))) == 1
    assert len(list(local_stretches(pairs, 10_000, 100_000, few_rows=399))) == 136  # (16 x 17 / 2)
    assert len(list(local_stretches(pairs, 10_000, 50_000, few_rows=4096))) > 1  # (over a stretch)
