"""The default index store: one SQLite file in WAL mode.

Readers never block and never see a half-made add (each read is one transaction); adds are
serialised by SQLite's write lock, taken at the start (``BEGIN IMMEDIATE``) so that what an
add reads is what it writes on; each is committed with ``synchronous=FULL`` before it
returns, so an acknowledged add survives a crash of the process or the machine.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import numpy as np

from dedup.index.store import IndexFileError, damaged, meta_record, params_from_meta
from dedup.sketch.record import DamagedRecord, Sketch

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE articles (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    signature BLOB NOT NULL,
    terms BLOB NOT NULL,
    counts BLOB NOT NULL,
    sizes BLOB NOT NULL,
    added REAL NOT NULL,
    numbers BLOB NOT NULL DEFAULT x''
);
CREATE TABLE bands (band INTEGER NOT NULL, key INTEGER NOT NULL, seq INTEGER NOT NULL,
                    PRIMARY KEY (band, key, seq)) WITHOUT ROWID;
CREATE TABLE df (term INTEGER PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE xkv (kind TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,
                  PRIMARY KEY (kind, key)) WITHOUT ROWID;
"""
_XKV = (
    "CREATE TABLE IF NOT EXISTS xkv (kind TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL, "
    "PRIMARY KEY (kind, key)) WITHOUT ROWID"
)
# (xkv: what a cross-lingual index keeps besides the sketches, as blobs by kind and key: see
# dedup.index.xling; an index made before it has none, and cannot be cross-lingual)
_APPLICATION_ID = 0x64656475  # "dedu": marks the file as a dedup index (PRAGMA application_id)


