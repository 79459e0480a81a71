"""`dedup run` from the command line: outputs, formats, bad input, atomic writes, progress."""

import csv
import gzip
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import dedup_run, one_line_error, read_jsonl

from dedup import cli

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_PAIR = ["000_1bdcf60ae9970c12", "004_89cc63446ebde389"]


@pytest.fixture
def seed_texts() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}


def test_seeds_make_exactly_one_cluster_and_one_pair(tmp_path):
    """The must-show: defaults find 000 and 004 (two MTs of one ANSA piece) and nothing else."""
    out = tmp_path / "out"
    result = dedup_run(str(SEEDS), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    clusters = read_jsonl(out / "clusters.jsonl")
    assert [c["members"] for c in clusters] == [SEED_PAIR]
    assert clusters[0]["representative"] in SEED_PAIR
    pairs = read_jsonl(out / "pairs.jsonl")
    assert [(p["a"], p["b"]) for p in pairs] == [tuple(SEED_PAIR)]
    assert list(pairs[0]) == [
        "a",
        "b",
        "jaccard",
        "cosine",
        "sentence_match",
        "order",
        "numbers",
        "score",
        "kind",
    ]
    assert pairs[0]["score"] >= 0.34 and pairs[0]["cosine"] > 0.7
    kept = sorted(p.stem for p in (out / "deduplicated").iterdir())
    removed = [m for m in SEED_PAIR if m != clusters[0]["representative"]]
    assert kept == sorted(set(p.stem for p in SEEDS.glob("*.txt")) - set(removed))
    assert "cluster 0 (2 articles): keep" in result.stderr


@pytest.mark.parametrize("where", ["default", "--spill-dir", "--in-memory"])
def test_spilling_changes_nothing_and_leaves_nothing_behind(tmp_path, where):
    out, spill = tmp_path / "out", tmp_path / "spill"
    extra = {"default": [], "--spill-dir": ["--spill-dir", str(spill)], "--in-memory": ["--in-memory"]}[where]
    assert dedup_run(str(SEEDS), "--out", str(out), "--quiet", *extra).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "clusters.jsonl", "deduplicated", "pairs.jsonl", "removed.jsonl", "summary.json"
    ]  # fmt: skip
    assert not spill.exists()  # made for the run, removed after it
    assert [p["a"] for p in read_jsonl(out / "pairs.jsonl")] == SEED_PAIR[:1]
    spilled = json.loads((out / "summary.json").read_text())["spill"]
    assert (spilled["bytes"] > 0) == (where != "--in-memory")


def test_summary_accounts_for_every_article_and_records_the_parameters(tmp_path):
    out = tmp_path / "out"
    assert dedup_run(str(SEEDS), "--out", str(out), "--quiet").exit_code == 0
    summary = json.loads((out / "summary.json").read_text())
    a = summary["articles"]
    assert a == {"read": 5, "kept": 4, "removed_as_duplicates": 1, "skipped_bad_input": 0}
    assert summary["minhash"]["num_perm"] == 128
    assert summary["minhash"]["seed"] == 1
    assert "hash32" in summary["minhash"]["hash_scheme"]
    assert summary["params"]["threshold"] == 0.34
    assert summary["params"]["sentence_weight"] == 0.5
    assert {"bands", "rows"} <= set(summary["params"])
    assert {"datasketch", "scikit-learn", "dedup"} <= set(summary["versions"])
    assert {"read_sign", "candidates", "verify", "cluster", "write", "total"} <= set(summary["timings_s"])
    assert summary["outputs"]["deduplicated"] == "deduplicated"
    assert summary["input_format"] == "txt"


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_jsonl_dump_keeps_other_fields_in_the_deduplicated_output(tmp_path, seed_texts, gz):
    dump = tmp_path / ("news.jsonl.gz" if gz else "news.jsonl")
    lines = "".join(
        json.dumps({"url": f"https://example.org/{k}", "id": k, "text": t}) + "\n"
        for k, t in seed_texts.items()
    )
    dump.write_bytes(gzip.compress(lines.encode()) if gz else lines.encode())
    out = tmp_path / "out"
    result = dedup_run(str(dump), "-o", str(out), "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    dedup_file = out / ("deduplicated.jsonl.gz" if gz else "deduplicated.jsonl")
    rows = read_jsonl(dedup_file)
    assert len(rows) == 4
    assert list(rows[0]) == ["url", "id", "text"]
    assert [c["members"] for c in read_jsonl(out / "clusters.jsonl")] == [SEED_PAIR]


def test_csv_with_custom_field_names(tmp_path, seed_texts):
    dump = tmp_path / "news.csv"
    with dump.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["doc", "body", "outlet"])
        for k, t in seed_texts.items():
            w.writerow([k, t, "wire"])
    out = tmp_path / "out"
    result = dedup_run(str(dump), "-o", str(out), "--id-field", "doc", "--text-field", "body")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO((out / "deduplicated.csv").read_text(encoding="utf-8"))))
    assert len(rows) == 4 and list(rows[0]) == ["doc", "body", "outlet"]
    assert [c["members"] for c in read_jsonl(out / "clusters.jsonl")] == [SEED_PAIR]


