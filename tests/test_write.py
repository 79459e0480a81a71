"""Writing outputs: atomic files, and the deduplicated dump in the inputs' own format."""

import csv
import gzip
import io
import json
import os
import sys

import pytest
from conftest import nameless_files, read_jsonl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup import InputError
from dedup.io.read import Inputs
from dedup.io.write import atomic_write, write_deduplicated, write_json, write_jsonl


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("compress", [False, True])
def test_atomic_write_text_is_utf8_with_unix_newlines(tmp_path, compress):
    path = tmp_path / "out.txt"
    with atomic_write(path, compress=compress) as f:
        f.write("Zürich\nΑθήνα\n")
    data = path.read_bytes()
    assert (gzip.decompress(data) if compress else data) == "Zürich\nΑθήνα\n".encode()
    assert listing(tmp_path) == ["out.txt"]


def test_atomic_write_bytes(tmp_path):
    with atomic_write(tmp_path / "out.bin", mode="wb") as f:
        f.write(b"\x00\xff")
    assert (tmp_path / "out.bin").read_bytes() == b"\x00\xff"


def test_atomic_write_writes_a_file_with_no_name_until_done(tmp_path):
    """A file being written has no name (O_TMPFILE): a killed writer leaves nothing."""
    if not nameless_files(tmp_path):
        pytest.skip(
            "platform: this file system makes no file without a name (O_TMPFILE); the fallback is "
            "tested below"
        )
    path = tmp_path / "out.jsonl"
    with atomic_write(path) as f:
        f.write("partial")
        f.flush()
        assert listing(tmp_path) == []
    assert listing(tmp_path) == ["out.jsonl"]
    assert path.read_text() == "partial"


def test_atomic_write_falls_back_to_a_hidden_temp_file(tmp_path, monkeypatch):
    """Where files cannot be made without a name, a hidden temporary file stands in."""
    monkeypatch.delattr(os, "O_TMPFILE")
    path = tmp_path / "out.jsonl"
    with atomic_write(path) as f:
        f.write("partial")
        f.flush()
        [temp] = listing(tmp_path)
        assert temp.startswith(".out.jsonl.") and temp.endswith(".tmp")
        assert not path.exists()
    assert listing(tmp_path) == ["out.jsonl"]


def test_atomic_write_file_mode_follows_the_umask_like_open(tmp_path):
    with open(tmp_path / "plain", "w"):
        pass
    with atomic_write(tmp_path / "atomic"):
        pass
    assert (tmp_path / "atomic").stat().st_mode == (tmp_path / "plain").stat().st_mode


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("mode", ["w", "wb"])
@pytest.mark.parametrize("existing", [None, b"older results\n"])
def test_an_interrupted_write_leaves_no_file_and_the_old_one_intact(
    tmp_path, error, compress, mode, existing
):
    path = tmp_path / "pairs.jsonl"
    if existing is not None:
        path.write_bytes(existing)
    with pytest.raises(error), atomic_write(path, mode=mode, compress=compress) as f:
        f.write("new\n" if mode == "w" else b"new\n")
        raise error("stopped midway")
    assert listing(tmp_path) == ([] if existing is None else ["pairs.jsonl"])  # no temp file left
    if existing is not None:
        assert path.read_bytes() == existing


def test_atomic_write_rejects_an_unknown_mode(tmp_path):
    with pytest.raises(ValueError, match="mode must be"), atomic_write(tmp_path / "x", mode="a"):
        pass
    assert listing(tmp_path) == []


@pytest.mark.parametrize("compress", [False, True])
def test_write_jsonl_counts_and_keeps_non_ascii(tmp_path, compress):
    path = tmp_path / "rows.jsonl"
    rows = [{"a": "Zürich", "n": 1}, {"b": [None, True, 0.5]}]
    assert write_jsonl(path, iter(rows), compress=compress) == 2
    data = path.read_bytes()
    text = (gzip.decompress(data) if compress else data).decode("utf-8")
    assert text == '{"a": "Zürich", "n": 1}\n{"b": [null, true, 0.5]}\n'


def test_write_jsonl_escapes_lone_surrogates_that_utf8_cannot_hold(tmp_path):
    path = tmp_path / "rows.jsonl"
    write_jsonl(path, [{"a": "Zürich \ud83d"}])
    assert path.read_text("utf-8") == '{"a": "Z\\u00fcrich \\ud83d"}\n'
    assert json.loads(path.read_text("utf-8")) == {"a": "Zürich \ud83d"}


