"""Renderers of one alignment: reading order, terminal text, Markdown, HTML."""

import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.report.align import align
from dedup.report.alignment import Alignment, Link
from dedup.report.html import render_html, render_report_html
from dedup.report.markdown import render_markdown, render_report_markdown
from dedup.report.text import render_text
from dedup.report.views import AlignedPair, ClusterAlignments, Row, RunReport, reading_order

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

BANK_A = """Central bank raises rates

The central bank raised its main interest rate by half a point on Tuesday, the third rise this year. \
Inflation reached nine percent in June, the highest level since 1992.

Analysts expect another rise in September as energy prices keep climbing."""
# B adds one sentence to the first paragraph, drops the title, and ends with site furniture.
BANK_B = """The central bank raised its key interest rate by half a percentage point on Tuesday, its third \
increase this year. Inflation hit nine percent in June, the highest since 1992. The mayor opened a new \
bicycle lane downtown on Monday.

Analysts expect a further rise in September, with energy prices still climbing.

Leave a Comment"""


@pytest.fixture(scope="module")
def seeds() -> Alignment:
    """000 vs 004: two machine translations of one ANSA article."""
    a = (SEEDS / "000_1bdcf60ae9970c12.txt").read_text(encoding="utf-8")
    b = (SEEDS / "004_89cc63446ebde389.txt").read_text(encoding="utf-8")
    return align(a, b)


def made(n: int, m: int, links: list[Link], only_a=(), only_b=(), boiler_a=(), boiler_b=()) -> Alignment:
    """An Alignment of n and m paragraphs with the given links (for the reading order alone)."""
    return Alignment(
        paragraphs_a=[f"a{i}" for i in range(n)],
        paragraphs_b=[f"b{j}" for j in range(m)],
        links=links,
        only_a=list(only_a),
        only_b=list(only_b),
        boilerplate_a=list(boiler_a),
        boilerplate_b=list(boiler_b),
        sentence_links=[],
        sentences_a=[],
        sentences_b=[],
    )


# ---------------------------------------------------------------------------------------------
# Reading order


def test_reading_order_of_the_seeds(seeds):
    """The title only in A, then B's extra opening paragraph, the links in A's order, the footer."""
    assert reading_order(seeds) == [
        Row("only_a", a=(0,)),
        Row("only_b", b=(0,)),
        Row("link", a=(1,), b=(1, 2), link=0),
        Row("link", a=(2,), b=(2, 3, 4), link=1),
        Row("link", a=(3,), b=(4,), link=2),
        Row("boilerplate_a", a=(4,)),
    ]


@pytest.mark.parametrize(
    "alignment, expected",
    [
        pytest.param(
            made(2, 3, [Link((0,), (0,), 0.9), Link((1,), (2,), 0.8)], only_b=[1]),
            ["link 0", "only_b b1", "link 1"],
            id="only-in-B between the links around it",
        ),
        pytest.param(
            made(3, 3, [Link((0,), (0,), 0.9), Link((2,), (2,), 0.8)], only_a=[1], only_b=[1]),
            ["link 0", "only_a a1", "only_b b1", "link 1"],
            id="A's gap first, then B's",
        ),
        pytest.param(
            made(2, 3, [Link((0,), (0,), 0.9)], only_a=[1], boiler_b=[1, 2]),
            ["link 0", "only_a a1", "boilerplate_b b1", "boilerplate_b b2"],
            id="trailing paragraphs of both",
        ),
        pytest.param(
            made(3, 3, [Link((0,), (2,), 0.7, moved=True), Link((1, 2), (0, 1), 0.8)]),
            ["link 0", "link 1"],
            id="a moved link stays in A's order",
        ),
        pytest.param(made(1, 1, [], only_a=[0], only_b=[0]), ["only_a a0", "only_b b0"], id="no link"),
    ],
)
def test_reading_order_places_unmatched_paragraphs_where_they_fall(alignment, expected):
    def show(row: Row) -> str:
        if row.kind == "link":
            return f"link {row.link}"
        return f"{row.kind} {'a' if row.a else 'b'}{(row.a or row.b)[0]}"

    assert [show(r) for r in reading_order(alignment)] == expected


# ---------------------------------------------------------------------------------------------
# Text


