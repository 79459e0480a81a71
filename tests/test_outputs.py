"""What a run leaves for its user: a folder it may replace (only a run's, only with --overwrite),
the records it removed and every record's verdict (so that auditing never needs a diff), JSON
lines on stdout for a pipe, a summary that fits on a screen, and progress only on a terminal."""

import csv
import gzip
import io
import json
import os
import pty
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from conftest import dedup_run, one_line_error, read_jsonl

from dedup.runs import OutFolderError, deduplicate

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_PAIR = ["000_1bdcf60ae9970c12", "004_89cc63446ebde389"]


def seed_rows(**extra) -> list[dict]:
    return [
        {"id": p.stem, "text": p.read_text(encoding="utf-8"), **extra} for p in sorted(SEEDS.glob("*.txt"))
    ]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


# --- the output folder: refused, or replaced whole -------------------------------------------


def test_a_second_run_into_the_same_folder_is_refused_in_one_line_naming_it_and_overwrite(tmp_path):
    out = tmp_path / "out"
    assert dedup_run(str(SEEDS), "-o", str(out), "-q").exit_code == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    result = dedup_run(str(SEEDS), "-o", str(out), "-q")
    line = one_line_error(result)
    assert str(out) in line and "--overwrite" in line and "earlier run" in line
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_overwrite_replaces_the_whole_earlier_run(tmp_path, seed_texts_dump):
    """The first run's report and annotation do not outlive it: the folder holds the new run only."""
    out = tmp_path / "out"
    assert dedup_run(str(seed_texts_dump), "-o", str(out), "-q", "--report", "--annotate").exit_code == 0
    assert {"report.html", "annotated.jsonl", "deduplicated.jsonl"} <= {p.name for p in out.iterdir()}
    assert dedup_run(str(SEEDS), "-o", str(out), "-q", "--overwrite").exit_code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == sorted(summary["outputs"].values())
    assert "report.html" not in summary["outputs"].values() and summary["input_format"] == "txt"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["news.jsonl", "out"]  # (no staging folder left)


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_folder_of_a_users_own_files_is_never_written_into(tmp_path, overwrite):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "pairs.jsonl").write_text("my own pairs\n")
    result = dedup_run(str(SEEDS), "-o", str(out), "-q", *(["--overwrite"] if overwrite else []))
    line = one_line_error(result)
    assert str(out) in line and "holds no dedup run" in line
    assert {p.name: p.read_text() for p in out.iterdir()} == {
        "notes.txt": "mine",
        "pairs.jsonl": "my own pairs\n",
    }


