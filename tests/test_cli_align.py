"""`dedup align`, `dedup report` and `dedup run --report` from the command line."""

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import one_line_error, with_inputs_gone

from dedup import align, cli
from dedup.cli import show as cli_show

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
A = str(SEEDS / "000_1bdcf60ae9970c12.txt")
B = str(SEEDS / "004_89cc63446ebde389.txt")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def dedup(*args: str, input: str | bytes | None = None):
    """Run `dedup ARGS` in-process; click's result keeps stdout and stderr apart."""
    return CliRunner().invoke(cli.main, list(args), input=input, catch_exceptions=False)


def no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.name.startswith(".") or ".tmp" in p.name]


# ---------------------------------------------------------------------------------------------
# dedup align


def test_align_text_shows_the_extra_paragraph_the_footer_and_the_split():
    result = dedup("align", A, B, "--width", "140")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert f"A: {A} (5 paragraphs)" in out and "3 links (1:2, 1:3, 1:1)" in out
    assert re.search(r"│ only in B │ ¶1 Russian President Vladimir Putin", out)  # B's extra opening paragraph
    assert re.search(r"^¶5 Leave a Comment +│boilerplate│", out, re.M)
    assert re.search(r"^¶3 Russia, on the other hand.*│    1:3    │", out, re.M)
    assert "languages: A en, B en · similarity: tfidf" in out  # how it aligned them
    assert not ANSI.search(out)  # stdout is not a terminal


def test_align_text_names_the_similarity_it_was_told_to_use():
    out = dedup("align", A, B, "--similarity", "fingerprint", "--width", "140").stdout
    assert "languages: A en, B en · similarity: fingerprint" in out


def test_align_json_keeps_the_names_of_the_api():
    result = dedup("align", A, B, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == [
        "a",
        "b",
        "links",
        "only_a",
        "only_b",
        "boilerplate_a",
        "boilerplate_b",
        "similarity",
        "languages",
    ]
    assert (data["a"], data["b"]) == (A, B)
    assert [(link["a"], link["b"], link["type"]) for link in data["links"]] == [
        ([1], [1, 2], "1:2"),
        ([2], [2, 3, 4], "1:3"),
        ([3], [4], "1:1"),
    ]
    assert set(data["links"][0]) == {"a", "b", "type", "score", "moved"}
    assert data["only_a"] == [0] and data["only_b"] == [0]
    assert data["boilerplate_a"] == [4] and data["boilerplate_b"] == []
    assert (data["similarity"], data["languages"]) == ("tfidf", ["en", "en"])


def test_align_markdown():
    result = dedup("align", A, B, "--format", "md")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "| link | A | B |" in out and re.search(r"^\| 1:3 · 0\.\d\d \| \*\*¶3\*\* Russia", out, re.M)
    assert "**Only in B**\n\n- ¶1: Russian President" in out and "- ¶5: Leave a Comment" in out


def test_align_html():
    result = dedup("align", A, B, "--format", "html")
    assert result.exit_code == 0, result.stderr
    page = result.stdout
    assert page.startswith("<!DOCTYPE html>") and page.count('<section class="pair"') == 1
    assert f'data-a="{A}" data-b="{B}"' in page
    assert re.search(r'data-side="b" data-para="0" data-status="only"', page)
    assert re.search(r'data-side="a" data-para="4" data-status="boilerplate"', page)
    assert (
        len(re.findall(r'data-side="b" data-para="\d" data-status="linked" data-link="[^"]*\b1\b', page)) == 3
    )


@pytest.mark.parametrize("fmt", ["text", "json", "md", "html"])
def test_align_output_file_is_written_atomically_and_equals_stdout(tmp_path, fmt):
    out = tmp_path / f"alignment.{fmt}"
    result = dedup("align", A, B, "--format", fmt, "-o", str(out), "--width", "100")
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text(encoding="utf-8") == dedup("align", A, B, "--format", fmt, "--width", "100").stdout
    assert [p.name for p in tmp_path.iterdir()] == [out.name] and no_temp_files(tmp_path)


@pytest.mark.parametrize("flag, coloured", [(None, False), ("--color", True), ("--no-color", False)])
def test_align_colours_only_on_a_terminal_unless_told(flag, coloured):
    result = dedup("align", A, B, *([flag] if flag else []))
    assert bool(ANSI.search(result.stdout)) is coloured


def test_align_reads_one_text_from_stdin():
    result = dedup("align", A, "-", "--format", "json", input=Path(B).read_bytes())
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["b"] == "<stdin>" and data["only_b"] == [0]
    assert dedup("align", "-", "-").exit_code == 2


@pytest.mark.parametrize(
    "options, keywords",
    [
        (["--unit", "paragraph"], {"unit": "paragraph"}),
        (["--min-score", "0.75"], {"min_score": 0.75}),
        (
            ["--threshold", "0.3", "--attach", "0.9", "--move", "1"],
            {"threshold": 0.3, "attach": 0.9, "move": 1.0},
        ),
        (["--similarity", "fuzz"], {"similarity": "fuzz"}),
    ],
)
def test_align_options_are_the_keywords_of_the_library(options, keywords):
    texts = Path(A).read_text(encoding="utf-8"), Path(B).read_text(encoding="utf-8")
    data = json.loads(dedup("align", A, B, "--format", "json", *options).stdout)
    del data["a"], data["b"]
    assert data == align(*texts, **keywords).to_dict()
    assert data != align(*texts).to_dict()  # each of these changes the alignment of the seeds


def test_a_bad_align_option_is_a_usage_error():
    assert "--threshold" in one_line_error(dedup("align", A, B, "--threshold", "1.5"), 2)


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("missing.txt", None, "cannot read: no such file or folder"),
        ("empty.txt", b"", "empty text"),
        ("blank.txt", b" \n\t\n", "whitespace-only text"),
        ("latin1.txt", "Zürich\n".encode("latin-1"), "invalid UTF-8: byte 0xfc"),
        ("folder", "dir", "is a folder, not a text file"),
    ],
)
@pytest.mark.parametrize("side", ["A", "B"])
def test_align_bad_input_is_one_line_naming_the_file(tmp_path, name, content, reason, side):
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    out = tmp_path / "out.json"
    args = [str(path), A] if side == "A" else [A, str(path)]
    message = one_line_error(dedup("align", *args, "-o", str(out)))
    assert message.startswith(f"{path}:") and reason in message
    assert not out.exists()


