"""The run report from the library: from a Result and its texts, or from a run's output folder."""

import contextlib
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import seed_texts

from dedup import Cluster, Result, align, find_duplicates
from dedup.cli import main
from dedup.report.build import ReportError, build_report, load_run, report_from_result, report_from_run

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
REP, DUP = "004_89cc63446ebde389", "000_1bdcf60ae9970c12"  # the seed cluster: kept, duplicate

FOOTER = "The Daily Planet is an independent newspaper founded in 1938 in Metropolis."
STORY = (
    "The city council approved the new budget on Tuesday after a long debate about school funding.\n\n"
    "The mayor said the plan would add three hundred teachers over the next two years.\n\n"
)


def test_report_from_a_result_and_its_texts_aligns_each_duplicate_with_the_kept_article():
    texts = seed_texts()
    result = find_duplicates(texts.items())
    rows = json.loads(report_from_result(result, texts, format="json"))
    assert [(r["cluster"], r["a"], r["b"]) for r in rows] == [(0, REP, DUP)]
    alignment = rows[0]["alignment"]
    assert list(alignment) == [
        "links", "only_a", "only_b", "boilerplate_a", "boilerplate_b", "similarity", "languages",
    ]  # fmt: skip
    # A is 004 here: its opening paragraph is the one 000 lacks, and 000's "Leave a Comment" is boilerplate.
    assert alignment["only_a"] == [0] and alignment["boilerplate_b"] == [4]
    # ... and the 1:3 link of `dedup align 000 004`, seen from 004's side.
    assert [(link["a"], link["b"]) for link in alignment["links"] if link["type"] == "3:1"] == [
        ([2, 3, 4], [2])
    ]


@pytest.mark.parametrize(
    "fmt, marker", [("html", 'data-cluster="0"'), ("md", "## Cluster 0"), ("json", '"cluster": 0')]
)
def test_every_format_names_the_cluster(fmt, marker):
    texts = seed_texts()
    out = report_from_result(find_duplicates(texts.items()), texts, format=fmt)
    assert marker in out and REP in out and DUP in out


def story(n: int, footer: bool) -> str:
    return f"Story {n}: " + STORY.replace("budget", f"budget {n}") + (FOOTER if footer else "")


@pytest.mark.parametrize(
    "others, footer_is_boilerplate",
    [
        pytest.param(2, True, id="footer in the cluster's story and two other stories"),
        pytest.param(1, False, id="footer in two stories only"),
        pytest.param(0, False, id="footer only in the copies of one story"),
    ],
)
def test_boilerplate_is_learnt_across_the_stories_of_the_run(others, footer_is_boilerplate):
    """A paragraph in 3+ stories is boilerplate; the copies of one story count once."""
    articles = {"a1": story(0, True), "a2": story(0, True), "a3": story(0, True)}
    articles |= {f"o{k}": f"Other news {k}: the river flooded the valley.\n\n{FOOTER}" for k in range(others)}
    result = Result(pairs=[], clusters=[Cluster(0, "a1", ["a1", "a2", "a3"])])
    report = build_report(result.clusters, articles.items())
    alignment = report.clusters[0].pairs[0].alignment
    footer = alignment.paragraphs_a.index(FOOTER)
    assert (footer in alignment.boilerplate_a) is footer_is_boilerplate
    assert (footer in {i for link in alignment.links for i in link.a}) is not footer_is_boilerplate


def clusters_of(n: int, size: int = 2) -> tuple[list[Cluster], dict[str, str]]:
    clusters, texts = [], {}
    for k in range(n):
        members = [f"c{k}m{m}" for m in range(size)]
        clusters.append(Cluster(k, members[0], members))
        texts |= {m: story(k, False) for m in members}
    return clusters, texts


@pytest.mark.parametrize("max_clusters, shown", [(0, 0), (2, 2), (5, 5), (200, 5)])
def test_at_most_max_clusters_are_shown_and_the_rest_counted(max_clusters, shown):
    clusters, texts = clusters_of(5)
    report = build_report(clusters, texts.items(), max_clusters=max_clusters)
    assert [c.cluster for c in report.clusters] == list(range(shown))
    assert report.left_out == 5 - shown and report.total_clusters == 5