def test_an_empty_folder_and_a_file_as_out(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert dedup_run(str(SEEDS), "-o", str(empty), "-q").exit_code == 0
    assert (empty / "summary.json").exists()
    (tmp_path / "file").write_text("x")
    assert "is a file" in one_line_error(dedup_run(str(SEEDS), "-o", str(tmp_path / "file"), "-q"), 2)
    with pytest.raises(OutFolderError, match="not a folder"):
        deduplicate([SEEDS], tmp_path / "file")


def test_the_library_refuses_and_overwrites_as_the_command_does(tmp_path):
    out = tmp_path / "out"
    deduplicate([SEEDS], out)
    with pytest.raises(OutFolderError, match="earlier run") as refused:
        deduplicate([SEEDS], out)
    assert refused.value.earlier_run
    result = deduplicate([SEEDS], out, overwrite=True, annotate=True)
    assert result.summary["outputs"]["annotated"] == "annotated.jsonl"
    assert (out / "annotated.jsonl").exists()


# --- removed and annotated -----------------------------------------------------------------


@pytest.fixture
def seed_texts_dump(tmp_path) -> Path:
    return write_jsonl(tmp_path / "news.jsonl", seed_rows(url="https://example.org"))


def test_removed_holds_each_dropped_record_whole_with_the_id_kept_in_its_place(tmp_path, seed_texts_dump):
    out = tmp_path / "out"
    assert dedup_run(str(seed_texts_dump), "-o", str(out), "-q").exit_code == 0
    [cluster] = read_jsonl(out / "clusters.jsonl")
    [removed] = read_jsonl(out / "removed.jsonl")
    [dropped] = [m for m in cluster["members"] if m != cluster["representative"]]
    original = next(r for r in seed_rows(url="https://example.org") if r["id"] == dropped)
    assert removed == {
        **original,
        "cluster": 0,
        "duplicate_of": cluster["representative"],
        "score": read_jsonl(out / "pairs.jsonl")[0]["score"],
        "kept": False,
    }
    kept_ids = {r["id"] for r in read_jsonl(out / "deduplicated.jsonl")}
    assert kept_ids | {removed["id"]} == {r["id"] for r in seed_rows()} and removed["id"] not in kept_ids


def test_annotated_holds_every_record_with_its_verdict(tmp_path, seed_texts_dump):
    out = tmp_path / "out"
    assert dedup_run(str(seed_texts_dump), "-o", str(out), "-q", "--annotate").exit_code == 0
    rows = read_jsonl(out / "annotated.jsonl")
    assert [r["id"] for r in rows] == [r["id"] for r in seed_rows()]  # every record, in input order
    [cluster] = read_jsonl(out / "clusters.jsonl")
    for row in rows:
        assert list(row)[:3] == ["id", "text", "url"]  # (the record first, as it was)
        in_cluster = row["id"] in cluster["members"]
        assert row["cluster"] == (0 if in_cluster else None)
        assert row["kept"] == (row["id"] not in cluster["members"] or row["id"] == cluster["representative"])
        assert (row["duplicate_of"] is None) == row["kept"]
        assert (row["score"] is None) == row["kept"]
    kept = [r["id"] for r in rows if r["kept"]]
    assert kept == [r["id"] for r in read_jsonl(out / "deduplicated.jsonl")]


def test_csv_gets_four_more_columns(tmp_path):
    dump = tmp_path / "news.csv"
    with dump.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["doc", "body"])
        for r in seed_rows():
            w.writerow([r["id"], r["text"]])
    out = tmp_path / "out"
    ran = dedup_run(
        str(dump), "-o", str(out), "-q", "--annotate", "--id-field", "doc", "--text-field", "body"
    )
    assert ran.exit_code == 0, ran.stderr
    rows = list(csv.DictReader(io.StringIO((out / "annotated.csv").read_text(encoding="utf-8"))))
    assert list(rows[0]) == ["doc", "body", "cluster", "duplicate_of", "score", "kept"]
    assert Counter(r["kept"] for r in rows) == {"true": 4, "false": 1}
    [removed] = list(csv.DictReader(io.StringIO((out / "removed.csv").read_text(encoding="utf-8"))))
    assert removed["doc"] in SEED_PAIR and removed["duplicate_of"] in SEED_PAIR and removed["cluster"] == "0"
    assert [r for r in rows if r["cluster"] == ""] and all(
        r["score"] == "" for r in rows if r["kept"] == "true"
    )


def test_a_folder_of_txt_files_gets_jsonl_of_ids_texts_and_verdicts(tmp_path):
    """A removed file is in no other output of the run, so its text is in removed.jsonl."""
    out = tmp_path / "out"
    assert dedup_run(str(SEEDS), "-o", str(out), "-q", "--annotate").exit_code == 0
    rows = read_jsonl(out / "annotated.jsonl")
    assert [list(r) for r in rows] == [["id", "text", "cluster", "duplicate_of", "score", "kept"]] * 5
    [removed] = read_jsonl(out / "removed.jsonl")
    assert removed["id"] in SEED_PAIR and not (out / "deduplicated" / f"{removed['id']}.txt").exists()
    assert removed["text"] == (SEEDS / f"{removed['id']}.txt").read_text(encoding="utf-8")


