"""``dedup align``, ``dedup report``, ``dedup explain``: one pair, a run's clusters, one decision shown."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from dedup.cli.options import OUTPUT_OPTION, align_options, emit, input_options, open_inputs, work_options
from dedup.featurize import default_workers
from dedup.io.article import InputError
from dedup.runtime.progress import no_progress, terminal_progress, wants_progress


def _dump_input_options(f):
    """How to read a dump (``dedup run``'s input options, the format's as ``--input-format``)."""
    return input_options(f, "--input-format")


_ALIGN_USAGE = "give A B (two text files), DUMP ID_A ID_B (two records of a dump) or --run OUT ID_A ID_B"


@click.command("align")
@click.argument("args", nargs=-1, required=True, metavar="A B | DUMP ID_A ID_B | --run OUT ID_A ID_B")
@click.option(
    "--run",
    "run_dir",
    type=click.Path(path_type=Path),
    default=None,
    metavar="OUT",
    help="Align records ID_A and ID_B of an earlier run (its --out folder): read from the inputs its "
    "summary.json recorded, else from the records the run wrote.",
)
@click.option(
    "--input",
    "input_paths",
    multiple=True,
    help="With --run: read the run's records from here instead (repeat for several).",
)
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
@_dump_input_options
@click.pass_context
def align_command(
    ctx: click.Context,
    args: tuple[str, ...],
    run_dir: Path | None,
    input_paths: tuple[str, ...],
    output_format: str,
    output: Path | None,
    color: bool | None,
    width: int | None,
    skip_bad: bool,
    quiet: bool,
    **options: Any,
) -> None:
    """Align the paragraphs of two variants of an article, A and B.

    \b
    dedup align A.txt B.txt                two text files (one may be - for stdin)
    dedup align DUMP ID_A ID_B             two records of a dump (any input of dedup run)
    dedup align --run OUT ID_A ID_B        two records of an earlier run

    Text files are UTF-8, optionally compressed. A dump is read in one pass that stops when both
    records are found. Paragraphs are separated by blank lines (or, if there is none, by line
    breaks). Shows which paragraphs correspond (1:1, 1:2 splits, 2:1 merges, moved), which are
    only in A or only in B, and which are boilerplate; the text view says which languages were
    detected and which similarity was used.
    """
    from dedup.report.align import align
    from dedup.report.html import render_html
    from dedup.report.markdown import render_markdown
    from dedup.report.text import render_text
    from dedup.report.views import AlignedPair

    align_keys = set(_align_keywords())
    align_kw = {k: v for k, v in options.items() if k in align_keys}
    input_kw = {k: v for k, v in options.items() if k not in align_keys}
    if run_dir is not None:
        if len(args) != 2:
            raise click.UsageError(f"--run OUT takes two ids, ID_A ID_B; {_ALIGN_USAGE}")
        _no_options(ctx, input_kw, "--run takes the run's own input options")
        pair = _align_run(run_dir, args, input_paths, skip_bad, quiet, align_kw)
    elif input_paths:
        raise click.UsageError("--input goes with --run")
    elif len(args) == 3:
        pair = _align_dump(args, input_kw, skip_bad, quiet, align_kw)
    elif len(args) == 2:
        _no_options(ctx, input_kw, "input options go with DUMP ID_A ID_B")
        texts, names = _read_texts(args)
        try:
            pair = AlignedPair(names[0], names[1], align(texts[0], texts[1], **align_kw))
        except ValueError as err:
            raise click.UsageError(str(err)) from None
    else:
        raise click.UsageError(_ALIGN_USAGE)
    names = (pair.a, pair.b)
    alignment = pair.alignment
    use_color = False
    if output_format == "text":
        to_stdout = output is None or str(output) == "-"
        use_color = color if color is not None else (to_stdout and sys.stdout.isatty())
        page = render_text(alignment, names=names, width=width, color=use_color, score=pair.score)
    elif output_format == "json":
        score = {} if pair.score is None else {"score": round(pair.score, 4)}
        data = {"a": names[0], "b": names[1], **score, **alignment.to_dict()}
        page = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    elif output_format == "md":
        page = render_markdown(alignment, names=names)
    else:
        page = render_html(pair, title=f"{names[0]} ↔ {names[1]}")
    emit(page, output, color=use_color)


def _align_keywords() -> list[str]:
    import inspect

    from dedup.report.align import align

    return [p.name for p in inspect.signature(align).parameters.values() if p.kind is p.KEYWORD_ONLY]


def _no_options(ctx: click.Context, given: dict[str, Any], why: str) -> None:
    """A usage error if one of the options ``given`` was set on the command line."""
    for name in given:
        if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE:
            flag = next(p.opts[0] for p in ctx.command.params if p.name == name)
            raise click.UsageError(f"{flag}: {why}")


def _read_texts(paths: tuple[str, ...]) -> tuple[list[str], tuple[str, str]]:
    from dedup.io.files import STDIN, STDIN_NAME
    from dedup.io.formats import read_text

    if paths[0] == STDIN and paths[1] == STDIN:
        raise click.UsageError("only one of A and B can be - (stdin)")
    texts = []
    for path in paths:
        try:
            texts.append(read_text(path))
        except InputError as err:
            raise click.ClickException(str(err)) from None
    names = tuple(STDIN_NAME if p == STDIN else p for p in paths)
    return texts, (names[0], names[1])


def _warn_skipped(quiet: bool) -> Any:
    def on_bad(err: InputError) -> None:
        if not quiet:
            click.echo(f"warning: skipped {err}", err=True)

    return on_bad


def _align_dump(
    args: tuple[str, ...], input_kw: dict[str, Any], skip_bad: bool, quiet: bool, align_kw: dict[str, Any]
) -> Any:
    """``dedup align DUMP ID_A ID_B``: :func:`dedup.report.records.align_records`."""
    from dedup.report.records import align_records

    dump, id_a, id_b = args
    try:
        inputs = open_inputs((dump,), **input_kw)
    except (InputError, ValueError) as err:  # (dedup run's --format is --input-format here)
        raise click.ClickException(str(err).replace("--format", "--input-format")) from None
    progress = terminal_progress if wants_progress(quiet) else no_progress
    with _align_errors(skip_bad), inputs:
        return align_records(
            inputs, id_a, id_b, on_bad=_warn_skipped(quiet) if skip_bad else None, progress=progress,
            **align_kw,
        )  # fmt: skip


def _align_run(
    run_dir: Path,
    ids: tuple[str, ...],
    input_paths: tuple[str, ...],
    skip_bad: bool,
    quiet: bool,
    align_kw: dict[str, Any],
) -> Any:
    """``dedup align --run OUT ID_A ID_B``: :func:`dedup.report.records.align_run_records`."""
    from dedup.report.records import align_run_records

    progress = terminal_progress if wants_progress(quiet) else no_progress
    with _align_errors(skip_bad):
        return align_run_records(
            run_dir, ids[0], ids[1], inputs=list(input_paths) or None,
            on_bad=_warn_skipped(quiet) if skip_bad else None, progress=progress, **align_kw,
        )  # fmt: skip


@contextlib.contextmanager
def _align_errors(skip_bad: bool) -> Iterator[None]:
    """Errors of aligning two records as one line: an id not found, bad input (``--skip-bad``
    hinted only where skipping the record would help), a parameter out of range."""
    from dedup.report.build import ReportError

    try:
        yield
    except ReportError as err:
        raise click.ClickException(str(err)) from None
    except InputError as err:
        hint = " (--skip-bad skips bad records)" if err.record and not skip_bad else ""
        raise click.ClickException(f"{err}{hint}") from None
    except ValueError as err:
        raise click.UsageError(str(err)) from None


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
    "--view",
    type=click.Choice(["compact", "full"]),
    default="compact",
    show_default=True,
    help="html: compact shows each cluster's kept article once and what each copy adds or drops; full "
    "shows each copy side by side with the kept article (a page many times larger).",
)
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
    view: str,
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
    across stories. The HTML page opens on an index of the clusters, lowest score first, that
    sorts and filters by size and score. -o - writes to stdout.
    """
    from dedup.report.build import ReportError, report_from_run

    def note(line: str) -> None:
        if not quiet:
            click.echo(f"note: {line}", err=True)

    progress = terminal_progress if wants_progress(quiet) else no_progress
    try:
        page = report_from_run(
            run_dir,
            inputs=list(input_paths) or None,
            format=output_format,
            view=view,
            on_left_out=note,
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
@work_options(
    workers_help="Processes that tokenise, hash and count (default: all cores).",
    spill_dir_help="Folder for the per-article term counts while explaining, as dedup run's (default: a "
    "temporary folder in RUN_DIR, removed at the end).",
    in_memory_help="Keep the per-article term counts in memory instead.",
)
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
