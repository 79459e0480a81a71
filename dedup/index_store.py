"""What an index store keeps and the interface both stores (SQLite, Redis) give the index.

A store holds, for every article, a :class:`Held` record, its LSH band keys, and the
document frequency of every term over the articles held. :class:`dedup.index.Index`
does all the featurising and scoring; a store only reads and writes, inside
transactions: :meth:`Store.read` runs a function on a consistent snapshot, and
:meth:`Store.write` runs one with the writes serialised against every other writer (a
function may run more than once if the store is optimistic, so it must not have effects
outside the writer it is given).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np

from dedup.hashing import sorted_distinct
from dedup.sign import HASH_SCHEME

FORMAT_VERSION = 1
"""The index format this version writes and reads (a newer index is refused)."""

T = TypeVar("T")


class DamagedRecord(Exception):
    """A stored record that cannot be read as what it should be; the store that met it names
    its index in the :class:`IndexFileError` it becomes."""


class HeldIdError(ValueError):
    """An article added under an id the index holds already (``article_id``)."""

    def __init__(self, article_id: str) -> None:
        self.article_id = article_id
        super().__init__(f"{article_id!r} is already in the index")


class IndexFileError(ValueError):
    """The index cannot be used: not an index, corrupt, newer, made with other parameters, or
    (Redis) not reachable. ``str(err)`` names the file or server."""


def damaged(location: str, reason: object) -> IndexFileError:
    """The error of an index found damaged at ``location`` (by a store, for either store)."""
    return IndexFileError(f"{location}: damaged: {reason} (dedup index check tells more)")


@dataclass(frozen=True, slots=True)
class Held:
    """What the index keeps of one article: its signature, sentence (or document) counts and
    the ids of its numbers (:mod:`dedup.numbers`; empty in records written before they were)."""

    id: str
    signature: np.ndarray  # uint32, num_perm
    terms: np.ndarray  # uint64, sentence by sentence (or the document's, with sentence_weight 0)
    counts: np.ndarray  # float32, one per entry of terms
    sizes: np.ndarray  # int32 terms per sentence (one entry for the document)
    numbers: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))  # uint64, sorted

    def document_terms(self) -> np.ndarray:
        """The article's distinct terms (what its document frequencies count)."""
        return sorted_distinct(self.terms)

    _HEADER = struct.Struct("<IIII")  # id bytes, signature, terms, sizes

    def pack(self) -> bytes:
        """One blob: a header of lengths, the id (UTF-8), then the arrays; the number ids last,
        filling the rest of the blob (so that a record without them reads the same)."""
        name = self.id.encode()
        return b"".join(
            (
                self._HEADER.pack(len(name), len(self.signature), len(self.terms), len(self.sizes)),
                name,
                self.signature.astype(np.uint32).tobytes(),
                self.terms.astype(np.uint64).tobytes(),
                self.counts.astype(np.float32).tobytes(),
                self.sizes.astype(np.int32).tobytes(),
                self.numbers.astype(np.uint64).tobytes(),
            )
        )

    @classmethod
    def unpack(cls, blob: bytes) -> Held:
        """The inverse of :meth:`pack` (arrays are read-only views of ``blob``); a blob cut
        short or not a record raises :class:`DamagedRecord`."""
        try:
            n_id, n_sig, n_terms, n_sizes = cls._HEADER.unpack_from(blob)
            at = cls._HEADER.size
            article_id = blob[at : at + n_id].decode()
            at += n_id
            parts = []
            layout = ((np.uint32, n_sig), (np.uint64, n_terms), (np.float32, n_terms), (np.int32, n_sizes))
            for dtype, n in layout:
                parts.append(np.frombuffer(blob, dtype=dtype, count=n, offset=at))
                at += n * np.dtype(dtype).itemsize
            numbers = np.frombuffer(blob, dtype=np.uint64, offset=at)
        except (struct.error, ValueError, UnicodeDecodeError):
            raise DamagedRecord(f"a record ({len(blob)} bytes) is cut short or not a record") from None
        return cls(article_id, *parts, numbers)