def test_text_view_of_the_seeds(seeds):
    text = render_text(seeds, names=("000.txt", "004.txt"), width=120)
    lines = text.splitlines()
    assert lines[0] == "A: 000.txt (5 paragraphs)" and lines[1] == "B: 004.txt (5 paragraphs)"
    assert lines[2] == "languages: A en, B en · similarity: tfidf"
    assert lines[3].startswith("3 links (1:2, 1:3, 1:1) · matched: A 75%, B 80%") and "only in B: 1" in text
    assert "counted from 1" in text
    # B's extra opening paragraph is a row of its own, right column only, after A's title.
    only_a = next(i for i, line in enumerate(lines) if "│ only in A │" in line)
    only_b = next(i for i, line in enumerate(lines) if "│ only in B │" in line)
    assert only_a < only_b
    assert lines[only_a].startswith("¶1 Xi visits Putin")
    assert lines[only_b].strip().startswith("│ only in B │ ¶1 Russian President Vladimir Putin")
    # The 1:3 link: A's ¶3 beside B's ¶3 (already shown with the 1:2 link), ¶4 and ¶5.
    row = next(i for i, line in enumerate(lines) if "│    1:3    │" in line)
    assert lines[row].startswith("¶3 Russia, on the other hand")
    assert lines[row].endswith("¶3 (shown above)")
    assert any(line.startswith("¶5 Leave a Comment") and "│boilerplate│" in line for line in lines)
    assert not ANSI.search(text)


@pytest.mark.parametrize("width", [50, 80, 133, 200])
def test_text_lines_fit_the_width(seeds, width):
    lines = render_text(seeds, names=("seeds/000_1bdcf60ae9970c12.txt", "B" * 300), width=width).splitlines()
    assert max(len(line) for line in lines) <= width
    assert sum(1 for line in lines if "┼" in line) == 1 + len(reading_order(seeds))


@pytest.mark.parametrize(
    "kind, code",
    [("only in A", "\x1b[33m"), ("only in B", "\x1b[35m"), ("boilerplate", "\x1b[2m"), ("1:3", "\x1b[36m")],
)
def test_text_colours_each_kind_of_row(seeds, kind, code):
    """Linked rows alternate green and cyan (the 1:3 link is the second); unmatched are yellow/magenta."""
    text = render_text(seeds, width=120, color=True)
    line = next(line for line in text.splitlines() if f"│{kind:^11}│" in ANSI.sub("", line))
    assert code in line
    assert ANSI.sub("", text) == render_text(seeds, width=120)


# ---------------------------------------------------------------------------------------------
# Markdown


def test_markdown_of_the_seeds(seeds):
    md = render_markdown(seeds, names=("000", "004"))
    assert md.startswith("## `000` ↔ `004`\n")
    assert "| link | A | B |" in md
    rows = [line for line in md.splitlines() if line.startswith("| 1:")]
    assert [r.split(" · ")[0] for r in rows] == ["| 1:2", "| 1:3", "| 1:1"]
    assert "**¶3** (shown above)<br><br>**¶4**" in rows[1]
    assert "**Only in B**\n\n- ¶1: Russian President Vladimir Putin" in md
    assert "**Boilerplate (A)**\n\n- ¶5: Leave a Comment" in md


def test_markdown_escapes_pipes_html_and_line_breaks():
    first = "Shares <b>rose</b> | fell\nat the close of trading on Monday in Tokyo."
    a = first + "\n\nSecond paragraph about *markets* here."
    b = first + "\n\nUnrelated [link](x) text."
    md = render_markdown(align(a, b), names=("a|b.txt", "`b`.txt"))
    assert md.startswith("## `a\\|b.txt` ↔ \\`b\\`.txt\n")
    row = next(line for line in md.splitlines() if line.startswith("| 1:1"))
    assert row.count(" | ") == 2  # the text's pipe is escaped, so the row has three cells
    assert "&lt;b&gt;rose&lt;/b&gt; \\| fell<br>at the close" in row
    assert "\\*markets\\*" in md and "\\[link\\](x)" in md


# ---------------------------------------------------------------------------------------------
# HTML


class Elements(HTMLParser):
    """Every start tag as (tag, attributes, text up to the next tag)."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def with_attr(self, name: str) -> list[dict[str, str]]:
        return [attrs for _, attrs in self.tags if name in attrs]


def paragraphs(page: str, pair: str | None = None) -> dict[tuple[str, int], dict[str, str]]:
    """(side, 0-based index) -> the paragraph's attributes."""
    return {(p["data-side"], int(p["data-para"])): p for p in Elements(page).with_attr("data-para")}


