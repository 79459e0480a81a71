"""The Redis store: the same verdicts as the SQLite file, its own keys, clear errors, and what a
server crash keeps. (The behaviour both stores share is tested in test_index.py, on both.)"""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import RedisServer, start_writer

from dedup.index.index import FORMAT_VERSION, Index, IndexFileError
from dedup.runtime.extras import MissingExtraError

redis = pytest.importorskip(
    "redis", reason="the redis package is not installed (pip install 'newsdedup[redis]')"
)

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture
def url(redis_server) -> str:
    return redis_server.url(f"t{uuid.uuid4().hex[:12]}:")


@pytest.fixture
def client(redis_server):
    with redis.Redis(port=redis_server.port) as c:
        yield c


def test_redis_and_sqlite_give_the_same_matches(url, tmp_path, dev_english):
    articles = [(a["id"], a["text"]) for a in dev_english[:300]]
    with Index.open(url) as r, Index.open(tmp_path / "news.db") as s:
        from_redis = r.add_many(articles[:200], batch=37) + [r.add(i, t) for i, t in articles[200:]]
        from_sqlite = s.add_many(articles)
        assert sum(map(len, from_sqlite)) > 100  # the sample has duplicates to find
        assert from_redis == from_sqlite
        queries = [t for _, t in articles[::7]]
        assert r.query_many(queries) == s.query_many(queries)
        assert len(r) == len(s) == 300
        r.check()


def test_prefixes_keep_indexes_apart_in_one_database(redis_server):
    news, wires = redis_server.url("news:"), redis_server.url("wires:")
    text = sorted(SEEDS.glob("*.txt"))[0].read_text()
    with Index.open(news) as a, Index.open(wires, num_perm=64) as b:
        a.add("x", text)
        assert len(a) == 1 and len(b) == 0 and b.query(text) == []
        assert b.params.num_perm == 64 and a.params.num_perm == 128
        assert a.stats()["store"] == "redis" and a.stats()["bytes"] > 0


def test_the_server_records_the_format_and_parameters(url, client):
    Index.open(url, threshold=0.4).close()
    prefix = url.split("prefix=")[1]
    meta = {k.decode(): v.decode() for k, v in client.hgetall(prefix + "meta").items()}
    assert meta["application"] == "dedup index" and meta["format_version"] == str(FORMAT_VERSION)
    assert json.loads(meta["params"])["num_perm"] == 128


def test_a_newer_or_foreign_index_or_no_server_is_a_clear_error(url, client, redis_server, monkeypatch):
    import dedup.index.redis

    monkeypatch.setattr(dedup.index.redis, "RETRIES", 1)  # (the retries have tests of their own)
    prefix = url.split("prefix=")[1]
    Index.open(url).close()
    client.hset(prefix + "meta", "format_version", str(FORMAT_VERSION + 1))
    with pytest.raises(IndexFileError, match=rf"prefix={prefix}: index format {FORMAT_VERSION + 1} is newer"):
        Index.open(url)

    client.set("other:meta", "a string someone else keeps")
    with pytest.raises(IndexFileError, match="other:meta is not a dedup index"):
        Index.open(redis_server.url("other:"))
    client.hset("else:meta", mapping={"owner": "another program"})
    with pytest.raises(IndexFileError, match="else:meta holds something that is not a dedup index"):
        Index.open(redis_server.url("else:"))

    with pytest.raises(IndexFileError, match=r"redis://127.0.0.1:1/0: cannot use this Redis server"):
        Index.open("redis://127.0.0.1:1/0")
    with pytest.raises(IndexFileError, match=r"redis://u:\*\*\*@127.0.0.1:1/0: cannot use"):
        Index.open("redis://u:secret@127.0.0.1:1/0")  # the password is not shown


def test_without_the_redis_package_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(
        MissingExtraError, match=r"a Redis index needs the redis extra: pip install 'newsdedup\[redis\]'"
    ):
        Index.open("redis://localhost:6379/0")


def test_a_server_killed_mid_stream_keeps_every_acknowledged_article(tmp_path):

    server = RedisServer(tmp_path)  # its own server: appendonly yes, appendfsync always
    server.start()
    url = server.url("crash:")
    texts = [p.read_text() for p in sorted(SEEDS.glob("*.txt"))]
    child = start_writer(url, texts)
    assert child.stdout is not None
    acknowledged = [child.stdout.readline().strip() for _ in range(30)]
    server.kill()  # the server dies under the writer
    acknowledged += [line.strip() for line in child.stdout]
    assert child.wait(60) != 0  # the writer sees the failure: it does not carry on silently
    server.start()  # the same folder: the append-only file is replayed
    try:
        with Index.open(url) as idx:
            idx.check()
            assert all(article_id in idx for article_id in acknowledged if article_id)
            assert len(idx) >= len([a for a in acknowledged if a])
    finally:
        server.kill()


def test_check_finds_an_index_tampered_with(url, client):
    with Index.open(url) as idx:
        idx.add_many([(p.name[:3], p.read_text()) for p in sorted(SEEDS.glob("*.txt"))])
        idx.check()
        prefix = url.split("prefix=")[1]
        client.hdel(prefix + "art", "2")  # a record lost
        with pytest.raises(IndexFileError, match=r"inconsistent: counts 5 articles, 5 ids, 4 records"):
            idx.check()


