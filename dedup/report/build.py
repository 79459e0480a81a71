"""The run report: every cluster of a run, each duplicate aligned paragraph by paragraph
against the article the run kept, so that an editor can see what each copy added or dropped.

A run's outputs hold ids, not texts, so the report reads the inputs again. It
streams them once: every article feeds :meth:`Boilerplate.learn` (paragraphs
that recur across three or more stories are site furniture, not content; the
copies of one story count as one story), and only the texts of the members of
the clusters shown are kept. Then each pair is aligned with :func:`dedup.report.align.align`.

Examples:
    >>> html = report_from_run("out/")  # doctest: +SKIP
    >>> html = report_from_result(result, {"a": text_a, "b": text_b}, format="md")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dedup.io.article import Article, InputError
from dedup.io.files import STDIN
from dedup.io.read import Inputs
from dedup.report.align import align
from dedup.report.boilerplate import Boilerplate
from dedup.report.html import VIEWS, render_report_html
from dedup.report.markdown import render_report_markdown
from dedup.report.views import (
    AlignedPair,
    ClusterAlignments,
    HeldMatch,
    RunReport,
    first_line,
    left_out_note,
)
from dedup.result import Cluster, Result
from dedup.runtime.progress import Progress, no_progress

FORMATS = ("html", "md", "json")
MAX_CLUSTERS = 200
MAX_DUPLICATES = 20
BOILERPLATE_MIN_DOCS = 3


class ReportError(ValueError):
    """A run folder, or the inputs it names, cannot be used; ``str(err)`` is one line naming the file."""


@dataclass(frozen=True)
class Run:
    """What ``dedup run`` left in its output folder.

    Attributes:
        folder: the run's output folder.
        clusters: from ``clusters.jsonl``.
        scores: the score of each verified pair ``(a, b)``, ``a < b``, from ``pairs.jsonl`` (if present).
        summary: ``summary.json`` (empty if absent).
    """

    folder: Path
    clusters: list[Cluster]
    scores: dict[tuple[str, str], float] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    def inputs(self, paths: Sequence[str | os.PathLike] | None = None) -> Inputs:
        """The run's inputs, ready to be read again: the paths ``summary.json`` recorded, or ``paths``.

        The format and the id and text fields are those the run used.

        Raises:
            ReportError: the run read stdin, an input is gone, or the summary does not say.
        """
        summary_path = self.folder / "summary.json"
        recorded = self.summary.get("input_options") or {}
        given = [os.fspath(p) for p in paths] if paths else None
        if given is None:
            if not self.summary:
                raise ReportError(
                    f"{summary_path}: missing, so the run's inputs are unknown; give them with --input"
                )
            given = recorded.get("paths") or self.summary.get("inputs") or []
            if not given:
                raise ReportError(f"{summary_path}: names no input; give the inputs with --input")
            if STDIN in given:
                raise ReportError(
                    f"{summary_path}: the run read stdin ('-'), which cannot be read again; "
                    "give the inputs with --input"
                )
            hint = f"recorded in {summary_path}; give the inputs with --input"
        else:
            if STDIN in given:
                raise ReportError("-: stdin cannot be an input of a report; give a file or folder")
            hint = "given with --input"
        for path in given:
            if not os.path.lexists(path):
                raise ReportError(f"{path}: input of the run not found ({hint})")
        return self.read_as_recorded(given)

    def read_as_recorded(self, paths: Sequence[str], *, by_name: bool = False) -> Inputs:
        """``paths`` read with the options the run recorded (``summary.json``'s
        ``input_options``: fields, delimiter, length limit, and unless ``by_name`` its format and
        recursion; ``by_name``: each file's format told by its name, as the run's own outputs are
        named by theirs).

        Raises:
            ReportError: the options or the paths cannot be read (one line).
        """
        recorded = self.summary.get("input_options") or {}
        try:
            return Inputs(
                paths,
                id_field=recorded.get("id_field", "id"),
                text_field=recorded.get("text_field", "text"),
                input_format=None if by_name else recorded.get("format"),
                recursive=False if by_name else recorded.get("recursive", False),
                delimiter=recorded.get("delimiter"),
                max_chars=recorded.get("max_chars"),
            )
        except (InputError, ValueError) as err:
            raise ReportError(str(err)) from None


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise ReportError(f"{path}:{n}: malformed JSON: {err.msg}") from None
            if not isinstance(obj, dict):
                raise ReportError(f"{path}:{n}: expected a JSON object")
            yield n, obj


def load_run(run_dir: str | os.PathLike) -> Run:
    """Read the clusters, pair scores and summary of a ``dedup run`` output folder.

    Raises:
        ReportError: the folder is missing, is not a run's output (no ``clusters.jsonl``),
            or a file in it is malformed.
    """
    folder = Path(run_dir)
    if not folder.exists():
        raise ReportError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise ReportError(f"{folder}: not a folder; give the --out folder of a dedup run")
    clusters_path = folder / "clusters.jsonl"
    if not clusters_path.is_file():
        raise ReportError(f"{folder}: not a dedup run folder (no clusters.jsonl)")
    try:
        clusters = []
        for n, obj in _jsonl(clusters_path):
            try:
                members = [str(m) for m in obj["members"]]
                held = [str(m) for m in obj.get("held", [])]
                languages = {str(k): str(v) for k, v in obj.get("languages", {}).items()}
                clusters.append(
                    Cluster(int(obj["cluster"]), str(obj["representative"]), members, held, languages)
                )
            except (KeyError, TypeError, ValueError):
                raise ReportError(
                    f"{clusters_path}:{n}: expected cluster, representative and members"
                ) from None
        scores: dict[tuple[str, str], float] = {}
        pairs_path = folder / "pairs.jsonl"
        if pairs_path.is_file():
            for n, obj in _jsonl(pairs_path):
                try:
                    a, b = sorted((str(obj["a"]), str(obj["b"])))
                    scores[a, b] = float(obj["score"])
                except (KeyError, TypeError, ValueError):
                    raise ReportError(f"{pairs_path}:{n}: expected a, b and score") from None
        summary: dict[str, Any] = {}
        summary_path = folder / "summary.json"
        if summary_path.is_file():
            try:
                summary = json.loads(summary_path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as err:
                raise ReportError(f"{summary_path}: malformed JSON: {err.msg}") from None
    except UnicodeDecodeError as err:
        raise ReportError(f"{folder}: a run file is not UTF-8 ({err.reason})") from None
    except OSError as err:
        raise ReportError(f"{err.filename or folder}: cannot read: {err.strerror or err}") from None
    return Run(folder, clusters, scores, summary if isinstance(summary, dict) else {})


ArticleText = Article | tuple[str, str]


def _run_members(c: Cluster) -> Cluster | None:
    """A cluster as the report can show it: in a run against an index, the held members'
    texts are not at hand (an index keeps no texts), so a cluster with held members shows the
    run's own members, aligned against the first of them (None if it has only one)."""
    if not c.held:
        return c
    mine = _own(c)
    return Cluster(c.cluster, mine[0], mine, languages=c.languages) if len(mine) >= 2 else None


