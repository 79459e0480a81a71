"""Files in, a run folder out: what ``dedup run`` does, as one call a script can make too.

:func:`deduplicate` reads the inputs (any format :class:`~dedup.io.read.Inputs` reads), runs the
local engine (against an index when given one), and writes the run folder: ``pairs.jsonl``,
``clusters.jsonl``, ``deduplicated.<format>`` (the inputs without their duplicates, read a
second time), ``removed.<format>`` (the duplicates dropped, each with the id kept in its place),
``annotated.<format>`` if asked (every record with its verdict), ``links.jsonl`` for a
cross-lingual run, ``report.html`` if asked, and ``summary.json`` last. The files appear together
or not at all (:class:`~dedup.io.atomic.RunFolder`); a failed run leaves the folder as it was.
:func:`deduplicate_on_spark` is the same on Apache Spark.

A folder is a run's when it holds ``summary.json`` (the file a run writes last). A run goes only
into a new or empty folder, or, with ``overwrite``, replaces the run in a run's folder whole;
any other folder is refused (:class:`OutFolderError`) before anything is read, so that a user's
files are never replaced.

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
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dedup.engines.local import Detector
from dedup.featurize import default_workers
from dedup.index.index import Index
from dedup.index.run import IndexCheck, merge_with_index
from dedup.index.store import check_on_held
from dedup.io.article import Article, InputError
from dedup.io.atomic import MANIFEST, RunFolder, atomic_write, is_run_file
from dedup.io.files import STDIN
from dedup.io.formats import Record
from dedup.io.read import MAX_CHARS, Inputs
from dedup.io.write import (
    AUDIT_FIELDS,
    AUDIT_PREFIX,
    audit_prefix,
    audit_writers,
    write_deduplicated,
    write_json,
    write_jsonl,
)
from dedup.params import Params
from dedup.result import KEPT, Result, verdicts
from dedup.runtime.memory import workers_within
from dedup.runtime.progress import Progress, no_progress

if TYPE_CHECKING:
    from dedup.engines.spark import SparkResult


class NothingReadError(ValueError):
    """The inputs held no article that could be read (every record bad, or no record)."""


class OutFolderError(ValueError):
    """The output folder cannot take the run: it holds an earlier run (``earlier_run``; and
    ``overwrite`` was not given), or files that are not a run's, or it is a file."""

    def __init__(self, message: str, *, earlier_run: bool = False) -> None:
        super().__init__(message)
        self.earlier_run = earlier_run


def check_out(out: str | os.PathLike[str], *, overwrite: bool = False) -> None:
    """Refuse an output folder the run must not write into: one that holds an earlier run
    (``summary.json``) unless ``overwrite``, and one that holds anything else (a user's files:
    even with ``overwrite``). A missing or empty folder is fine.

    Raises:
        OutFolderError: saying which, and what to do.
    """
    path = Path(out)
    if not path.exists():
        return
    if not path.is_dir():
        raise OutFolderError(f"{path}: is a file, not a folder: the run needs a folder of its own")
    entries = os.listdir(path)
    if not entries:
        return
    if MANIFEST in entries:
        if not overwrite:
            raise OutFolderError(
                f"{path}: holds an earlier run ({MANIFEST}): overwrite=True replaces it", earlier_run=True
            )
        return
    raise OutFolderError(
        f"{path}: is not empty and holds no dedup run (no {MANIFEST}): a run goes into a new or empty "
        "folder, and replaces only an earlier run"
    )


