"""Command line: a thin layer over the library (parse options, read, call, write, print)."""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from dedup.engines.local import Detector
from dedup.features import default_workers
from dedup.index.store import HeldIdError, IndexFileError, shown_location
from dedup.io.article import Article, InputChangedError, InputError
from dedup.io.read import MAX_CHARS
from dedup.params import (
    LINKAGES,
    REPRESENTATIVES,
    SHINGLE_UNITS,
    STOPWORD_LISTS,
    TFIDF_ANALYZERS,
    XLING_EMBEDDINGS,
    Params,
)
from dedup.result import Result
from dedup.runtime.memory import MemoryLimitError, check_limit, format_size, workers_within
from dedup.runtime.processes import Terminated, terminate_as_interrupt
from dedup.runtime.progress import no_progress, terminal_progress, wants_progress

_DEFAULTS = Params()


def _ngrams(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, int]:
    try:
        lo, _, hi = value.partition(",")
        return int(lo), int(hi or lo)
    except ValueError:
        raise click.BadParameter(f"expected MIN,MAX such as 1,2; got {value!r}") from None


def _with_options(f, options: list) -> Any:
    """Apply click options to ``f`` so that they are listed in the order given."""
    for option in reversed(options):
        f = option(f)
    return f


def param_options(f):
    """The detection parameters, one option each (see ``dedup.Params``)."""
    d = _DEFAULTS
    options = [
        click.option(
            "--shingle-unit",
            type=click.Choice(SHINGLE_UNITS),
            default=d.shingle_unit,
            show_default=True,
            help="Shingles for MinHash: word or character n-grams.",
        ),
        click.option(
            "--shingle-size",
            type=int,
            default=d.shingle_size,
            show_default=True,
            help="Shingle length in words/characters. 1 word finds MT variants; 5 only near-copies.",
        ),
        click.option(
            "--stopwords",
            type=click.Choice(STOPWORD_LISTS),
            default=d.stopwords,
            show_default=True,
            help="Drop English stop words from the shingles (fewer chance candidates).",
        ),
        click.option(
            "--transliterate/--no-transliterate",
            default=d.transliterate,
            show_default=True,
            help="Fold text to ASCII before tokenising (needs dedup[translit]).",
        ),
        click.option(
            "--num-perm",
            type=int,
            default=d.num_perm,
            show_default=True,
            help="MinHash signature length; more is more accurate and slower.",
        ),
        click.option("--seed", type=int, default=d.seed, show_default=True, help="MinHash permutation seed."),
        click.option(
            "--lsh-threshold",
            type=float,
            default=d.lsh_threshold,
            show_default=True,
            help="Shingle Jaccard similarity the LSH aims at; lower finds more candidates (recall), "
            "higher fewer (speed).",
        ),
        click.option(
            "--bands", type=int, default=None, help="LSH bands (with --rows; overrides --lsh-threshold)."
        ),
        click.option("--rows", type=int, default=None, help="LSH rows per band (with --bands)."),
        click.option(
            "--min-jaccard",
            type=float,
            default=d.min_jaccard,
            show_default=True,
            help="Verify a pair that met in an LSH band only if its MinHash signatures agree on at "
            "least this share of values (0: every band hit).",
        ),
        click.option(
            "--max-bucket",
            type=int,
            default=d.max_bucket,
            help="LSH buckets larger than this give each member with the bucket's leader, "
            "not all their pairs. Default: 8 (200 with --all-pairs).",
        ),
        click.option(
            "--all-pairs/--families",
            default=d.all_pairs,
            show_default=True,
            help="Verify, and write to pairs.jsonl, every pair of a family (cost: the square of its "
            "size). Default: exact copies are one member, large families are verified against a few "
            "leaders, and pairs.jsonl holds the pairs that made each cluster.",
        ),
        click.option(
            "--tfidf-analyzer",
            type=click.Choice(TFIDF_ANALYZERS),
            default=d.tfidf_analyzer,
            show_default=True,
            help="TF-IDF features: words or characters within words.",
        ),
        click.option(
            "--tfidf-ngrams",
            callback=_ngrams,
            default=",".join(map(str, d.tfidf_ngrams)),
            show_default=True,
            help="TF-IDF n-gram range as MIN,MAX.",
        ),
        click.option(
            "--sublinear-tf/--no-sublinear-tf",
            default=d.sublinear_tf,
            show_default=True,
            help="Use 1 + log(tf) so repeated words count less.",
        ),
        click.option(
            "--sentence-weight",
            type=float,
            default=d.sentence_weight,
            show_default=True,
            help="Weight of the sentence match in the score (the rest is the document cosine): how much "
            "of the smaller article is said, sentence by sentence, in the other. 0: cosine alone (faster).",
        ),
        click.option(
            "--sentence-order/--any-order",
            default=d.sentence_order,
            show_default=True,
            help="Count the sentence match only along an alignment that keeps the sentences' order "
            "(translations and rewrites keep it; a story told again does not).",
        ),
        click.option(
            "--number-weight",
            type=float,
            default=d.number_weight,
            show_default=True,
            help="How much disagreeing numbers lower a score: it is multiplied by "
            "1 - W * (1 - the agreement of the two articles' numbers). 0 ignores numbers.",
        ),
        click.option(
            "--threshold",
            type=float,
            default=d.threshold,
            show_default=True,
            help="Score at or above which two articles are duplicates. Lower for recall "
            "(short, noisy texts), higher for precision.",
        ),
        click.option(
            "--lang",
            "languages",
            default=None,
            metavar="CODES",
            help="Compare only articles detected in these languages (ISO 639-1, comma-separated, e.g. "
            "en,it); the others are kept as they are, never compared.",
        ),
        click.option(
            "--cross-lingual/--no-cross-lingual",
            default=d.cross_lingual,
            show_default=True,
            help="Also link the same story across languages (an English translation to its original), "
            "without translating: clusters then mix languages, links.jsonl lists the links.",
        ),
        click.option(
            "--xling-threshold",
            type=float,
            default=d.xling_threshold,
            show_default=True,
            help="With --cross-lingual: how far a link's fingerprint cosine must stand out from the "
            "nearest other candidates' (a ratio >= 1). Lower for recall, higher for precision.",
        ),
        click.option(
            "--xling-embeddings",
            type=click.Choice(XLING_EMBEDDINGS),
            default=d.xling_embeddings,
            show_default=True,
            help="With --cross-lingual: also compare articles by a multilingual embedding model (auto: "
            "when dedup[xling] is installed; yes: require it; no: fingerprints alone).",
        ),
        click.option(
            "--linkage",
            type=click.Choice(LINKAGES),
            default=d.linkage,
            show_default=True,
            help="Clustering inside connected components: average stops one borderline pair "
            "from chaining two stories; single keeps plain components.",
        ),
        click.option(
            "--cohesion",
            type=float,
            default=d.cohesion,
            show_default=True,
            help="With average linkage: two groups of 2+ articles are not merged when their mean cross "
            "score is below this times the lower of their own mean scores (two stories). 0: off.",
        ),
        click.option(
            "--representative",
            type=click.Choice(REPRESENTATIVES),
            default=d.representative,
            show_default=True,
            help="Which member of a cluster the deduplicated output keeps.",
        ),
    ]
    return _with_options(f, options)


