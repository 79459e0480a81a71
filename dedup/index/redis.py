"""An index store on a Redis server, shared by many processes on many machines.

This module is over 500 lines because the Redis store is one reader and one writer over the same
key layout, with the writer's pending writes overlaid on what it reads.

``pip install 'newsdedup[redis]'``; open with ``Index.open("redis://host:6379/0")``. All keys
start with a prefix (``dedup:`` unless the URL says ``?prefix=...``):

- ``meta`` (hash): ``application``, ``format_version``, ``hash_scheme``, ``params``;
- ``articles`` (the count), ``version`` (bumped by every write), ``seq`` (the last sequence number),
  ``writer`` (the writers' advisory lock);
- ``ids`` (hash): article id -> sequence number; ``art`` (hash): sequence number -> the packed
  :class:`~dedup.sketch.record.Sketch` record;
- ``df`` (hash): term (8 bytes) -> number of articles holding it;
- ``x:{kind}`` (hashes): what a cross-lingual index keeps besides the sketches, as blobs by
  kind and key (:mod:`dedup.index.xling`);
- ``b:{band}:{shard}`` (hashes): band key (8 bytes) -> the sequence numbers in that bucket
  (int64, ascending). The keys of a band are spread over 4,096 small hashes, which Redis
  stores compactly (listpack) while each holds at most ``hash-max-listpack-entries`` buckets
  (128 or 512 by default, depending on the build: up to 0.5M or 2M articles).

Writes are optimistic transactions: a writer WATCHes ``version``, reads what it needs (its own
pending writes overlay what it reads), then applies everything in one MULTI/EXEC that also bumps
``version``. If another writer committed meanwhile, EXEC fails and the add is computed again, so
adds are serialisable and never half-applied. So that writers do not keep undoing each other's
work (a batch of 100 adds takes a while to compute), they also take turns on an advisory lock
(``writer``, which expires after ``LOCK_SECONDS`` if its holder dies); correctness does not
rest on it. A read takes ``version`` before and after and tries again if it moved, up to
``READ_TRIES`` times; under a constant stream of adds a query may then count, in its IDF, an
article or two added while it ran (the SQLite store reads from a snapshot).

An add is acknowledged once Redis has applied it. It survives a crash of the client process;
it survives a crash of the Redis server only if the server persists every write
(``appendonly yes`` with ``appendfsync always``; with ``everysec``, up to a second may be lost).
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np

from dedup.index.store import IndexFileError, damaged, meta_record, params_from_meta, shown_location
from dedup.runtime.extras import require
from dedup.sketch.record import DamagedRecord, Sketch

T = TypeVar("T")

SHARDS = 4096
"""Hashes each band's keys are spread over."""

LOCK_SECONDS = 30.0
"""How long a writer's advisory lock lasts if its holder does not release it (a crashed writer)."""

READ_TRIES = 3
"""Attempts at a read that no write interleaves with, before the last answer is taken."""

RETRIES = 10
RETRY_CAP = 2.0
"""A command the server does not answer (gone, restarting, loading its data) is tried again
``RETRIES`` times, waiting twice as long each time up to ``RETRY_CAP`` seconds (about 11 s in
all), before the store gives up with one line: a server restarted under a job does not end it."""

_APPLICATION = "dedup index"

# Scripts take and give packed arrays, one argument each: what costs in the client is arguments.
_LOOK_UP_TERMS = """
local terms, out = ARGV[1], {}
for i = 1, #terms, 8 do
    local n = redis.call('HGET', KEYS[1], string.sub(terms, i, i + 7))
    out[#out + 1] = struct.pack('<i8', tonumber(n) or 0)
end
return table.concat(out)
"""  # KEYS[1]: the df hash; ARGV[1]: terms (8 bytes each) -> their counts (int64 each, 0 if absent)

_CANDIDATES = """
local fields, limit, window, out = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), {}
for b = 1, #KEYS do
    local seqs = redis.call('HGET', KEYS[b], string.sub(fields, 8 * b - 7, 8 * b))
    if seqs then
        if #seqs > 8 * limit then seqs = string.sub(seqs, #seqs - 8 * window + 1) end
        out[#out + 1] = seqs
    end
end
return table.concat(out)
"""  # KEYS: the bands' hashes; ARGV[1]: the band keys (8 bytes each), max_bucket, window

