"""`dedup index add | query | stats`: the index from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import one_line_error

from dedup import cli

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def dedup(*args: str) -> object:
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


@pytest.fixture
def index(location: str, tmp_path: Path) -> str:
    """An index holding the seeds: an SQLite file, or keys on a Redis server."""
    path = location
    added = tmp_path / "added.jsonl"
    result = dedup("index", "add", path, str(SEEDS), "--out", str(added), "-q")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in added.read_text().splitlines()]
    assert [r["id"][:3] for r in rows] == ["000", "001", "002", "003", "004"]
    assert [m["id"][:3] for m in rows[4]["matches"]] == ["000"]
    return path


def test_add_then_query_prints_each_articles_matches(index, tmp_path):
    result = dedup("index", "query", str(index), str(SEEDS / "004_89cc63446ebde389.txt"), "-q")
    assert result.exit_code == 0
    (row,) = [json.loads(line) for line in result.output.splitlines()]
    assert [m["id"][:3] for m in row["matches"]] == ["004", "000"]
    assert set(row["matches"][1]) == {
        *("id", "jaccard", "cosine", "match", "order", "numbers", "score"),
        *("kind", "lang", "margin"),  # (a duplicate here: an index without cross_lingual has no other)
    }
    assert row["matches"][1]["kind"] == "duplicate"


def test_stats_tells_what_the_index_holds(index):
    result = dedup("index", "stats", str(index))
    stats = json.loads(result.output)
    assert stats["articles"] == 5 and stats["params"]["num_perm"] == 128 and stats["bytes"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["index", "add", "{index}", str(SEEDS)], "is already in the index"),
        (["index", "add", "{index}", str(SEEDS), "--num-perm", "64"], "the index was made with num_perm=128"),
        (["index", "query", "{missing}", str(SEEDS)], "no such index"),
        (["index", "stats", "{junk}"], "not a dedup index"),
    ],
)
def test_bad_indexes_get_one_clear_line(index, tmp_path, args, message):
    junk = tmp_path / "junk.db"
    junk.write_text("not a database")
    paths = {"index": str(index), "missing": str(tmp_path / "none.db"), "junk": str(junk)}
    result = dedup(*[a.format(**paths) for a in args])
    assert result.exit_code == 1
    (line,) = [x for x in result.output.splitlines() if x]
    assert line.startswith("Error: ") and message in line


def test_verification_options_may_change_between_runs(index):
    loose = dedup("index", "query", str(index), str(SEEDS), "--threshold", "0.2", "-q")
    strict = dedup("index", "query", str(index), str(SEEDS), "--threshold", "0.9", "-q")
    count = [sum(len(json.loads(x)["matches"]) for x in r.output.splitlines()) for r in (loose, strict)]
    assert count[0] > count[1] == 5  # with 0.9, each article matches only itself


def test_a_redis_prefix_holding_no_index_is_not_made_by_a_query(redis_server):
    url = redis_server.url("nothing-here:")
    for args in (["index", "stats", url], ["index", "query", url, str(SEEDS)]):
        assert f"{url}: no such index" in one_line_error(dedup(*args))
    assert "no such index" in dedup("index", "stats", url).output  # still none


def test_check_and_remove(index):
    assert dedup("index", "check", index).exit_code == 0
    result = dedup("index", "remove", index, "004_89cc63446ebde389", "nope")
    assert result.exit_code == 1 and "removed 1;" in result.output and "not held: nope" in result.output
    assert json.loads(dedup("index", "stats", index).output)["articles"] == 4
    assert "ok, 4 articles" in dedup("index", "check", index).output
