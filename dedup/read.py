"""Streaming readers: folders of .txt files, JSONL and CSV dumps (optionally gzipped), stdin.

One :class:`Inputs` object stands for the inputs of a run. It can be read more
than once (the detector reads the articles, the writer reads the records again
to re-emit the kept ones), so stdin is spooled to a temporary file on first use.

Bad input never passes silently: every problem is an :class:`InputError` that
names the file and line. Without ``on_bad`` the first one is raised; with it,
each is reported and reading goes on with the next record (or the next file,
when the whole file cannot be read any further).

Examples:
    >>> with Inputs(["news.jsonl.gz", "more/"]) as inputs:  # doctest: +SKIP
    ...     for article in inputs.articles():
    ...         print(article.id, len(article.text))
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import json
import os
import sys
import tempfile
import weakref
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, NamedTuple

from dedup.article import Article, InputError
from dedup.keymap import SeenStrings

FORMATS = ("jsonl", "csv", "txt")
STDIN = "-"
STDIN_NAME = "<stdin>"

_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".txt": "txt"}
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
# Errors that mean the rest of a file cannot be read (a truncated or corrupt gzip, an I/O error).
_READ_ERRORS = (OSError, EOFError, zlib.error)
# Where the duplicate-id check remembers an id: source index * _LINES + line, one int per id.
_LINES = 1 << 40
_CHECK_BATCH = 1024  # records whose ids are checked at once

OnBad = Callable[[InputError], None]


@dataclass(frozen=True, slots=True)
class Record:
    """One record as read: its article, and what the writer needs to re-emit it unchanged.

    ``raw`` is, by ``format``: ``"jsonl"`` the decoded JSON object (key order
    and value types kept); ``"csv"`` a dict column → value in header order;
    ``"txt"`` the file's bytes as stored (still gzipped if ``compressed``).
    """

    article: Article
    format: str
    raw: Any
    compressed: bool = False


class CsvHeader(NamedTuple):
    """The columns of the CSV inputs (the union, in order of first appearance) and their line ending."""

    columns: list[str]
    newline: str


class _Unreadable(Exception):
    """A whole file cannot be read; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Inputs:
    """The inputs of one run: paths (files or folders) or ``"-"`` for JSONL on stdin.

    Args:
        paths: folders (every ``*.txt`` and ``*.txt.gz`` inside, sorted by
            name, not recursive; id = file name without the extension),
            ``.txt[.gz]`` files (one article each), ``.jsonl``/``.ndjson[.gz]``
            files (one JSON object a line), ``.csv[.gz]`` files (a header row,
            then records), or ``"-"`` for JSONL on stdin.
        id_field, text_field: the JSONL/CSV fields holding the id and the
            text; every other field is carried in ``Article.fields``.
        input_format: ``"jsonl"``, ``"csv"`` or ``"txt"`` to read every file
            (and stdin) in that format whatever its extension; ``None`` tells
            the format from the extension. Folders are always read as .txt files.

    Note:
        Gzip is recognised by the gzip magic bytes: a gzipped file is
        decompressed even when not named ``.gz``, and a file named ``.gz``
        that is not gzipped is an :class:`InputError`.

        Use it as a context manager (or call :meth:`close`) so that the
        spooled copy of stdin is deleted.
    """

    def __init__(
        self,
        paths: Sequence[str | os.PathLike],
        *,
        id_field: str = "id",
        text_field: str = "text",
        input_format: str | None = None,
    ) -> None:
        if isinstance(paths, (str, bytes, os.PathLike)):
            raise TypeError(f"paths must be a list of paths, not one path; did you mean [{paths!r}]?")
        if input_format is not None and input_format not in FORMATS:
            raise ValueError(f"input_format must be one of {FORMATS} or None (detect), not {input_format!r}")
        if not id_field or not text_field or id_field == text_field:
            raise ValueError(
                f"id_field and text_field must be two different non-empty names, "
                f"got {id_field!r} and {text_field!r}"
            )
        self.paths = [os.fspath(p) for p in paths]
        if not self.paths:
            raise ValueError("no inputs: give at least one file, folder or '-' (stdin)")
        self.id_field = id_field
        self.text_field = text_field
        self.input_format = input_format
        if self.paths.count(STDIN) > 1:
            raise InputError(STDIN_NAME, 0, "stdin ('-') can be read only once; give it once")
        self._kinds = [self._kind(p) for p in self.paths]
        self._spool: str | None = None
        self._finalizer: weakref.finalize | None = None
        self._compressed: bool | None = None
        self._closed = False

    def _kind(self, path: str) -> str:
        """What to read at ``path``: ``"folder"`` or a file format."""
        if path == STDIN:
            if self.input_format == "txt":
                raise InputError(STDIN_NAME, 0, "stdin can be read as jsonl or csv, not txt")
            return self.input_format or "jsonl"
        if os.path.isdir(path):
            return "folder"
        if self.input_format:
            return self.input_format
        name = path.lower().removesuffix(".gz")
        fmt = _EXTENSIONS.get(os.path.splitext(name)[1])
        if fmt is None and not os.path.lexists(path):
            raise InputError(path, 0, "no such file or folder")
        if fmt is None:
            raise InputError(
                path,
                0,
                "cannot tell the format from the name: expected .jsonl, .ndjson, .csv or .txt "
                "(optionally .gz) or a folder of .txt files; or give the input format",
            )
        return fmt

    def __repr__(self) -> str:
        return f"Inputs({self.paths!r}, format={self.format!r})"

    @property
    def format(self) -> str:
        """The format for the deduplicated dump: that of the inputs, ``"jsonl"`` if they mix formats."""
        formats = {"txt" if k == "folder" else k for k in self._kinds}
        return formats.pop() if len(formats) == 1 else "jsonl"

    @property
    def compressed(self) -> bool:
        """True if every input is gzipped (so the deduplicated dump is gzipped too)."""
        if self._compressed is None:
            self._compressed = all(
                self._is_gzipped(p, k) for p, k in zip(self.paths, self._kinds, strict=True)
            )
        return self._compressed

    def _is_gzipped(self, path: str, kind: str) -> bool:
        if kind == "folder":
            with contextlib.suppress(OSError):
                names = _txt_files(path)
                return bool(names) and all(n.lower().endswith(".gz") for n in names)
            return False
        if path == STDIN:
            path = self._stdin_path()
        try:
            with open(path, "rb") as f:
                return f.read(2) == _GZIP_MAGIC
        except OSError:
            return path.lower().endswith(".gz")

    def articles(self, on_bad: OnBad | None = None) -> Iterator[Article]:
        """Yield the articles of every input, in order.

        Args:
            on_bad: called with each :class:`InputError` (bad record, duplicate
                id, unreadable file), after which reading goes on; ``None``
                raises the first one.
        """
        for record in self.records(on_bad):
            yield record.article

    def records(self, on_bad: OnBad | None = None) -> Iterator[Record]:
        """Like :meth:`articles`, with what the writer needs to re-emit each record unchanged.

        The records are exactly those :meth:`articles` yields, in the same
        order; a record with an id seen before in this pass is reported and
        skipped (the first one is kept).
        """
        if self._closed:
            raise ValueError("these Inputs are closed")
        seen = SeenStrings()  # each id's first place: 24 bytes an id, for dumps of millions
        sources: list[str] = []
        for path, kind in zip(self.paths, self._kinds, strict=True):
            pending: list[tuple[Record | InputError, int]] = []
            for item in self._read(path, kind, sources):
                line = 0 if isinstance(item, InputError) else item.article.line
                pending.append((item, (len(sources) - 1) * _LINES + line))
                if len(pending) >= _CHECK_BATCH:
                    yield from self._checked(pending, seen, sources, on_bad)
                    pending = []
            yield from self._checked(pending, seen, sources, on_bad)

    @staticmethod
    def _checked(
        pending: list[tuple[Record | InputError, int]],
        seen: SeenStrings,
        sources: list[str],
        on_bad: OnBad | None,
    ) -> Iterator[Record]:
        """The records of ``pending`` (each with where it is) in order, an error for each bad
        one and for each id seen before (the ids of a batch checked at once)."""
        records = [(item, at) for item, at in pending if not isinstance(item, InputError)]
        firsts = iter(seen.first_seen([r.article.id for r, _ in records], [at for _, at in records]))
        for item, _ in pending:
            if isinstance(item, InputError):
                if on_bad is None:
                    raise item
                on_bad(item)
                continue
            first = next(firsts)
            if first >= 0:
                article = item.article
                index, line = divmod(first, _LINES)
                where = f"{sources[index]}:{line}" if line else sources[index]
                err = InputError(
                    article.source, article.line, f"duplicate id {article.id!r} (first seen at {where})"
                )
                if on_bad is None:
                    raise err
                on_bad(err)
                continue
            yield item

    def _read(self, path: str, kind: str, sources: list[str]) -> Iterator[Record | InputError]:
        """The records and errors of one input; appends each file's name to ``sources``."""
        if kind == "folder":
            try:
                names = _txt_files(path)
            except OSError as err:
                yield InputError(path, 0, f"cannot read this folder: {_os_reason(err)}")
                return
            if not names:
                yield InputError(path, 0, "no .txt or .txt.gz files in this folder")
                return
            for name in names:
                source = os.path.join(path, name)
                sources.append(source)
                yield _txt_record(source, source, _txt_id(name))
            return
        name = STDIN_NAME if path == STDIN else path
        file = self._stdin_path() if path == STDIN else path
        sources.append(name)
        if kind == "txt":
            yield _txt_record(name, file, _txt_id(os.path.basename(path)))
        elif kind == "jsonl":
            yield from _jsonl_records(name, file, self.id_field, self.text_field)
        else:
            yield from _csv_records(name, file, self.id_field, self.text_field)

    def csv_header(self) -> CsvHeader:
        """The union of the CSV inputs' columns, in order of first appearance, and the first one's newline.

        The writer uses it to re-emit CSV records with their original header
        (the same header when all CSV inputs share one, as is usual).
        """
        columns: dict[str, None] = {}
        newline = None
        for path, kind in zip(self.paths, self._kinds, strict=True):
            if kind != "csv":
                continue
            file = self._stdin_path() if path == STDIN else path
            with contextlib.suppress(_Unreadable, *_READ_ERRORS, csv.Error), _open_input(file) as f:
                lines = _text_lines(f, {})
                first = next(lines, "")
                newline = newline or ("\r\n" if first.endswith("\r\n") else "\n")
                rows = csv.reader(_chain_first(first, lines), strict=True)
                columns.update(dict.fromkeys(next((row for row in rows if row), [])))
        return CsvHeader(list(columns), newline or "\n")

    def _stdin_path(self) -> str:
        """Copy stdin to a temporary file once, so that it can be read again."""
        if self._spool is None:
            fd, path = tempfile.mkstemp(prefix="dedup-stdin-", suffix=".tmp")
            self._finalizer = weakref.finalize(self, _remove, path)
            stream = getattr(sys.stdin, "buffer", sys.stdin)
            with open(fd, "wb") as out:
                while chunk := stream.read(1 << 20):
                    out.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
            self._spool = path  # only once complete
        return self._spool

    def close(self) -> None:
        """Delete the spooled copy of stdin, if any. Reading after this is an error."""
        self._closed = True
        if self._finalizer is not None:
            self._finalizer()

    def __enter__(self) -> Inputs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