def test_at_most_max_duplicates_per_cluster_are_aligned():
    clusters, texts = clusters_of(1, size=6)
    report = build_report(clusters, texts.items(), max_duplicates=2)
    assert [p.b for p in report.clusters[0].pairs] == ["c0m1", "c0m2"]
    assert report.clusters[0].left_out == 3


def test_only_the_texts_of_the_clusters_shown_are_needed():
    """Articles stream by; texts of clusters left out are neither kept nor required."""
    clusters, texts = clusters_of(3)
    del texts["c2m0"]
    assert len(build_report(clusters, texts.items(), max_clusters=2).clusters) == 2
    with pytest.raises(ReportError, match="article 'c2m0' of cluster 2 is not in the inputs"):
        build_report(clusters, texts.items())


def test_the_articles_are_read_once_with_progress():
    clusters, texts = clusters_of(2)
    seen = []

    @contextlib.contextmanager
    def progress(label, total):
        class Bar:
            def update(self, n):
                seen.append((label, total, n))

        yield Bar()

    build_report(clusters, iter(texts.items()), total_articles=4, progress=progress)
    assert seen == [("read", 4, 1)] * 4 + [("align", 2, 1)] * 2


@pytest.mark.parametrize(
    "options, message",
    [
        ({"threshold": 2.0}, "threshold"),
        ({"unit": "page"}, "unit"),
        ({"max_duplicates": 0}, "max_duplicates"),
    ],
)
def test_bad_options_fail_before_anything_is_read(options, message):
    def never():
        raise AssertionError("read")
        yield

    with pytest.raises(ValueError, match=message):
        build_report([], never(), **options)


# ---------------------------------------------------------------------------------------------
# From a run folder


def test_report_from_a_run_folder_reads_the_inputs_again(seed_run):
    page = report_from_run(seed_run)
    assert f'<article class="copy" id="cluster-0-copy-1" data-b="{DUP}">' in page  # (compact)
    assert "5 articles read" in page
    assert f'data-a="{REP}" data-b="{DUP}"' in report_from_run(seed_run, view="full")
    summary = json.loads((seed_run / "summary.json").read_text())
    assert summary["input_options"] == {
        "paths": [str(SEEDS)], "format": None, "recursive": False, "delimiter": None, "id_field": "id",
        "text_field": "text", "max_chars": 1_000_000,
    }  # fmt: skip


def test_the_run_records_absolute_paths_so_the_report_works_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(SEEDS.parent)
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["run", "seeds", "-o", str(out), "-q"]).exit_code == 0
    monkeypatch.chdir(tmp_path)
    assert DUP in report_from_run(out, format="md")


def copy_run(seed_run: Path, tmp_path: Path, **summary_changes) -> Path:
    run = tmp_path / "run"
    shutil.copytree(seed_run, run)
    summary = json.loads((run / "summary.json").read_text())
    summary.update(summary_changes)
    (run / "summary.json").write_text(json.dumps(summary))
    return run


def test_a_run_that_read_stdin_needs_its_inputs_given_again(seed_run, tmp_path):
    run = copy_run(
        seed_run,
        tmp_path,
        inputs=["-"],
        input_options={"paths": ["-"], "format": None, "id_field": "id", "text_field": "text"},
    )
    with pytest.raises(
        ReportError, match=r"summary\.json: the run read stdin .* give the inputs with --input"
    ):
        report_from_run(run)
    assert DUP in report_from_run(run, inputs=[SEEDS])


