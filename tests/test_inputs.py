"""Inputs as dumps come: every format in every compression, folders of shards (flat and
recursive), Parquet streamed by row group, CSV delimiters, and messages that say what to change."""

import bz2
import csv
import gzip
import io
import json
import lzma
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import one_line_error, read, read_skipping

from dedup import InputError, cli
from dedup.io.article import InputChangedError
from dedup.io.read import Inputs
from dedup.io.write import write_deduplicated

pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (pip install 'newsdedup[parquet]')")
pq = pytest.importorskip("pyarrow.parquet")
zstandard = pytest.importorskip(
    "zstandard", reason="zstandard is not installed (pip install 'newsdedup[zstd]')"
)

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

PACK = {
    "": lambda data: data,
    ".gz": lambda data: gzip.compress(data, mtime=0),
    ".bz2": bz2.compress,
    ".xz": lzma.compress,
    ".zst": lambda data: zstandard.ZstdCompressor().compress(data),
}
CODEC = {"": None, ".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zst": "zstd"}
UNPACK = {
    "": lambda data: data,
    ".gz": gzip.decompress,
    ".bz2": bz2.decompress,
    ".xz": lzma.decompress,
    ".zst": lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data),
}

ROWS = [
    {"id": "a", "text": "First story.", "lang": "en"},
    {"id": "b", "text": "Second\tstory, with a comma.", "lang": "de"},
    {"id": "c", "text": "Third story.", "lang": "it"},
]


def as_jsonl(rows) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def as_csv(rows, delimiter=",") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]), delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def as_parquet(rows, **options) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), sink, **options)
    return sink.getvalue()


def write(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path)


EXPECTED = [(r["id"], r["text"], {"lang": r["lang"]}) for r in ROWS]
DUMPS = {".jsonl": as_jsonl, ".csv": as_csv, ".tsv": lambda rows: as_csv(rows, "\t")}


# ---------------------------------------------------------------------------------------------
# Every format in every compression, read and written back


@pytest.mark.parametrize("z", list(PACK))
@pytest.mark.parametrize("suffix", list(DUMPS))
def test_every_dump_format_in_every_compression_reads_and_writes_back_so(tmp_path, suffix, z):
    path = write(tmp_path / f"dump{suffix}{z}", PACK[z](DUMPS[suffix](ROWS)))
    with Inputs([path]) as inputs:
        assert [(a.id, a.text, a.fields) for a in inputs.articles()] == EXPECTED
        assert inputs.compression == CODEC[z]
        out = write_deduplicated(inputs, tmp_path / "out", {"b"})
    fmt = suffix.lstrip(".")
    assert out.name == f"deduplicated.{fmt}{z}"  # compressed as its input
    data = UNPACK[z](out.read_bytes())
    kept = [r for r in ROWS if r["id"] != "b"]
    expected = as_jsonl(kept) if fmt == "jsonl" else as_csv(kept, "\t" if fmt == "tsv" else ",")
    assert data == expected  # (the records unchanged; a .tsv dump stays tab-delimited)


@pytest.mark.parametrize("z", list(PACK))
def test_a_txt_file_in_every_compression_is_one_article_and_is_written_back_as_stored(tmp_path, z):
    stored = PACK[z](b"One story.")
    write(tmp_path / "news" / f"story{z and '.txt' + z or '.txt'}", stored)
    with Inputs([str(tmp_path / "news")]) as inputs:
        assert [(a.id, a.text) for a in inputs.articles()] == [("story", "One story.")]
        out = write_deduplicated(inputs, tmp_path / "out", set())
    assert (out / f"story.txt{z}").read_bytes() == stored


@pytest.mark.parametrize("z", [z for z in PACK if z])
def test_compression_is_told_by_its_magic_bytes_whatever_the_name(tmp_path, z):
    path = write(tmp_path / "dump.jsonl", PACK[z](as_jsonl(ROWS)))
    assert read([path]) == EXPECTED


def test_text_starting_like_a_bzip2_header_is_not_taken_for_one(tmp_path):
    path = write(tmp_path / "BZh.txt", b"BZh9 is how a bzip2 file starts; this is a story about it.")
    assert read([path])[0][1].startswith("BZh9")