def _os_reason(err: OSError) -> str:
    if isinstance(err, FileNotFoundError):
        return "no such file or folder"
    return err.strerror or str(err)


def _txt_files(folder: str) -> list[str]:
    """The names of the ``*.txt`` and ``*.txt.gz`` files in ``folder`` (not hidden ones), sorted."""
    with os.scandir(folder) as entries:
        return sorted(
            e.name
            for e in entries
            if not e.name.startswith(".") and e.name.lower().endswith((".txt", ".txt.gz")) and e.is_file()
        )


def _txt_id(name: str) -> str:
    lower = name.lower()
    for suffix in (".txt.gz", ".txt"):
        if lower.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


@contextlib.contextmanager
def _open_input(path: str) -> Iterator[IO[bytes]]:
    """Open a file for binary reading, decompressing it if it is gzipped.

    Raises:
        _Unreadable: the file cannot be opened, or is named .gz but not gzipped.
    """
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed below, after the gzip reader
    except OSError as err:
        raise _Unreadable(f"cannot read: {_os_reason(err)}") from None
    with raw:
        try:
            magic = raw.peek(2)[:2]
        except OSError as err:
            raise _Unreadable(f"cannot read: {_os_reason(err)}") from None
        if magic == _GZIP_MAGIC:
            with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
                yield gz
        elif path.lower().endswith(".gz"):
            raise _Unreadable("named .gz but not gzip-compressed (no gzip header); rename or gzip it")
        else:
            yield raw