def test_a_moved_input_is_named_and_can_be_given_again(seed_run, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(SEEDS, moved)
    run = copy_run(seed_run, tmp_path, input_options={"paths": [str(tmp_path / "gone")], "format": None})
    with pytest.raises(ReportError, match=f"{tmp_path / 'gone'}: input of the run not found"):
        report_from_run(run)
    assert DUP in report_from_run(run, inputs=[moved])


def test_a_run_without_input_options_falls_back_to_the_recorded_inputs(seed_run, tmp_path):
    run = copy_run(seed_run, tmp_path, inputs=[str(SEEDS)])
    summary = json.loads((run / "summary.json").read_text())
    del summary["input_options"]
    (run / "summary.json").write_text(json.dumps(summary))
    assert DUP in report_from_run(run)


def test_inputs_that_changed_since_the_run_are_an_error(seed_run, tmp_path):
    changed = tmp_path / "changed"
    shutil.copytree(SEEDS, changed)
    (changed / f"{DUP}.txt").unlink()
    with pytest.raises(ReportError, match=f"article '{DUP}' of cluster 0 is not in the inputs"):
        report_from_run(seed_run, inputs=[changed])


@pytest.mark.parametrize(
    "make, message",
    [
        pytest.param(lambda d: None, "no such folder", id="missing"),
        pytest.param(lambda d: d.write_text("x"), "not a folder", id="a file"),
        pytest.param(
            lambda d: d.mkdir(), r"not a dedup run folder \(no clusters\.jsonl\)", id="no clusters.jsonl"
        ),
        pytest.param(
            lambda d: (d.mkdir(), (d / "clusters.jsonl").write_text('{"cluster": 0}\n')),
            r"clusters\.jsonl:1: expected cluster, representative and members",
            id="foreign clusters.jsonl",
        ),
        pytest.param(
            lambda d: (d.mkdir(), (d / "clusters.jsonl").write_text("{\n")),
            r"clusters\.jsonl:1: malformed JSON",
            id="malformed clusters.jsonl",
        ),
    ],
)
def test_a_folder_that_is_not_a_run_is_named(tmp_path, make, message):
    folder = tmp_path / "out"
    make(folder)
    with pytest.raises(ReportError, match=f"^{folder}.*{message}"):
        load_run(folder)


def test_clusters_with_articles_of_an_index_are_listed_and_their_run_members_aligned():
    """A run against an index: a cluster of two run articles and one held is aligned (the two)
    and listed with the held one; a cluster of one run article and one held, whose other text
    the index does not keep, is listed only, and counted apart from the clusters shown."""
    from dedup.report.html import render_report_html
    from dedup.report.markdown import render_report_markdown
    from dedup.report.views import HeldMatch

    texts = seed_texts()
    clusters = [
        Cluster(0, "h1", ["h1", REP, DUP], held=["h1"]),
        Cluster(1, "h2", ["h2", "002_f2e2c6d8a9b0c1d2"], held=["h2"]),
    ]
    report = build_report(clusters, [(k, v) for k, v in texts.items() if k in {REP, DUP}])
    [shown] = report.clusters
    assert shown.cluster == 0 and sorted(shown.members) == sorted([REP, DUP])
    assert report.total_clusters == 1 and report.held_only == 1 and report.left_out == 0
    assert report.held == [
        HeldMatch(0, [REP, DUP], ["h1"]),
        HeldMatch(1, ["002_f2e2c6d8a9b0c1d2"], ["h2"]),
    ]
    page = render_report_html(report)
    assert "1 cluster · 1 more of one article matching the index" in page
    assert '<tr><td class="num">1</td><td>002_f2e2c6d8a9b0c1d2</td><td>h2</td></tr>' in page
    assert 'id="cluster-0"' in page and "found no cluster" not in page
    assert "| 1 | `002_f2e2c6d8a9b0c1d2` | `h2` |" in render_report_markdown(report)


# ---------------------------------------------------------------------------------------------
# The compact view and the index of clusters


PARAGRAPHS = (
    "The harbour authority of {k} closed the northern pier on Monday after inspectors found cracks.",
    "Fishermen said the closure would cost them a week of catches during the busiest season of the year.",
    "Engineers expect the repairs to take three months and to be paid from the regional budget.",
    "The mayor promised a public meeting on Thursday evening to answer the questions of residents.",
)


def edition(k: int, *, drop: int | None = None, add: str | None = None) -> str:
    """Story ``k`` in four paragraphs, one of them dropped or a paragraph added at the end."""
    paragraphs = [p.format(k=k) for p in PARAGRAPHS]
    if drop is not None:
        del paragraphs[drop]
    if add:
        paragraphs.append(add)
    return "\n\n".join(paragraphs)


ADDED = "A spokesman for the airport said the flights would resume once the storm over the coast had passed."


def test_differences_say_what_each_copy_adds_and_drops():
    from dedup.report.compact import differences

    copy = align(edition(1), edition(1, drop=2, add=ADDED))
    diff = differences(copy)
    assert diff.dropped == [2]  # the kept article's third paragraph
    assert diff.added == [(3, 3)]  # the copy's fourth paragraph, after the kept article's fourth
    assert not differences(align(edition(1), edition(1)))  # a true copy changes nothing


def three_copies() -> tuple[list[Cluster], dict[str, str], dict[tuple[str, str], float]]:
    texts = {"k": edition(1), "c1": edition(1, drop=0), "c2": edition(1, add=ADDED), "c3": edition(1)}
    scores = {("c1", "k"): 0.61, ("c2", "k"): 0.74, ("c3", "k"): 0.98, ("c1", "c2"): 0.52}
    return [Cluster(0, "k", ["k", "c1", "c2", "c3"])], texts, scores


def test_the_compact_view_shows_the_kept_article_once_and_each_copys_differences():
    from dedup.report.html import render_report_html

    clusters, texts, scores = three_copies()
    report = build_report(clusters, texts.items(), scores=scores)
    compact, full = render_report_html(report), render_report_html(report, view="full")
    opening = edition(1).split("\n\n")[1]
    assert compact.count(opening) == 1 and full.count(opening) == 2 * 3  # the kept text once; twice a pair

    def main(page: str) -> str:
        return page[page.index("<main>") : page.index("</main>")]

    assert len(main(compact)) < len(main(full)) / 2
    copies = re.findall(r'<article class="copy" id="[^"]+" data-b="(\w+)">(.*?)</article>', compact)
    changes = {b: re.findall(r'<li class="([\w-]+)">', body) for b, body in copies}
    assert changes == {"c1": ["drop"], "c2": ["add"], "c3": []}
    assert ADDED in dict(copies)["c2"] and "Says what the kept article says" in dict(copies)["c3"]
    assert report.clusters[0].lowest_score == 0.52  # the weakest pair inside the cluster, not only the kept's


def test_the_index_opens_lowest_score_first_with_what_its_script_sorts_by():
    from dedup.report.html import render_report_html

    clusters, texts = clusters_of(4, size=3)
    scores = {(f"c{k}m0", f"c{k}m{m}"): 0.9 - 0.1 * ((k * 5 + m) % 4) for k in range(4) for m in (1, 2)}
    report = build_report(clusters, texts.items(), scores=scores)
    rows = re.findall(
        r'<tr data-cluster="(\d+)" data-size="(\d+)" data-score="([\d.]*)" data-changes="(\d+)">',
        render_report_html(report),
    )
    lowest = {k: min(s for (a, _), s in scores.items() if a == f"c{k}m0") for k in range(4)}
    assert [int(r[0]) for r in rows] == sorted(range(4), key=lambda k: (lowest[k], k))
    assert {int(r[0]): float(r[2]) for r in rows} == pytest.approx(lowest)
    assert {r[1] for r in rows} == {"3"}


def test_a_capped_report_says_so_to_the_caller(seed_run):
    said = []
    report_from_run(seed_run, max_clusters=0, on_left_out=said.append)
    assert said == [
        "the report shows the first 0 of 1 clusters; 1 is left out (raise --max-clusters to see them)"
    ]
    report_from_run(seed_run, on_left_out=said.append)
    assert len(said) == 1
    texts = seed_texts()
    report_from_result(find_duplicates(texts.items()), texts, max_clusters=0, on_left_out=said.append)
    assert said[1] == said[0]


def test_an_unknown_view_is_refused_before_reading(seed_run):
    with pytest.raises(ValueError, match="view must be one of"):
        report_from_run(seed_run / "nowhere", view="wide")
