"""Spark's side of reading and writing for the Spark engine (:mod:`dedup.engines.spark`): the
session, the articles read from JSONL or Parquet (local paths, ``s3a://``, ``hdfs://``, anything
Spark reads) and checked as the local reader checks them, the kept records written back, and the
run's small outputs written through Hadoop's file system to wherever the output folder is.

A bad record stops the job with a :class:`SparkInputError` naming its file and line (or record):
never a silently smaller output.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import sys
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from dedup.io.article import InputError

if TYPE_CHECKING:
    from pyspark import RDD
    from pyspark.sql import SparkSession

_BOM = b"\xef\xbb\xbf"
_CHUNK = 10_000  # records filtered together


class SparkInputError(ValueError):
    """A record Spark could not use: ``str(err)`` names its file and line (and the job stops)."""


_RAISED = re.compile(re.escape(f"{SparkInputError.__module__}.{SparkInputError.__qualname__}") + ": (.+)")
"""A bad record's error as an executor's traceback shows it (the class by its full name)."""


class SparkJobError(RuntimeError):
    """A Spark job that failed for another reason than a bad record (a task that kept failing,
    a lost executor): ``str(err)`` is its cause in one line; the executors' logs hold the rest."""


_ATTEMPTS = re.compile(r"failed (\d+) times?")
_JAVA_CAUSE = re.compile(r"^[:\s]*(?:[a-z_$][\w$]*\.)+(\w*(?:Exception|Error)): (.+)$", re.MULTILINE)
_CAUSE = re.compile(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception|Exit|Interrupt)): ?(.*)$", re.MULTILINE)


def _cause(text: str) -> str:
    """The one line that says why a job failed: the Python exception a task raised (the last
    one of its traceback), else the first line of Spark's message."""
    python = text.split("Traceback (most recent call last):")[-1] if "Traceback" in text else ""
    found = _CAUSE.findall(python)
    if found:
        name, message = found[-1]
        return f"{name}: {message}".strip().rstrip(":")
    java = _JAVA_CAUSE.search(text)
    if java:
        return f"{java.group(1)}: {java.group(2).strip()}"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "unknown cause"


@contextlib.contextmanager
def bad_records_surface() -> Iterator[None]:
    """Spark jobs run inside raise a bad record's error as the one line it is (a
    :class:`SparkInputError` naming its file and line), and any other failed job as a
    :class:`SparkJobError` saying why in one line, not as the executors' tracebacks."""
    try:
        yield
    except (SparkInputError, SparkJobError):
        raise
    except Exception as err:
        text = str(err)
        found = _RAISED.search(text)
        if found:
            raise SparkInputError(found.group(1).strip()) from None
        if type(err).__name__ in ("Py4JJavaError", "PythonException") or "SparkException" in text:
            attempts = _ATTEMPTS.search(text)
            tried = f" (a task failed {attempts.group(1)} times)" if attempts else ""
            raise SparkJobError(f"the Spark job failed{tried}: {_cause(text)}") from err
        raise


def spark_session(
    spark: SparkSession | None = None, *, master: str | None = None, progress: bool = True
) -> SparkSession:
    """``spark`` if given (a job's own session), else the active one, else a new one: on
    ``master`` if given, else on the master Spark was given (``spark-submit --master``, or
    ``--master`` in ``PYSPARK_SUBMIT_ARGS``), else ``local[*]``; with Spark's console progress
    bars if ``progress``. A session this process starts itself runs its Python workers with this
    Python (which has dedup), unless ``PYSPARK_PYTHON`` says otherwise."""
    if spark is not None:
        return spark
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ImportError("the Spark engine needs pyspark: pip install 'newsdedup[spark]'") from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ  # under spark-submit: its master and Python
    builder = SparkSession.builder.appName("dedup")
    if master is not None:
        builder = builder.master(master)
    elif not submitted and "--master" not in os.environ.get("PYSPARK_SUBMIT_ARGS", ""):
        builder = builder.master("local[*]")
    if not submitted:  # (a cluster's application keeps its web UI)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = builder.config("spark.ui.enabled", "false")
    chosen_elsewhere = submitted or "--master" in os.environ.get("PYSPARK_SUBMIT_ARGS", "")
    local = (master or "local").startswith("local") and not chosen_elsewhere
    if local and "SPARK_LOCAL_IP" not in os.environ:
        # A session on this machine only listens on loopback: Spark's driver and block manager
        # otherwise bind the host's address, unauthenticated (a cluster follows its own settings).
        for key in ("spark.driver.bindAddress", "spark.driver.host"):
            builder = builder.config(key, LOOPBACK)
    return builder.config("spark.ui.showConsoleProgress", "true" if progress else "false").getOrCreate()