_COUNT_TERMS = """
local terms, changes = ARGV[1], ARGV[2]
for i = 1, #terms / 8 do
    local term = string.sub(terms, 8 * i - 7, 8 * i)
    local change = struct.unpack('<i4', changes, 4 * i - 3)  -- (the first of its two values)
    if redis.call('HINCRBY', KEYS[1], term, change) <= 0 then
        redis.call('HDEL', KEYS[1], term)
    end
end
return 0
"""  # ARGV[1]: terms (8 bytes each), ARGV[2]: their changes (int32 each); a term counted by none goes


def _split_url(url: str) -> tuple[str, str, str]:
    """(the URL for redis-py without ``prefix=``, the key prefix, the URL shown in messages,
    without a password)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((v for k, v in query if k == "prefix"), "dedup:")
    rest = urlencode([(k, v) for k, v in query if k != "prefix"])
    plain = urlunsplit(parts._replace(query=rest))
    return plain, prefix, shown_location(url)


def _as_fields(values: np.ndarray) -> list[bytes]:
    """Each uint64/int64 value as 8 little-endian bytes (a hash field)."""
    raw = values.astype("<u8").tobytes()
    return [raw[i : i + 8] for i in range(0, len(raw), 8)]


class _Keys:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.meta, self.count, self.version, self.seq = (
            prefix + k for k in ("meta", "articles", "version", "seq")
        )
        self.ids, self.art, self.df = prefix + "ids", prefix + "art", prefix + "df"
        self.lock = prefix + "writer"

    def x(self, kind: str) -> str:
        """The hash of the blobs of ``kind``."""
        return f"{self.prefix}x:{kind}"

    def bucket(self, band: int, key: int) -> tuple[str, bytes]:
        """The hash and field of a band key."""
        return f"{self.prefix}b:{band}:{key % SHARDS}", int(key).to_bytes(8, "little", signed=True)


class _RedisReader:
    """Reads of the index; :meth:`RedisStore.read` makes them one consistent snapshot."""

    def __init__(self, client: Any, keys: _Keys) -> None:
        self.client, self.keys = client, keys

    def count(self) -> int:
        return int(self.client.get(self.keys.count) or 0)

    def has(self, article_id: str) -> bool:
        return bool(self.client.hexists(self.keys.ids, article_id))

    def present(self, ids: list[str]) -> set[str]:
        return {i for i, s in zip(ids, self.client.hmget(self.keys.ids, ids), strict=True) if s is not None}

    def candidates(self, keys: list[tuple[int, int]], max_bucket: int, window: int) -> list[int]:
        if not keys:
            return []
        where = [self.keys.bucket(band, key) for band, key in keys]
        names, fields = [n for n, _ in where], b"".join(f for _, f in where)
        found = self.client.eval(_CANDIDATES, len(names), *names, fields, max_bucket, window)
        return np.unique(np.frombuffer(found, dtype="<i8")).tolist()

    def load_seqs(self, seqs: list[int]) -> list[Sketch]:
        if not seqs:
            return []
        blobs = self.client.hmget(self.keys.art, [str(s) for s in sorted(seqs)])
        return [Sketch.unpack(b) for b in blobs if b is not None]

    def _seqs_of(self, ids: list[str]) -> list[int]:
        if not ids:
            return []
        return [int(s) for s in self.client.hmget(self.keys.ids, ids) if s is not None]

    def load_ids(self, ids: list[str]) -> list[Sketch]:
        return self.load_seqs(self._seqs_of(ids))

    def document_frequencies(self, terms: np.ndarray) -> np.ndarray:
        if len(terms) == 0:
            return np.zeros(0, dtype=np.int64)
        found = self.client.eval(_LOOK_UP_TERMS, 1, self.keys.df, terms.astype("<u8").tobytes())
        return np.frombuffer(found, dtype="<i8").astype(np.int64)

    def blobs(self, kind: str, keys: list[bytes]) -> list[bytes | None]:
        """The blobs of ``kind`` under ``keys`` (None where there is none)."""
        return list(self.client.hmget(self.keys.x(kind), keys)) if keys else []

    def scan(self, kind: str) -> list[tuple[bytes, bytes]]:
        """Every ``(key, blob)`` of ``kind``."""
        return sorted(self.client.hgetall(self.keys.x(kind)).items())


class _RedisWriter(_RedisReader):
    """Reads overlaid with this transaction's pending writes, applied by :meth:`commit`."""

    def __init__(self, client: Any, keys: _Keys) -> None:
        super().__init__(client, keys)
        self.articles: dict[int, Sketch] = {}  # added
        self.dropped: dict[int, str] = {}  # removed: seq -> id
        self.ids: dict[str, int] = {}
        self.buckets: dict[tuple[str, bytes], np.ndarray] = {}  # read or changed, whole
        self.df: dict[bytes, int] = {}  # pending change per term
        self.delta = 0
        self.blobbed: dict[tuple[str, bytes], bytes | None] = {}  # pending (None: dropped)

    def blobs(self, kind: str, keys: list[bytes]) -> list[bytes | None]:
        stored = super().blobs(kind, [k for k in keys if (kind, k) not in self.blobbed])[::-1]
        return [self.blobbed[kind, k] if (kind, k) in self.blobbed else stored.pop() for k in keys]

    def scan(self, kind: str) -> list[tuple[bytes, bytes]]:
        found = dict(super().scan(kind))
        for (of, k), v in self.blobbed.items():
            if of == kind:
                found[k] = v  # type: ignore[assignment]
        return sorted((k, v) for k, v in found.items() if v is not None)

    def put(self, kind: str, items: dict[bytes, bytes]) -> None:
        for k, v in items.items():
            self.blobbed[kind, k] = v

    def drop(self, kind: str, keys: list[bytes]) -> None:
        for k in keys:
            self.blobbed[kind, k] = None

    def count(self) -> int:
        return super().count() + self.delta

    def has(self, article_id: str) -> bool:
        if article_id in self.ids:
            return True
        if article_id in self.dropped.values():
            return False
        return super().has(article_id)

    def candidates(self, keys: list[tuple[int, int]], max_bucket: int, window: int) -> list[int]:
        found: set[int] = set()  # from the whole buckets, which an add then writes back
        for seqs in self._buckets(keys):
            found.update((seqs if len(seqs) <= max_bucket else seqs[-window:]).tolist())
        return sorted(found)

    def _buckets(self, keys: list[tuple[int, int]]) -> list[np.ndarray]:
        where = [self.keys.bucket(band, key) for band, key in keys]
        missing = [w for w in dict.fromkeys(where) if w not in self.buckets]
        if missing:
            pipe = self.client.pipeline(transaction=False)
            for name, field in missing:
                pipe.hget(name, field)
            for w, v in zip(missing, pipe.execute(), strict=True):
                self.buckets[w] = np.frombuffer(v or b"", dtype="<i8")
        return [self.buckets[w] for w in where]

    def load_seqs(self, seqs: list[int]) -> list[Sketch]:
        stored = super().load_seqs([s for s in seqs if s not in self.articles and s not in self.dropped])
        pending = [self.articles[s] for s in sorted(seqs) if s in self.articles]
        return stored + pending  # pending articles have the newest sequence numbers

    def _seqs_of(self, ids: list[str]) -> list[int]:
        gone = set(self.dropped.values())
        mine = [self.ids[i] for i in ids if i in self.ids]
        return mine + [s for s in super()._seqs_of([i for i in ids if i not in self.ids and i not in gone])]

    def document_frequencies(self, terms: np.ndarray) -> np.ndarray:
        out = super().document_frequencies(terms)
        if self.df:
            for at, field in enumerate(_as_fields(terms)):
                out[at] += self.df.get(field, 0)
        return out

    def _count_terms(self, held: Sketch, step: int) -> None:
        for field in _as_fields(held.document_terms()):
            self.df[field] = self.df.get(field, 0) + step

    def insert(self, held: Sketch, keys: list[tuple[int, int]]) -> None:
        seq = int(self.client.incr(self.keys.seq))  # a number taken by a failed attempt is skipped
        self.articles[seq] = held
        self.ids[held.id] = seq
        for where, seqs in zip((self.keys.bucket(b, k) for b, k in keys), self._buckets(keys), strict=True):
            self.buckets[where] = np.append(seqs, np.int64(seq)).astype("<i8")
        self._count_terms(held, +1)
        self.delta += 1

    def delete(self, held: Sketch, keys: list[tuple[int, int]]) -> None:
        if held.id in self.ids:  # added by this transaction
            seq = self.ids.pop(held.id)
            del self.articles[seq]
        else:
            (seq,) = super()._seqs_of([held.id])
            self.dropped[seq] = held.id
        for where, seqs in zip((self.keys.bucket(b, k) for b, k in keys), self._buckets(keys), strict=True):
            self.buckets[where] = seqs[seqs != seq]
        self._count_terms(held, -1)
        self.delta -= 1

    def commit(self, pipe: Any) -> None:
        """Apply the pending writes in one MULTI/EXEC (``WatchError`` if another writer won)."""
        k = self.keys
        pipe.multi()
        if self.dropped:  # (first: an id dropped and added again, replaced, keeps its new number)
            pipe.hdel(k.art, *[str(s) for s in self.dropped])
            pipe.hdel(k.ids, *self.dropped.values())
        if self.articles:
            pipe.hset(k.art, mapping={str(s): h.pack() for s, h in self.articles.items()})
            pipe.hset(k.ids, mapping={h.id: str(s) for s, h in self.articles.items()})
        for (name, field), seqs in self.buckets.items():
            if len(seqs):
                pipe.hset(name, field, seqs.astype("<i8").tobytes())
            else:
                pipe.hdel(name, field)
        changed = {field: d for field, d in self.df.items() if d}
        if changed:
            deltas = np.fromiter(changed.values(), dtype="<i4", count=len(changed)).tobytes()
            pipe.eval(_COUNT_TERMS, 1, k.df, b"".join(changed), deltas)
        if self.delta:
            pipe.incrby(k.count, self.delta)
        for (kind, key), value in self.blobbed.items():
            if value is None:
                pipe.hdel(k.x(kind), key)
            else:
                pipe.hset(k.x(kind), key, value)
        pipe.incr(k.version)
        pipe.execute()