def _own(c: Cluster) -> list[str]:
    """The members of ``c`` the run read itself (not held by an index)."""
    held = set(c.held)
    return [m for m in c.members if m not in held]


def _lowest_scores(clusters: Sequence[Cluster], scores: Mapping[tuple[str, str], float]) -> dict[int, float]:
    """The lowest score of a known pair inside each cluster (one pass over the pairs)."""
    cluster_of = {m: c.cluster for c in clusters for m in c.members}
    lowest: dict[int, float] = {}
    for (a, b), score in scores.items():
        c = cluster_of.get(a)
        if c is not None and cluster_of.get(b) == c and score < lowest.get(c, float("inf")):
            lowest[c] = score
    return lowest


def build_report(
    clusters: Sequence[Cluster],
    articles: Iterable[ArticleText],
    *,
    scores: Mapping[tuple[str, str], float] | None = None,
    max_clusters: int = MAX_CLUSTERS,
    max_duplicates: int = MAX_DUPLICATES,
    boilerplate_min_docs: int = BOILERPLATE_MIN_DOCS,
    total_articles: int | None = None,
    source: str = "",
    progress: Progress = no_progress,
    **align_options: Any,
) -> RunReport:
    """Align each duplicate of the first ``max_clusters`` clusters against its representative.

    Args:
        clusters: the run's clusters, in order.
        articles: every article of the run, as ``(id, text)`` or :class:`Article`, read
            once as a stream (the texts of the members shown are kept, not the others).
        scores: the run's score of each pair ``(a, b)``, ``a < b``, shown with the pair.
        max_clusters, max_duplicates: how many clusters, and duplicates per cluster, to align;
            the report says how many were left out.
        boilerplate_min_docs: a paragraph in this many different stories is boilerplate.
        total_articles: the number of articles, for the progress bar.
        source: where the run came from, for the report's header.
        progress: a progress factory (see :mod:`dedup.runtime.progress`).
        **align_options: keywords of :func:`dedup.report.align.align` (``threshold``, ``unit``, ...).

    A cluster that holds articles of an index (``dedup run --index``) shows the run's own
    members only, since the index keeps no texts.

    Raises:
        ValueError: a bad limit or align option (before anything is read).
        ReportError: a member of a cluster shown is not among ``articles``.
    """
    if max_clusters < 0 or max_duplicates < 1:
        raise ValueError(
            f"max_clusters must be >= 0 and max_duplicates >= 1; got {max_clusters}, {max_duplicates}"
        )
    if boilerplate_min_docs < 2:
        raise ValueError(f"boilerplate_min_docs must be >= 2, got {boilerplate_min_docs}")
    align("x", "x", boilerplate=None, **align_options)  # the options are checked here, not after reading
    held = [HeldMatch(c.cluster, _own(c), list(c.held)) for c in clusters if c.held]
    clusters = [c for c in map(_run_members, clusters) if c is not None]
    shown = list(clusters[:max_clusters])
    story: dict[str, Hashable] = {m: ("cluster", c.cluster) for c in clusters for m in c.members}
    wanted = {m for c in shown for m in (c.representative, *c.duplicates[:max_duplicates])}
    texts: dict[str, str] = {}

    def stream() -> Iterator[tuple[Hashable, str]]:
        with progress("read", total_articles) as bar:
            for item in articles:
                article_id, text = (item.id, item.text) if isinstance(item, Article) else item
                if article_id in wanted:
                    texts[article_id] = text
                bar.update(1)
                yield story.get(article_id, ("article", article_id)), text

    boilerplate = Boilerplate.learn(stream(), min_docs=boilerplate_min_docs)
    for c in shown:
        for m in (c.representative, *c.duplicates[:max_duplicates]):
            if m not in texts:
                raise ReportError(
                    f"{source or 'articles'}: article {m!r} of cluster {c.cluster} is not in the inputs "
                    "(did they change since the run?)"
                )
    scores = scores or {}
    lowest = _lowest_scores(shown, scores)
    out = []
    with progress("align", sum(min(len(c.duplicates), max_duplicates) for c in shown)) as bar:
        for c in shown:
            pairs = []
            rep = c.representative
            for dup in c.duplicates[:max_duplicates]:
                alignment = align(texts[rep], texts[dup], boilerplate=boilerplate, **align_options)
                key = (rep, dup) if rep < dup else (dup, rep)
                pairs.append(AlignedPair(rep, dup, alignment, scores.get(key)))
                bar.update(1)
            out.append(
                ClusterAlignments(
                    cluster=c.cluster,
                    representative=rep,
                    members=list(c.members),
                    title=first_line(texts[rep]),
                    pairs=pairs,
                    left_out=max(0, len(c.duplicates) - max_duplicates),
                    lowest_score=lowest.get(c.cluster),
                )
            )
    learnt = len(boilerplate.recurring)
    note = (
        f"Boilerplate learnt from the run: {learnt:,} paragraph{'' if learnt == 1 else 's'} "
        f"recurring in {boilerplate_min_docs} or more stories."
    )
    return RunReport(
        clusters=out,
        total_clusters=len(clusters),
        source=source,
        articles=total_articles,
        notes=[note] if learnt else [],
        held=held,
    )


