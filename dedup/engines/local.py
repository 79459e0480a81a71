"""The local engine: articles in, verified pairs, clusters and a summary out, on one machine.

read → normalise → sign (MinHash) → candidates (LSH) → verify (TF-IDF, sentence match, numbers)
→ cluster. :class:`Detector` takes articles one at a time, so a caller can stream a dump through
it; :meth:`Detector.finish` runs the stages after reading, each a named method
(``_candidates``, ``_verify``, ``_cluster``, ``_listed_pairs``, ``_summary``);
:func:`dedup.find_duplicates` is the one-call form.

This module is over 500 lines because the Detector is one object that keeps a run's state from
the first article to the result (the store of spilled columns, the signatures, the ids and the
exact copies, the hook) and every stage reads that state: split across modules, each stage would
take a dozen of its fields as arguments.
"""

from __future__ import annotations

import dataclasses
import os
import time
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from dedup.arrays.hashing import term_ids
from dedup.arrays.keymap import KeyMap
from dedup.arrays.rows import Matrix
from dedup.arrays.store import FAMILY_ROWS, Ragged, Store, trim_heap
from dedup.cluster import FAMILY_SIZE, choose_representative, cluster_pairs, spanning_positions
from dedup.features import FeatureBatch, Features, Featurizer, uses_embeddings
from dedup.featurize import featurize_batches
from dedup.io.article import Article
from dedup.params import Params
from dedup.result import Cluster, LanguageLink, Pair, Result, versions
from dedup.runtime.memory import MemoryGuard, can_measure, check_limit, work_budget, workers_within
from dedup.runtime.progress import Progress, no_progress
from dedup.score.decision import Signals, score
from dedup.score.gather import BUDGET as GATHER_BUDGET
from dedup.score.gather import component_order, positions
from dedup.score.measure import PairValues, measure_pairs, member_scores, pair_scores
from dedup.score.sentences import SentenceBuilder, SentenceMatrix
from dedup.score.tfidf import TfidfBuilder, tfidf_rows
from dedup.sketch.lsh import (
    LEADERS,
    Banded,
    CandidateStats,
    band_keys,
    candidate_pairs,
    has_shingles,
    signature_ranks,
)
from dedup.sketch.minhash import HASH_SCHEME, Signer, estimate_jaccard_pairs
from dedup.text.language import by_frequency
from dedup.text.numbers import NumberSets

SIGN_BATCH = 1_000


class RunHook:
    """Sees the inner steps of :meth:`Detector.finish` (what :mod:`dedup.explain` reports), without
    changing them: :meth:`candidates` and :meth:`verified` are called once, :meth:`linkage` once
    per batch of components, with arrays they must not modify. This one does nothing; a subclass
    overrides what it needs (``Detector(params, hook=...)``)."""

    def candidates(self, signatures: np.ndarray, pairs: np.ndarray) -> None:
        """The ``(n, num_perm)`` MinHash signatures and the ``(k, 2)`` LSH candidate pairs."""

    def verified(self, pairs: np.ndarray, scores: np.ndarray, measure: Callable[..., Signals]) -> None:
        """The verified pairs and their scores, and ``measure(pairs, ordered=...)``: the
        :class:`~dedup.score.decision.Signals` of any pairs of articles, measured as the run measures
        its candidates (``ordered``: the sentence match in order; default the run's). ``measure``
        can be called until :meth:`Detector.finish` returns."""

    def linkage(self, groups: list[np.ndarray], scores: list[np.ndarray]) -> None:
        """Components the linkage re-clusters (sorted article indices) and their score matrices."""


@dataclass
class _Verified:
    """What verification hands the later stages: the matrices it read (the rows of the members it
    numbers: all, or those gathered, in ``order``), every candidate's score, and the verified
    pairs with their signals."""

    matrix: Matrix
    sentences: SentenceMatrix | None
    numbers: NumberSets | None  # (of the rows)
    all_numbers: NumberSets | None  # (of every member: whether an exact copy states any)
    order: np.ndarray | None  # the member of each row (gathered); None: the rows are the members
    local_of: np.ndarray | None  # each member's row (gathered), -1 for none
    cands: np.ndarray  # the candidate pairs, numbered as the rows
    measured: np.ndarray  # float32, each candidate's score
    local: np.ndarray  # the verified pairs, numbered as the rows
    verified: np.ndarray  # the verified pairs, numbered as the members
    signals: Signals
    scores: np.ndarray
    jaccard: np.ndarray


