"""One article's sketch as one blob: what the index stores and the Spark engine ships.

An article is read once; what the later stages need of it (its signature for the candidates,
its sentence term counts and number ids for the verification) packs into bytes that any store
or any machine can hold, and unpacks to read-only views without a copy.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from dedup.arrays.hashing import sorted_distinct


class DamagedRecord(Exception):
    """A stored record that cannot be read as what it should be; the store that met it names
    its index in the :class:`IndexFileError` it becomes."""


@dataclass(frozen=True, slots=True)
class Sketch:
    """What is kept of one article once it is read: its MinHash signature, its sentence (or
    document) term counts and the ids of its numbers (:mod:`dedup.text.numbers`; empty in records
    written before they were). The index stores it; the Spark engine carries it between stages."""

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
    def unpack(cls, blob: bytes) -> Sketch:
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
