"""Show a paragraph alignment to a person: terminal text, Markdown, or a self-contained HTML page.

Every renderer is a pure function of an :class:`~dedup.report.align.Alignment` (or of
a :class:`RunReport`) that returns a string; nothing is printed or written here.

* :func:`render_text`: two wrapped columns for a terminal, one row per link or
  unmatched paragraph, the link type and score in a narrow middle gutter.
* :func:`render_markdown`: a table of the links and lists of the unmatched and
  boilerplate paragraphs, for a ticket or a pull request.
* :func:`render_html`: one page (inline CSS and JS, no external asset) with one
  or many pairs side by side: every paragraph once, in its text's order, each
  link in a colour of its own; hovering or clicking a paragraph highlights its
  counterparts, and sentences that the other text does not say are marked.
* :func:`render_report_html` / :func:`render_report_markdown`: a run's clusters,
  an index first, then each duplicate aligned against its cluster's representative.

Paragraphs are numbered from 1 for people (``¶1``); the ``data-para`` and
``data-link`` attributes of the HTML, like :meth:`Alignment.to_dict`, count from 0.
"""

from __future__ import annotations

import html
import re
import shutil
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest

import click

from dedup.report.align import Alignment


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
    """

    cluster: int
    representative: str
    members: list[str]
    title: str
    pairs: list[AlignedPair]
    left_out: int = 0


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


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%"


def _link_types(alignment: Alignment) -> str:
    return ", ".join(link.type for link in alignment.links)


def _summary_parts(alignment: Alignment) -> list[str]:
    al = alignment
    cov_a, cov_b = al.coverage()
    n = len(al.links)
    moved = sum(link.moved for link in al.links)
    links = f"{n} link{'' if n == 1 else 's'}" + (f" ({_link_types(al)})" if n else "")
    return [
        links + (f", {moved} moved" if moved else ""),
        f"matched: A {_percent(cov_a)}, B {_percent(cov_b)} of content paragraphs",
        f"only in A: {len(al.only_a)}",
        f"only in B: {len(al.only_b)}",
        f"boilerplate: A {len(al.boilerplate_a)}, B {len(al.boilerplate_b)}",
    ]


def summary_line(alignment: Alignment) -> str:
    """One line of counts: links and their types, coverage, unmatched and boilerplate paragraphs."""
    return " · ".join(_summary_parts(alignment))


def _wrap_parts(parts: list[str], width: int, sep: str = " · ") -> list[str]:
    """Join ``parts`` with ``sep`` into lines of at most ``width``, breaking between parts if possible."""
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + len(sep) + len(part) <= width:
            lines[-1] += sep + part
        else:
            lines.extend(textwrap.wrap(part, width))
    return lines


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def first_line(text: str, limit: int = 120) -> str:
    """The first non-blank line of ``text``, cut to ``limit`` characters: a title for an index."""
    line = next((s.strip() for s in text.splitlines() if s.strip()), "")
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


# ---------------------------------------------------------------------------------------------
# Terminal text

_GUTTER = 11
_TEXT_LEGEND = (
    "¶n = paragraph n, counted from 1; the middle column gives each link's type "
    "(paragraphs of A : paragraphs of B) and its similarity score."
)
_KIND_LABEL = {
    "only_a": "only in A",
    "only_b": "only in B",
    "boilerplate_a": "boilerplate",
    "boilerplate_b": "boilerplate",
}
_KIND_COLOR = {
    "only_a": {"fg": "yellow"},
    "only_b": {"fg": "magenta"},
    "boilerplate_a": {"dim": True},
    "boilerplate_b": {"dim": True},
}
_LINK_COLORS = ({"fg": "green"}, {"fg": "cyan"})


def _wrap_paragraphs(
    indices: Sequence[int], paragraphs: list[str], width: int, shown: set[int]
) -> tuple[list[str], list[bool]]:
    """Wrapped lines of some paragraphs (a blank line between), and which lines are references."""
    lines: list[str] = []
    refs: list[bool] = []
    for i in indices:
        if lines:
            lines.append("")
            refs.append(False)
        label = f"¶{i + 1} "
        if i in shown:
            wrapped = textwrap.wrap(label + "(shown above)", width) or [label]
            lines.extend(wrapped)
            refs.extend([True] * len(wrapped))
            continue
        shown.add(i)
        wrapped = textwrap.wrap(
            paragraphs[i], width, initial_indent=label, subsequent_indent=" " * len(label)
        )
        lines.extend(wrapped or [label])
        refs.extend([False] * len(wrapped or [label]))
    return lines, refs


def render_text(
    alignment: Alignment,
    *,
    names: tuple[str, str] = ("A", "B"),
    width: int | None = None,
    color: bool = False,
) -> str:
    """A side-by-side terminal view of ``alignment``: a header of counts, then one row per link
    or unmatched paragraph in reading order (see :func:`reading_order`).

    Args:
        names: what to call A and B (file names, ids).
        width: total line width; default the terminal's (80 when not a terminal).
        color: ANSI colours (links green/cyan, only in A yellow, only in B magenta, boilerplate dim).
    """
    al = alignment
    width = max(width or shutil.get_terminal_size().columns, 50)
    col = (width - _GUTTER - 4) // 2

    def style(text: str, **how: object) -> str:
        return click.style(text, **how) if color and text.strip() else text  # type: ignore[arg-type]

    out = [
        style(line, bold=True)
        for side, name, paragraphs in (("A", names[0], al.paragraphs_a), ("B", names[1], al.paragraphs_b))
        for line in textwrap.wrap(f"{side}: {name} ({len(paragraphs)} paragraphs)", width)
    ]
    out += _wrap_parts(_summary_parts(al), width)
    out += textwrap.wrap(_TEXT_LEGEND, width)
    out += ["", f"{_clip('A: ' + names[0], col):<{col}} │{'':^{_GUTTER}}│ {_clip('B: ' + names[1], col)}"]
    rule = "─" * col + "─┼" + "─" * _GUTTER + "┼─" + "─" * col
    out.append(rule)
    shown_a: set[int] = set()
    shown_b: set[int] = set()
    for row in reading_order(al):
        left, left_refs = _wrap_paragraphs(row.a, al.paragraphs_a, col, shown_a)
        right, right_refs = _wrap_paragraphs(row.b, al.paragraphs_b, col, shown_b)
        if row.link is not None:
            link = al.links[row.link]
            gutter = [link.type, f"{link.score:.2f}"] + (["moved"] if link.moved else [])
            how: dict[str, object] = dict(_LINK_COLORS[row.link % 2])
        else:
            gutter = [_KIND_LABEL[row.kind]]
            how = dict(_KIND_COLOR[row.kind])
        lines = zip_longest(
            zip_longest(left, left_refs, fillvalue=False),
            gutter,
            zip_longest(right, right_refs, fillvalue=False),
            fillvalue=("", False),
        )
        for (lt, lref), g, (rt, rref) in lines:
            g = g if isinstance(g, str) else ""
            lt, rt = lt or "", rt or ""
            left_cell = style(f"{lt:<{col}}", **({"dim": True} if lref else how))
            right_cell = style(rt, **({"dim": True} if rref else how))
            out.append(f"{left_cell} │{style(f'{g:^{_GUTTER}}', **how)}│ {right_cell}".rstrip())
        out.append(rule)
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# Markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def _md(text: str) -> str:
    """Text safe in a Markdown table cell or list item: HTML and Markdown escaped, newlines as <br>."""
    text = _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))
    return re.sub(r"\s*\n\s*", "<br>", text.strip())


def _md_name(name: str) -> str:
    """An id or a file name as Markdown code (read as is), its pipes escaped for tables."""
    if "`" in name or "\n" in name:
        return _md(name)
    return "`" + name.replace("|", "\\|") + "`"


def _md_cell(indices: Sequence[int], paragraphs: list[str], shown: set[int]) -> str:
    parts = []
    for i in indices:
        if i in shown:
            parts.append(f"**¶{i + 1}** (shown above)")
        else:
            shown.add(i)
            parts.append(f"**¶{i + 1}** {_md(paragraphs[i])}")
    return "<br><br>".join(parts)


def render_markdown(alignment: Alignment, *, names: tuple[str, str] = ("A", "B"), heading: str = "##") -> str:
    """``alignment`` as Markdown: a heading, a summary line, a table | link | A | B | of the links
    in A's order, then lists of the paragraphs only in A, only in B, and of boilerplate.

    ``heading`` is the heading's level marker (``"##"``), so that a report can nest pairs.
    """
    al = alignment
    out = [
        f"{heading} {_md_name(names[0])} ↔ {_md_name(names[1])}",
        "",
        f"A: {_md_name(names[0])} ({len(al.paragraphs_a)} paragraphs) · B: {_md_name(names[1])} "
        f"({len(al.paragraphs_b)} paragraphs) · {summary_line(al)} · ¶ numbers count from 1",
        "",
    ]
    if al.links:
        out += ["| link | A | B |", "|---|---|---|"]
        shown_a: set[int] = set()
        shown_b: set[int] = set()
        for link in al.links:
            what = f"{link.type} · {link.score:.2f}" + (" · moved" if link.moved else "")
            a = _md_cell(link.a, al.paragraphs_a, shown_a)
            b = _md_cell(link.b, al.paragraphs_b, shown_b)
            out.append(f"| {what} | {a} | {b} |")
        out.append("")
    else:
        out += ["No paragraph of A has a counterpart in B.", ""]
    for title, side, indices, paragraphs in (
        ("Only in A", "", al.only_a, al.paragraphs_a),
        ("Only in B", "", al.only_b, al.paragraphs_b),
        ("Boilerplate", "A ", al.boilerplate_a, al.paragraphs_a),
        ("Boilerplate", "B ", al.boilerplate_b, al.paragraphs_b),
    ):
        if not indices:
            continue
        label = f"{title} ({side.strip()})" if side else title
        out += [f"**{label}**", ""]
        out += [f"- ¶{i + 1}: {_md(paragraphs[i])}" for i in indices]
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# HTML

# Link colours: distinct hues, none of them the amber and magenta of "only in A/B".
PALETTE = (
    "#2563eb",
    "#059669",
    "#ea580c",
    "#0891b2",
    "#65a30d",
    "#dc2626",
    "#4f46e5",
    "#0f766e",
    "#b45309",
    "#1e40af",
)


def _tint(color: str, amount: float = 0.14) -> str:
    """``color`` mixed with white (``amount`` of the colour): a highlight background."""
    r, g, b = (int(color[k : k + 2], 16) for k in (1, 3, 5))
    return "#" + "".join(f"{round(255 - (255 - c) * amount):02x}" for c in (r, g, b))


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")


def _slug(text: str) -> str:
    return _SLUG.sub("-", text).strip("-.")[:80] or "x"


class _Ids:
    """Unique, stable HTML ids made from names."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, base: str) -> str:
        candidate, n = base, 1
        while candidate in self.used:
            n += 1
            candidate = f"{base}-{n}"
        self.used.add(candidate)
        return candidate