def deduplicate(
    inputs: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str] | None,
    *,
    overwrite: bool = False,
    annotate: bool = False,
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
    recursive: bool = False,
    delimiter: str | None = None,
    id_field: str = "id",
    text_field: str = "text",
    max_chars: int | None = MAX_CHARS,
    on_bad: Callable[[InputError], None] | None = None,
    progress: Progress = no_progress,
) -> Result:
    """Deduplicate the articles of ``inputs`` into the run folder ``out``; the :class:`Result`
    carries the summary that ``summary.json`` holds.

    Args:
        inputs: files or folders as :class:`~dedup.io.read.Inputs` reads them (``"-"``: stdin);
            ``input_format``, ``recursive``, ``delimiter``, ``id_field``, ``text_field`` and
            ``max_chars`` are its options.
        out: the run folder (new, empty, or an earlier run's with ``overwrite``: see
            :func:`check_out`); None: no folder, the :class:`Result` alone (``dedup run --out -``).
        overwrite: replace the earlier run in ``out`` (all of its files, together).
        annotate: also write ``annotated.<format>``: every record with ``cluster``,
            ``duplicate_of``, ``score`` and ``kept`` (:func:`dedup.io.write.audit_writers`).
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
        spill_dir: where the per-article term counts go (default: ``out``, or the temporary folder
            without one); ``in_memory``: kept in memory instead.
        memory_limit: the most resident memory the run's processes may hold (bytes).
        max_chars: the longest text read (None: no limit).
        on_bad: called with each bad record, which is then skipped (counted, and kept in the
            summary's warnings); None: a bad record stops the run with its error.
        progress: the progress bars' factory (:func:`dedup.runtime.progress.terminal_progress`
            on a terminal).
    """
    names = [os.fspath(p) for p in inputs]
    out_dir = None if out is None else Path(out)
    if index is not None and params is not None:
        raise ValueError("give the parameters to the index, not with index=")
    if out_dir is None and (report or annotate):
        raise ValueError("report= and annotate= write files: give an output folder (out=)")
    if out_dir is not None:
        check_out(out_dir, overwrite=overwrite)
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
            names,
            id_field=id_field,
            text_field=text_field,
            input_format=input_format,
            recursive=recursive,
            delimiter=delimiter,
            max_chars=max_chars,
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
        spill = None if in_memory else spill_dir or out_dir or tempfile.gettempdir()
        detector = Detector(params, progress=progress, spill_dir=spill, memory_limit=memory_limit)
        stack.callback(detector.close)
        n_workers = workers_within(memory_limit, workers or default_workers())
        audit_names = [*AUDIT_FIELDS, *(AUDIT_PREFIX + name for name in AUDIT_FIELDS)]
        clashing: set[str] = set()
        size = source.size()  # (the bar counts bytes where the inputs' size is known, else articles)
        with progress("read+sign", size, "B") if size is not None else progress("read+sign", None) as bar:

            def articles() -> Iterator[Article]:
                # The bar shows the articles signed (or their bytes), not those read ahead for the
                # workers: each read article's bytes are kept until the detector has taken it.
                marks: deque[int] = deque()
                shown = 0
                for pulled, article in enumerate(source.articles(skipped if on_bad is not None else None), 1):
                    for name in audit_names:  # (fields of these names: the verdicts' get a prefix)
                        if name in article.fields:
                            clashing.add(name)
                    marks.append(pulled if size is None else source.bytes_read)
                    signed, done = len(detector), shown
                    while marks and pulled - len(marks) < signed:
                        done = marks.popleft()
                    bar.update(done - shown)
                    shown = done
                    yield article

            detector.add_many(articles() if check is None else check.through(articles()), workers=n_workers)
        detector.skipped = len(warnings)
        if len(detector) == 0:
            raise NothingReadError("no article could be read from the inputs")
        result = detector.finish()
        if check is not None:
            result = merge_with_index(result, detector.ids, check)
        folder = None if out_dir is None else stack.enter_context(RunFolder(out_dir))
        outputs = (
            {}
            if folder is None
            else _write_run(
                folder, source, result, len(detector.ids), annotate, audit_prefix(clashing), progress
            )
        )
        if folder is not None and params.cross_lingual:
            write_jsonl("links.jsonl", (x.to_dict() for x in result.links), run=folder)
            outputs["links"] = "links.jsonl"
        if report and folder is not None:
            from dedup.report.build import report_from_result

            t0 = time.perf_counter()
            texts = ((a.id, a.text) for a in source.articles(lambda e: None))
            left_out: list[str] = []
            page = report_from_result(
                result, texts, source=str(out_dir), progress=progress, on_left_out=left_out.append
            )
            if left_out:  # (the page says so too; the summary shows it beside the report)
                result.summary["report_left_out"] = left_out[0]
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
            "recursive": recursive,
            "delimiter": delimiter,
            "id_field": id_field,
            "text_field": text_field,
            "max_chars": max_chars or None,
        }
        result.summary["warnings"] = warnings[:1000]
        if folder is not None:
            result.summary["outputs"] = {**outputs, "summary": "summary.json"}
            write_json("summary.json", result.summary, run=folder)
            folder.commit()
    return result


