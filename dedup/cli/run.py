"""``dedup run``: parse, call :func:`dedup.runs.deduplicate` (or its Spark twin), print the summary."""

from __future__ import annotations

import contextlib
import shutil
import sys
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
    work_options,
)
from dedup.featurize import default_workers
from dedup.io.article import InputChangedError, InputError
from dedup.io.write import FieldClashError
from dedup.params import (
    Params,
)
from dedup.result import Cluster, Result
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
    help="Folder for pairs.jsonl, clusters.jsonl, deduplicated.<format>, removed.<format> and summary.json "
    "(new or empty; an earlier run's with --overwrite). -: no folder, the clusters as JSON lines on stdout "
    "(see --print). With --engine spark also a URL Spark writes to: hdfs://..., s3a://..., file://....",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace the earlier run in --out (a folder with a summary.json), all its files at once. A "
    "non-empty folder without one is never written into.",
)
@click.option(
    "--annotate",
    is_flag=True,
    help="Also write annotated.<format>: every input record with its cluster, duplicate_of, score and kept.",
)
@click.option(
    "--print",
    "to_print",
    type=click.Choice(["pairs", "clusters"]),
    default=None,
    help="Also write the pairs or the clusters to stdout as JSON lines (as pairs.jsonl and clusters.jsonl "
    "hold them), for a pipe; the summary stays on stderr. Default with --out -: clusters.",
)
@click.option(
    "--report",
    "with_report",
    is_flag=True,
    help="Also write report.html: each cluster's duplicates aligned paragraph by paragraph with the kept "
    "article (dedup report RUN_DIR makes it later, with more options).",
)
@work_options(
    workers_help="Processes that tokenise, hash and count (default: all cores). Results do not depend on it.",
    spill_dir_help="Folder for the run's per-article term counts, written as articles are read and read back "
    "through memory maps, so that memory holds little more than the signatures and candidate pairs "
    "(default: a temporary folder in --out, removed at the end).",
    in_memory_help="Keep the per-article term counts in memory instead (a little faster; memory grows by a "
    "few kB per article).",
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
    overwrite: bool,
    annotate: bool,
    to_print: str | None,
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
    recursive: bool,
    delimiter: str | None,
    id_field: str,
    text_field: str,
    skip_bad: bool,
    max_chars: int,
    quiet: bool,
    **options: Any,
) -> None:
    """Find duplicate articles in INPUTS and write the results to --out.

    INPUTS are .jsonl, .csv/.tsv, .parquet or .txt files (optionally .gz, .bz2, .xz or
    .zst), folders of them (shards; --recursive for subfolders), or - for JSONL on stdin. With
    --index, clusters also join the articles already held that they duplicate, and those
    clusters' articles are all dropped.
    """
    from dedup.index.run import HeldError
    from dedup.io.files import STDIN
    from dedup.runs import NothingReadError, OutFolderError, deduplicate

    if no_add and index_location is None:
        raise click.UsageError("--no-add goes with --index")
    if on_held != "error" and index_location is None:
        raise click.UsageError("--on-held goes with --index")
    if engine == "spark":
        for name, value in (
            ("--index", index_location), ("--report", with_report), ("--skip-bad", skip_bad),
            ("--memory-limit", memory_limit), ("--recursive", recursive), ("--delimiter", delimiter),
        ):  # fmt: skip
            if value:
                raise click.UsageError(f"{name} is not available with --engine spark")
        for name, value in (("--annotate", annotate), ("--print", to_print), ("--out -", out == "-")):
            if value:
                raise click.UsageError(f"{name} is not available with --engine spark")
        _run_on_spark(inputs, out, params_from(options), input_format, id_field, text_field, quiet, overwrite)
        return
    if "://" in out:
        raise click.UsageError(
            f"--out {out}: a URL needs --engine spark (the local engine writes to a folder)"
        )
    out_dir = None if out == "-" else Path(out)
    if out_dir is None:
        for name, value in (("--report", with_report), ("--annotate", annotate), ("--overwrite", overwrite)):
            if value:
                raise click.UsageError(f"{name} needs an output folder, not --out - (stdout)")
        to_print = to_print or "clusters"
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
                overwrite=overwrite,
                annotate=annotate,
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
                recursive=recursive,
                delimiter=delimiter,
                id_field=id_field,
                text_field=text_field,
                max_chars=max_chars or None,
                on_bad=on_bad if skip_bad else None,
                progress=terminal_progress if wants_progress(quiet) else no_progress,
            )
    except OutFolderError as err:
        raise click.ClickException(_refused(out, err)) from None
    except FieldClashError as err:
        raise click.ClickException(f"{err}; nothing written") from None
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
    except InputError as err:  # (--skip-bad only where it helps: a bad record, not a wrong option)
        hint = "; --skip-bad skips bad records" if err.record and not skip_bad else ""
        raise click.ClickException(f"{err} (nothing written{hint})") from None
    except ImportError as err:  # (a package a format needs: pyarrow, zstandard)
        raise click.ClickException(f"{err} (nothing written)") from None
    except NothingReadError as err:
        raise click.ClickException(str(err)) from None
    except OSError as err:  # the output side: a full disk, a read-only folder
        where = err.filename or out_dir
        raise click.ClickException(f"{where}: cannot write: {err.strerror or err}") from None
    if to_print is not None:
        print_lines(result.pairs if to_print == "pairs" else result.clusters)
    if not quiet:
        print_summary(result, out_dir)