@dataclass(frozen=True)
class _Block:
    """A row of the HTML view: paragraphs of A and B shown side by side, each once, in order."""

    a: list[int]
    b: list[int]


def _blocks(alignment: Alignment) -> list[_Block]:
    """Cut both texts into rows at the links that keep the order (moved ones do not cut).

    Links sharing a paragraph, or crossing each other, fall into one row; the
    paragraphs between two rows (unmatched, boilerplate, moved) form a row of their own.
    """
    spans: list[list[int]] = []  # [a_lo, a_hi, b_lo, b_hi], increasing and disjoint on both sides
    for link in sorted((lk for lk in alignment.links if not lk.moved), key=lambda lk: (lk.a[0], lk.b[0])):
        span = [link.a[0], link.a[-1], link.b[0], link.b[-1]]
        while spans and (spans[-1][1] >= span[0] or spans[-1][3] >= span[2]):
            top = spans.pop()
            span = [min(top[0], span[0]), max(top[1], span[1]), min(top[2], span[2]), max(top[3], span[3])]
        spans.append(span)
    rows: list[_Block] = []
    next_a = next_b = 0
    for a_lo, a_hi, b_lo, b_hi in spans:
        if next_a < a_lo or next_b < b_lo:
            rows.append(_Block(list(range(next_a, a_lo)), list(range(next_b, b_lo))))
        rows.append(_Block(list(range(a_lo, a_hi + 1)), list(range(b_lo, b_hi + 1))))
        next_a, next_b = a_hi + 1, b_hi + 1
    n, m = len(alignment.paragraphs_a), len(alignment.paragraphs_b)
    if next_a < n or next_b < m:
        rows.append(_Block(list(range(next_a, n)), list(range(next_b, m))))
    return rows


