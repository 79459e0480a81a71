"""What a run writes: JSON lines, JSON documents, and the dump of the kept records.

Every file is written atomically (:func:`dedup.io.atomic.atomic_write`): complete or absent, never
half written, and nothing left behind by a failed or killed writer. Given a
:class:`~dedup.io.atomic.RunFolder` (``run=``), a file is held until the run puts all its files in
place at once.

Examples:
    >>> from pathlib import Path
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp())
    >>> write_jsonl(out / "pairs.jsonl", [{"a": "x", "b": "y", "cosine": 0.93}])
    1
    >>> (out / "pairs.jsonl").read_text()
    '{"a": "x", "b": "y", "cosine": 0.93}\\n'
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from dedup.io.article import InputChangedError, InputError
from dedup.io.atomic import RunFolder, atomic_write, fsync_dir, swap_in, temp_name
from dedup.io.compression import CODECS
from dedup.io.files import STDIN, STDIN_NAME
from dedup.io.formats import CsvHeader, Record
from dedup.io.parquet import ParquetRows, with_fields, write_parquet
from dedup.io.read import Inputs


def json_line(obj: Any) -> bytes:
    """One JSON line in UTF-8, non-ASCII kept as is (lone surrogates, invalid in UTF-8, as \\u escapes)."""
    line = json.dumps(obj, ensure_ascii=False)
    try:
        return line.encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        return json.dumps(obj).encode("ascii") + b"\n"


def write_jsonl(
    path: str | os.PathLike,
    rows: Iterable[Mapping[str, Any]],
    *,
    compress: bool = False,
    run: RunFolder | None = None,
) -> int:
    """Write one JSON object a line, atomically; return how many were written. With ``run``,
    ``path`` is a name in the run's folder, put in place with the run's other files."""
    n = 0
    with _atomic(path, run, mode="wb", compress=compress) as f:
        for row in rows:
            f.write(json_line(row))
            n += 1
    return n


def json_document(obj: Any) -> bytes:
    """One pretty-printed JSON document in UTF-8, non-ASCII kept as is (lone surrogates, invalid
    in UTF-8, as \\u escapes), with its final newline."""
    try:
        text = json.dumps(obj, ensure_ascii=False, indent=2).encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(obj, indent=2).encode("ascii")
    return text + b"\n"


def write_json(path: str | os.PathLike, obj: Any, *, run: RunFolder | None = None) -> None:
    """Write one pretty-printed JSON document (a summary, a config), atomically (``run``: see
    :func:`write_jsonl`)."""
    with _atomic(path, run, mode="wb") as f:
        f.write(json_document(obj))


def dump_suffix(inputs: Inputs, header: CsvHeader | None) -> str:
    """How the name of a dump of ``inputs``' records ends (after ``deduplicated``, ``removed``,
    ``annotated``): their format (``.tsv`` for a tab-delimited CSV ``header``; ``.jsonl`` for a
    folder of .txt files and for mixed formats) and the compression every input shares (none for
    Parquet, which compresses inside the file)."""
    if inputs.format == "parquet":
        return ".parquet"
    kind = "jsonl" if header is None else "tsv" if header.delimiter == "\t" else "csv"
    codec = inputs.compression
    return f".{kind}" + next((c.suffix for c in CODECS if c.name == codec), "")


def write_deduplicated(
    inputs: Inputs,
    out_dir: str | os.PathLike,
    drop: Collection[str],
    *,
    on_bad: Callable[[InputError], None] | None = None,
    expect: int | None = None,
    run: RunFolder | None = None,
    observe: Callable[[Record], None] | None = None,
) -> Path:
    """Write every input record whose id is not in ``drop``, in the inputs' format; return the path.

    The inputs are read again, so the records come out in input order and
    unchanged:

    - JSONL: ``out_dir/deduplicated.jsonl[.gz]``, each kept object with all
      its fields in their order;
    - CSV: ``out_dir/deduplicated.csv[.gz]``, with the original header (the
      union of the headers, in order, if several CSV files differ) and delimiter
      (``deduplicated.tsv`` if it is a tab);
    - Parquet: ``out_dir/deduplicated.parquet``, with the inputs' schema (unified if several
      differ), in row groups of :data:`dedup.io.parquet.PARQUET_ROWS` rows;
    - txt: a folder ``out_dir/deduplicated/`` with each kept file as it was
      stored (``<id>.txt``, or ``<id>.txt.gz`` if it was gzipped), built next
      to it and renamed into place, replacing an older one;
    - mixed formats: JSONL; JSONL records as they were, CSV, Parquet and txt records
      as ``{id_field: id, text_field: text, **other fields}``.

    A JSONL or CSV output is compressed when every input is compressed the same way (gzip,
    bzip2, xz or zstd: ``deduplicated.jsonl.zst`` for ``.jsonl.zst`` inputs). Records the reader finds bad
    are passed to ``on_bad`` and not written (``None`` raises the first one,
    and nothing is written).

    ``run``: ``out_dir`` is the run's folder, and the dump is put in place with its other files.
    ``observe``: called with every record read, kept or not, before it is written (the other
    dumps of the same read: :func:`audit_writers`).
    ``expect``: the number of records the first read gave. The inputs must give as many again
    (and be the same files, see :class:`dedup.io.read.Identity`), or nothing is written.

    Raises:
        InputChangedError: the inputs read again are not those read first.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not isinstance(drop, (set, frozenset, dict)):
        drop = set(drop)
    kept = _kept(inputs.records(on_bad), drop, expect, inputs, observe)
    fmt = inputs.format
    if fmt == "txt":
        if run is not None:
            _fill_txt_folder(run.folder("deduplicated"), kept)
            return run.path("deduplicated")
        return _write_txt_folder(out_dir / "deduplicated", kept)
    if fmt == "parquet":
        path = out_dir / f"deduplicated{dump_suffix(inputs, None)}"
        with _atomic(path, run, mode="wb") as f:
            write_parquet(f, inputs.parquet_schema(), kept)
        return path
    compress: bool | str = inputs.compression or False
    if fmt == "csv":
        header = inputs.csv_header()
        path = out_dir / f"deduplicated{dump_suffix(inputs, header)}"
        with _atomic(path, run, mode="w", compress=compress) as f:
            writer = csv.DictWriter(
                f, header.columns, restval="", lineterminator=header.newline, delimiter=header.delimiter
            )
            writer.writeheader()
            for record in kept:
                writer.writerow(record.raw)
        return path
    path = out_dir / f"deduplicated{dump_suffix(inputs, None)}"
    with _atomic(path, run, mode="wb", compress=compress) as f:
        for record in kept:
            f.write(json_line(_as_json(record, inputs)))
    return path