_PARAM_NAMES = [field.name for field in dataclasses.fields(Params)]


def params_from(options: dict[str, Any]) -> Params:
    """Build Params from CLI options, turning a validation error into a usage error."""
    try:
        return Params(**{k: options.pop(k) for k in _PARAM_NAMES})
    except ValueError as err:
        raise click.UsageError(str(err)) from None


class MemorySize(click.ParamType):
    """A size such as 4G or 800M, in bytes (:func:`dedup.runtime.memory.parse_size`)."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            limit = check_limit(value)
        except ValueError as err:
            self.fail(str(err), param, ctx)
        assert limit is not None
        return limit


class _Group(click.Group):
    """The command group: SIGTERM stops a command as Ctrl-C does (:mod:`dedup.runtime.processes`), with
    every clean-up run, one line on stderr and exit status 143; an index found damaged by any
    command is one line naming it."""

    def invoke(self, ctx: click.Context) -> Any:
        with terminate_as_interrupt():
            try:
                return super().invoke(ctx)
            except Terminated:
                click.echo("dedup: stopped by SIGTERM", err=True)
                raise
            except IndexFileError as err:  # (a damaged index, met by any command: one line)
                raise click.ClickException(str(err)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="dedup")
def main() -> None:
    """Find rewrites and machine-translation variants of news articles."""


def _inputs(
    inputs: tuple[str, ...], input_format: str | None, id_field: str, text_field: str, max_chars: int
) -> Any:
    """The :class:`~dedup.io.read.Inputs` the input options say (``--max-chars 0``: no limit)."""
    from dedup.io.read import Inputs

    return Inputs(
        inputs,
        id_field=id_field,
        text_field=text_field,
        input_format=input_format,
        max_chars=max_chars or None,
    )


def input_options(f):
    """Options that say how to read the inputs."""
    options = [
        click.option(
            "--format",
            "input_format",
            type=click.Choice(["jsonl", "csv", "txt", "parquet"]),
            default=None,
            help="Input format (default: from each file's extension; a folder is .txt files; parquet "
            "with --engine spark only).",
        ),
        click.option("--id-field", default="id", show_default=True, help="JSONL/CSV field holding the id."),
        click.option(
            "--text-field", default="text", show_default=True, help="JSONL/CSV field holding the text."
        ),
        click.option(
            "--skip-bad",
            is_flag=True,
            help="Warn about bad records and go on (counted in the summary) instead of stopping.",
        ),
        click.option(
            "--max-chars",
            type=click.IntRange(min=0),
            default=MAX_CHARS,
            show_default=True,
            help="Longest article text, in characters (0: no limit); a longer one is a bad record. "
            "An article takes about 45 bytes of memory a character while it is processed.",
        ),
        click.option("-q", "--quiet", is_flag=True, help="No progress bars and no summary on stderr."),
    ]
    return _with_options(f, options)


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "-o",
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for pairs.jsonl, clusters.jsonl, deduplicated.<format> and summary.json (with "
    "--engine spark also a URL Spark writes to: hdfs://..., s3a://..., file://...).",
)
@click.option(
    "--report",
    "with_report",
    is_flag=True,
    help="Also write report.html: each cluster's duplicates aligned paragraph by paragraph with the kept "
    "article (dedup report RUN_DIR makes it later, with more options).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes that tokenise, hash and count (default: all cores). Results do not depend on it.",
)
@click.option(
    "--spill-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the run's per-article term counts, written as articles are read and read back "
    "through memory maps, so that memory holds little more than the signatures and candidate pairs "
    "(default: a temporary folder in --out, removed at the end).",
)
@click.option(
    "--in-memory",
    is_flag=True,
    help="Keep the per-article term counts in memory instead (a little faster; memory grows by a few "
    "kB per article).",
)
@click.option(
    "--memory-limit",
    type=MemorySize(),
    default=None,
    metavar="SIZE",
    help="Most resident memory the run's processes may hold together (e.g. 4G, 800M; page cache "
    "not counted): it caps the workers and the blocks of work, and the run stops with an error, "
    "its files removed, rather than go over it. Default: no limit.",
)
@click.option(
    "--index",
    "index_location",
    metavar="INDEX",
    default=None,
    help="Also deduplicate against every article held in INDEX (a file, or redis://host:port/db), "
    "then add this run's articles to it. The run uses the index's detection options.",
)
@click.option("--no-add", is_flag=True, help="With --index: check against the index without adding to it.")
@click.option(
    "--engine",
    type=click.Choice(["local", "spark"]),
    default="local",
    show_default=True,
    help="spark: run on Apache Spark (pip install 'dedup[spark]'; JSONL inputs, any path Spark reads; "
    "the active session's master, else local[*]), with the same pairs and clusters.",
)
@input_options
@param_options
@click.pass_context
def run(
    ctx: click.Context,
    inputs: tuple[str, ...],
    out: str,
    with_report: bool,
    workers: int | None,
    spill_dir: Path | None,
    in_memory: bool,
    memory_limit: int | None,
    index_location: str | None,
    no_add: bool,
    engine: str,
    input_format: str | None,
    id_field: str,
    text_field: str,
    skip_bad: bool,
    max_chars: int,
    quiet: bool,
    **options: Any,
) -> None:
    """Find duplicate articles in INPUTS and write the results to --out.

    INPUTS are folders of .txt files (id = file name), .jsonl or .csv files
    (optionally .gz), or - for JSONL on stdin. With --index, clusters also join the
    articles already held that they duplicate, and those clusters' articles are all dropped.
    """
    from dedup.index.run import HeldError, IndexCheck, merge_with_index
    from dedup.io.atomic import RunFolder, atomic_write
    from dedup.io.read import STDIN
    from dedup.io.write import write_deduplicated, write_json, write_jsonl

    if no_add and index_location is None:
        raise click.UsageError("--no-add goes with --index")
    if input_format == "parquet" and engine != "spark":
        raise click.UsageError("--format parquet needs --engine spark")
    if options.get("cross_lingual") and (engine == "spark" or index_location is not None):
        other = "--engine spark" if engine == "spark" else "--index"
        raise click.UsageError(f"--cross-lingual is not available with {other} yet")
    if engine == "spark":
        for name, value in (
            ("--index", index_location), ("--report", with_report), ("--skip-bad", skip_bad),
            ("--memory-limit", memory_limit),
        ):  # fmt: skip
            if value:
                raise click.UsageError(f"{name} is not available with --engine spark")
        _run_on_spark(inputs, out, params_from(options), input_format, id_field, text_field, quiet)
        return
    if "://" in out:
        raise click.UsageError(
            f"--out {out}: a URL needs --engine spark (the local engine writes to a folder)"
        )
    out_dir = Path(out)
    if index_location is not None and not no_add and STDIN in inputs:
        raise click.UsageError("--index reads the inputs twice (to add them): give files, not -, or --no-add")
    given = _given_params(ctx, options) if index_location is not None else {}
    params = params_from(options) if index_location is None else None
    show = wants_progress(quiet)
    progress = terminal_progress if show else no_progress
    warnings: list[str] = []

    def on_bad(err: InputError) -> None:
        warnings.append(str(err))
        if not quiet:
            click.echo(f"warning: skipped {err}", err=True)

    started = time.perf_counter()
    try:
        with (
            _inputs(inputs, input_format, id_field, text_field, max_chars) as source,
            contextlib.ExitStack() as stack,
        ):
            check = None
            if index_location is not None:
                idx = stack.enter_context(_open_index(index_location, given, create=not no_add))
                params = idx.params
                check = IndexCheck(idx)
            assert params is not None
            spill = None if in_memory else spill_dir or out_dir
            detector = Detector(params, progress=progress, spill_dir=spill, memory_limit=memory_limit)
            stack.callback(detector.close)
            wanted = workers or default_workers()
            n_workers = workers_within(memory_limit, wanted)
            if n_workers < wanted and workers is not None and not quiet:
                click.echo(
                    f"note: --memory-limit {format_size(memory_limit or 0)} holds {n_workers} "
                    f"worker(s), not {wanted}",
                    err=True,
                )
            with progress("read+sign", None) as bar:

                def articles() -> Iterator[Article]:
                    for article in source.articles(on_bad if skip_bad else None):
                        bar.update(1)
                        yield article

                detector.add_many(
                    articles() if check is None else check.through(articles()), workers=n_workers
                )
            detector.skipped = len(warnings)
            if len(detector) == 0:
                raise click.ClickException("no article could be read from the inputs")
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
            if with_report:
                from dedup.report.build import report_from_result

                t0 = time.perf_counter()
                texts = ((a.id, a.text) for a in source.articles(lambda e: None))
                page = report_from_result(result, texts, source=str(out_dir), progress=progress)
                with atomic_write(folder.path("report.html"), hold=folder.hold("report.html")) as f:
                    f.write(page)
                outputs["report"] = "report.html"
                result.summary["timings_s"]["report"] = round(time.perf_counter() - t0, 3)
            if check is not None and not no_add:
                t0 = time.perf_counter()
                with progress("index add", len(detector.ids)) as bar:

                    def to_add() -> Iterator[tuple[str, str]]:
                        for article in source.articles(lambda e: None):  # (warned about already)
                            bar.update(1)
                            yield article.id, article.text

                    result.summary["index"]["added"] = check.index.load(to_add())
                result.summary["timings_s"]["index_add"] = round(time.perf_counter() - t0, 3)
            if check is not None:
                result.summary["index"]["held_after"] = len(check.index)
                result.summary["timings_s"]["index_query"] = round(check.seconds, 3)
            result.summary["timings_s"]["total"] = round(time.perf_counter() - started, 3)
            result.summary["inputs"] = list(inputs)
            result.summary["workers"] = n_workers
            result.summary["input_format"] = source.format
            # What `dedup report` needs to read the inputs again, from any folder.
            result.summary["input_options"] = {
                "paths": [p if p == STDIN else os.path.abspath(p) for p in inputs],
                "format": input_format,
                "id_field": id_field,
                "text_field": text_field,
                "max_chars": max_chars or None,
            }
            result.summary["warnings"] = warnings[:1000]
            result.summary["outputs"] = outputs
            write_json("summary.json", result.summary, run=folder)
            folder.commit()
    except HeldError as err:
        raise click.ClickException(f"{err}: nothing written or added") from None
    except MemoryLimitError as err:
        raise click.ClickException(f"{err}; nothing written") from None
    except MemoryError:  # (the system's, without --memory-limit: one huge article with --max-chars 0)
        raise click.ClickException(
            "out of memory; nothing written (an article of millions of characters takes about 45 bytes "
            "a character: see --max-chars; --memory-limit stops a run before the system does)"
        ) from None
    except InputChangedError as err:
        raise click.ClickException(f"{err}; nothing written") from None
    except InputError as err:
        raise click.ClickException(f"{err} (nothing written; --skip-bad skips bad records)") from None
    except OSError as err:  # the output side: a full disk, a read-only folder
        where = err.filename or out_dir
        raise click.ClickException(f"{where}: cannot write: {err.strerror or err}") from None
    if not quiet:
        print_summary(result, out_dir)


def _run_on_spark(
    inputs: tuple[str, ...],
    out: str,
    params: Params,
    input_format: str | None,
    id_field: str,
    text_field: str,
    quiet: bool,
) -> None:
    """`dedup run --engine spark`: Spark reads the JSONL or Parquet inputs, runs the pipeline and
    writes the kept records into OUT/deduplicated/ (part files); pairs, clusters and the summary
    come back to this process and are written as a local run writes them, into a local folder or,
    through Hadoop's file systems, to a URL (hdfs://, s3a://, file://)."""
    from dedup.io.write import write_json, write_jsonl

    parquet = input_format == "parquet" or (
        input_format is None and all(p.rstrip("/").endswith(".parquet") for p in inputs)
    )
    if input_format not in (None, "jsonl", "parquet") or "-" in inputs:
        raise click.UsageError("--engine spark reads JSONL or Parquet files (not stdin, CSV or text folders)")
    for path in inputs:
        if "://" not in path and not os.path.exists(path):
            raise click.UsageError(f"{path}: no such file or folder")
    try:
        from dedup.engines.spark import run
        from dedup.engines.spark_io import (
            Folder,
            SparkInputError,
            SparkJobError,
            bad_records_surface,
            read_jsonl,
            read_parquet,
            spark_session,
            write_deduplicated,
            write_parquet_kept,
        )
    except ImportError as err:
        raise click.ClickException(str(err)) from None
    started = time.perf_counter()
    try:
        session = spark_session(progress=wants_progress(quiet))
    except ImportError as err:
        raise click.ClickException(str(err)) from None
    if quiet:
        session.sparkContext.setLogLevel("ERROR")
    local = "://" not in out
    try:
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
                write_deduplicated(session, inputs, result.duplicate_positions, target)
            result.summary["timings_s"]["write"] = round(time.perf_counter() - t0, 3)
            if folder is None:
                write_jsonl(Path(out) / "pairs.jsonl", (p.to_dict() for p in result.pairs))
                write_jsonl(Path(out) / "clusters.jsonl", (c.to_dict() for c in result.clusters))
            else:
                folder.write_jsonl("pairs.jsonl", (p.to_dict() for p in result.pairs))
                folder.write_jsonl("clusters.jsonl", (c.to_dict() for c in result.clusters))
    except SparkInputError as err:
        raise click.ClickException(f"{err} (the Spark job stopped; nothing written)") from None
    except SparkJobError as err:
        raise click.ClickException(
            f"{err} (the executors' logs have the rest; no summary.json written)"
        ) from None
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
    if not quiet:
        print_summary(result, Path(out) if local else out)


