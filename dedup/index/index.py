"""A persistent, incremental index: "have we seen this story already?" for ingestion jobs.

This module is over 500 lines because :class:`Index` is one object over a store's transactions:
its adds, queries, loads and the cross-lingual hooks share that state (the cross-lingual
linking itself is :mod:`dedup.index.xling`).

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
articles that came later, and the reverse, are the differences; docs/persistent-index.md
gives their count on the dev set.)

Where it is kept is a store's business (:mod:`dedup.index.store`): by default one SQLite
file in WAL mode (:mod:`dedup.index.sqlite`), or a Redis server that many processes on many
machines share (:mod:`dedup.index.redis`). Both give the same verdicts, and in both each add
is one transaction, applied whole or not at all, before it returns. An article under an id held
already is an error, skipped, or replaces the held one, as ``on_held`` says (:data:`ON_HELD`): a
job that died half-way is run again over all of its input with ``on_held="skip"``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import scipy.sparse as sp

from dedup.arrays.hashing import vocabulary as term_vocabulary
from dedup.features import Features, Featurizer, uses_embeddings
from dedup.featurize import chunked
from dedup.index.store import (
    ADDED,
    FORMAT_VERSION,
    ON_HELD,
    REPLACED,
    SKIPPED,
    HeldIdError,
    IndexFileError,
    Reader,
    Store,
    Writer,
    check_on_held,
    shown_location,
)
from dedup.index.xling import Linker
from dedup.params import ALL_PAIRS_MAX_BUCKET, Params
from dedup.result import LanguageLink
from dedup.runtime.extras import require
from dedup.score.decision import Signals, score
from dedup.score.measure import measure_pairs as local_measure
from dedup.score.sentences import SentenceMatrix, sum_rows
from dedup.score.tfidf import smooth_idf, weigh_rows
from dedup.sketch.lsh import EMPTY, row_keys
from dedup.sketch.minhash import estimate_jaccard_pairs
from dedup.sketch.record import Sketch
from dedup.text.numbers import NumberSets

__all__ = [
    "FORMAT_VERSION",
    "ON_HELD",
    "STORED_PARAMS",
    "HeldIdError",
    "Index",
    "IndexFileError",
    "Loaded",
    "Match",
    "REDIS_SCHEMES",
]

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
    "cross_lingual",
    "xling_threshold",
    "xling_embeddings",
)
"""Parameters that shape what the index stores: an index is opened with the values it was made
with. The others (``threshold``, ``max_bucket``, ...) may differ from one opening to the next.
(An index made with ``xling_embeddings="auto"`` records ``"yes"`` or ``"no"``, as the extra was
installed or not; ``"auto"`` then opens it either way.)"""

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
"""Locations that name a Redis server (``pip install 'newsdedup[redis]'``) rather than a file."""


@dataclass(frozen=True, slots=True)
class Loaded:
    """What :meth:`Index.load` stored: ``added`` articles (ids new to the index), ``replaced``
    ones (held ids given their new text, ``on_held="replace"``), and the ``skipped`` ones (held
    ids left as they were, ``on_held="skip"``)."""

    added: int = 0
    replaced: int = 0
    skipped: int = 0

    def counts(self) -> dict[str, int]:
        """``{"added": ..., "replaced": ..., "skipped": ...}``, as a run's summary gives them."""
        return {"added": self.added, "replaced": self.replaced, "skipped": self.skipped}


_ASKED = "\x1fdedup query"  # the id a cross-lingual query is added under, in a transaction undone

_WINDOW = 8  # members of an oversized bucket a new article is compared with (the latest)


