"""Two records of a dump, or of a run, found by id and aligned, without extracting them first:
what ``dedup align DUMP ID_A ID_B`` and ``dedup align --run OUT ID_A ID_B`` call.

The dump is read in one streaming pass (any format :class:`~dedup.io.read.Inputs` reads), which
stops as soon as both records are found, so two records near the top of a large dump cost little.
A run's folder holds ids, not texts: its records are read from the inputs ``summary.json``
recorded (or those given), else from what the run wrote of them (``annotated.*``, or
``deduplicated*`` with ``removed.*``: the kept records and the dropped ones).

Examples:
    >>> pair = align_records("news.jsonl.gz", "a17", "b42")  # doctest: +SKIP
    >>> pair = align_run_records("out/", "a17", "b42")  # doctest: +SKIP
    >>> print(render_text(pair.alignment, names=(pair.a, pair.b)))  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from dedup.io.article import Article, InputError
from dedup.io.read import MAX_CHARS, Inputs
from dedup.report.align import align
from dedup.report.build import ReportError, Run, load_run
from dedup.report.views import AlignedPair
from dedup.runtime.progress import Progress, no_progress

Paths = str | os.PathLike | Sequence[str | os.PathLike]

# What a run writes of its records, by the start of the name: every record, or together all of them.
_ALL_RECORDS = ("annotated.",)
_KEPT_AND_DROPPED = ("deduplicated", "removed.")


def find_records(
    inputs: Inputs,
    ids: Sequence[str],
    *,
    on_bad: Callable[[InputError], None] | None = None,
    progress: Progress = no_progress,
) -> dict[str, Article]:
    """The articles of ``ids`` in ``inputs``, read in one pass that stops once all are found.

    Raises:
        ReportError: an id is not in the inputs (one line naming them and the id).
        InputError: a bad record before the last one wanted (unless ``on_bad``).
    """
    wanted = set(ids)
    found: dict[str, Article] = {}
    with progress("read", None) as bar:
        for article in inputs.articles(on_bad):
            bar.update(1)
            if article.id in wanted:
                found[article.id] = article
                if len(found) == len(wanted):
                    break
    missing = [i for i in dict.fromkeys(ids) if i not in found]
    if missing:
        where = ", ".join(inputs.paths)
        nor = "".join(f" (nor {m!r})" for m in missing[1:])
        raise ReportError(f"{where}: no record with id {missing[0]!r}{nor}")
    return found


def _as_list(paths: Paths) -> list[str]:
    return [os.fspath(paths)] if isinstance(paths, (str, os.PathLike)) else [os.fspath(p) for p in paths]


def _pair(
    found: dict[str, Article], id_a: str, id_b: str, score: float | None, **options: Any
) -> AlignedPair:
    return AlignedPair(id_a, id_b, align(found[id_a].text, found[id_b].text, **options), score)


def align_records(
    dump: Paths | Inputs,
    id_a: str,
    id_b: str,
    *,
    input_format: str | None = None,
    id_field: str = "id",
    text_field: str = "text",
    max_chars: int | None = MAX_CHARS,
    recursive: bool = False,
    delimiter: str | None = None,
    on_bad: Callable[[InputError], None] | None = None,
    progress: Progress = no_progress,
    **align_options: Any,
) -> AlignedPair:
    """Align records ``id_a`` (A) and ``id_b`` (B) of a dump: files or folders as ``dedup run``
    reads them (or an open :class:`~dedup.io.read.Inputs`).

    Args:
        input_format, id_field, text_field, max_chars, recursive, delimiter: how to read the
            dump, as :class:`~dedup.io.read.Inputs` (ignored when ``dump`` is one).
        on_bad: called with each bad record met before both are found, which is then skipped;
            None: the first one is raised.
        **align_options: keywords of :func:`dedup.report.align.align` (``similarity``, ``unit``, ...).

    Raises:
        ValueError: a bad align option (before anything is read).
        ReportError: an id is not in the dump.
        InputError: the dump cannot be read, or a bad record comes first (without ``on_bad``).
    """
    align("x", "x", boilerplate=None, **align_options)  # (the options are checked before reading)
    if isinstance(dump, Inputs):
        found = find_records(dump, [id_a, id_b], on_bad=on_bad, progress=progress)
    else:
        with Inputs(
            _as_list(dump),
            input_format=input_format,
            id_field=id_field,
            text_field=text_field,
            max_chars=max_chars,
            recursive=recursive,
            delimiter=delimiter,
        ) as inputs:
            found = find_records(inputs, [id_a, id_b], on_bad=on_bad, progress=progress)
    return _pair(found, id_a, id_b, None, **align_options)


def run_records(run: Run, inputs: Sequence[str | os.PathLike] | None = None) -> Inputs:
    """Where the records of a run can be read: ``inputs`` if given, else the inputs
    ``summary.json`` recorded if they can be read again, else the run's own outputs that hold
    the records' texts (``annotated.*``, or ``deduplicated*`` and ``removed.*``).

    Raises:
        ReportError: none of these can be read (the message says what to give).
    """
    try:
        return run.inputs(inputs)
    except ReportError:
        if inputs is not None:
            raise
        own = _own_records(run.folder)
        if not own:
            raise
    return run.read_as_recorded(own, by_name=True)


def _own_records(folder: Path) -> list[str]:
    """The files of a run folder that hold its records' texts (empty if none)."""
    names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    every = [n for n in names if n.startswith(_ALL_RECORDS)]
    chosen = every[:1] or [n for n in names if n.startswith(_KEPT_AND_DROPPED)]
    return [str(folder / n) for n in chosen]


def align_run_records(
    run_dir: str | os.PathLike,
    id_a: str,
    id_b: str,
    *,
    inputs: Sequence[str | os.PathLike] | None = None,
    on_bad: Callable[[InputError], None] | None = None,
    progress: Progress = no_progress,
    **align_options: Any,
) -> AlignedPair:
    """Align records ``id_a`` (A) and ``id_b`` (B) of an earlier ``dedup run``: its output
    folder ``run_dir`` names the inputs (see :func:`run_records`); the pair's score is the run's,
    if the run verified it.

    Raises:
        ValueError: a bad align option (before anything is read).
        ReportError: the folder is not a run's, its records cannot be read, or an id is not among them.
        InputError: a bad record comes first (without ``on_bad``).
    """
    align("x", "x", boilerplate=None, **align_options)
    run = load_run(run_dir)
    with run_records(run, inputs) as source:
        try:
            found = find_records(source, [id_a, id_b], on_bad=on_bad, progress=progress)
        except ReportError as err:
            own = inputs is None and all(Path(p).parent == run.folder for p in source.paths)
            if not own:
                raise
            raise ReportError(
                f"{err} (read from what the run wrote, its inputs being gone; give them with --input)"
            ) from None
    key = (id_a, id_b) if id_a < id_b else (id_b, id_a)
    return _pair(found, id_a, id_b, run.scores.get(key), **align_options)