def test_align_output_dash_is_stdout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = dedup("align", A, B, "--format", "json", "-o", "-")
    assert result.exit_code == 0 and json.loads(result.stdout)["a"] == A
    assert list(tmp_path.iterdir()) == []  # no file named -


def test_align_to_a_folder_that_does_not_exist_is_one_line_naming_the_file(tmp_path):
    out = tmp_path / "no" / "such" / "out.html"
    assert one_line_error(dedup("align", A, B, "-o", str(out))).startswith(f"{out}: cannot write")


# ---------------------------------------------------------------------------------------------
# dedup align DUMP ID_A ID_B, dedup align --run OUT ID_A ID_B

REP, DUP = "004_89cc63446ebde389", "000_1bdcf60ae9970c12"


def seeds_jsonl(extra: list[str] = ()) -> str:
    records = [json.dumps({"id": p.stem, "body": p.read_text()}) for p in sorted(SEEDS.glob("*.txt"))]
    return "\n".join([*extra, *records]) + "\n"


def without_names(out: str) -> dict:
    data = json.loads(out)
    for key in ("a", "b", "score"):
        data.pop(key, None)
    return data


@pytest.mark.parametrize("fmt", ["json", "md", "html", "text"])
def test_align_two_records_of_a_dump_as_two_files(tmp_path, fmt):
    dump = tmp_path / "seeds.jsonl"
    dump.write_text(seeds_jsonl())
    result = dedup("align", str(dump), DUP, REP, "--text-field", "body", "--format", fmt, "--width", "120")
    assert result.exit_code == 0, result.stderr
    files = dedup("align", A, B, "--format", fmt, "--width", "120").stdout
    if fmt == "json":
        assert without_names(result.stdout) == without_names(files)
        assert json.loads(result.stdout)["a"] == DUP
    elif fmt == "html":  # (its element ids are made from the names)
        assert f'data-a="{DUP}" data-b="{REP}"' in result.stdout
        assert result.stdout.count('data-status="linked"') == files.count('data-status="linked"') > 0
    else:  # the same view, the records named by their ids (the lines naming them aside)

        def rows(out: str) -> list[str]:
            return [line for line in out.splitlines() if not line.startswith(("A: ", "B: "))]

        assert rows(result.stdout) == rows(files.replace(A, DUP).replace(B, REP))
        assert re.search(f"A: `?{DUP}`? \\(5 paragraphs\\)", result.stdout)