def test_a_password_in_the_url_is_never_printed_or_written(tmp_path):
    """Both forms (``redis://:pw@host`` and ``?password=pw``): masked in every summary, error line,
    summary.json and stats."""
    from click.testing import CliRunner

    from dedup import cli

    seeds = Path(__file__).resolve().parent.parent / "seeds"
    rows = [{"id": p.stem, "text": p.read_text(encoding="utf-8")} for p in sorted(seeds.glob("*.txt"))]
    seeds_jsonl = str(tmp_path / "seeds.jsonl")
    Path(seeds_jsonl).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    secret = "s3cret-pw"
    server = RedisServer(tmp_path, "--requirepass", secret)
    server.start()
    try:
        forms = [
            f"redis://:{secret}@127.0.0.1:{server.port}/0?prefix=a:",
            f"redis://127.0.0.1:{server.port}/0?prefix=b:&password={secret}",
        ]
        runner = CliRunner()
        for location in forms:
            shown = []
            for args in (
                ["run", seeds_jsonl, "-o", str(tmp_path / "out"), "--index", location],  # (adds them)
                ["index", "add", location, seeds_jsonl],  # (held ids: an error line)
                ["index", "stats", location],
                ["index", "check", location],
                ["index", "remove", location, "nope"],
            ):
                result = runner.invoke(cli.main, args)
                shown.append(result.output + result.stderr)
            shown.append((tmp_path / "out" / "summary.json").read_text())
            assert not [text for text in shown if secret in text]
            assert any("***" in text for text in shown)
        wrong = f"redis://:wrong@127.0.0.1:{server.port}/0"
        result = runner.invoke(cli.main, ["index", "stats", wrong])
        assert result.exit_code == 1 and "wrong" not in result.stderr and "***" in result.stderr
    finally:
        server.kill()


def test_a_server_restarted_under_an_add_does_not_end_it(tmp_path):
    """The server goes away mid-add and comes back: the add retries and finishes, every article
    stored once."""
    server = RedisServer(tmp_path)
    server.start()
    url = server.url("restart:")
    texts = [p.read_text() for p in sorted(SEEDS.glob("*.txt"))]
    child = start_writer(url, texts, count=400)
    assert child.stdout is not None
    try:
        acknowledged = [child.stdout.readline().strip() for _ in range(30)]
        server.kill()
        time.sleep(1.0)
        server.start()  # (the same port and folder: the append-only file is replayed)
        acknowledged += [line.strip() for line in child.stdout]
        assert child.wait(120) == 0
        assert acknowledged == [f"a{k}" for k in range(400)]
        with Index.open(url) as idx:
            idx.check()
            assert len(idx) == 400
    finally:
        if child.poll() is None:
            child.kill()
        server.kill()


def test_a_server_gone_for_good_is_one_line_after_the_retries(tmp_path, seeds_dir=SEEDS):
    from click.testing import CliRunner

    from dedup import cli

    server = RedisServer(tmp_path)
    server.start()
    url = server.url("gone:")
    with Index.open(url) as idx:
        idx.add("first", (seeds_dir / "000_1bdcf60ae9970c12.txt").read_text())
    server.kill()
    t0 = time.monotonic()
    result = CliRunner().invoke(cli.main, ["index", "add", url, str(seeds_dir)])
    assert result.exit_code == 1 and time.monotonic() - t0 < 60
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: {url}: ") and "Traceback" not in line, line


def test_a_damaged_record_is_one_line_and_check_reads_every_record(url, client):
    from click.testing import CliRunner

    from dedup import cli

    with Index.open(url) as idx:
        idx.add_many([(p.name[:3], p.read_text()) for p in sorted(SEEDS.glob("*.txt"))])
    prefix = url.split("prefix=")[1]
    client.hset(prefix + "art", "2", b"\x01\x02\x03")  # (a record cut short)
    result = CliRunner().invoke(cli.main, ["index", "check", url])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: {url}: inconsistent: a record (3 bytes) is cut short or not a record"
    ]
    result = CliRunner().invoke(cli.main, ["index", "query", url, str(SEEDS)])
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: {url}: damaged: a record (3 bytes) is cut short"), line


def test_an_add_that_outlasts_the_writers_lock_stands(url, monkeypatch):
    """The writers' lock expires after LOCK_SECONDS (so that a dead writer's lock does not stop
    the others for ever); an add that took longer finds it expired at the end. What it committed
    stands (WATCH kept it whole): that is no error."""
    import dedup.index.redis

    monkeypatch.setattr(dedup.index.redis, "LOCK_SECONDS", 0.001)
    texts = [p.read_text() for p in sorted(SEEDS.glob("*.txt"))]
    with Index.open(url) as idx:
        found = idx.add_many([(str(k), text) for k, text in enumerate(texts)])
        assert len(idx) == 5 and [m.id for m in found[4]] == ["0"]
        idx.check()
