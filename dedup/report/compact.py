"""The compact view of a run's cluster: the kept article once, then for each copy only what it
changes (the paragraphs and sentences it adds, those of the kept article it drops, the paragraphs
it moves), so that a cluster of twenty copies reads as twenty short lists, not twenty texts.

:func:`differences` says what a copy changes as data; :func:`cluster_section` renders a cluster
as HTML (the side-by-side view of one pair is :func:`dedup.report.html.render_html`, and
``dedup align --run`` makes it for any pair of a run).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from dedup.report.alignment import Alignment
from dedup.report.page import escape_html as _e
from dedup.report.views import AlignedPair, ClusterAlignments, link_types, method_line, percent

QUOTE = 120
"""Characters of a dropped paragraph or sentence quoted (the kept article, shown above, has it all)."""


@dataclass(frozen=True)
class Differences:
    """What B (a copy) changes against A (the kept article).

    Attributes:
        added: paragraphs only in B, each with the paragraph of A it follows (None: at the start).
        dropped: paragraphs of A with no counterpart in B.
        added_sentences: ``(paragraph of B, sentence)`` said only in B, inside paragraphs that do
            have a counterpart (empty when the alignment was made by paragraphs).
        dropped_sentences: ``(paragraph of A, sentence)`` of A that B does not say, likewise.
        moved: ``(paragraphs of A, paragraphs of B)`` of the links found out of order.
    """

    added: list[tuple[int, int | None]]
    dropped: list[int]
    added_sentences: list[tuple[int, str]]
    dropped_sentences: list[tuple[int, str]]
    moved: list[tuple[list[int], list[int]]]

    def __bool__(self) -> bool:
        return bool(
            self.added or self.dropped or self.added_sentences or self.dropped_sentences or self.moved
        )


def differences(alignment: Alignment) -> Differences:
    """What B changes against A, from their alignment."""
    al = alignment
    last_a: dict[int, int] = {}  # paragraph of B -> the last paragraph of A it is linked to
    for link in al.links:
        for j in link.b:
            last_a[j] = max(last_a.get(j, -1), link.a[-1])
    added = []
    for j in al.only_b:
        before = [last_a[k] for k in last_a if k < j]
        added.append((j, max(before) if before else None))
    added_s: list[tuple[int, str]] = []
    dropped_s: list[tuple[int, str]] = []
    if al.sentence_links:
        aligned_a = {x for xa, _, _ in al.sentence_links for x in xa}
        aligned_b = {y for _, xb, _ in al.sentence_links for y in xb}
        linked_a = {i for link in al.links for i in link.a}
        linked_b = {j for link in al.links for j in link.b}
        dropped_s = [
            (p, s) for k, (p, s) in enumerate(al.sentences_a) if k not in aligned_a and p in linked_a
        ]
        added_s = [(p, s) for k, (p, s) in enumerate(al.sentences_b) if k not in aligned_b and p in linked_b]
    moved = [(link.a, link.b) for link in al.links if link.moved]
    return Differences(added, list(al.only_a), added_s, dropped_s, moved)


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE else text[: QUOTE - 1].rstrip() + "…"


def _numbers(indices: list[int]) -> str:
    return ", ".join(f"¶{i + 1}" for i in indices)


def _kept_html(cl: ClusterAlignments, anchor: str) -> str:
    """The kept article once, its paragraphs numbered (boilerplate, as the first pair saw it, dimmed)."""
    al = cl.pairs[0].alignment
    boiler = set(al.boilerplate_a)
    paragraphs = "".join(
        f'<p class="kp{" boiler" if i in boiler else ""}" id="{anchor}-p{i + 1}">'
        f'<span class="num">¶{i + 1}</span> {_e(p)}</p>'
        for i, p in enumerate(al.paragraphs_a)
    )
    return (
        f'<details class="kept"><summary><span class="tag">kept</span> <b>{_e(cl.representative)}</b> — '
        f'{_e(cl.title)} <span class="muted">· {len(al.paragraphs_a)} ¶ (click to read)</span></summary>'
        f'<div class="kept-text">{paragraphs}</div></details>'
    )


def _copy_html(pair: AlignedPair, anchor: str, copy_id: str) -> str:
    """One copy: its header of counts, then the list of its differences from the kept article."""
    al = pair.alignment
    diff = differences(al)
    cov_a, cov_b = al.coverage()

    def kept(i: int) -> str:
        return f'<a href="#{anchor}-p{i + 1}">kept ¶{i + 1}</a>'

    items = []
    for j, after in diff.added:
        where = "at the start" if after is None else f"after {kept(after)}"
        items.append(f'<li class="add">its ¶{j + 1} ({where}): {_e(al.paragraphs_b[j])}</li>')
    for i in diff.dropped:
        items.append(f'<li class="drop">{kept(i)}: <q>{_e(_quote(al.paragraphs_a[i]))}</q></li>')
    for j, sentence in diff.added_sentences:
        items.append(f'<li class="add-s">in its ¶{j + 1}: {_e(sentence)}</li>')
    for i, sentence in diff.dropped_sentences:
        items.append(f'<li class="drop-s">of {kept(i)}: <q>{_e(_quote(sentence))}</q></li>')
    for a, b in diff.moved:
        items.append(f'<li class="moved">{", ".join(kept(i) for i in a)} (its {_numbers(b)})</li>')
    boiler = f" · boilerplate {len(al.boilerplate_b)} ¶" if al.boilerplate_b else ""
    body = (
        f'<ul class="diffs">{"".join(items)}</ul>'
        if items
        else f'<p class="same">Says what the kept article says: every paragraph matched{boiler}.</p>'
    )
    score = f'<span class="stat">run score <b>{pair.score:.2f}</b></span>' if pair.score is not None else ""
    links = f" ({_e(link_types(al))})" if al.links else ""
    usual = al.similarity == "tfidf" and (al.languages is None or al.languages[0] == al.languages[1])
    method = "" if usual else f'<span class="stat">{_e(method_line(al))}</span>'
    return (
        f'<article class="copy" id="{_e(copy_id)}" data-b="{_e(pair.b)}">'
        f'<header><span class="tag">copy</span> <b>{_e(pair.b)}</b> {score}'
        f'<span class="stat">{len(al.links)} link{"" if len(al.links) == 1 else "s"}{links}</span>'
        f'<span class="stat">matched kept {percent(cov_a)} · copy {percent(cov_b)}</span>{method}'
        f"</header>{body}</article>"
    )


def side_by_side_note(source: str) -> str:
    """How to see any pair of the run side by side (``source``: the run's folder), as HTML."""
    args = " ".join(shlex.quote(x) for x in ("dedup", "align", "--run", source))
    return (
        '<p class="muted cmd">Each copy is shown by what it changes against the kept article (aligned '
        "with the TF-IDF similarity unless it says otherwise). To read a copy side by side with the "
        f"kept article: <code>{_e(args)} KEPT COPY --format html -o pair.html</code> (or "
        "<code>dedup report --view full</code>).</p>"
    )


def cluster_section(cl: ClusterAlignments, anchor: str, copy_ids: list[str]) -> str:
    """A cluster in the compact view, as a ``<section class="cluster compact">``: the kept article
    once (its paragraphs ``{anchor}-p1``, ...), then each copy (``<article class="copy">`` with id
    from ``copy_ids``) as its differences."""
    lowest = f" · lowest score {cl.lowest_score:.2f}" if cl.lowest_score is not None else ""
    more = (
        f'<p class="note">{cl.left_out} more cop{"y" if cl.left_out == 1 else "ies"} of this cluster '
        "not shown here (--max-duplicates).</p>"
        if cl.left_out
        else ""
    )
    kept = _kept_html(cl, anchor) if cl.pairs else ""
    copies = "".join(_copy_html(p, anchor, cid) for p, cid in zip(cl.pairs, copy_ids, strict=True))
    return (
        f'<section class="cluster compact" id="{_e(anchor)}" data-cluster="{cl.cluster}">'
        f'<header class="cluster-head"><h2>Cluster {cl.cluster} '
        f'<span class="muted">· {len(cl.members)} articles{lowest}</span></h2>'
        '<p class="muted">the kept article once, then what each copy adds or drops · '
        '<a href="#index">back to the index</a></p></header>'
        f"{kept}{copies}{more}</section>"
    )


CSS = """
.compact .kept{background:var(--card);border:1px solid var(--line);border-radius:8px;margin:.6rem 0;
padding:.4rem .8rem}
.compact .kept summary{cursor:pointer}
.kept-text .kp{margin:.4rem 0}.kept-text .kp .num,.diffs .num{font-weight:700;color:var(--muted)}
.kept-text .kp:target{background:#fff8c5}
.kept-text .kp.boiler{color:var(--boiler);font-size:13.5px}
.copy{background:var(--card);border:1px solid var(--line);border-radius:8px;margin:.5rem 0;
padding:.4rem .8rem}
.copy header{display:flex;flex-wrap:wrap;gap:.3rem 1rem;align-items:baseline;font-size:14px}
.copy .stat{font-size:13px;color:var(--muted)}.copy .stat b{color:var(--fg)}
.diffs{margin:.3rem 0;padding-left:1.2rem}.diffs li{margin:.2rem 0}
.diffs q{color:var(--muted)}
.diffs li::before{display:inline-block;border-radius:999px;padding:0 .5rem;font-weight:600;font-size:12px;
margin-right:.3rem}
.diffs .add::before,.diffs .add-s::before{color:var(--b);background:var(--b-bg);border:1px solid var(--b)}
.diffs .drop::before,.diffs .drop-s::before{color:var(--a);background:var(--a-bg);border:1px solid var(--a)}
.diffs .add::before{content:"adds"}.diffs .add-s::before{content:"adds a sentence"}
.diffs .drop::before{content:"drops"}.diffs .drop-s::before{content:"drops a sentence"}
.diffs .moved::before{content:"moves";color:#0f766e;background:#ecfdf5;border:1px solid #0f766e}
.same{color:var(--muted);margin:.3rem 0;font-size:14px}
.cmd{font-size:12.5px;margin:.2rem 0}
"""