@pytest.mark.parametrize("z", [z for z in PACK if z])
def test_a_file_named_compressed_that_is_not_is_one_line_naming_it(tmp_path, z):
    path = write(tmp_path / f"plain.jsonl{z}", as_jsonl(ROWS))
    with pytest.raises(InputError) as caught:
        read([path])
    codec = CODEC[z]
    assert str(caught.value) == (
        f"{path}: named {z} but not {codec}-compressed (no {codec} header); "
        f"rename or {'gzip it' if z == '.gz' else 'compress it'}"
    )
    assert caught.value.record is False  # (the file's name is wrong, not a record)


MANY = [{"id": f"n{i}", "text": f"Story number {i} of many, told at some length."} for i in range(5000)]


@pytest.mark.parametrize("z", [z for z in PACK if z])
def test_truncated_compressed_data_is_an_error_naming_the_line_and_the_next_file_is_read(tmp_path, z):
    packed = PACK[z](as_jsonl(MANY))
    cut = write(tmp_path / f"cut.jsonl{z}", packed[: len(packed) // 2])
    good = write(tmp_path / "good.jsonl", as_jsonl(ROWS[:1]))
    ids, errors = read_skipping([cut, good])
    assert ids[-1] == "a"  # the next file is read
    [error] = errors
    n = len(ids) - 1  # (the records before the cut that could be decoded)
    assert ids[:-1] == [f"n{i}" for i in range(n)]
    assert error == (
        f"{cut}:{n + 1}: truncated {CODEC[z]} file: the compressed data ends early "
        "(the rest of the file cannot be read)"
    )


@pytest.mark.parametrize("z", [z for z in PACK if z])
def test_corrupt_compressed_data_is_one_line_naming_the_compression(tmp_path, z):
    packed = bytearray(PACK[z](as_jsonl(MANY)))
    at = {".gz": 10, ".bz2": 10, ".xz": 6, ".zst": 4}[z]  # (what follows the header the magic is in)
    packed[at : at + 10] = b"\xff" * 10
    path = write(tmp_path / f"bad.jsonl{z}", bytes(packed))
    with pytest.raises(InputError) as caught:
        read([path])
    message = str(caught.value)
    assert message.startswith(f"{path}:") and f"corrupt {CODEC[z]} data" in message
    assert "\n" not in message


def test_zstd_frames_one_after_another_are_one_stream(tmp_path):
    one, two = as_jsonl(ROWS[:1]), as_jsonl(ROWS[1:])
    packer = zstandard.ZstdCompressor()
    path = write(tmp_path / "two.jsonl.zst", packer.compress(one) + packer.compress(two))
    assert read([path]) == EXPECTED


def test_mixed_compressions_give_a_plain_dump(tmp_path):
    a = write(tmp_path / "a.jsonl.gz", PACK[".gz"](as_jsonl(ROWS[:1])))
    b = write(tmp_path / "b.jsonl.zst", PACK[".zst"](as_jsonl(ROWS[1:])))
    with Inputs([a, b]) as inputs:
        assert inputs.compression is None
        assert write_deduplicated(inputs, tmp_path / "out", set()).name == "deduplicated.jsonl"


# ---------------------------------------------------------------------------------------------
# Folders of shards


def make_shards(root: Path, rows, *, pack=".gz") -> list[str]:
    """``part-0000N.jsonl.gz`` shards, one row each, the way datatrove and Spark write them."""
    names = []
    for k, row in enumerate(rows):
        names.append(write(root / f"part-{k:05d}.jsonl{pack}", PACK[pack](as_jsonl([row]))))
    return names


def test_a_folder_of_shards_is_read_as_its_files_in_name_order(tmp_path):
    shards = tmp_path / "shards"
    make_shards(shards, list(reversed(ROWS)))  # part-00000 holds c
    write(shards / "_SUCCESS", b"")
    write(shards / ".part-00000.jsonl.gz.crc", b"\x00\x01")
    write(shards / "part-00001.jsonl.gz.crc", b"\x00\x01")
    write(shards / ".hidden.jsonl", b"not json")
    write(shards / "_temporary" / "0" / "part-00009.jsonl", b"not json")
    write(shards / "README.md", b"# not an input")
    write(shards / "sub" / "part-00000.jsonl", as_jsonl([{"id": "deep", "text": "Not read."}]))
    with Inputs([str(shards)]) as inputs:
        articles = list(inputs.articles())
        assert (inputs.format, inputs.compression) == ("jsonl", "gzip")
    assert [(a.id, a.source, a.line) for a in articles] == [
        (r["id"], str(shards / f"part-{k:05d}.jsonl.gz"), 1) for k, r in enumerate(reversed(ROWS))
    ]


def test_recursive_reads_the_subfolders_in_order_of_their_paths(tmp_path):
    root = tmp_path / "dump"
    write(root / "2024" / "02" / "part-00000.jsonl", as_jsonl([{"id": "feb", "text": "February."}]))
    write(root / "2024" / "01" / "part-00001.jsonl", as_jsonl([{"id": "jan2", "text": "January, 2."}]))
    write(root / "2024" / "01" / "part-00000.jsonl", as_jsonl([{"id": "jan1", "text": "January, 1."}]))
    write(root / "part-00000.jsonl", as_jsonl([{"id": "top", "text": "At the top."}]))
    write(root / "_temporary" / "part-00000.jsonl", b"never read")
    write(root / ".git" / "part-00000.jsonl", b"never read")
    assert [i for i, _, _ in read([str(root)])] == ["top"]
    assert [i for i, _, _ in read([str(root)], recursive=True)] == ["jan1", "jan2", "feb", "top"]


def test_recursive_txt_ids_are_their_paths_and_are_written_back_so(tmp_path):
    root = tmp_path / "news"
    write(root / "a.txt", b"Story A.")
    write(root / "x" / "a.txt", b"Another story A.")
    write(root / "x" / "y" / "b.txt.xz", lzma.compress(b"Story B."))
    with Inputs([str(root)], recursive=True) as inputs:
        assert [(a.id, a.text) for a in inputs.articles()] == [
            ("a", "Story A."), ("x/a", "Another story A."), ("x/y/b", "Story B."),
        ]  # fmt: skip
        out = write_deduplicated(inputs, tmp_path / "out", {"x/a"})
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == ["a.txt", "x/y/b.txt.xz"]


def test_a_folder_mixing_formats_reads_each_file_in_its_own_and_writes_jsonl(tmp_path):
    root = tmp_path / "mixed"
    write(root / "1.jsonl.zst", PACK[".zst"](as_jsonl(ROWS[:1])))
    write(root / "2.csv", as_csv(ROWS[1:2]))
    write(root / "3.parquet", as_parquet(ROWS[2:]))
    write(root / "4.txt", b"A story of its own.")
    with Inputs([str(root)]) as inputs:
        assert read([str(root)]) == [*EXPECTED, ("4", "A story of its own.", {})]
        assert inputs.format == "jsonl"
        out = write_deduplicated(inputs, tmp_path / "out", {"a"})
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines == [*ROWS[1:], {"id": "4", "text": "A story of its own."}]


@pytest.mark.parametrize("recursive", [False, True])
def test_a_folder_with_nothing_to_read_is_one_line_naming_it(tmp_path, recursive):
    root = tmp_path / "empty"
    write(root / "_SUCCESS", b"")
    write(root / "notes.md", b"no data")
    with pytest.raises(InputError) as caught:
        read([str(root)], recursive=recursive)
    message = str(caught.value)
    assert message.startswith(f"{root}: no input files in this folder")
    assert ("--recursive" in message) is not recursive  # (a hint only where it could help)
    assert caught.value.record is False


def test_json_files_in_a_folder_are_read_only_when_asked(tmp_path):
    """A .json file given by name is read as JSON lines; in a folder it is as often a sidecar of
    metadata (story.txt beside story.json), so it is read only with --format jsonl."""
    news = tmp_path / "news"
    write(news / "story.txt", b"A story.")
    write(news / "story.json", json.dumps({"id": "meta", "text": "Not an article."}).encode())
    assert read([str(news)]) == [("story", "A story.", {})]
    spark = tmp_path / "spark"
    write(spark / "part-00000-c000.json", as_jsonl(ROWS))
    write(spark / "_SUCCESS", b"")
    with pytest.raises(
        InputError,
        match=r"spark: no input files .*; its \.json files are read as JSON lines with --format jsonl$",
    ):
        read([str(spark)])
    assert read([str(spark)], input_format="jsonl") == read([str(spark / "part-00000-c000.json")]) == EXPECTED


def test_format_reads_every_file_of_a_folder_whatever_its_name(tmp_path):
    root = tmp_path / "spark"
    write(root / "part-00000", as_jsonl(ROWS[:2]))
    write(root / "part-00001", as_jsonl(ROWS[2:]))
    write(root / "_SUCCESS", b"")
    with pytest.raises(InputError, match="no input files"):
        read([str(root)])
    assert read([str(root)], input_format="jsonl") == EXPECTED


def test_a_shard_added_between_the_two_reads_is_an_error(tmp_path):
    root = tmp_path / "shards"
    make_shards(root, ROWS[:2])
    with Inputs([str(root)]) as inputs:
        assert len(list(inputs.articles())) == 2
        make_shards(root, ROWS)  # (part-00002 is new)
        changed = r"shards: changed between .*: 1 file\(s\) added, 0 removed$"
        with pytest.raises(InputChangedError, match=changed):
            list(inputs.articles())


# ---------------------------------------------------------------------------------------------
# Parquet


class Spy:
    """A file that counts the bytes read from it."""

    def __init__(self, f):
        self.f, self.read_bytes = f, 0

    def read(self, *args):
        data = self.f.read(*args)
        self.read_bytes += len(data)
        return data

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def test_parquet_is_streamed_a_row_group_at_a_time(tmp_path, monkeypatch):
    import dedup.io.parquet

    rows = [{"id": f"r{i}", "text": f"Story {i}. " + "words " * 200} for i in range(2000)]
    path = write(tmp_path / "big.parquet", as_parquet(rows, row_group_size=250, compression="none"))
    assert pq.ParquetFile(path).metadata.num_row_groups == 8
    spies = []

    def spy_open(*args, **kwargs):
        spies.append(Spy(open(*args, **kwargs)))  # noqa: SIM115 - closed by the reader
        return spies[-1]

    monkeypatch.setattr(dedup.io.parquet, "open", spy_open, raising=False)
    records = dedup.io.parquet.parquet_records(path, path, "id", "text")
    first = next(records).article
    assert (first.id, first.line) == ("r0", 1)
    assert spies[0].read_bytes < os.path.getsize(path) / 4  # (the first row group, not the file)
    rest = [r.article for r in records]
    assert [a.id for a in rest] == [f"r{i}" for i in range(1, 2000)]
    assert [a.line for a in rest[-2:]] == [1999, 2000]  # rows numbered across row groups
    with Inputs([path]) as inputs:
        assert [a.id for a in inputs.articles()] == [f"r{i}" for i in range(2000)]


def test_a_bad_parquet_row_is_named_by_file_and_row_across_row_groups(tmp_path):
    rows = [{"id": f"r{i}", "text": f"Story {i}."} for i in range(10)]
    rows[7]["text"] = "   "
    rows[8]["text"] = None
    path = write(tmp_path / "rows.parquet", as_parquet(rows, row_group_size=3))
    ids, errors = read_skipping([path])
    assert ids == [f"r{i}" for i in range(10) if i not in (7, 8)]
    assert errors == [
        f"{path}:8: whitespace-only text (field 'text')",
        f"{path}:9: text field 'text' must be a string, not null",
    ]


def test_parquet_fields_and_ids_as_other_formats_give_them(tmp_path):
    import datetime

    rows = [
        {"doc": 7, "body": "A story.", "when": datetime.datetime(2024, 5, 1, 12, 30), "tags": ["x"],
         "raw": b"\x00\x01", "meta": {"k": 1}},
    ]  # fmt: skip
    path = write(tmp_path / "a.parquet", as_parquet(rows))
    assert read([path], id_field="doc", text_field="body") == [
        ("7", "A story.", {"when": "2024-05-01T12:30:00", "tags": ["x"], "raw": "AAE=", "meta": {"k": 1}})
    ]


def test_deduplicated_parquet_keeps_the_schema_and_its_metadata(tmp_path):
    import datetime

    table = pa.Table.from_pylist(
        [{"id": i, "text": f"Story {i}.", "when": datetime.datetime(2024, 1, 1, 0, 0, i), "score": i / 3,
          "tags": [str(i)]} for i in range(20)],
    ).replace_schema_metadata({"huggingface": '{"info": {}}'})  # fmt: skip
    pq.write_table(table, tmp_path / "part-00000.parquet", row_group_size=6)
    with Inputs([str(tmp_path / "part-00000.parquet")]) as inputs:
        out = write_deduplicated(inputs, tmp_path / "out", {"3", "11"})
    assert out.name == "deduplicated.parquet"
    back = pq.read_table(out)
    assert back.schema == table.schema and back.schema.metadata == table.schema.metadata
    assert back.to_pylist() == [r for r in table.to_pylist() if r["id"] not in (3, 11)]


@pytest.mark.parametrize(("content", "reason"), [
    (lambda: as_parquet([{"id": "a", "body": "x"}]),
     "missing text column 'text' (its columns: 'id', 'body'; --text-field names another)"),
    (lambda: b"PAR1 not really", "not a Parquet file"),
])  # fmt: skip
def test_whole_parquet_file_errors_are_one_line_and_not_bad_records(tmp_path, content, reason):
    path = write(tmp_path / "x.parquet", content())
    with pytest.raises(InputError) as caught:
        read([path])
    assert str(caught.value).startswith(f"{path}: {reason}")
    assert "\n" not in str(caught.value) and caught.value.record is False


def test_a_parquet_file_replaced_between_the_two_reads_is_an_error(tmp_path):
    path = write(tmp_path / "a.parquet", as_parquet(ROWS))
    with Inputs([path]) as inputs:
        list(inputs.articles())
        write(tmp_path / "a.parquet", as_parquet(ROWS[:2]))
        with pytest.raises(InputChangedError, match="changed between the two reads"):
            list(inputs.articles())


# ---------------------------------------------------------------------------------------------
# CSV delimiters


def test_a_delimiter_is_given_for_csv_and_kept_in_the_dump(tmp_path):
    path = write(tmp_path / "semi.csv", as_csv(ROWS, ";"))
    with Inputs([path], delimiter=";") as inputs:
        assert [(a.id, a.text, a.fields) for a in inputs.articles()] == EXPECTED
        out = write_deduplicated(inputs, tmp_path / "out", set())
    assert out.read_bytes() == as_csv(ROWS, ";")


def test_a_csv_header_read_whole_suggests_another_delimiter(tmp_path):
    path = write(tmp_path / "tabs.csv", as_csv(ROWS, "\t"))
    hint = r":1: no id column 'id' .* \(another delimiter\? --delimiter gives it\)$"
    with pytest.raises(InputError, match=hint):
        read([path])
    assert read([path], delimiter="\t") == EXPECTED


@pytest.mark.parametrize("delimiter", ["", ";;", '"', "\n"])
def test_a_delimiter_is_one_character(delimiter):
    with pytest.raises(ValueError, match="delimiter must be one character"):
        Inputs(["a.csv"], delimiter=delimiter)


# ---------------------------------------------------------------------------------------------
# Messages that say what to change


def test_a_missing_text_field_lists_the_fields_and_names_the_option(tmp_path):
    path = write(tmp_path / "a.jsonl", as_jsonl([{"id": "a", "body": "x", "url": "u"}]))
    with pytest.raises(InputError) as caught:
        read([path])
    assert str(caught.value) == (
        f"{path}:1: missing text field 'text' (its fields: 'id', 'body', 'url'; --text-field names another)"
    )
    assert caught.value.record is False  # (no good record before it: the option, not the data)
    later = write(tmp_path / "b.jsonl", as_jsonl([*ROWS, {"id": "d", "body": "x"}]))
    with pytest.raises(InputError) as caught:
        read([later])
    assert caught.value.record is True  # (after good records: a bad record)


def test_a_json_array_is_told_apart_from_json_lines(tmp_path):
    path = write(tmp_path / "array.json", b"[\n" + json.dumps(ROWS[0]).encode() + b"\n]\n")
    with pytest.raises(InputError, match=r"array\.json:1: .*one JSON array, not JSON lines"):
        read([path])


def test_an_unknown_format_names_the_format_option(tmp_path):
    path = write(tmp_path / "dump.xml", b"<a/>")
    with pytest.raises(InputError, match=r"cannot tell the format .*--format jsonl\|csv\|txt\|parquet$"):
        Inputs([path])


def run(*args):
    return CliRunner().invoke(cli.main, ["run", *args], catch_exceptions=False)


@pytest.mark.parametrize(("make", "hinted"), [
    (lambda d: write(d / "a.jsonl", as_jsonl(ROWS) + b"not json\n"), True),  # a bad record
    (lambda d: str(d / "missing.jsonl"), False),  # a missing file
    (lambda d: write(d / "a.csv", as_csv(ROWS, "\t")), False),  # a wrong delimiter: the header
    (lambda d: write(d / "a.jsonl", as_jsonl([{"id": "a", "body": "x"}])), False),  # a wrong --text-field
    (lambda d: write(d / "a.jsonl.gz", as_jsonl(ROWS)), False),  # a wrong name
])  # fmt: skip
def test_skip_bad_is_hinted_only_where_skipping_helps(tmp_path, make, hinted):
    message = one_line_error(run(make(tmp_path), "-o", str(tmp_path / "out"), "-q"))
    hint = "; --skip-bad skips bad records" if hinted else ""
    assert message.endswith(f"(nothing written{hint})")
    assert not (tmp_path / "out").exists()


def test_a_missing_package_is_one_line_with_the_install_command(tmp_path, monkeypatch):
    parquet = write(tmp_path / "a.parquet", as_parquet(ROWS))
    zst = write(tmp_path / "a.jsonl.zst", PACK[".zst"](as_jsonl(ROWS)))
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    monkeypatch.setitem(sys.modules, "zstandard", None)
    message = one_line_error(run(parquet, "-o", str(tmp_path / "out")))
    needs = "reading Parquet needs pyarrow: pip install 'newsdedup[parquet]'"
    assert message == f"{parquet}: {needs} (nothing written)"
    message = one_line_error(run(zst, "-o", str(tmp_path / "out")))
    assert message.endswith("needs the zstandard package: pip install 'newsdedup[zstd]' (nothing written)")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------------
# The command line over a folder of shards, end to end


def seed_rows():
    return [{"id": p.stem, "text": p.read_text(encoding="utf-8")} for p in sorted(SEEDS.glob("*.txt"))]


def test_a_run_over_a_folder_of_shards_finds_what_the_txt_folder_run_finds(tmp_path):
    rows = seed_rows()
    shards = tmp_path / "shards"
    for k, row in enumerate(rows):  # (every other shard in a subfolder, mixed compressions)
        z = list(PACK)[k % len(PACK)]
        write(shards / ("2024" if k % 2 else "") / f"part-{k:05d}.jsonl{z}", PACK[z](as_jsonl([row])))
    write(shards / "_SUCCESS", b"")
    reference = run(str(SEEDS), "-o", str(tmp_path / "txt"), "-q")
    result = run(str(shards), "--recursive", "-o", str(tmp_path / "out"), "-q")
    assert reference.exit_code == result.exit_code == 0, result.stderr
    clusters = [(tmp_path / o / "clusters.jsonl").read_text() for o in ("txt", "out")]
    assert clusters[0] == clusters[1] and clusters[0]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["articles"]["read"] == len(rows)
    assert summary["input_options"]["recursive"] is True
    found = map(json.loads, clusters[1].splitlines())
    dropped = {m for c in found for m in c["members"] if m != c["representative"]}
    dump = (tmp_path / "out" / "deduplicated.jsonl").read_text()
    kept = [json.loads(line)["id"] for line in dump.splitlines()]
    assert sorted(kept) == sorted(r["id"] for r in rows if r["id"] not in dropped)


def test_a_run_over_parquet_shards_writes_parquet(tmp_path):
    rows = seed_rows()
    for k in range(0, len(rows), 2):
        write(tmp_path / "pq" / f"part-{k:05d}.parquet", as_parquet(rows[k : k + 2]))
    result = run(str(tmp_path / "pq"), "-o", str(tmp_path / "out"), "-q")
    assert result.exit_code == 0, result.stderr
    clusters = [json.loads(line) for line in (tmp_path / "out" / "clusters.jsonl").read_text().splitlines()]
    dropped = {m for c in clusters for m in c["members"] if m != c["representative"]}
    assert dropped  # (the seeds hold one pair)
    back = pq.read_table(tmp_path / "out" / "deduplicated.parquet").to_pylist()
    assert back == [r for r in rows if r["id"] not in dropped]


def test_the_api_reads_shard_folders_as_the_command_does(tmp_path):
    from dedup import deduplicate, find_duplicates

    rows = seed_rows()
    for k, row in enumerate(rows):
        write(tmp_path / "shards" / f"{k % 2}" / f"part-{k:05d}.jsonl.xz", PACK[".xz"](as_jsonl([row])))
    with Inputs([str(tmp_path / "shards")], recursive=True) as inputs:
        found = find_duplicates(inputs.articles())
    result = deduplicate([tmp_path / "shards"], tmp_path / "out", recursive=True)
    assert [c.members for c in result.clusters] == [c.members for c in found.clusters] != []
    assert (tmp_path / "out" / "deduplicated.jsonl.xz").exists()


def test_a_link_back_up_a_folder_is_not_followed_round_and_round(tmp_path):
    root = tmp_path / "dump"
    make_shards(root / "a", ROWS[:1])
    os.symlink(root, root / "a" / "loop")
    assert [i for i, _, _ in read([str(root)], recursive=True)] == ["a"]