def test_a_tsv_dump_gets_tsv_audits_with_its_delimiter(tmp_path):
    dump = tmp_path / "news.tsv"
    with dump.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow(["id", "text"])
        for r in seed_rows():
            w.writerow([r["id"], r["text"]])
    out = tmp_path / "out"
    assert dedup_run(str(dump), "-o", str(out), "-q", "--annotate").exit_code == 0
    assert sorted(p.name for p in out.iterdir() if p.name.endswith(".tsv")) == [
        "annotated.tsv",
        "deduplicated.tsv",
        "removed.tsv",
    ]
    text = (out / "annotated.tsv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text), delimiter="\t"))
    assert list(rows[0]) == ["id", "text", "cluster", "duplicate_of", "score", "kept"] and len(rows) == 5


def test_a_zstd_dump_gets_zstd_audits(tmp_path):
    zstandard = pytest.importorskip("zstandard", reason="zstandard is not installed")
    raw = "".join(json.dumps(r) + "\n" for r in seed_rows()).encode()
    dump = tmp_path / "news.jsonl.zst"
    dump.write_bytes(zstandard.ZstdCompressor().compress(raw))
    out = tmp_path / "out"
    assert dedup_run(str(dump), "-o", str(out), "-q", "--annotate").exit_code == 0
    names = sorted(p.name for p in out.iterdir() if p.name.endswith(".zst"))
    assert names == ["annotated.jsonl.zst", "deduplicated.jsonl.zst", "removed.jsonl.zst"]
    text = zstandard.ZstdDecompressor().stream_reader((out / "removed.jsonl.zst").read_bytes()).read()
    [removed] = [json.loads(line) for line in text.decode().splitlines()]
    assert removed["id"] in SEED_PAIR and removed["duplicate_of"] in SEED_PAIR and removed["text"]


def test_a_parquet_dump_gets_parquet_audits_with_its_schema_and_four_columns(tmp_path):
    pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed")
    import pyarrow.parquet as pq

    rows = [{**r, "n": k} for k, r in enumerate(seed_rows())]
    dump = tmp_path / "news.parquet"
    pq.write_table(pa.Table.from_pylist(rows), dump)
    out = tmp_path / "out"
    assert dedup_run(str(dump), "-o", str(out), "-q", "--annotate").exit_code == 0
    annotated = pq.read_table(out / "annotated.parquet")
    assert annotated.schema.names == ["id", "text", "n", "cluster", "duplicate_of", "score", "kept"]
    assert (
        annotated.schema.field("n").type == pa.int64() and annotated.schema.field("kept").type == pa.bool_()
    )
    assert Counter(annotated.column("kept").to_pylist()) == {True: 4, False: 1}
    [removed] = pq.read_table(out / "removed.parquet").to_pylist()
    assert removed["id"] in SEED_PAIR and removed["duplicate_of"] in SEED_PAIR and removed["cluster"] == 0
    assert removed["text"] == next(r["text"] for r in rows if r["id"] == removed["id"])


def test_fields_of_the_same_names_in_the_inputs_stay_and_the_verdicts_take_a_prefix(tmp_path):
    """Gold labels in a ``cluster`` field (as the dev sets have) are kept as they are."""
    dump = write_jsonl(
        tmp_path / "gold.jsonl", [{**r, "cluster": f"gold-{k}"} for k, r in enumerate(seed_rows())]
    )
    out = tmp_path / "out"
    assert dedup_run(str(dump), "-o", str(out), "-q", "--annotate").exit_code == 0
    rows = read_jsonl(out / "annotated.jsonl")
    assert [r["cluster"] for r in rows] == [f"gold-{k}" for k in range(5)]
    assert {"dedup_cluster", "dedup_duplicate_of", "dedup_score", "dedup_kept"} <= set(rows[0])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["audit_fields"] == ["dedup_cluster", "dedup_duplicate_of", "dedup_score", "dedup_kept"]
    both = write_jsonl(
        tmp_path / "both.jsonl", [{**r, "cluster": 1, "dedup_cluster": 2} for r in seed_rows()]
    )
    line = one_line_error(dedup_run(str(both), "-o", str(tmp_path / "o2"), "-q"))
    assert "'cluster'" in line and "'dedup_cluster'" in line and "nothing written" in line
    assert not (tmp_path / "o2").exists()


# --- JSON lines on stdout -----------------------------------------------------------------------


def test_out_dash_streams_the_clusters_and_writes_no_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = dedup_run(str(SEEDS), "-o", "run", "-q")
    piped = dedup_run(str(SEEDS), "-o", "-")
    assert piped.exit_code == 0
    assert piped.stdout == (tmp_path / "run" / "clusters.jsonl").read_text()
    assert "read 5 articles" in piped.stderr and "stdout" in piped.stderr  # (the summary stays on stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"] and folder.exit_code == 0
    pairs = dedup_run(str(SEEDS), "-o", "-", "-q", "--print", "pairs")
    assert pairs.stdout == (tmp_path / "run" / "pairs.jsonl").read_text() and pairs.stderr == ""
    assert "--annotate" in one_line_error(dedup_run(str(SEEDS), "-o", "-", "--annotate"), 2)


def test_print_with_a_folder_writes_both(tmp_path):
    out = tmp_path / "out"
    result = dedup_run(str(SEEDS), "-o", str(out), "-q", "--print", "pairs")
    assert result.exit_code == 0
    assert result.stdout == (out / "pairs.jsonl").read_text() != ""


def test_the_library_without_a_folder_returns_the_result_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = deduplicate([SEEDS], None)
    assert [c.members for c in result.clusters] == [SEED_PAIR]
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="output folder"):
        deduplicate([SEEDS], None, annotate=True)


# --- the summary ---------------------------------------------------------------------------------