LOOPBACK = "127.0.0.1"
"""Where a local Spark session listens (see :func:`spark_session`)."""


def _records(
    lines: Iterable[tuple[bytes, int]], source: str, id_field: str, text_field: str
) -> Iterator[tuple[str, str, str]]:
    """The ``(id, text)`` of each non-blank line (numbered from 0), checked as the local reader
    checks them; a bad one raises :class:`SparkInputError`."""
    from dedup.io.formats import jsonl_record

    for line, k in lines:
        if k == 0 and line.startswith(_BOM):
            line = line[len(_BOM) :]
        if not line.strip():
            continue
        record = jsonl_record(line, source, k + 1, id_field, text_field)
        if isinstance(record, InputError):
            raise SparkInputError(str(record))
        yield record.article.id, record.article.text, f"{source}:{k + 1}"


def read_jsonl(
    spark: SparkSession, paths: Sequence[str], *, id_field: str = "id", text_field: str = "text"
) -> RDD:
    """The articles of JSONL files as an RDD of ``(position, id, text, "file:line")``: positions
    number the articles in input order (the files in the order given, each line by line)."""
    sc = spark.sparkContext
    parts = []
    for path in paths:
        lines = sc.textFile(str(path), use_unicode=False).zipWithIndex()
        parts.append(lines.mapPartitions(lambda it, p=str(path): _records(it, p, id_field, text_field)))
    articles = parts[0] if len(parts) == 1 else sc.union(parts)
    with bad_records_surface():  # zipWithIndex runs a job now, reading every file
        return articles.zipWithIndex().map(lambda t: (t[1], *t[0]))


def _checked_rows(
    rows: Iterable[tuple[Any, int]], id_field: str, text_field: str
) -> Iterator[tuple[str, str, str]]:
    """``(id, text, "file: record N")`` of Parquet rows, checked as JSONL records are."""
    for row, k in rows:
        where = f"{row['_dedup_file']}: record {k + 1}"
        article_id, text = row[id_field], row[text_field]
        if isinstance(article_id, (int, float)) and not isinstance(article_id, bool):
            article_id = str(article_id)
        if not isinstance(article_id, str) or not article_id:
            raise SparkInputError(
                f"{where}: the id field {id_field!r} must be a non-empty string or a number"
            )
        if not isinstance(text, str) or not text.strip():
            raise SparkInputError(f"{where}: empty or missing text (field {text_field!r})")
        yield article_id, text, where


def read_parquet(
    spark: SparkSession, paths: Sequence[str], *, id_field: str = "id", text_field: str = "text"
) -> tuple[RDD, Any]:
    """The articles of Parquet files or folders, as :func:`read_jsonl` gives them (records
    numbered in the order Spark reads them), and the DataFrame read (for writing the kept rows
    with all their columns)."""
    from pyspark.sql import functions as F

    frame = spark.read.parquet(*[str(p) for p in paths])
    for name in (id_field, text_field):
        if name not in frame.columns:
            raise SparkInputError(
                f"{', '.join(map(str, paths))}: no column {name!r} (columns: {frame.columns})"
            )
    tagged = frame.withColumn("_dedup_file", F.input_file_name())
    with bad_records_surface():
        rows = tagged.rdd.zipWithIndex()
        articles = rows.mapPartitions(lambda it: _checked_rows(it, id_field, text_field))
        return articles.zipWithIndex().map(lambda t: (t[1], *t[0])), frame


def _kept(items: Iterable[tuple[Any, int]], dropped: Any) -> Iterator[Any]:
    """The items ``(record, position)`` whose position is not in the sorted array ``dropped``."""
    drop = dropped.value
    chunk: list[tuple[Any, int]] = []
    for item in itertools.chain(items, [None]):
        if item is not None:
            chunk.append(item)
        if chunk and (item is None or len(chunk) >= _CHUNK):
            positions = np.fromiter((k for _, k in chunk), dtype=np.int64, count=len(chunk))
            keep = ~np.isin(positions, drop, assume_unique=True)
            yield from (record for (record, _), k in zip(chunk, keep.tolist(), strict=True) if k)
            chunk = []