def print_summary(result: Result, out_dir: Path | str, limit: int = 20) -> None:
    """The human summary on stderr: counts, then the clusters found."""
    s = result.summary
    a = s["articles"]
    echo = click.echo
    echo(
        f"read {a['read']:,} articles: kept {a['kept']:,}, removed as duplicates "
        f"{a['removed_as_duplicates']:,}, skipped as bad input {a['skipped_bad_input']:,}",
        err=True,
    )
    if s.get("languages"):
        shown = ", ".join(f"{lang} {n:,}" for lang, n in list(s["languages"].items())[:8])
        more = f" and {len(s['languages']) - 8} more" if len(s["languages"]) > 8 else ""
        skipped = a.get("not_compared_language")
        note = f"; {skipped:,} not compared (--lang)" if skipped else ""
        echo(f"languages: {shown}{more}{note}", err=True)
    if "cross_lingual" in s:
        x = s["cross_lingual"]
        echo(
            f"cross-lingual: {x['links']:,} links; {x['clusters_mixing_languages']:,} clusters mix languages",
            err=True,
        )
    if "index" in s:
        i = s["index"]
        added = f"; added {i['added']:,}" if "added" in i else " (nothing added: --no-add)"
        echo(
            f"index {i['location']}: held {i['held_before']:,}; {i['articles_matching_held']:,} of these "
            f"articles duplicate held ones, in {i['clusters_with_held']:,} clusters{added}; "
            f"now holds {i['held_after']:,}",
            err=True,
        )
    c = s["candidates"]
    echo(
        f"{s['clusters']:,} cluster{'' if s['clusters'] == 1 else 's'} from {c['verified_pairs']:,} verified"
        f" of {c['pairs']:,} candidate pairs"
        f" ({s['timings_s'].get('total', 0):.1f} s)",
        err=True,
    )
    score = {(p.a, p.b): p.score for p in result.pairs}
    for cl in result.clusters[:limit]:
        others = []
        for m in cl.duplicates[:5]:
            key = (min(m, cl.representative), max(m, cl.representative))
            others.append(f"{m} (score {score[key]:.2f})" if key in score else m)
        if len(cl.duplicates) > 5:
            others.append(f"and {len(cl.duplicates) - 5} more")
        echo(f"  cluster {cl.cluster}: keep {cl.representative}; duplicates: {', '.join(others)}", err=True)
    if len(result.clusters) > limit:
        echo(
            f"  ... {len(result.clusters) - limit:,} more in {str(out_dir).rstrip('/')}/clusters.jsonl",
            err=True,
        )
    echo(f"results in {str(out_dir).rstrip('/')}/", err=True)