def families_dump(path: Path, sizes: list[int], singles: int) -> Path:
    """Stories of random words, each copied to make a cluster of each of ``sizes``, and
    ``singles`` stories alone."""
    rng = np.random.default_rng(7)
    words = [f"w{k}" for k in range(4000)]
    rows = []
    for k, size in enumerate([*sizes, *[1] * singles]):
        text = " ".join(words[x] for x in rng.integers(0, len(words), 120))
        rows += [{"id": f"s{k}-{copy}", "text": text} for copy in range(size)]
    return write_jsonl(path, rows)


def test_the_summary_fits_a_screen_with_examples_histogram_outputs_and_totals_last(tmp_path):
    sizes = [2] * 7 + [3] * 3 + [5, 12]
    dump = families_dump(tmp_path / "families.jsonl", sizes, singles=20)
    out = tmp_path / "out"
    result = dedup_run(str(dump), "-o", str(out), "--annotate")
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert len(lines) <= 24
    clusters = read_jsonl(out / "clusters.jsonl")
    assert sorted(len(c["members"]) for c in clusters) == sorted(sizes)
    # the examples: three, the largest first
    examples = [line for line in lines if line.startswith("  cluster ")]
    assert len(examples) == 3 and lines[0] == f"examples (3 of {len(sizes)} clusters, the largest):"
    assert (
        examples[0].startswith("  cluster ")
        and "(12 articles)" in examples[0]
        and "and 9 more" in examples[0]
    )
    # the histogram: the counts of clusters.jsonl
    start = lines.index("cluster sizes (articles: clusters):")
    shown = {}
    for line in lines[start + 1 :]:
        if not line.startswith("  ") or ":" not in line:
            break
        label, _, rest = line.strip().partition(":")
        shown[label] = int(rest.split()[0])
    assert shown == {"2": 7, "3": 3, "5-9": 1, "10-19": 1}
    # the outputs, with their paths
    summary = json.loads((out / "summary.json").read_text())
    listed = lines[lines.index(f"outputs in {out}/:") + 1 :]
    for name in summary["outputs"].values():
        assert any(line.startswith(f"  {name} ") for line in listed), name
    # the totals last
    a = summary["articles"]
    assert lines[-2] == (
        f"read {a['read']:,} articles: kept {a['kept']:,}, "
        f"removed as duplicates {a['removed_as_duplicates']:,}, skipped as bad input 0"
    )
    assert lines[-1].startswith(f"{len(sizes)} clusters from ")


# --- progress: on a terminal only ---------------------------------------------------------------


STAGES = ("read+sign", "candidates", "verify", "cluster", "write")
PROGRESS_LINE = re.compile(r"(read\+sign|candidates|verify|cluster|write) +(\[|in |\d)")


