"""The persistent index (``dedup.Index``) on SQLite and on Redis: throughput, latency and size.

For each store (``--stores``: ``sqlite``, one file in WAL mode with ``synchronous=FULL``;
``redis``, a ``redis-server`` this script starts) and each size (``--sizes``, articles held),
one index is filled once and grown: filled to the first size, measured, filled on to the next
size, measured again (the larger size does not refill from zero). At each size:

    bulk adds/s       the fill that reached this size, by ``add_many`` (``--batch`` articles a
                      transaction): articles added / seconds, for that stretch only (at 100k:
                      from the previous size's count to 100k)
    bytes             SQLite: the file + its WAL after ``PRAGMA wal_checkpoint(TRUNCATE)`` (from
                      a connection of its own), per article held (and ``stats()["bytes"]`` as
                      found, before the checkpoint). Redis: ``stats()["bytes"]`` (MEMORY USAGE of
                      every key of the index), the server's ``used_memory`` less that of the
                      empty server, and the append-only file (``appendonlydir/``, the files its
                      manifest lists) as found and after a ``BGREWRITEAOF`` (the compacted size,
                      comparable with a checkpointed SQLite file), each per article held
    query             ``--queries`` single-text ``idx.query`` calls, each timed with
                      ``time.perf_counter``: p50 / p99 / mean ms (after 10 untimed ones), and how
                      many found a match; then ``idx.query_many`` over the same texts: queries/s
    add               ``--adds`` new articles added one by one with ``idx.add`` (each its own
                      durable transaction), each timed: adds/s and p50 / p99 ms

Articles: the synthetic corpus of ``make_corpus.py`` of the largest size (``--corpus`` for
another; made once and cached in ``benchmarks/.cache/``; 100,000 articles by default, ~400 words
each, planted families, shuffled) fills the index, in corpus order. The queries and the
one-by-one adds are new articles that no corpus holds, made by ``make_corpus.py``'s own
generator (its ``story`` and ``variant``, with the corpus's seed and subjects; the script first
checks that the generator gives back the corpus's own first articles byte for byte), half of
each kind:

    near-duplicates   a new variant (copy numbers from 100 up; the corpus's stop at 10) of a
                      story the index holds: for the queries, stories held at every size (from
                      the corpus's first ``min(sizes)`` articles), the same 1,000 texts at each
                      size; for the adds at a size, stories held at that size
    unseen stories    stories whose numbers come after the corpus's last, so nothing held is
                      their family (LSH may still propose candidates, which are then verified)

The adds at one size stay in the index: the next fill then adds corpus articles until the
index holds the next size (so at 100k it holds 99,000 corpus articles and the 1,000 added one
by one at 10k). Both stores see exactly the same articles in the same order; a line under the table
says whether their query answers agreed.

Redis: ``redis-server --port <free port> --bind 127.0.0.1 --dir <workdir>/redis --save ''
--appendonly yes --appendfsync always`` (``--appendfsync everysec`` to trade up to a second of
acknowledged adds for speed), started before its index and shut down at the end, on error
too; its version and persistence settings go into the JSON. The server and this client share
the machine's cores. The SQLite file and the Redis directory are in ``--workdir`` (default: a
temporary folder in ``benchmarks/.cache/``, on the corpus's disk, not a tmpfs), removed at the
end. ``--profile N`` runs cProfile, after the last size, over N single queries, N single adds
and an ``add_many`` of N more new articles on each store, and prints (and saves) where their
time goes (cProfile's own overhead included: the totals are above the timed figures). Each
store ends with ``idx.check()``, timed (``check_s`` in the JSON).

    python benchmarks/index.py                           # table, results/index.json
    python benchmarks/index.py --profile 200             # and the profiles at the last size
    python benchmarks/index.py --sizes 10000 --stores sqlite --adds 200 --queries 200
"""

from __future__ import annotations

import contextlib
import cProfile
import gzip
import importlib.metadata
import json
import os
import platform
import pstats
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import make_corpus  # noqa: E402
from _data import save_json  # noqa: E402
from speed import CACHE, corpus  # noqa: E402