class RedisStore:
    """An index on a Redis server (see the module's docstring for its keys and transactions)."""

    def __init__(self, url: str) -> None:
        plain, prefix, self.location = _split_url(url)
        require("redis", f"{self.location}: a Redis index")
        import redis

        self._errors = redis.exceptions
        self.keys = _Keys(prefix)
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry

        errors = redis.exceptions
        try:
            self.client = redis.Redis.from_url(
                plain,
                retry=Retry(ExponentialBackoff(cap=RETRY_CAP, base=0.025), RETRIES),
                retry_on_error=[errors.ConnectionError, errors.TimeoutError, errors.BusyLoadingError],
            )
            self.client.ping()
        except (ValueError, redis.exceptions.RedisError) as error:
            raise IndexFileError(f"{self.location}: cannot use this Redis server ({error})") from None

    @contextlib.contextmanager
    def _reachable(self) -> Iterator[None]:
        """A server still gone after the retries, or a record that cannot be read, is one
        :class:`IndexFileError` naming the index."""
        try:
            yield
        except DamagedRecord as error:
            raise damaged(self.location, error) from None
        except (self._errors.ConnectionError, self._errors.TimeoutError) as error:
            raise IndexFileError(
                f"{self.location}: the Redis server cannot be reached ({error}), after {RETRIES} tries"
            ) from None

    def params(self) -> dict[str, Any] | None:
        try:
            raw = self.client.hgetall(self.keys.meta)
        except self._errors.ResponseError as error:  # WRONGTYPE: the key is not a hash
            raise IndexFileError(
                f"{self.location}: {self.keys.meta} is not a dedup index ({error})"
            ) from None
        if not raw:
            return None
        meta = {k.decode(): v.decode() for k, v in raw.items()}
        if meta.get("application") != _APPLICATION or "params" not in meta:
            raise IndexFileError(
                f"{self.location}: {self.keys.meta} holds something that is not a dedup index"
            )
        return params_from_meta(self.location, meta)

    def create(self, params: dict[str, Any]) -> None:
        with self.client.pipeline() as pipe:
            try:
                pipe.watch(self.keys.meta)
                if pipe.exists(self.keys.meta):
                    return  # made by another process meanwhile
                pipe.multi()
                pipe.hset(self.keys.meta, mapping={"application": _APPLICATION, **meta_record(params)})
                pipe.execute()
            except self._errors.WatchError:
                return  # made by another process meanwhile

    def read(self, fn: Callable[[_RedisReader], T]) -> T:
        """``fn`` on one consistent state: run again if a write was committed meanwhile (at most
        ``READ_TRIES`` times in all)."""
        with self._reachable():
            return self._read(fn)

    def _read(self, fn: Callable[[_RedisReader], T]) -> T:
        for _ in range(READ_TRIES):
            before = self.client.get(self.keys.version)
            result = fn(_RedisReader(self.client, self.keys))
            if self.client.get(self.keys.version) == before:
                break
        return result

    def write(self, fn: Callable[[_RedisWriter], T]) -> T:
        """``fn`` as one optimistic transaction, computed again if another writer committed
        first (or the connection dropped while it watched); nothing is applied if ``fn`` raises."""
        with self._reachable():
            return self._write(fn)

    def _write(self, fn: Callable[[_RedisWriter], T]) -> T:
        tries = 0
        lock = self.client.lock(self.keys.lock, timeout=LOCK_SECONDS, sleep=0.002, thread_local=False)
        lock.acquire()
        try:
            while True:
                with self.client.pipeline() as pipe:
                    pipe.watch(self.keys.version)
                    writer = _RedisWriter(self.client, self.keys)
                    result = fn(writer)
                    try:
                        writer.commit(pipe)
                        return result
                    except self._errors.WatchError:  # a writer whose lock had expired committed
                        tries += 1
                        time.sleep(random.uniform(0, min(0.001 * 2**tries, 0.1)))
        finally:
            # A write that outlasted LOCK_SECONDS finds its lock expired: what it committed
            # stands (WATCH kept it whole), so that is no error.
            with contextlib.suppress(self._errors.LockNotOwnedError):
                lock.release()

    def trial(self, fn: Callable[[_RedisWriter], T]) -> T:
        """``fn`` on a writer whose writes are never applied: what an add would find, without
        adding (a cross-lingual query; it reads the server as it is, as an add does)."""
        with self._reachable():
            return fn(_RedisWriter(self.client, self.keys))

    def count(self) -> int:
        with self._reachable():
            return _RedisReader(self.client, self.keys).count()

    def has(self, article_id: str) -> bool:
        with self._reachable():
            return _RedisReader(self.client, self.keys).has(article_id)

    def _own_keys(self) -> list[bytes]:
        pattern = "".join(f"[{c}]" if c in "*?[]\\" else c for c in self.keys.prefix) + "*"
        return list(self.client.scan_iter(match=pattern, count=10_000))

    def stats(self) -> dict[str, Any]:
        """Counts, and the memory the index's keys take in Redis (``MEMORY USAGE``, every key)."""
        with self._reachable():
            return self._stats()

    def _stats(self) -> dict[str, Any]:
        keys = self._own_keys()
        used = 0
        for start in range(0, len(keys), 10_000):
            pipe = self.client.pipeline(transaction=False)
            for key in keys[start : start + 10_000]:
                pipe.memory_usage(key, samples=0)
            used += sum(n or 0 for n in pipe.execute())
        meta = {k.decode(): v.decode() for k, v in self.client.hgetall(self.keys.meta).items()}
        return {
            "location": self.location,
            "store": "redis",
            "articles": self.count(),
            "terms": int(self.client.hlen(self.keys.df)),
            "bytes": used,
            "keys": len(keys),
            "format_version": int(meta["format_version"]),
            "hash_scheme": meta["hash_scheme"],
        }

    def check(self) -> None:
        """The counts agree, every id has its record and every record reads, every bucket entry
        and document frequency is sound."""
        with self._reachable():
            self._check()

    def _check(self) -> None:
        k = self.keys
        count = self.count()
        ids = {int(s) for s in self.client.hvals(k.ids)}
        held = {int(s) for s in self.client.hkeys(k.art)}
        problems = []
        if not count == len(ids) == len(held):
            problems.append(f"counts {count} articles, {len(ids)} ids, {len(held)} records")
        if ids != held:
            problems.append(f"{len(ids ^ held)} ids and records do not correspond")
        if any(int(n) <= 0 for n in self.client.hvals(k.df)):
            problems.append("a document frequency is not positive")
        for _, blob in self.client.hscan_iter(k.art, count=1_000):  # (every record read)
            try:
                Sketch.unpack(blob)
            except DamagedRecord as error:
                problems.append(str(error))
                break
        names = list(self.client.scan_iter(match=f"{k.prefix}b:*", count=10_000))
        entries = []
        for start in range(0, len(names), 1_000):
            pipe = self.client.pipeline(transaction=False)
            for name in names[start : start + 1_000]:
                pipe.hvals(name)
            entries.extend(np.frombuffer(v, dtype="<i8") for values in pipe.execute() for v in values)
        seqs = np.concatenate(entries) if entries else np.zeros(0, dtype=np.int64)
        stray = int(np.count_nonzero(~np.isin(seqs, np.fromiter(held, dtype=np.int64, count=len(held)))))
        if stray:
            problems.append(f"{stray} bucket entries name no article")
        if problems:
            raise IndexFileError(f"{self.location}: inconsistent: {'; '.join(problems)}")

    def close(self) -> None:
        self.client.close()
