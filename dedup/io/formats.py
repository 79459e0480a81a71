"""The records of each input format: JSONL lines, CSV rows, ``.txt`` files (one article each)
(Parquet rows: :mod:`dedup.io.parquet`),
each as a :class:`Record` or the :class:`~dedup.io.article.InputError` that names its file and line.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import json
import os
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, NamedTuple

from dedup.io.article import Article, InputError
from dedup.io.compression import (
    HEAD,
    CompressedDataError,
    codec_named,
    codec_of,
    decompress,
    strip_suffix,
)
from dedup.io.files import (
    BOM,
    READ_ERRORS,
    STDIN,
    STDIN_NAME,
    Unreadable,
    Watch,
    not_compressed,
    open_input,
    os_reason,
    read_reason,
    text_lines,
    utf8_reason,
)


@dataclass(frozen=True, slots=True)
class Record:
    """One record as read: its article, and what the writer needs to re-emit it unchanged.

    ``raw`` is, by ``format``: ``"jsonl"`` the decoded JSON object (key order
    and value types kept); ``"csv"`` a dict column → value in header order;
    ``"txt"`` the file's bytes as stored (still compressed if ``compressed``, the suffix of its
    compression: ``".gz"``, ``".xz"``...); ``"parquet"`` the row as a dict (pyarrow's values).
    """

    article: Article
    format: str
    raw: Any
    compressed: str = ""


class CsvHeader(NamedTuple):
    """The columns of the CSV inputs (the union, in order of first appearance), their line ending
    and delimiter."""

    columns: list[str]
    newline: str
    delimiter: str = ","


FORMATS = ("jsonl", "csv", "txt", "parquet")
"""The input formats (``--format``)."""

EXTENSIONS = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "csv", ".txt": "txt", ".parquet": "parquet",
}  # fmt: skip
"""The format each file name suffix says (before a compression suffix: ``.jsonl.zst``)."""


def format_of(name: str, *, given: bool = False) -> str | None:
    """The format a file name says (``part-00000.jsonl.gz``: ``"jsonl"``), if any. A file
    ``given`` by name may also be ``.json``, read as JSON lines (as Spark writes them); in a
    folder, ``.json`` files are as often a sidecar of metadata, and are not read."""
    suffix = os.path.splitext(strip_suffix(name).lower())[1]
    return "jsonl" if given and suffix == ".json" else EXTENSIONS.get(suffix)


def skipped_name(name: str) -> bool:
    """Files and folders a folder of inputs never reads: hidden ones (``.name``), and those Spark,
    Hadoop and Parquet writers put beside the data (``_SUCCESS``, ``_metadata``, ``_temporary/``,
    ``part-00000.crc``)."""
    return name.startswith((".", "_")) or name.lower().endswith(".crc")


def folder_files(folder: str, *, recursive: bool = False, any_name: bool = False) -> list[str]:
    """The input files in ``folder``, as paths relative to it (``/``-separated), sorted by their
    parts: those whose name says an input format (``any_name``: every file), not the
    :func:`skipped_name` ones; in its subfolders too if ``recursive``.

    Raises:
        OSError: the folder cannot be listed.
    """
    found: list[tuple[str, ...]] = []
    seen: set[tuple[int, int]] = set()  # (the folders scanned: a link back up is not followed again)

    def scan(parts: tuple[str, ...]) -> None:
        path = os.path.join(folder, *parts)
        st = os.stat(path)
        if (st.st_dev, st.st_ino) in seen:
            return
        seen.add((st.st_dev, st.st_ino))
        with os.scandir(path) as entries:
            for e in entries:
                if skipped_name(e.name):
                    continue
                if e.is_dir():
                    if recursive:
                        scan((*parts, e.name))
                elif e.is_file() and (any_name or format_of(e.name) is not None):
                    found.append((*parts, e.name))

    scan(())
    return ["/".join(parts) for parts in sorted(found)]


def json_hint(folder: str) -> str:
    """For a folder of ``.json`` files (Spark writes JSON lines so), how to read them."""
    try:
        names = folder_files(folder, any_name=True)
    except OSError:
        return ""
    if any(strip_suffix(n).lower().endswith(".json") for n in names):
        return "; its .json files are read as JSON lines with --format jsonl"
    return ""


def txt_id(name: str) -> str:
    """A .txt file's article id: its name (its path in a folder read recursively) without the
    ``.txt`` and compression suffixes."""
    bare = strip_suffix(name)
    if bare.lower().endswith(".txt") and len(bare) > 4:
        return bare[:-4]
    return name


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bytes):
        return "bytes"
    return "an object" if isinstance(value, dict) else type(value).__name__


def _lone_surrogate(text: str) -> str | None:
    """Describe the first lone surrogate in ``text`` (from a broken \\u escape), if any."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        return f"lone surrogate \\u{ord(text[err.start]):04x} at character {err.start}"
    return None


def shown_names(names: Iterable[str], most: int = 10) -> str:
    """Up to ``most`` field or column names, quoted, for a message."""
    names = list(names)
    return ", ".join(map(repr, names[:most])) + (f", ... ({len(names)} in all)" if len(names) > most else "")


def missing_field(what: str, field: str, names: Iterable[str], where: str = "its fields") -> str:
    """The reason for a missing id or text field: the fields there are, and the option to name one."""
    return f"missing {what} field {field!r} ({where}: {shown_names(names)}; --{what}-field names another)"


def record_article(
    record: dict[str, Any],
    source: str,
    line: int,
    id_field: str,
    text_field: str,
    *,
    from_json: bool,
    first: bool = False,
) -> Article | InputError:
    """Check one JSONL/CSV/Parquet record and make its article, or say what is wrong with it.
    ``first``: no good record came before it in its file, so that a missing field is more likely
    the wrong field name than a bad record (the error's ``record`` is False)."""
    for what, field in (("id", id_field), ("text", text_field)):
        if field not in record:
            return InputError(source, line, missing_field(what, field, record), record=not first)
    id_, text = record[id_field], record[text_field]
    if isinstance(id_, (int, float)) and not isinstance(id_, bool):
        id_ = str(id_)
    elif not isinstance(id_, str):
        return InputError(
            source, line, f"id field {id_field!r} must be a string or a number, not {_json_kind(id_)}"
        )
    if not id_:
        return InputError(source, line, f"empty id (field {id_field!r})")
    if "\x00" in id_:
        return InputError(source, line, f"id {id_!r} holds a NUL character (field {id_field!r})")
    if not isinstance(text, str):
        return InputError(source, line, f"text field {text_field!r} must be a string, not {_json_kind(text)}")
    if not text.strip():
        what = "empty" if not text else "whitespace-only"
        return InputError(source, line, f"{what} text (field {text_field!r})")
    if from_json:
        for name, value in ((id_field, id_), (text_field, text)):
            problem = _lone_surrogate(value)
            if problem:
                return InputError(source, line, f"field {name!r} is not valid Unicode: {problem}")
    fields = {k: v for k, v in record.items() if k != id_field and k != text_field}
    return Article(id_, text, fields, source, line)


def too_long(what: str, max_chars: int) -> str:
    return f"{what}, over the limit of {max_chars:,} (--max-chars)"


def jsonl_records(
    source: str,
    path: str,
    id_field: str,
    text_field: str,
    watch: Watch | None = None,
    max_chars: int | None = None,
) -> Iterator[Record | InputError]:
    """One record per non-blank line of a JSONL file (a line longer than ``max_chars``
    characters could be in UTF-8 is refused before it is decoded)."""
    most = None if max_chars is None else 4 * max_chars + 1024  # (4 bytes a character at most)
    try:
        with open_input(path, watch) as f:
            n, first = 0, True
            try:
                for n, line in enumerate(f, 1):  # noqa: B007 - n + 1 is the line that failed, below
                    if n == 1 and line.startswith(BOM):
                        line = line[len(BOM) :]
                    if most is not None and len(line) > most:
                        assert max_chars is not None
                        yield InputError(source, n, too_long(f"a line of {len(line):,} bytes", max_chars))
                    elif line.strip():
                        item = jsonl_record(line, source, n, id_field, text_field, first=first)
                        first = first and isinstance(item, InputError)
                        yield item
            except READ_ERRORS as err:
                yield InputError(source, n + 1, read_reason(err))
    except Unreadable as err:
        yield InputError(source, 0, err.reason, record=False)


def jsonl_record(
    line: bytes, source: str, n: int, id_field: str, text_field: str, *, first: bool = False
) -> Record | InputError:
    """One JSONL line's record (``first``: no good record before it, see :func:`_article`)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as err:
        return InputError(source, n, utf8_reason(line, err, "line"))
    try:
        obj = json.loads(text.rstrip("\r\n"))
    except json.JSONDecodeError as err:
        what = err.msg.removesuffix(" at").removesuffix(" starting")
        if first and text.lstrip().startswith("["):
            what += " (one JSON array, not JSON lines? one object a line is read: jq -c '.[]' makes them)"
        return InputError(source, n, f"malformed JSON at column {err.colno}: {what}", record=not first)
    except (ValueError, RecursionError) as err:
        return InputError(source, n, f"malformed JSON: {err}")
    if not isinstance(obj, dict):
        return InputError(source, n, f"a JSON line must be an object, not {_json_kind(obj)}")
    article = record_article(obj, source, n, id_field, text_field, from_json=True, first=first)
    if isinstance(article, InputError):
        return article
    return Record(article, "jsonl", obj)


def _raise_csv_field_limit() -> None:
    """Let the csv module read fields as long as a whole article (its default limit is 128 KiB)."""
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:
            limit //= 2


def csv_delimiter(path: str, delimiter: str | None) -> str:
    """The delimiter to read ``path`` with: ``delimiter`` if given, else a tab for a ``.tsv``
    file, a comma otherwise."""
    if delimiter is not None:
        return delimiter
    return "\t" if strip_suffix(path).lower().endswith(".tsv") else ","


def csv_union(files: Iterable[tuple[str, str]], delimiter: str | None) -> CsvHeader:
    """The union of the CSV ``files``' (name, file to read) columns, in order of first appearance,
    the first one's newline and delimiter (``delimiter``, or as :func:`csv_delimiter` tells)."""
    columns: dict[str, None] = {}
    newline = first_delimiter = None
    for name, file in files:
        with contextlib.suppress(Unreadable, *READ_ERRORS, csv.Error), open_input(file) as f:
            lines = text_lines(f, {})
            first = next(lines, "")
            newline = newline or ("\r\n" if first.endswith("\r\n") else "\n")
            this = csv_delimiter(name, delimiter)
            first_delimiter = first_delimiter or this
            rows = csv.reader(itertools.chain((first,), lines), strict=True, delimiter=this)
            columns.update(dict.fromkeys(next((row for row in rows if row), [])))
    return CsvHeader(list(columns), newline or "\n", first_delimiter or ",")


def csv_records(
    source: str,
    path: str,
    id_field: str,
    text_field: str,
    watch: Watch | None = None,
    delimiter: str = ",",
) -> Iterator[Record | InputError]:
    """One record per CSV row after the header; line numbers are each record's first line."""
    _raise_csv_field_limit()
    try:
        with open_input(path, watch) as f:
            yield from _csv_rows(source, f, id_field, text_field, delimiter)
    except Unreadable as err:
        yield InputError(source, 0, err.reason, record=False)


def _csv_rows(
    source: str, f: IO[bytes], id_field: str, text_field: str, delimiter: str
) -> Iterator[Record | InputError]:
    bad: dict[int, str] = {}
    reader = csv.reader(text_lines(f, bad), strict=True, delimiter=delimiter)
    try:
        header: list[str] = []
        while not header:
            header = next(reader)
    except StopIteration:
        yield InputError(source, 0, "empty CSV file: no header row", record=False)
        return
    except csv.Error as err:
        yield InputError(source, reader.line_num, f"malformed CSV header: {err}")
        return
    except READ_ERRORS as err:
        yield InputError(source, reader.line_num + 1, read_reason(err))
        return
    problem = _header_problem(header, id_field, text_field, bad)
    if problem:
        if len(header) == 1 and delimiter == "," and ("\t" in header[0] or ";" in header[0]):
            problem += " (another delimiter? --delimiter gives it)"
        yield InputError(source, reader.line_num, problem, record=False)
        return
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            bad.clear()
            yield InputError(source, start, f"malformed CSV: {err}")
            continue
        except READ_ERRORS as err:
            yield InputError(source, reader.line_num + 1, read_reason(err))
            return
        if bad:
            first = min(bad)
            reason = bad[first]
            bad.clear()
            yield InputError(source, first, reason)
            continue
        if not row:  # a blank line
            continue
        if len(row) != len(header):
            yield InputError(source, start, f"{len(row)} fields, but the header has {len(header)}")
            continue
        record = dict(zip(header, row, strict=True))
        article = record_article(record, source, start, id_field, text_field, from_json=False)
        yield article if isinstance(article, InputError) else Record(article, "csv", record)


def _header_problem(header: list[str], id_field: str, text_field: str, bad: dict[int, str]) -> str | None:
    if bad:
        return f"CSV header: {bad[min(bad)]}"
    seen: set[str] = set()
    for column in header:
        if column in seen:
            return f"column {column!r} appears twice in the header"
        seen.add(column)
    for what, field in (("id", id_field), ("text", text_field)):
        if field not in seen:
            shown = f"columns: {shown_names(header)}"
            return f"no {what} column {field!r} in the header ({shown}; --{what}-field names another)"
    return None


def read_text(path: str | os.PathLike) -> str:
    """The text of one article file (plain text, UTF-8, optionally gzipped), or of stdin for ``"-"``.

    Checked like a ``.txt`` input of a run, for commands that take texts one by one (``dedup align``).

    Raises:
        InputError: the file is missing, a folder, unreadable, not UTF-8, or empty or whitespace-only;
            ``str(err)`` is ``"path: reason"`` (``"path:line: reason"`` for a bad byte).
    """
    path = os.fspath(path)
    if path == STDIN:
        stream = getattr(sys.stdin, "buffer", sys.stdin)
        data = stream.read()
        text = _txt_text(STDIN_NAME, "", data.encode("utf-8") if isinstance(data, str) else data)
    elif os.path.isdir(path):
        raise InputError(path, 0, "is a folder, not a text file")
    else:
        record = txt_record(path, path, "")
        text = record if isinstance(record, InputError) else record.article.text
    if isinstance(text, InputError):
        raise text
    return text


def txt_record(source: str, path: str, id_: str, watch: Watch | None = None) -> Record | InputError:
    """A whole .txt[.gz] file as one article (checked by ``watch``, see :func:`open_input`)."""
    try:
        with open(path, "rb") as f:
            before = os.fstat(f.fileno())
            if watch is not None:
                watch.opened(before)
            stored = f.read()
            after = os.fstat(f.fileno())
    except OSError as err:
        if watch is not None:
            watch.unreadable(err)
        return InputError(source, 0, f"cannot read: {os_reason(err)}", record=False)
    if watch is not None:
        watch.ended(before, after, len(stored), zlib.crc32(stored))
    text = _txt_text(source, path, stored)
    if isinstance(text, InputError):
        return text
    codec = codec_of(stored[:HEAD])
    return Record(Article(id_, text, {}, source, 0), "txt", stored, "" if codec is None else codec.suffix)


def _txt_text(source: str, path: str, stored: bytes) -> str | InputError:
    """The text of a stored .txt file (plain or compressed): strict UTF-8 (BOM dropped), not blank."""
    codec, named = codec_of(stored[:HEAD]), codec_named(path)
    if codec is not None:
        try:
            data = decompress(stored, codec, source)
        except CompressedDataError as err:
            return InputError(source, 0, err.reason)
    elif named is not None:
        return InputError(source, 0, not_compressed(named), record=False)
    else:
        data = stored
    skip = len(BOM) if data.startswith(BOM) else 0
    try:
        text = data[skip:].decode("utf-8")
    except UnicodeDecodeError as err:
        offset = err.start + skip
        line = data.count(b"\n", 0, offset) + 1
        return InputError(
            source, line, f"invalid UTF-8: byte 0x{data[offset]:02x} at offset {offset} of the file"
        )
    if not text.strip():
        return InputError(source, 0, f"{'empty' if not text else 'whitespace-only'} text")
    return text