def _sentence_spans(paragraph: str, sentences: list[tuple[int, dict[str, str]]]) -> str:
    """The paragraph's HTML with each sentence in a ``<span>`` carrying ``attrs``.

    Sentences are pieces of the paragraph cut at white space, so each is found
    after the previous one; the white space between them is kept as it was.
    """
    out, at = [], 0
    for _, attrs in sentences:
        text = attrs.pop("_text")
        start = paragraph.find(text, at)
        if start < 0:  # not expected; show the text as is rather than lose it
            return _e(paragraph)
        out.append(_e(paragraph[at:start]))
        extra = "".join(f' {k}="{_e(v)}"' for k, v in attrs.items())
        out.append(f"<span{extra}>{_e(text)}</span>")
        at = start + len(text)
    out.append(_e(paragraph[at:]))
    return "".join(out)


class _PairView:
    """Everything the HTML of one pair needs, computed once."""

    def __init__(self, pair: AlignedPair) -> None:
        al = self.al = pair.alignment
        self.pair = pair
        self.links_of: tuple[dict[int, list[int]], dict[int, list[int]]] = ({}, {})
        for n, link in enumerate(al.links):
            for i in link.a:
                self.links_of[0].setdefault(i, []).append(n)
            for j in link.b:
                self.links_of[1].setdefault(j, []).append(n)
        self.only = (set(al.only_a), set(al.only_b))
        self.boiler = (set(al.boilerplate_a), set(al.boilerplate_b))
        # sentence index -> sentence-link index, per side (sentence_links is empty for unit="paragraph")
        self.sentence_link: tuple[dict[int, int], dict[int, int]] = ({}, {})
        for n, (xa, xb, _) in enumerate(al.sentence_links):
            for x in xa:
                self.sentence_link[0][x] = n
            for y in xb:
                self.sentence_link[1][y] = n
        self.by_paragraph: tuple[dict[int, list[int]], dict[int, list[int]]] = ({}, {})
        for side, sentences in ((0, al.sentences_a), (1, al.sentences_b)):
            for k, (p, _) in enumerate(sentences):
                self.by_paragraph[side].setdefault(p, []).append(k)

    def paragraph(self, side: int, i: int) -> str:
        al = self.al
        letter, other = ("a", "B") if side == 0 else ("b", "A")
        text = (al.paragraphs_a, al.paragraphs_b)[side][i]
        links = self.links_of[side].get(i, [])
        badges = []
        if links:
            status = "linked"
            colors = [PALETTE[n % len(PALETTE)] for n in links]
            shadow = ", ".join(f"inset {4 * (k + 1)}px 0 0 {c}" for k, c in enumerate(colors[:3]))
            style = f' style="--c:{colors[0]};--t:{_tint(colors[0])};box-shadow:{shadow}"'
            for n in links:
                link = al.links[n]
                c = PALETTE[n % len(PALETTE)]
                moved = " · moved" if link.moved else ""
                badges.append(
                    f'<span class="chip" style="--c:{c}" title="link {n + 1}: paragraphs of A '
                    f'{_e(_numbers(link.a))} and of B {_e(_numbers(link.b))}, score {link.score:.2f}">'
                    f"L{n + 1} · {link.type}{moved}</span>"
                )
        elif i in self.boiler[side]:
            status, style = "boilerplate", ""
            badges.append('<span class="badge boiler">boilerplate</span>')
        else:
            status, style = "only", ""
            badges.append(f'<span class="badge only-{letter}">only in {letter.upper()}</span>')
        if links and self.al.sentence_links:
            sentences = []
            for k in self.by_paragraph[side].get(i, []):
                s = self.sentence_link[side].get(k)
                attrs = {
                    "_text": (al.sentences_a, al.sentences_b)[side][k][1],
                    "class": "s",
                    "data-sent": str(k),
                }
                if s is None:
                    attrs["class"] = "s unaligned"
                    attrs["title"] = f"no counterpart in {other}: added, or said too differently"
                else:
                    attrs["data-sl"] = str(s)
                sentences.append((k, attrs))
            body = _sentence_spans(text, sentences)
        else:
            body = _e(text)
        data_link = f' data-link="{" ".join(map(str, links))}" tabindex="0"' if links else ""
        return (
            f'<div class="para {status}" data-side="{letter}" data-para="{i}" data-status="{status}"'
            f"{data_link}{style}>"
            f'<div class="meta"><span class="num">¶{i + 1}</span>{"".join(badges)}</div>'
            f'<p class="text">{body}</p></div>'
        )

    def gutter(self, block: _Block) -> str:
        """The chips of the links whose first paragraph of A is in this row: type and score."""
        chips = []
        rows_a = set(block.a)
        for n, link in enumerate(self.al.links):
            if link.a[0] in rows_a:
                c = PALETTE[n % len(PALETTE)]
                moved = '<span class="moved">moved</span>' if link.moved else ""
                chips.append(
                    f'<button type="button" class="link-chip" data-link="{n}" style="--c:{c};--t:{_tint(c)}" '
                    f'title="link {n + 1}: ¶{_e(_numbers(link.a))} of A ↔ ¶{_e(_numbers(link.b))} of B">'
                    f'<span class="lt">L{n + 1} · {link.type}</span><span class="sc">{link.score:.2f}</span>'
                    f"{moved}</button>"
                )
        return "".join(chips)


