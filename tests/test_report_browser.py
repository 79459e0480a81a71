"""The HTML report in a real browser: headless Chromium loads it without a console error,
renders the seed pair's matched paragraphs, and its script highlights counterparts.

Console messages are read from Chromium's log (``--enable-logging=stderr --v=1``
prints each one as ``...:CONSOLE...] "message", source: url``); a page that
throws is loaded too, so that a change in that format fails here instead of
silently passing.
"""

import html
import json
import random
import re
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup import Cluster, cli
from dedup.report.build import build_report
from dedup.report.html import render_report_html
from dedup.report.views import RunReport

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
REP, DUP = "004_89cc63446ebde389", "000_1bdcf60ae9970c12"
CHROMIUM = next(
    (found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))),
    None,
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium binary on PATH (apt-get install chromium) to load the HTML report in",
)
CONSOLE = re.compile(r':CONSOLE[^\]]*\] "(?P<message>.*)", source: (?P<source>\S*)')
LOADED = re.compile(r"FileURLLoader::Start: (\S+)")
WINDOW = (1400, 1800)


@dataclass
class Loaded:
    dom: str
    console: list[str]
    files: list[str]  # file:// URLs the browser read


def load(page: Path, tmp: Path, screenshot: Path | None = None) -> Loaded:
    """Open ``page`` in headless Chromium (a fresh profile), return its DOM after scripts and its console."""
    args = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-extensions", "--hide-scrollbars", "--enable-logging=stderr", "--v=1",
        f"--user-data-dir={tmp / 'profile'}", f"--window-size={WINDOW[0]},{WINDOW[1]}", "--dump-dom",
        *([f"--screenshot={screenshot}"] if screenshot else []), page.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr[-3000:]
    return Loaded(
        dom=done.stdout,
        console=[m["message"] for m in CONSOLE.finditer(done.stderr)],
        files=[m[1] for m in LOADED.finditer(done.stderr)],
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """The seeds run with --report: report.html next to the other outputs."""
    out = tmp_path_factory.mktemp("run") / "out"
    result = CliRunner().invoke(cli.main, ["run", str(SEEDS), "-o", str(out), "-q", "--report"])
    assert result.exit_code == 0, result.output
    return out / "report.html"


@pytest.fixture(scope="module")
def full_report(report) -> Path:
    """The same run's report in the full view: each copy side by side with the kept article."""
    page = report.parent / "full.html"
    result = CliRunner().invoke(cli.main, ["report", str(report.parent), "--view", "full", "-o", str(page)])
    assert result.exit_code == 0, result.output
    return page


@pytest.fixture(scope="module")
def shown(full_report, tmp_path_factory) -> tuple[Loaded, Path]:
    tmp = tmp_path_factory.mktemp("chromium")
    png = tmp / "report.png"
    return load(full_report, tmp, screenshot=png), png


@pytest.fixture(scope="module")
def shown_compact(report, tmp_path_factory) -> Loaded:
    return load(report, tmp_path_factory.mktemp("chromium"))


PAGES = {
    "throws": "<!DOCTYPE html><p>x</p><script>throw new Error('boom')</script>",
    "console.error": "<!DOCTYPE html><p>x</p><script>console.error('bad thing')</script>",
    "syntax error": "<!DOCTYPE html><p>x</p><script>var x = ;</script>",
}


@pytest.mark.parametrize(
    "page, expected",
    [
        ("report", []),
        ("compact report", []),
        ("throws", ["Uncaught Error: boom"]),
        ("console.error", ["bad thing"]),
        ("syntax error", ["Uncaught SyntaxError"]),
    ],
)
def test_console_messages_are_caught_and_the_report_has_none(page, expected, shown, shown_compact, tmp_path):
    if page == "report":
        loaded = shown[0]
    elif page == "compact report":
        loaded = shown_compact
    else:
        path = tmp_path / "page.html"
        path.write_text(PAGES[page])
        loaded = load(path, tmp_path)
    assert len(loaded.console) == len(expected)
    assert all(message.startswith(want) for message, want in zip(loaded.console, expected, strict=True))


def test_the_report_loads_nothing_but_itself(shown, full_report, shown_compact, report):
    assert shown[0].files == [full_report.as_uri()]
    assert shown_compact.files == [report.as_uri()]


def png_size_and_pixels(path: Path) -> tuple[tuple[int, int], bytes]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    size = struct.unpack(">II", data[16:24])
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        if data[at + 4 : at + 8] == b"IDAT":
            chunks.append(data[at + 8 : at + 8 + length])
        at += 12 + length
    return size, zlib.decompress(b"".join(chunks))


def test_the_screenshot_is_a_full_window_of_varied_pixels(shown):
    size, pixels = png_size_and_pixels(shown[1])
    assert size == WINDOW
    assert len(set(pixels)) > 64  # text, colours and borders; a blank page has a handful of values


def test_the_seed_pair_and_its_matched_paragraphs_are_in_the_rendered_page(shown):
    dom = shown[0].dom
    section = re.search(
        rf'<section class="pair" id="([^"]+)" data-pair="\1" data-a="{REP}" data-b="{DUP}">', dom
    )
    assert section
    body = dom[section.start() : dom.index("</section>", section.start())]
    linked = re.findall(
        r'data-side="(a|b)" data-para="(\d+)" data-status="linked" data-link="([\d ]+)"', body
    )
    sides = {side for side, _, _ in linked}
    assert sides == {"a", "b"} and len(linked) >= 6
    text = re.sub(r"<[^>]+>", "", body)
    for phrase in ("In Russia from tomorrow to Wednesday", "In his visit to Russia from Monday to Wednesday"):
        assert phrase in text  # the first linked paragraph of each side
    assert "only in A" in text and "only in B" in text and "Leave a Comment" in text


PROBE = """<script>
(function () {
  var pair = document.querySelector('section.pair[data-a="%s"][data-b="%s"]');
  function names(selector) {
    return Array.from(pair.querySelectorAll(selector)).map(function (e) {
      var p = e.closest('.para'); return p.dataset.side + p.dataset.para;
    }).join(' ');
  }
  var first = pair.querySelector('.para[data-side="a"][data-link]');
  first.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
  document.body.dataset.hover = names('.para.hl');
  first.dispatchEvent(new MouseEvent('click', {bubbles: true}));
  document.body.dataset.pinned = names('.para.pin');
  var sentence = pair.querySelector('.s[data-sl]');
  sentence.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
  document.body.dataset.sentence = names('.s.shl');
})();
</script>"""


def test_hovering_a_paragraph_highlights_its_counterparts(report, full_report, tmp_path):
    """The page's own script, driven by synthetic events: the paragraphs of the first link light up."""
    page = full_report.read_text(encoding="utf-8")
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", PROBE % (REP, DUP) + "</body>"), encoding="utf-8")
    loaded = load(probed, tmp_path)
    assert loaded.console == []
    body = re.search(r"<body([^>]*)>", loaded.dom)[1]
    got = dict(re.findall(r'data-(hover|pinned|sentence)="([^"]*)"', body))
    report_json = (
        CliRunner().invoke(cli.main, ["report", str(report.parent), "--format", "json", "-q"]).stdout
    )
    link = json.loads(report_json)[0]["alignment"]["links"][0]
    expected = sorted([f"a{i}" for i in link["a"]] + [f"b{j}" for j in link["b"]])
    assert sorted(got["hover"].split()) == expected
    assert sorted(got["pinned"].split()) == expected
    assert {name[0] for name in got["sentence"].split()} == {"a", "b"}  # a sentence and its counterpart


# ---------------------------------------------------------------------------------------------
# The compact view and the index of clusters, at 100 clusters


def test_the_compact_seed_report_shows_what_the_copy_drops(shown_compact):
    dom = shown_compact.dom
    copy = re.search(rf'<article class="copy" id="cluster-0-copy-1" data-b="{DUP}">(.*?)</article>', dom)
    assert copy and re.search(r'<li class="drop"><a href="#cluster-0-p1">kept ¶1</a>', copy[1])
    kept = re.search(r'<details class="kept">(.*?)</details>', dom)[1]
    assert 'id="cluster-0-p1"' in kept and "Russian President Vladimir Putin" in kept


WORDS = (
    "harbour", "river", "council", "budget", "school", "teacher", "railway", "station", "airport",
    "storm", "flood", "minister", "police", "court", "hospital", "doctor", "farmer", "market", "bank",
    "price", "energy", "fuel", "bridge", "tunnel", "museum", "festival", "election", "vote", "mayor",
    "village", "border", "army", "ship", "port", "factory", "worker", "union", "strike", "contract",
    "report", "inquiry", "fire", "forest", "coast"
)  # fmt: skip


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(9, 14))).capitalize() + "."


