"""Streaming readers: JSONL, CSV/TSV and Parquet dumps, .txt files, folders of them (the shards
datatrove, Spark and Hugging Face datasets write), stdin; gzip, bzip2, xz or zstd compressed.

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
    >>> with Inputs(["news.jsonl.gz", "shards/"], recursive=True) as inputs:  # doctest: +SKIP
    ...     for article in inputs.articles():
    ...         print(article.id, len(article.text))
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from dedup.arrays.keymap import SeenStrings
from dedup.io.article import Article, InputChangedError, InputError
from dedup.io.compression import CODECS, file_codec, need_codec
from dedup.io.files import (
    STDIN,
    STDIN_NAME,
    Identity,
    Watch,
    os_reason,
)
from dedup.io.formats import (
    EXTENSIONS,
    FORMATS,
    CsvHeader,
    Record,
    csv_delimiter,
    csv_records,
    csv_union,
    folder_files,
    format_of,
    json_hint,
    jsonl_records,
    too_long,
    txt_id,
    txt_record,
)
from dedup.io.parquet import parquet_records, pyarrow, unified_schema

__all__ = ["FORMATS", "MAX_CHARS", "Inputs"]


MAX_CHARS = 1_000_000
"""The command line's longest article text by default (``--max-chars``): 1M characters, about
300 printed pages. An article takes about 45 bytes of memory a character while it is processed
(one of 1M characters added 45 MB to a run's peak, one of 5M 216 MB). The longest article of the
dev sets in ``../shared/data`` has 16,887 characters."""


# Where the duplicate-id check remembers an id: source index * _LINES + line, one int per id.
_LINES = 1 << 40


_CHECK_BATCH = 1024  # records whose ids are checked at once


OnBad = Callable[[InputError], None]


_SPOOL_CHUNK = 1 << 20


_KNOWN = ", ".join(EXTENSIONS) + " (optionally " + ", ".join(c.suffix for c in CODECS) + ")"


class Inputs:
    """The inputs of one run: paths (files or folders) or ``"-"`` for JSONL on stdin.

    Args:
        paths: ``.jsonl``/``.ndjson`` files (one JSON object a line; ``.json`` too when given
            by name, not in a folder), ``.csv`` files
            (a header row, then records; ``.tsv``: tab-delimited), ``.parquet`` files (one record a
            row; ``pip install 'newsdedup[parquet]'``), ``.txt`` files (one article each; id = the
            name without the extension), any of them gzip, bzip2, xz or zstd compressed
            (``.gz``, ``.bz2``, ``.xz``, ``.zst``); folders of such files (the shards
            ``part-00000.jsonl.gz``... that datatrove, Spark and Hugging Face datasets write), read
            in the order of their names, each file in its own format; or ``"-"`` for JSONL on stdin.
        id_field, text_field: the JSONL/CSV/Parquet fields holding the id and the text; every
            other field is carried in ``Article.fields``.
        input_format: ``"jsonl"``, ``"csv"``, ``"txt"`` or ``"parquet"`` to read every file
            (and stdin; every file of a folder, whatever its name) in that format; ``None`` tells
            the format from each file's name.
        recursive: read the subfolders of a folder too (their ``.txt`` files' ids are their paths
            in the folder, ``2024/01/story``).
        delimiter: the CSV field delimiter (one character); ``None``: a tab for ``.tsv`` files,
            else a comma.
        max_chars: the longest text an article may have (:data:`MAX_CHARS`; None: no
            limit). A longer one is a bad record (an :class:`InputError` naming it), refused
            before its text is decoded where its size in bytes already says so: one huge
            article would otherwise take gigabytes of memory (about 45 bytes a character).

    Note:
        A folder never reads hidden files and folders (``.name``), nor those Spark, Hadoop and
        Parquet writers put beside the data (``_SUCCESS``, ``_metadata``, ``*.crc``); without
        ``input_format``, nor files whose name says no input format (``README.md``). A folder
        with no file to read is an :class:`InputError` naming it.

        Compression is recognised by its magic bytes: a compressed file is decompressed even
        when not so named, and a file named ``.gz`` (``.bz2``...) that is not so compressed is
        an :class:`InputError`.

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
        recursive: bool = False,
        delimiter: str | None = None,
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
        if delimiter is not None and (len(delimiter) != 1 or delimiter in '\r\n"'):
            raise ValueError(f"delimiter must be one character (not a quote or newline), not {delimiter!r}")
        self.max_chars = max_chars
        self.paths = [os.fspath(p) for p in paths]
        if not self.paths:
            raise ValueError("no inputs: give at least one file, folder or '-' (stdin)")
        self.id_field = id_field
        self.text_field = text_field
        self.input_format = input_format
        self.recursive = recursive
        self.delimiter = delimiter
        if self.paths.count(STDIN) > 1:
            raise InputError(STDIN_NAME, 0, "stdin ('-') can be read only once; give it once", record=False)
        if input_format == "parquet" and STDIN in self.paths:
            raise InputError(STDIN_NAME, 0, "stdin can be read as jsonl or csv, not parquet", record=False)
        self._kinds = [self._kind(p) for p in self.paths]
        if "parquet" in self._kinds:  # (a missing package: said before anything is read)
            pyarrow(self.paths[self._kinds.index("parquet")])
        for path in self.paths:
            need_codec(path)
        self._spools: dict[str, str] = {}  # (input -> the file its copy is read from)
        self._spooled: list[tuple[int, str | None]] = []  # (descriptor, name if not anonymous)
        self._finalizer = weakref.finalize(self, _release_spools, self._spooled)
        self._identities: dict[str, Identity] = {}  # (file -> what its first complete read saw)
        self._listings: dict[str, list[str]] = {}  # (folder -> its files at the first read)
        self._compression: tuple[str | None] | None = None
        self._closed = False
        self._done_bytes = 0  # (this read's files read through: their bytes; see bytes_read)
        self._reading: Watch | None = None

    def _kind(self, path: str) -> str:
        """What to read at ``path``: ``"folder"`` or a file format."""
        if path == STDIN:
            if self.input_format == "txt":
                raise InputError(STDIN_NAME, 0, "stdin can be read as jsonl or csv, not txt", record=False)
            return self.input_format or "jsonl"
        if os.path.isdir(path):
            return "folder"
        if self.input_format:
            return self.input_format
        fmt = format_of(path, given=True)
        if fmt is None and not os.path.lexists(path):
            raise InputError(path, 0, "no such file or folder", record=False)
        if fmt is None:
            raise InputError(
                path,
                0,
                f"cannot tell the format from the name: expected {_KNOWN}, or a folder of them; "
                "or give it with --format jsonl|csv|txt|parquet",
                record=False,
            )
        return fmt

    def __repr__(self) -> str:
        return f"Inputs({self.paths!r}, format={self.format!r})"

    def _file_kind(self, name: str) -> str:
        """The format of the file ``name`` of a folder."""
        return self.input_format or format_of(name) or "txt"

    def _members(self, folder: str) -> list[str]:
        """The files of ``folder`` to read, relative to it (listed once; the same list after)."""
        names = folder_files(folder, recursive=self.recursive, any_name=self.input_format is not None)
        return self._listings.setdefault(folder, names)

    def _formats(self) -> set[str]:
        formats = set()
        for path, kind in zip(self.paths, self._kinds, strict=True):
            if kind != "folder":
                formats.add(kind)
                continue
            try:
                formats.update(self._file_kind(n) for n in self._members(path))
            except OSError:
                formats.add("txt")
        return formats

    @property
    def format(self) -> str:
        """The format for the deduplicated dump: that of the inputs, ``"jsonl"`` if they mix formats."""
        formats = self._formats()
        return formats.pop() if len(formats) == 1 else "jsonl"

    @property
    def compression(self) -> str | None:
        """How every input is compressed (``"gzip"``, ``"bzip2"``, ``"xz"``, ``"zstd"``: the
        deduplicated dump is compressed so too), or None if some are not, or differently."""
        if self._compression is None:
            seen = {file_codec(file) for _, file, _ in self._files()} or {None}
            self._compression = (seen.pop() if len(seen) == 1 else None,)
        return self._compression[0]

    @property
    def compressed(self) -> bool:
        """True if every input is compressed in one way (:attr:`compression`)."""
        return self.compression is not None

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
        self._done_bytes, self._reading = 0, None
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
            listed = path in self._listings
            try:
                names = folder_files(path, recursive=self.recursive, any_name=self.input_format is not None)
            except OSError as err:
                if listed:
                    raise InputChangedError(path, 0, f"cannot be read again: {os_reason(err)}") from None
                yield InputError(path, 0, f"cannot read this folder: {os_reason(err)}", record=False)
                return
            first = self._listings.setdefault(path, names)
            if names != first:
                added, gone = len(set(names) - set(first)), len(set(first) - set(names))
                raise InputChangedError(
                    path,
                    0,
                    f"changed between the two reads of the run: {added} file(s) added, {gone} removed",
                )
            if not names:
                sub = " (nor in its subfolders)" if self.recursive else " (--recursive reads subfolders)"
                reason = f"no input files in this folder{sub}: expected {_KNOWN}{json_hint(path)}"
                yield InputError(path, 0, reason, record=False)
                return
            for name in names:
                source = os.path.join(path, name)
                yield from self._read_file(source, source, self._file_kind(name), sources, name)
            return
        name = STDIN_NAME if path == STDIN else path
        yield from self._read_file(name, self._file(path), kind, sources, os.path.basename(path))

    def _read_file(
        self, name: str, file: str, kind: str, sources: list[str], id_name: str
    ) -> Iterator[Record | InputError]:
        """The records of the file ``file`` (shown as ``name``) in the format ``kind``; a
        ``.txt`` file's id is ``id_name`` without its suffixes."""
        sources.append(name)
        watch = self._watch(name, file)
        if kind == "txt":
            items: Iterable[Record | InputError] = [txt_record(name, file, txt_id(id_name), watch)]
        elif kind == "jsonl":
            items = jsonl_records(name, file, self.id_field, self.text_field, watch, self.max_chars)
        elif kind == "parquet":
            items = parquet_records(name, file, self.id_field, self.text_field, watch)
        else:
            delimiter = csv_delimiter(name, self.delimiter)
            items = csv_records(name, file, self.id_field, self.text_field, watch, delimiter)
        for item in items:
            yield self._limited(item)

    def _limited(self, item: Record | InputError) -> Record | InputError:
        """``item``, or the error of a text longer than ``max_chars``."""
        if self.max_chars is None or isinstance(item, InputError) or len(item.article.text) <= self.max_chars:
            return item
        a = item.article
        return InputError(a.source, a.line, too_long(f"text of {len(a.text):,} characters", self.max_chars))

    def _watch(self, name: str, file: str) -> Watch:
        """The check of one read of ``file`` (shown as ``name``) against its first."""

        def record(seen: Identity) -> None:
            self._identities[file] = seen

        if self._reading is not None:
            self._done_bytes += self._reading.bytes_read
        self._reading = Watch(name, self._identities.get(file), record)
        return self._reading

    @property
    def bytes_read(self) -> int:
        """The bytes the current read (of :meth:`records`) has read, as stored (compressed if they
        are), for a progress bar against :meth:`size`."""
        return self._done_bytes + (self._reading.bytes_read if self._reading is not None else 0)

    def size(self) -> int | None:
        """The bytes of the inputs as stored (the files, and those read of the folders); None
        when it cannot be known before reading (stdin, a pipe)."""
        total = 0
        for path, kind in zip(self.paths, self._kinds, strict=True):
            try:
                if kind == "folder":
                    names = folder_files(
                        path, recursive=self.recursive, any_name=self.input_format is not None
                    )
                    total += sum(os.path.getsize(os.path.join(path, name)) for name in names)
                    continue
                st = os.stat(path) if path != STDIN else None
            except OSError:
                return None
            if st is None or not stat.S_ISREG(st.st_mode):
                return None
            total += st.st_size
        return total

    def csv_header(self) -> CsvHeader:
        """The union of the CSV inputs' columns, in order of first appearance, the first one's
        newline and delimiter (:func:`dedup.io.formats.csv_union`), for the writer to re-emit
        CSV records with their original header."""
        return csv_union(
            ((name, file) for name, file, kind in self._files() if kind == "csv"), self.delimiter
        )

    def parquet_schema(self) -> Any:
        """The schema of the Parquet inputs (``pyarrow.Schema``; several are unified:
        :func:`dedup.io.parquet.unified_schema`), for the writer to re-emit their records with.

        Raises:
            InputError: two Parquet inputs have a column of different types.
        """
        return unified_schema((name, file) for name, file, kind in self._files() if kind == "parquet")

    def _files(self) -> Iterator[tuple[str, str, str]]:
        """Each file the inputs are (those a folder holds): its name, the file to read, its format."""
        for path, kind in zip(self.paths, self._kinds, strict=True):
            if kind != "folder":
                yield (STDIN_NAME if path == STDIN else path), self._file(path), kind
                continue
            with contextlib.suppress(OSError):
                for n in self._members(path):
                    yield os.path.join(path, n), os.path.join(path, n), self._file_kind(n)

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
            raise InputError(name, 0, f"cannot read: {os_reason(err)}", record=False) from None
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
