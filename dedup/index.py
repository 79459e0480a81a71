"""A persistent, incremental index: "have we seen this story already?" for ingestion jobs.

An :class:`Index` keeps, for every article added, what a batch run keeps: its
MinHash signature, its LSH band keys and its sentences' term counts, plus the
document frequency of every term over the articles held. A new article is
featurised the way a batch run featurises it, its band keys are looked up to
find candidates, and each candidate is verified with the same score as a batch
run (TF-IDF cosine and sentence match, weighted by ``sentence_weight``) using
the index's current document frequencies, which count the new article too.

So the verdicts agree with a batch run over the same articles except where the
IDF differs: a batch run counts every article of the run, the index counts the
articles held when the new one arrives. (Pairs a batch run finds only because of
articles that came later, and the reverse, are the differences; the README gives
their count on the dev set.)

The default store is one SQLite file in WAL mode: readers never block, adds are
serialised by SQLite's write lock (``BEGIN IMMEDIATE``), and each add is one
transaction, committed (with ``synchronous=FULL``) before it returns.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import scipy.sparse as sp

from dedup.candidates import _EMPTY, _band_keys
from dedup.features import Features, Featurizer, _chunks
from dedup.hashing import sorted_distinct
from dedup.hashing import vocabulary as term_vocabulary
from dedup.params import Params
from dedup.pipeline import floored_match
from dedup.sentences import SentenceMatrix, sum_rows
from dedup.sign import HASH_SCHEME, estimate_jaccard_pairs
from dedup.verify import pair_cosines, smooth_idf, weigh_rows

FORMAT_VERSION = 1
"""The index file format this version writes and reads (a newer file is refused)."""

STORED_PARAMS = (
    "shingle_unit",
    "shingle_size",
    "stopwords",
    "transliterate",
    "num_perm",
    "seed",
    "lsh_threshold",
    "bands",
    "rows",
    "tfidf_analyzer",
    "tfidf_ngrams",
    "sublinear_tf",
    "sentence_weight",
)
"""Parameters that shape what the index stores: an index is opened with the values it was made
with. The others (``threshold``, ``max_bucket``, ...) may differ from one opening to the next."""

_WINDOW = 8  # members of an oversized bucket a new article is compared with (the latest)


class IndexFileError(ValueError):
    """The index file cannot be used: not an index, corrupt, newer, or made with other parameters.
    ``str(err)`` names the file."""


@dataclass(frozen=True, slots=True)
class Match:
    """An article held in the index that the asked-about text duplicates.

    Attributes:
        id: the held article's id.
        jaccard: MinHash estimate of the Jaccard similarity of their shingles.
        cosine: TF-IDF cosine of the two documents.
        match: sentence match (see :mod:`dedup.sentences`).
        score: ``(1 - sentence_weight) * cosine + sentence_weight * match``: a duplicate when it
            reaches ``threshold``.
    """

    id: str
    jaccard: float
    cosine: float
    match: float
    score: float


@dataclass(frozen=True, slots=True)
class _Held:
    """What the index keeps of one article: its signature and sentence (or document) counts."""

    id: str
    signature: np.ndarray
    terms: np.ndarray  # uint64, sentence by sentence (or the document's, with sentence_weight 0)
    counts: np.ndarray  # float32
    sizes: np.ndarray  # int32 terms per sentence (one entry for the document)

    def document_terms(self) -> np.ndarray:
        """The article's distinct terms (what its document frequencies count)."""
        return sorted_distinct(self.terms)


