"""Ingestion that can be retried (issue 19): an article whose id the index holds already is an
error, skipped or replaced (``on_held``, ``--on-held``), and a job killed half-way finishes when
run again over all of its input with ``--on-held skip``, to the index one clean run makes. Both
stores: what ``replace`` forgets leaves no row, bucket entry or count behind."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import one_line_error

from dedup import Index, cli, find_duplicates
from dedup.index.index import HeldIdError, Loaded


def dedup(*args: str):
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


def another(location: str, name: str) -> str:
    """A second index of the same store as ``location``: a file beside it, or other keys."""
    if location.startswith("redis://"):
        return location.replace("prefix=", f"prefix={name}-")
    return str(Path(location).with_name(f"{name}.db"))


def contents(location: str) -> dict[str, object]:
    """Everything an index holds, by article id (sequence numbers aside): each article's record,
    the ids in each LSH bucket, the document frequencies, the count; a row or bucket entry that
    names no article shows as ``"stale"``."""
    if not location.startswith("redis://"):
        db = sqlite3.connect(location)
        records = {
            r[0]: r[1:]
            for r in db.execute("SELECT id, signature, terms, counts, sizes, numbers FROM articles")
        }
        buckets: dict[tuple, list[str]] = {}
        for band, key, held in db.execute(
            "SELECT band, key, coalesce(id, 'stale') FROM bands LEFT JOIN articles USING (seq)"
        ):
            buckets.setdefault((band, key), []).append(held)
        df = dict(db.execute("SELECT term, n FROM df"))
        count = int(db.execute("SELECT value FROM meta WHERE key = 'articles'").fetchone()[0])
        db.close()
    else:
        import redis

        parts = urlsplit(location)
        prefix = dict(parse_qsl(parts.query))["prefix"]
        with redis.Redis(host=parts.hostname, port=parts.port) as client:
            seqs = {k.decode(): int(v) for k, v in client.hgetall(prefix + "ids").items()}
            blobs = {int(k): v for k, v in client.hgetall(prefix + "art").items()}
            named = {s: i for i, s in seqs.items()}
            records = {i: blobs.get(s, "stale") for i, s in seqs.items()}
            if any(s not in named for s in blobs):
                records["stale"] = sorted(s for s in blobs if s not in named)  # (records no id names)
            buckets = {}
            for name in client.scan_iter(match=prefix + "b:*"):
                for field, value in client.hgetall(name).items():
                    ids = [named.get(s, "stale") for s in np.frombuffer(value, dtype="<i8").tolist()]
                    buckets[(name.decode().removeprefix(prefix), field)] = ids
            df = {k: int(v) for k, v in client.hgetall(prefix + "df").items()}
            count = int(client.get(prefix + "articles") or 0)
    return {
        "records": records,
        "buckets": {k: sorted(v) for k, v in buckets.items()},
        "df": df,
        "count": count,
    }


# -- the API ----------------------------------------------------------------------------------


def test_skip_leaves_the_held_article_and_says_which_were_skipped(location, seeds):
    with Index.open(location) as idx:
        idx.add_many([("000", seeds["000"]), ("001", seeds["001"])])
        before = contents(location)
        found = idx.add_many([("001", seeds["002"]), ("004", seeds["004"])], on_held="skip")
        assert found[0] is None  # skipped: neither matched nor stored
        assert [m.id for m in found[1]] == ["000"]
        assert idx.add("000", seeds["003"], on_held="skip") is None
        assert len(idx) == 3
        assert contents(location)["records"]["001"] == before["records"]["001"]  # (its first text)
        loaded = idx.load(
            [("002", seeds["002"]), ("004", "another text"), ("003", seeds["003"])], on_held="skip"
        )
        assert loaded == Loaded(added=2, replaced=0, skipped=1) and len(idx) == 5
        idx.check()


def test_an_error_stores_nothing_of_its_batch(location, seeds):
    with Index.open(location) as idx:
        idx.add("001", seeds["001"])
        with pytest.raises(HeldIdError, match="'001' is already in the index"):
            idx.add_many([("000", seeds["000"]), ("001", seeds["002"])])
        with pytest.raises(HeldIdError):
            idx.load([("002", seeds["002"]), ("002", seeds["003"])])  # (held by its own batch)
        assert len(idx) == 1
        with pytest.raises(
            ValueError, match="on_held must be one of 'error', 'skip', 'replace'; got 'ignore'"
        ):
            idx.add("003", seeds["003"], on_held="ignore")


def test_replace_leaves_what_an_index_given_the_new_texts_once_holds(location, seeds):
    """An index given every seed, then each id again with another seed's text (``replace``),
    holds what an index given only the second texts holds: no stale record, bucket entry or
    document frequency of the first texts remains."""
    keys = sorted(seeds)
    first = [(k, seeds[k]) for k in keys]
    second = [(k, seeds[keys[(n + 2) % 5]] + " Corrected.") for n, k in enumerate(keys)]
    fresh = another(location, "fresh")
    with Index.open(location) as idx, Index.open(fresh) as clean:
        idx.add_many(first)
        idx.add_many(second, on_held="replace")
        clean.add_many(second)
        assert idx.query_many([t for _, t in first]) == clean.query_many([t for _, t in first])
        idx.check()
    assert contents(location) == contents(fresh)


def test_a_replaced_article_is_matched_without_its_old_text(location, seeds):
    with Index.open(location) as idx:
        idx.add_many([("000", seeds["000"]), ("002", seeds["002"])])
        assert [m.id for m in idx.add("000", seeds["000"] + " Corrected.", on_held="replace")] == []
        assert [m.id for m in idx.add("001", seeds["002"] + " Corrected.", on_held="replace")] == ["002"]
        assert len(idx) == 3


def test_an_id_given_twice_in_one_batch_is_replaced_twice_or_skipped(location, seeds):
    """Within a batch, each article sees what the ones before it left (the Redis store applies
    the batch in one transaction: an id dropped and added again keeps its new record)."""
    fresh, skipped = another(location, "fresh"), another(location, "skip")
    with Index.open(location) as idx, Index.open(fresh) as clean, Index.open(skipped) as skip:
        idx.add("000", seeds["000"])
        loaded = idx.load(
            [("000", seeds["001"]), ("000", seeds["002"]), ("001", seeds["001"])], on_held="replace"
        )
        assert loaded == Loaded(added=1, replaced=2, skipped=0)
        clean.load([("000", seeds["002"]), ("001", seeds["001"])])
        idx.check()
        assert skip.add_many([("003", seeds["003"]), ("003", seeds["004"])], on_held="skip")[1] is None
        assert len(skip) == 1
    assert contents(location) == contents(fresh)


# -- dedup index add, killed half-way and run again ----------------------------------------------


def _dump(path: Path, seeds: dict[str, str], n: int) -> Path:
    """``n`` articles of words drawn from the seeds, every fifth a copy of an earlier one."""
    words = sorted({w for text in seeds.values() for w in text.split()})
    rng = np.random.default_rng(19)
    texts: list[str] = []
    for k in range(n):
        if k % 5 == 4:
            texts.append(f"{texts[k - 3]} Edition {k}.")
        else:
            texts.append(" ".join(rng.choice(words, 80)) + ".")
    rows = [{"id": f"a{k:04d}", "text": text} for k, text in enumerate(texts)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _killed_at(article: int, args: list[str]) -> subprocess.CompletedProcess:
    """``dedup ARGS`` in a process that kills itself (SIGKILL) while it matches the ``article``-th
    article: inside a write transaction (holding the Redis writers' lock, see below)."""
    script = textwrap.dedent(
        f"""
        import os, signal
        from dedup.index.index import Index

        matched, real = [0], Index._matches

        def dying(self, new, reader):
            matched[0] += 1
            if matched[0] == {article}:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self, new, reader)

        Index._matches = dying
        from dedup.cli import main

        main({args!r}, prog_name="dedup")
        """
    )
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)


