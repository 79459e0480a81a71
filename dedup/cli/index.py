"""``dedup index``: add to, query, check, prune and describe a persistent index."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections import Counter
from pathlib import Path
from typing import Any

import click

from dedup.cli.options import (
    given_params,
    input_options,
    open_index,
    open_inputs,
    param_options,
    with_options,
)
from dedup.index.store import ON_HELD, IndexFileError, shown_location
from dedup.io.article import InputError
from dedup.runtime.progress import no_progress, terminal_progress, wants_progress


@click.group("index")
def index_group() -> None:
    """A persistent index that new articles are checked against: one SQLite file, or a Redis server
    shared by many machines (INDEX = redis://host:port/db[?prefix=...], pip install 'newsdedup[redis]').

    The index is made, with the detection options given, by the first `dedup index add`;
    afterwards it keeps those options (verification ones, such as --threshold, may change).
    """


ON_HELD_OPTION = click.option(
    "--on-held",
    type=click.Choice(ON_HELD),
    default="error",
    show_default=True,
    help="An article whose id the index holds already: error stops; skip leaves the held one (a job "
    "that died half-way, run again over all its input, adds the rest); replace puts the new text "
    "in its place.",
)


def _index_articles(
    ctx: click.Context,
    index_path: str,
    inputs: tuple[str, ...],
    out: Path | None,
    store: bool,
    on_held: str,
    input_format: str | None,
    recursive: bool,
    delimiter: str | None,
    id_field: str,
    text_field: str,
    skip_bad: bool,
    max_chars: int,
    quiet: bool,
    options: dict[str, Any],
) -> None:
    """Read INPUTS and add (or query) each article (:func:`dedup.index.feed.feed`); write the
    matches to ``out`` (JSONL), or print them; every error as one line that says what was added."""
    from dedup.index.feed import feed
    from dedup.index.run import HeldError
    from dedup.io.write import write_jsonl

    params = given_params(ctx, options)
    progress = terminal_progress if wants_progress(quiet) else no_progress
    label = "add" if store else "query"
    rows: list[dict[str, Any]] = []
    counts = {"articles": 0, "matched": 0, "skipped": 0}
    outcomes: Counter[str] = Counter()

    def on_bad(err: InputError) -> None:
        counts["skipped"] += 1
        if not quiet:
            click.echo(f"warning: skipped {err}", err=True)

    try:
        with (
            open_inputs(
                inputs,
                input_format,
                id_field,
                text_field,
                max_chars,
                recursive=recursive,
                delimiter=delimiter,
            ) as source,
            open_index(index_path, params, create=store) as idx,
            progress(label, None) as bar,
        ):
            articles = source.articles(on_bad if skip_bad else None)
            for article, matches in feed(idx, articles, add=store, on_held=on_held, counts=outcomes):
                counts["articles"] += 1
                counts["matched"] += bool(matches)
                if matches is None:  # (--on-held skip: held already, neither matched nor added)
                    rows.append({"id": article.id, "skipped": "held"})
                else:
                    rows.append({"id": article.id, "matches": [dataclasses.asdict(m) for m in matches]})
                bar.update(1)
            held = len(idx)
    # (bad input, a held id; a disk; a server gone; a package a format needs: pyarrow, zstandard)
    except (InputError, OSError, IndexFileError, ImportError) as err:
        if isinstance(err, (InputError, IndexFileError, ImportError)):
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
        if isinstance(err, HeldError):
            done += "; --on-held skip goes on past the articles held already"
        raise click.ClickException(f"{problem} ({done})") from None
    if out is not None:
        write_jsonl(out, rows)
    elif not store:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
    if not quiet:
        click.echo(_summary_line(counts, outcomes, store, shown_location(index_path), held), err=True)


def _summary_line(counts: dict[str, int], outcomes: Counter[str], store: bool, where: str, held: int) -> str:
    """The end line of `index add` / `index query`: what was read, added, replaced, skipped."""
    if store:
        done = f"added {outcomes['added']:,} of {counts['articles']:,} articles"
    else:
        done = f"checked {counts['articles']:,} articles"
    notes = [f"{counts['matched']:,} duplicate held ones"]
    if outcomes["replaced"]:
        notes.append(f"{outcomes['replaced']:,} replaced held ones")
    if outcomes["skipped"]:
        notes.append(f"{outcomes['skipped']:,} skipped as held already")
    if counts["skipped"]:
        notes.append(f"{counts['skipped']:,} skipped as bad input")
    return f"{done} ({'; '.join(notes)}); {where} holds {held:,}"


def index_input_options(f):
    """What `index add` and `index query` share: INDEX, INPUTS, --out, and the input and
    detection options."""
    out = click.option(
        "-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="Write each article's matches here, one JSON line per article ({id, matches: [...]}; "
        '{id, skipped: "held"} for one skipped by --on-held skip).',
    )  # fmt: skip
    index = click.argument("index_path", metavar="INDEX")
    inputs = click.argument("inputs", nargs=-1, required=True)
    return with_options(f, [index, inputs, out, input_options, param_options, click.pass_context])


_IO_OPTIONS = (
    "input_format", "recursive", "delimiter", "id_field", "text_field", "skip_bad", "max_chars", "quiet",
)  # fmt: skip


@index_group.command("add")
@index_input_options
@ON_HELD_OPTION
def index_add(
    ctx: click.Context,
    index_path: str,
    inputs: tuple[str, ...],
    out: Path | None,
    on_held: str,
    **options: Any,
) -> None:
    """Add the articles of INPUTS to INDEX (made if missing), each checked against those before it.

    INPUTS are read as by `dedup run`. Each batch of 100 articles is committed before the next is
    read; an id already held stops the command (the articles before it stay added), unless
    --on-held says to skip or replace it: a job stopped half-way finishes when run again with
    --on-held skip.
    """
    io = {k: options.pop(k) for k in _IO_OPTIONS}
    _index_articles(ctx, index_path, inputs, out, True, on_held, **io, options=options)


@index_group.command("query")
@index_input_options
def index_query(
    ctx: click.Context, index_path: str, inputs: tuple[str, ...], out: Path | None, **options: Any
) -> None:
    """Check the articles of INPUTS against INDEX without adding them; print (or --out) their
    matches as JSON lines."""
    io = {k: options.pop(k) for k in _IO_OPTIONS}
    _index_articles(ctx, index_path, inputs, out, False, "error", **io, options=options)


@index_group.command("check")
@click.argument("index_path", metavar="INDEX")
def index_check(index_path: str) -> None:
    """Check INDEX's integrity and its own counts (exit status 1 and one line if anything is wrong)."""
    from dedup.index.index import IndexFileError

    with open_index(index_path, {}, create=False) as idx:
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
    with open_index(index_path, {}, create=False) as idx:
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
    with open_index(index_path, {}, create=False) as idx:
        click.echo(json.dumps(idx.stats(), indent=2))
