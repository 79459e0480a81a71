"""Reading inputs: every format plain and gzipped, stdin, and a clear error for every bad record."""

import gzip
import io
import json
import os
import re
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from conftest import read, read_skipping

from dedup import InputError
from dedup.io.article import InputChangedError
from dedup.io.read import Inputs

JSONL = '{"id": "a", "text": "First story."}\n\n{"id": 7, "text": "Second story.", "lang": "de"}\n'
CSV = 'id,text,lang\na,First story.,en\n7,"Second\nstory.",de\n'
EXPECTED = {
    "jsonl": [("a", "First story.", {}), ("7", "Second story.", {"lang": "de"})],
    "csv": [("a", "First story.", {"lang": "en"}), ("7", "Second\nstory.", {"lang": "de"})],
}


@pytest.mark.parametrize("gz", ["", ".gz"])
@pytest.mark.parametrize(("suffix", "content", "expected"), [
    (".jsonl", JSONL, EXPECTED["jsonl"]),
    (".ndjson", JSONL, EXPECTED["jsonl"]),
    (".csv", CSV, EXPECTED["csv"]),
])  # fmt: skip
def test_dumps_plain_and_gzipped(make, suffix, content, expected, gz):
    path = make("dump" + suffix + gz, content)
    assert read([path]) == expected
    with Inputs([path]) as inputs:
        assert inputs.format == suffix.lstrip(".").replace("ndjson", "jsonl")
        assert inputs.compressed is bool(gz)


def test_lines_are_numbered_in_the_file(make):
    jsonl = make("a.jsonl", JSONL)
    csv_ = make("b.csv", CSV)
    with Inputs([jsonl]) as inputs:  # blank lines count
        assert [(a.source, a.line) for a in inputs.articles()] == [(jsonl, 1), (jsonl, 3)]
    with Inputs([csv_]) as inputs:  # a CSV record's line is its first one; the header is line 1
        assert [(a.source, a.line) for a in inputs.articles()] == [(csv_, 2), (csv_, 3)]


@pytest.mark.parametrize("gz", ["", ".gz"])
def test_a_folder_is_its_txt_files_sorted_by_name(make, tmp_path, gz):
    make(f"news/b.txt{gz}", "Story B.\n")
    make("news/a.txt", "Story A.")
    make("news/c.TXT", "Story C.")
    make("news/.hidden.txt", "not read")
    make("news/notes.md", "not read")
    make("news/sub/d.txt", "not read: folders are not recursive")
    folder = str(tmp_path / "news")
    with Inputs([folder]) as inputs:
        articles = list(inputs.articles())
        assert inputs.format == "txt"
        assert inputs.compressed is False
    assert [(a.id, a.text, a.source, a.line) for a in articles] == [
        ("a", "Story A.", os.path.join(folder, "a.txt"), 0),
        ("b", "Story B.\n", os.path.join(folder, f"b.txt{gz}"), 0),
        ("c", "Story C.", os.path.join(folder, "c.TXT"), 0),
    ]


@pytest.mark.parametrize("name", ["story.txt", "story.txt.gz"])
def test_a_single_txt_file_is_one_article(make, name):
    assert read([make(name, "One story.\nTwo lines.")]) == [("story", "One story.\nTwo lines.", {})]


@pytest.mark.parametrize(("name", "content"), [
    ("a.txt", b"\xef\xbb\xbfStory."),
    ("a.jsonl", b'\xef\xbb\xbf{"id": "a", "text": "Story."}\n'),
    ("a.csv", b"\xef\xbb\xbfid,text\na,Story.\n"),
])  # fmt: skip
def test_a_utf8_bom_is_stripped(make, name, content):
    assert read([make(name, content)]) == [("a", "Story.", {})]


def test_gzip_is_recognised_by_content_even_without_the_suffix(make, tmp_path):
    path = tmp_path / "packed.jsonl"
    path.write_bytes(gzip.compress(JSONL.encode()))
    assert read([str(path)]) == EXPECTED["jsonl"]
    with Inputs([str(path)]) as inputs:
        assert inputs.compressed is True