def hundred_clusters() -> RunReport:
    """100 stories of 2 to 7 articles: the kept one and copies that drop a paragraph, add one, or
    neither; each pair with a score of its own (seeded, so the run is the same every time)."""
    rng = random.Random(19)
    clusters, texts, scores = [], {}, {}
    for k in range(100):
        story = ["\n".join(sentence(rng) for _ in range(2)) + f" Story {k}." for _ in range(4)]
        members = [f"s{k:03d}-{m}" for m in range(rng.randint(2, 7))]
        texts[members[0]] = "\n\n".join(story)
        for m in members[1:]:
            paragraphs = list(story)
            if rng.random() < 0.5:
                del paragraphs[rng.randrange(4)]
            if rng.random() < 0.5:
                paragraphs.insert(rng.randrange(len(paragraphs) + 1), sentence(rng) + " " + sentence(rng))
            texts[m] = "\n\n".join(paragraphs)
            scores[tuple(sorted((members[0], m)))] = round(rng.uniform(0.3, 1.0), 4)
        clusters.append(Cluster(k, members[0], members))
    return build_report(clusters, texts.items(), scores=scores, source="synthetic/run")


SORT_PROBE = """<script>
(function () {
  function order() {
    return Array.from(document.querySelectorAll('#clusters tbody tr'))
      .filter(function (r) { return !r.hidden; }).map(function (r) { return r.dataset.cluster; }).join(' ');
  }
  function set(id, value, event) {
    var el = document.getElementById(id); el.value = value; el.dispatchEvent(new Event(event));
  }
  var out = {opened: order()};
  set('sort', 'size', 'change'); out.size = order();
  document.querySelector('th button[data-sort="changes"]').click(); out.changes = order();
  set('sort', 'score', 'change'); set('min-size', '5', 'input'); out.big = order();
  set('min-size', '2', 'input'); set('max-score', '0.5', 'input'); out.low = order();
  out.count = document.getElementById('count').textContent;
  set('max-score', '', 'input'); set('find', 's042-0', 'input'); out.found = order();
  document.body.dataset.probe = JSON.stringify(out);
})();
</script>"""


