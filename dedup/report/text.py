"""An alignment for a terminal: two wrapped columns, one row per link or unmatched paragraph,
the link type and score in a narrow middle gutter."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Sequence
from itertools import zip_longest

import click

from dedup.report.alignment import Alignment
from dedup.report.views import method_line, reading_order, summary_parts


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
    score: float | None = None,
) -> str:
    """A side-by-side terminal view of ``alignment``: a header of counts, then one row per link
    or unmatched paragraph in reading order (see :func:`reading_order`).

    Args:
        names: what to call A and B (file names, ids).
        width: total line width; default the terminal's (80 when not a terminal).
        color: ANSI colours (links green/cyan, only in A yellow, only in B magenta, boilerplate dim).
        score: the run's score of the pair, shown in the header if given.

    The header names the texts, the languages detected and the similarity used, then the counts.
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
    out += _wrap_parts(method_line(al, score).split(" · "), width)
    out += _wrap_parts(summary_parts(al), width)
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
