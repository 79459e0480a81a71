"""Files in, a run folder out: what ``dedup run`` does, as one call a script can make too.

:func:`deduplicate` reads the inputs (any format :class:`~dedup.io.read.Inputs` reads), runs the
local engine (against an index when given one), and writes the run folder: ``pairs.jsonl``,
``clusters.jsonl``, ``deduplicated.<format>`` (the inputs without their duplicates, read a
second time), ``links.jsonl`` for a cross-lingual run, ``report.html`` if asked, and
``summary.json`` last. The files appear together or not at all (:class:`~dedup.io.atomic.RunFolder`);
a failed run leaves the folder as it was. :func:`deduplicate_on_spark` is the same on Apache Spark.

Errors are the library's own, each one line that names the file (and record) at fault:
:class:`~dedup.io.article.InputError` (bad input; :class:`~dedup.index.run.HeldError` an id the
index holds; :class:`~dedup.io.article.InputChangedError` an input changed between the reads),
:class:`~dedup.runtime.memory.MemoryLimitError`, :class:`NothingReadError`, :class:`OSError` on
the output side.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dedup.engines.local import Detector
from dedup.featurize import default_workers
from dedup.index.index import Index
from dedup.index.run import IndexCheck, merge_with_index
from dedup.index.store import check_on_held
from dedup.io.article import Article, InputError
from dedup.io.atomic import RunFolder, atomic_write
from dedup.io.files import STDIN
from dedup.io.read import MAX_CHARS, Inputs
from dedup.io.write import write_deduplicated, write_json, write_jsonl
from dedup.params import Params
from dedup.result import Result
from dedup.runtime.memory import workers_within
from dedup.runtime.progress import Progress, no_progress

if TYPE_CHECKING:
    from dedup.engines.spark import SparkResult


class NothingReadError(ValueError):
    """The inputs held no article that could be read (every record bad, or no record)."""


def deduplicate(
    inputs: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    params: Params | None = None,
    index: Index | str | os.PathLike[str] | None = None,
    add_to_index: bool = True,
    on_held: str = "error",
    report: bool = False,
    workers: int | None = None,
    spill_dir: str | os.PathLike[str] | None = None,
    in_memory: bool = False,
    memory_limit: int | None = None,
    input_format: str | None = None,
    id_field: str = "id",
    text_field: str = "text",
    max_chars: int | None = MAX_CHARS,
    on_bad: Callable[[InputError], None] | None = None,
    progress: Progress = no_progress,
) -> Result:
    """Deduplicate the articles of ``inputs`` into the run folder ``out``; the :class:`Result`
    carries the summary that ``summary.json`` holds.

    Args:
        inputs: files or folders as :class:`~dedup.io.read.Inputs` reads them (``"-"``: stdin).
        params: the detection parameters (default ``Params()``); with ``index``, the index's own
            hold and ``params`` must be None.
        index: an open :class:`~dedup.index.Index`, or where to open one (made if missing when
            ``add_to_index``): clusters also join the held articles they duplicate, and this
            run's articles are added to it once the folder is written (unless not
            ``add_to_index``; they are then read a third time, so not from stdin).
        on_held: what an article whose id ``index`` holds already does: ``"error"`` (a
            :class:`~dedup.index.run.HeldError`, nothing written), ``"skip"`` (checked as the
            others, not added again: a run started again after it died while adding) or
            ``"replace"`` (its text replaces the held one); see :mod:`dedup.index.run`.
        report: also write ``report.html`` (:func:`dedup.report.report_from_result`).
        workers: featurising processes (default: all cores, capped by ``memory_limit``).
        spill_dir: where the per-article term counts go (default: ``out``); ``in_memory``: kept
            in memory instead.
        memory_limit: the most resident memory the run's processes may hold (bytes).
        max_chars: the longest text read (None: no limit).
        on_bad: called with each bad record, which is then skipped (counted, and kept in the
            summary's warnings); None: a bad record stops the run with its error.
        progress: the progress bars' factory (:func:`dedup.runtime.progress.terminal_progress`
            on a terminal).
    """
    names = [os.fspath(p) for p in inputs]
    out_dir = Path(out)
    if index is not None and params is not None:
        raise ValueError("give the parameters to the index, not with index=")
    if index is not None and add_to_index and STDIN in names:
        raise ValueError("adding to an index reads the inputs again: give files, not - (stdin)")
    check_on_held(on_held)
    if params is not None:
        params.require_extras()  # (before anything is made; an index's own: by the Detector)
    warnings: list[str] = []

    def skipped(err: InputError) -> None:
        warnings.append(str(err))
        if on_bad is not None:
            on_bad(err)

    started = time.perf_counter()
    with (
        Inputs(
            names, id_field=id_field, text_field=text_field, input_format=input_format, max_chars=max_chars
        ) as source,
        contextlib.ExitStack() as stack,
    ):
        check = None
        if index is not None:
            idx = (
                index
                if isinstance(index, Index)
                else stack.enter_context(Index.open(index, create=add_to_index))
            )
            params = idx.params
            check = IndexCheck(idx, on_held=on_held)
        params = params or Params()
        spill = None if in_memory else spill_dir or out_dir
        detector = Detector(params, progress=progress, spill_dir=spill, memory_limit=memory_limit)
        stack.callback(detector.close)
        n_workers = workers_within(memory_limit, workers or default_workers())
        with progress("read+sign", None) as bar:

            def articles() -> Iterator[Article]:
                for article in source.articles(skipped if on_bad is not None else None):
                    bar.update(1)
                    yield article

            detector.add_many(articles() if check is None else check.through(articles()), workers=n_workers)
        detector.skipped = len(warnings)
        if len(detector) == 0:
            raise NothingReadError("no article could be read from the inputs")
        result = detector.finish()
        if check is not None:
            result = merge_with_index(result, detector.ids, check)
        t0 = time.perf_counter()
        folder = stack.enter_context(RunFolder(out_dir))  # (the files go in place together)
        write_jsonl("pairs.jsonl", (p.to_dict() for p in result.pairs), run=folder)
        write_jsonl("clusters.jsonl", (c.to_dict() for c in result.clusters), run=folder)
        read = len(detector.ids)  # (the second read must give as many records)
        dedup_path = write_deduplicated(
            source, out_dir, result.duplicates, on_bad=lambda e: None, expect=read, run=folder
        )
        outputs = {
            "pairs": "pairs.jsonl", "clusters": "clusters.jsonl",
            "deduplicated": dedup_path.name, "summary": "summary.json",
        }  # fmt: skip
        if params.cross_lingual:
            write_jsonl("links.jsonl", (x.to_dict() for x in result.links), run=folder)
            outputs["links"] = "links.jsonl"
        result.summary["timings_s"]["write"] = round(time.perf_counter() - t0, 3)
        if report:
            from dedup.report.build import report_from_result

            t0 = time.perf_counter()
            texts = ((a.id, a.text) for a in source.articles(lambda e: None))
            page = report_from_result(result, texts, source=str(out_dir), progress=progress)
            with atomic_write(folder.path("report.html"), hold=folder.hold("report.html")) as f:
                f.write(page)
            outputs["report"] = "report.html"
            result.summary["timings_s"]["report"] = round(time.perf_counter() - t0, 3)
        if check is not None and add_to_index:
            t0 = time.perf_counter()
            with progress("index add", len(detector.ids)) as bar:

                def to_add() -> Iterator[tuple[str, str]]:
                    for article in source.articles(lambda e: None):  # (warned about already)
                        bar.update(1)
                        yield article.id, article.text

                loaded = check.index.load(to_add(), on_held=on_held)
            result.summary["index"].update(loaded.counts())
            result.summary["timings_s"]["index_add"] = round(time.perf_counter() - t0, 3)
        if check is not None:
            result.summary["index"]["held_after"] = len(check.index)
            result.summary["timings_s"]["index_query"] = round(check.seconds, 3)
        result.summary["timings_s"]["total"] = round(time.perf_counter() - started, 3)
        result.summary["inputs"] = names
        result.summary["workers"] = n_workers
        result.summary["input_format"] = source.format
        # What `dedup report` needs to read the inputs again, from any folder.
        result.summary["input_options"] = {
            "paths": [p if p == STDIN else os.path.abspath(p) for p in names],
            "format": input_format,
            "id_field": id_field,
            "text_field": text_field,
            "max_chars": max_chars or None,
        }
        result.summary["warnings"] = warnings[:1000]
        result.summary["outputs"] = outputs
        write_json("summary.json", result.summary, run=folder)
        folder.commit()
    return result


def deduplicate_on_spark(
    inputs: Sequence[str],
    out: str,
    params: Params | None = None,
    *,
    input_format: str | None = None,
    id_field: str = "id",
    text_field: str = "text",
    session: Any = None,
    progress: bool = True,
) -> SparkResult:
    """:func:`deduplicate` on Apache Spark (``pip install 'newsdedup[spark]'``): Spark reads the JSONL
    or Parquet ``inputs`` (any path it reads), runs the pipeline and writes the kept records into
    ``out/deduplicated/`` (part files); pairs, clusters and the summary come back to this process
    and are written as a local run writes them, into a local folder or, through Hadoop's file
    systems, to a URL (``hdfs://``, ``s3a://``, ``file://``). ``session``: the SparkSession
    (default: the active one, else a new ``local[*]`` one, with Spark's console progress bars
    and logs unless not ``progress``). The inputs are checked before any session starts.

    Raises :class:`~dedup.engines.spark.io.SparkInputError` (a bad record: the job stopped, nothing
    written), :class:`~dedup.engines.spark.io.SparkJobError` (a failed job; no ``summary.json``),
    ImportError without pyspark, ValueError for inputs Spark does not read here."""
    params = params or Params()
    params.require_extras()  # (before a session starts)
    parquet = input_format == "parquet" or (
        input_format is None and all(p.rstrip("/").endswith(".parquet") for p in inputs)
    )
    if input_format not in (None, "jsonl", "parquet") or STDIN in inputs:
        raise ValueError("the Spark engine reads JSONL or Parquet files (not stdin, CSV or text folders)")
    for path in inputs:
        if "://" not in path and not os.path.exists(path):
            raise ValueError(f"{path}: no such file or folder")
    from dedup.engines.spark import run
    from dedup.engines.spark.io import (
        Folder,
        bad_records_surface,
        read_jsonl,
        read_parquet,
        spark_session,
        write_parquet_kept,
    )
    from dedup.engines.spark.io import write_deduplicated as spark_write_kept

    started = time.perf_counter()
    if session is None:
        session = spark_session(progress=progress)
        if not progress:
            session.sparkContext.setLogLevel("ERROR")
    local = "://" not in out
    with bad_records_surface():
        frame = None
        if parquet:
            articles, frame = read_parquet(session, inputs, id_field=id_field, text_field=text_field)
        else:
            articles = read_jsonl(session, inputs, id_field=id_field, text_field=text_field)
        result = run(session, articles, params)
        # the kept records first (a Spark job, which may fail), then the small outputs
        folder = None if local else Folder(session, out)
        if folder is None:
            Path(out).mkdir(parents=True, exist_ok=True)
            target = str(Path(out) / "deduplicated")
            if Path(target).exists():
                shutil.rmtree(target)
        else:
            target = folder.uri("deduplicated")
            if folder.exists("deduplicated"):
                folder.remove("deduplicated")
        t0 = time.perf_counter()
        if frame is not None:
            write_parquet_kept(session, frame, result.duplicate_positions, target)
        else:
            spark_write_kept(session, inputs, result.duplicate_positions, target)
        result.summary["timings_s"]["write"] = round(time.perf_counter() - t0, 3)
        if folder is None:
            write_jsonl(Path(out) / "pairs.jsonl", (p.to_dict() for p in result.pairs))
            write_jsonl(Path(out) / "clusters.jsonl", (c.to_dict() for c in result.clusters))
        else:
            folder.write_jsonl("pairs.jsonl", (p.to_dict() for p in result.pairs))
            folder.write_jsonl("clusters.jsonl", (c.to_dict() for c in result.clusters))
    result.summary["timings_s"]["total"] = round(time.perf_counter() - started, 3)
    result.summary["inputs"] = list(inputs)
    result.summary["outputs"] = {
        "pairs": "pairs.jsonl", "clusters": "clusters.jsonl",
        "deduplicated": "deduplicated/", "summary": "summary.json",
    }  # fmt: skip
    if folder is None:
        write_json(Path(out) / "summary.json", result.summary)
    else:
        folder.write_json("summary.json", result.summary)
    return result