from dedup import Index  # noqa: E402

STORES = ("sqlite", "redis")
SEED = 0  # the seed of the cached corpora (speed.corpus)
FIRST_COPY = 100  # copy numbers of the new variants (a corpus story has copies 0-10)
WARMUP = 10  # untimed queries before the timed ones
Article = tuple[str, str]


def _text(paragraphs: list[list[str]]) -> str:
    return "\n\n".join(" ".join(p) for p in paragraphs)  # as make_corpus.make joins them


def _story_of(article_id: str) -> int:
    return int(article_id[1:].split("-")[0])  # "s0001234-2" -> 1234


class NewArticles:
    """Articles no corpus holds, made by make_corpus's generator the way the corpus was made:
    new variants of held stories, and stories numbered past the corpus's last."""

    def __init__(self, rows: list[Article]) -> None:
        self.source = make_corpus.load_source(None)
        self.subjects = max(50, len(rows) // 20)  # make_corpus.make's default for a corpus of n
        self.next_story = max(_story_of(i) for i, _ in rows) + 1
        self.next_copy = FIRST_COPY
        for article_id, text in rows[:5]:  # the generator gives back the corpus's own articles
            s, c = (int(x) for x in article_id[1:].split("-"))
            paragraphs = self._story(s)
            if c:
                paragraphs, _ = make_corpus.variant(
                    self.source, paragraphs, np.random.default_rng([SEED, s, c])
                )
            if _text(paragraphs) != text:
                raise click.ClickException(
                    f"make_corpus.py does not make {article_id} as the cached corpus has it (another "
                    "text source?): remove the cached corpus to make it again"
                )

    def _story(self, s: int) -> list[list[str]]:
        return make_corpus.story(self.source, SEED, s, subjects=self.subjects)

    def variants(self, stories: list[int]) -> list[Article]:
        out = []
        for s in stories:
            c, self.next_copy = self.next_copy, self.next_copy + 1
            paragraphs, _ = make_corpus.variant(
                self.source, self._story(s), np.random.default_rng([SEED, s, c])
            )
            out.append((f"s{s:07d}-{c}", _text(paragraphs)))
        return out

    def unseen(self, n: int) -> list[Article]:
        out = []
        for _ in range(n):
            s, self.next_story = self.next_story, self.next_story + 1
            out.append((f"s{s:07d}-0", _text(self._story(s))))
        return out

    def mix(self, n: int, held: list[Article], rng: np.random.Generator) -> tuple[list[Article], list[str]]:
        """``n`` articles, half new variants of stories among ``held``, half unseen stories, in a
        random order; and the kind of each ("near-dup" or "unseen")."""
        stories = sorted({_story_of(i) for i, _ in held})
        near = self.variants(rng.choice(stories, size=n // 2, replace=False).tolist())
        articles = [*near, *self.unseen(n - n // 2)]
        kinds = ["near-dup"] * len(near) + ["unseen"] * (n - len(near))
        order = rng.permutation(n)
        return [articles[k] for k in order], [kinds[k] for k in order]


def read_corpus(path: Path) -> list[Article]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [(row["id"], row["text"]) for row in map(json.loads, f)]


class RedisServer:
    """A ``redis-server`` of this script's own, on a free local port, stopped on exit."""

    def __init__(self, folder: Path, appendfsync: str) -> None:
        self.folder = folder
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.args = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", ""]
        self.args += ["--appendonly", "yes", "--appendfsync", appendfsync]
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self) -> RedisServer:
        import redis

        self.folder.mkdir(parents=True)
        log = open(self.folder / "server.log", "wb")  # noqa: SIM115 (the server writes to it until stopped)
        self.proc = subprocess.Popen(["redis-server", *self.args], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 20
        while True:
            try:
                self.client.ping()
                break
            except redis.exceptions.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    tail = (self.folder / "server.log").read_text(errors="replace")[-2000:]
                    raise click.ClickException(f"redis-server did not start:\n{tail}") from None
                time.sleep(0.05)
        while self.client.info("persistence")["loading"]:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def settings(self) -> dict[str, Any]:
        info = self.client.info("server")
        names = ("appendonly", "appendfsync", "aof-use-rdb-preamble", "auto-aof-rewrite-percentage")
        names += ("auto-aof-rewrite-min-size", "save", "hash-max-listpack-entries", "maxmemory")
        config = {name: self.client.config_get(name)[name] for name in names}
        return {
            "version": info["redis_version"],
            "mode": info["redis_mode"],
            "args": self.args,
            "config": config,
        }

    def used_memory(self) -> int:
        return int(self.client.info("memory")["used_memory"])

    def aof_bytes(self) -> int:
        """The append-only file: the files its manifest lists (history files awaiting deletion
        left out), manifest included."""
        folder = self.folder / self.client.config_get("appenddirname")["appenddirname"]
        manifest = next(folder.glob("*.manifest"))
        listed = [line.split()[1] for line in manifest.read_text().splitlines() if " type h" not in line]
        return manifest.stat().st_size + sum((folder / name).stat().st_size for name in listed)

    def rewrite_aof(self) -> float:
        """BGREWRITEAOF, waited for; its seconds."""
        t0 = time.perf_counter()
        self.client.bgrewriteaof()
        while True:
            p = self.client.info("persistence")
            if not p["aof_rewrite_in_progress"] and not p["aof_rewrite_scheduled"]:
                break
            time.sleep(0.1)
        if p["aof_last_bgrewrite_status"] != "ok":
            raise click.ClickException(f"BGREWRITEAOF failed: {p}")
        return time.perf_counter() - t0


def _ms(seconds: list[float]) -> dict[str, float]:
    a = np.array(seconds) * 1000
    return {
        "p50_ms": round(float(np.percentile(a, 50)), 3),
        "p99_ms": round(float(np.percentile(a, 99)), 3),
        "mean_ms": round(float(a.mean()), 3),
        "max_ms": round(float(a.max()), 3),
    }


def measure_bytes(idx: Index, store: str, path: Path | None, server: RedisServer | None, empty: int) -> dict:
    n = len(idx)
    found = idx.stats()["bytes"]
    out: dict[str, Any] = {"articles": n, "stats_bytes": found}
    if store == "sqlite":
        assert path is not None
        with contextlib.closing(sqlite3.connect(path)) as db:
            busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        files = [path, path.with_name(path.name + "-wal")]
        disk = sum(f.stat().st_size for f in files if f.exists())
        out.update(checkpoint_busy=bool(busy), disk_bytes=disk, bytes_per_article=round(disk / n, 1))
        out["stats_bytes_per_article"] = round(found / n, 1)
    else:
        assert server is not None
        used = server.used_memory() - empty
        aof = server.aof_bytes()
        out.update(used_memory_delta=used, aof_bytes_found=aof)
        out["aof_rewrite_s"] = round(server.rewrite_aof(), 2)
        out["aof_bytes_rewritten"] = server.aof_bytes()
        out["bytes_per_article"] = round(found / n, 1)  # MEMORY USAGE of the index's keys
        out["used_memory_per_article"] = round(used / n, 1)
        out["aof_found_per_article"] = round(aof / n, 1)
        out["aof_rewritten_per_article"] = round(out["aof_bytes_rewritten"] / n, 1)
    return out


def time_queries(idx: Index, texts: list[str], kinds: list[str]) -> tuple[dict, list[list[str]]]:
    for text in texts[:WARMUP]:
        idx.query(text)
    seconds, answers = [], []
    for text in texts:
        t0 = time.perf_counter()
        matches = idx.query(text)
        seconds.append(time.perf_counter() - t0)
        answers.append([m.id for m in matches])
    hits = {k: sum(bool(a) for a, kk in zip(answers, kinds, strict=True) if kk == k) for k in set(kinds)}
    t0 = time.perf_counter()
    many = idx.query_many(texts)
    many_s = time.perf_counter() - t0
    if [[m.id for m in ms] for ms in many] != answers:
        raise click.ClickException("query_many answered otherwise than query")
    row = {"n": len(texts), **_ms(seconds), "per_s": round(len(texts) / sum(seconds), 1)}
    row["with_match"] = {k: f"{hits[k]}/{kinds.count(k)}" for k in sorted(hits)}
    return {
        "query": row,
        "query_many": {"n": len(texts), "seconds": round(many_s, 3), "per_s": round(len(texts) / many_s, 1)},
    }, answers


def time_adds(idx: Index, articles: list[Article]) -> dict:
    seconds, matched = [], 0
    for article_id, text in articles:
        t0 = time.perf_counter()
        matched += bool(idx.add(article_id, text))
        seconds.append(time.perf_counter() - t0)
    total = sum(seconds)
    return {
        "n": len(articles),
        "seconds": round(total, 3),
        "per_s": round(len(articles) / total, 1),
        **_ms(seconds),
        "with_match": matched,
    }


def _label(key: tuple[str, int, str]) -> str:
    file, line, name = key
    if file == "~":
        return name
    where = "dedup/" + file.rsplit("/dedup/", 1)[1] if "/dedup/" in file else Path(file).name
    return f"{where}:{line}({name})"


PARTS = (  # (what, files under dedup/, function): the cumulative time of that function (its largest entry)
    ("featurise (Featurizer.batch)", ("features.py",), "batch"),
    ("band lookups (candidates)", ("index/sqlite.py", "index/redis.py"), "candidates"),
    ("load held records (load_seqs)", ("index/sqlite.py", "index/redis.py"), "load_seqs"),
    ("document frequencies", ("index/sqlite.py", "index/redis.py"), "document_frequencies"),
    ("scoring (_measure, df lookups included)", ("index/index.py",), "_measure"),
    ("  of which sentence match (floored_match)", ("score/measure.py",), "floored_match"),
    ("MinHash Jaccard estimate", ("sketch/minhash.py",), "estimate_jaccard_pairs"),
    ("insert (rows / pending writes)", ("index/sqlite.py", "index/redis.py"), "insert"),
    ("COMMIT (SQLite; reads' too)", ("index/sqlite.py",), "__exit__"),
    ("MULTI/EXEC (Redis commit)", ("index/redis.py",), "commit"),
)
OWN = (  # (what, substring of a built-in's name): their own time, summed
    ("sqlite3 calls, own time", "sqlite3."),
    ("socket send/recv, own time", "_socket.socket"),
)


def summarise_profile(prof: cProfile.Profile, n: int, top: int = 12) -> dict:
    """Per operation (ms): the total, the parts of :data:`PARTS` and :data:`OWN`, the functions
    with the most own time, and dedup's functions by cumulative time."""
    stats = pstats.Stats(prof)
    rows = []
    parts: dict[str, float] = {}
    for key, (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        file, _, name = key
        for what, files, function in PARTS:
            if name == function and "/dedup/" in file and file.rsplit("/dedup/", 1)[1] in files:
                parts[what] = max(parts.get(what, 0.0), cumulative)  # an override calls super()
        for what, part in OWN:
            if file == "~" and part in name:
                parts[what] = parts.get(what, 0.0) + own
        rows.append(
            {
                "function": _label(key),
                "calls_per_op": round(calls / n, 1),
                "own_ms": round(own / n * 1000, 3),
                "cum_ms": round(cumulative / n * 1000, 3),
                "dedup": "/dedup/" in file,
            }
        )
    total = stats.total_tt / n * 1000  # type: ignore[attr-defined]
    by_own = sorted(rows, key=lambda r: -r["own_ms"])[:top]
    by_cum = sorted((r for r in rows if r["dedup"]), key=lambda r: -r["cum_ms"])[: top + 8]
    strip = [{k: v for k, v in r.items() if k != "dedup"} for r in (*by_own, *by_cum)]
    order = [what for what, *_ in (*PARTS, *OWN)]
    return {
        "n": n,
        "total_ms_per_op": round(total, 3),
        "parts_ms_per_op": {k: round(parts[k] / n * 1000, 3) for k in order if parts.get(k)},
        "by_own_time": strip[:top],
        "dedup_by_cumulative": strip[top:],
    }


def run_profile(idx: Index, texts: list[str], adds: list[Article], bulk: list[Article], batch: int) -> dict:
    """cProfile of single queries, single adds and one ``add_many`` (per article)."""
    runs = {
        "query": [lambda t=t: idx.query(t) for t in texts],
        "add": [lambda a=a: idx.add(*a) for a in adds],
        "add_many": [lambda: idx.add_many(bulk, batch=batch)],
    }
    out = {}
    for what, calls in runs.items():
        prof = cProfile.Profile()
        prof.enable()
        for call in calls:
            call()
        prof.disable()
        out[what] = summarise_profile(prof, len(bulk) if what == "add_many" else len(calls))
    return out


def bench_store(store: str, work: Path, plan: dict, appendfsync: str, batch: int, profile: int) -> dict:
    """Fill, grow and measure one store; its rows (one a size), server settings and profile."""
    corpus_rows, sizes, positions = plan["corpus"], plan["sizes"], plan["positions"]
    out: dict[str, Any] = {"store": store, "rows": []}
    with contextlib.ExitStack() as stack:
        server = None
        empty = 0
        path = None
        if store == "redis":
            server = stack.enter_context(RedisServer(work / "redis", appendfsync))
            out["server"] = server.settings()
            empty = server.used_memory()
            location = server.url
        else:
            path = work / "index.db"
            location = str(path)
        idx = stack.enter_context(Index.open(location))
        at = 0
        for n, pos in zip(sizes, positions, strict=True):
            start = len(idx)
            click.echo(f"{store}: filling {start:,} -> {n:,} ...", err=True)
            t0 = time.perf_counter()
            idx.add_many(corpus_rows[at:pos], batch=batch)
            fill_s = time.perf_counter() - t0
            at = pos
            assert len(idx) == n, (len(idx), n)
            row: dict[str, Any] = {"store": store, "stored": n}
            row["bulk"] = {
                "from": start,
                "to": n,
                "seconds": round(fill_s, 2),
                "per_s": round((n - start) / fill_s, 1),
                "batch": batch,
            }
            click.echo(f"{store}: {n:,} held; bytes, queries, adds ...", err=True)
            row["bytes"] = measure_bytes(idx, store, path, server, empty)
            timed, answers = time_queries(idx, plan["query_texts"], plan["query_kinds"])
            row.update(timed)
            row["answers"] = answers
            row["add"] = time_adds(idx, plan["adds"][n])
            row["held_after"] = len(idx)
            out["rows"].append(row)
        if profile:
            click.echo(f"{store}: profiling {profile} queries, adds, bulk adds at {len(idx):,} ...", err=True)
            held = len(idx)
            found = run_profile(idx, plan["query_texts"][:profile], *plan["profile_adds"], batch)
            out["profile"] = {"held": held, **found}
        t0 = time.perf_counter()
        idx.check()
        out["check_s"] = round(time.perf_counter() - t0, 2)
        out["stats"] = {k: v for k, v in idx.stats().items() if k != "params"}
        out["params"] = idx.params.to_dict()
    return out


def _fmt(value: float | None, spec: str = ",.0f") -> str:
    return "-" if value is None else format(value, spec)


def print_table(rows: list[dict]) -> None:
    head = ("store", "stored", "bulk adds/s", "add/s", "add p50/p99 ms", "query p50/p99 ms", "query_many q/s")
    head += ("B/article", "used_mem B/art", "AOF B/art found/rewritten")
    click.echo("{:7} {:>8} {:>11} {:>6} {:>15} {:>16} {:>14} {:>10} {:>14} {:>26}".format(*head))
    for r in rows:
        b = r["bytes"]
        aof = "-"
        if "aof_found_per_article" in b:
            aof = f"{b['aof_found_per_article']:,.0f} / {b['aof_rewritten_per_article']:,.0f}"
        cells = (
            f"{r['store']:7}",
            f"{r['stored']:>8,}",
            f"{r['bulk']['per_s']:>11,.0f}",
            f"{r['add']['per_s']:>6,.0f}",
            f"{r['add']['p50_ms']:>6.2f} / {r['add']['p99_ms']:<6.2f}",
            f"{r['query']['p50_ms']:>6.2f} / {r['query']['p99_ms']:<7.2f}",
            f"{r['query_many']['per_s']:>14,.0f}",
            f"{b['bytes_per_article']:>10,.0f}",
            f"{_fmt(b.get('used_memory_per_article')):>14}",
            f"{aof:>26}",
        )
        click.echo(" ".join(cells))


def print_profile(store: str, prof: dict, top: int = 6) -> None:
    for what, plural in (("query", "queries"), ("add", "adds"), ("add_many", "articles by add_many")):
        p = prof[what]
        head = f"{store}, {p['n']} {plural} at {prof['held']:,} held (cProfile)"
        click.echo(f"{head}: {p['total_ms_per_op']:.2f} ms each")
        for part, ms in p["parts_ms_per_op"].items():
            click.echo(f"    {ms:7.3f} ms  {100 * ms / p['total_ms_per_op']:3.0f}%  {part}")
        for r in p["by_own_time"][:top]:
            click.echo(f"    {r['own_ms']:7.3f} ms own  {r['calls_per_op']:>7} calls  {r['function']}")


def _filesystem(path: Path) -> str:
    best, kind = "", "?"
    with open("/proc/mounts", encoding="utf-8") as f:
        for line in f:
            _, mount, fstype, *_ = line.split()
            if path.is_relative_to(mount) and len(mount) > len(best):
                best, kind = mount, fstype
    return kind


def _redis_server_version() -> str | None:
    try:
        done = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    found = re.search(r"v=(\S+)", done.stdout)
    return found.group(1) if found else done.stdout.strip()


@contextlib.contextmanager
def _workdir(parent: Path | None) -> Iterator[Path]:
    base = parent or CACHE
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=base, prefix="index-") as work:
        yield Path(work)


def make_plan(sizes: list[int], corpus_size: int | None, adds: int, queries: int, profile: int) -> dict:
    path = corpus(corpus_size or max(sizes))
    click.echo(f"reading {path.name} ...", err=True)
    rows = read_corpus(path)
    # the fill of a size adds corpus articles until the index holds it: the one-by-one adds of
    # the sizes before it are held too
    positions = [n - adds * k for k, n in enumerate(sizes)]
    if any(b - a < 0 for a, b in zip(positions, positions[1:], strict=False)) or positions[-1] > len(rows):
        raise click.BadParameter(
            f"sizes {sizes} with {adds} adds each do not fit a corpus of {len(rows):,}", param_hint="--sizes"
        )
    new = NewArticles(rows)
    query_articles, kinds = new.mix(queries, rows[: positions[0]], np.random.default_rng([SEED, 1]))
    plan: dict[str, Any] = {"corpus": rows, "path": path, "sizes": sizes, "positions": positions}
    plan["query_texts"], plan["query_kinds"] = [t for _, t in query_articles], kinds
    plan["adds"] = {
        n: new.mix(adds, rows[:pos], np.random.default_rng([SEED, 2, n]))[0]
        for n, pos in zip(sizes, positions, strict=True)
    }
    plan["profile_adds"] = [  # one by one, and by add_many
        new.mix(profile, rows[: positions[-1]], np.random.default_rng([SEED, 3, k]))[0] if profile else []
        for k in range(2)
    ]
    return plan


@click.command()
@click.option(
    "--sizes",
    default="10000,100000",
    show_default=True,
    help="Articles held when measured, comma-separated, ascending.",
)
@click.option("--stores", default="sqlite,redis", show_default=True, help="Comma-separated: sqlite, redis.")
@click.option(
    "--adds",
    default=1000,
    show_default=True,
    type=click.IntRange(min=2),
    help="Articles added one by one at each size.",
)
@click.option(
    "--queries",
    default=1000,
    show_default=True,
    type=click.IntRange(min=2),
    help="Single-text queries timed at each size.",
)
@click.option(
    "--batch",
    default=100,
    show_default=True,
    type=click.IntRange(min=1),
    help="add_many's batch in the fill.",
)
@click.option(
    "--appendfsync",
    type=click.Choice(["always", "everysec"]),
    default="always",
    show_default=True,
    help="Redis: fsync the AOF on every write (durable as SQLite's synchronous=FULL) or once a second.",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the SQLite file and the Redis folder go (in a temporary folder made inside it, removed "
    "at the end). [default: benchmarks/.cache]",
)
@click.option(
    "--corpus",
    "corpus_size",
    default=None,
    type=click.IntRange(min=1),
    help="Size of the synthetic corpus that fills the index (made once if not cached). [default: the "
    "largest of --sizes]",
)
@click.option(
    "--profile",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="cProfile this many queries and adds on each store after the last size.",
)
def main(
    sizes: str,
    stores: str,
    adds: int,
    queries: int,
    batch: int,
    appendfsync: str,
    corpus_size: int | None,
    workdir: Path | None,
    profile: int,
) -> None:
    """Print the table and save results/index.json."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server, remove the folder, as on ^C
    run_sizes = sorted(int(s) for s in sizes.split(","))
    run_stores = stores.split(",")
    if unknown := set(run_stores) - set(STORES):
        raise click.BadParameter(f"unknown stores {sorted(unknown)}", param_hint="--stores")
    plan = make_plan(run_sizes, corpus_size, adds, queries, profile)
    results = []
    with _workdir(workdir) as work:
        fs = _filesystem(work.resolve())
        if fs == "tmpfs":
            click.echo(f"warning: {work} is on a tmpfs: fsyncs cost nothing there", err=True)
        for store in run_stores:
            results.append(bench_store(store, work, plan, appendfsync, batch, profile))
    rows = [r for res in results for r in res["rows"]]
    print_table(rows)
    agree = None
    if len(results) == 2:
        agree = all(
            a["answers"] == b["answers"] for a, b in zip(results[0]["rows"], results[1]["rows"], strict=True)
        )
        click.echo(f"query answers of the two stores agree at every size: {'yes' if agree else 'NO'}")
    for r in rows:
        q = r["query"]["with_match"]
        click.echo(
            f"{r['store']} at {r['stored']:,}: queries with a match: "
            + ", ".join(f"{k} {v}" for k, v in q.items())
            + f"; adds with a match: {r['add']['with_match']}/{r['add']['n']}"
        )
    for res in results:
        if "profile" in res:
            print_profile(res["store"], res["profile"])
    for r in rows:
        r.pop("answers")
    redis = next((res for res in results if res["store"] == "redis"), None)
    result = {
        "corpus": plan["path"].name,
        "sizes": run_sizes,
        "adds": adds,
        "queries": queries,
        "query_kinds": {k: plan["query_kinds"].count(k) for k in sorted(set(plan["query_kinds"]))},
        "batch": batch,
        "appendfsync": appendfsync,
        "stores_agree": agree,
        "rows": rows,
        "stores": [{k: v for k, v in res.items() if k != "rows"} for res in results],
        "machine": {
            "cpus": os.cpu_count(),
            "mem_total_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
            "kernel": platform.release(),
            "python": platform.python_version(),
            "dedup": importlib.metadata.version("dedup"),
            "numpy": np.__version__,
            "sqlite": sqlite3.sqlite_version,
            "redis_py": importlib.metadata.version("redis") if redis else None,
            "redis_server": redis["server"]["version"] if redis else _redis_server_version(),
            "workdir_filesystem": fs,
        },
    }
    click.echo(f"saved {save_json('index', result)}")


if __name__ == "__main__":
    main()