def _read_reason(err: BaseException) -> str:
    """Why the rest of a file cannot be read."""
    if isinstance(err, EOFError):
        return "truncated gzip file: the compressed data ends early (the rest of the file cannot be read)"
    if isinstance(err, (gzip.BadGzipFile, zlib.error)):
        return f"corrupt gzip data ({err}) (the rest of the file cannot be read)"
    return f"cannot read: {_os_reason(err)} (the rest of the file cannot be read)"  # type: ignore[arg-type]


def _utf8_reason(data: bytes, err: UnicodeDecodeError, where: str) -> str:
    return f"invalid UTF-8: byte 0x{data[err.start]:02x} at offset {err.start} of the {where}"


def _text_lines(f: IO[bytes], bad: dict[int, str]) -> Iterator[str]:
    """Decode the lines of ``f`` (ending with their newline) as strict UTF-8, for the csv module.

    A line that is not valid UTF-8 is recorded in ``bad`` (line number → reason)
    and passed on with replacement characters, so that parsing can go on.
    """
    for n, line in enumerate(f, 1):
        if n == 1 and line.startswith(_BOM):
            line = line[len(_BOM) :]
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as err:
            bad[n] = _utf8_reason(line, err, "line")
            yield line.decode("utf-8", "replace")


def _chain_first(first: str, rest: Iterator[str]) -> Iterator[str]:
    if first:
        yield first
    yield from rest


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
    return "an object"