@dataclass(frozen=True, slots=True)
class Match:
    """An article held in the index that the asked-about text duplicates.

    Attributes:
        id: the held article's id.
        jaccard: MinHash estimate of the Jaccard similarity of their shingles.
        cosine: TF-IDF cosine of the two documents.
        match: sentence match in order (see :mod:`dedup.score.sentences`).
        score: the decision's score (:mod:`dedup.score.decision`): a duplicate when it reaches
            ``threshold``.
        order: the match in order over the match in any order.
        numbers: the agreement of their numbers, ``(shared + 1) / (fewer + 1)`` (None when
            either states none).
        kind: ``"duplicate"`` (the same-language decision's), or ``"cross_lingual"``: the same
            story in another language (:meth:`across`), listed after the duplicates.
        lang: a cross-lingual match's language.
        margin: a cross-lingual link's margin (its cosine over its nearest other candidates').
    """

    id: str
    jaccard: float
    cosine: float
    match: float
    score: float
    order: float = 1.0
    numbers: float | None = None
    kind: str = "duplicate"
    lang: str | None = None
    margin: float | None = None

    @classmethod
    def across(cls, article_id: str, lang: str, cosine: float, margin: float) -> Match:
        """A held article in another language that tells the same story (an index made with
        ``cross_lingual=True``): ``kind`` ``"cross_lingual"``, its ``lang``, and the ``cosine``
        and ``margin`` of the link that joined their groups (the weakest, if several did); its
        ``jaccard``, ``match`` and ``score`` are 0 (the same-language decision did not compare
        them)."""
        return cls(article_id, 0.0, cosine, 0.0, 0.0, 1.0, None, "cross_lingual", lang, margin)


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

    def __init__(self, store: Store, params: Params) -> None:
        self._store = store
        self.params = params
        self._featurizer = Featurizer(params)
        self._extras_checked = False
        self._bands, self._rows = params.bands_rows
        self._xling: Linker | None = None
        if params.cross_lingual:
            embeds = params.xling_embeddings == "yes"
            self._xling = Linker(params.link_margin(embeds), embeds)

    @classmethod
    def open(cls, location: str | os.PathLike[str], *, create: bool = True, **params: Any) -> Index:
        """Open the index at ``location``, making it with ``params`` if it does not exist.

        ``location`` is a file path (one SQLite file), or a Redis URL shared by many processes
        and machines: ``redis://host:port/db``, ``rediss://...`` or ``unix:///path.sock?db=0``,
        with an optional ``prefix=`` query parameter for the keys (default ``dedup:``), so that
        one Redis database can hold several indexes. An existing index keeps the parameters it
        was made with: a different value for one of :data:`STORED_PARAMS` is an
        :class:`IndexFileError`, as is a missing index with ``create=False``."""
        made: Params | None = None  # the parameters of an index made here, checked before it is
        store: Store
        if str(location).startswith(REDIS_SCHEMES):
            require("redis", f"{shown_location(str(location))}: a Redis index")
            from dedup.index.redis import RedisStore

            store = RedisStore(str(location))
        else:
            from dedup.index.sqlite import SqliteStore

            if not Path(location).exists():
                if not create:
                    raise IndexFileError(f"{location}: no such index")
                made = _new_params(params)  # (before the file is made: a mistake leaves none)
            store = SqliteStore(Path(location))
        try:
            stored = store.params()
            if stored is None and not create:
                raise IndexFileError(f"{store.location}: no such index")
            if stored is None:
                made = made or _new_params(params)
                store.create(made.to_dict())  # (unless another process just did)
                stored = store.params()
                assert stored is not None
            chosen = _reconcile(store.location, stored, params)
        except BaseException:
            store.close()
            raise
        return cls(store, chosen)

    @property
    def location(self) -> str:
        """The file, or the Redis URL (without its password)."""
        return self._store.location

    def close(self) -> None:
        """Close the file or connection (what was added is already committed)."""
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
        return self.query_many([text])[0]

    def query_many(self, texts: Iterable[str], *, batch: int = 100) -> list[list[Match]]:
        """:meth:`query` for each of ``texts``, featurised ``batch`` at a time and each batch
        answered from one snapshot of the index."""
        out: list[list[Match]] = []
        for chunk in chunked(texts, batch):
            if self._xling is not None:  # (what an add would find, in a transaction undone)
                for f in self._features(chunk):
                    out.append(self._store.trial(lambda w, f=f: self._add_features(w, [f], [_ASKED])[0][1]))
                continue
            held = [self._hold("", f) for f in self._features(chunk)]
            out.extend(self._store.read(lambda r, held=held: [self._matches(h, r) for h in held]))
        return out

    def add(self, article_id: str, text: str, *, on_held: str = "error") -> list[Match] | None:
        """Store the article and return the held articles it duplicates, best first.

        Committed before it returns. An id already held raises :class:`HeldIdError`, or with
        ``on_held="skip"`` leaves the held article as it is and returns None, or with
        ``on_held="replace"`` puts this one in its place (see :data:`ON_HELD`)."""
        return self.add_many([(article_id, text)], on_held=on_held)[0]

    def add_many(
        self, articles: Iterable[tuple[str, str]], *, batch: int = 100, on_held: str = "error"
    ) -> list[list[Match] | None]:
        """:meth:`add` for each ``(id, text)``, in order (each article is matched against the
        ones before it too), committed ``batch`` articles per transaction. With
        ``on_held="skip"``, an article whose id is held comes back as None (not matched, not
        stored, not even featurised): so a job that died half-way can be run again over all of
        its input, and what it adds is what one run would have added."""
        check_on_held(on_held)
        out: list[list[Match] | None] = []
        for chunk in chunked(articles, batch):
            out.extend(None if done == SKIPPED else found for done, found in self.add_batch(chunk, on_held))
        return out

    def load(
        self, articles: Iterable[tuple[str, str]], *, batch: int = 1000, on_held: str = "error"
    ) -> Loaded:
        """Store each ``(id, text)`` without matching it: a bulk load of articles whose
        duplicates are known already (a deduplicated archive, or a run's own articles once
        ``dedup run --index`` has matched them). ``batch`` articles per transaction; returns
        how many were added, replaced and skipped. An id already held raises
        :class:`HeldIdError` (its batch is not stored), unless ``on_held`` says otherwise
        (:data:`ON_HELD`)."""
        check_on_held(on_held)
        done = {ADDED: 0, REPLACED: 0, SKIPPED: 0}
        for chunk in chunked(articles, batch):
            for outcome, _ in self.add_batch(chunk, on_held, match=False):
                done[outcome] += 1
        return Loaded(done[ADDED], done[REPLACED], done[SKIPPED])

    def add_batch(
        self, chunk: list[tuple[str, str]], on_held: str = "error", *, match: bool = True
    ) -> list[tuple[str, list[Match]]]:
        """Store one batch of ``(id, text)`` in one transaction, each article matched (if
        ``match``) against those held before it: each article's outcome (:data:`ADDED`,
        :data:`REPLACED` or :data:`SKIPPED`) with its matches (none for a skipped one). What
        :meth:`add_many` and :meth:`load` do batch by batch."""
        check_on_held(on_held)
        for article_id, _ in chunk:
            _check_id(article_id)
        # With "skip", what is held already is not featurised (re-checked below, in the write)
        known = self.holding(i for i, _ in chunk) if on_held == "skip" else set()
        features = iter(self._features([text for i, text in chunk if i not in known]))
        given = [None if i in known else next(features) for i, _ in chunk]

        def write(w: Writer) -> list[tuple[str, list[Match]]]:
            found = self._add_features(w, given, [i for i, _ in chunk], on_held, match=match)
            return [(outcome, matches if match else []) for outcome, matches in found]

        return self._store.write(write)

    def _add_features(
        self,
        w: Writer,
        given: list[Features | None],
        ids: list[str],
        on_held: str = "error",
        *,
        match: bool = True,
    ) -> list[tuple[str, list[Match]]]:
        """Store articles (their features, None for one known to be held and skipped) in the
        writer's transaction, each matched against those held before it; with cross-lingual
        linking, the groups the batch touched are linked at the end (:mod:`dedup.index.xling`)
        and each article's matches end with the held articles of other languages in its story."""
        sketches = [None if f is None else self._hold(i, f) for i, f in zip(ids, given, strict=True)]
        if on_held == "error":
            self._refuse_held([h for h in sketches if h is not None], w)
        out: list[tuple[str, list[Match]]] = []
        touched: list[int] = []
        for h, f in zip(sketches, given, strict=True):
            outcome = ADDED
            if h is None or f is None or (on_held == "skip" and w.has(h.id)):
                out.append((SKIPPED, []))
                continue
            if on_held == "replace" and w.has(h.id):  # (it may have come earlier in the batch)
                (old,) = w.load_ids([h.id])
                w.delete(old, self._keys(old.signature))
                if self._xling is not None:
                    self._xling.forget(w, h.id)
                outcome = REPLACED
            found = self._matches(h, w) if match or self._xling is not None else []
            out.append((outcome, found))
            w.insert(h, self._keys(h.signature))
            if self._xling is not None:
                touched.append(self._xling.hold(w, h.id, f, [m.id for m in found]))
        if self._xling is not None and touched:
            self._xling.link(w, touched)
            added = [h.id for h, (outcome, _) in zip(sketches, out, strict=True) if outcome != SKIPPED and h]
            across = self._xling.matches(w, added)
            out = [
                (outcome, [*found, *(Match.across(x.id, x.lang, x.cosine, x.margin) for x in across[h.id])])
                if h is not None and outcome != SKIPPED
                else (outcome, found)
                for h, (outcome, found) in zip(sketches, out, strict=True)
            ]
        return out

    def links(self) -> list[LanguageLink]:
        """The cross-lingual links the index holds (an index made with ``cross_lingual=True``):
        each between the first members (by the order they were added) of two groups."""
        if self._xling is None:
            return []
        linker = self._xling
        return self._store.read(lambda r: [LanguageLink(*x) for x in linker.links(r)])

    def holding(self, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` the index holds (one lookup for them all)."""
        wanted = list(dict.fromkeys(ids))
        for article_id in wanted:
            _check_id(article_id)
        return self._store.read(lambda r: r.present(wanted)) if wanted else set()

    def remove(self, article_id: str) -> None:
        """Forget an article (``KeyError`` if it is not held)."""
        _check_id(article_id)

        def forget(w: Writer) -> None:
            held = w.load_ids([article_id])
            if not held:
                raise KeyError(article_id)
            w.delete(held[0], self._keys(held[0].signature))
            if self._xling is not None:
                self._xling.forget(w, article_id)

        self._store.write(forget)

    def stats(self) -> dict[str, Any]:
        """What the index holds, where, its size (bytes on disk, or in Redis's memory) and the
        parameters it was made with."""
        return {**self._store.stats(), "params": self.params.to_dict()}

    def check(self) -> None:
        """Check the store's integrity and the index's own counts; raise :class:`IndexFileError`
        if anything is wrong."""
        self._store.check()

    # -- internals --------------------------------------------------------------------------

    @staticmethod
    def _refuse_held(held: list[Sketch], w: Writer) -> None:
        """Checked before anything is written: a batch is stored whole or not at all."""
        seen: set[str] = set()
        for h in held:
            if h.id in seen or w.has(h.id):
                raise HeldIdError(h.id)
            seen.add(h.id)

    def _features(self, texts: list[str]) -> list[Features]:
        """The features of ``texts``; the extras the index's parameters need are checked first
        (once), so that an index made with ``transliterate`` opens without unidecode for
        ``stats``, ``check`` and ``remove``, and says what to install when asked to featurise."""
        if not self._extras_checked:
            self.params.require_extras()
            self._extras_checked = True
        return self._featurizer.batch(texts)

    def _hold(self, article_id: str, f: Features) -> Sketch:
        assert f.signature is not None
        _check_id(article_id)
        if self.params.sentence_weight > 0:
            terms, counts, sizes = f.sentence_terms, f.sentence_counts, f.sentence_sizes
        else:
            terms, counts, sizes = f.terms, f.counts, np.array([len(f.terms)], dtype=np.int32)
        numbers = f.numbers if self.params.number_weight > 0 else np.zeros(0, dtype=np.uint64)
        return Sketch(
            article_id, f.signature, terms, counts.astype(np.float32), sizes.astype(np.int32), numbers
        )

    def _keys(self, signature: np.ndarray) -> list[tuple[int, int]]:
        """The (band, key) of each band, none for an empty signature (no shingles)."""
        if np.all(signature == EMPTY):
            return []
        r = self._rows
        bands = signature[: self._bands * r].reshape(self._bands, r)
        keys = row_keys(bands).view(np.int64).tolist()
        return list(enumerate(keys))

    def _matches(self, new: Sketch, reader: Reader) -> list[Match]:
        cap = self.params.max_bucket if self.params.max_bucket is not None else ALL_PAIRS_MAX_BUCKET
        seqs = reader.candidates(self._keys(new.signature), cap, _WINDOW)
        if not seqs:
            return []
        held = reader.load_seqs(seqs)
        p = self.params
        jac = estimate_jaccard_pairs(
            np.stack([new.signature, *(h.signature for h in held)]), _against_first(len(held))
        )
        close = jac >= p.min_jaccard  # (a batch run's floor on band hits)
        held, jac = [h for h, c in zip(held, close.tolist(), strict=True) if c], jac[close]
        if not held:
            return []
        signals = _measure(new, held, reader, self.params)
        scores = score(signals, sentence_weight=p.sentence_weight, number_weight=p.number_weight)
        out = []
        for k, (h, j, s) in enumerate(zip(held, jac, scores, strict=True)):
            if s >= p.threshold:
                cosine, match, order, numbers = signals.rounded(k)
                out.append(
                    Match(
                        h.id, round(float(j), 4), cosine, match, round(min(float(s), 1.0), 4), order, numbers
                    )
                )
        return sorted(out, key=lambda m: (-m.score, m.id))


def _measure(new: Sketch, held: list[Sketch], reader: Reader, p: Params, *, counted: bool = False) -> Signals:
    """The signals of ``new`` with each of ``held``, with the IDF of the articles held plus
    ``new`` (as if it were added), or, if ``counted``, of the articles ``reader`` counts (which
    include ``new``): a batch run's scores, given its document frequencies."""
    return measure_pairs([new, *held], _against_first(len(held)), reader, p, adding=None if counted else new)


def measure_pairs(
    articles: list[Sketch], pairs: np.ndarray, reader: Reader, p: Params, *, adding: Sketch | None = None
) -> Signals:
    """The :class:`~dedup.score.decision.Signals` of each ``(a, b)`` row of ``pairs`` (indices into
    ``articles``), with the IDF of the articles ``reader`` counts, plus ``adding`` if given (an
    article scored as if it were already held), as a batch run measures them. Every pair is
    scored in one pass: the articles' sentence rows make one sparse matrix."""
    vocabulary, columns = term_vocabulary(np.concatenate([a.terms for a in articles]))
    df = reader.document_frequencies(vocabulary)
    if adding is not None:
        df[np.searchsorted(vocabulary, adding.document_terms())] += 1
    idf = smooth_idf(reader.count() + (0 if adding is None else 1), df)
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
    numbers = NumberSets.of([a.numbers for a in articles]) if p.number_weight > 0 else None
    sentences = None
    if p.sentence_weight > 0:
        sentence_counts = sp.csr_matrix(sentence_counts, dtype=np.float32)
        weights = weigh_rows(sentence_counts, idf, sublinear_tf=True)
        sentences = SentenceMatrix(sentence_counts, weights, ptr)
    # (not by block: the stretches come in the order of the pairs)
    parts = local_measure(pairs, documents, sentences, numbers, ordered=p.sentence_order, params=p)
    return Signals.concatenate([got for _, got in parts])


def _against_first(n: int) -> np.ndarray:
    """The pairs (0, 1), (0, 2), ..., (0, n): the new article (row 0) with each held one."""
    return np.column_stack([np.zeros(n, dtype=np.int64), np.arange(1, n + 1)])


def _check_id(article_id: str) -> None:
    """An id an index can hold and find whole: a string without a NUL character (the stores
    look ids up through JSON lists, whose text SQLite ends at a NUL: ``a\x00b`` would be ``a``)."""
    if not isinstance(article_id, str) or "\x00" in article_id:
        raise ValueError(f"an article id must be a string without a NUL character, not {article_id!r}")


def _new_params(given: dict[str, Any]) -> Params:
    """The parameters of a new index: checked whole, their extras installed, before it is made."""
    params = Params.from_kwargs(**given)
    params.require_extras()
    if params.cross_lingual and params.xling_embeddings == "auto":  # (what it means here, recorded)
        params = dataclasses.replace(params, xling_embeddings="yes" if uses_embeddings(params) else "no")
    return params


def _reconcile(location: str | os.PathLike[str], stored: dict[str, Any], given: dict[str, Any]) -> Params:
    """The parameters of an existing index: the stored ones, with the free ones as given."""
    merged = dict(stored)
    for name, value in given.items():
        if name == "xling_embeddings" and value == "auto" and stored.get(name) in ("yes", "no"):
            continue  # (the index's choice, made when it was made)
        if name in ("xling_threshold", "xling_embeddings") and not stored.get("cross_lingual"):
            merged[name] = value  # (no matter to an index that links no languages)
            continue
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