def _kept(
    records: Iterable[Record],
    drop: Collection[str],
    expect: int | None,
    inputs: Inputs,
    observe: Callable[[Record], None] | None = None,
) -> Iterator[Record]:
    """The records whose id is not in ``drop`` (each record shown to ``observe`` first); after
    the last, an error if there were not ``expect`` records in all (raised before the output is
    renamed into place)."""
    read = 0
    for record in records:
        read += 1
        if observe is not None:
            observe(record)
        if record.article.id not in drop:
            yield record
    if expect is not None and read != expect:
        first = STDIN_NAME if inputs.paths[0] == STDIN else inputs.paths[0]
        where = first if len(inputs.paths) == 1 else f"{first} (and the other inputs)"
        raise InputChangedError(
            where, 0, f"read again, the inputs gave {read:,} records where the first read gave {expect:,}"
        )


def _atomic(path: str | os.PathLike, run: RunFolder | None, **how: Any) -> Any:
    """:func:`atomic_write` of ``path``, held by ``run`` when there is one."""
    hold = None if run is None else run.hold(Path(path).name)
    return atomic_write(path if run is None else run.path(Path(path).name), hold=hold, **how)


def _fill_txt_folder(folder: Path, records: Iterable[Record]) -> None:
    """Write each record as it was stored (``<id>.txt[.gz]``; an id ``sub/name`` in a
    subfolder, as read from one) in ``folder``, durably."""
    made = {folder}
    for record in records:
        name = folder / (record.article.id + ".txt" + record.compressed)
        if name.parent not in made:
            name.parent.mkdir(parents=True, exist_ok=True)
            made.add(name.parent)
        with open(name, "xb") as f:
            f.write(record.raw)
            f.flush()
            os.fsync(f.fileno())
    for made_folder in made:
        fsync_dir(made_folder)