def _numbers(indices: Sequence[int]) -> str:
    return ", ".join(str(i + 1) for i in indices)


def _pair_section(pair: AlignedPair, section_id: str, heading: str = "h2") -> str:
    """One pair as a ``<section>``: a header of counts, column heads, then the rows of paragraphs."""
    view = _PairView(pair)
    al = pair.alignment
    score = f'<span class="stat">run score <b>{pair.score:.2f}</b></span>' if pair.score is not None else ""
    cov_a, cov_b = al.coverage()
    stats = (
        f'{score}<span class="stat"><b>{len(al.links)}</b> link{"" if len(al.links) == 1 else "s"}'
        f"{' (' + _e(_link_types(al)) + ')' if al.links else ''}</span>"
        f'<span class="stat">matched <b>A {_percent(cov_a)}</b> · <b>B {_percent(cov_b)}</b> '
        "of content paragraphs</span>"
        f'<span class="stat"><span class="badge only-a">only in A</span> {len(al.only_a)}</span>'
        f'<span class="stat"><span class="badge only-b">only in B</span> {len(al.only_b)}</span>'
        f'<span class="stat"><span class="badge boiler">boilerplate</span> '
        f"A {len(al.boilerplate_a)} · B {len(al.boilerplate_b)}</span>"
    )
    rows = []
    for block in _blocks(al):
        a = "".join(view.paragraph(0, i) for i in block.a)
        b = "".join(view.paragraph(1, j) for j in block.b)
        rows.append(
            f'<div class="row"><div class="side a">{a}</div><div class="gut">{view.gutter(block)}</div>'
            f'<div class="side b">{b}</div></div>'
        )
    return (
        f'<section class="pair" id="{_e(section_id)}" data-pair="{_e(section_id)}" data-a="{_e(pair.a)}" '
        f'data-b="{_e(pair.b)}">'
        f'<header class="pair-head"><{heading} class="pair-title"><span class="tag">A</span> {_e(pair.a)} '
        f'<span class="arrow">↔</span> <span class="tag">B</span> {_e(pair.b)}</{heading}>'
        f'<div class="stats">{stats}</div></header>'
        f'<div class="grid"><div class="colhead"><span class="tag">A</span> {_e(pair.a)} · '
        f"{len(al.paragraphs_a)} ¶</div>"
        f'<div class="colhead gut">links</div>'
        f'<div class="colhead"><span class="tag">B</span> {_e(pair.b)} · {len(al.paragraphs_b)} ¶</div></div>'
        f"{''.join(rows)}</section>"
    )


