"""The documentation holds: the mkdocs site builds with ``--strict`` (a broken link or anchor
between pages fails it), every relative link of README.md (outside docs/, so mkdocs never sees
it) reaches a file and a heading, an anchor means the same heading on GitHub and on the site, and
the quick start's printed block is what its ``dedup run`` prints.

The quick-start blocks are read from README.md and docs/index.md, not copied here: when the end
summary changes, the test says which lines differ, and the blocks are updated, not this file."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import dedup

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
QUICK_STARTS = [ROOT / "README.md", DOCS / "index.md"]

_FENCE = re.compile(r"^(```|~~~)")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def prose_lines(text: str) -> list[str]:
    """The lines of a Markdown text outside fenced code blocks (indented blocks hold no links)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced and not line.startswith("    "):
            lines.append(line)
    return lines


def headings(path: Path) -> list[str]:
    """The text of each heading of a Markdown file, as it reads (code spans without backticks,
    links as their text)."""
    found = []
    for line in prose_lines(path.read_text(encoding="utf-8")):
        m = _HEADING.match(line)
        if m:
            text = re.sub(r"`+([^`]*)`+", r"\1", m.group(2))
            found.append(re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text))
    return found


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped (word characters,
    hyphens and spaces stay), each space a hyphen."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def links(path: Path) -> list[str]:
    """Every link and image target of a Markdown file outside code."""
    found = []
    for line in prose_lines(path.read_text(encoding="utf-8")):
        found += _LINK.findall(_CODE_SPAN.sub("", line))
    return found


def broken_links(path: Path) -> list[str]:
    """The relative links of a Markdown file that reach no file, or no heading of the Markdown
    file they name (by GitHub's anchors, as the file is read there), each with the reason."""
    broken = []
    for target in links(path):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...: not ours to check
            continue
        file, _, anchor = target.partition("#")
        reached = (path.parent / file).resolve() if file else path
        if not reached.exists():
            broken.append(f"{target}: no file {reached}")
        elif anchor and reached.suffix == ".md" and anchor not in map(github_slug, headings(reached)):
            broken.append(f"{target}: no heading of {reached.name} has the anchor #{anchor}")
    return broken


def test_every_relative_link_of_the_readme_reaches_a_file_and_a_heading():
    assert broken_links(ROOT / "README.md") == []
    assert any(t.startswith("docs/") for t in links(ROOT / "README.md"))  # it links on to the docs


def test_the_link_check_finds_a_missing_file_and_a_missing_anchor(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("# A page\n\n## The `dedup run` options\n")
    readme = tmp_path / "README.md"
    readme.write_text(
        "# Top\n\n[ok](docs/page.md#the-dedup-run-options) [ok](#top) [web](https://example.org/x)\n"
        "[gone](docs/other.md) [no anchor](docs/page.md#options) ![img](docs/page.png)\n"
        "```\n[in code](nowhere.md)\n```\n`[span](nowhere.md)`\n"
    )
    assert broken_links(readme) == [
        f"docs/other.md: no file {tmp_path / 'docs' / 'other.md'}",
        "docs/page.md#options: no heading of page.md has the anchor #options",
        f"docs/page.png: no file {tmp_path / 'docs' / 'page.png'}",
    ]


def test_every_heading_has_one_anchor_on_github_and_on_the_site():
    """A link to docs/x.md#anchor is followed on GitHub (GitHub's anchors) and on the mkdocs site
    (the toc extension's): a heading whose two anchors differ (`--`, non-ASCII letters) or that
    recurs in its page would work in one place only."""
    slugify = pytest.importorskip(
        "markdown.extensions.toc", reason="mkdocs is not installed (pip install 'newsdedup[docs]')"
    ).slugify
    differ = []
    for page in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        texts = headings(page)
        assert len(set(map(github_slug, texts))) == len(texts), f"{page.name}: a heading recurs"
        differ += [f"{page.name}: {t!r}" for t in texts if github_slug(t) != slugify(t, "-")]
    assert differ == []


def mkdocs_build(project: Path, site: Path) -> subprocess.CompletedProcess:
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (pip install 'newsdedup[docs]')")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=project, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_the_docs_site_builds_with_warnings_as_errors(tmp_path):
    done = mkdocs_build(ROOT, tmp_path / "site")
    assert done.returncode == 0, done.stderr[-3000:]
    pages = {p.stem for p in DOCS.glob("*.md")}
    built = {p.parent.name for p in (tmp_path / "site").glob("*/index.html")}
    assert pages - {"index"} <= built and (tmp_path / "site" / "index.html").exists()


def test_a_broken_link_between_pages_fails_the_build(tmp_path):
    shutil.copytree(DOCS, tmp_path / "docs")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path)
    with (tmp_path / "docs" / "index.md").open("a") as page:
        page.write("\nSee [the options](cli.md#no-such-heading) and [more](no-such-page.md).\n")
    done = mkdocs_build(tmp_path, tmp_path / "site")
    assert done.returncode != 0
    assert "#no-such-heading" in done.stderr and "no-such-page.md" in done.stderr


def quick_start(path: Path) -> tuple[list[str], list[str]]:
    """The `dedup run` of a page's quick start (its arguments after `dedup`) and the block of what
    it prints: the first fenced block without a language after the commands."""
    section = path.read_text(encoding="utf-8").split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    commands, rest = section.split("```sh\n", 1)[1].split("\n```\n", 1)
    run = next(line for line in commands.splitlines() if "dedup run " in line)
    printed = re.search(r"^```\n(.*?)^```$", rest, re.S | re.M)
    assert printed, f"{path.name}: no printed block after the quick start's commands"
    return run[run.index("dedup run ") + len("dedup ") :].split(), printed.group(1).splitlines()


def normalised(lines: list[str], folder: Path) -> list[str]:
    """Lines with the durations, which differ from run to run, as <time>, and the run's folder
    left out of any path, so that `out/` reads as in the README."""
    return [
        re.sub(r"\b\d+(?:\.\d+)?\s?(?:ms|s|min|h)\b", "<time>", line.replace(f"{folder}/", ""))
        for line in lines
    ]


@pytest.mark.parametrize("page", QUICK_STARTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_quick_start_prints_what_the_page_shows(page, tmp_path):
    """The command as the page gives it (`dedup run seeds/ --out out/`), run in a folder holding a
    copy of seeds/, and what it prints compared line by line with the page's block."""
    args, shown = quick_start(page)
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    package_root = str(Path(dedup.__file__).resolve().parent.parent)  # the dedup under test
    path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "dedup", *args],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": path}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    printed = (done.stdout + done.stderr).splitlines()
    assert normalised(printed, tmp_path) == normalised(shown, tmp_path), (
        f"{page.name}'s quick-start block is not what `dedup {' '.join(args)}` prints; it prints:\n"
        + "\n".join(printed)
    )
    assert (tmp_path / "out" / "summary.json").exists()