class Detector:
    """Streams articles through signing and term counting, then finds duplicates.

    It keeps one MinHash signature (``4 * num_perm`` bytes) and one sparse
    term-count row per sentence (8 bytes a distinct term) for each article, never
    the texts; with word 1-gram TF-IDF (the default) the document rows are summed
    from the sentence rows at the end, otherwise one more row per article. With
    ``spill_dir`` the rows and signatures go to files there (:mod:`dedup.arrays.store`), and
    verification reads a copy of the rows it needs, gathered family by family
    (:mod:`dedup.score.gather`; ``gather=False`` reads them where they are, with the same results).
    :meth:`add_many` spreads the featurising over worker processes.

    Examples:
        >>> det = Detector(Params())
        >>> det.add(Article("a", "Xi visits Putin in Moscow for talks on Ukraine."))
        >>> det.add(Article("b", "Xi visits Putin in Moscow for talks about Ukraine."))
        >>> [c.members for c in det.finish().clusters]
        [['a', 'b']]
    """

    def __init__(
        self,
        params: Params | None = None,
        *,
        progress: Progress = no_progress,
        spill_dir: str | os.PathLike[str] | None = None,
        hook: RunHook | None = None,
        gather: bool | None = None,
        memory_limit: int | str | None = None,
    ) -> None:
        self.params = p = params or Params()
        p.require_extras()  # (a missing extra: one line, before any spill folder is made)
        limit = check_limit(memory_limit)
        if limit is not None and not can_measure():
            raise ValueError("memory_limit needs Linux's /proc to measure the run's memory")
        self.memory_limit = limit
        self._guard = MemoryGuard(limit) if limit is not None else None
        self._stage = "while reading"
        self._gather = gather  # (None: when spilled; see _gather_order)
        self._progress = progress
        self._hook = hook
        self._featurizer: Featurizer | None = None
        self._signer = Signer(num_perm=p.num_perm, seed=p.seed)
        self._store = Store(spill_dir)
        self._result: Result | None = None
        self._sentences = SentenceBuilder(store=self._store) if p.sentence_weight > 0 else None
        # Word 1-gram document vectors are the sums of the sentence vectors' counts: not stored twice.
        from_sentences = (
            self._sentences is not None and p.tfidf_analyzer == "word" and p.tfidf_ngrams == (1, 1)
        )
        self._tfidf = (
            None
            if from_sentences
            else TfidfBuilder(
                analyzer=p.tfidf_analyzer, ngram_range=p.tfidf_ngrams, sublinear_tf=p.sublinear_tf
            )
        )
        self.ids: list[str] = []
        self.langs: list[str] = []
        self._fingerprints: list[np.ndarray] = []
        # With embeddings, each article's head (what is embedded if it speaks for its group), as
        # UTF-8 bytes one after the other; linking embeds one article per group, on _threads.
        self._embeds = p.cross_lingual and uses_embeddings(p)
        self._heads = bytearray()
        self._head_ends = array("q")
        self._embedded: int | None = None  # (how many texts linking embedded)
        self._threads = 1
        # Each article's position by its id, 16 bytes an id (KeyMap), checked against self.ids;
        # ids whose 64-bit hash another id already has (rare) are in the dict.
        self._id_positions = KeyMap()
        self._collided_ids: dict[str, int] = {}
        self._lengths = array("q")  # each article's length (8 bytes, no object per article)
        self._numbers = Ragged(self._store, "numbers", np.uint64)  # each member's number ids
        self._pending: list[np.ndarray] = []
        # Each member's signature (4 * num_perm bytes); a spilled run also keeps, as they come,
        # what banding reads (a key per band, a rank, whether it has shingles), so that banding
        # reads 8 bytes a member per band rather than every signature once per band.
        self._signatures = self._store.column("signatures", np.uint32)
        self._banded = self._store.spilled
        bands, self._rows = p.bands_rows
        self._band_keys = (
            [self._store.column(f"band-{b}", np.uint64, buffer=1 << 20) for b in range(bands)]
            if self._banded
            else []
        )
        self._ranks = self._store.column("ranks", np.int64) if self._banded else None
        self._shingled = self._store.column("shingled", np.bool_) if self._banded else None
        # Exact copies (one normalised text) are one member for everything after reading: the
        # rows, signatures and numbers above are kept per member, the rest per article.
        self._collapse = not p.all_pairs
        self._member_of = array("q")  # each article's member
        self._first = array("q")  # each member's first article
        self._content_member = KeyMap()  # each distinct normalised text's member
        self.skipped = 0
        self.timings = {"read_sign": 0.0}
        self._t0 = time.perf_counter()

    def add(self, article: Article) -> None:
        """Take one article into the run (its text is not kept)."""
        self._check_open()
        self._refuse_seen_ids([article.id])
        t0 = time.perf_counter()
        if self._featurizer is None:
            self._featurizer = Featurizer(self.params)
        self._accept(article.id, self._featurizer(article.text))
        self.timings["read_sign"] += time.perf_counter() - t0

    def add_many(self, articles: Iterable[Article], *, workers: int = 1) -> int:
        """Take a stream of articles in, featurised by ``workers`` processes; returns how many.

        The result of the run does not depend on ``workers``. Under a ``memory_limit``, no
        more workers start than it holds (:func:`dedup.runtime.memory.workers_within`). An id seen
        before raises ``ValueError`` before its features are kept.
        """
        self._check_open()
        t0 = time.perf_counter()
        workers = workers_within(self.memory_limit, workers)
        self._threads = max(self._threads, workers)

        def texts() -> Iterator[str]:
            for article in articles:
                order.append(article.id)
                yield article.text

        order: deque[str] = deque()
        n = 0
        for batch in featurize_batches(texts(), self.params, workers=workers, fields=self._fields()):
            self._accept_batch([order.popleft() for _ in range(len(batch))], batch)
            n += len(batch)
        self.timings["read_sign"] += time.perf_counter() - t0
        return n

    def _fields(self) -> tuple[str, ...]:
        """The arrays of :class:`Features` this run keeps (the signature and length always)."""
        fields = ("terms", "counts") if self._tfidf is not None else ()
        if self._sentences is not None:
            fields += ("sentence_terms", "sentence_counts", "sentence_sizes")
        if self.params.cross_lingual:
            fields += ("fingerprint",)
        if self._embeds:
            fields += ("head",)
        if self.params.number_weight > 0:
            fields += ("numbers",)
        return fields

    def _admit(self, contents: list[int]) -> list[bool]:
        """Record the member of each of the next articles (by their :attr:`Features.content`):
        which of them are new members (the others are exact copies of one seen before)."""
        collapse = self._collapse
        if collapse:
            known = self._content_member.get_many(np.array(contents, dtype=np.uint64))[:, 0].tolist()
        else:
            known = [-1] * len(contents)
        added: dict[int, int] = {}  # (the texts new in this batch)
        new = []
        for content, member in zip(contents, known, strict=True):
            if member < 0 and content and collapse:
                member = added.get(content, -1)
            if member < 0:
                member = len(self._first)
                self._first.append(len(self._member_of))
                if content and collapse:
                    added[content] = member
                    self._content_member.add(content, member)
                new.append(True)
            else:
                new.append(False)
            self._member_of.append(member)
        return new

    def _refuse_seen_ids(self, article_ids: list[str]) -> None:
        """Raise ValueError naming the first of ``article_ids`` that was taken in before or
        repeats an earlier one of them."""
        if len(set(article_ids)) < len(article_ids):
            seen: set[str] = set()
            for x in article_ids:
                if x in seen:
                    raise ValueError(f"duplicate id {x!r}")
                seen.add(x)
        found = self.positions(article_ids)
        for x, at in zip(article_ids, found.tolist(), strict=True):
            if at >= 0:
                raise ValueError(f"duplicate id {x!r}")

    def positions(self, article_ids: list[str]) -> np.ndarray:
        """The position of each id among the articles taken in (-1: not taken in)."""
        if not article_ids:
            return np.zeros(0, dtype=np.int64)
        keys = term_ids(article_ids)
        found = self._id_positions.get_many(keys)[:, 0]
        for k in np.flatnonzero(found >= 0).tolist():
            if self.ids[found[k]] != article_ids[k]:  # another id with the same hash
                found[k] = self._collided_ids.get(article_ids[k], -1)
        return found

    def _register_ids(self, article_ids: list[str]) -> None:
        start = len(self.ids)
        self.ids.extend(article_ids)
        keys = term_ids(article_ids)
        taken = self._id_positions.get_many(keys)[:, 0].tolist()
        fresh: set[int] = set()  # (the keys this call adds)
        for k, (key, at) in enumerate(zip(keys.tolist(), taken, strict=True)):
            if at >= 0 or key in fresh:
                self._collided_ids[article_ids[k]] = start + k
            else:
                self._id_positions.add(key, start + k)
                fresh.add(key)

    @property
    def member_of(self) -> np.ndarray:
        """Each article's member: the index of the first article with its normalised text among
        the distinct texts (what the hook's arrays and :meth:`finish`'s stages are indexed by)."""
        return np.frombuffer(self._member_of, dtype=np.int64).copy()

    def _accept(self, article_id: str, features: Features) -> None:
        self._register_ids([article_id])
        self.langs.append(features.lang)
        self._lengths.append(features.length)
        if self.params.cross_lingual:
            self._fingerprints.append(features.fingerprint)
            if self._embeds:
                self._heads += features.head.tobytes()
                self._head_ends.append(len(self._heads))
        if not self._admit([features.content])[0]:
            return
        if features.signature is None:
            self._pending.append(features.shingles)
        else:
            self._flush()  # keep the signatures in the order of the articles
            self._keep_signatures(features.signature[None, :])
        if self._tfidf is not None:
            self._tfidf.add_counts(features.terms, features.counts)
        if self._sentences is not None:
            f = features
            self._sentences.add_counts(f.sentence_terms, f.sentence_counts, f.sentence_sizes)
        if self.params.number_weight > 0:
            self._numbers.extend(features.numbers, np.array([len(features.numbers)]))
        if len(self._pending) >= SIGN_BATCH:
            self._flush()
        self._check_memory()

    def _accept_batch(self, article_ids: list[str], batch: FeatureBatch) -> None:
        """:meth:`_accept` for a packed batch at once (less work in this process, which is
        what the workers wait for)."""
        self._refuse_seen_ids(article_ids)
        self._register_ids(article_ids)
        self.langs.extend(batch.langs)
        self._lengths.frombytes(np.ascontiguousarray(batch.lengths, dtype=np.int64).tobytes())
        if self.params.cross_lingual:
            ends = np.cumsum(batch.sizes_of("fingerprint"))
            self._fingerprints.extend(np.split(batch.column("fingerprint"), ends[:-1]))
            if self._embeds:
                self._heads += batch.column("head").tobytes()
                ends = len(self._heads) - batch.column("head").nbytes + np.cumsum(batch.sizes_of("head"))
                self._head_ends.frombytes(ends.astype(np.int64).tobytes())
        contents = batch.contents.tolist() if len(batch.contents) else [0] * len(batch)
        new = self._admit(contents)
        if not all(new):
            batch = batch.select(np.array(new, dtype=bool))
            if len(batch) == 0:
                return
        self._flush()
        self._keep_signatures(batch.signatures)
        if self._tfidf is not None:
            for f in batch.features():
                self._tfidf.add_counts(f.terms, f.counts)
        if self._sentences is not None:
            c = batch.columns
            self._sentences.add_many(
                c["sentence_terms"],
                c["sentence_counts"],
                c["sentence_sizes"],
                batch.sizes_of("sentence_sizes"),
                vocabulary=batch.vocabulary,
            )
        if self.params.number_weight > 0:
            self._numbers.extend(batch.column("numbers"), batch.sizes_of("numbers"))
        self._check_memory()

    def _check_memory(self, *, force: bool = False) -> None:
        """Stop the run (MemoryLimitError) if its processes hold more than ``memory_limit``."""
        if self._guard is not None:
            self._guard.check(f"{self._stage} ({len(self.ids):,} articles read)", force=force)

    def _release(self) -> None:
        """After a block of work: hand back the spilled pages it read, and check the memory."""
        self._store.release()
        self._check_memory()

    def _number_sets(self) -> NumberSets | None:
        """The articles' numbers (None when the decision does not compare them)."""
        if self.params.number_weight == 0:
            return None
        return NumberSets(self._numbers.values(), self._numbers.offsets())

    def _flush(self) -> None:
        if self._pending:
            self._keep_signatures(self._signer.sign_hashes(self._pending))
            self._pending = []

    def _keep_signatures(self, signatures: np.ndarray) -> None:
        """Keep the next members' signatures (and, spilled, what banding will read of them)."""
        self._signatures.extend(signatures.ravel())
        if self._banded and len(signatures):
            assert self._ranks is not None and self._shingled is not None
            for column, keys in zip(
                self._band_keys, band_keys(signatures, len(self._band_keys), self._rows), strict=True
            ):
                column.extend(keys)
            self._ranks.extend(signature_ranks(signatures))
            self._shingled.extend(has_shingles(signatures))

    def _banded_view(self, signatures: np.ndarray) -> Banded:
        """What banding reads: made from the signatures, or (spilled) from the columns kept."""
        if not self._banded:
            return Banded.of(signatures, self._rows)
        assert self._ranks is not None and self._shingled is not None
        valid = np.flatnonzero(self._shingled.view())
        ranks, columns = self._ranks, self._band_keys
        return Banded(
            n=len(signatures),
            valid=valid,
            band=lambda b: columns[b].view()[valid],
            ranks=lambda: ranks.view()[valid],
            signatures=signatures,
            release=self._release,
        )

    def __len__(self) -> int:
        return len(self.ids)

    def close(self) -> None:
        """Remove spilled files (done by :meth:`finish`; call it when a run is abandoned)."""
        self._store.close()

    def _check_open(self) -> None:
        if self._result is not None:
            raise RuntimeError("this Detector has finished: it takes no more articles")

    def finish(self) -> Result:
        """Find candidates, verify them, cluster, and summarise (once: a second call returns the
        same result). Spilled files are removed when it returns."""
        if self._result is None:
            try:
                self._result = self._finish()
            finally:
                self._store.close()
        return self._result

    def _finish(self) -> Result:
        """The stages after reading, each named and timed: candidates, verification, clustering,
        the pairs that made each cluster, the summary."""
        signatures = self._end_reading()
        cands, cstats = self._candidates(signatures)
        v = self._verify(signatures, cands)
        t0 = time.perf_counter()
        with self._progress("cluster", None):  # (of unknown length: its time is shown)
            member_of = self.member_of
            groups, clusters, reps, links = self._cluster(v, member_of)
            pairs = self._listed_pairs(v, signatures, member_of, groups, reps)
        self.timings["cluster"] = time.perf_counter() - t0
        return Result(
            pairs=pairs,
            clusters=clusters,
            summary=self._summary(cands, cstats, v, member_of, pairs, clusters, links),
            languages=dict(zip(self.ids, self.langs, strict=True)),
            links=links,
        )

    def _end_reading(self) -> np.ndarray:
        """The last signatures made; the ``(members, num_perm)`` signature array."""
        t0 = time.perf_counter()
        self._flush()
        signatures = self._signatures.view().reshape(-1, self.params.num_perm)
        trim_heap()  # (what reading freed)
        self.timings["read_sign"] += time.perf_counter() - t0
        return signatures

    def _candidates(self, signatures: np.ndarray) -> tuple[np.ndarray, CandidateStats]:
        """Stage candidates: the LSH candidate pairs of members and banding's counts."""
        p = self.params
        t0 = time.perf_counter()
        self._stage = "while finding candidates"
        self._check_memory(force=True)
        bands, rows = p.bands_rows
        with self._progress("candidates", bands) as bar:
            cands, cstats = candidate_pairs(
                self._banded_view(signatures),
                bands=bands,
                rows=rows,
                max_bucket=p.bucket_cap,
                leaders=None if p.all_pairs else LEADERS,
                min_jaccard=p.min_jaccard,
                on_band=lambda: bar.update(1),
            )
        trim_heap()  # (the band keys and pair codes banding freed)
        self.timings["candidates"] = time.perf_counter() - t0
        if self._hook is not None:
            self._hook.candidates(signatures, cands)

        for column in self._band_keys:  # (banding is done: their files are removed)
            self._store.discard(column)
        self._band_keys = []
        return cands, cstats

    def _verify(self, signatures: np.ndarray, cands: np.ndarray) -> _Verified:
        """Stage verify: every candidate pair measured and scored; those at the threshold kept."""
        p = self.params
        m = len(self._first)  # the members: the distinct texts (exact copies are one)
        t0 = time.perf_counter()
        self._stage = "while verifying"
        self._check_memory(force=True)
        all_numbers = self._number_sets()
        # Spilled, the rows of the members in some candidate pair are gathered first, component
        # by component (dedup.score.gather): every later stage reads them in order, and the others'
        # never again. Members are then numbered in that order (`order`: each one's member).
        order = self._gather_order(m, cands)
        local_of = None
        if order is not None:
            assert self._sentences is not None
            budget = None if self.memory_limit is None else work_budget(self.memory_limit, GATHER_BUDGET)
            matrix, sentences = self._sentences.gathered(order, sublinear_tf=p.sublinear_tf, budget=budget)
            numbers = all_numbers.take(order) if all_numbers is not None else None
            local_of = positions(m, order)
            cands = local_of[cands]  # (i < j stays: the order keeps a component's)
            cands = cands[np.lexsort((cands[:, 1], cands[:, 0]))]
        else:
            if self._tfidf is not None:
                matrix = self._tfidf.matrix()
            else:
                assert self._sentences is not None
                counts = self._sentences.document_counts()
                matrix = tfidf_rows(
                    counts,
                    sublinear_tf=p.sublinear_tf,
                    df=self._sentences.document_frequencies(),
                    release=self._release,
                )
            sentences = self._sentences.matrix() if self._sentences is not None else None
            numbers = all_numbers
        # Every candidate's score is kept (float32: the linkage reuses them); the signals only
        # for the verified pairs. A spilled run visits them block pair by block pair.
        measured = np.zeros(len(cands), dtype=np.float32)
        found: list[tuple[np.ndarray, Signals, np.ndarray]] = []
        with self._progress("verify", len(cands)) as bar:
            for idx, signals in measure_pairs(
                cands,
                matrix,
                sentences,
                numbers,
                ordered=p.sentence_order,
                params=p,
                by_block=self._store.spilled,
                release=self._release,
            ):
                scores = score(signals, sentence_weight=p.sentence_weight, number_weight=p.number_weight)
                measured[idx] = scores
                keep = np.flatnonzero(scores >= p.threshold)
                found.append((idx[keep], signals.take(keep), scores[keep]))
                bar.update(len(idx))
        at = np.concatenate([f[0] for f in found]) if found else np.zeros(0, dtype=np.int64)
        vsignals = Signals.concatenate([f[1] for f in found])
        vscore = np.concatenate([f[2] for f in found]) if found else np.zeros(0)
        back = np.argsort(at)  # the verified pairs in the order of the candidates
        at, vsignals, vscore = at[back], vsignals.take(back), vscore[back]
        local = cands[at]  # (numbered as verification numbers the members)
        verified = local if order is None else order[local]
        if order is not None:  # in the members' order, as without gathering
            back = np.lexsort((verified[:, 1], verified[:, 0]))
            local, verified, vsignals, vscore = local[back], verified[back], vsignals.take(back), vscore[back]
        vjac = estimate_jaccard_pairs(signatures, verified, release=self._release if self._banded else None)
        self.timings["verify"] = time.perf_counter() - t0
        if self._hook is not None:

            def measure(pairs: np.ndarray, ordered: bool = p.sentence_order) -> Signals:
                pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)  # (measured in order)
                found = measure_pairs(pairs, matrix, sentences, numbers, ordered=ordered)
                return Signals.concatenate([signals for _, signals in found])

            self._hook.verified(verified, vscore, measure)
        return _Verified(
            matrix, sentences, numbers, all_numbers, order, local_of, cands, measured,
            local, verified, vsignals, vscore, vjac,
        )  # fmt: skip

    def _cluster(
        self, v: _Verified, member_of: np.ndarray
    ) -> tuple[list[np.ndarray], list[Cluster], np.ndarray, list[LanguageLink]]:
        """Stage cluster: the verified pairs' components re-clustered by the linkage, exact copies
        joined to their text's cluster, groups linked across languages (a cross-lingual run), and
        each cluster's representative: the groups of articles, the clusters, their
        representatives, the links."""
        p = self.params
        m = len(self._first)
        self._stage = "while clustering"
        self._check_memory(force=True)
        matrix, sentences, numbers = v.matrix, v.sentences, v.numbers
        counted = matrix.shape[0]  # the members verification numbers (all, or those gathered)
        known = PairValues(v.cands, v.measured, counted)  # so that the linkage does not measure them again
        v.measured = np.zeros(0, dtype=np.float32)

        def similarity(groups: list[np.ndarray]) -> list[np.ndarray]:
            scores = member_scores(
                groups, matrix, sentences, p, numbers=numbers, known=known, release=self._release
            )
            self._release()
            if self._hook is not None:
                self._hook.linkage(groups, scores)
            return scores

        def score_pairs(pairs: np.ndarray) -> np.ndarray:
            found, values = known.get(pairs[:, 0], pairs[:, 1])
            todo = np.flatnonzero(~found)
            values[todo] = pair_scores(
                pairs[todo],
                matrix,
                sentences,
                p,
                numbers=numbers,
                by_block=self._store.spilled,
                release=self._release,
                few_rows=FAMILY_ROWS,  # (a family's sampled pairs: few rows, many small stretches)
            )
            return values.astype(np.float32)

        member_groups = cluster_pairs(
            counted,
            v.local,
            similarity=similarity,
            threshold=p.threshold,
            linkage_method=p.linkage,
            cohesion=p.cohesion,
            scores=v.scores.astype(np.float32),
            score_pairs=score_pairs,
            family_size=None if p.all_pairs else FAMILY_SIZE,
        )
        self._release()
        if v.order is not None:  # (sorted still: the order keeps a component's)
            member_groups = [v.order[group] for group in member_groups]
        groups = with_copies(member_groups, member_of, m)
        lengths = np.frombuffer(self._lengths, dtype=np.int64).copy()
        links: list[LanguageLink] = []
        if p.cross_lingual:
            groups, links = self._link_languages(groups)
        clusters = []
        reps = np.zeros(len(groups), dtype=np.int64)
        for k, members in enumerate(groups):
            rep = reps[k] = choose_representative(
                members, lengths, p.representative, langs=self.langs, prefer=p.prefer_lang
            )
            names = [self.ids[x] for x in members]
            clusters.append(
                Cluster(k, self.ids[rep], names, languages={self.ids[x]: self.langs[x] for x in members})
            )
        return groups, clusters, reps, links

    def _listed_pairs(
        self,
        v: _Verified,
        signatures: np.ndarray,
        member_of: np.ndarray,
        groups: list[np.ndarray],
        reps: np.ndarray,
    ) -> list[Pair]:
        """The pairs of ``pairs.jsonl``: every verified pair and exact copy with ``all_pairs``,
        else the pairs that made each cluster (a tree of it; a pair the linkage joined under the
        threshold is measured and listed as ``linked``), sorted by ids."""
        p = self.params
        n = len(self.ids)
        ids, verified = self.ids, v.verified
        first = np.frombuffer(self._first, dtype=np.int64).copy()
        shown = self._shown(first, member_of, reps)
        # The pairs as article positions: the verified ones, then each exact copy with its text's
        # article; the local engine's pairs.jsonl lists a tree of each cluster of them.
        copies = np.flatnonzero(shown[member_of] != np.arange(n))
        listed = np.concatenate([shown[verified], np.stack([shown[member_of[copies]], copies], axis=1)])
        stated = v.all_numbers.sizes() > 0 if v.all_numbers is not None else None

        def pair_at(k: int) -> Pair:
            i, j = listed[k].tolist()
            if k < len(verified):
                return Pair.of(ids[i], ids[j], v.jaccard[k], v.signals, k, v.scores[k])
            return Pair.exact(ids[i], ids[j], numbers=None if stated is None else bool(stated[member_of[j]]))

        if p.all_pairs:
            pairs = [pair_at(k) for k in range(len(listed))]
        else:  # the pairs that made each cluster, not every pair inside it
            listed_scores = np.array(
                [round(min(x, 1.0), 4) for x in v.scores.tolist()] + [1.0] * len(copies), dtype=np.float64
            )
            exact = np.arange(len(listed)) >= len(verified)
            involved = np.unique(np.concatenate([listed.ravel(), *groups]))
            rank = np.full(n, -1, dtype=np.int64)
            rank[sorted(involved.tolist(), key=ids.__getitem__)] = np.arange(len(involved))
            kept, missing = spanning_positions(groups, reps, listed, exact, listed_scores, rank)
            pairs = [pair_at(k) for k in kept.tolist()]
            if p.cross_lingual:  # (links.jsonl lists what joined groups across languages)
                missing = [(a, b) for a, b in missing if self.langs[a] == self.langs[b]]
            if missing:
                at = np.array(missing, dtype=np.int64).reshape(-1, 2)
                mp = member_of[at]
                lp = mp if v.local_of is None else v.local_of[mp]
                if (lp < 0).any():  # (never: a cluster's members are all in some candidate pair)
                    raise RuntimeError("a linked member outside the candidate pairs")
                got = Signals.concatenate(
                    [
                        x
                        for _, x in measure_pairs(
                            lp, v.matrix, v.sentences, v.numbers, ordered=p.sentence_order
                        )
                    ]
                )
                values = score(got, sentence_weight=p.sentence_weight, number_weight=p.number_weight)
                jac = estimate_jaccard_pairs(signatures, np.sort(mp, axis=1))
                pairs.extend(
                    dataclasses.replace(Pair.of(ids[a], ids[b], jac[k], got, k, values[k]), kind="linked")
                    for k, (a, b) in enumerate(missing)
                )
        pairs.sort(key=lambda q: (q.a, q.b))
        return pairs

    def _summary(
        self,
        cands: np.ndarray,
        cstats: CandidateStats,
        v: _Verified,
        member_of: np.ndarray,
        pairs: list[Pair],
        clusters: list[Cluster],
        links: list[LanguageLink],
    ) -> dict[str, Any]:
        """What ``summary.json`` says of the run: counts of each stage, the parameters, versions,
        timings, the spill and memory, and the cross-lingual links."""
        p = self.params
        n, m = len(self.ids), len(self._first)
        bands, rows = p.bands_rows
        removed = sum(len(c.members) - 1 for c in clusters)
        languages = Counter(self.langs)
        articles = {
            "read": n + self.skipped,
            "kept": n - removed,
            "removed_as_duplicates": removed,
            "skipped_bad_input": self.skipped,
        }
        if p.languages is not None:
            articles["not_compared_language"] = sum(c for k, c in languages.items() if k not in p.languages)
        summary = {
            "articles": articles,
            "languages": by_frequency(languages),
            "exact_copies": {
                "articles": n - m,
                "texts": int(np.count_nonzero(np.bincount(member_of, minlength=m) >= 2)),
            },
            "candidates": {
                "pairs": int(len(cands)),
                "below_min_jaccard": cstats.below_min_jaccard,
                "verified_pairs": int(len(v.verified)),
                "listed_pairs": len(pairs),
                "bands": bands,
                "rows": rows,
                "max_bucket": p.bucket_cap,
                "buckets": cstats.buckets,
                "largest_bucket": cstats.largest_bucket,
                "oversized_buckets": cstats.oversized_buckets,
            },
            "clusters": len(clusters),
            "params": p.to_dict(),
            "minhash": {"num_perm": p.num_perm, "seed": p.seed, "hash_scheme": HASH_SCHEME},
            "versions": versions(),
            "timings_s": {k: round(t, 3) for k, t in self.timings.items()},
            "spill": {
                "directory": None if self._store.directory is None else str(self._store.directory),
                "bytes": self._store.nbytes if self._store.spilled else 0,
                "peak_bytes": self._store.peak_bytes if self._store.spilled else 0,
            },
        }
        if self._guard is not None:
            summary["memory"] = {
                "limit_bytes": self._guard.limit,
                "peak_resident_bytes_seen": self._guard.peak,
                "checks": self._guard.checks,
            }
        if p.cross_lingual:
            from dedup.crosslingual import link_summary

            summary["cross_lingual"] = link_summary(p, clusters, len(links), self._embedded)
        return summary

    def _gather_order(self, m: int, cands: np.ndarray) -> np.ndarray | None:
        """The members whose rows verification reads, component by component (see
        :mod:`dedup.score.gather`), or None to read every member's rows where they are: in memory,
        with word TF-IDF from other than the sentences, or for a hook (which may measure any
        pair)."""
        gather = self._gather if self._gather is not None else self._store.spilled
        if not gather or self._hook is not None or self._tfidf is not None or self._sentences is None:
            return None
        return component_order(m, cands)

    def _shown(self, first: np.ndarray, member_of: np.ndarray, reps: np.ndarray) -> np.ndarray:
        """The article that names each member in the pairs: the representative of its cluster if
        it is one of the member's copies, else the copy with the lowest id (not the first read:
        the pairs do not depend on the input order)."""
        shown = first.copy()
        counts = np.bincount(member_of, minlength=len(first))
        copied = np.flatnonzero(counts[member_of] >= 2)
        best: dict[int, int] = {}
        for k in copied.tolist():
            x = int(member_of[k])
            if x not in best or self.ids[k] < self.ids[best[x]]:
                best[x] = k
        for x, k in best.items():
            shown[x] = k
        reps = reps[counts[member_of[reps]] >= 2]
        shown[member_of[reps]] = reps
        return shown

    def _link_languages(self, groups: list[np.ndarray]) -> tuple[list[np.ndarray], list[LanguageLink]]:
        """The clusters (and every other article, alone) joined across languages
        (:func:`dedup.crosslingual.link_groups`), with one embedding per group when the extra is
        used (:func:`dedup.crosslingual.embed_groups`): the clusters of two or more articles, and
        the links made."""
        from dedup.crosslingual import embedder, fingerprint_rows, link_groups

        t0 = time.perf_counter()
        n = len(self.ids)
        clustered = np.zeros(n, dtype=bool)
        for members in groups:
            clustered[members] = True
        everything = [m.tolist() for m in groups] + [[k] for k in np.flatnonzero(~clustered).tolist()]
        matrix = fingerprint_rows(self._fingerprints)
        embed = None
        if self._embeds:
            ends = np.frombuffer(self._head_ends, dtype=np.int64)
            starts = np.concatenate([[0], ends[:-1]])
            heads = self._heads

            def text_of(articles: list[int]) -> list[str]:
                return [bytes(heads[starts[k] : ends[k]]).decode() for k in articles]

            lengths = np.frombuffer(self._lengths, dtype=np.int64)
            voice = embedder(lengths, text_of, self.langs, threads=self._threads)
            self._embedded = 0

            def embed(chosen: list[list[int]]) -> np.ndarray:
                self._embedded = (self._embedded or 0) + len(chosen)
                return voice(chosen)

        merged, found = link_groups(
            matrix,
            everything,
            self.langs,
            threshold=self.params.link_margin(self._embeds),
            embed=embed,
        )
        self._fingerprints, self._heads, self._head_ends = [], bytearray(), array("q")
        links = [
            LanguageLink(self.ids[x.a], self.ids[x.b], x.lang_a, x.lang_b, x.cosine, x.margin) for x in found
        ]
        self.timings["cross_lingual"] = time.perf_counter() - t0
        return [np.array(m, dtype=np.int64) for m in merged if len(m) >= 2], links


def with_copies(groups: list[np.ndarray], member_of: np.ndarray, members: int) -> list[np.ndarray]:
    """The clusters of articles, given the clusters of ``members`` (distinct texts) and each
    article's member: a cluster holds every article of its members, and the exact copies of a
    text in no cluster are a cluster of their own. Each is sorted; they are in the order of their
    first article."""
    label = np.full(members, -1, dtype=np.int64)
    for k, group in enumerate(groups):
        label[group] = k
    counts = np.bincount(member_of, minlength=members)
    alone = np.flatnonzero((label < 0) & (counts >= 2))
    label[alone] = len(groups) + np.arange(len(alone))
    of_article = label[member_of]
    order = np.argsort(of_article, kind="stable")
    order = order[of_article[order] >= 0]
    cuts = np.flatnonzero(np.diff(of_article[order])) + 1
    out = np.split(order, cuts) if len(order) else []
    out.sort(key=lambda a: int(a[0]))
    return out