# ------------------------------------------------------------------------------------------------
# dedup align, dedup report


def _align_defaults() -> dict[str, Any]:
    from dedup.report.align import align

    params = inspect.signature(align).parameters.values()
    return {p.name: p.default for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}


def align_options(f):
    """The options of ``dedup.report.align.align`` that a user may want to change, one each."""
    from dedup.report.align import SIMILARITIES, UNITS

    d = _align_defaults()
    options = [
        click.option(
            "--threshold",
            type=click.FloatRange(0, 1),
            default=d["threshold"],
            help="Similarity two blocks of sentences must exceed to be aligned [default: 0.1; 0.03 "
            "across languages].",
        ),
        click.option(
            "--attach",
            type=click.FloatRange(0, 1),
            default=d["attach"],
            show_default=True,
            help="Similarity at which a left-out sentence joins its neighbours' link.",
        ),
        click.option(
            "--move",
            type=click.FloatRange(0, 2),
            default=d["move"],
            show_default=True,
            help="Similarity at which out-of-order sentences are still paired (1 or more: never).",
        ),
        click.option(
            "--min-score",
            type=click.FloatRange(0, 1),
            default=d["min_score"],
            help="Paragraph links scoring less are dropped (two articles on one event share facts, "
            "less closely than two versions of one text) [default: 0.2; 0.05 across languages].",
        ),
        click.option(
            "--unit",
            type=click.Choice(UNITS),
            default=d["unit"],
            show_default=True,
            help="Align sentences (then paragraphs) or whole paragraphs.",
        ),
        click.option(
            "--similarity",
            type=click.Choice(SIMILARITIES),
            default=d["similarity"],
            show_default=True,
            help="TF-IDF cosine, rapidfuzz token-set ratio, their mean, or the cosine of the sentences' "
            "language-independent fingerprints; auto: fingerprint when the two texts are in different "
            "languages, else tfidf.",
        ),
    ]
    return _with_options(f, options)