def run_on_a_terminal(args: list[str]) -> tuple[int, str]:
    """``dedup run ARGS`` with stderr on a pseudo-terminal; its exit code and what it showed."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dedup", "run", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave,
        env={**os.environ, "COLUMNS": "120"},
    )
    os.close(slave)
    shown = bytearray()
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # (EIO: the terminal's other end closed)
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    return proc.wait(timeout=120), shown.decode("utf-8", "replace")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="platform: a pseudo-terminal (pty)")
def test_every_stage_shows_progress_on_a_terminal_and_none_on_a_pipe(tmp_path):
    dump = families_dump(tmp_path / "families.jsonl", [2, 3], singles=10)
    code, shown = run_on_a_terminal([str(dump), "-o", str(tmp_path / "tty"), "--workers", "1"])
    assert code == 0, shown
    finished = [line.rsplit("\r", 1)[-1] for line in shown.replace("\x1b[K", "").splitlines()]
    for stage in STAGES:
        assert any(line.startswith(stage) and " in 0:" in line for line in finished), (stage, finished)
    assert any(line.startswith("read+sign") and "100%" in line and "kB" in line for line in finished)
    piped = subprocess.run(
        [sys.executable, "-m", "dedup", "run", str(dump), "-o", str(tmp_path / "pipe"), "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert piped.returncode == 0 and "\r" not in piped.stderr
    assert not [line for line in piped.stderr.splitlines() if PROGRESS_LINE.match(line)]
    assert piped.stderr.splitlines()[-2].startswith(f"read {2 + 3 + 10} articles")
    quiet_code, quiet = run_on_a_terminal([str(dump), "-o", str(tmp_path / "quiet"), "-q"])
    assert quiet_code == 0 and quiet == ""


def test_a_progress_line_says_share_amounts_rate_and_eta():
    from dedup.runtime.progress import progress_line

    kb = 1024
    line = progress_line("read+sign", 512 * kb, 2048 * kb, "B", elapsed=2.0, done=False)
    # 512 kB in 2 s: 256 kB/s, and 1,536 kB to go: 6 s
    assert line.split() == ["read+sign", "[#####---------------]", "25%", "512", "kB/2", "MB", "256", "kB/s",
                            "ETA", "0:06"]  # fmt: skip
    assert progress_line("verify", 40, 40, "", elapsed=75.0, done=True).endswith("100%  40  in 1:15")
    assert progress_line("cluster", 0, None, "", elapsed=3725.0, done=False).split() == ["cluster", "1:02:05"]


def test_the_inputs_say_their_size_and_how_much_of_it_a_read_has_taken(tmp_path):
    from dedup.io.read import Inputs

    plain = write_jsonl(tmp_path / "plain.jsonl", [{**r, "id": f"p{r['id']}"} for r in seed_rows()])
    gz = tmp_path / "news.jsonl.gz"
    gz.write_bytes(
        gzip.compress("".join(json.dumps({**r, "id": f"g{r['id']}"}) + "\n" for r in seed_rows()).encode())
    )
    with Inputs([SEEDS, gz, plain]) as inputs:
        size = sum(p.stat().st_size for p in SEEDS.glob("*.txt")) + gz.stat().st_size
        assert inputs.size() == size + plain.stat().st_size
        taken = []
        for _ in inputs.records():
            taken.append(inputs.bytes_read)
        assert taken == sorted(taken) and taken[-1] == inputs.size()
    with Inputs(["-"]) as stdin:
        assert stdin.size() is None  # (a stream: counted in articles)


def test_the_histogram_bins():
    from dedup.cli.run import size_histogram

    assert size_histogram([2, 2, 3, 7, 9, 150, 1200]) == [
        ("2", 2), ("3", 1), ("5-9", 2), ("100-999", 1), ("1000+", 1)
    ]  # fmt: skip


def test_against_an_index_the_removed_records_name_the_held_article_they_duplicate(tmp_path):
    import dedup

    db = tmp_path / "news.db"
    with dedup.Index.open(db, threshold=0.3) as index:
        index.add("held", (SEEDS / f"{SEED_PAIR[0]}.txt").read_text())
    result = deduplicate([SEEDS], tmp_path / "out", index=db, annotate=True)
    [cluster] = result.clusters
    removed = read_jsonl(tmp_path / "out" / "removed.jsonl")
    assert sorted(r["id"] for r in removed) == sorted(cluster.duplicates) == SEED_PAIR
    assert {r["duplicate_of"] for r in removed} == {"held"} and all(r["score"] >= 0.3 for r in removed)
    annotated = read_jsonl(tmp_path / "out" / "annotated.jsonl")
    assert "held" not in {r["id"] for r in annotated} and len(annotated) == 5  # (the run's records only)


def test_a_run_report_that_leaves_clusters_out_says_so_in_the_summary(tmp_path):
    """The page says it shows the first 200 clusters; the run's summary says so beside
    report.html, naming the command that shows more (dedup run has no --max-clusters)."""
    dump = families_dump(tmp_path / "families.jsonl", [2] * 203, singles=0)
    out = tmp_path / "out"
    result = dedup_run(str(dump), "-o", str(out), "--report")
    assert result.exit_code == 0
    [line] = [line for line in result.stderr.splitlines() if line.startswith("  report.html")]
    assert "the first 200 of 203 clusters; 3 are left out" in line
    assert "dedup report --max-clusters" in line
    summary = json.loads((out / "summary.json").read_text())
    assert summary["report_left_out"].startswith("the report shows the first 200 of 203 clusters")


def test_on_a_narrow_terminal_the_example_lines_are_cut_not_wrapped(tmp_path):
    """Ids such as URLs make long example lines: cut to the terminal's width (with …), whole in a
    pipe or a file."""
    from dedup.cli.run import summary_lines

    long_ids = [{**r, "id": "https://news.example.com/2026/12/07/" + r["id"]} for r in seed_rows()]
    result = deduplicate([str(write_jsonl(tmp_path / "urls.jsonl", long_ids))], None)
    whole = [line for line in summary_lines(result, None) if line.startswith("  cluster ")]
    cut = [line for line in summary_lines(result, None, width=60) if line.startswith("  cluster ")]
    assert len(whole) == len(cut) == 1 and len(whole[0]) > 60
    assert len(cut[0]) == 60 and cut[0].endswith("…") and whole[0].startswith(cut[0][:-1])
    # a width that holds the kept id but not the duplicate's: the duplicates are counted, not named
    head = whole[0][: whole[0].index("duplicates: ") + len("duplicates: ")]
    [fewer] = [
        line for line in summary_lines(result, None, width=len(head) + 5) if line.startswith("  cluster ")
    ]
    assert fewer == head + "1"