def _lone_surrogate(text: str) -> str | None:
    """Describe the first lone surrogate in ``text`` (from a broken \\u escape), if any."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        return f"lone surrogate \\u{ord(text[err.start]):04x} at character {err.start}"
    return None


def _article(
    record: dict[str, Any], source: str, line: int, id_field: str, text_field: str, *, from_json: bool
) -> Article | InputError:
    """Check one JSONL/CSV record and make its article, or say what is wrong with it."""
    if id_field not in record:
        return InputError(source, line, f"missing id field {id_field!r}")
    if text_field not in record:
        return InputError(source, line, f"missing text field {text_field!r}")
    id_, text = record[id_field], record[text_field]
    if isinstance(id_, (int, float)) and not isinstance(id_, bool):
        id_ = str(id_)
    elif not isinstance(id_, str):
        return InputError(
            source, line, f"id field {id_field!r} must be a string or a number, not {_json_kind(id_)}"
        )
    if not id_:
        return InputError(source, line, f"empty id (field {id_field!r})")
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


def _jsonl_records(source: str, path: str, id_field: str, text_field: str) -> Iterator[Record | InputError]:
    """One record per non-blank line of a JSONL file."""
    try:
        with _open_input(path) as f:
            n = 0
            try:
                for n, line in enumerate(f, 1):  # noqa: B007 - n + 1 is the line that failed, below
                    if n == 1 and line.startswith(_BOM):
                        line = line[len(_BOM) :]
                    if line.strip():
                        yield _jsonl_record(line, source, n, id_field, text_field)
            except _READ_ERRORS as err:
                yield InputError(source, n + 1, _read_reason(err))
    except _Unreadable as err:
        yield InputError(source, 0, err.reason)


def _jsonl_record(line: bytes, source: str, n: int, id_field: str, text_field: str) -> Record | InputError:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as err:
        return InputError(source, n, _utf8_reason(line, err, "line"))
    try:
        obj = json.loads(text.rstrip("\r\n"))
    except json.JSONDecodeError as err:
        what = err.msg.removesuffix(" at").removesuffix(" starting")
        return InputError(source, n, f"malformed JSON at column {err.colno}: {what}")
    except (ValueError, RecursionError) as err:
        return InputError(source, n, f"malformed JSON: {err}")
    if not isinstance(obj, dict):
        return InputError(source, n, f"a JSON line must be an object, not {_json_kind(obj)}")
    article = _article(obj, source, n, id_field, text_field, from_json=True)
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


def _csv_records(source: str, path: str, id_field: str, text_field: str) -> Iterator[Record | InputError]:
    """One record per CSV row after the header; line numbers are each record's first line."""
    _raise_csv_field_limit()
    try:
        with _open_input(path) as f:
            yield from _csv_rows(source, f, id_field, text_field)
    except _Unreadable as err:
        yield InputError(source, 0, err.reason)


