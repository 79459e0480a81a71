"""A damaged index, or a file that is not one: every command says so in one line naming it; no
traceback, and nothing written to a file before it is known to be a dedup index."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup import cli
from dedup.index.index import Index, IndexFileError

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
STORY = "A harbour crane collapsed on Tuesday, and the port will stay closed while engineers look at it."


@pytest.fixture
def seeds_jsonl(tmp_path) -> Path:
    rows = [{"id": p.stem, "text": p.read_text(encoding="utf-8")} for p in sorted(SEEDS.glob("*.txt"))]
    path = tmp_path / "seeds.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def fresh_jsonl(tmp_path) -> Path:
    """Articles the index does not hold."""
    path = tmp_path / "fresh.jsonl"
    rows = [
        {"id": f"new{k}", "text": f"{STORY} A new report, number {k}, on what the engineers found."}
        for k in range(3)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def db(tmp_path, seeds_jsonl) -> Path:
    """An index of the seeds and 300 more articles (several pages), closed (its log folded in)."""
    path = tmp_path / "core.db"
    with Index.open(str(path)) as idx:
        idx.add_many((p.stem, p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt")))
        idx.add_many(
            (f"x{k}", f"{STORY} Report number {k} of {k * 7} pages, filed on day {k}.") for k in range(300)
        )
    assert not Path(f"{path}-wal").exists() or os.path.getsize(f"{path}-wal") == 0
    return path


def _sql(path: Path, statement: str) -> None:
    con = sqlite3.connect(path)
    con.execute(statement)
    con.commit()
    con.close()


def _scramble(path: Path) -> None:
    """Overwrite pages in the middle of the file with noise, as a bad disk or a stray write does."""
    data = bytearray(path.read_bytes())
    page = 4096
    for at in range(2 * page, len(data) - page, 5 * page):
        data[at + 100 : at + 900] = os.urandom(800)
    path.write_bytes(bytes(data))


DAMAGE = {
    "scrambled pages": (_scramble, None),
    "parameters not JSON": (lambda p: _sql(p, "UPDATE meta SET value = '{oops' WHERE key = 'params'"),
                            "its parameters are not JSON"),
    "parameters missing": (lambda p: _sql(p, "DELETE FROM meta WHERE key = 'params'"),
                           "its parameters are missing"),
    "count not a number": (lambda p: _sql(p, "UPDATE meta SET value = 'many' WHERE key = 'articles'"),
                           "its article count is 'many', not a number"),
    "record cut short": (lambda p: _sql(p, "UPDATE articles SET terms = substr(terms, 1, 5) WHERE id = 'x7'"),
                         "the record of 'x7' is cut short"),
}  # fmt: skip


def _commands(db: Path, fresh: Path, out: Path) -> list[list[str]]:
    return [
        ["index", "check", str(db)],
        ["index", "stats", str(db)],
        ["index", "query", str(db), str(fresh)],
        ["run", str(fresh), "-o", str(out), "--index", str(db), "--no-add"],
        ["index", "add", str(db), str(fresh)],
        ["index", "remove", str(db), "x7"],
    ]


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_every_command_meets_a_damaged_index_with_one_line(db, fresh_jsonl, tmp_path, damage):
    harm, reason = DAMAGE[damage]
    harm(db)
    runner = CliRunner()
    for args in _commands(db, fresh_jsonl, tmp_path / "out"):
        result = runner.invoke(cli.main, args)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
        if args[:2] == ["index", "check"]:  # (check reads everything: it must find any damage)
            assert result.exit_code == 1, (args, result.stderr)
        if result.exit_code != 0:
            [line] = result.stderr.strip().splitlines()
            assert line.startswith(f"Error: {db}"), (args, line)
            if reason is not None and args[:2] == ["index", "check"]:
                assert reason in line, line


def test_check_reads_every_record(db):
    with Index.open(str(db), create=False) as idx:
        idx.check()  # (whole: ok)
    _sql(db, "UPDATE articles SET counts = substr(counts, 1, 6) WHERE id = 'x299'")
    with Index.open(str(db), create=False) as idx, pytest.raises(IndexFileError, match="'x299' is cut short"):
        idx.check()


def test_another_applications_sqlite_file_is_refused_and_left_as_it_was(tmp_path):
    path = tmp_path / "app.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE notes (body TEXT)")
    con.execute("INSERT INTO notes VALUES ('mine')")
    con.commit()
    con.close()
    before = path.read_bytes()
    for args in (
        ["index", "stats", str(path)],
        ["index", "add", str(path), str(SEEDS / "000_1bdcf60ae9970c12.txt")],
    ):
        result = CliRunner().invoke(cli.main, args)
        assert result.exit_code == 1
        assert result.stderr.strip() == f"Error: {path}: an SQLite file, but not a dedup index"
    assert path.read_bytes() == before  # (not even switched to WAL)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]


def test_an_add_stopped_by_a_held_id_writes_the_matches_of_what_it_added(tmp_path, seeds_jsonl):
    """200 articles added and committed, then a held id: their matches still reach --out."""
    db, dump, out = tmp_path / "core.db", tmp_path / "more.jsonl", tmp_path / "matches.jsonl"
    runner = CliRunner()
    assert runner.invoke(cli.main, ["index", "add", str(db), str(seeds_jsonl), "-q"]).exit_code == 0
    rows = [{"id": f"n{k}", "text": f"{STORY} Note {k}, about the cranes of berth {k}."} for k in range(250)]
    rows.insert(230, {"id": "000_1bdcf60ae9970c12", "text": "Held already."})
    dump.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = runner.invoke(cli.main, ["index", "add", str(db), str(dump), "-o", str(out), "-q"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: {dump}:231: '000_1bdcf60ae9970c12' is already in the index "
        f"(the articles before it were added, their 200 matches written to {out}; "
        "--on-held skip goes on past the articles held already)"
    )
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [f"n{k}" for k in range(200)]
    with Index.open(str(db), create=False) as idx:
        assert len(idx) == 205


def _read_only_mount(source: Path, target: Path) -> bool:
    """Bind ``source`` read-only at ``target`` (a read-only file system); False if not allowed."""
    import subprocess

    target.mkdir()
    done = subprocess.run(["mount", "--bind", "-o", "ro", str(source), str(target)], capture_output=True)
    if done.returncode != 0:
        return False
    subprocess.run(["mount", "-o", "remount,ro,bind", str(target)], capture_output=True)
    return not os.access(target, os.W_OK)


def test_a_read_only_index_can_be_queried_checked_and_counted_but_not_added_to(db, fresh_jsonl, tmp_path):
    import subprocess

    data, mounted = tmp_path / "data", tmp_path / "ro"
    data.mkdir()
    os.replace(db, data / db.name)
    if not _read_only_mount(data, mounted):
        pytest.skip("platform: cannot mount a read-only file system here (needs root: mount --bind -o ro)")
    try:
        index = str(mounted / db.name)
        runner = CliRunner()
        for args in (
            ["index", "stats", index],
            ["index", "check", index],
            ["index", "query", index, str(fresh_jsonl)],
        ):
            result = runner.invoke(cli.main, args)
            assert result.exit_code == 0, (args, result.stderr)
        result = runner.invoke(cli.main, ["index", "add", index, str(fresh_jsonl)])
        assert result.exit_code == 1
        reason = "the index is read-only here (its file or folder is)"
        assert result.stderr.strip() == f"Error: {index}: cannot write: {reason} (nothing added)"
    finally:
        subprocess.run(["umount", "-l", str(mounted)], capture_output=True)