def test_an_add_killed_half_way_finishes_when_run_again_with_skip(location, seeds, tmp_path):
    dump = _dump(tmp_path / "dump.jsonl", seeds, 300)
    killed = _killed_at(250, ["index", "add", location, str(dump), "-q"])
    assert killed.returncode == -9, killed.stderr
    if location.startswith("redis://"):  # the writers' lock the dead one held: as if it expired
        import redis

        parts = urlsplit(location)
        with redis.Redis(host=parts.hostname, port=parts.port) as client:
            assert client.delete(dict(parse_qsl(parts.query))["prefix"] + "writer") == 1
    with Index.open(location, create=False) as idx:
        assert len(idx) == 200  # two batches of 100 committed; the third died in its transaction
        idx.check()

    again = dedup(
        "index", "add", location, str(dump), "--on-held", "skip", "-o", str(tmp_path / "again.jsonl")
    )
    assert again.exit_code == 0, again.output
    clean = another(location, "clean")
    once = dedup("index", "add", clean, str(dump), "-o", str(tmp_path / "once.jsonl"), "-q")
    assert once.exit_code == 0, once.output
    assert contents(location) == contents(clean)

    # The articles added after the restart met the index one run would have shown them.
    rows = [json.loads(line) for line in (tmp_path / "again.jsonl").read_text().splitlines()]
    clean_rows = [json.loads(line) for line in (tmp_path / "once.jsonl").read_text().splitlines()]
    assert rows[:200] == [{"id": r["id"], "skipped": "held"} for r in clean_rows[:200]]
    assert rows[200:] == clean_rows[200:]
    matched = sum(bool(r["matches"]) for r in rows[200:])
    assert matched >= 15  # (the copies among them)
    assert f"added 100 of 300 articles ({matched} duplicate held ones; 200 skipped as held already); " in (
        again.stderr
    )


