"""What an index store keeps and the interface both stores (SQLite, Redis) give the index.

A store holds, for every article, its :class:`~dedup.sketch.record.Sketch`, its LSH band keys, and the
document frequency of every term over the articles held. :class:`dedup.index.index.Index`
does all the featurising and scoring; a store only reads and writes, inside
transactions: :meth:`Store.read` runs a function on a consistent snapshot, and
:meth:`Store.write` runs one with the writes serialised against every other writer (a
function may run more than once if the store is optimistic, so it must not have effects
outside the writer it is given).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np

from dedup.sketch.minhash import HASH_SCHEME
from dedup.sketch.record import Sketch

FORMAT_VERSION = 1
"""The index format this version writes and reads (a newer index is refused)."""

T = TypeVar("T")

ON_HELD = ("error", "skip", "replace")
"""What an add does with an article whose id the index holds already: ``"error"`` raises
:class:`HeldIdError` (nothing of that batch is stored); ``"skip"`` leaves the held article as it
is (a job started again over input it partly added: the held half is skipped, the rest added as
one run would have added it); ``"replace"`` forgets the held article (its sketch, band keys and
document frequencies) and stores the new one in its place (a corrected text)."""

ADDED, REPLACED, SKIPPED = "added", "replaced", "skipped"
"""The outcomes of an article given to an add (:data:`ON_HELD`)."""


def check_on_held(on_held: str) -> None:
    """Refuse an ``on_held`` that is none of :data:`ON_HELD` (a ``ValueError`` naming them)."""
    if on_held not in ON_HELD:
        raise ValueError(f"on_held must be one of {', '.join(map(repr, ON_HELD))}; got {on_held!r}")


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

    def load_seqs(self, seqs: list[int]) -> list[Sketch]:
        """The articles with these sequence numbers, in sequence order."""
        ...

    def load_ids(self, ids: list[str]) -> list[Sketch]:
        """The held articles among ``ids``, in sequence order."""
        ...

    def document_frequencies(self, terms: np.ndarray) -> np.ndarray:
        """How many held articles have each of ``terms`` (sorted uint64), as int64."""
        ...


class Writer(Reader, Protocol):
    """Reads and writes inside one write transaction; reads see the transaction's own writes."""

    def insert(self, held: Sketch, keys: list[tuple[int, int]]) -> None: ...

    def delete(self, held: Sketch, keys: list[tuple[int, int]]) -> None: ...


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