def test_compressed_only_when_every_input_is_gzipped(make):
    with Inputs([make("a.jsonl.gz", JSONL), make("b.csv.gz", CSV)]) as inputs:
        assert (inputs.format, inputs.compressed) == ("jsonl", True)  # mixed formats: JSONL
    with Inputs([make("c.jsonl.gz", JSONL), make("d.jsonl", JSONL)]) as inputs:
        assert (inputs.format, inputs.compressed) == ("jsonl", False)


def test_id_and_text_fields_are_configurable_and_other_fields_are_carried(make):
    rows = [
        {"doc": 12, "id": "other", "body": "A story.", "tags": ["x", "y"], "score": 0.5, "meta": None},
        {"doc": "b", "body": "B story.", "nested": {"k": [1, {"z": True}]}},
    ]
    path = make("a.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    assert read([path], id_field="doc", text_field="body") == [
        ("12", "A story.", {"id": "other", "tags": ["x", "y"], "score": 0.5, "meta": None}),
        ("b", "B story.", {"nested": {"k": [1, {"z": True}]}}),
    ]
    csv_ = make("a.csv", "body,doc,id\nA story.,12,other\n")
    assert read([csv_], id_field="doc", text_field="body") == [("12", "A story.", {"id": "other"})]


def test_input_format_overrides_the_extension(make):
    path = make("export.log", JSONL)
    assert read([path], input_format="jsonl") == EXPECTED["jsonl"]
    assert read([make("export.dat", CSV)], input_format="csv") == EXPECTED["csv"]
    assert read([make("notes.md", "A note.")], input_format="txt") == [("notes.md", "A note.", {})]
    with pytest.raises(InputError, match=r"export\.log: cannot tell the format"):
        Inputs([path])


def test_long_csv_fields_are_read(make):
    text = "word " * 100_000  # 500 kB, beyond the csv module's default field limit
    assert read([make("long.csv", f"id,text\na,{text}\n")]) == [("a", text, {})]


@pytest.fixture
def stdin(monkeypatch):
    """Replace stdin with the given bytes, the way a pipe delivers them."""

    def feed(data: bytes) -> None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))

    return feed


@pytest.mark.parametrize("compress", [False, True])
def test_stdin_is_jsonl_and_can_be_read_twice(stdin, compress):
    data = JSONL.encode()
    stdin(gzip.compress(data) if compress else data)
    with Inputs(["-"]) as inputs:
        first = [(a.id, a.text, a.fields) for a in inputs.articles()]
        second = [(a.id, a.text, a.fields) for a in inputs.articles()]
        assert inputs.compressed is compress
        spool = inputs._spools["-"]
        assert os.path.exists(spool) and spool.startswith("/proc/self/fd/")  # (a copy with no name)
        assert not list(Path(tempfile.gettempdir()).glob("dedup-input-*"))
        assert [a.source for a in inputs.articles()] == ["<stdin>", "<stdin>"]
    assert first == second == EXPECTED["jsonl"]
    assert inputs._spooled == []  # released on close
    with pytest.raises(ValueError, match="closed"):
        list(inputs.articles())


def test_stdin_errors_name_stdin(stdin):
    stdin(b'{"id": "a", "text": "ok"}\nnot json\n')
    with (
        Inputs(["-"]) as inputs,
        pytest.raises(InputError, match=r"^<stdin>:2: malformed JSON at column 1: Expecting value$"),
    ):
        list(inputs.articles())


# Each bad record sits between two good ones: reported with its file and line, and the
# good ones still come through when reading on.
GOOD_A = '{"id": "a", "text": "Good A."}\n'
GOOD_Z = '{"id": "z", "text": "Good Z."}\n'