def _refused(out: str, err: Exception) -> str:
    """The one line that refuses ``--out``."""
    if getattr(err, "earlier_run", False):
        return (
            f"--out {out} holds an earlier run (summary.json): give --overwrite to replace it, "
            "or another folder"
        )
    return str(err)


def print_lines(rows: list[Any]) -> None:
    """Each of ``rows`` (pairs or clusters) as a JSON line on stdout, as the run folder's files hold
    them; a reader that stops early (``| head``) ends the output quietly."""
    import os
    import sys

    from dedup.io.write import json_line

    out = sys.stdout.buffer
    try:
        for row in rows:
            out.write(json_line(row.to_dict()))
        out.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)  # (so that the interpreter's last flush does not fail)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _run_on_spark(
    inputs: tuple[str, ...],
    out: str,
    params: Params,
    input_format: str | None,
    id_field: str,
    text_field: str,
    quiet: bool,
    overwrite: bool,
) -> None:
    """`dedup run --engine spark` (:func:`dedup.runs.deduplicate_on_spark`, Spark's console
    progress and logs unless quiet): its errors as one line."""
    from dedup.runs import OutFolderError, deduplicate_on_spark

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
            overwrite=overwrite,
        )
    except OutFolderError as err:
        raise click.ClickException(_refused(out, err)) from None
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


SIZE_BINS = ((2, 2), (3, 3), (4, 4), (5, 9), (10, 19), (20, 49), (50, 99), (100, 999), (1000, None))
"""The bins of the cluster sizes' histogram (articles a cluster, inclusive; None: no upper end)."""


def size_histogram(sizes: list[int]) -> list[tuple[str, int]]:
    """How many clusters have each size, by :data:`SIZE_BINS` (the empty bins left out)."""
    rows = []
    for lo, hi in SIZE_BINS:
        n = sum(1 for size in sizes if size >= lo and (hi is None or size <= hi))
        if n:
            rows.append((str(lo) if lo == hi else f"{lo}+" if hi is None else f"{lo}-{hi}", n))
    return rows


def counted(n: int, thing: str) -> str:
    """``n`` things, in words: 1 cluster, 2 clusters."""
    return f"{n:,} {thing}{'' if n == 1 else 's'}"