def _emit(text: str, output: Path | None, *, color: bool = False) -> None:
    """Print ``text`` to stdout, or write it atomically to ``output``; a failure names the file."""
    if output is None:
        click.echo(text, nl=False, color=color)
        return
    from dedup.io.atomic import atomic_write

    try:
        with atomic_write(output) as f:
            f.write(text)
    except OSError as err:
        raise click.ClickException(f"{output}: cannot write: {err.strerror or err}") from None


_OUTPUT = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file (atomically) instead of stdout.",
)


@main.command("align")
@click.argument("file_a", metavar="A")
@click.argument("file_b", metavar="B")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "md", "html"]),
    default="text",
    show_default=True,
    help="text: two columns for a terminal; json: the links; md: a Markdown table; html: one page.",
)
@_OUTPUT
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the text format (default: only when stdout is a terminal).",
)
@click.option(
    "--width",
    type=click.IntRange(min=50),
    default=None,
    help="Line width of the text format (default: the terminal's).",
)
@align_options
def align_command(
    file_a: str,
    file_b: str,
    output_format: str,
    output: Path | None,
    color: bool | None,
    width: int | None,
    **options: Any,
) -> None:
    """Align the paragraphs of two variants of an article, A and B.

    A and B are text files (UTF-8, optionally gzipped); one of them may be - for
    stdin. Paragraphs are separated by blank lines (or, if there is none, by line
    breaks). Shows which paragraphs correspond (1:1, 1:2 splits, 2:1 merges, moved),
    which are only in A or only in B, and which are boilerplate.
    """
    from dedup.io.read import STDIN, STDIN_NAME, read_text
    from dedup.report.align import align
    from dedup.report.html import render_html
    from dedup.report.markdown import render_markdown
    from dedup.report.text import render_text
    from dedup.report.views import AlignedPair

    if file_a == STDIN and file_b == STDIN:
        raise click.UsageError("only one of A and B can be - (stdin)")
    texts = []
    for path in (file_a, file_b):
        try:
            texts.append(read_text(path))
        except InputError as err:
            raise click.ClickException(str(err)) from None
    names = (STDIN_NAME if file_a == STDIN else file_a, STDIN_NAME if file_b == STDIN else file_b)
    alignment = align(texts[0], texts[1], **options)
    use_color = False
    if output_format == "text":
        use_color = color if color is not None else (output is None and sys.stdout.isatty())
        page = render_text(alignment, names=names, width=width, color=use_color)
    elif output_format == "json":
        page = (
            json.dumps({"a": names[0], "b": names[1], **alignment.to_dict()}, ensure_ascii=False, indent=2)
            + "\n"
        )
    elif output_format == "md":
        page = render_markdown(alignment, names=names)
    else:
        page = render_html(AlignedPair(names[0], names[1], alignment), title=f"{names[0]} ↔ {names[1]}")
    _emit(page, output, color=use_color)