def _as_pairs(
    pairs: Alignment | AlignedPair | Iterable[Alignment | AlignedPair], names: tuple[str, str]
) -> list[AlignedPair]:
    if isinstance(pairs, (Alignment, AlignedPair)):
        pairs = [pairs]
    return [p if isinstance(p, AlignedPair) else AlignedPair(names[0], names[1], p) for p in pairs]


def render_html(
    pairs: Alignment | AlignedPair | Iterable[Alignment | AlignedPair],
    *,
    names: tuple[str, str] = ("A", "B"),
    title: str = "Paragraph alignment",
) -> str:
    """A self-contained HTML page showing one or many aligned pairs side by side.

    Args:
        pairs: an :class:`Alignment` (named by ``names``), an :class:`AlignedPair`,
            or a sequence of either.
        title: the page title.

    Each pair is a ``<section class="pair">`` whose ``id`` and ``data-pair`` are
    ``pair-<A>--<B>`` (names made safe, suffixed if repeated), with ``data-a`` and
    ``data-b`` naming the texts; each paragraph has ``data-side`` (``a``/``b``),
    ``data-para`` (0-based), ``data-status`` (``linked``, ``only``,
    ``boilerplate``) and, if linked, ``data-link`` (0-based link indices).
    """
    ids = _Ids()
    shown = _as_pairs(pairs, names)
    sections = [_pair_section(p, ids(f"pair-{_slug(p.a)}--{_slug(p.b)}")) for p in shown]
    return _page(title, f"{len(shown)} pair{'' if len(shown) == 1 else 's'}", "".join(sections))


def _left_out(report: RunReport) -> str:
    n = report.left_out
    return f"{n:,} {'is' if n == 1 else 'are'} left out (raise --max-clusters to see them)"