def _as_json(record: Record, inputs: Inputs) -> Mapping[str, Any]:
    """A record as a JSON object (a Parquet record's values as JSON holds them: its fields)."""
    if record.format == "jsonl":
        return record.raw
    a = record.article
    return {inputs.id_field: a.id, inputs.text_field: a.text, **a.fields}


def _write_txt_folder(target: Path, records: Iterable[Record]) -> Path:
    """Build the folder of kept .txt files next to ``target``, then rename it into place."""
    while True:
        tmp = temp_name(target)
        try:
            os.mkdir(tmp)
            break
        except FileExistsError:
            continue
    try:
        _fill_txt_folder(tmp, records)
        swap_in(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(target.parent)
    return target


AUDIT_FIELDS = ("cluster", "duplicate_of", "score", "kept")
"""The fields ``annotated.<format>`` and ``removed.<format>`` add to each record
(see :class:`dedup.result.Verdict`), named so unless the inputs have fields of these names
(:func:`audit_prefix`)."""
AUDIT_PREFIX = "dedup_"


def audit_prefix(clashing: Collection[str]) -> str:
    """The prefix of the audit fields' names, given the names of :data:`AUDIT_FIELDS` the input
    records have (with or without :data:`AUDIT_PREFIX`): none, or :data:`AUDIT_PREFIX` (a
    ``cluster`` field of gold labels stays, and ``dedup_cluster`` is added beside it).

    Raises:
        FieldClashError: the records have both names of a field.
    """
    if not any(name in clashing for name in AUDIT_FIELDS):
        return ""
    both = [name for name in AUDIT_FIELDS if name in clashing and AUDIT_PREFIX + name in clashing]
    if both:
        raise FieldClashError(
            f"the inputs have fields {both[0]!r} and {AUDIT_PREFIX + both[0]!r}, the names the removed and "
            "annotated dumps give their verdict fields: rename one"
        )
    return AUDIT_PREFIX


class FieldClashError(ValueError):
    """An input record already has a field the audit dumps add (``cluster``, ``kept``, ...)."""


@contextlib.contextmanager
def audit_writers(
    inputs: Inputs,
    out_dir: str | os.PathLike,
    verdict: Callable[[str], Mapping[str, Any]],
    *,
    annotate: bool = False,
    removed: bool = True,
    prefix: str = "",
    run: RunFolder | None = None,
) -> Iterator[tuple[Callable[[Record], None], dict[str, Path]]]:
    """The dumps that let a run be audited without a diff, written from the read that writes
    ``deduplicated.<format>`` (pass the callback to :func:`write_deduplicated` as ``observe``).

    - ``annotated.<format>`` (``annotate``): every record, with the fields :data:`AUDIT_FIELDS`
      from ``verdict(id)``, their names after ``prefix`` (:func:`audit_prefix`);
    - ``removed.<format>`` (``removed``): the records dropped as duplicates, with the same fields
      (``duplicate_of``: the id of the record kept in their place).

    The format is the inputs' (CSV/TSV: the header and four more columns, the inputs' delimiter; a
    value of None is an empty cell, booleans ``true``/``false``; Parquet: the inputs' schema and
    four more columns), JSONL for a folder of .txt files (``{"id": ..., "text": ..., fields}``: a
    removed file is in no other output) and for mixed inputs; compressed as the deduplicated
    dump is (:attr:`dedup.io.read.Inputs.compression`). Yields the
    callback and the paths the block will write (complete when it ends, atomically as
    :func:`write_jsonl` writes; nothing is written if it raises).

    Raises:
        FieldClashError: a record (or the CSV header) already has one of :data:`AUDIT_FIELDS`.
    """
    out_dir = Path(out_dir)
    fmt = inputs.format
    codec = inputs.compression if fmt != "parquet" else None
    header = inputs.csv_header() if fmt == "csv" else None
    names = [prefix + name for name in AUDIT_FIELDS]
    if header is not None:
        clash = [name for name in names if name in header.columns]
        if clash:
            raise FieldClashError(
                f"{inputs.paths[0]}: the CSV header has a column {clash[0]!r}, which the annotated and "
                "removed dumps add: rename it"
            )
    schema = with_fields(inputs.parquet_schema(), names) if fmt == "parquet" else None
    paths: dict[str, Path] = {}
    with contextlib.ExitStack() as stack:
        sinks: list[tuple[bool, Callable[[Record, Mapping[str, Any]], None]]] = []
        for name, wanted in (("annotated", annotate), ("removed", removed)):
            if not wanted:
                continue
            path = paths[name] = out_dir / f"{name}{dump_suffix(inputs, header)}"
            f = stack.enter_context(_atomic(path, run, mode="w" if header else "wb", compress=codec or False))
            if schema is not None:
                sink = _parquet_sink(stack, f, schema)
            elif header is not None:
                sink = _csv_sink(f, header, names)
            else:
                sink = _jsonl_sink(f, inputs, names)
            sinks.append((name == "removed", sink))

        def observe(record: Record) -> None:
            v = verdict(record.article.id)
            named = dict(zip(names, v.values(), strict=True)) if prefix else v
            for only_removed, write in sinks:
                if not only_removed or not v["kept"]:
                    write(record, named)

        yield observe, paths


def _parquet_sink(
    stack: contextlib.ExitStack, f: Any, schema: Any
) -> Callable[[Record, Mapping[str, Any]], None]:
    rows = ParquetRows(f, schema)
    stack.callback(rows.close)  # (before the file is closed and put in place: exit order)

    def write(record: Record, verdict: Mapping[str, Any]) -> None:
        rows.write({**record.raw, **verdict})

    return write


def _jsonl_sink(f: Any, inputs: Inputs, names: list[str]) -> Callable[[Record, Mapping[str, Any]], None]:
    def write(record: Record, verdict: Mapping[str, Any]) -> None:
        if record.format == "txt":  # (the text too: a removed file is in no other output)
            row: Mapping[str, Any] = {"id": record.article.id, "text": record.article.text}
        else:
            row = _as_json(record, inputs)
            if any(name in row for name in names):
                a = record.article
                name = next(n for n in names if n in row)
                raise FieldClashError(
                    f"{a.source}:{a.line}: the record has a field {name!r}, which the annotated and removed "
                    "dumps add: rename it"
                )
        f.write(json_line({**row, **verdict}))

    return write


def _csv_sink(f: Any, header: Any, names: list[str]) -> Callable[[Record, Mapping[str, Any]], None]:
    writer = csv.DictWriter(
        f, [*header.columns, *names], restval="", lineterminator=header.newline, delimiter=header.delimiter
    )
    writer.writeheader()

    def cell(value: Any) -> Any:
        return "" if value is None else str(value).lower() if isinstance(value, bool) else value

    def write(record: Record, verdict: Mapping[str, Any]) -> None:
        writer.writerow({**record.raw, **{k: cell(v) for k, v in verdict.items()}})

    return write
