"""``dedup align``, ``dedup report``, ``dedup explain``: one pair, a run's clusters, one decision shown."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from dedup.cli.options import OUTPUT_OPTION, align_options, emit
from dedup.featurize import default_workers
from dedup.io.article import InputError
from dedup.runtime.progress import no_progress, terminal_progress, wants_progress


@click.command("align")
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
@OUTPUT_OPTION
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
    from dedup.io.files import STDIN, STDIN_NAME
    from dedup.io.formats import read_text
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
    emit(page, output, color=use_color)


@click.command("report")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["html", "md", "json"]),
    default="html",
    show_default=True,
    help="html: one self-contained page; md: Markdown; json: a list of {cluster, a, b, alignment}.",
)
@OUTPUT_OPTION
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
    emit(page, output)


@click.command("explain")
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