def report_json(report: RunReport) -> str:
    """The report as JSON: a list of ``{"cluster", "a", "b", "alignment"}``, A the kept article."""
    rows = [
        {"cluster": c.cluster, "a": p.a, "b": p.b, "alignment": p.alignment.to_dict()}
        for c in report.clusters
        for p in c.pairs
    ]
    return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"


_RENDERERS: dict[str, Callable[[RunReport], str]] = {
    "html": render_report_html,
    "md": render_report_markdown,
    "json": report_json,
}


def render_report(report: RunReport, format: str = "html", *, view: str = "compact") -> str:
    """The report as ``"html"`` (one self-contained page, in the ``view`` asked: ``"compact"`` or
    ``"full"``, see :data:`dedup.report.html.VIEWS`), ``"md"`` or ``"json"``."""
    if format not in _RENDERERS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    if format == "html":
        return render_report_html(report, view=view)
    return _RENDERERS[format](report)


def _check_view(view: str) -> None:
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, got {view!r}")


def _texts(texts: Mapping[str, str] | Iterable[ArticleText]) -> Iterable[ArticleText]:
    return texts.items() if isinstance(texts, Mapping) else texts


def report_from_result(
    result: Result,
    texts: Mapping[str, str] | Iterable[ArticleText],
    *,
    format: str = "html",
    view: str = "compact",
    source: str = "",
    on_left_out: Callable[[str], None] | None = None,
    **options: Any,
) -> str:
    """The report of a :class:`~dedup.engines.local.Result`, given the run's texts.

    ``texts`` is a mapping id -> text or a stream of ``(id, text)`` / :class:`Article`
    (every article of the run, so that boilerplate is learnt across it). ``view`` as
    :func:`render_report`, ``on_left_out`` as :func:`report_from_run`; other keywords as
    :func:`build_report`.
    """
    if format not in _RENDERERS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    _check_view(view)
    read = result.summary.get("articles", {}).get("read")
    options.setdefault("total_articles", read)
    scores = {(p.a, p.b): p.score for p in result.pairs}
    report = build_report(result.clusters, _texts(texts), scores=scores, source=source, **options)
    _say_left_out(report, on_left_out)
    return render_report(report, format, view=view)