def write_deduplicated(spark: SparkSession, paths: Sequence[str], drop: np.ndarray, out: str) -> None:
    """The input lines of the articles not in ``drop`` (positions, as :func:`read_jsonl` numbers
    them), byte for byte as read, in input order, into the Spark output folder ``out`` (part
    files; gzipped when every input is)."""
    sc = spark.sparkContext
    dropped = sc.broadcast(np.unique(np.asarray(drop, dtype=np.int64)))
    parts = []
    for path in paths:
        lines = sc.textFile(str(path), use_unicode=False).zipWithIndex()
        parts.append(lines.filter(lambda t: t[0].strip()).map(lambda t: t[0]))
    numbered = (parts[0] if len(parts) == 1 else sc.union(parts)).zipWithIndex()
    kept = numbered.mapPartitions(lambda it: (line.decode("utf-8") for line in _kept(it, dropped)))
    codec = "org.apache.hadoop.io.compress.GzipCodec" if all(str(p).endswith(".gz") for p in paths) else None
    kept.saveAsTextFile(out, compressionCodecClass=codec)


def write_parquet_kept(spark: SparkSession, frame: Any, drop: np.ndarray, out: str) -> None:
    """The rows of ``frame`` (as :func:`read_parquet` numbered them) not in ``drop``, all
    columns, as Parquet in the folder ``out``."""
    dropped = spark.sparkContext.broadcast(np.unique(np.asarray(drop, dtype=np.int64)))
    kept = frame.rdd.zipWithIndex().mapPartitions(lambda it: _kept(it, dropped))
    spark.createDataFrame(kept, schema=frame.schema).write.mode("error").parquet(out)


class Folder:
    """An output folder anywhere Hadoop's file systems reach (a local path, ``file://``,
    ``hdfs://``, ``s3a://`` ...), written from the driver. Each file is written under a
    temporary name and renamed into place, as the local writer does (on object stores a rename
    is a copy: the file still appears whole or not at all)."""

    def __init__(self, spark: SparkSession, location: str) -> None:
        jvm = spark.sparkContext._jvm
        self._jvm = jvm
        self.location = location.rstrip("/")
        self._root = jvm.org.apache.hadoop.fs.Path(self.location)
        self._fs = self._root.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())

    def _path(self, name: str) -> Any:
        return self._jvm.org.apache.hadoop.fs.Path(self._root, name)

    def exists(self, name: str) -> bool:
        return bool(self._fs.exists(self._path(name)))

    def uri(self, name: str) -> str:
        """The full location of ``name`` inside the folder."""
        return str(self._fs.makeQualified(self._path(name)).toString())

    def remove(self, name: str) -> None:
        self._fs.delete(self._path(name), True)

    def write_bytes(self, name: str, chunks: Iterable[bytes]) -> None:
        """``name`` holds the concatenated ``chunks`` (sent to the JVM in blocks of ~4 MB)."""
        self._fs.mkdirs(self._root)
        temp = self._path(f".{name}.{uuid.uuid4().hex[:8]}.tmp")
        stream = self._fs.create(temp, True)
        try:
            block: list[bytes] = []
            size = 0
            for chunk in itertools.chain(chunks, [b""]):
                block.append(chunk)
                size += len(chunk)
                if size >= 4 << 20 or (not chunk and size):
                    stream.write(bytearray(b"".join(block)))
                    block, size = [], 0
            stream.close()
            target = self._path(name)
            if self._fs.exists(target):
                self._fs.delete(target, False)
            if not self._fs.rename(temp, target):
                raise OSError(f"{self.uri(name)}: could not rename {temp.getName()} into place")
        except BaseException:
            with contextlib.suppress(Exception):
                stream.close()
            with contextlib.suppress(Exception):
                self._fs.delete(temp, False)
            raise

    def write_jsonl(self, name: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """One JSON line per row, byte for byte as :func:`dedup.io.write.write_jsonl` writes them."""
        from dedup.io.write import json_line

        self.write_bytes(name, (json_line(r) for r in rows))

    def write_json(self, name: str, obj: Any) -> None:
        """One pretty-printed JSON document, as :func:`dedup.io.write.write_json` writes it."""
        from dedup.io.write import json_document

        self.write_bytes(name, [json_document(obj)])

    def read_text(self, name: str) -> str:
        stream = self._fs.open(self._path(name))
        try:
            reader = self._jvm.java.io.BufferedReader(self._jvm.java.io.InputStreamReader(stream, "UTF-8"))
            lines = []
            while (line := reader.readLine()) is not None:
                lines.append(line)
            return "\n".join(lines) + ("\n" if lines else "")
        finally:
            stream.close()