class Reader(Protocol):
    """Reads of the index inside one snapshot."""

    def count(self) -> int:
        """Articles held."""
        ...

    def has(self, article_id: str) -> bool: ...

    def present(self, ids: list[str]) -> set[str]:
        """Those of ``ids`` held (as committed: a writer's pending adds are not seen)."""
        ...

    def candidates(self, keys: list[tuple[int, int]], max_bucket: int, window: int) -> list[int]:
        """The sequence numbers of the held articles sharing a ``(band, key)``; of a bucket holding
        more than ``max_bucket``, the latest ``window``."""
        ...

    def load_seqs(self, seqs: list[int]) -> list[Held]:
        """The articles with these sequence numbers, in sequence order."""
        ...

    def load_ids(self, ids: list[str]) -> list[Held]:
        """The held articles among ``ids``, in sequence order."""
        ...

    def document_frequencies(self, terms: np.ndarray) -> np.ndarray:
        """How many held articles have each of ``terms`` (sorted uint64), as int64."""
        ...


class Writer(Reader, Protocol):
    """Reads and writes inside one write transaction; reads see the transaction's own writes."""

    def insert(self, held: Held, keys: list[tuple[int, int]]) -> None: ...

    def delete(self, held: Held, keys: list[tuple[int, int]]) -> None: ...


class Store(Protocol):
    """Where an index lives."""

    location: str

    def params(self) -> dict[str, Any] | None:
        """The stored parameters, or None for a new, empty index."""
        ...

    def create(self, params: dict[str, Any]) -> None:
        """Record the format and parameters of a new index (unless another process just did)."""
        ...

    def read(self, fn: Callable[[Reader], T]) -> T: ...

    def write(self, fn: Callable[[Writer], T]) -> T: ...

    def count(self) -> int: ...

    def has(self, article_id: str) -> bool: ...

    def stats(self) -> dict[str, Any]: ...

    def check(self) -> None: ...

    def close(self) -> None: ...


def shown_location(location: str) -> str:
    """``location`` as it may be printed or written: a URL's password, in its user part
    (``redis://:pw@host``, ``redis://user:pw@host``) or its query (``?password=pw``), as ``***``.
    Every message, summary and listing names an index by this."""
    if "://" not in location:
        return location
    parts = urlsplit(location)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        name = user.split(":", 1)[0]
        netloc = f"{name}:***@{host}"
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(k.lower() == "password" for k, _ in query):
        masked = [(k, "***" if k.lower() == "password" else v) for k, v in query]
        return urlunsplit(parts._replace(netloc=netloc, query=urlencode(masked, safe="*")))
    return urlunsplit(parts._replace(netloc=netloc))


def meta_record(params: dict[str, Any]) -> dict[str, str]:
    """What a new index records about itself."""
    return {"format_version": str(FORMAT_VERSION), "hash_scheme": HASH_SCHEME, "params": json.dumps(params)}


def params_from_meta(location: str, meta: dict[str, str]) -> dict[str, Any]:
    """The parameters an index records, once its format and hash scheme are checked; a record
    that is missing or unreadable is an :class:`IndexFileError` saying which."""
    try:
        version = int(meta.get("format_version", "0"))
    except (TypeError, ValueError):
        raise IndexFileError(
            f"{location}: damaged: its format version is {meta.get('format_version')!r}, not a number"
        ) from None
    if version > FORMAT_VERSION:
        raise IndexFileError(
            f"{location}: index format {version} is newer than this dedup reads ({FORMAT_VERSION}): "
            "upgrade dedup"
        )
    if meta.get("hash_scheme") != HASH_SCHEME:
        raise IndexFileError(
            f"{location}: made with hash scheme {meta.get('hash_scheme')!r}, this dedup uses {HASH_SCHEME!r}"
        )
    if "params" not in meta:
        raise IndexFileError(f"{location}: damaged: its parameters are missing")
    try:
        params = json.loads(meta["params"])
    except (TypeError, ValueError) as error:
        raise IndexFileError(f"{location}: damaged: its parameters are not JSON ({error})") from None
    if not isinstance(params, dict):
        raise IndexFileError(f"{location}: damaged: its parameters are not a JSON object")
    try:
        int(meta.get("articles", "0"))
    except (TypeError, ValueError):
        raise IndexFileError(
            f"{location}: damaged: its article count is {meta.get('articles')!r}, not a number"
        ) from None
    return params