def _say_left_out(report: RunReport, on_left_out: Callable[[str], None] | None) -> None:
    if report.left_out and on_left_out is not None:
        on_left_out(
            f"the report shows the first {len(report.clusters):,} of {report.total_clusters:,} clusters; "
            f"{left_out_note(report)}"
        )


def report_from_run(
    run_dir: str | os.PathLike,
    *,
    inputs: Sequence[str | os.PathLike] | None = None,
    format: str = "html",
    view: str = "compact",
    on_left_out: Callable[[str], None] | None = None,
    **options: Any,
) -> str:
    """The report of a ``dedup run`` output folder, reading the run's inputs again.

    Args:
        inputs: paths to read instead of those recorded in ``summary.json`` (the
            run read stdin, or the files moved).
        format: ``"html"``, ``"md"`` or ``"json"``; ``view``: as :func:`render_report`.
        on_left_out: called with one line when the report leaves clusters out (``max_clusters``),
            for a note on stderr: the page says so too.
        **options: as :func:`build_report` (``max_clusters``, ``progress``, align options).

    Raises:
        ReportError: the folder is not a run's, or its inputs cannot be read again.
    """
    if format not in _RENDERERS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    _check_view(view)
    run = load_run(run_dir)
    bad: list[InputError] = []  # records the run may have skipped too (--skip-bad)
    with run.inputs(inputs) as source:
        articles = source.articles(on_bad=bad.append)
        read = run.summary.get("articles", {}).get("read") if inputs is None else None
        options.setdefault("total_articles", read)
        try:
            report = build_report(
                run.clusters, articles, scores=run.scores, source=str(run.folder), **options
            )
        except ReportError as err:
            raise ReportError(f"{err}; first problem reading them: {bad[0]}" if bad else str(err)) from None
    _say_left_out(report, on_left_out)
    return render_report(report, format, view=view)
