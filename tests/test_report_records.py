"""Two records of a dump or of a run, aligned from the library: ``align_records`` and
``align_run_records`` find them by id in one pass, without extracting them first."""

import gzip
import json
from pathlib import Path

import pytest
from conftest import seed_texts, with_inputs_gone

from dedup import align
from dedup.io.article import InputError
from dedup.io.read import Inputs
from dedup.report.build import ReportError
from dedup.report.records import align_records, align_run_records, find_records

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
REP, DUP = "004_89cc63446ebde389", "000_1bdcf60ae9970c12"  # the seed cluster: kept, duplicate


@pytest.fixture
def dump(tmp_path) -> Path:
    """The seeds as one gzipped JSONL dump, with the cluster's two records in the middle."""
    path = tmp_path / "seeds.jsonl.gz"
    lines = [json.dumps({"id": k, "text": t, "site": "x"}) for k, t in seed_texts().items()]
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return path


def test_two_records_of_a_dump_align_as_their_texts_do(dump):
    texts = seed_texts()
    pair = align_records(dump, DUP, REP)
    assert (pair.a, pair.b, pair.score) == (DUP, REP, None)
    assert pair.alignment == align(texts[DUP], texts[REP])
    assert pair.alignment.languages == ("en", "en") and pair.alignment.similarity == "tfidf"


def test_align_options_reach_the_aligner(dump):
    texts = seed_texts()
    pair = align_records([dump], DUP, REP, unit="paragraph", min_score=0.5)
    assert pair.alignment == align(texts[DUP], texts[REP], unit="paragraph", min_score=0.5)
    with pytest.raises(ValueError, match="unit"):
        align_records(dump, DUP, REP, unit="word")


def test_the_pass_stops_once_both_records_are_found(tmp_path):
    """A malformed line after the two records is never read; one before them is an error."""
    texts = seed_texts()
    good = [json.dumps({"id": k, "text": texts[k]}) for k in (DUP, REP)]
    after = tmp_path / "after.jsonl"
    after.write_text("\n".join([*good, "{not json"]) + "\n")
    assert align_records(after, DUP, REP).alignment.links
    before = tmp_path / "before.jsonl"
    before.write_text("\n".join(["{not json", *good]) + "\n")
    with pytest.raises(InputError, match=rf"^{before}:1: "):
        align_records(before, DUP, REP)
    skipped = []
    assert align_records(before, DUP, REP, on_bad=skipped.append).alignment.links
    assert [err.line for err in skipped] == [1]


@pytest.mark.parametrize(
    "ids, message",
    [
        ((DUP, "nope"), "no record with id 'nope'"),
        (("nope", "gone"), "no record with id 'nope' (nor 'gone')"),
    ],
)
def test_a_missing_id_is_one_line_naming_the_dump_and_the_id(dump, ids, message):
    with pytest.raises(ReportError) as err:
        align_records(dump, *ids)
    assert str(err.value) == f"{dump}: {message}"


def test_any_input_format_with_its_fields(tmp_path):
    import csv

    texts = seed_texts()
    path = tmp_path / "seeds.data"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["key", "body"])
        writer.writerows(texts.items())
    pair = align_records(path, REP, DUP, input_format="csv", id_field="key", text_field="body")
    assert pair.alignment == align(texts[REP], texts[DUP])
    assert align_records(SEEDS, REP, DUP).alignment == pair.alignment  # a folder of .txt files


def test_find_records_reads_an_open_inputs(dump):
    with Inputs([dump]) as inputs:
        found = find_records(inputs, [REP, DUP])
    assert {k: a.text for k, a in found.items()} == {k: seed_texts()[k] for k in (REP, DUP)}


def test_two_records_of_a_run_come_with_the_runs_score(seed_run):
    score = json.loads((seed_run / "pairs.jsonl").read_text().splitlines()[0])["score"]
    pair = align_run_records(seed_run, REP, DUP)
    assert pair.score == score
    assert pair.alignment == align(seed_texts()[REP], seed_texts()[DUP])
    other = align_run_records(seed_run, REP, "001_5966cff20377aa69")
    assert other.score is None  # a pair the run did not verify


def test_a_run_whose_inputs_are_gone_is_read_from_what_it_wrote(seed_run, tmp_path):
    run = with_inputs_gone(seed_run, tmp_path)
    kept = [p.stem for p in sorted((run / "deduplicated").iterdir())]
    pair = align_run_records(run, kept[0], kept[1])
    assert pair.alignment == align(seed_texts()[kept[0]], seed_texts()[kept[1]])
    if list(run.glob("removed.*")) or list(run.glob("annotated.*")):  # the dropped records are there too
        assert align_run_records(run, REP, DUP).score is not None
    else:  # the kept records only: the duplicate is not among them
        with pytest.raises(ReportError, match=f"no record with id '{DUP}'.*--input"):
            align_run_records(run, REP, DUP)
    assert align_run_records(run, REP, DUP, inputs=[SEEDS]).score is not None


def test_a_folder_that_is_not_a_run_is_one_line(tmp_path):
    with pytest.raises(ReportError, match=rf"^{tmp_path}: not a dedup run folder"):
        align_run_records(tmp_path, REP, DUP)


def test_a_folder_of_tsv_shards_read_recursively_from_the_api(tmp_path):
    """align_records reads what dedup run reads: shards in subfolders, a delimiter."""
    import csv

    texts = {p.stem: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}
    ids = sorted(texts)
    for k, chunk in enumerate((ids[:2], ids[2:])):
        (tmp_path / "shards" / f"day={k}").mkdir(parents=True)
        with open(tmp_path / "shards" / f"day={k}" / "part-0.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, delimiter=";")
            w.writerow(["id", "text"])
            w.writerows([(i, texts[i]) for i in chunk])
    pair = align_records(tmp_path / "shards", ids[0], ids[-1], recursive=True, delimiter=";")
    assert (pair.a, pair.b) == (ids[0], ids[-1])
    with pytest.raises(InputError, match="no input files in this folder"):
        align_records(tmp_path / "shards", ids[0], ids[-1], delimiter=";")
