"""What the renderings of an alignment or a run report share: the report's parts, the reading
order of an alignment, and its summary in words.

:mod:`dedup.report.text`, :mod:`dedup.report.markdown` and :mod:`dedup.report.html` each render
these as one format; :mod:`dedup.report.build` makes a :class:`RunReport` from a run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dedup.report.alignment import Alignment


@dataclass(frozen=True)
class Row:
    """One row of the reading order: a link, or one paragraph with no counterpart.

    Attributes:
        kind: ``"link"``, ``"only_a"``, ``"only_b"``, ``"boilerplate_a"`` or ``"boilerplate_b"``.
        a, b: the 0-based paragraphs of A and of B on this row (one side empty unless a link).
        link: the link's index in ``alignment.links`` (``None`` for the other kinds).
    """

    kind: str
    a: tuple[int, ...] = ()
    b: tuple[int, ...] = ()
    link: int | None = None


@dataclass(frozen=True)
class AlignedPair:
    """Two texts to show side by side: their names, their alignment, and the run's score if known."""

    a: str
    b: str
    alignment: Alignment
    score: float | None = None


@dataclass(frozen=True)
class ClusterAlignments:
    """One cluster of a run: each shown duplicate aligned against the representative (which is A).

    Attributes:
        title: the representative's first line, for the index.
        left_out: duplicates of this cluster not aligned (beyond the report's limit).
        lowest_score: the lowest score of the run's verified pairs inside the cluster (None if
            none is known): the weakest link, where a reviewer looks first.
    """

    cluster: int
    representative: str
    members: list[str]
    title: str
    pairs: list[AlignedPair]
    left_out: int = 0
    lowest_score: float | None = None

    @property
    def changes(self) -> int:
        """Paragraphs the copies shown add or drop against the kept article, summed."""
        return sum(len(p.alignment.only_a) + len(p.alignment.only_b) for p in self.pairs)


@dataclass(frozen=True)
class HeldMatch:
    """A cluster of a run against an index (``dedup run --index``) that holds articles of the
    index: listed, with the run's own ``members`` and the ``held`` ones, since an index keeps no
    texts to align (the run's members, if two or more, are aligned in the cluster's section)."""

    cluster: int
    members: list[str]
    held: list[str]


@dataclass(frozen=True)
class RunReport:
    """What the run report shows: the clusters aligned and how many were left out.

    Attributes:
        clusters: the clusters shown, in cluster order.
        total_clusters: clusters in the run (``len(clusters)`` plus those left out).
        source: where the run came from (its folder), shown in the header.
        articles: articles read by the run, if known.
        held: the clusters that hold articles of an index, listed (see :class:`HeldMatch`);
            those with fewer than two of the run's own members are not in ``clusters`` nor
            counted in ``total_clusters``.
    """

    clusters: list[ClusterAlignments]
    total_clusters: int
    source: str = ""
    articles: int | None = None
    title: str = "dedup run report"
    notes: list[str] = field(default_factory=list)
    held: list[HeldMatch] = field(default_factory=list)

    @property
    def held_only(self) -> int:
        """Clusters whose only member from the run is one article (the rest held by an index)."""
        return sum(len(h.members) < 2 for h in self.held)

    @property
    def left_out(self) -> int:
        """Clusters of the run that the report does not show."""
        return self.total_clusters - len(self.clusters)


# ---------------------------------------------------------------------------------------------
# The reading order shared by the text and Markdown views