class Index:
    """A persistent set of articles that answers "which held articles does this text duplicate?".

    Open one with :meth:`open`; use it as a context manager (or call :meth:`close`).

    Examples:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "news.db")
        >>> with Index.open(path) as idx:
        ...     idx.add("a", "Xi visits Putin in Moscow for talks on Ukraine.")
        ...     [m.id for m in idx.add("b", "Xi visits Putin in Moscow for talks about Ukraine.")]
        []
        ['a']
    """

    def __init__(self, store: _SqliteStore, params: Params) -> None:
        self._store = store
        self.params = params
        self._featurizer = Featurizer(params)
        self._bands, self._rows = params.bands_rows

    @classmethod
    def open(cls, location: str | os.PathLike[str], **params: Any) -> Index:
        """Open the index at ``location`` (a file path), making it with ``params`` if it does not
        exist. An existing index keeps the parameters it was made with: giving a different value
        for one of :data:`STORED_PARAMS` is an :class:`IndexFileError`."""
        if str(location).startswith("redis://"):
            raise ValueError(f"{location}: Redis indexes are not available in this version of dedup")
        store = _SqliteStore(Path(location))
        try:
            stored = store.params()
            if stored is None:
                store.create(Params.from_kwargs(**params))  # (unless another process just did)
                stored = store.params()
                assert stored is not None
            chosen = _reconcile(location, stored, params)
        except BaseException:
            store.close()
            raise
        return cls(store, chosen)

    def close(self) -> None:
        """Close the file (what was added is already committed)."""
        self._store.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __len__(self) -> int:
        return self._store.count()

    def __contains__(self, article_id: object) -> bool:
        return isinstance(article_id, str) and self._store.has(article_id)

    def query(self, text: str) -> list[Match]:
        """The held articles that ``text`` duplicates, best first (nothing is stored)."""
        held = self._hold("", self._featurizer.batch([text])[0])
        with self._store.reading() as r:
            return self._matches(held, r)

    def add(self, article_id: str, text: str) -> list[Match]:
        """Store the article and return the held articles it duplicates, best first.

        Committed before it returns. An id already held raises ``ValueError``."""
        return self.add_many([(article_id, text)])[0]

    def add_many(self, articles: Iterable[tuple[str, str]], *, batch: int = 100) -> list[list[Match]]:
        """:meth:`add` for each ``(id, text)``, in order (each article is matched against the
        ones before it too), committed ``batch`` articles per transaction."""
        out: list[list[Match]] = []
        for chunk in _chunks(articles, batch):
            features = self._featurizer.batch([text for _, text in chunk])
            held = [self._hold(article_id, f) for (article_id, _), f in zip(chunk, features, strict=True)]
            with self._store.writer() as w:
                seen: set[str] = set()
                for h in held:  # checked first: a batch is stored whole or not at all
                    if h.id in seen or w.has(h.id):
                        raise ValueError(f"{h.id!r} is already in the index")
                    seen.add(h.id)
                for h in held:
                    matches = self._matches(h, w)
                    w.insert(h, self._keys(h.signature))
                    out.append(matches)
        return out

    def remove(self, article_id: str) -> None:
        """Forget an article (``KeyError`` if it is not held)."""
        with self._store.writer() as w:
            held = w.load_ids([article_id])
            if not held:
                raise KeyError(article_id)
            w.delete(held[0], self._keys(held[0].signature))

    def stats(self) -> dict[str, Any]:
        """What the index holds, its size on disk and the parameters it was made with."""
        return {"location": str(self._store.path), **self._store.stats(), "params": self.params.to_dict()}

    def check(self) -> None:
        """Check the file's integrity and the index's own counts; raise :class:`IndexFileError`
        if anything is wrong."""
        self._store.check()

    # -- internals --------------------------------------------------------------------------

    def _hold(self, article_id: str, f: Features) -> _Held:
        assert f.signature is not None
        if self.params.sentence_weight > 0:
            terms, counts, sizes = f.sentence_terms, f.sentence_counts, f.sentence_sizes
        else:
            terms, counts, sizes = f.terms, f.counts, np.array([len(f.terms)], dtype=np.int32)
        return _Held(article_id, f.signature, terms, counts.astype(np.float32), sizes.astype(np.int32))

    def _keys(self, signature: np.ndarray) -> list[tuple[int, int]]:
        """The (band, key) of each band, none for an empty signature (no shingles)."""
        if np.all(signature == _EMPTY):
            return []
        r = self._rows
        bands = signature[: self._bands * r].reshape(self._bands, r)
        keys = _band_keys(bands).view(np.int64).tolist()
        return list(enumerate(keys))

    def _matches(self, new: _Held, reader: _Reader) -> list[Match]:
        seqs = reader.candidates(self._keys(new.signature), self.params.max_bucket, _WINDOW)
        if not seqs:
            return []
        held = reader.load_seqs(seqs)
        cos, match = _measure(new, held, reader, self.params)
        w = self.params.sentence_weight
        score = (1.0 - w) * cos + w * match
        jac = estimate_jaccard_pairs(
            np.stack([new.signature, *(h.signature for h in held)]), _against_first(len(held))
        )
        out = [
            Match(
                h.id,
                round(float(j), 4),
                round(min(float(c), 1.0), 4),
                round(float(m), 4),
                round(min(float(s), 1.0), 4),
            )
            for h, j, c, m, s in zip(held, jac, cos, match, score, strict=True)
            if s >= self.params.threshold
        ]
        return sorted(out, key=lambda m: (-m.score, m.id))