def _write_run(
    folder: RunFolder,
    source: Inputs,
    result: Result,
    read: int,
    annotate: bool,
    prefix: str,
    progress: Progress,
) -> dict[str, str]:
    """Write the run's pairs, clusters and dumps of records into ``folder`` (held until its
    commit), the dumps from one more read of the inputs, which must give ``read`` records again;
    what each output is called, by its key in ``summary.json``'s ``outputs``."""
    t0 = time.perf_counter()
    write_jsonl("pairs.jsonl", (p.to_dict() for p in result.pairs), run=folder)
    write_jsonl("clusters.jsonl", (c.to_dict() for c in result.clusters), run=folder)
    found = verdicts(result)
    kept = KEPT.to_dict()
    as_dicts = {k: v.to_dict() for k, v in found.items()}
    with (
        progress("write", read) as bar,
        audit_writers(
            source, folder.out, lambda i: as_dicts.get(i, kept), annotate=annotate, prefix=prefix, run=folder
        ) as (
            audit,
            audits,
        ),
    ):

        def observe(record: Record) -> None:
            audit(record)
            bar.update(1)

        dedup_path = write_deduplicated(
            source,
            folder.out,
            result.duplicates,
            on_bad=lambda e: None,
            expect=read,
            run=folder,
            observe=observe,
        )
    result.summary["timings_s"]["write"] = round(time.perf_counter() - t0, 3)
    result.summary["audit_fields"] = [prefix + name for name in AUDIT_FIELDS]
    return {
        "pairs": "pairs.jsonl",
        "clusters": "clusters.jsonl",
        "deduplicated": dedup_path.name,
        **{key: path.name for key, path in audits.items()},
    }


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
    overwrite: bool = False,
) -> SparkResult:
    """:func:`deduplicate` on Apache Spark (``pip install 'newsdedup[spark]'``): Spark reads the JSONL
    or Parquet ``inputs`` (any path it reads), runs the pipeline and writes the kept records into
    ``out/deduplicated/`` (part files); pairs, clusters and the summary come back to this process
    and are written as a local run writes them, into a local folder or, through Hadoop's file
    systems, to a URL (``hdfs://``, ``s3a://``, ``file://``). ``session``: the SparkSession
    (default: the active one, else a new ``local[*]`` one, with Spark's console progress bars
    and logs unless not ``progress``). The inputs are checked before any session starts.

    ``out`` is refused as :func:`deduplicate` refuses it (:func:`check_out`; a URL: when it holds
    a ``summary.json`` and not ``overwrite``). With ``overwrite``, the earlier run's
    ``summary.json`` is removed before the first file is written (a failed job leaves the earlier
    run whole), its other files (a local run's dumps, report) once the new files are written, and
    the new ``summary.json`` is written last: the folder is never a mix of two runs
    marked complete, though not swapped in one step as a local run's. No ``removed`` or
    ``annotated`` dump is written (the summary's ``outputs`` lists what is).

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
    if "://" not in out:
        check_out(out, overwrite=overwrite)
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
    folder = None if "://" not in out else Folder(session, out)
    if folder is not None and folder.exists(MANIFEST) and not overwrite:
        raise OutFolderError(
            f"{out}: holds an earlier run ({MANIFEST}): overwrite=True replaces it", earlier_run=True
        )
    with bad_records_surface():
        frame = None
        if parquet:
            articles, frame = read_parquet(session, inputs, id_field=id_field, text_field=text_field)
        else:
            articles = read_jsonl(session, inputs, id_field=id_field, text_field=text_field)
        result = run(session, articles, params)
        # the kept records first (a Spark job, which may fail), then the small outputs; an earlier
        # run's summary.json goes first: the folder is not a complete run until the new one is written
        if folder is None:
            Path(out).mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                (Path(out) / MANIFEST).unlink()
            target = str(Path(out) / "deduplicated")
            if Path(target).exists():
                shutil.rmtree(target)
        else:
            if folder.exists(MANIFEST):
                folder.remove(MANIFEST)
            target = folder.uri("deduplicated")
            if folder.exists("deduplicated"):
                folder.remove("deduplicated")
        t0 = time.perf_counter()
        if frame is not None:
            write_parquet_kept(session, frame, result.duplicate_positions, target)
        else:
            spark_write_kept(session, inputs, result.duplicate_positions, target)
        result.summary["timings_s"]["write"] = round(time.perf_counter() - t0, 3)
        small: dict[str, list[Any]] = {"pairs.jsonl": result.pairs, "clusters.jsonl": result.clusters}
        if params.cross_lingual:
            small["links.jsonl"] = result.links
        for name, rows in small.items():
            if folder is None:
                write_jsonl(Path(out) / name, (x.to_dict() for x in rows))
            else:
                folder.write_jsonl(name, (x.to_dict() for x in rows))
    result.summary["timings_s"]["total"] = round(time.perf_counter() - started, 3)
    result.summary["inputs"] = list(inputs)
    result.summary["outputs"] = {
        "pairs": "pairs.jsonl", "clusters": "clusters.jsonl", "deduplicated": "deduplicated/",
        **({"links": "links.jsonl"} if params.cross_lingual else {}), "summary": "summary.json",
    }  # fmt: skip
    written = {*small, "deduplicated", MANIFEST}
    if folder is None:
        for stale in sorted(set(filter(is_run_file, os.listdir(out))) - written):  # (an earlier run's)
            (shutil.rmtree if (Path(out) / stale).is_dir() else os.remove)(Path(out) / stale)
        write_json(Path(out) / "summary.json", result.summary)
    else:
        for stale in sorted({"report.html", "links.jsonl"} - written):
            if folder.exists(stale):
                folder.remove(stale)
        folder.write_json("summary.json", result.summary)
    return result