def test_align_a_dump_read_as_told(tmp_path):
    dump = tmp_path / "seeds.data"
    dump.write_text(seeds_jsonl())
    args = ["align", str(dump), DUP, REP, "--text-field", "body", "--format", "json"]
    message = one_line_error(dedup(*args))  # (no format from the name)
    assert message.startswith(f"{dump}: ") and "format" in message and "--format" not in message
    result = dedup(*args, "--input-format", "jsonl")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["links"]


def test_align_a_dump_from_stdin():
    result = dedup("align", "-", DUP, REP, "--text-field", "body", "--format", "json", input=seeds_jsonl())
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["only_b"] == [0]


def test_align_a_missing_record_is_one_line_naming_the_dump_and_the_id(tmp_path):
    dump = tmp_path / "seeds.jsonl"
    dump.write_text(seeds_jsonl())
    message = one_line_error(dedup("align", str(dump), DUP, "nope", "--text-field", "body"))
    assert message == f"{dump}: no record with id 'nope'"


def test_align_a_bad_record_first_stops_unless_skipped(tmp_path):
    dump = tmp_path / "seeds.jsonl"
    dump.write_text(seeds_jsonl(extra=["{not json"]))
    message = one_line_error(dedup("align", str(dump), DUP, REP, "--text-field", "body"))
    # (a first line that is no JSON may be a file in another format: skipping is not hinted there,
    # as dedup run does not hint it)
    assert message.startswith(f"{dump}:1: malformed JSON") and "--skip-bad" not in message
    lines = seeds_jsonl().splitlines()
    later = tmp_path / "later.jsonl"
    later.write_text("\n".join([lines[0], "{not json", *lines[1:]]) + "\n")
    message = one_line_error(dedup("align", str(later), DUP, REP, "--text-field", "body"))
    assert message.startswith(f"{later}:2: malformed JSON") and message.endswith(
        "(--skip-bad skips bad records)"
    )
    result = dedup("align", str(dump), DUP, REP, "--text-field", "body", "--skip-bad")
    assert result.exit_code == 0 and result.stderr.startswith(f"warning: skipped {dump}:1: ")
    quiet = dedup("align", str(dump), DUP, REP, "--text-field", "body", "--skip-bad", "-q")
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        ([A], "give A B"),
        ([A, B, DUP, REP], "give A B"),
        (["--run", "out", A, DUP, REP], "--run OUT takes two ids"),
        ([A, B, "--id-field", "key"], "--id-field: input options go with DUMP ID_A ID_B"),
        ([A, B, "--input", A], "--input goes with --run"),
        (["--run", "out", DUP, REP, "--text-field", "body"], "--text-field: --run takes the run's own"),
    ],
)
def test_align_usage_errors(args, message):
    assert message in one_line_error(dedup("align", *args), 2)


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    assert dedup("run", str(SEEDS), "-o", str(out), "-q").exit_code == 0
    return out