def test_add_on_held_from_the_command_line(location, seeds, tmp_path):
    dump = _dump(tmp_path / "dump.jsonl", seeds, 5)
    assert dedup("index", "add", location, str(dump), "-q").exit_code == 0
    refused = dedup("index", "add", location, str(dump))
    assert "--on-held skip goes on past the articles held already" in one_line_error(refused)
    replaced = dedup("index", "add", location, str(dump), "--on-held", "replace")
    assert replaced.exit_code == 0
    assert "added 0 of 5 articles (" in replaced.stderr and "; 5 replaced held ones)" in replaced.stderr
    assert dedup("index", "check", location).exit_code == 0
    assert dedup("index", "add", location, str(dump), "--on-held", "keep").exit_code == 2


# -- dedup run --index, killed while adding and run again ----------------------------------------


def _run(tuesday: Path, location: str, out: Path, *more: str) -> list[str]:
    return ["run", str(tuesday), "--index", location, "-o", str(out), "-q", *more]


def test_a_run_killed_while_adding_finishes_when_run_again_with_skip(location, dumps, tmp_path):
    """``dedup run --index`` died after adding two of Tuesday's three articles (its folder not
    written); run again with ``--on-held skip`` it finds what one run finds, and the index holds
    what one run leaves."""
    monday, tuesday = dumps
    clean = another(location, "clean")
    for k, where in enumerate((location, clean)):
        assert (
            dedup("run", str(monday), "--index", where, "-o", str(tmp_path / f"mon{k}"), "-q").exit_code == 0
        )
    script = textwrap.dedent(
        f"""
        import os, signal
        from dedup.index.index import Index

        batches, real = [0], Index.add_batch

        def dying(self, chunk, on_held="error", *, match=True):
            batches[0] += 1
            if batches[0] == 3:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self, chunk, on_held, match=match)

        Index.add_batch = dying
        real_load = Index.load
        Index.load = lambda self, articles, *, batch=1000, on_held="error": real_load(
            self, articles, batch=1, on_held=on_held
        )
        from dedup.cli import main

        main({_run(tuesday, location, tmp_path / "killed")!r}, prog_name="dedup")
        """
    )
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr
    assert not (tmp_path / "killed").exists() or not any((tmp_path / "killed").iterdir())
    with Index.open(location, create=False) as idx:
        assert len(idx) == 4 and "002" in idx and "003" in idx and "004" not in idx

    refused = dedup(*_run(tuesday, location, tmp_path / "refused"))
    assert "--on-held skip or replace lets it through" in one_line_error(refused)
    again = dedup(*_run(tuesday, location, tmp_path / "again", "--on-held", "skip"))
    once = dedup(*_run(tuesday, clean, tmp_path / "once"))
    assert again.exit_code == 0 and once.exit_code == 0, again.output + once.output
    for name in ("clusters.jsonl",):
        assert (tmp_path / "again" / name).read_text() == (tmp_path / "once" / name).read_text()
    kept = {p.name for p in (tmp_path / "once" / "deduplicated").iterdir()}
    assert {p.name for p in (tmp_path / "again" / "deduplicated").iterdir()} == kept == {"002.txt", "003.txt"}
    pairs = [
        [json.loads(x) for x in (tmp_path / r / "pairs.jsonl").read_text().splitlines()]
        for r in ("again", "once")
    ]
    assert [(p["a"], p["b"]) for p in pairs[0]] == [(p["a"], p["b"]) for p in pairs[1]] == [("000", "004")]
    # (its score differs a little: the IDF counts the two articles the first attempt added)
    assert pairs[0][0]["score"] == pytest.approx(pairs[1][0]["score"], abs=0.05)
    summaries = [json.loads((tmp_path / r / "summary.json").read_text())["index"] for r in ("again", "once")]
    assert summaries[0]["held_in_run"] == 2 and summaries[0]["skipped"] == 2 and summaries[0]["added"] == 1
    assert summaries[1]["held_in_run"] == 0 and summaries[1]["added"] == 3
    assert summaries[0]["held_after"] == summaries[1]["held_after"] == 5
    assert contents(location) == contents(clean)


def test_a_run_replaces_held_articles_and_the_api_counts_them(location, seeds):
    first = find_duplicates([("000", seeds["000"]), ("001", seeds["001"])], index=location)
    assert first.summary["index"]["added"] == 2
    again = find_duplicates([("001", seeds["001"]), ("004", seeds["004"])], index=location, on_held="replace")
    (cluster,) = again.clusters
    assert cluster.members == ["000", "004"] and cluster.held == ["000"]  # (not 001 with itself)
    index = again.summary["index"]
    assert (index["held_in_run"], index["added"], index["replaced"], index["skipped"]) == (1, 1, 1, 0)
    assert index["articles_matching_held"] == 1 and index["held_after"] == 3
    with pytest.raises(ValueError, match="on_held must be one of"):
        find_duplicates([("x", seeds["002"])], index=location, on_held="overwrite")


def test_on_held_goes_with_index(dumps, tmp_path):
    monday, _ = dumps
    result = dedup("run", str(monday), "-o", str(tmp_path / "out"), "--on-held", "skip")
    assert "--on-held goes with --index" in one_line_error(result, 2)