def test_write_jsonl_that_fails_midway_writes_nothing(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text("older\n")
    with pytest.raises(TypeError):
        write_jsonl(path, [{"ok": 1}, {"not json": object()}])
    assert listing(tmp_path) == ["rows.jsonl"] and path.read_text() == "older\n"


def test_write_json_is_pretty_with_a_trailing_newline(tmp_path):
    write_json(tmp_path / "summary.json", {"kept": 2, "city": "Zürich"})
    assert (tmp_path / "summary.json").read_text("utf-8") == '{\n  "kept": 2,\n  "city": "Zürich"\n}\n'


# --- the deduplicated dump ---

ROWS = [
    {"id": "a", "text": "Story A.", "lang": "en", "tags": ["x"]},
    {"score": 0.5, "id": 2, "text": "Story B, a rewrite of A."},
    {"id": "c", "text": "Story C: Zürich «quoted»", "meta": {"k": None}},
]


def jsonl(rows):
    return "".join(json.dumps(r, ensure_ascii=True) + "\n" for r in rows)


@pytest.mark.parametrize("gz", ["", ".gz"])
def test_deduplicated_jsonl_re_emits_kept_records_unchanged(make, tmp_path, gz):
    source = make(f"news.jsonl{gz}", jsonl(ROWS))
    with Inputs([source]) as inputs:
        path = write_deduplicated(inputs, tmp_path / "out", {"2"})
    assert path == tmp_path / "out" / f"deduplicated.jsonl{gz}"
    assert read_jsonl(path) == [ROWS[0], ROWS[2]]
    assert [list(r) for r in read_jsonl(path)] == [list(ROWS[0]), list(ROWS[2])]  # field order kept
    raw = gzip.decompress(path.read_bytes()) if gz else path.read_bytes()
    assert "Zürich «quoted»".encode() in raw  # not \u-escaped


CSV_TEXT = 'id,text,lang\r\na,Story A.,en\r\nb,"Story B,\r\nrewritten ""A"".",en\r\nc,Story C.,de\r\n'


@pytest.mark.parametrize("gz", ["", ".gz"])
def test_deduplicated_csv_keeps_the_header_and_field_order(make, tmp_path, gz):
    source = make(f"news.csv{gz}", CSV_TEXT)
    with Inputs([source]) as inputs:
        path = write_deduplicated(inputs, tmp_path, ["c"])
    assert path == tmp_path / f"deduplicated.csv{gz}"
    text = (gzip.decompress(path.read_bytes()) if gz else path.read_bytes()).decode("utf-8")
    assert text == 'id,text,lang\r\na,Story A.,en\r\nb,"Story B,\r\nrewritten ""A"".",en\r\n'


def test_deduplicated_csv_with_differing_headers_has_their_union(make, tmp_path):
    first = make("a.csv", "id,text,lang\na,Story A.,en\n")
    second = make("b.csv", "text,id,source\nStory B.,b,wire\n")
    with Inputs([first, second]) as inputs:
        path = write_deduplicated(inputs, tmp_path, set())
    assert path.read_text() == "id,text,lang,source\na,Story A.,en,\nb,Story B.,,wire\n"


def test_deduplicated_txt_is_a_folder_of_the_kept_files_as_stored(make, tmp_path):
    make("news/a.txt", "\ufeffStory A.\r\n")
    make("news/b.txt.gz", "Story B.")
    make("news/c.txt", "Story C.")
    make("news/d.txt.gz", "Story D.")
    with Inputs([str(tmp_path / "news")]) as inputs:
        path = write_deduplicated(inputs, tmp_path / "out", {"c"})
    assert path == tmp_path / "out" / "deduplicated"
    assert listing(path) == ["a.txt", "b.txt.gz", "d.txt.gz"]
    for name in listing(path):
        assert (path / name).read_bytes() == (tmp_path / "news" / name).read_bytes()
    assert listing(tmp_path / "out") == ["deduplicated"]  # no temp folder left


def test_deduplicated_txt_folder_replaces_an_older_one(make, tmp_path):
    make("news/a.txt", "Story A.")
    old = tmp_path / "out" / "deduplicated"
    old.mkdir(parents=True)
    (old / "stale.txt").write_text("from an older run")
    with Inputs([str(tmp_path / "news")]) as inputs:
        write_deduplicated(inputs, tmp_path / "out", set())
    assert listing(old) == ["a.txt"]
    assert listing(tmp_path / "out") == ["deduplicated"]


def test_mixed_formats_become_jsonl(make, tmp_path):
    source_jsonl = make("a.jsonl", jsonl(ROWS[:2]))
    source_csv = make("b.csv", "id,text,lang\nc,Story C.,de\n")
    make("news/d.txt", "Story D.")
    with Inputs([source_jsonl, source_csv, str(tmp_path / "news")]) as inputs:
        path = write_deduplicated(inputs, tmp_path / "out", {"a"})
    assert path.name == "deduplicated.jsonl"
    assert read_jsonl(path) == [
        ROWS[1],
        {"id": "c", "text": "Story C.", "lang": "de"},
        {"id": "d", "text": "Story D."},
    ]


def test_mixed_formats_use_the_configured_field_names(make, tmp_path):
    source_jsonl = make("a.jsonl", '{"doc": "a", "body": "Story A."}\n')
    make("news/b.txt", "Story B.")
    with Inputs([source_jsonl, str(tmp_path / "news")], id_field="doc", text_field="body") as inputs:
        path = write_deduplicated(inputs, tmp_path, set())
    assert read_jsonl(path) == [{"doc": "a", "body": "Story A."}, {"doc": "b", "body": "Story B."}]


def test_bad_records_are_reported_and_not_written(make, tmp_path):
    source = make("a.jsonl", jsonl(ROWS[:1]) + "not json\n" + jsonl(ROWS[:1]) + jsonl(ROWS[2:]))
    errors = []
    with Inputs([source]) as inputs:
        path = write_deduplicated(inputs, tmp_path, [], on_bad=errors.append)
    assert read_jsonl(path) == [ROWS[0], ROWS[2]]  # the duplicate id is not written twice
    assert [str(e) for e in errors] == [
        f"{source}:2: malformed JSON at column 1: Expecting value",
        f"{source}:3: duplicate id 'a' (first seen at {source}:1)",
    ]


@pytest.mark.parametrize("fmt", ["jsonl", "txt"])
def test_without_on_bad_a_bad_record_stops_and_nothing_is_written(make, tmp_path, fmt):
    if fmt == "jsonl":
        source = make("a.jsonl", jsonl(ROWS[:1]) + '{"id": "b"}\n')
        target = tmp_path / "out" / "deduplicated.jsonl"
        target.parent.mkdir()
        target.write_text("older\n")
    else:
        make("news/a.txt", "Story A.")
        make("news/b.txt", b"\xff")
        source = str(tmp_path / "news")
        target = tmp_path / "out" / "deduplicated"
        target.mkdir(parents=True)
        (target / "older.txt").write_text("older\n")
    with Inputs([source]) as inputs, pytest.raises(InputError):
        write_deduplicated(inputs, tmp_path / "out", set())
    assert listing(tmp_path / "out") == [target.name]  # no temp file or folder left
    assert (target.read_text() if fmt == "jsonl" else listing(target)) == (
        "older\n" if fmt == "jsonl" else ["older.txt"]
    )


def test_stdin_is_re_read_for_the_deduplicated_output(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(jsonl(ROWS).encode())))
    with Inputs(["-"]) as inputs:
        assert [a.id for a in inputs.articles()] == ["a", "2", "c"]
        path = write_deduplicated(inputs, tmp_path, {"a"})
    assert read_jsonl(path) == ROWS[1:]