@pytest.mark.parametrize(("bad", "reason"), [
    (b'{"id": "b", "text": "caf\xe9"}', "invalid UTF-8: byte 0xe9 at offset 24 of the line"),
    (b'{"id": "b", "text": "unterminated}', "malformed JSON at column 21: Unterminated string"),
    (b'{"id": "b" "text": "x"}', "malformed JSON at column 12: Expecting ',' delimiter"),
    (b'["b", "text"]', "a JSON line must be an object, not an array"),
    (b'"just a string"', "a JSON line must be an object, not a string"),
    (b'{"text": "No id."}', "missing id field 'id' (its fields: 'text'; --id-field names another)"),
    (b'{"id": "b", "body": "x"}',
     "missing text field 'text' (its fields: 'id', 'body'; --text-field names another)"),
    (b'{"id": "b", "text": 42}', "text field 'text' must be a string, not a number"),
    (b'{"id": "b", "text": null}', "text field 'text' must be a string, not null"),
    (b'{"id": "b", "text": ""}', "empty text (field 'text')"),
    (b'{"id": "b", "text": " \\n\\t "}', "whitespace-only text (field 'text')"),
    (b'{"id": true, "text": "x"}', "id field 'id' must be a string or a number, not a boolean"),
    (b'{"id": ["b"], "text": "x"}', "id field 'id' must be a string or a number, not an array"),
    (b'{"id": "", "text": "x"}', "empty id (field 'id')"),
    (b'{"id": "b", "text": "half \\ud83d emoji"}',
     "field 'text' is not valid Unicode: lone surrogate \\ud83d at character 5"),
])  # fmt: skip
@pytest.mark.parametrize("gz", ["", ".gz"])
def test_bad_jsonl_records(make, bad, reason, gz):
    path = make(f"dump.jsonl{gz}", GOOD_A.encode() + bad + b"\n" + GOOD_Z.encode())
    with pytest.raises(InputError) as caught:
        read([path])
    assert str(caught.value) == f"{path}:2: {reason}"
    assert (caught.value.source, caught.value.line) == (path, 2)
    ids, errors = read_skipping([path])
    assert ids == ["a", "z"]
    assert errors == [f"{path}:2: {reason}"]


@pytest.mark.parametrize(("bad", "line", "reason"), [
    (b"b,x", 3, "2 fields, but the header has 3"),
    (b"b,x,en,extra", 3, "4 fields, but the header has 3"),
    (b"b,caf\xe9,fr", 3, "invalid UTF-8: byte 0xe9 at offset 5 of the line"),
    (b'b,"two\nline caf\xe9",fr', 4, "invalid UTF-8: byte 0xe9 at offset 8 of the line"),
    (b",No id.,en", 3, "empty id (field 'id')"),
    (b"b,,en", 3, "empty text (field 'text')"),
    (b"b,   ,en", 3, "whitespace-only text (field 'text')"),
    (b'b,"quoted"junk,en', 3, "malformed CSV: ',' expected after '\"'"),
])  # fmt: skip
@pytest.mark.parametrize("gz", ["", ".gz"])
def test_bad_csv_records(make, bad, line, reason, gz):
    data = b"id,text,lang\na,Good A.,en\n" + bad + b"\nz,Good Z.,en\n"
    path = make(f"dump.csv{gz}", data)
    with pytest.raises(InputError) as caught:
        read([path])
    assert str(caught.value) == f"{path}:{line}: {reason}"
    ids, errors = read_skipping([path])
    assert ids == ["a", "z"]
    assert errors == [f"{path}:{line}: {reason}"]


@pytest.mark.parametrize(("content", "where", "reason"), [
    (b"Line one.\nCaf\xe9.", ":2", "invalid UTF-8: byte 0xe9 at offset 13 of the file"),
    (b"\xef\xbb\xbf\xff", ":1", "invalid UTF-8: byte 0xff at offset 3 of the file"),
    (b"", "", "empty text"),
    (b" \n\t\n", "", "whitespace-only text"),
])  # fmt: skip
def test_bad_txt_files(make, tmp_path, content, where, reason):
    make("news/a.txt", "Good A.")
    bad = make("news/b.txt", content)
    make("news/c.txt.gz", "Good C.")
    folder = str(tmp_path / "news")
    with pytest.raises(InputError) as caught:
        read([folder])
    assert str(caught.value) == f"{bad}{where}: {reason}"
    assert read_skipping([folder]) == (["a", "c"], [f"{bad}{where}: {reason}"])


