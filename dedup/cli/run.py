"""``dedup run``: parse, call :func:`dedup.runs.deduplicate` (or its Spark twin), print the summary."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import click

from dedup.cli.index import ON_HELD_OPTION
from dedup.cli.options import (
    MemorySize,
    given_params,
    input_options,
    open_index,
    param_options,
    params_from,
)
from dedup.featurize import default_workers
from dedup.io.article import InputChangedError, InputError
from dedup.params import (
    Params,
)
from dedup.result import Result
from dedup.runtime.memory import MemoryLimitError, format_size, workers_within
from dedup.runtime.progress import no_progress, terminal_progress, wants_progress


@click.command()
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
@ON_HELD_OPTION
@click.option(
    "--engine",
    type=click.Choice(["local", "spark"]),
    default="local",
    show_default=True,
    help="spark: run on Apache Spark (pip install 'newsdedup[spark]'; JSONL inputs, any path Spark reads; "
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
    on_held: str,
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
    from dedup.index.run import HeldError
    from dedup.io.files import STDIN
    from dedup.runs import NothingReadError, deduplicate

    if no_add and index_location is None:
        raise click.UsageError("--no-add goes with --index")
    if on_held != "error" and index_location is None:
        raise click.UsageError("--on-held goes with --index")
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
    given = given_params(ctx, options) if index_location is not None else {}
    params = params_from(options) if index_location is None else None
    wanted = workers or default_workers()
    n_workers = workers_within(memory_limit, wanted)
    if n_workers < wanted and workers is not None and not quiet:
        click.echo(
            f"note: --memory-limit {format_size(memory_limit or 0)} holds {n_workers} worker(s), "
            f"not {wanted}",
            err=True,
        )

    def on_bad(err: InputError) -> None:
        if not quiet:
            click.echo(f"warning: skipped {err}", err=True)

    try:
        with contextlib.ExitStack() as stack:
            index = None
            if index_location is not None:
                index = stack.enter_context(open_index(index_location, given, create=not no_add))
            result = deduplicate(
                inputs,
                out_dir,
                params=params,
                index=index,
                add_to_index=not no_add,
                on_held=on_held,
                report=with_report,
                workers=workers,
                spill_dir=spill_dir,
                in_memory=in_memory,
                memory_limit=memory_limit,
                input_format=input_format,
                id_field=id_field,
                text_field=text_field,
                max_chars=max_chars or None,
                on_bad=on_bad if skip_bad else None,
                progress=terminal_progress if wants_progress(quiet) else no_progress,
            )
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
    except NothingReadError as err:
        raise click.ClickException(str(err)) from None
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
    """`dedup run --engine spark` (:func:`dedup.runs.deduplicate_on_spark`, Spark's console
    progress and logs unless quiet): its errors as one line."""
    from dedup.runs import deduplicate_on_spark

    try:
        from dedup.engines.spark.io import SparkInputError, SparkJobError

        result = deduplicate_on_spark(
            inputs,
            out,
            params,
            input_format=input_format,
            id_field=id_field,
            text_field=text_field,
            progress=wants_progress(quiet),
        )
    except ImportError as err:
        raise click.ClickException(str(err)) from None
    except SparkInputError as err:
        raise click.ClickException(f"{err} (the Spark job stopped; nothing written)") from None
    except SparkJobError as err:
        raise click.ClickException(
            f"{err} (the executors' logs have the rest; no summary.json written)"
        ) from None
    except ValueError as err:  # (inputs Spark does not read here: checked before the session)
        raise click.UsageError(str(err)) from None
    if not quiet:
        print_summary(result, Path(out) if "://" not in out else out)


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
        for key, what in (("replaced", "replaced"), ("skipped", "skipped as held already")):
            added += f", {what} {i[key]:,}" if i.get(key) else ""
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