# --- round trips of arbitrary text through read → write → read ---

texts = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=40).filter(str.strip)
# (any character but a NUL, which an id may not hold: see test_read's NUL test)
ids = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1, max_size=10
)
records = st.dictionaries(ids, texts, min_size=1, max_size=6)
ROUND_TRIP = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def write_source(tmp_path, fmt, rows):
    """Write (id, text) rows as a JSONL or CSV input the way other tools would."""
    path = tmp_path / f"in.{fmt}"
    if fmt == "jsonl":
        path.write_text(
            "".join(json.dumps({"id": i, "text": t, "n": k}) + "\n" for k, (i, t) in enumerate(rows))
        )
    else:
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["id", "text", "n"])
            writer.writerows([i, t, str(k)] for k, (i, t) in enumerate(rows))
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@given(data=records, dropped=st.sets(ids, max_size=3))
@ROUND_TRIP
def test_round_trip_of_arbitrary_unicode(tmp_path_factory, fmt, data, dropped):
    tmp_path = tmp_path_factory.mktemp("rt")
    rows = list(data.items())
    source = write_source(tmp_path, fmt, rows)
    with Inputs([str(source)]) as inputs:
        assert [(a.id, a.text) for a in inputs.articles()] == rows
        path = write_deduplicated(inputs, tmp_path / "out", dropped)
    assert path.name == f"deduplicated.{fmt}"
    with Inputs([str(path)]) as again:
        kept = [(a.id, a.text, a.fields) for a in again.articles()]
    n = str if fmt == "csv" else int
    assert kept == [(i, t, {"n": n(k)}) for k, (i, t) in enumerate(rows) if i not in dropped]
    assert os.listdir(tmp_path / "out") == [path.name]
