"""All parameters of a run, validated once, recorded in every output."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from dedup.cluster import LINKAGES, REPRESENTATIVES
from dedup.runtime.extras import require
from dedup.sketch.lsh import MIN_JACCARD, lsh_params
from dedup.text.language import language_codes, unknown_code_error

SHINGLE_UNITS = ("word", "char")
STOPWORD_LISTS = ("none", "english")
TFIDF_ANALYZERS = ("word", "char_wb")
XLING_EMBEDDINGS = ("auto", "yes", "no")
XLING_THRESHOLDS = {"fingerprints": 1.2, "embeddings": 1.2}
"""The default margin of a cross-lingual link (``xling_threshold=None``): with fingerprints
alone, and with the embeddings of ``newsdedup[xling]``. Measured apart (their cosines spread
differently), they agree: fingerprints alone, source-translation F1 at 1.2 / 1.3: WMT dev 0.900
/ 0.895, v2 0.931 / 0.916, v3 0.970 / 0.965, held-out WMT21 ja 0.741 / 0.730, en-ja-is 0.947 /
0.939, is and fr-de equal, WMT22 short texts 0.368 / 0.374; with embeddings 1.2 was the best of
1.1-1.4 on the dev sets (benchmarks/xling.py, docs/cross-lingual.md)."""

XLING_YES = "--xling-embeddings yes (xling_embeddings='yes') with --cross-lingual"
"""What asks for the embedding extra, as a :class:`~dedup.runtime.extras.MissingExtraError` names it."""
FAMILIES_MAX_BUCKET = 8
"""LSH buckets up to this size give all their pairs; larger ones, stars around leaders. Every
dev set gives the clusters it gave with 200 (the linkage measures all the pairs of a small
component anyway: the candidates need only connect it)."""
ALL_PAIRS_MAX_BUCKET = 200
"""The ``max_bucket`` of ``all_pairs`` runs and of the index, where every pair counts."""


def _codes(name: str, value: Any, *, named: bool = False) -> list[str]:
    """The language codes ``value`` gives (a sequence, or one string of comma-separated codes), as
    :func:`~dedup.text.language.detect` writes them, in the order given; ValueError for anything
    else, or for an unknown code (it would match no article: a typo, refused), its message
    starting with ``name`` if ``named``."""
    codes = value.split(",") if isinstance(value, str) else value
    if (
        not isinstance(codes, tuple | list)
        or not codes
        or not all(isinstance(c, str) and c.strip() for c in codes)
    ):
        raise ValueError(f"{name} must be language codes such as ('en', 'it'); got {value!r}")
    known = language_codes()
    out = []
    for code in codes:
        key = code.strip().lower()
        if key not in known:
            raise ValueError(f"{name}: {unknown_code_error(code)}" if named else unknown_code_error(code))
        out.append(known[key])
    return out


@dataclass(frozen=True)
class Params:
    """How ``dedup`` decides that two articles are the same story.

    Candidates (MinHash LSH):
        shingle_unit, shingle_size: shingles hashed into the signature.
            Word 1-grams by default: two machine translations of one article
            share few 5-word runs (Jaccard ~0.2) but most of their words.
        stopwords: ``"english"`` drops scikit-learn's English stop-word list
            from the shingles, so that articles do not become candidates for
            sharing "the", "of", "and"; ``"none"`` keeps every token.
        transliterate: fold text to ASCII first (needs ``newsdedup[translit]``).
        num_perm, seed: MinHash signature length and permutation seed.
        lsh_threshold: the Jaccard similarity (of the shingle sets) the LSH
            S-curve is centred on; bands/rows are derived from it unless
            ``bands`` and ``rows`` are both given.
        min_jaccard: a pair that met in a band is verified only if its signatures agree on
            at least this share of their values (the MinHash estimate of its Jaccard): the
            band hits of unrelated articles, which grow with the square of the corpus, stop
            there (:mod:`dedup.sketch.lsh`). 0 verifies every band hit.
        max_bucket: LSH buckets larger than this are not expanded into all
            their pairs (see :func:`dedup.sketch.lsh.candidate_pairs`). None: 8
            (:attr:`bucket_cap`), or 200 with ``all_pairs`` and in the index, where
            every pair counts.
        all_pairs: verify every pair of a family, as a small run does: exact copies
            are compared like any two articles, large LSH buckets give each member
            with its next few rather than with a few leaders, and large groups are
            re-clustered on all their pairs (:mod:`dedup.cluster`). The cost then grows
            with the square of a family's size; the default grows with its size.

    Verification (TF-IDF cosine and sentence match):
        tfidf_analyzer, tfidf_ngrams, sublinear_tf: the TF-IDF features.
        sentence_weight: ``w`` in ``score = (1 - w) * cosine + w * match``,
            where ``match`` is the sentence match (how much of the smaller
            article is said, sentence by sentence, in the other; see
            :mod:`dedup.score.sentences`). 0 uses the document cosine alone.
        sentence_order: count a sentence match only along an alignment that
            keeps the sentences' order (a translation or rewrite keeps it; a story
            told again by another outlet does not); False matches in any order.
        number_weight: how much disagreeing numbers lower a score
            (:mod:`dedup.text.numbers`): the score is multiplied by
            ``1 - number_weight * (1 - agreement)``; 0 ignores the numbers.
        threshold: score at or above which a candidate pair is a duplicate,
            and at which the linkage still merges two groups.
        (See :mod:`dedup.score.decision` for the whole rule.)

    Languages:
        languages: compare only articles detected (:mod:`dedup.text.language`) in
            these languages (ISO 639-1 codes); the others are kept as they
            are, never compared. None compares every article.
        cross_lingual: also link the same story across languages, without
            translating (:mod:`dedup.crosslingual`): clusters then mix languages.
        xling_threshold: the margin a cross-lingual link needs (its cosine over
            the mean of the nearest candidates'); higher is stricter. None:
            :data:`XLING_THRESHOLDS` (one for fingerprints alone, one with embeddings:
            their cosines spread differently).
        xling_embeddings: ``"auto"`` also compares articles across languages by a
            multilingual embedding model when ``newsdedup[xling]`` is installed,
            ``"yes"`` requires it, ``"no"`` uses the fingerprints alone.

    Clusters:
        linkage: ``"average"`` re-clusters each connected component so that
            one borderline pair cannot chain two stories; ``"single"`` keeps
            plain connected components.
        cohesion: the average linkage does not merge two groups of two or more
            articles whose mean cross score is below ``cohesion`` times the lower
            of their own mean scores (two tight groups barely alike are two
            stories); 0 turns the rule off.
        representative: ``"longest"`` or ``"first"`` member is kept.
        prefer_lang: languages (ISO 639-1 codes, the most preferred first: ``("en", "de")``
            or ``"en,de"``) whose members a cluster keeps first: among a cluster's members in
            the first of these languages present, ``representative`` picks the one kept; a
            cluster with none of them keeps by ``representative`` alone. None: languages play
            no part. (A cross-lingual run's clusters mix languages: without it, an original
            can be kept and every English translation dropped.)
    """

    shingle_unit: str = "word"
    shingle_size: int = 1
    stopwords: str = "english"
    transliterate: bool = False
    num_perm: int = 128
    seed: int = 1
    lsh_threshold: float = 0.3
    bands: int | None = None
    rows: int | None = None
    min_jaccard: float = MIN_JACCARD
    max_bucket: int | None = None
    all_pairs: bool = False
    tfidf_analyzer: str = "word"
    tfidf_ngrams: tuple[int, int] = (1, 1)
    sublinear_tf: bool = True
    sentence_weight: float = 0.5
    sentence_order: bool = True
    number_weight: float = 0.3
    threshold: float = 0.34
    languages: tuple[str, ...] | None = None
    cross_lingual: bool = False
    xling_threshold: float | None = None
    xling_embeddings: str = "auto"
    linkage: str = "average"
    cohesion: float = 0.63
    representative: str = "longest"
    prefer_lang: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        def choice(name: str, options: tuple[str, ...]) -> None:
            value = getattr(self, name)
            if value not in options:
                raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")

        def positive_int(name: str) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")

        def unit_interval(name: str, *, closed: bool) -> None:
            value = getattr(self, name)
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            ok = ok and (0.0 <= value <= 1.0 if closed else 0.0 < value < 1.0)
            bounds = "[0, 1]" if closed else "(0, 1)"
            if not ok:
                raise ValueError(f"{name} must be a number in {bounds}; got {value!r}")

        choice("shingle_unit", SHINGLE_UNITS)
        choice("stopwords", STOPWORD_LISTS)
        choice("tfidf_analyzer", TFIDF_ANALYZERS)
        choice("linkage", LINKAGES)
        choice("representative", REPRESENTATIVES)
        choice("xling_embeddings", XLING_EMBEDDINGS)
        for name in ("shingle_size", "num_perm"):
            positive_int(name)
        if self.max_bucket is not None:
            positive_int("max_bucket")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {self.seed!r}")
        unit_interval("lsh_threshold", closed=False)
        unit_interval("min_jaccard", closed=True)
        unit_interval("threshold", closed=True)
        unit_interval("sentence_weight", closed=True)
        unit_interval("number_weight", closed=True)
        unit_interval("cohesion", closed=True)
        if (self.bands is None) != (self.rows is None):
            raise ValueError("give both bands and rows, or neither (then lsh_threshold sets them)")
        if self.bands is not None:
            positive_int("bands")
            positive_int("rows")
            if self.bands * self.rows > self.num_perm:
                raise ValueError(
                    f"bands * rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}: "
                    "use fewer bands or rows, or raise num_perm"
                )
        ngrams = self.tfidf_ngrams
        if (
            not isinstance(ngrams, tuple | list)
            or len(ngrams) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 1 for x in ngrams)
            or ngrams[0] > ngrams[1]
        ):
            raise ValueError(f"tfidf_ngrams must be (min_n, max_n) with 1 <= min_n <= max_n; got {ngrams!r}")
        object.__setattr__(self, "tfidf_ngrams", tuple(ngrams))
        if self.languages is not None:  # (a set: sorted)
            object.__setattr__(self, "languages", tuple(sorted(set(_codes("languages", self.languages)))))
        if self.prefer_lang is not None:  # (an order of preference: kept, the first of a repeat)
            prefer = _codes("prefer_lang", self.prefer_lang, named=True)
            object.__setattr__(self, "prefer_lang", tuple(dict.fromkeys(prefer)))
        if not isinstance(self.sentence_order, bool):
            raise ValueError(f"sentence_order must be True or False; got {self.sentence_order!r}")
        if not isinstance(self.all_pairs, bool):
            raise ValueError(f"all_pairs must be True or False; got {self.all_pairs!r}")
        if not isinstance(self.cross_lingual, bool):
            raise ValueError(f"cross_lingual must be True or False; got {self.cross_lingual!r}")
        x = self.xling_threshold
        if x is not None and (isinstance(x, bool) or not isinstance(x, int | float) or x < 1.0):
            raise ValueError(f"xling_threshold must be a number >= 1 (a margin); got {x!r}")

    def link_margin(self, embeddings: bool) -> float:
        """The margin a cross-lingual link needs: ``xling_threshold``, or its default for a run
        with or without embeddings."""
        if self.xling_threshold is not None:
            return float(self.xling_threshold)
        return XLING_THRESHOLDS["embeddings" if embeddings else "fingerprints"]

    @property
    def bucket_cap(self) -> int:
        """The ``max_bucket`` in force in a batch run: given, or 8 (200 with ``all_pairs``)."""
        if self.max_bucket is not None:
            return self.max_bucket
        return ALL_PAIRS_MAX_BUCKET if self.all_pairs else FAMILIES_MAX_BUCKET

    @property
    def bands_rows(self) -> tuple[int, int]:
        """The LSH (bands, rows) in force: given explicitly, or fitted to ``lsh_threshold``."""
        if self.bands is not None and self.rows is not None:
            return self.bands, self.rows
        return lsh_params(self.lsh_threshold, self.num_perm)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form, with the derived bands/rows filled in."""
        out = dataclasses.asdict(self)
        out["tfidf_ngrams"] = list(self.tfidf_ngrams)
        out["languages"] = None if self.languages is None else list(self.languages)
        out["prefer_lang"] = None if self.prefer_lang is None else list(self.prefer_lang)
        out["bands"], out["rows"] = self.bands_rows
        return out

    def require_extras(self) -> None:
        """Raise :class:`~dedup.runtime.extras.MissingExtraError` (one line naming the install
        command) if these parameters need an extra that is not installed: checked before a run or
        an index makes anything, not on the first article."""
        if self.transliterate:
            require("translit", "--transliterate (transliterate=True)")
        if self.cross_lingual and self.xling_embeddings == "yes":
            require("xling", XLING_YES)

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> Params:
        """Build from keyword arguments, naming any unknown one (a typo) clearly."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise TypeError(f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**kwargs)