def _csv_rows(source: str, f: IO[bytes], id_field: str, text_field: str) -> Iterator[Record | InputError]:
    bad: dict[int, str] = {}
    reader = csv.reader(_text_lines(f, bad), strict=True)
    try:
        header: list[str] = []
        while not header:
            header = next(reader)
    except StopIteration:
        yield InputError(source, 0, "empty CSV file: no header row")
        return
    except csv.Error as err:
        yield InputError(source, reader.line_num, f"malformed CSV header: {err}")
        return
    except _READ_ERRORS as err:
        yield InputError(source, reader.line_num + 1, _read_reason(err))
        return
    problem = _header_problem(header, id_field, text_field, bad)
    if problem:
        yield InputError(source, reader.line_num, problem)
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
        except _READ_ERRORS as err:
            yield InputError(source, reader.line_num + 1, _read_reason(err))
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
        article = _article(record, source, start, id_field, text_field, from_json=False)
        yield article if isinstance(article, InputError) else Record(article, "csv", record)


def _header_problem(header: list[str], id_field: str, text_field: str, bad: dict[int, str]) -> str | None:
    if bad:
        return f"CSV header: {bad[min(bad)]}"
    seen: set[str] = set()
    for column in header:
        if column in seen:
            return f"column {column!r} appears twice in the header"
        seen.add(column)
    shown = ", ".join(map(repr, header[:10])) + (", ..." if len(header) > 10 else "")
    for what, field in (("id", id_field), ("text", text_field)):
        if field not in seen:
            return f"no {what} column {field!r} in the header (columns: {shown})"
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
        record = _txt_record(path, path, "")
        text = record if isinstance(record, InputError) else record.article.text
    if isinstance(text, InputError):
        raise text
    return text


def _txt_record(source: str, path: str, id_: str) -> Record | InputError:
    """A whole .txt[.gz] file as one article."""
    try:
        with open(path, "rb") as f:
            stored = f.read()
    except OSError as err:
        return InputError(source, 0, f"cannot read: {_os_reason(err)}")
    text = _txt_text(source, path, stored)
    if isinstance(text, InputError):
        return text
    return Record(Article(id_, text, {}, source, 0), "txt", stored, stored[:2] == _GZIP_MAGIC)


def _txt_text(source: str, path: str, stored: bytes) -> str | InputError:
    """The text of a stored .txt[.gz] file: gunzipped if gzipped, strict UTF-8 (BOM dropped), not blank."""
    compressed = stored[:2] == _GZIP_MAGIC
    if compressed:
        try:
            data = gzip.decompress(stored)
        except EOFError:
            return InputError(source, 0, "truncated gzip file: the compressed data ends early")
        except (gzip.BadGzipFile, zlib.error) as err:
            return InputError(source, 0, f"corrupt gzip data ({err})")
    elif path.lower().endswith(".gz"):
        return InputError(source, 0, "named .gz but not gzip-compressed (no gzip header); rename or gzip it")
    else:
        data = stored
    skip = len(_BOM) if data.startswith(_BOM) else 0
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
