"""Parquet inputs and outputs (``pip install 'newsdedup[parquet]'``: pyarrow), read a row group at
a time: a file is never held whole."""

from __future__ import annotations

import base64
import contextlib
import os
from collections.abc import Iterable, Iterator
from typing import IO, Any

from dedup.io.article import Article, InputError
from dedup.io.files import Watch, os_reason
from dedup.io.formats import Record, missing_field, record_article

PARQUET_BATCH = 1024
"""Rows of a Parquet file turned into records at a time (within one row group: a file is read
a row group at a time, never whole)."""


def parquet_records(
    source: str,
    path: str,
    id_field: str,
    text_field: str,
    watch: Watch | None = None,
    batch_rows: int = PARQUET_BATCH,
) -> Iterator[Record | InputError]:
    """One record per row of a Parquet file, streamed by row group (``pyarrow``); the record
    number of an error is the row's, from 1, across row groups.

    A file read again is checked by its device, inode, size and time (its bytes are not read in
    order, so not by their CRC).

    Raises:
        ImportError: pyarrow is missing.
    """
    pa, pq = pyarrow(source)
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below, after the generator's last record
    except OSError as err:
        if watch is not None:
            watch.unreadable(err)
        yield InputError(source, 0, f"cannot read: {os_reason(err)}", record=False)
        return
    with f:
        before = os.fstat(f.fileno())
        if watch is not None:
            watch.opened(before)
        try:
            parquet = pq.ParquetFile(f)
        except (pa.ArrowException, OSError) as err:
            yield InputError(source, 0, f"not a Parquet file ({err})", record=False)
            return
        names = parquet.schema_arrow.names
        for what, field in (("id", id_field), ("text", text_field)):
            if field not in names:
                problem = missing_field(what, field, names, "its columns").replace(" field ", " column ", 1)
                yield InputError(source, 0, problem, record=False)
                return
        row = 0
        try:
            for batch in _row_groups(parquet, batch_rows):
                for obj in batch.to_pylist():
                    row += 1
                    article = record_article(obj, source, row, id_field, text_field, from_json=False)
                    if isinstance(article, InputError):
                        yield article
                        continue
                    fields = {k: json_safe(v) for k, v in article.fields.items()}
                    yield Record(Article(article.id, article.text, fields, source, row), "parquet", obj)
        except (pa.ArrowException, OSError) as err:
            reason = f"corrupt Parquet data ({err}) (the rest of the file cannot be read)"
            yield InputError(source, row + 1, reason)
            return
        if watch is not None:
            after = os.fstat(f.fileno())
            watch.ended(before, after, after.st_size, 0)


def _row_groups(parquet: Any, batch_rows: int) -> Iterator[Any]:
    """The record batches of a ``pyarrow.parquet.ParquetFile``, one row group read at a time (its
    ``iter_batches`` over all row groups reads ahead: a whole file before the first batch)."""
    for group in range(parquet.num_row_groups):
        yield from parquet.iter_batches(batch_size=batch_rows, row_groups=[group], use_threads=False)


def pyarrow(source: str = "") -> tuple[Any, Any]:
    """``pyarrow`` and ``pyarrow.parquet``, or an ImportError that says how to install them."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        where = f"{source}: " if source else ""
        raise ImportError(f"{where}reading Parquet needs pyarrow: pip install 'newsdedup[parquet]'") from None
    return pa, pq


def json_safe(value: Any) -> Any:
    """A Parquet value as JSON can hold it (kept in ``Article.fields``): dates and times in ISO
    8601, bytes in base64, decimals as strings, maps as lists of [key, value]."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    iso = getattr(value, "isoformat", None)
    return iso() if callable(iso) else str(value)


def unified_schema(files: Iterable[tuple[str, str]]) -> Any:
    """The schema of the Parquet ``files`` (name, file to read), unified: their columns in order
    of first appearance (``pyarrow.unify_schemas``, types promoted where they can be).

    Raises:
        InputError: two files have a column of different types.
    """
    pa, pq = pyarrow()
    schemas, names = [], []
    for name, file in files:
        with contextlib.suppress(OSError, pa.ArrowException):
            schemas.append(pq.read_schema(file))
            names.append(name)
    try:
        return pa.unify_schemas(schemas, promote_options="permissive")
    except (pa.ArrowException, TypeError) as err:
        where = f"{names[0]} (and {len(names) - 1} other Parquet inputs)" if names else "<parquet>"
        raise InputError(where, 0, f"the Parquet inputs' schemas differ: {err}", record=False) from None


PARQUET_ROWS = 10_000
"""Rows of a Parquet output's row group (each is gathered in memory, then written)."""


class ParquetRows:
    """A Parquet file written row by row (dicts, as read or with fields added), in row groups of
    :data:`PARQUET_ROWS` rows: the kept dump and the audit dumps of a Parquet run."""

    def __init__(self, f: IO[bytes], schema: Any) -> None:
        self._pa, pq = pyarrow()
        self._schema = schema
        self._writer = pq.ParquetWriter(f, schema)
        self._rows: list[dict[str, Any]] = []

    def write(self, row: dict[str, Any]) -> None:
        self._rows.append(row)
        if len(self._rows) >= PARQUET_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_table(self._pa.Table.from_pylist(self._rows, schema=self._schema))
            self._rows = []

    def close(self) -> None:
        """Write the last row group and the file's footer."""
        self._flush()
        self._writer.close()


def write_parquet(f: IO[bytes], schema: Any, records: Iterable[Record]) -> None:
    """Write the records (Parquet rows, as read) to ``f`` as a Parquet file with ``schema``."""
    rows = ParquetRows(f, schema)
    for record in records:
        rows.write(record.raw)
    rows.close()


def with_fields(schema: Any, names: list[str]) -> Any:
    """``schema`` and the audit fields ``names`` (cluster, duplicate_of, score, kept, as
    :data:`dedup.io.write.AUDIT_FIELDS` orders them), nullable, after its own columns."""
    pa, _ = pyarrow()
    types = (pa.int64(), pa.string(), pa.float64(), pa.bool_())
    for name, kind in zip(names, types, strict=True):
        schema = schema.append(pa.field(name, kind))
    return schema