@main.command("report")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["html", "md", "json"]),
    default="html",
    show_default=True,
    help="html: one self-contained page; md: Markdown; json: a list of {cluster, a, b, alignment}.",
)
@_OUTPUT
@click.option(
    "--input",
    "input_paths",
    multiple=True,
    help="Read the run's inputs from here instead of the paths summary.json recorded (repeat for several; "
    "needed when the run read stdin or the files moved).",
)
@click.option(
    "--max-clusters",
    type=click.IntRange(min=0),
    default=200,
    show_default=True,
    help="Show at most this many clusters (the first ones); the report says how many were left out.",
)
@click.option(
    "--max-duplicates",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Align at most this many duplicates of each cluster.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@align_options
def report_command(
    run_dir: Path,
    output_format: str,
    output: Path | None,
    input_paths: tuple[str, ...],
    max_clusters: int,
    max_duplicates: int,
    quiet: bool,
    **options: Any,
) -> None:
    """Show the clusters of a dedup run: each duplicate aligned, paragraph by paragraph, against the
    article the run kept.

    RUN_DIR is the --out folder of `dedup run`. The inputs are read again (paths recorded in
    summary.json, or --input) to get the texts and to learn the boilerplate paragraphs that recur
    across stories.
    """
    from dedup.report.build import ReportError, report_from_run

    progress = terminal_progress if wants_progress(quiet) else no_progress
    try:
        page = report_from_run(
            run_dir,
            inputs=list(input_paths) or None,
            format=output_format,
            max_clusters=max_clusters,
            max_duplicates=max_duplicates,
            progress=progress,
            **options,
        )
    except ReportError as err:
        raise click.ClickException(str(err)) from None
    _emit(page, output)


@main.command("explain")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("id_a")
@click.argument("id_b")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@click.option(
    "--input",
    "input_paths",
    multiple=True,
    help="Read the run's inputs from here instead of the paths summary.json recorded (repeat for several).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes that tokenise, hash and count (default: all cores).",
)
@click.option(
    "--spill-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the per-article term counts while explaining, as dedup run's (default: a temporary "
    "folder in RUN_DIR, removed at the end).",
)
@click.option("--in-memory", is_flag=True, help="Keep the per-article term counts in memory instead.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
def explain_command(
    run_dir: Path,
    id_a: str,
    id_b: str,
    as_json: bool,
    input_paths: tuple[str, ...],
    workers: int | None,
    spill_dir: Path | None,
    in_memory: bool,
    quiet: bool,
) -> None:
    """Say why articles ID_A and ID_B of a dedup run were, or were not, put in one cluster: each
    signal with its value and rule, the score against the threshold, the clustering step that
    joined or separated them, and their paragraph alignment.

    RUN_DIR is the --out folder of `dedup run`. The run is done again over its inputs (paths
    recorded in summary.json, or --input) with its parameters, so this takes as long as the run.
    """
    from dedup.explain import ExplainError, explain_run

    progress = terminal_progress if wants_progress(quiet) else no_progress
    try:
        explanation = explain_run(
            run_dir,
            id_a,
            id_b,
            inputs=list(input_paths) or None,
            workers=workers or default_workers(),
            spill_dir=None if in_memory else spill_dir or (run_dir if run_dir.is_dir() else None),
            progress=progress,
        )
    except ExplainError as err:
        raise click.ClickException(str(err)) from None
    click.echo(explanation.to_json() if as_json else explanation.to_text(), nl=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def _given_params(ctx: click.Context, options: dict[str, Any]) -> dict[str, Any]:
    """The detection options given on the command line (not their defaults): an existing index
    keeps its own, and only a value that contradicts them is an error."""
    given = {}
    for name in _PARAM_NAMES:
        value = options.pop(name)
        if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE:
            given[name] = value
    return given


def _open_index(location: str, params: dict[str, Any], *, create: bool = True) -> Any:
    from dedup.index.index import Index, IndexFileError

    shown = shown_location(location)
    try:
        return Index.open(location, create=create, **params)
    except IndexFileError as err:
        raise click.ClickException(str(err).replace(location, shown)) from None
    except (ValueError, TypeError) as err:
        raise click.UsageError(str(err).replace(location, shown)) from None


@main.group("index")
def index_group() -> None:
    """A persistent index that new articles are checked against: one SQLite file, or a Redis server
    shared by many machines (INDEX = redis://host:port/db[?prefix=...], pip install 'dedup[redis]').

    The index is made, with the detection options given, by the first `dedup index add`;
    afterwards it keeps those options (verification ones, such as --threshold, may change).
    """


def _index_articles(
    ctx: click.Context,
    index_path: str,
    inputs: tuple[str, ...],
    out: Path | None,
    store: bool,
    input_format: str | None,
    id_field: str,
    text_field: str,
    skip_bad: bool,
    max_chars: int,
    quiet: bool,
    options: dict[str, Any],
) -> None:
    """Read INPUTS and add (or query) each article; write the matches to ``out`` (JSONL)."""
    if input_format == "parquet":
        raise click.UsageError("--format parquet needs dedup run --engine spark")
    from dedup.io.write import write_jsonl

    params = _given_params(ctx, options)
    progress = terminal_progress if wants_progress(quiet) else no_progress
    label = "add" if store else "query"
    rows: list[dict[str, Any]] = []
    counts = {"articles": 0, "matched": 0, "skipped": 0}

    def on_bad(err: InputError) -> None:
        counts["skipped"] += 1
        if not quiet:
            click.echo(f"warning: skipped {err}", err=True)

    try:
        with (
            _inputs(inputs, input_format, id_field, text_field, max_chars) as source,
            _open_index(index_path, params, create=store) as idx,
            progress(label, None) as bar,
        ):
            batch: list[Article] = []

            def flush() -> None:
                if store:
                    try:
                        found = idx.add_many([(a.id, a.text) for a in batch])
                    except HeldIdError as err:  # an id held already
                        where = next(a for a in batch if a.id == err.article_id)
                        raise InputError(where.source, where.line, str(err)) from None
                else:
                    found = [idx.query(a.text) for a in batch]
                for article, matches in zip(batch, found, strict=True):
                    counts["articles"] += 1
                    counts["matched"] += bool(matches)
                    rows.append({"id": article.id, "matches": [dataclasses.asdict(m) for m in matches]})
                bar.update(len(batch))
                batch.clear()

            for article in source.articles(on_bad if skip_bad else None):
                batch.append(article)
                if len(batch) == 100:
                    flush()
            flush()
            held = len(idx)
    except (InputError, OSError, IndexFileError) as err:  # (bad input, a held id; a disk; a server gone)
        if isinstance(err, (InputError, IndexFileError)):
            problem, done = str(err), "the articles before it were added"
        else:
            problem = f"{err.filename or shown_location(index_path)}: cannot write: {err.strerror or err}"
            done = "the batches before it were added"
        if not store:
            done = "nothing written"
        elif not rows:
            done = "nothing added"
        elif out is not None:  # (the matches of what was added, committed: kept)
            with contextlib.suppress(OSError):
                write_jsonl(out, rows)
                done += f", their {len(rows):,} matches written to {out}"
        raise click.ClickException(f"{problem} ({done})") from None
    if out is not None:
        write_jsonl(out, rows)
    elif not store:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
    if not quiet:
        verb = "added" if store else "checked"
        skipped = f", {counts['skipped']:,} skipped" if counts["skipped"] else ""
        click.echo(
            f"{verb} {counts['articles']:,} articles ({counts['matched']:,} duplicate held ones{skipped}); "
            f"{shown_location(index_path)} holds {held:,}",
            err=True,
        )


def index_input_options(f):
    """What `index add` and `index query` share: INDEX, INPUTS, --out, and the input and
    detection options."""
    out = click.option(
        "-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="Write each article's matches here, one JSON line per article ({id, matches: [...]}).",
    )  # fmt: skip
    index = click.argument("index_path", metavar="INDEX")
    inputs = click.argument("inputs", nargs=-1, required=True)
    return _with_options(f, [index, inputs, out, input_options, param_options, click.pass_context])


_IO_OPTIONS = ("input_format", "id_field", "text_field", "skip_bad", "max_chars", "quiet")


@index_group.command("add")
@index_input_options
def index_add(
    ctx: click.Context, index_path: str, inputs: tuple[str, ...], out: Path | None, **options: Any
) -> None:
    """Add the articles of INPUTS to INDEX (made if missing), each checked against those before it.

    INPUTS are read as by `dedup run`. Each batch of 100 articles is committed before the next is
    read; an id already held stops the command (the articles before it stay added).
    """
    io = {k: options.pop(k) for k in _IO_OPTIONS}
    _index_articles(ctx, index_path, inputs, out, True, **io, options=options)


@index_group.command("query")
@index_input_options
def index_query(
    ctx: click.Context, index_path: str, inputs: tuple[str, ...], out: Path | None, **options: Any
) -> None:
    """Check the articles of INPUTS against INDEX without adding them; print (or --out) their
    matches as JSON lines."""
    io = {k: options.pop(k) for k in _IO_OPTIONS}
    _index_articles(ctx, index_path, inputs, out, False, **io, options=options)


@index_group.command("check")
@click.argument("index_path", metavar="INDEX")
def index_check(index_path: str) -> None:
    """Check INDEX's integrity and its own counts (exit status 1 and one line if anything is wrong)."""
    from dedup.index.index import IndexFileError

    with _open_index(index_path, {}, create=False) as idx:
        try:
            idx.check()
        except IndexFileError as err:
            raise click.ClickException(str(err)) from None
        click.echo(f"{idx.location}: ok, {len(idx):,} articles", err=True)


@index_group.command("remove")
@click.argument("index_path", metavar="INDEX")
@click.argument("ids", nargs=-1, required=True)
def index_remove(index_path: str, ids: tuple[str, ...]) -> None:
    """Forget the articles IDS (a takedown, a retraction); an id not held is an error, after the
    others are removed."""
    missing = []
    with _open_index(index_path, {}, create=False) as idx:
        for article_id in ids:
            try:
                idx.remove(article_id)
            except KeyError:
                missing.append(article_id)
        held = len(idx)
    shown = shown_location(index_path)
    click.echo(f"removed {len(ids) - len(missing):,}; {shown} holds {held:,}", err=True)
    if missing:
        raise click.ClickException(f"{shown}: not held: {', '.join(missing[:20])}")


@index_group.command("stats")
@click.argument("index_path", metavar="INDEX")
def index_stats(index_path: str) -> None:
    """Print what INDEX holds and the parameters it was made with (JSON)."""
    with _open_index(index_path, {}, create=False) as idx:
        click.echo(json.dumps(idx.stats(), indent=2))
