"""Streaming readers: folders of .txt files, JSONL and CSV dumps (optionally gzipped), stdin.

One :class:`Inputs` object stands for the inputs of a run. It can be read more
than once (the detector reads the articles, the writer reads the records again
to re-emit the kept ones), so what cannot be read twice (stdin, a pipe, ``<(...)``) is spooled
to a temporary file on first use, and every file read again must be the one read first: its
device, inode, size and modification time, and a CRC-32 of its bytes, are compared with the
first complete read's (:class:`Identity`); any difference is an :class:`InputChangedError`,
never a silently different second read.

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
import io
import json
import os
import stat
import sys
import tempfile
import weakref
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, NamedTuple

from dedup.arrays.keymap import SeenStrings
from dedup.io.article import Article, InputChangedError, InputError

FORMATS = ("jsonl", "csv", "txt")
MAX_CHARS = 1_000_000
"""The command line's longest article text by default (``--max-chars``): 1M characters, about
300 printed pages. An article takes about 45 bytes of memory a character while it is processed
(one of 1M characters added 45 MB to a run's peak, one of 5M 216 MB). The longest article of the
dev sets in ``../shared/data`` has 16,887 characters."""
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
_SPOOL_CHUNK = 1 << 20
_READ_BUFFER = 1 << 20  # (the CRC is taken a buffer at a time)


@dataclass(frozen=True, slots=True)
class Identity:
    """What one complete read of a file saw: the file (``device``, ``inode``), its ``size`` and
    modification time, and the CRC-32 of the bytes read. Two reads of an unchanged file have the
    same identity; a file changed in between (even rewritten in place to the same size within
    the clock's resolution) differs in one of them."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    crc: int

    @classmethod
    def of(cls, st: os.stat_result, crc: int) -> Identity:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, crc)

    def same_file(self, st: os.stat_result) -> bool:
        """Whether ``st`` (a stat taken before reading again) is this file, unchanged."""
        return (self.device, self.inode, self.size, self.mtime_ns) == (
            st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
        )  # fmt: skip

    def difference(self, other: Identity) -> str:
        """What differs between two reads, in words."""
        if (self.device, self.inode) != (other.device, other.inode):
            return "it was replaced by another file"
        if self.size != other.size:
            return f"its size went from {self.size:,} to {other.size:,} bytes"
        if self.mtime_ns != other.mtime_ns:
            return "it was modified"
        return "its content differs (same size and time)"


class _Counted(io.RawIOBase):
    """A file read through, counting its bytes and their CRC-32, noting when it reached the end."""

    def __init__(self, raw: io.FileIO) -> None:
        self.raw, self.crc, self.size, self.eof = raw, 0, 0, False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer)
        if n:
            self.crc = zlib.crc32(memoryview(buffer)[:n], self.crc)
            self.size += n
        elif n == 0:
            self.eof = True
        return n  # type: ignore[return-value]

    def fileno(self) -> int:
        return self.raw.fileno()

    def close(self) -> None:
        self.raw.close()
        super().close()


