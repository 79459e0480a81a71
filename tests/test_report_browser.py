"""The HTML report in a real browser: headless Chromium loads it without a console error,
renders the seed pair's matched paragraphs, and its script highlights counterparts.

Console messages are read from Chromium's log (``--enable-logging=stderr --v=1``
prints each one as ``...:CONSOLE...] "message", source: url``); a page that
throws is loaded too, so that a change in that format fails here instead of
silently passing.
"""

import json
import re
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup import cli

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
def shown(report, tmp_path_factory) -> tuple[Loaded, Path]:
    tmp = tmp_path_factory.mktemp("chromium")
    png = tmp / "report.png"
    return load(report, tmp, screenshot=png), png


PAGES = {
    "throws": "<!DOCTYPE html><p>x</p><script>throw new Error('boom')</script>",
    "console.error": "<!DOCTYPE html><p>x</p><script>console.error('bad thing')</script>",
    "syntax error": "<!DOCTYPE html><p>x</p><script>var x = ;</script>",
}


@pytest.mark.parametrize(
    "page, expected",
    [
        ("report", []),
        ("throws", ["Uncaught Error: boom"]),
        ("console.error", ["bad thing"]),
        ("syntax error", ["Uncaught SyntaxError"]),
    ],
)
def test_console_messages_are_caught_and_the_report_has_none(page, expected, shown, tmp_path):
    if page == "report":
        loaded = shown[0]
    else:
        path = tmp_path / "page.html"
        path.write_text(PAGES[page])
        loaded = load(path, tmp_path)
    assert len(loaded.console) == len(expected)
    assert all(message.startswith(want) for message, want in zip(loaded.console, expected, strict=True))


def test_the_report_loads_nothing_but_itself(shown, report):
    assert shown[0].files == [report.as_uri()]


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


def test_the_seed_pair_and_its_matched_paragraphs_are_in_the_rendered_page(shown, report):
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


def test_hovering_a_paragraph_highlights_its_counterparts(report, tmp_path):
    """The page's own script, driven by synthetic events: the paragraphs of the first link light up."""
    page = report.read_text(encoding="utf-8")
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