def summary_lines(
    result: Result, out_dir: Path | str | None, examples: int = 3, width: int | None = None
) -> list[str]:
    """The human summary, to fit on a screen: a few example clusters (the largest), the histogram
    of cluster sizes, the languages, the outputs and what each holds, then the totals. ``width``:
    the example clusters' lines are cut to it (a terminal's; ids such as URLs are long)."""
    from dedup.result import verdicts

    s = result.summary
    a = s["articles"]
    lines = []
    clusters = sorted(result.clusters, key=lambda c: (-len(c.members), c.cluster))[:examples]
    if clusters:
        n = len(result.clusters)
        lines.append("example:" if n == 1 else f"examples ({len(clusters)} of {n:,} clusters, the largest):")
        found = verdicts(result)
        for cl in clusters:
            lines.append(_example_line(cl, found, width))
        histogram = size_histogram([len(c.members) for c in result.clusters])
        most = max(count for _, count in histogram)
        lines.append("cluster sizes (articles: clusters):")
        label_width = max(len(label) for label, _ in histogram)
        for label, count in histogram:
            bar = "#" * max(1, round(30 * count / most))
            lines.append(f"  {label:>{label_width}}: {count:>{len(f'{most:,}')},}  {bar}")
    if s.get("languages"):
        shown_langs = ", ".join(f"{lang} {n:,}" for lang, n in list(s["languages"].items())[:8])
        more = f" and {len(s['languages']) - 8} more" if len(s["languages"]) > 8 else ""
        skipped = a.get("not_compared_language")
        note = f"; {skipped:,} not compared (--lang)" if skipped else ""
        lines.append(f"languages: {shown_langs}{more}{note}")
    if out_dir is None:
        lines.append("outputs: JSON lines on stdout (no run folder: --out -)")
    else:
        lines.append(f"outputs in {str(out_dir).rstrip('/')}/:")
        names = s.get("outputs", {})
        fields = ", ".join(s.get("audit_fields", ["cluster", "duplicate_of", "score", "kept"]))
        says = {  # (in the order shown)
            "deduplicated": f"the {counted(a['kept'], 'article')} kept",
            "removed": f"the {counted(a['removed_as_duplicates'], 'article')} removed, each with the id kept",
            "annotated": f"every article with {fields}",
            "clusters": counted(s["clusters"], "cluster"),
            "pairs": counted(s["candidates"].get("listed_pairs", len(result.pairs)), "scored pair"),
            "links": "the links across languages",
            "report": "the clusters aligned, to review in a browser"
            + (
                f"; {s['report_left_out']}".replace("raise --max-clusters", "dedup report --max-clusters")
                if "report_left_out" in s
                else ""
            ),
            "summary": "counts, parameters, timings",
        }
        name_width = max((len(name) for name in names.values()), default=0)
        for key in sorted(names, key=lambda k: list(says).index(k) if k in says else len(says)):
            lines.append(f"  {names[key]:<{name_width}}  {says.get(key, '')}".rstrip())
    if "cross_lingual" in s:
        x = s["cross_lingual"]
        lines.append(
            f"cross-lingual: {x['links']:,} links; {x['clusters_mixing_languages']:,} clusters mix languages"
        )
    if "index" in s:
        i = s["index"]
        added = f"; added {i['added']:,}" if "added" in i else " (nothing added: --no-add)"
        for key, what in (("replaced", "replaced"), ("skipped", "skipped as held already")):
            added += f", {what} {i[key]:,}" if i.get(key) else ""
        across = ""
        if i.get("links_with_held"):
            across = f" ({i['links_with_held']:,} links to held ones in other languages)"
        lines.append(
            f"index {i['location']}: held {i['held_before']:,}; {i['articles_matching_held']:,} of these "
            f"articles duplicate held ones{across}, in {i['clusters_with_held']:,} clusters{added}; "
            f"now holds {i['held_after']:,}"
        )
    c = s["candidates"]
    lines.append(
        f"read {a['read']:,} articles: kept {a['kept']:,}, removed as duplicates "
        f"{a['removed_as_duplicates']:,}, skipped as bad input {a['skipped_bad_input']:,}"
    )
    lines.append(
        f"{counted(s['clusters'], 'cluster')} from {c['verified_pairs']:,} verified"
        f" of {c['pairs']:,} candidate pairs ({s['timings_s'].get('total', 0):.1f} s)"
    )
    return lines


def _example_line(cl: Cluster, found: dict[str, Any], width: int | None, shown_most: int = 2) -> str:
    """One example cluster on one line: the kept id and up to ``shown_most`` duplicates with their
    score; within ``width`` (a terminal's), fewer duplicates are named, then the line is cut."""
    head = f"  cluster {cl.cluster} ({len(cl.members):,} articles): keep {cl.representative}; duplicates: "
    line = ""
    for k in range(min(shown_most, len(cl.duplicates)), -1, -1):
        shown = []
        for m in cl.duplicates[:k]:
            score = found[m].score if m in found else None
            shown.append(m if score is None else f"{m} (score {score:.2f})")
        rest = len(cl.duplicates) - k
        if rest:
            shown.append(f"and {rest:,} more" if k else f"{rest:,}")
        line = head + ", ".join(shown)
        if width is None or len(line) <= width:
            return line
    return line[: max(width - 1, 20)] + "…"


def print_summary(result: Result, out_dir: Path | str | None, examples: int = 3) -> None:
    """The human summary on stderr (:func:`summary_lines`), its example lines cut to the width of
    a terminal (whole in a pipe or a file)."""
    width = shutil.get_terminal_size().columns if sys.stderr.isatty() else None
    for line in summary_lines(result, out_dir, examples, width):
        click.echo(line, err=True)