def test_html_of_the_seeds_marks_links_unmatched_and_boilerplate(seeds):
    page = render_html(AlignedPair("000_1bdcf60ae9970c12", "004_89cc63446ebde389", seeds, score=0.66))
    section = Elements(page).with_attr("data-pair")
    assert len(section) == 1
    assert section[0]["id"] == section[0]["data-pair"] == "pair-000_1bdcf60ae9970c12--004_89cc63446ebde389"
    assert (section[0]["data-a"], section[0]["data-b"]) == ("000_1bdcf60ae9970c12", "004_89cc63446ebde389")
    paras = paragraphs(page)
    assert len(paras) == 10
    assert paras["a", 0]["data-status"] == "only" and paras["b", 0]["data-status"] == "only"
    assert paras["a", 4]["data-status"] == "boilerplate" and "data-link" not in paras["a", 4]
    # The 1:3 link (index 1): A's third paragraph with B's third to fifth.
    assert paras["a", 2]["data-link"] == "1"
    assert [j for j in range(5) if "1" in paras["b", j].get("data-link", "").split()] == [2, 3, 4]
    assert paras["b", 2]["data-link"] == "0 1"  # B's third paragraph is in the 1:2 and the 1:3 link
    assert "only in A" in page and "only in B" in page and ">boilerplate<" in page
    assert "run score <b>0.66</b>" in page
    # Each link's chip shows that link's own score (from the alignment, not a snapshot of it).
    for n, link in enumerate(seeds.links):
        chip = f'<span class="lt">L{n + 1} · {link.type}</span><span class="sc">{link.score:.2f}</span>'
        assert chip in page


def test_html_marks_the_sentences_the_other_text_does_not_have():
    """B's first paragraph is linked, but its third sentence (the mayor) says nothing of A."""
    page = render_html(align(BANK_A, BANK_B))
    unaligned = re.findall(r'<span class="s unaligned"[^>]*>([^<]*)</span>', page)
    assert unaligned == ["The mayor opened a new bicycle lane downtown on Monday."]
    aligned = re.findall(r'<span class="s" data-sent="\d+" data-sl="(\d+)">', page)
    assert len(aligned) == 2 * 3  # three sentence links, each with one sentence on each side
    paras = paragraphs(page)
    assert paras["a", 0]["data-status"] == "only"  # the title
    assert paras["b", 2]["data-status"] == "boilerplate"  # Leave a Comment


def test_html_marks_no_sentence_when_paragraphs_were_aligned_whole():
    page = render_html(align(BANK_A, BANK_B, unit="paragraph"))
    assert "data-link" in page and "unaligned" not in page.split("</style>")[1].split("<script>")[0]


EVIL = '<script>alert("x")</script> & <img src=x onerror=alert(1)> "quoted"'


def test_html_escapes_every_text_and_name():
    a = f"Officials met on Tuesday in Brussels to discuss the budget. {EVIL}\n\nA second paragraph."
    b = f"Officials met on Tuesday in Brussels to talk about the budget. {EVIL}"
    page = render_html(AlignedPair('<script>alert("a")</script>', "b&b", align(a, b)), title="<script>")
    assert page.count("<script") == 1  # the page's own script, at the end
    assert "<img" not in page
    assert (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;" in page
    )
    assert 'data-a="&lt;script&gt;alert(&quot;a&quot;)&lt;/script&gt;"' in page
    assert 'data-b="b&amp;b"' in page


def test_html_is_self_contained(seeds):
    """No external asset: no src attribute, no stylesheet link, every href a fragment of the page."""
    page = render_html(seeds)
    elements = Elements(page)
    assert not elements.with_attr("src")
    assert not [attrs for tag, attrs in elements.tags if tag == "link"]
    ids = {attrs["id"] for attrs in elements.with_attr("id")}
    for attrs in elements.with_attr("href"):
        assert attrs["href"].startswith("#") and attrs["href"][1:] in ids
    assert "http://" not in page and "https://" not in page and "@import" not in page and "url(" not in page


def test_html_of_many_pairs_gives_each_a_unique_id(seeds):
    page = render_html([seeds, AlignedPair("A", "B", seeds), AlignedPair("x y", "z", seeds)])
    ids = [s["id"] for s in Elements(page).with_attr("data-pair")]
    assert ids == ["pair-A--B", "pair-A--B-2", "pair-x-y--z"]