# (mtime=0: the bytes, and so the test ids, must not depend on the second each xdist worker
# collects them in; two workers that disagree on the ids stop the whole run)
def truncated_gzip(data: bytes) -> bytes:
    packed = gzip.compress(data, mtime=0)
    return packed[: len(packed) // 2]


def corrupt_gzip(data: bytes) -> bytes:
    packed = bytearray(gzip.compress(data, mtime=0))
    packed[10:20] = b"\xff" * 10  # the first deflate block header: an invalid block type
    return bytes(packed)


MANY_CSV = "id,text\n" + "".join(f"n{i},Story number {i}.\n" for i in range(3000))
MANY = "".join(json.dumps({"id": f"n{i}", "text": f"Story number {i}."}) + "\n" for i in range(3000))


@pytest.mark.parametrize(("name", "content", "where", "reason"), [
    ("missing.jsonl", None, "", "cannot read: no such file or folder"),
    ("missing", None, "", "no such file or folder"),
    ("unknown.xml", b"<a/>", "", "cannot tell the format"),
    ("empty", "folder", "", "no input files in this folder (--recursive reads subfolders): expected .jsonl"),
    ("plain.jsonl.gz", GOOD_A.encode(), "", "named .gz but not gzip-compressed"),
    ("plain.csv.gz", b"id,text\na,b\n", "", "named .gz but not gzip-compressed"),
    ("plain.txt.gz", b"Story.", "", "named .gz but not gzip-compressed"),
    ("cut.jsonl", truncated_gzip(MANY.encode()), ":", "truncated gzip file"),
    ("cut.csv", truncated_gzip(MANY_CSV.encode()), ":", "truncated gzip file"),
    ("cut.txt", truncated_gzip(b"Story."), "", "truncated gzip file"),
    ("bad.jsonl", corrupt_gzip(MANY.encode()), ":1", "corrupt gzip data"),
    ("bad.txt", corrupt_gzip(b"Story."), "", "corrupt gzip data"),
    ("empty.csv", b"", "", "empty CSV file: no header row"),
    ("noid.csv", b"key,text\na,b\n", ":1",
     "no id column 'id' in the header (columns: 'key', 'text'; --id-field names another)"),
    ("notext.csv", b"id,body\na,b\n", ":1", "no text column 'text' in the header"),
    ("twice.csv", b"id,text,id\na,b,c\n", ":1", "column 'id' appears twice in the header"),
    ("header.csv", b"id,t\xe9xt\na,b\n", ":1", "CSV header: invalid UTF-8: byte 0xe9 at offset 4"),
])  # fmt: skip
def test_whole_file_errors_skip_the_file_and_go_on(make, tmp_path, name, content, where, reason):
    good = make("good.jsonl", GOOD_A)
    path = str(tmp_path / name)
    if content == "folder":
        make(f"{name}/readme.md", "no txt here")
    elif content is not None:
        (tmp_path / name).write_bytes(content)  # as given: not gzipped by its name
    if name in ("missing", "unknown.xml"):  # no format to read it in: caught up front
        with pytest.raises(InputError, match=f"^{path}: {reason}"):
            Inputs([path, good])
        return
    with pytest.raises(InputError) as caught:
        read([path, good])
    message = str(caught.value)
    assert message.startswith(f"{path}{where}") and reason in message
    assert "\n" not in message
    ids, errors = read_skipping([path, good])
    assert ids[-1] == "a"  # the next file is still read
    assert errors[-1] == message  # reported once, the rest of the file skipped


def test_a_truncated_gzip_yields_the_records_before_the_cut(make):
    path = make("cut.jsonl", truncated_gzip(MANY.encode()))
    ids, errors = read_skipping([path])
    assert 100 < len(ids) < 3000 and ids == [f"n{i}" for i in range(len(ids))]
    assert errors == [f"{path}:{len(ids) + 1}: truncated gzip file: the compressed data ends early "
                      "(the rest of the file cannot be read)"]  # fmt: skip


def test_reading_streams_records_before_a_later_error(make):
    path = make("dump.jsonl", GOOD_A + "not json\n")
    articles = Inputs([path]).articles()
    assert next(articles).id == "a"  # yielded before the bad line is read
    with pytest.raises(InputError, match=":2: malformed JSON at column 1"):
        next(articles)


def test_duplicate_ids_name_where_the_first_was_seen(make):
    a = make("a.jsonl", GOOD_A + '{"id": "x", "text": "First x."}\n')
    b = make("b.jsonl", '{"id": "y", "text": "Y."}\n\n{"id": "x", "text": "Second x."}\n')
    with pytest.raises(InputError) as caught:
        read([a, b])
    assert str(caught.value) == f"{b}:3: duplicate id 'x' (first seen at {a}:2)"
    errors = []
    with Inputs([a, b]) as inputs:
        kept = [(x.id, x.text) for x in inputs.articles(errors.append)]
    assert kept == [("a", "Good A."), ("x", "First x."), ("y", "Y.")]  # the first one is kept
    assert [str(e) for e in errors] == [f"{b}:3: duplicate id 'x' (first seen at {a}:2)"]


def test_duplicate_ids_across_formats_and_folders(make, tmp_path):
    first = make("one/story.txt", "Story.")
    second = make("two/story.txt.gz", "Story again.")
    csv_ = make("c.csv", "id,text\nstory,Story in CSV.\n7,Seven.\n")
    jsonl = make("d.jsonl", '{"id": 7, "text": "Seven as a number."}\n')
    ids, errors = read_skipping([str(tmp_path / "one"), str(tmp_path / "two"), csv_, jsonl])
    assert ids == ["story", "7"]
    assert errors == [
        f"{second}: duplicate id 'story' (first seen at {first})",
        f"{csv_}:2: duplicate id 'story' (first seen at {first})",
        f"{jsonl}:1: duplicate id '7' (first seen at {csv_}:3)",
    ]


def test_each_pass_checks_duplicates_afresh(make):
    path = make("a.jsonl", JSONL)
    with Inputs([path]) as inputs:
        assert [a.id for a in inputs.articles()] == [a.id for a in inputs.articles()] == ["a", "7"]


@pytest.mark.parametrize(("args", "kwargs", "error", "message"), [
    ("news.jsonl", {}, TypeError, "did you mean"),
    ([], {}, ValueError, "no inputs"),
    (["a.jsonl"], {"input_format": "xml"}, ValueError, "input_format must be one of"),
    (["a.jsonl"], {"id_field": "x", "text_field": "x"}, ValueError, "two different non-empty names"),
    (["a.jsonl"], {"id_field": ""}, ValueError, "two different non-empty names"),
    (["-", "-"], {}, InputError, "stdin .* can be read only once"),
    (["-"], {"input_format": "txt"}, InputError, "stdin can be read as jsonl or csv"),
])  # fmt: skip
def test_misuse_is_caught_up_front(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        Inputs(args, **kwargs)


# An input read twice (to detect, then to write the kept records) must be the same both times.
CSV_TEXT = "id,text\na,First story.\nb,Second story.\n"


def _append(path):
    with open(path, "ab") as f:
        f.write(b'{"id": "late", "text": "An article appended between the reads."}\n')


def _truncate(path):
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: len(data) // 2])


def _rewrite_same_size_and_time(path):
    """The hardest change: same size, same modification time, different bytes."""
    st = os.stat(path)
    data = bytearray(Path(path).read_bytes())
    data[data.index(b"First")] = ord("W")
    Path(path).write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _replace(path):
    new = Path(path).with_name("new")
    new.write_bytes(Path(path).read_bytes())
    os.replace(new, path)  # (same bytes, another file: as a tool that writes atomically replaces it)


CHANGES = [
    (_append, r"its size went from \d+ to \d+ bytes"),
    (_truncate, r"its size went from \d+ to \d+ bytes"),
    (_rewrite_same_size_and_time, r"its content differs \(same size and time\)"),
    (_replace, r"it was replaced by another file"),
    (os.remove, r"it cannot be read again \(no such file or folder\)"),
]


@pytest.mark.parametrize(
    "name, change, reason",
    [
        (name, change, reason)
        for name in ("in.jsonl", "in.jsonl.gz", "in.csv")
        for change, reason in CHANGES
        # (a gzipped file's bytes edited in place are a corrupt stream, not a changed text)
        if not (name.endswith(".gz") and change is _rewrite_same_size_and_time)
    ],
)
def test_an_input_changed_between_two_reads_is_an_error_naming_it(make, name, change, reason):
    path = make(name, CSV_TEXT if name.endswith(".csv") else JSONL)
    with Inputs([path]) as inputs:
        first = list(inputs.articles())
        change(path)
        expected = rf"^{re.escape(path)}: changed between the two reads of the run: {reason}$"
        with pytest.raises(InputChangedError, match=expected):
            list(inputs.articles())
    assert len(first) == 2


def test_an_unchanged_input_reads_the_same_any_number_of_times(make):
    path = make("in.jsonl.gz", JSONL)
    with Inputs([path]) as inputs:
        reads = [[a.id for a in inputs.articles()] for _ in range(3)]
    assert reads == [["a", "7"]] * 3


def test_a_partial_read_proves_nothing_and_checks_nothing(make):
    """Only a read to the end records what a file is (a first look that stops early does not)."""
    rows = "".join(json.dumps({"id": f"x{k}", "text": f"Story {k}."}) + "\n" for k in range(5000))
    path = make("in.jsonl", rows)
    with Inputs([path]) as inputs:
        next(inputs.articles())
        _append(path)
        assert len(list(inputs.articles())) == 5001


def test_a_folder_whose_files_changed_between_two_reads_is_an_error(make, tmp_path):
    make("folder/a.txt", "First story.")
    make("folder/b.txt", "Second story.")
    with Inputs([str(tmp_path / "folder")]) as inputs:
        assert len(list(inputs.articles())) == 2
        make("folder/c.txt", "A third story.")
        added = r"folder: changed between .*: 1 file\(s\) added, 0 removed$"
        with pytest.raises(InputChangedError, match=added):
            list(inputs.articles())
    with Inputs([str(tmp_path / "folder")]) as inputs:
        assert len(list(inputs.articles())) == 3
        (tmp_path / "folder" / "a.txt").write_text("First story, edited.")
        with pytest.raises(InputChangedError, match=r"a\.txt: changed between .*: its size went from"):
            list(inputs.articles())


def test_a_fifo_is_read_once_and_spooled(tmp_path):
    """A named pipe cannot be read twice: its data is copied on first use, then read from there."""
    fifo = tmp_path / "in.jsonl"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text(JSONL), daemon=True)
    writer.start()
    with Inputs([str(fifo)]) as inputs:
        first = [a.id for a in inputs.articles()]
        second = [a.id for a in inputs.articles()]
    writer.join(timeout=10)
    assert first == second == ["a", "7"]


# One huge article must not take the run's memory: texts are held to max_chars.
@pytest.mark.parametrize(
    "text, reason",
    [
        ("x" * 101, "text of 101 characters, over the limit of 100 \\(--max-chars\\)"),
        ("y" * 2000, r"a line of 2,0\d\d bytes, over the limit of 100 \(--max-chars\)"),  # (not even decoded)
    ],
)
def test_a_text_over_max_chars_is_a_bad_record_naming_its_line(make, text, reason):
    last = json.dumps({"id": "z", "text": "After the huge one."}) + "\n"
    path = make("in.jsonl", JSONL + json.dumps({"id": "huge", "text": text}) + "\n" + last)
    bad = []
    with Inputs([path], max_chars=100) as inputs:
        ids = [a.id for a in inputs.articles(bad.append)]
    assert ids == ["a", "7", "z"]
    [err] = bad
    assert re.fullmatch(rf"{re.escape(path)}:4: {reason}", str(err))


@pytest.mark.parametrize("name", ["in.csv", "story.txt"])
def test_max_chars_holds_for_csv_and_txt_inputs(make, name):
    path = make(name, "id,text\nlong," + "z" * 150 + "\n" if name.endswith(".csv") else "z" * 150)
    with Inputs([path], max_chars=100) as inputs, pytest.raises(InputError, match="over the limit of 100"):
        list(inputs.articles())
    with Inputs([path], max_chars=150) as inputs:
        assert len(list(inputs.articles())) == 1


def test_an_id_with_a_nul_character_is_a_bad_record(make):
    path = make("in.jsonl", json.dumps({"id": "a\x00b", "text": "A story."}) + "\n")
    with Inputs([path]) as inputs, pytest.raises(InputError, match=r":1: id 'a\\x00b' holds a NUL character"):
        list(inputs.articles())