def test_stdin_is_jsonl(tmp_path, seed_texts):
    lines = "".join(json.dumps({"id": k, "text": t}) + "\n" for k, t in seed_texts.items())
    out = tmp_path / "out"
    result = dedup_run("-", "-o", str(out), input=lines)
    assert result.exit_code == 0, result.stderr
    assert len(read_jsonl(out / "deduplicated.jsonl")) == 4
    assert [c["members"] for c in read_jsonl(out / "clusters.jsonl")] == [SEED_PAIR]


@pytest.mark.parametrize(
    "name, content, where, reason",
    [
        ("bad.jsonl", '{"id": "a", "text": "fine"}\n{"id": "b", "text": \n', "bad.jsonl:2", "malformed JSON"),
        ("bad.jsonl", '{"id": "a", "text": "fine"}\n{"id": "b"}\n', "bad.jsonl:2", "text"),
        (
            "bad.jsonl",
            '{"id": "a", "text": "fine"}\n{"id": "b", "text": "  "}\n',
            "bad.jsonl:2",
            "whitespace-only text",
        ),
        ("bad.jsonl", '{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', "bad.jsonl:2", "duplicate id"),
        ("bad.jsonl", b'{"id": "a", "text": "caf\xe9"}\n', "bad.jsonl:1", "UTF-8"),
        ("bad.csv", 'id,text\na,fine\nb,"unclosed\n', "bad.csv:3", ""),
        ("bad.csv", "id,text\na,fine\nb\n", "bad.csv:3", ""),
    ],
)
def test_bad_input_is_one_line_naming_file_and_line_and_writes_nothing(
    tmp_path, name, content, where, reason
):
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    out = tmp_path / "out"
    result = dedup_run(str(path), "-o", str(out))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and where in lines[0] and reason in lines[0]
    assert "nothing written" in lines[0]
    assert not out.exists()


def test_an_unreadable_input_names_the_file(tmp_path):
    result = dedup_run(str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "missing.jsonl" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_skip_bad_warns_counts_and_accounts_for_every_record(tmp_path, seed_texts):
    lines = [json.dumps({"id": k, "text": t}) for k, t in seed_texts.items()]
    lines.insert(2, '{"id": "broken", ')
    lines.append(json.dumps({"id": "empty", "text": ""}))
    dump = tmp_path / "news.jsonl"
    dump.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    result = dedup_run(str(dump), "-o", str(out), "--skip-bad")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("warning: skipped") == 2
    assert "news.jsonl:3" in result.stderr and "news.jsonl:7" in result.stderr
    summary = json.loads((out / "summary.json").read_text())
    a = summary["articles"]
    assert a["skipped_bad_input"] == 2 and len(summary["warnings"]) == 2
    assert a["read"] == a["kept"] + a["removed_as_duplicates"] + a["skipped_bad_input"] == 7
    assert len(read_jsonl(out / "deduplicated.jsonl")) == a["kept"] == 4


def test_nothing_readable_is_an_error(tmp_path):
    dump = tmp_path / "news.jsonl"
    dump.write_text('{"id": "a", "text": ""}\n')
    result = dedup_run(str(dump), "-o", str(tmp_path / "out"), "--skip-bad")
    assert "no article" in one_line_error(result)


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--threshold", "1.5", "threshold"),
        ("--num-perm", "0", "num_perm"),
        ("--tfidf-ngrams", "two", "MIN,MAX"),
        ("--linkage", "ward", "ward"),
    ],
)
def test_a_bad_parameter_is_a_usage_error(tmp_path, option, value, message):
    result = CliRunner().invoke(cli.main, ["run", str(SEEDS), "-o", str(tmp_path / "o"), option, value])
    assert message in one_line_error(result, 2)
    assert not (tmp_path / "o").exists()