class _Watch:
    """One read of one file, checked against the first complete read (``known``), which it
    records (``record``) when there was none."""

    def __init__(self, name: str, known: Identity | None, record: Callable[[Identity], None]) -> None:
        self.name, self.known, self.record = name, known, record

    def changed(self, reason: str) -> InputChangedError:
        return InputChangedError(self.name, 0, f"changed between the two reads of the run: {reason}")

    def unreadable(self, err: OSError) -> None:
        """A file read before that cannot be opened again is a changed input, not a bad record."""
        if self.known is not None:
            raise self.changed(f"it cannot be read again ({_os_reason(err)})")

    def opened(self, st: os.stat_result) -> None:
        if self.known is not None and not self.known.same_file(st):
            raise self.changed(self.known.difference(Identity.of(st, self.known.crc)))

    def ended(self, before: os.stat_result, after: os.stat_result, size: int, crc: int) -> None:
        """The read reached the end of the file, having read ``size`` bytes of CRC ``crc``."""
        if size != after.st_size or before.st_mtime_ns != after.st_mtime_ns:
            raise InputChangedError(
                self.name, 0, "changed while it was read (written to, truncated or replaced): read it again"
            )
        seen = Identity.of(after, crc)
        if self.known is None:
            self.record(seen)
        elif seen != self.known:
            raise self.changed(self.known.difference(seen))


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
        max_chars: the longest text an article may have (:data:`MAX_CHARS`; None: no
            limit). A longer one is a bad record (an :class:`InputError` naming it), refused
            before its text is decoded where its size in bytes already says so: one huge
            article would otherwise take gigabytes of memory (about 45 bytes a character).

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
        max_chars: int | None = None,
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
        if max_chars is not None and max_chars < 1:
            raise ValueError(f"max_chars must be at least 1 (or None: no limit), not {max_chars}")
        self.max_chars = max_chars
        self.paths = [os.fspath(p) for p in paths]
        if not self.paths:
            raise ValueError("no inputs: give at least one file, folder or '-' (stdin)")
        self.id_field = id_field
        self.text_field = text_field
        self.input_format = input_format
        if self.paths.count(STDIN) > 1:
            raise InputError(STDIN_NAME, 0, "stdin ('-') can be read only once; give it once")
        self._kinds = [self._kind(p) for p in self.paths]
        self._spools: dict[str, str] = {}  # (input -> the file its copy is read from)
        self._spooled: list[tuple[int, str | None]] = []  # (descriptor, name if not anonymous)
        self._finalizer = weakref.finalize(self, _release_spools, self._spooled)
        self._identities: dict[str, Identity] = {}  # (file -> what its first complete read saw)
        self._listings: dict[str, list[str]] = {}  # (folder -> its .txt files at the first read)
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
        path = self._file(path)
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
        """The records and errors of one input; appends each file's name to ``sources``.

        Raises:
            InputChangedError: the input is not what an earlier complete read of it saw."""
        if kind == "folder":
            try:
                names = _txt_files(path)
            except OSError as err:
                if path in self._listings:
                    raise InputChangedError(path, 0, f"cannot be read again: {_os_reason(err)}") from None
                yield InputError(path, 0, f"cannot read this folder: {_os_reason(err)}")
                return
            first = self._listings.setdefault(path, names)
            if names != first:
                added, gone = len(set(names) - set(first)), len(set(first) - set(names))
                raise InputChangedError(
                    path,
                    0,
                    f"changed between the two reads of the run: {added} .txt file(s) added, {gone} removed",
                )
            if not names:
                yield InputError(path, 0, "no .txt or .txt.gz files in this folder")
                return
            for name in names:
                source = os.path.join(path, name)
                sources.append(source)
                yield self._limited(_txt_record(source, source, _txt_id(name), self._watch(source, source)))
            return
        name = STDIN_NAME if path == STDIN else path
        file = self._file(path)
        sources.append(name)
        watch = self._watch(name, file)
        if kind == "txt":
            items: Iterable[Record | InputError] = [
                _txt_record(name, file, _txt_id(os.path.basename(path)), watch)
            ]
        elif kind == "jsonl":
            items = _jsonl_records(name, file, self.id_field, self.text_field, watch, self.max_chars)
        else:
            items = _csv_records(name, file, self.id_field, self.text_field, watch)
        for item in items:
            yield self._limited(item)

    def _limited(self, item: Record | InputError) -> Record | InputError:
        """``item``, or the error of a text longer than ``max_chars``."""
        if self.max_chars is None or isinstance(item, InputError) or len(item.article.text) <= self.max_chars:
            return item
        a = item.article
        return InputError(a.source, a.line, _too_long(f"text of {len(a.text):,} characters", self.max_chars))

    def _watch(self, name: str, file: str) -> _Watch:
        """The check of one read of ``file`` (shown as ``name``) against its first."""

        def record(seen: Identity) -> None:
            self._identities[file] = seen

        return _Watch(name, self._identities.get(file), record)

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
            file = self._file(path)
            with contextlib.suppress(_Unreadable, *_READ_ERRORS, csv.Error), _open_input(file) as f:
                lines = _text_lines(f, {})
                first = next(lines, "")
                newline = newline or ("\r\n" if first.endswith("\r\n") else "\n")
                rows = csv.reader(_chain_first(first, lines), strict=True)
                columns.update(dict.fromkeys(next((row for row in rows if row), [])))
        return CsvHeader(list(columns), newline or "\n")

    def _file(self, path: str) -> str:
        """The file to read for input ``path``: itself, or for what cannot be read twice (stdin, a
        pipe, ``<(...)``, a device) a copy spooled on first use."""
        if path in self._spools:
            return self._spools[path]
        if path != STDIN:
            try:
                mode = os.stat(path).st_mode
            except OSError:
                return path  # (reading it says why it cannot be read)
            if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
                return path
        self._spools[path] = self._spool(path)
        return self._spools[path]

    def _spool(self, path: str) -> str:
        """Copy stdin or the stream at ``path`` to a temporary file; the path to read it by.

        On Linux the file has no name once created (read through ``/proc/self/fd``), so that
        even a killed run leaves no copy behind; elsewhere it is deleted by :meth:`close`."""
        name = STDIN_NAME if path == STDIN else path
        fd, spool = tempfile.mkstemp(prefix="dedup-input-", suffix=".tmp")
        anonymous = os.path.isdir("/proc/self/fd")
        if anonymous:
            os.unlink(spool)
        self._spooled.append((fd, None if anonymous else spool))
        try:
            with contextlib.ExitStack() as stack:
                if path == STDIN:
                    stream: Any = getattr(sys.stdin, "buffer", sys.stdin)
                else:
                    stream = stack.enter_context(open(path, "rb"))  # noqa: SIM115
                out = stack.enter_context(open(fd, "wb", closefd=False))
                while chunk := stream.read(_SPOOL_CHUNK):
                    out.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
        except OSError as err:
            raise InputError(name, 0, f"cannot read: {_os_reason(err)}") from None
        return f"/proc/self/fd/{fd}" if anonymous else spool

    def close(self) -> None:
        """Delete the spooled copies (of stdin, of pipes), if any. Reading after this is an error."""
        self._closed = True
        self._finalizer()

    def __enter__(self) -> Inputs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _release_spools(spooled: list[tuple[int, str | None]]) -> None:
    while spooled:
        fd, name = spooled.pop()
        with contextlib.suppress(OSError):
            os.close(fd)
        if name is not None:
            with contextlib.suppress(FileNotFoundError):
                os.remove(name)


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
def _open_input(path: str, watch: _Watch | None = None) -> Iterator[IO[bytes]]:
    """Open a file for binary reading, decompressing it if it is gzipped; with ``watch``, the
    read is checked against the file's first complete read (:class:`_Watch`).

    Raises:
        _Unreadable: the file cannot be opened, or is named .gz but not gzipped.
        InputChangedError: the file is not what ``watch`` saw first.
    """
    try:
        fileio = io.FileIO(path, "r")
    except OSError as err:
        if watch is not None:
            watch.unreadable(err)
        raise _Unreadable(f"cannot read: {_os_reason(err)}") from None
    counted = _Counted(fileio)
    with io.BufferedReader(counted, _READ_BUFFER) as raw:
        before = os.fstat(fileio.fileno())
        if watch is not None:
            watch.opened(before)
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
        if watch is not None and counted.eof:  # (a read to the end; a partial one proves nothing)
            watch.ended(before, os.fstat(fileio.fileno()), counted.size, counted.crc)


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


