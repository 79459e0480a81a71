"""Everything a run keeps of one article, as arrays of hashed terms.

An article is read once: its text becomes a :class:`Features` (shingle hashes
for MinHash, term counts for the document's TF-IDF vector, term counts per
sentence for the sentence match) and the text is dropped. Terms are named by
their 64-bit hash (:mod:`dedup.arrays.hashing`), not by an index in a vocabulary, so
articles can be featurised in several worker processes (:mod:`dedup.featurize`)
and their features put side by side without agreeing on a vocabulary first.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from dedup.arrays.hashing import counted, counted_inverse, grouped_counts, sorted_distinct, term_ids
from dedup.arrays.hashing import vocabulary as term_vocabulary
from dedup.params import XLING_YES, Params
from dedup.runtime.extras import MissingExtraError
from dedup.sketch.minhash import Signer
from dedup.text.fingerprints import fingerprint, fingerprint_ids
from dedup.text.language import detect
from dedup.text.normalize import SENTENCE_ENDS, shingles, tokenize, tokenize_sentences
from dedup.text.numbers import number_ids_many
from dedup.text.stopwords import ENGLISH

_EMPTY_U64 = np.zeros(0, dtype=np.uint64)


_EMPTY_F32 = np.zeros(0, dtype=np.float32)
_EMPTY_U8 = np.zeros(0, dtype=np.uint8)


_EMPTY_I32 = np.zeros(0, dtype=np.int32)


@dataclass(frozen=True, slots=True)
class Features:
    """What a run keeps of one article.

    Attributes:
        shingles: uint32 MinHash inputs of its distinct shingles
            (:func:`dedup.arrays.hashing.hash32` of each), sorted.
        terms, counts: the distinct TF-IDF terms of the article (uint64 ids,
            sorted) and their counts.
        sentence_terms, sentence_counts: the same for each sentence with at
            least one token, one after the other.
        sentence_sizes: how many distinct terms each of those sentences has.
        tokens: the distinct token ids of the article (what the sentence
            vectors' document frequencies count).
        length: the text's length in characters.
        signature: the MinHash signature of ``shingles`` (``num_perm`` uint32),
            when made by :meth:`Featurizer.batch`; ``None`` otherwise.
        lang: the language detected (ISO 639-1; ``"und"`` without letters). An
            article outside ``Params.languages`` has empty arrays: it is never
            compared.
        fingerprint: with ``Params.cross_lingual``, the ids of its fingerprint
            tokens (:func:`dedup.text.fingerprints.fingerprint_ids`: sorted, repeats kept, each
            token's kind in its top two bits).
        head: with ``Params.cross_lingual`` and the embedding extra, the first
            :data:`~dedup.text.embeddings.HEAD` characters of the text, UTF-8 encoded:
            what is embedded if the article speaks for its group (embedding is left
            to the linking stage, which embeds one article per group).
        numbers: the distinct values of the numbers it states (:mod:`dedup.text.numbers`),
            as sorted uint64 ids.
        content: a 64-bit hash of its normalised text (:func:`content_key`): two articles
            with one ``content`` are exact copies, one member for everything after
            (0: nothing to compare, never a copy).
    """

    shingles: np.ndarray
    terms: np.ndarray
    counts: np.ndarray
    sentence_terms: np.ndarray
    sentence_counts: np.ndarray
    sentence_sizes: np.ndarray
    tokens: np.ndarray
    length: int
    signature: np.ndarray | None = None
    lang: str = ""
    fingerprint: np.ndarray = field(default_factory=lambda: _EMPTY_U64)
    head: np.ndarray = field(default_factory=lambda: _EMPTY_U8)
    numbers: np.ndarray = field(default_factory=lambda: _EMPTY_U64)
    content: int = 0


def content_key(item_ids: np.ndarray, numbers: np.ndarray, lang: str) -> int:
    """A 64-bit hash of what every later stage reads of a text: its token and sentence-end ids
    (the text normalised: case, Unicode forms, punctuation and spacing do not count), the values
    of its numbers and its language. Equal keys are exact copies; 0 is kept for a text with
    nothing to compare (no token), which is nobody's copy."""
    if len(item_ids) == 0:
        return 0
    digest = hashlib.blake2b(digest_size=8)
    digest.update(np.ascontiguousarray(item_ids, dtype=np.uint64).tobytes())
    digest.update(b"\x00numbers")
    digest.update(np.ascontiguousarray(numbers, dtype=np.uint64).tobytes())
    digest.update(lang.encode())
    return int.from_bytes(digest.digest(), "little") or 1


class Featurizer:
    """Turns a text into :class:`Features`, the way ``params`` says.

    Deterministic: the same text and parameters give the same features in any
    process, which is what lets worker processes share the work.
    """

    def __init__(self, params: Params | None = None) -> None:
        self.params = p = params or Params()
        self._stopwords = ENGLISH if p.stopwords == "english" else frozenset()
        self._signer = Signer(num_perm=p.num_perm, seed=p.seed)
        self._sentences = p.sentence_weight > 0
        self._word_unigrams = p.tfidf_analyzer == "word" and p.tfidf_ngrams == (1, 1)
        self._simple_shingles = p.shingle_unit == "word" and p.shingle_size == 1
        self._needs_strings = not (self._word_unigrams and self._simple_shingles)
        self._stop_ids = np.sort(term_ids(sorted(self._stopwords)))
        self._end_ids = np.sort(term_ids(sorted(SENTENCE_ENDS)))
        self._languages = frozenset(p.languages) if p.languages is not None else None
        self._cross_lingual = p.cross_lingual
        self.embeds = uses_embeddings(p)
        self._char_analyze = None
        if p.tfidf_analyzer != "word":
            from sklearn.feature_extraction.text import TfidfVectorizer  # (imported when needed)

            self._char_analyze = TfidfVectorizer(
                analyzer=p.tfidf_analyzer, ngram_range=p.tfidf_ngrams, lowercase=True
            ).build_analyzer()

    def tokenize(self, text: str) -> list[str]:
        return tokenize(text, transliterate=self.params.transliterate)

    def _items(self, text: str) -> list[str]:
        """The strings of ``text`` the features start from: its tokens, with sentence ends."""
        if self._sentences:
            return tokenize_sentences(text, transliterate=self.params.transliterate)
        return self.tokenize(text)

    def _compared(self, lang: str) -> bool:
        return self._languages is None or lang in self._languages

    def __call__(self, text: str) -> Features:
        """The features of one text, without its signature (a caller signs many together)."""
        return self._batch([text], sign=False)[0]

    def batch(self, texts: Sequence[str]) -> list[Features]:
        """Features of each text, signatures included: the tokens of all the texts are hashed
        together and the signatures made together, which is several times faster."""
        return self._batch(texts, sign=True)

    def _batch(self, texts: Sequence[str], *, sign: bool) -> list[Features]:
        langs = [detect(text)[0] for text in texts]
        compared = [self._compared(lang) for lang in langs]
        items = [self._items(text) if ok else [] for text, ok in zip(texts, compared, strict=True)]
        ids = term_ids([item for its in items for item in its])
        ends = np.cumsum([len(its) for its in items])
        features = [
            self._features(text, its, ids[end - len(its) : end])
            for text, its, end in zip(texts, items, ends.tolist(), strict=True)
        ]
        found = number_ids_many([text if ok else "" for text, ok in zip(texts, compared, strict=True)])
        extra: list[dict[str, object]] = [
            {
                "lang": lang,
                "numbers": values,
                "content": content_key(ids[end - len(its) : end], values, lang),
            }
            for lang, values, its, end in zip(langs, found, items, ends.tolist(), strict=True)
        ]
        if sign:
            signatures = self._signer.sign_hashes([f.shingles for f in features])
            for more, signature in zip(extra, signatures, strict=True):
                more["signature"] = signature
        if self._cross_lingual:
            for text, ok, more in zip(texts, compared, extra, strict=True):
                tokens = fingerprint(text) if ok else []
                more["fingerprint"] = fingerprint_ids(tokens) if tokens else _EMPTY_U64
            if self.embeds:
                from dedup.text.embeddings import HEAD

                for text, ok, more in zip(texts, compared, extra, strict=True):
                    more["head"] = np.frombuffer(text[:HEAD].encode(), dtype=np.uint8) if ok else _EMPTY_U8
        return [
            dataclasses.replace(f, **more)  # type: ignore[arg-type]
            for f, more in zip(features, extra, strict=True)
        ]

    def _features(self, text: str, items: list[str], item_ids: np.ndarray) -> Features:
        p = self.params
        if self._sentences:
            is_end = _member(item_ids, self._end_ids)
            token_ids = item_ids[~is_end]
            sentence_of = np.cumsum(is_end)[~is_end]  # tokens after the k-th end are in sentence k
            # token strings: read only by the paths other than word 1-gram shingles and terms
            tokens = (
                [t for t, end in zip(items, is_end.tolist(), strict=True) if not end]
                if self._needs_strings
                else []
            )
        else:
            tokens, token_ids, sentence_of = items, item_ids, None

        if self._word_unigrams:
            terms, inverse, counts = counted_inverse(token_ids)
        else:
            if self._char_analyze is not None:
                terms, counts = counted(term_ids(self._char_analyze(text)))
            else:
                lo, hi = p.tfidf_ngrams
                grams = [
                    " ".join(tokens[i : i + n]) for n in range(lo, hi + 1) for i in range(len(tokens) - n + 1)
                ]
                terms, counts = counted(term_ids(grams))
        # the article's distinct tokens: its terms already, with word 1-gram TF-IDF
        distinct = terms if self._word_unigrams else np.unique(token_ids)

        if self._simple_shingles:  # word 1-grams: the distinct tokens that are not stop words
            shingle_ids = sorted_distinct(distinct[~_member(distinct, self._stop_ids)].astype(np.uint32))
        else:
            found = shingles(tokens, unit=p.shingle_unit, size=p.shingle_size, stopwords=self._stopwords)
            shingle_ids = np.unique(term_ids(sorted(found)).astype(np.uint32))

        if sentence_of is not None and len(token_ids):
            if not self._word_unigrams:
                _, inverse, _ = counted_inverse(token_ids)
            n_sentences = int(sentence_of[-1]) + 1
            sentence_terms, sentence_counts, sizes = grouped_counts(
                distinct, inverse, sentence_of, n_sentences
            )
            sentence_sizes = sizes[sizes > 0].astype(np.int32)  # (sentences without a token are left out)
        else:
            sentence_terms, sentence_counts, sentence_sizes = _EMPTY_U64, _EMPTY_F32, _EMPTY_I32
        return Features(
            shingles=shingle_ids,
            terms=terms,
            counts=counts,
            sentence_terms=sentence_terms,
            sentence_counts=sentence_counts,
            sentence_sizes=sentence_sizes,
            tokens=distinct,
            length=len(text),
        )


def uses_embeddings(params: Params) -> bool:
    """Whether a run with ``params`` embeds its articles: cross-lingual, and the embedding extra
    installed (``xling_embeddings="auto"``) or required (``"yes"``: an ImportError without it)."""
    if not params.cross_lingual or params.xling_embeddings == "no":
        return False
    from dedup.text.embeddings import available

    if params.xling_embeddings == "yes" and not available():
        raise MissingExtraError("xling", XLING_YES)
    return available()


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Which of ``values`` are in ``sorted_set`` (a small ``np.isin``, without its set-up cost)."""
    if len(sorted_set) == 0:
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[at] == values


FIELDS = (
    "shingles",
    "terms",
    "counts",
    "sentence_terms",
    "sentence_counts",
    "sentence_sizes",
    "tokens",
    "fingerprint",
    "numbers",
    "head",
)
"""The array fields of :class:`Features` (``featurize_many(..., fields=)`` picks among them)."""


_EMPTY = {
    "shingles": np.zeros(0, dtype=np.uint32),
    "terms": _EMPTY_U64,
    "counts": _EMPTY_F32,
    "sentence_terms": _EMPTY_U64,
    "sentence_counts": _EMPTY_F32,
    "sentence_sizes": _EMPTY_I32,
    "tokens": _EMPTY_U64,
    "fingerprint": _EMPTY_U64,
    "numbers": _EMPTY_U64,
    "head": _EMPTY_U8,
}


TERM_FIELDS = ("terms", "sentence_terms", "tokens", "fingerprint", "numbers")
"""The fields of :class:`Features` that hold 64-bit term ids."""


@dataclass(frozen=True, slots=True)
class FeatureBatch:
    """The features of consecutive texts, packed: each field of all of them in one array.

    A few large arrays cost far less to send between processes, and to take
    in, than many small ones; :meth:`features` unpacks them per text. The term
    fields hold positions in ``vocabulary``, the batch's distinct term ids: a
    few thousand terms make up most of a chunk's hundred thousand entries, so
    that halves what a worker sends, and the main process numbers each distinct
    term of a batch once instead of each entry.

    Attributes:
        columns: for each field kept, the texts' arrays one after the other (for
            :data:`TERM_FIELDS`, int32 positions in ``vocabulary``).
        sizes: ``(texts, fields)``: how many entries of each column each text has.
        signatures: ``(texts, num_perm)`` MinHash signatures.
        lengths: each text's length in characters.
        vocabulary: the distinct term ids of the term fields kept, ascending (uint64).
        langs: each text's language.
        contents: each text's :attr:`Features.content` (uint64).
    """

    columns: dict[str, np.ndarray]
    sizes: np.ndarray
    signatures: np.ndarray
    lengths: np.ndarray
    vocabulary: np.ndarray
    langs: tuple[str, ...] = ()
    contents: np.ndarray = field(default_factory=lambda: _EMPTY_U64)

    @classmethod
    def pack(cls, features: Sequence[Features], fields: Sequence[str]) -> FeatureBatch:
        """``features`` (made by :meth:`Featurizer.batch`, with signatures) packed, keeping ``fields``."""
        columns = {name: np.concatenate([getattr(f, name) for f in features]) for name in fields}
        vocabulary = _EMPTY_U64
        if term_fields := [name for name in fields if name in TERM_FIELDS]:
            vocabulary, positions = term_vocabulary(np.concatenate([columns[name] for name in term_fields]))
            ends = np.cumsum([len(columns[name]) for name in term_fields])
            for name, part in zip(term_fields, np.split(positions.astype(np.int32), ends[:-1]), strict=True):
                columns[name] = part
        return cls(
            columns=columns,
            sizes=np.array([[len(getattr(f, name)) for name in fields] for f in features], dtype=np.int64),
            signatures=np.stack([f.signature for f in features]),
            lengths=np.array([f.length for f in features], dtype=np.int64),
            vocabulary=vocabulary,
            langs=tuple(f.lang for f in features),
            contents=np.array([f.content for f in features], dtype=np.uint64),
        )

    def select(self, keep: np.ndarray) -> FeatureBatch:
        """The batch of the texts where the boolean ``keep`` is true (the vocabulary is shared)."""
        keep = np.asarray(keep, dtype=bool)
        columns = {
            name: values[np.repeat(keep, self.sizes[:, k])]
            for k, (name, values) in enumerate(self.columns.items())
        }
        return FeatureBatch(
            columns=columns,
            sizes=self.sizes[keep],
            signatures=self.signatures[keep],
            lengths=self.lengths[keep],
            vocabulary=self.vocabulary,
            langs=tuple(lang for lang, k in zip(self.langs, keep.tolist(), strict=False) if k),
            contents=self.contents[keep] if len(self.contents) else self.contents,
        )

    def __len__(self) -> int:
        return len(self.lengths)

    def sizes_of(self, field: str) -> np.ndarray:
        """How many entries of ``field``'s column each text has."""
        return self.sizes[:, list(self.columns).index(field)]

    def column(self, field: str) -> np.ndarray:
        """``field`` of all the texts, one after the other (term ids for the term fields)."""
        values = self.columns[field]
        return self.vocabulary[values] if field in TERM_FIELDS else values

    def features(self) -> list[Features]:
        """One :class:`Features` per text (the fields not kept are empty)."""
        left_out = {name: _EMPTY[name] for name in FIELDS if name not in self.columns}
        columns = {name: self.column(name) for name in self.columns}
        ends = np.cumsum(self.sizes, axis=0).tolist()
        starts = [[0] * len(columns), *ends[:-1]]
        return [
            Features(
                **{
                    name: column[lo:hi]
                    for (name, column), lo, hi in zip(columns.items(), start, end, strict=True)
                },
                **left_out,
                length=int(length),
                signature=signature,
                lang=lang,
                content=int(self.contents[k]) if len(self.contents) else 0,
            )  # fmt: skip
            for k, (start, end, signature, length, lang) in enumerate(
                zip(
                    starts,
                    ends,
                    self.signatures,
                    self.lengths.tolist(),
                    self.langs or ("",) * len(self),
                    strict=True,
                )
            )
        ]
