"""An alignment, or a run report, as Markdown: tables of the links and lists of the unmatched and
boilerplate paragraphs, for a ticket or a pull request."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from dedup.report.alignment import Alignment
from dedup.report.views import HELD_NOTE, RunReport, left_out_note, method_line, run_facts, summary_line

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
        f"({len(al.paragraphs_b)} paragraphs) · {method_line(al)} · {summary_line(al)} · "
        "¶ numbers count from 1",
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


def render_report_markdown(report: RunReport) -> str:
    """The run report as Markdown: an index table of the clusters, then the pairs (as render_markdown)."""
    out = [f"# {_md(report.title)}", ""]
    facts = run_facts(report, _md_name(report.source))
    out += [" · ".join(facts), ""]
    if report.left_out:
        out += [
            f"Showing the first {len(report.clusters):,} of {report.total_clusters:,} clusters; "
            f"{left_out_note(report)}.",
            "",
        ]
    out += [_md(n) + "\n" for n in report.notes]
    if report.clusters:
        out += [
            "| cluster | articles | lowest score | kept (representative) | duplicates |",
            "|---|---|---|---|---|",
        ]
        for cl in report.clusters:
            dups = ", ".join(_md_name(p.b) for p in cl.pairs) + (
                f" and {cl.left_out} more" if cl.left_out else ""
            )
            kept = f"{_md_name(cl.representative)}: {_md(cl.title)}"
            lowest = "" if cl.lowest_score is None else f"{cl.lowest_score:.2f}"
            out.append(f"| {cl.cluster} | {len(cl.members)} | {lowest} | {kept} | {dups} |")
        out.append("")
    elif not report.held:
        out += ["The run found no cluster: no article has a duplicate.", ""]
    if report.held:
        out += ["## Matches in the index", "", HELD_NOTE, ""]
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