def _measure(new: _Held, held: list[_Held], reader: _Reader, p: Params) -> tuple[np.ndarray, np.ndarray]:
    """Cosine and sentence match of ``new`` with each of ``held``, with the IDF of the articles
    held plus ``new`` (as if it were added)."""
    articles = [new, *held]
    vocabulary, columns = term_vocabulary(np.concatenate([a.terms for a in articles]))
    df = reader.document_frequencies(vocabulary)
    df[np.searchsorted(vocabulary, new.document_terms())] += 1
    idf = smooth_idf(reader.count() + 1, df)
    # sentence rows (or one document row each), then each article's document row as their sum
    sentence_counts = sp.csr_matrix(
        (
            np.concatenate([a.counts for a in articles]),
            columns,
            np.concatenate(([0], np.cumsum(np.concatenate([a.sizes for a in articles])))),
        ),
        shape=(sum(len(a.sizes) for a in articles), len(vocabulary)),
    )
    ptr = np.concatenate(([0], np.cumsum([len(a.sizes) for a in articles])))
    documents = sp.csr_matrix(sum_rows(sentence_counts, ptr), dtype=np.float32)
    documents.sort_indices()
    weigh_rows(documents, idf, sublinear_tf=p.sublinear_tf)
    pairs = _against_first(len(held))
    cos = pair_cosines(documents, pairs)
    if p.sentence_weight == 0:
        return cos, np.zeros(len(held))
    sentence_counts = sp.csr_matrix(sentence_counts, dtype=np.float32)
    weights = weigh_rows(sentence_counts, idf, sublinear_tf=True)
    return cos, floored_match(SentenceMatrix(sentence_counts, weights, ptr), pairs, cos)


def _against_first(n: int) -> np.ndarray:
    """The pairs (0, 1), (0, 2), ..., (0, n): the new article (row 0) with each held one."""
    return np.column_stack([np.zeros(n, dtype=np.int64), np.arange(1, n + 1)])


def _reconcile(location: str | os.PathLike[str], stored: dict[str, Any], given: dict[str, Any]) -> Params:
    """The parameters of an existing index: the stored ones, with the free ones as given."""
    merged = dict(stored)
    for name, value in given.items():
        if name in STORED_PARAMS:
            mine = list(value) if isinstance(value, tuple) else value
            if mine != stored.get(name):
                raise IndexFileError(
                    f"{location}: the index was made with {name}={stored.get(name)!r}, not {value!r} "
                    "(make a new index to change it)"
                )
        merged[name] = value
    merged["tfidf_ngrams"] = tuple(merged["tfidf_ngrams"])
    return Params.from_kwargs(**merged)


# -- SQLite -----------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE articles (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    signature BLOB NOT NULL,
    terms BLOB NOT NULL,
    counts BLOB NOT NULL,
    sizes BLOB NOT NULL,
    added REAL NOT NULL
);
CREATE TABLE bands (band INTEGER NOT NULL, key INTEGER NOT NULL, seq INTEGER NOT NULL,
                    PRIMARY KEY (band, key, seq)) WITHOUT ROWID;