def _numbers_column(db: sqlite3.Connection) -> str:
    """What to select for an article's number ids: its column, or an empty blob in an index made
    before articles kept them."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(articles)")}
    return "numbers" if "numbers" in columns else "x''"


class _Reader:
    """Reads of the index, inside one transaction (a consistent snapshot)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def count(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'articles'").fetchone()
        try:
            return int(row[0])
        except (TypeError, ValueError):
            raise DamagedRecord(
                f"its article count is {None if row is None else row[0]!r}, not a number"
            ) from None

    def has(self, article_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone() is not None

    def present(self, ids: list[str]) -> set[str]:
        rows = self.db.execute(
            "SELECT id FROM articles WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(ids),)
        )
        return {i for (i,) in rows}

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

    def _rows(self, where: str, values: list[Any]) -> list[Sketch]:
        numbers = _numbers_column(self.db)
        rows = self.db.execute(
            f"SELECT id, signature, terms, counts, sizes, {numbers} FROM articles WHERE {where} "
            "IN (SELECT value FROM json_each(?)) ORDER BY seq",
            (json.dumps(values),),
        )
        return [_held(*row) for row in rows]

    def load_seqs(self, seqs: list[int]) -> list[Sketch]:
        return self._rows("seq", seqs)

    def load_ids(self, ids: list[str]) -> list[Sketch]:
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

    def blobs(self, kind: str, keys: list[bytes]) -> list[bytes | None]:
        """The blobs of ``kind`` under ``keys`` (None where there is none)."""
        if not keys:
            return []
        if not self._has_xkv():
            return [None] * len(keys)
        found: dict[bytes, bytes] = {}
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            rows = self.db.execute(
                f"SELECT key, value FROM xkv WHERE kind = ? AND key IN ({','.join('?' * len(part))})",
                (kind, *part),
            )
            found.update((bytes(k), bytes(v)) for k, v in rows)
        return [found.get(k) for k in keys]

    def scan(self, kind: str) -> list[tuple[bytes, bytes]]:
        """Every ``(key, blob)`` of ``kind``."""
        if not self._has_xkv():
            return []
        rows = self.db.execute("SELECT key, value FROM xkv WHERE kind = ? ORDER BY key", (kind,))
        return [(bytes(k), bytes(v)) for k, v in rows]

    def _has_xkv(self) -> bool:
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'xkv'").fetchone() is not None


def _held(article_id: str, sig: bytes, terms: bytes, counts: bytes, sizes: bytes, numbers: bytes) -> Sketch:
    """One stored article, its blobs checked: lengths that are whole numbers of their values,
    as many counts as terms, sentence sizes adding up to the terms."""
    try:
        held = Sketch(
            article_id,
            np.frombuffer(sig, dtype=np.uint32),
            np.frombuffer(terms, dtype=np.uint64),
            np.frombuffer(counts, dtype=np.float32),
            np.frombuffer(sizes, dtype=np.int32),
            np.frombuffer(numbers, dtype=np.uint64),
        )
    except (TypeError, ValueError):
        raise DamagedRecord(f"the record of {article_id!r} is cut short or not a record") from None
    if (
        len(held.terms) != len(held.counts)
        or int(held.sizes.sum()) != len(held.terms)
        or (held.sizes < 0).any()
    ):
        raise DamagedRecord(
            f"the record of {article_id!r} is inconsistent (its terms, counts and sizes disagree)"
        )
    return held


class _Writer(_Reader):
    """Reads and writes inside one write transaction."""

    def put(self, kind: str, items: dict[bytes, bytes]) -> None:
        """Store (or overwrite) the blobs of ``kind`` under their keys."""
        if items:
            self.db.execute(_XKV)
            self.db.executemany(
                "INSERT OR REPLACE INTO xkv (kind, key, value) VALUES (?, ?, ?)",
                [(kind, k, v) for k, v in items.items()],
            )

    def drop(self, kind: str, keys: list[bytes]) -> None:
        """Forget the blobs of ``kind`` under ``keys``."""
        if keys and self._has_xkv():
            self.db.executemany("DELETE FROM xkv WHERE kind = ? AND key = ?", [(kind, k) for k in keys])

    def insert(self, held: Sketch, keys: list[tuple[int, int]]) -> None:
        cur = self.db.execute(
            "INSERT INTO articles (id, signature, terms, counts, sizes, added, numbers) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                held.id,
                held.signature.astype(np.uint32).tobytes(),
                held.terms.astype(np.uint64).tobytes(),
                held.counts.astype(np.float32).tobytes(),
                held.sizes.astype(np.int32).tobytes(),
                time.time(),
                held.numbers.astype(np.uint64).tobytes(),
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

    def delete(self, held: Sketch, keys: list[tuple[int, int]]) -> None:
        (seq,) = self.db.execute("SELECT seq FROM articles WHERE id = ?", (held.id,)).fetchone()
        self.db.execute("DELETE FROM articles WHERE seq = ?", (seq,))
        self.db.executemany(
            "DELETE FROM bands WHERE band = ? AND key = ? AND seq = ?", [(b, k, seq) for b, k in keys]
        )
        terms = [(t,) for t in held.document_terms().view(np.int64).tolist()]
        self.db.executemany("UPDATE df SET n = n - 1 WHERE term = ?", terms)
        self.db.executemany("DELETE FROM df WHERE term = ? AND n <= 0", terms)
        self.db.execute("UPDATE meta SET value = CAST(value AS INTEGER) - 1 WHERE key = 'articles'")


class SqliteStore:
    """One SQLite file in WAL mode."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)
        if path.exists() and path.is_dir():
            raise IndexFileError(f"{path}: is a folder, not an index file")
        # A file this process cannot write (its own permissions, a read-only file system) is
        # opened read-only: queries, stats and check work; a write is an OSError saying so.
        folder = path.parent if str(path.parent) else Path(".")
        self.writable = os.access(path, os.W_OK) and os.access(folder, os.W_OK) if path.exists() else True
        if not path.exists() and not os.access(folder, os.W_OK):
            raise OSError(
                errno.EACCES, "cannot make an index in a folder this process cannot write", str(path)
            )
        try:
            self.db = self._connect(path)
            self.db.execute("PRAGMA busy_timeout = 60000")
            self._refuse_foreign()  # (before anything is written to the file, WAL mode included)
            if self.writable:
                self._journal = self.db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                self.db.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as error:
            if hasattr(self, "db"):
                self.db.close()
            raise IndexFileError(f"{path}: not a dedup index ({error})") from None
        except IndexFileError:
            self.db.close()
            raise

    def _connect(self, path: Path) -> sqlite3.Connection:
        """A connection to ``path``; read-only (``mode=ro``) when it cannot be written, and where
        not even that opens (a log-mode file in a read-only folder, where the reader's shared
        memory file cannot be made) as an immutable file: nobody can write it there."""
        options = {"isolation_level": None, "timeout": 60.0, "check_same_thread": False}
        if self.writable:
            return sqlite3.connect(path, **options)  # type: ignore[arg-type]
        uri = "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"
        try:
            db = sqlite3.connect(uri, uri=True, **options)  # type: ignore[arg-type]
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.OperationalError:
            return sqlite3.connect(uri + "&immutable=1", uri=True, **options)  # type: ignore[arg-type]

    def _refuse_foreign(self) -> None:
        """Raise :class:`IndexFileError` for an SQLite file that is not a dedup index (another
        application's): found by reading only."""
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        app = self.db.execute("PRAGMA application_id").fetchone()[0]
        if (tables or app != 0) and (app != _APPLICATION_ID or "meta" not in tables):
            raise IndexFileError(f"{self.path}: an SQLite file, but not a dedup index")

    def params(self) -> dict[str, Any] | None:
        """The stored parameters, or None for a new (empty) file."""
        with self._named():  # (another application's file was refused when opened)
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                return None
            meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        params = params_from_meta(self.location, meta)
        self._add_numbers_column()
        return params

    @contextlib.contextmanager
    def _named(self) -> Iterator[None]:
        """Errors of a damaged file (SQLite finds it corrupt, or a record is not what it should
        be) as one :class:`IndexFileError` naming the file; those of a full or failing disk as
        the :class:`OSError` they are."""
        try:
            yield
        except DamagedRecord as error:
            raise damaged(str(self.path), error) from None
        except sqlite3.DatabaseError as error:
            if (as_os := _os_error(error, self.location)) is not None:
                raise as_os from None
            if (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF in _DAMAGED:
                raise damaged(str(self.path), error) from None
            raise

    def _add_numbers_column(self) -> None:
        """Give an index made before articles kept their numbers the column for them (its
        articles then have none, which the decision treats as nothing to compare); a file that
        cannot be written is read as it is."""
        if _numbers_column(self.db) == "numbers":
            return
        try:
            with _Snapshot(self.db, self.location, "BEGIN IMMEDIATE", _Writer):
                if _numbers_column(self.db) != "numbers":
                    self.db.execute("ALTER TABLE articles ADD COLUMN numbers BLOB NOT NULL DEFAULT x''")
        except sqlite3.OperationalError:
            pass  # (read-only: the articles are read without numbers)

    def create(self, params: dict[str, Any]) -> None:
        with _Snapshot(self.db, self.location, "BEGIN IMMEDIATE", _Writer):
            if self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                return  # made by another process meanwhile
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            self.db.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
            self.db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [*meta_record(params).items(), ("articles", "0")],
            )

    def read(self, fn: Callable[[_Reader], T]) -> T:
        """``fn`` on one read transaction (a consistent snapshot)."""
        with self._named(), _Snapshot(self.db, self.location, "BEGIN", _Reader) as r:
            return fn(r)

    def write(self, fn: Callable[[_Writer], T]) -> T:
        """``fn`` in one write transaction, committed if it returns, rolled back if it raises."""
        # BEGIN IMMEDIATE takes the write lock now: what is read is what is written on
        with self._named(), _Snapshot(self.db, self.location, "BEGIN IMMEDIATE", _Writer) as w:
            return fn(w)

    def trial(self, fn: Callable[[_Writer], T]) -> T:
        """``fn`` in a write transaction that is rolled back whatever it does: what an add would
        find, without adding (a cross-lingual query)."""
        with self._named():
            try:
                with _Snapshot(self.db, self.location, "BEGIN IMMEDIATE", _Writer) as w:
                    found = fn(w)
                    raise _Undo
            except _Undo:
                return found

    def count(self) -> int:
        with self._named():
            return _Reader(self.db).count()

    def has(self, article_id: str) -> bool:
        with self._named():
            return _Reader(self.db).has(article_id)

    def stats(self) -> dict[str, Any]:
        with self._named():
            meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
            terms = self.db.execute("SELECT count(*) FROM df").fetchone()[0]
        params_from_meta(self.location, meta)  # (its records checked)
        files = [self.path, self.path.with_name(self.path.name + "-wal")]
        size = sum(f.stat().st_size for f in files if f.exists())
        return {
            "location": self.location,
            "store": "sqlite",
            "articles": int(meta["articles"]),
            "terms": terms,
            "bytes": size,
            "format_version": int(meta["format_version"]),
            "hash_scheme": meta["hash_scheme"],
        }

    def check(self) -> None:
        """SQLite's own ``PRAGMA integrity_check``, then every record read (each article's blobs
        checked, its signature as long as the index's ``num_perm``), then the index's counts."""
        with self._named():
            meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
            num_perm = params_from_meta(self.location, meta).get("num_perm")
            self._check(num_perm)

    def _check(self, num_perm: int | None) -> None:
        problems = [line for (r,) in self.db.execute("PRAGMA integrity_check(20)") for line in r.splitlines()]
        if problems != ["ok"]:
            more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
            raise IndexFileError(f"{self.path}: corrupt: {'; '.join(problems[:3])}{more}")
        numbers = _numbers_column(self.db)
        rows = self.db.execute(f"SELECT id, signature, terms, counts, sizes, {numbers} FROM articles")
        while batch := rows.fetchmany(1000):
            for row in batch:
                held = _held(*row)
                if num_perm is not None and len(held.signature) != num_perm:
                    raise DamagedRecord(
                        f"the signature of {held.id!r} has {len(held.signature)} values, not {num_perm}"
                    )
        held = self.db.execute("SELECT count(*) FROM articles").fetchone()[0]
        if held != self.count():
            raise IndexFileError(f"{self.path}: holds {held} articles but counts {self.count()}")
        stray = self.db.execute("SELECT count(*) FROM bands WHERE seq NOT IN (SELECT seq FROM articles)")
        if n := stray.fetchone()[0]:
            raise IndexFileError(f"{self.path}: inconsistent: {n} bucket entries name no article")
        if self.db.execute("SELECT count(*) FROM df WHERE n <= 0").fetchone()[0]:
            raise IndexFileError(f"{self.path}: inconsistent: a document frequency is not positive")

    def close(self) -> None:
        self.db.close()


class _Undo(Exception):
    """Rolls a trial's transaction back."""


class _Snapshot:
    """A transaction: ``begin`` on entry, committed on a clean exit, rolled back otherwise.

    A write that fails for want of disk (SQLite's "database or disk is full", or an I/O error)
    is raised as the :class:`OSError` it is, naming the index file ``where``: SQLite may have
    rolled back already, and a second rollback's "no transaction is active" must not hide it."""

    def __init__(self, db: sqlite3.Connection, where: str, begin: str, kind: type[_Reader]) -> None:
        self.db, self.where, self._begin, self._kind = db, where, begin, kind

    def __enter__(self) -> Any:
        self.db.execute(self._begin)
        return self._kind(self.db)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            try:
                self.db.execute("COMMIT")
            except sqlite3.Error as failed:
                self._rollback()
                raise _os_error(failed, self.where) or failed from None
            return
        self._rollback()
        if isinstance(error, sqlite3.Error) and (as_os := _os_error(error, self.where)) is not None:
            raise as_os from None

    def _rollback(self) -> None:
        if self.db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("ROLLBACK")


_SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL = 8, 10, 13
_DAMAGED = {11, 24, 26}  # SQLITE_CORRUPT, SQLITE_FORMAT, SQLITE_NOTADB


def _os_error(error: sqlite3.Error, where: str) -> OSError | None:
    """The :class:`OSError` behind an SQLite error, if it is one of the disk (full, or failing)."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return None
    if code & 0xFF == _SQLITE_FULL:
        return OSError(errno.ENOSPC, "No space left on device", where)
    if code & 0xFF == _SQLITE_READONLY:
        return OSError(errno.EROFS, "the index is read-only here (its file or folder is)", where)
    if code & 0xFF == _SQLITE_IOERR:
        return OSError(errno.EIO, f"disk I/O error ({error})", where)
    return None