def reading_order(alignment: Alignment) -> list[Row]:
    """The rows of a two-column view, in reading order.

    Links come in A's order, each paragraph of A with no counterpart (only in A,
    boilerplate) where it falls in A, and each such paragraph of B right after
    the row holding the closest preceding paragraph of B (after any rows of A
    alone that follow it), or before the first row with B content if none precedes.
    """
    rows: list[Row] = []
    free_a = sorted(
        [(i, "only_a") for i in alignment.only_a] + [(i, "boilerplate_a") for i in alignment.boilerplate_a]
    )
    k = 0
    for n, link in enumerate(alignment.links):
        while k < len(free_a) and free_a[k][0] < link.a[0]:
            rows.append(Row(free_a[k][1], a=(free_a[k][0],)))
            k += 1
        rows.append(Row("link", a=tuple(link.a), b=tuple(link.b), link=n))
    rows.extend(Row(kind, a=(i,)) for i, kind in free_a[k:])

    free_b = sorted(
        [(j, "only_b") for j in alignment.only_b] + [(j, "boilerplate_b") for j in alignment.boilerplate_b]
    )
    for j, kind in free_b:
        anchor, anchor_b = None, -1
        for r, row in enumerate(rows):
            for y in row.b:
                if anchor_b < y < j:
                    anchor, anchor_b = r, y
        if anchor is None:
            pos = next((r for r, row in enumerate(rows) if row.b), len(rows))
        else:
            pos = anchor + 1
            while pos < len(rows) and not rows[pos].b:
                pos += 1
        rows.insert(pos, Row(kind, b=(j,)))
    return rows


def percent(share: float) -> str:
    return f"{100 * share:.0f}%"


def link_types(alignment: Alignment) -> str:
    return ", ".join(link.type for link in alignment.links)


def summary_parts(alignment: Alignment) -> list[str]:
    al = alignment
    cov_a, cov_b = al.coverage()
    n = len(al.links)
    moved = sum(link.moved for link in al.links)
    links = f"{n} link{'' if n == 1 else 's'}" + (f" ({link_types(al)})" if n else "")
    return [
        links + (f", {moved} moved" if moved else ""),
        f"matched: A {percent(cov_a)}, B {percent(cov_b)} of content paragraphs",
        f"only in A: {len(al.only_a)}",
        f"only in B: {len(al.only_b)}",
        f"boilerplate: A {len(al.boilerplate_a)}, B {len(al.boilerplate_b)}",
    ]


def summary_line(alignment: Alignment) -> str:
    """One line of counts: links and their types, coverage, unmatched and boilerplate paragraphs."""
    return " · ".join(summary_parts(alignment))


def method_line(alignment: Alignment, score: float | None = None) -> str:
    """How the alignment was made: the two texts' detected languages and the similarity used
    (and the run's score of the pair, if known)."""
    parts = []
    if alignment.languages is not None:
        la, lb = alignment.languages
        parts.append(f"languages: A {la}, B {lb}")
    parts.append(f"similarity: {alignment.similarity}")
    if score is not None:
        parts.append(f"run score: {score:.2f}")
    return " · ".join(parts)


def first_line(text: str, limit: int = 120) -> str:
    """The first non-blank line of ``text``, cut to ``limit`` characters: a title for an index."""
    line = next((s.strip() for s in text.splitlines() if s.strip()), "")
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


HELD_NOTE = (
    "These clusters hold articles of the index the run was checked against; an index keeps no "
    "texts, so they are listed here, not aligned."
)
"""Why a report lists, not aligns, the clusters that hold articles of an index."""


def run_facts(report: RunReport, source: str) -> list[str]:
    """The facts of a report's header: the run (``source``: its folder, as the format shows it),
    the articles read, the clusters, and those of one article matching an index."""
    facts = [f"run {source}"] if report.source else []
    if report.articles is not None:
        facts.append(f"{report.articles:,} articles read")
    facts.append(f"{report.total_clusters:,} cluster{'' if report.total_clusters == 1 else 's'}")
    if report.held_only:
        facts.append(f"{report.held_only:,} more of one article matching the index")
    return facts


def left_out_note(report: RunReport) -> str:
    """How many clusters the report leaves out, and how to see them."""
    n = report.left_out
    return f"{n:,} {'is' if n == 1 else 'are'} left out (raise --max-clusters to see them)"