def render_report_html(report: RunReport) -> str:
    """The run report as one self-contained HTML page: an index of the clusters, then each
    cluster's duplicates aligned against its representative (A = kept, B = duplicate)."""
    ids = _Ids()
    index_rows, sections = [], []
    for cl in report.clusters:
        cid = ids(f"cluster-{cl.cluster}")
        pair_ids = [ids(f"pair-{_slug(p.a)}--{_slug(p.b)}") for p in cl.pairs]
        dups = ", ".join(
            f'<a href="#{_e(pid)}">{_e(p.b)}</a>' for p, pid in zip(cl.pairs, pair_ids, strict=True)
        )
        if cl.left_out:
            dups += f' <span class="muted">and {cl.left_out} more</span>'
        index_rows.append(
            f'<tr><td class="num"><a href="#{_e(cid)}">{cl.cluster}</a></td>'
            f'<td class="num">{len(cl.members)}</td>'
            f'<td class="kept"><a href="#{_e(cid)}" class="rep">{_e(cl.representative)}</a>'
            f'<div class="title-line">{_e(cl.title)}</div></td><td>{dups}</td></tr>'
        )
        more = (
            f'<p class="note">{cl.left_out} more duplicate{"" if cl.left_out == 1 else "s"} of this cluster '
            f"not aligned here (limit per cluster).</p>"
            if cl.left_out
            else ""
        )
        pair_html = "".join(
            _pair_section(p, pid, heading="h3") for p, pid in zip(cl.pairs, pair_ids, strict=True)
        )
        sections.append(
            f'<section class="cluster" id="{_e(cid)}" data-cluster="{cl.cluster}">'
            f'<header class="cluster-head"><h2>Cluster {cl.cluster} '
            f'<span class="muted">· {len(cl.members)} articles</span></h2>'
            f"<p>kept: <b>{_e(cl.representative)}</b> — {_e(cl.title)}</p>"
            '<p class="muted">each duplicate (B) is aligned against the kept article (A) · '
            '<a href="#index">back to the index</a></p>'
            f"</header>{more}{pair_html}</section>"
        )
    shown = len(report.clusters)
    facts = []
    if report.source:
        facts.append(f"run <code>{_e(report.source)}</code>")
    if report.articles is not None:
        facts.append(f"{report.articles:,} articles read")
    facts.append(f"{report.total_clusters:,} cluster{'' if report.total_clusters == 1 else 's'}")
    if report.held_only:
        facts.append(f"{report.held_only:,} more of one article matching the index")
    left = ""
    if report.left_out:
        left = (
            f'<p class="note" id="left-out">Showing the first {shown:,} of {report.total_clusters:,} '
            f"clusters; {_left_out(report)}.</p>"
        )
    notes = "".join(f'<p class="note">{_e(n)}</p>' for n in report.notes)
    table = (
        '<table class="index"><thead><tr><th>cluster</th><th>articles</th><th>kept (representative)</th>'
        f"<th>duplicates</th></tr></thead><tbody>{''.join(index_rows)}</tbody></table>"
        if index_rows
        else ""
        if report.held
        else '<p class="note">The run found no cluster: no article has a duplicate.</p>'
    )
    body = (
        f'<section class="index-section" id="index"><h1>{_e(report.title)}</h1>'
        f'<p class="muted">{" · ".join(facts)}</p>{left}{notes}{table}{_held_html(report)}</section>'
        f"{''.join(sections)}"
    )
    return _page(report.title, f"{shown:,} of {report.total_clusters:,} clusters", body)


_HELD_NOTE = (
    "These clusters hold articles of the index the run was checked against; an index keeps no "
    "texts, so they are listed here, not aligned."
)