def _too_long(what: str, max_chars: int) -> str:
    return f"{what}, over the limit of {max_chars:,} (--max-chars)"


def _jsonl_records(
    source: str,
    path: str,
    id_field: str,
    text_field: str,
    watch: _Watch | None = None,
    max_chars: int | None = None,
) -> Iterator[Record | InputError]:
    """One record per non-blank line of a JSONL file (a line longer than ``max_chars``
    characters could be in UTF-8 is refused before it is decoded)."""
    most = None if max_chars is None else 4 * max_chars + 1024  # (4 bytes a character at most)
    try:
        with _open_input(path, watch) as f:
            n = 0
            try:
                for n, line in enumerate(f, 1):  # noqa: B007 - n + 1 is the line that failed, below
                    if n == 1 and line.startswith(_BOM):
                        line = line[len(_BOM) :]
                    if most is not None and len(line) > most:
                        assert max_chars is not None
                        yield InputError(source, n, _too_long(f"a line of {len(line):,} bytes", max_chars))
                    elif line.strip():
                        yield jsonl_record(line, source, n, id_field, text_field)
            except _READ_ERRORS as err:
                yield InputError(source, n + 1, _read_reason(err))
    except _Unreadable as err:
        yield InputError(source, 0, err.reason)


def jsonl_record(line: bytes, source: str, n: int, id_field: str, text_field: str) -> Record | InputError:
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


def _csv_records(
    source: str, path: str, id_field: str, text_field: str, watch: _Watch | None = None
) -> Iterator[Record | InputError]:
    """One record per CSV row after the header; line numbers are each record's first line."""
    _raise_csv_field_limit()
    try:
        with _open_input(path, watch) as f:
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


def _txt_record(source: str, path: str, id_: str, watch: _Watch | None = None) -> Record | InputError:
    """A whole .txt[.gz] file as one article (checked by ``watch``, see :func:`_open_input`)."""
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
        return InputError(source, 0, f"cannot read: {_os_reason(err)}")
    if watch is not None:
        watch.ended(before, after, len(stored), zlib.crc32(stored))
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