def test_the_index_of_100_clusters_sorts_and_filters_in_the_browser(tmp_path):
    report = hundred_clusters()
    assert len(report.clusters) == 100
    page = tmp_path / "report.html"
    page.write_text(render_report_html(report).replace("</body>", SORT_PROBE + "</body>"), encoding="utf-8")
    loaded = load(page, tmp_path)
    assert loaded.console == [] and loaded.files == [page.as_uri()]
    got = {
        k: v.split()
        for k, v in json.loads(html.unescape(re.search(r'data-probe="([^"]*)"', loaded.dom)[1])).items()
    }

    def ids(clusters) -> list[str]:
        return [str(c.cluster) for c in clusters]

    cl = report.clusters
    by_score = sorted(cl, key=lambda c: (c.lowest_score, c.cluster))
    assert got["opened"] == ids(by_score)  # where a reviewer looks first
    assert got["size"] == ids(sorted(cl, key=lambda c: (-len(c.members), c.cluster)))
    assert got["changes"] == ids(sorted(cl, key=lambda c: (-c.changes, c.cluster)))
    assert got["big"] == ids(c for c in by_score if len(c.members) >= 5)
    assert got["low"] == ids(c for c in by_score if c.lowest_score <= 0.5)
    assert " ".join(got["count"]) == f"{len(got['low'])} of 100 clusters"
    assert got["found"] == ["42"]
    # Each of these changed what is shown: the order, or the rows.
    assert got["opened"] != got["size"] != got["changes"] and 0 < len(got["big"]) < 100 > len(got["low"]) > 0