def _held_html(report: RunReport) -> str:
    if not report.held:
        return ""
    rows = "".join(
        f'<tr><td class="num">{h.cluster}</td><td>{_e(", ".join(h.members))}</td>'
        f"<td>{_e(', '.join(h.held))}</td></tr>"
        for h in report.held
    )
    return (
        f'<h2 id="held">Matches in the index</h2><p class="note">{_e(_HELD_NOTE)}</p>'
        '<table class="index held"><thead><tr><th>cluster</th><th>articles of this run</th>'
        f"<th>held by the index</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def render_report_markdown(report: RunReport) -> str:
    """The run report as Markdown: an index table of the clusters, then the pairs (as render_markdown)."""
    out = [f"# {_md(report.title)}", ""]
    facts = []
    if report.source:
        facts.append(f"run {_md_name(report.source)}")
    if report.articles is not None:
        facts.append(f"{report.articles:,} articles read")
    facts.append(f"{report.total_clusters:,} cluster{'' if report.total_clusters == 1 else 's'}")
    if report.held_only:
        facts.append(f"{report.held_only:,} more of one article matching the index")
    out += [" · ".join(facts), ""]
    if report.left_out:
        out += [
            f"Showing the first {len(report.clusters):,} of {report.total_clusters:,} clusters; "
            f"{_left_out(report)}.",
            "",
        ]
    out += [_md(n) + "\n" for n in report.notes]
    if report.clusters:
        out += ["| cluster | articles | kept (representative) | duplicates |", "|---|---|---|---|"]
        for cl in report.clusters:
            dups = ", ".join(_md_name(p.b) for p in cl.pairs) + (
                f" and {cl.left_out} more" if cl.left_out else ""
            )
            kept = f"{_md_name(cl.representative)}: {_md(cl.title)}"
            out.append(f"| {cl.cluster} | {len(cl.members)} | {kept} | {dups} |")
        out.append("")
    elif not report.held:
        out += ["The run found no cluster: no article has a duplicate.", ""]
    if report.held:
        out += ["## Matches in the index", "", _HELD_NOTE, ""]
        out += ["| cluster | articles of this run | held by the index |", "|---|---|---|"]
        out += [
            f"| {h.cluster} | {', '.join(map(_md_name, h.members))} | {', '.join(map(_md_name, h.held))} |"
            for h in report.held
        ]
        out.append("")
    for cl in report.clusters:
        out += [f"## Cluster {cl.cluster}: kept {_md_name(cl.representative)}", ""]
        for p in cl.pairs:
            out.append(render_markdown(p.alignment, names=(p.a, p.b), heading="###"))
    return "\n".join(out).rstrip() + "\n"


_CSS = """
:root{--fg:#1f2328;--muted:#59636e;--bg:#f6f8fa;--card:#fff;--line:#d1d9e0;--a:#b45309;--a-bg:#fff7e0;
--b:#a21caf;--b-bg:#fdf0ff;--boiler:#8c959f;--head:3.25rem}
*{box-sizing:border-box}
html{scroll-padding-top:calc(var(--head) + 3rem)}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,"Noto Sans",sans-serif}
code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
.top{position:sticky;top:0;z-index:20;display:flex;flex-wrap:wrap;align-items:center;gap:.4rem 1.2rem;
padding:.6rem 1.5rem;background:rgba(255,255,255,.96);border-bottom:1px solid var(--line);
backdrop-filter:blur(6px)}
.brand{font-weight:650;letter-spacing:-.01em}.brand span{color:var(--muted);font-weight:400}
.legend{display:flex;flex-wrap:wrap;gap:.4rem .9rem;align-items:center;font-size:12.5px;color:var(--muted);
margin-left:auto}
.sw{display:inline-block;width:.8rem;height:.8rem;border-radius:3px;vertical-align:-1px;margin-right:.3rem}
main{max-width:1500px;margin:0 auto;padding:1rem 1.5rem 5rem}
h1{font-size:1.5rem;margin:.6rem 0 .2rem}h2{font-size:1.2rem;margin:0}h3{font-size:1rem;margin:0}
.muted{color:var(--muted)}
.note{background:#fff8c5;border:1px solid #eed888;border-radius:6px;padding:.45rem .8rem;font-size:14px}
table.index{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);
border-radius:8px;overflow:hidden;font-size:14px;margin:1rem 0 2rem}
.index th,.index td{text-align:left;padding:.5rem .75rem;border-bottom:1px solid var(--line);
vertical-align:top}
.index th{background:#f0f3f6;font-weight:600;font-size:13px}.index td.num{text-align:right;width:5rem}
.title-line{color:var(--muted);font-size:13px}.index td.kept{width:45%}
.cluster{margin:2.5rem 0}.cluster-head{padding:0 .2rem}.cluster-head p{margin:.2rem 0}
.pair{background:var(--card);border:1px solid var(--line);border-radius:10px;margin:1rem 0 1.8rem;
box-shadow:0 1px 2px rgba(31,35,40,.06)}
.pair-head{padding:.8rem 1rem .6rem;border-bottom:1px solid var(--line)}
.pair-title{font-weight:600;word-break:break-all}.arrow{color:var(--muted);margin:0 .3rem}
.tag{display:inline-block;min-width:1.4rem;text-align:center;font-size:12px;font-weight:700;color:#fff;
background:#424a53;border-radius:4px;padding:0 .3rem}
.stats{display:flex;flex-wrap:wrap;gap:.3rem 1.1rem;margin-top:.4rem;font-size:13px;color:var(--muted)}
.stats b{color:var(--fg)}
.grid,.row{display:grid;grid-template-columns:minmax(0,1fr) 7.5rem minmax(0,1fr)}
.grid{position:sticky;top:var(--head);z-index:10;background:#f0f3f6;border-bottom:1px solid var(--line);
font-size:13px;font-weight:600}
.colhead{padding:.4rem 1rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.colhead.gut{text-align:center;color:var(--muted);font-weight:400}
.row{border-bottom:1px solid #eaeef2}.row:last-child{border-bottom:0}
.side{padding:.5rem .6rem;display:flex;flex-direction:column;gap:.5rem;min-width:0}
.gut{display:flex;flex-direction:column;align-items:center;gap:.4rem;padding:.6rem .2rem;
background:#fafbfc;border-left:1px solid #eaeef2;border-right:1px solid #eaeef2}
.para{border-radius:6px;padding:.45rem .75rem .5rem 1.1rem;transition:background .12s,outline-color .12s;
outline:2px solid transparent;outline-offset:-2px}
.para .meta{display:flex;flex-wrap:wrap;gap:.35rem;align-items:center;font-size:12px;margin-bottom:.15rem}
.para .num{font-weight:700;color:var(--muted);margin-right:.15rem}
.para .text{margin:0;overflow-wrap:anywhere}
.para.linked{cursor:pointer}
.para.linked.hl,.para.linked.pin{background:var(--t);outline-color:var(--c)}
.para.only{background:repeating-linear-gradient(135deg,transparent 0 9px,rgba(0,0,0,.018) 9px 18px)}
.para.only[data-side=a]{box-shadow:inset 4px 0 0 var(--a);background-color:var(--a-bg)}
.para.only[data-side=b]{box-shadow:inset 4px 0 0 var(--b);background-color:var(--b-bg)}
.para.boilerplate{color:var(--boiler);background:#f6f8fa;box-shadow:inset 4px 0 0 #d1d9e0;font-size:13.5px}
.chip{display:inline-block;border-radius:999px;padding:0 .5rem;font-weight:600;color:var(--c);
border:1px solid var(--c);background:#fff}
.badge{display:inline-block;border-radius:999px;padding:0 .5rem;font-weight:600;font-size:12px}
.badge.only-a{color:var(--a);background:var(--a-bg);border:1px solid var(--a)}
.badge.only-b{color:var(--b);background:var(--b-bg);border:1px solid var(--b)}
.badge.boiler{color:#59636e;background:#eaeef2;border:1px solid #d1d9e0}
.link-chip{font:inherit;display:flex;flex-direction:column;align-items:center;width:6.6rem;cursor:pointer;
border:1px solid var(--c);border-left-width:5px;border-radius:6px;background:#fff;padding:.2rem .3rem;
color:var(--fg)}
.link-chip:hover,.link-chip.hl,.link-chip.pin{background:var(--t)}
.link-chip .lt{font-size:12px;font-weight:700;color:var(--c)}
.link-chip .sc{font-size:13px;font-variant-numeric:tabular-nums}
.link-chip .moved{font-size:11px;color:var(--muted)}
.s.unaligned{background:#fff1b8;border-bottom:2px dotted #d97706}
.s.shl{background:#dbeafe;border-radius:3px;box-shadow:0 0 0 2px #dbeafe}
.para:focus-visible,.link-chip:focus-visible{outline:2px solid #0969da}
@media (max-width:900px){.grid,.row{grid-template-columns:minmax(0,1fr) 4.5rem minmax(0,1fr)}
.link-chip{width:4.2rem}main{padding:1rem .5rem}}
@media print{.top,.grid{position:static}}
"""

_JS = """
(function () {
  var root = document.documentElement, top = document.querySelector('.top');
  function fit() { root.style.setProperty('--head', top.offsetHeight + 'px'); }
  fit(); window.addEventListener('resize', fit);
  function clear(scope, cls) {
    scope.querySelectorAll('.' + cls).forEach(function (el) { el.classList.remove(cls); });
  }
  function mark(el, cls) {
    var pair = el.closest('.pair');
    if (!pair) return;
    clear(pair, cls);
    el.getAttribute('data-link').split(' ').forEach(function (n) {
      if (!n) return;
      pair.querySelectorAll('[data-link~="' + n + '"]').forEach(function (x) { x.classList.add(cls); });
    });
  }
  function sentence(el, on) {
    var pair = el.closest('.pair');
    if (!pair) return;
    clear(pair, 'shl');
    if (on) pair.querySelectorAll('[data-sl="' + el.getAttribute('data-sl') + '"]')
      .forEach(function (x) { x.classList.add('shl'); });
  }
  document.addEventListener('mouseover', function (e) {
    var s = e.target.closest('[data-sl]');
    if (s) sentence(s, true);
    var el = e.target.closest('[data-link]');
    if (el) mark(el, 'hl');
  });
  document.addEventListener('mouseout', function (e) {
    var s = e.target.closest('[data-sl]');
    if (s) sentence(s, false);
    var el = e.target.closest('[data-link]');
    if (el && !(e.relatedTarget && el.contains(e.relatedTarget))) clear(el.closest('.pair'), 'hl');
  });
  document.addEventListener('focusin', function (e) {
    var el = e.target.closest('[data-link]');
    if (el) mark(el, 'hl');
  });
  document.addEventListener('click', function (e) {
    var el = e.target.closest('[data-link]');
    if (!el) return;
    var pinned = el.classList.contains('pin');
    clear(el.closest('.pair'), 'pin');
    if (!pinned) mark(el, 'pin');
  });
})();
"""


def _page(title: str, subtitle: str, body: str) -> str:
    """The whole document: inline CSS, a sticky header with the legend, ``body``, inline JS."""
    legend = (
        '<span><span class="sw" style="background:'
        'linear-gradient(90deg,#2563eb 33%,#059669 33% 66%,#ea580c 66%)"></span>'
        "linked (one colour a link)</span>"
        '<span><span class="sw" style="background:var(--a)"></span>only in A</span>'
        '<span><span class="sw" style="background:var(--b)"></span>only in B</span>'
        '<span><span class="sw" style="background:#d1d9e0"></span>boilerplate</span>'
        '<span><span class="sw" style="background:#fff1b8;border-bottom:2px dotted #d97706"></span>'
        "sentence with no counterpart</span>"
        "<span>hover or click a paragraph to see its counterparts · ¶ from 1</span>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="dedup"><title>{_e(title)}</title><style>{_CSS}</style></head>'
        f'<body><header class="top"><div class="brand">{_e(title)} <span>· {_e(subtitle)}</span>'
        f'</div><div class="legend">{legend}</div></header><main>{body}</main>'
        f"<script>{_JS}</script></body></html>\n"
    )
