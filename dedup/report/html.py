"""An alignment, or a run report, as one self-contained HTML page.

One or many pairs side by side: every paragraph once, in its text's order, each link in a colour
of its own; hovering or clicking a paragraph highlights its counterparts, and sentences that the
other text does not say are marked. A run report adds an index of the clusters, then each
duplicate aligned against its cluster's representative. The ``data-para`` and ``data-link``
attributes count from 0, as :meth:`~dedup.report.align.Alignment.to_dict` does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dedup.report.alignment import Alignment
from dedup.report.compact import CSS as COMPACT_CSS
from dedup.report.compact import cluster_section, side_by_side_note
from dedup.report.listing import CSS as INDEX_CSS
from dedup.report.listing import JS as INDEX_JS
from dedup.report.listing import index_table
from dedup.report.page import COMPACT_LEGEND, escape_html, page
from dedup.report.views import (
    HELD_NOTE,
    AlignedPair,
    RunReport,
    left_out_note,
    link_types,
    percent,
    run_facts,
)

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


_e = escape_html


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
        f"{' (' + _e(link_types(al)) + ')' if al.links else ''}</span>"
        f'<span class="stat">matched <b>A {percent(cov_a)}</b> · <b>B {percent(cov_b)}</b> '
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
    return page(title, f"{len(shown)} pair{'' if len(shown) == 1 else 's'}", "".join(sections))


VIEWS = ("compact", "full")
"""How the run report shows each cluster: ``compact``, the kept article once and what each copy
changes; ``full``, each copy side by side with the kept article (every paragraph of both)."""


def render_report_html(report: RunReport, *, view: str = "compact") -> str:
    """The run report as one self-contained HTML page: an index of the clusters (sortable and
    filterable, lowest score first), then each cluster in the ``view`` asked (see :data:`VIEWS`):
    ``compact`` shows the kept article once and each copy's differences; ``full`` each copy
    aligned side by side against the kept article (A = kept, B = copy), a page many times larger."""
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
    ids = _Ids()
    anchors, copy_ids, sections = [], [], []
    for cl in report.clusters:
        cid = ids(f"cluster-{cl.cluster}")
        if view == "compact":
            pair_ids = [ids(f"{cid}-copy-{n}") for n in range(1, len(cl.pairs) + 1)]
        else:
            pair_ids = [ids(f"pair-{_slug(p.a)}--{_slug(p.b)}") for p in cl.pairs]
        anchors.append(cid)
        copy_ids.append(pair_ids)
        if view == "compact":
            sections.append(cluster_section(cl, cid, pair_ids))
            continue
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
    facts = run_facts(report, f"<code>{_e(report.source)}</code>")
    left = ""
    if report.left_out:
        left = (
            f'<p class="note" id="left-out">Showing the first {shown:,} of {report.total_clusters:,} '
            f"clusters; {left_out_note(report)}.</p>"
        )
    notes = "".join(f'<p class="note">{_e(n)}</p>' for n in report.notes)
    if view == "compact" and report.clusters and report.source:
        notes += side_by_side_note(report.source)
    table = (
        index_table(report.clusters, anchors, copy_ids)
        if report.clusters
        else ""
        if report.held
        else '<p class="note">The run found no cluster: no article has a duplicate.</p>'
    )
    body = (
        f'<section class="index-section" id="index"><h1>{_e(report.title)}</h1>'
        f'<p class="muted">{" · ".join(facts)}</p>{left}{notes}{table}{_held_html(report)}</section>'
        f"{''.join(sections)}"
    )
    subtitle = f"{shown:,} of {report.total_clusters:,} clusters"
    if view == "compact":
        return page(
            report.title, subtitle, body, css=COMPACT_CSS + INDEX_CSS, js=INDEX_JS, legend=COMPACT_LEGEND
        )
    return page(report.title, subtitle, body, css=INDEX_CSS, js=INDEX_JS)


def _held_html(report: RunReport) -> str:
    if not report.held:
        return ""
    rows = "".join(
        f'<tr><td class="num">{h.cluster}</td><td>{_e(", ".join(h.members))}</td>'
        f"<td>{_e(', '.join(h.held))}</td></tr>"
        for h in report.held
    )
    return (
        f'<h2 id="held">Matches in the index</h2><p class="note">{_e(HELD_NOTE)}</p>'
        '<table class="index held"><thead><tr><th>cluster</th><th>articles of this run</th>'
        f"<th>held by the index</th></tr></thead><tbody>{rows}</tbody></table>"
    )