def test_options_change_the_run(tmp_path):
    """A threshold of 0.9 drops the seed pair; the parameters land in the summary."""
    out = tmp_path / "out"
    assert (
        dedup_run(str(SEEDS), "-o", str(out), "-q", "--threshold", "0.9", "--num-perm", "64").exit_code == 0
    )
    assert read_jsonl(out / "clusters.jsonl") == []
    summary = json.loads((out / "summary.json").read_text())
    assert summary["params"]["threshold"] == 0.9 and summary["minhash"]["num_perm"] == 64


def test_help_explains_every_parameter():
    result = CliRunner().invoke(cli.main, ["run", "--help"])
    assert result.exit_code == 0
    for option in ("--out", "--threshold", "--lsh-threshold", "--shingle-size", "--linkage", "--skip-bad"):
        assert option in result.output


def test_an_interrupted_run_leaves_no_half_written_file(tmp_path, monkeypatch):
    """Outputs from an earlier run stay whole; no temp file is left behind."""
    out = tmp_path / "out"
    assert dedup_run(str(SEEDS), "-o", str(out), "-q").exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    import dedup.io.write

    real = dedup.io.write.json_line
    calls = []

    def cut_after_first_line(obj):
        calls.append(obj)
        if len(calls) > 1:
            raise KeyboardInterrupt  # Ctrl-C while a file is half written
        return real(obj)

    monkeypatch.setattr(dedup.io.write, "json_line", cut_after_first_line)
    result = dedup_run(str(SEEDS), "-o", str(out), "-q", "--threshold", "0.25", "--overwrite")
    assert result.exit_code == 1 and "Aborted" in result.stderr  # click's answer to Ctrl-C
    assert len(calls) == 2  # cut inside pairs.jsonl (threshold 0.25 makes three pairs)
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before
    assert not [p for p in out.rglob("*") if ".tmp" in p.name or p.name.startswith(".")]


@pytest.mark.skipif(shutil.which("dedup") is None and not Path(sys.executable).with_name("dedup").exists(),
                    reason="the dedup script is not installed")  # fmt: skip
def test_the_installed_command_is_quiet_on_progress_when_piped(tmp_path):
    """Piped stderr gets the summary but no progress bar (no carriage returns)."""
    exe = Path(sys.executable).with_name("dedup")
    cmd = [str(exe) if exe.exists() else "dedup", "run", str(SEEDS), "-o", str(tmp_path / "out")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr
    assert "cluster 0 (2 articles): keep" in done.stderr
    quiet = subprocess.run([*cmd, "--quiet", "--overwrite"], capture_output=True, text=True, timeout=120)
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == ""


def test_an_unwritable_output_is_a_one_line_error(tmp_path, monkeypatch):
    import dedup.io.atomic

    def full_disk(self, path):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(dedup.io.atomic.Unnamed, "__init__", full_disk)
    result = dedup_run(str(SEEDS), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert (
        result.stderr.strip()
        == f"Error: {tmp_path / 'out' / 'pairs.jsonl'}: cannot write: No space left on device"
    )