def test_align_two_records_of_a_run_with_its_score(plain_run):
    result = dedup("align", "--run", str(plain_run), REP, DUP, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    recorded = json.loads((plain_run / "pairs.jsonl").read_text().splitlines()[0])
    assert (data["a"], data["b"], data["score"]) == (REP, DUP, recorded["score"])
    assert without_names(result.stdout) == without_names(dedup("align", B, A, "--format", "json").stdout)
    text = dedup("align", "--run", str(plain_run), REP, DUP, "--width", "140").stdout
    assert f"similarity: tfidf · run score: {recorded['score']:.2f}" in text


def test_align_a_run_whose_input_moved(plain_run, tmp_path):
    run = with_inputs_gone(plain_run, tmp_path)
    moved = tmp_path / "moved"
    shutil.copytree(SEEDS, moved)
    result = dedup("align", "--run", str(run), REP, DUP, "--input", str(moved), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["score"] > 0


def test_align_a_missing_record_of_a_run_names_it(plain_run):
    message = one_line_error(dedup("align", "--run", str(plain_run), REP, "nope"))
    assert message == f"{SEEDS}: no record with id 'nope'"


# ---------------------------------------------------------------------------------------------
# dedup run --report, dedup report


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    result = dedup("run", str(SEEDS), "-o", str(out), "--report")
    assert result.exit_code == 0, result.stderr
    return out


def test_run_report_writes_report_html_with_the_other_outputs(seed_run):
    assert sorted(p.name for p in seed_run.iterdir()) == [
        "clusters.jsonl", "deduplicated", "pairs.jsonl", "removed.jsonl", "report.html", "summary.json",
    ]  # fmt: skip
    summary = json.loads((seed_run / "summary.json").read_text())
    assert summary["outputs"]["report"] == "report.html"
    assert summary["input_options"]["paths"] == [str(SEEDS)]
    page = (seed_run / "report.html").read_text(encoding="utf-8")
    assert 'id="cluster-0"' in page
    assert 'data-b="000_1bdcf60ae9970c12"' in page and 'class="cluster compact"' in page
    assert no_temp_files(seed_run)


def test_run_report_from_stdin_reads_the_spooled_copy(tmp_path):
    lines = "".join(
        json.dumps({"id": p.stem, "text": p.read_text()}) + "\n" for p in sorted(SEEDS.glob("*.txt"))
    )
    out = tmp_path / "out"
    assert dedup("run", "-", "-o", str(out), "-q", "--report", input=lines).exit_code == 0
    assert 'data-b="000_1bdcf60ae9970c12"' in (out / "report.html").read_text()
    # Later, the report cannot read stdin again: it says so, and --input points at the data.
    message = one_line_error(dedup("report", str(out)))
    assert "stdin" in message and "--input" in message and "summary.json" in message
    dump = tmp_path / "seeds.jsonl"
    dump.write_text(lines)
    result = dedup("report", str(out), "--input", str(dump), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert [(r["a"], r["b"]) for r in json.loads(result.stdout)] == [
        ("004_89cc63446ebde389", "000_1bdcf60ae9970c12")
    ]


@pytest.mark.parametrize(
    "fmt, marker", [("html", "<!DOCTYPE html>"), ("md", "# dedup run report"), ("json", "[")]
)
def test_report_formats_and_atomic_output(seed_run, tmp_path, fmt, marker):
    out = tmp_path / f"report.{fmt}"
    result = dedup("report", str(seed_run), "--format", fmt, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and "\r" not in result.stderr  # no progress bar off a terminal
    assert out.read_text(encoding="utf-8").startswith(marker)
    assert [p.name for p in tmp_path.iterdir()] == [out.name] and no_temp_files(tmp_path)


def test_report_output_dash_is_stdout(seed_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = dedup("report", str(seed_run), "--format", "json", "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert [r["b"] for r in json.loads(result.stdout)] == [DUP]
    assert list(tmp_path.iterdir()) == []  # no file named -


def test_report_max_clusters_says_what_was_left_out_in_the_page_and_on_stderr(seed_run):
    result = dedup("report", str(seed_run), "--max-clusters", "0")
    assert "Showing the first 0 of 1 clusters; 1 is left out" in result.stdout
    assert result.stderr == (
        "note: the report shows the first 0 of 1 clusters; 1 is left out (raise --max-clusters to see them)\n"
    )
    assert dedup("report", str(seed_run), "--max-clusters", "0", "-q").stderr == ""
    assert dedup("report", str(seed_run)).stderr == ""  # nothing left out


@pytest.mark.parametrize("view, marker", [("compact", 'class="cluster compact"'), ("full", 'class="pair"')])
def test_report_views(seed_run, view, marker):
    page = dedup("report", str(seed_run), "--view", view).stdout
    assert marker in page and 'id="clusters"' in page


@pytest.mark.parametrize(
    "make, reason",
    [
        pytest.param(lambda d: None, "no such folder", id="missing"),
        pytest.param(
            lambda d: d.mkdir(), "not a dedup run folder (no clusters.jsonl)", id="no clusters.jsonl"
        ),
    ],
)
def test_report_on_a_folder_that_is_not_a_run_is_one_line_naming_it(tmp_path, make, reason):
    folder = tmp_path / "out"
    make(folder)
    assert one_line_error(dedup("report", str(folder))) == f"{folder}: {reason}"


def test_report_names_a_gone_input(seed_run, tmp_path):
    run = with_inputs_gone(seed_run, tmp_path)
    message = one_line_error(dedup("report", str(run)))
    assert message.startswith(f"{tmp_path / 'gone'}: input of the run not found") and "--input" in message
    assert dedup("report", str(run), "--input", str(SEEDS)).exit_code == 0


@pytest.mark.parametrize("quiet", [False, True])
def test_report_progress_shows_on_a_terminal_unless_quiet(seed_run, tmp_path, monkeypatch, quiet):
    monkeypatch.setattr(cli_show, "wants_progress", lambda quiet, stream=None: not quiet)  # as on a terminal
    result = dedup("report", str(seed_run), "-o", str(tmp_path / "r.html"), *(["-q"] if quiet else []))
    assert result.exit_code == 0
    if quiet:
        assert result.stderr == ""
    else:
        assert "read" in result.stderr and "align" in result.stderr