CREATE TABLE df (term INTEGER PRIMARY KEY, n INTEGER NOT NULL);
"""
_APPLICATION_ID = 0x64656475  # "dedu": marks the file as a dedup index (PRAGMA application_id)


class _Reader:
    """Reads of the index, inside one transaction (a consistent snapshot)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def count(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'articles'").fetchone()
        return int(row[0])

    def has(self, article_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone() is not None

    def candidates(self, keys: list[tuple[int, int]], max_bucket: int, window: int) -> list[int]:
        """The held articles sharing a band key; of a bucket holding more than ``max_bucket``,
        the latest ``window``."""
        found: set[int] = set()
        for band, key in keys:
            seqs = [
                s
                for (s,) in self.db.execute(
                    "SELECT seq FROM bands WHERE band = ? AND key = ? ORDER BY seq DESC LIMIT ?",
                    (band, key, max_bucket + 1),
                )
            ]
            found.update(seqs if len(seqs) <= max_bucket else seqs[:window])
        return sorted(found)

    def _rows(self, where: str, values: list[Any]) -> list[_Held]:
        rows = self.db.execute(
            f"SELECT id, signature, terms, counts, sizes FROM articles WHERE {where} "
            "IN (SELECT value FROM json_each(?)) ORDER BY seq",
            (json.dumps(values),),
        )
        return [
            _Held(
                i,
                np.frombuffer(sig, dtype=np.uint32),
                np.frombuffer(t, dtype=np.uint64),
                np.frombuffer(c, dtype=np.float32),
                np.frombuffer(z, dtype=np.int32),
            )
            for i, sig, t, c, z in rows
        ]

    def load_seqs(self, seqs: list[int]) -> list[_Held]:
        return self._rows("seq", seqs)

    def load_ids(self, ids: list[str]) -> list[_Held]:
        return self._rows("id", ids)

    def document_frequencies(self, terms: np.ndarray) -> np.ndarray:
        """How many held articles have each of ``terms`` (sorted uint64)."""
        out = np.zeros(len(terms), dtype=np.int64)
        signed = terms.view(np.int64)
        found = self.db.execute(
            "SELECT term, n FROM df WHERE term IN (SELECT value FROM json_each(?))",
            (json.dumps(signed.tolist()),),
        ).fetchall()
        if found:
            got = np.array(found, dtype=np.int64)
            at = np.searchsorted(terms, got[:, 0].view(np.uint64))
            out[at] = got[:, 1]
        return out


class _Writer(_Reader):
    """Reads and writes inside one write transaction."""

    def insert(self, held: _Held, keys: list[tuple[int, int]]) -> None:
        cur = self.db.execute(
            "INSERT INTO articles (id, signature, terms, counts, sizes, added) VALUES (?, ?, ?, ?, ?, ?)",
            (
                held.id,
                held.signature.astype(np.uint32).tobytes(),
                held.terms.astype(np.uint64).tobytes(),
                held.counts.astype(np.float32).tobytes(),
                held.sizes.astype(np.int32).tobytes(),
                time.time(),
            ),
        )
        seq = cur.lastrowid
        self.db.executemany(
            "INSERT INTO bands (band, key, seq) VALUES (?, ?, ?)", [(b, k, seq) for b, k in keys]
        )
        terms = held.document_terms().view(np.int64).tolist()
        self.db.executemany(
            "INSERT INTO df (term, n) VALUES (?, 1) ON CONFLICT (term) DO UPDATE SET n = n + 1",
            [(t,) for t in terms],
        )
        self.db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'articles'")

    def delete(self, held: _Held, keys: list[tuple[int, int]]) -> None:
        (seq,) = self.db.execute("SELECT seq FROM articles WHERE id = ?", (held.id,)).fetchone()
        self.db.execute("DELETE FROM articles WHERE seq = ?", (seq,))
        self.db.executemany(
            "DELETE FROM bands WHERE band = ? AND key = ? AND seq = ?", [(b, k, seq) for b, k in keys]
        )
        terms = [(t,) for t in held.document_terms().view(np.int64).tolist()]
        self.db.executemany("UPDATE df SET n = n - 1 WHERE term = ?", terms)
        self.db.executemany("DELETE FROM df WHERE term = ? AND n <= 0", terms)
        self.db.execute("UPDATE meta SET value = CAST(value AS INTEGER) - 1 WHERE key = 'articles'")


class _SqliteStore:
    """One SQLite file in WAL mode."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.exists() and path.is_dir():
            raise IndexFileError(f"{path}: is a folder, not an index file")
        try:
            self.db = sqlite3.connect(path, isolation_level=None, timeout=60.0, check_same_thread=False)
            self.db.execute("PRAGMA busy_timeout = 60000")
            self._journal = self.db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            self.db.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as error:
            raise IndexFileError(f"{path}: not a dedup index ({error})") from None

    def params(self) -> dict[str, Any] | None:
        """The stored parameters, or None for a new (empty) file."""
        try:
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            app = self.db.execute("PRAGMA application_id").fetchone()[0]
        except sqlite3.DatabaseError as error:
            raise IndexFileError(f"{self.path}: not a dedup index ({error})") from None
        if not tables and app == 0:
            return None
        if app != _APPLICATION_ID or "meta" not in tables:
            raise IndexFileError(f"{self.path}: an SQLite file, but not a dedup index")
        meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        version = int(meta.get("format_version", "0"))
        if version > FORMAT_VERSION:
            raise IndexFileError(
                f"{self.path}: index format {version} is newer than this dedup reads ({FORMAT_VERSION}): "
                "upgrade dedup"
            )
        if meta.get("hash_scheme") != HASH_SCHEME:
            raise IndexFileError(
                f"{self.path}: made with hash scheme {meta.get('hash_scheme')!r}, "
                f"this dedup uses {HASH_SCHEME!r}"
            )
        return json.loads(meta["params"])

    def create(self, params: Params) -> None:
        with self.writer():
            if self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                return  # made by another process meanwhile
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            self.db.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
            self.db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [
                    ("format_version", str(FORMAT_VERSION)),
                    ("hash_scheme", HASH_SCHEME),
                    ("params", json.dumps(params.to_dict())),
                    ("articles", "0"),
                ],
            )

    def reading(self) -> _Snapshot:
        return _Snapshot(self.db, "BEGIN", _Reader)

    def writer(self) -> _Snapshot:
        # BEGIN IMMEDIATE takes the write lock now: what is read is what is written on
        return _Snapshot(self.db, "BEGIN IMMEDIATE", _Writer)

    def count(self) -> int:
        return _Reader(self.db).count()

    def has(self, article_id: str) -> bool:
        return _Reader(self.db).has(article_id)

    def stats(self) -> dict[str, Any]:
        meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        files = [self.path, self.path.with_name(self.path.name + "-wal")]
        size = sum(f.stat().st_size for f in files if f.exists())
        return {
            "articles": int(meta["articles"]),
            "terms": self.db.execute("SELECT count(*) FROM df").fetchone()[0],
            "bytes": size,
            "format_version": int(meta["format_version"]),
            "hash_scheme": meta["hash_scheme"],
        }

    def check(self) -> None:
        problems = [r[0] for r in self.db.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise IndexFileError(f"{self.path}: corrupt: {'; '.join(problems[:5])}")
        held = self.db.execute("SELECT count(*) FROM articles").fetchone()[0]
        if held != self.count():
            raise IndexFileError(f"{self.path}: holds {held} articles but counts {self.count()}")

    def close(self) -> None:
        self.db.close()


class _Snapshot:
    """A transaction: ``begin`` on entry, committed on a clean exit, rolled back otherwise."""

    def __init__(self, db: sqlite3.Connection, begin: str, kind: type[_Reader]) -> None:
        self.db, self._begin, self._kind = db, begin, kind

    def __enter__(self) -> Any:
        self.db.execute(self._begin)
        return self._kind(self.db)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