# ---------------------------------------------------------------------------------------------
# Run report


def report_of(seeds: Alignment, left_out: int = 0) -> RunReport:
    pair = AlignedPair("004", "000", seeds, score=0.66)
    cluster = ClusterAlignments(0, "004", ["000", "004"], "Russian President Vladimir Putin", [pair])
    return RunReport([cluster], total_clusters=1 + left_out, source="out/", articles=5)


@pytest.mark.parametrize("view, copy_id", [("compact", "cluster-0-copy-1"), ("full", "pair-004--000")])
def test_report_html_has_an_index_linking_to_each_cluster_and_pair(seeds, view, copy_id):
    page = render_report_html(report_of(seeds), view=view)
    elements = Elements(page)
    ids = {attrs["id"] for attrs in elements.with_attr("id")}
    assert {"index", "cluster-0", copy_id} <= ids
    hrefs = [attrs["href"] for attrs in elements.with_attr("href")]
    assert "#cluster-0" in hrefs and f"#{copy_id}" in hrefs and "#index" in hrefs
    assert all(h[1:] in ids for h in hrefs)
    assert "Russian President Vladimir Putin" in page and "5 articles read" in page
    assert "left out" not in page


@pytest.mark.parametrize("render", [render_report_html, render_report_markdown])
def test_report_says_how_many_clusters_were_left_out(seeds, render):
    text = render(report_of(seeds, left_out=41))
    assert "Showing the first 1 of 42 clusters; 41 are left out" in text


def test_report_markdown_has_an_index_and_each_pair(seeds):
    md = render_report_markdown(report_of(seeds))
    assert md.startswith("# dedup run report\n")
    assert "| 0 | 2 |  | `004`: Russian President Vladimir Putin | `000` |" in md  # (no run score known)
    scored = dataclasses.replace(
        report_of(seeds), clusters=[dataclasses.replace(report_of(seeds).clusters[0], lowest_score=0.66)]
    )
    assert "| 0 | 2 | 0.66 | `004`" in render_report_markdown(scored)
    assert "## Cluster 0: kept `004`" in md and "### `004` ↔ `000`" in md


@st.composite
def alignments(draw) -> Alignment:
    """Any links between up to 8 paragraphs on each side, some moved; the rest only or boilerplate."""
    n, m = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    links = []
    for _ in range(draw(st.integers(0, 4))):
        a = tuple(sorted(draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=3))))
        b = tuple(sorted(draw(st.sets(st.integers(0, m - 1), min_size=1, max_size=3))))
        links.append(Link(a, b, draw(st.floats(0, 1)), draw(st.booleans())))
    links.sort(key=lambda link: (link.a[0], link.b[0]))
    free_a = [i for i in range(n) if not any(i in link.a for link in links)]
    free_b = [j for j in range(m) if not any(j in link.b for link in links)]
    boiler_a = draw(st.sets(st.sampled_from(free_a))) if free_a else set()
    boiler_b = draw(st.sets(st.sampled_from(free_b))) if free_b else set()
    return made(
        n, m, links, [i for i in free_a if i not in boiler_a], [j for j in free_b if j not in boiler_b],
        sorted(boiler_a), sorted(boiler_b),
    )  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(alignments())
def test_html_shows_every_paragraph_once_in_order_and_each_link_in_one_row(alignment):
    body = render_html(alignment).split("<main>")[1]
    rows = body.split('<div class="row">')[1:]
    where: dict[tuple[str, int], int] = {}
    for r, row in enumerate(rows):
        for side, para in re.findall(r'data-side="(a|b)" data-para="(\d+)"', row):
            assert (side, int(para)) not in where
            where[side, int(para)] = r
    order = re.findall(r'data-side="(a|b)" data-para="(\d+)"', body)
    for side, count in (("a", len(alignment.paragraphs_a)), ("b", len(alignment.paragraphs_b))):
        assert [int(p) for s, p in order if s == side] == list(range(count))
    for link in alignment.links:
        if not link.moved:
            assert len({where["a", i] for i in link.a} | {where["b", j] for j in link.b}) == 1
    assert len(reading_order(alignment)) == (
        len(alignment.links) + len(alignment.only_a) + len(alignment.only_b)
        + len(alignment.boilerplate_a) + len(alignment.boilerplate_b)
    )  # fmt: skip
