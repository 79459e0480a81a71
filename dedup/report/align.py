"""Paragraph alignment: which paragraphs of two variants say the same thing.

An outlet re-paragraphs the wire it copies, and two machine translations of
one article split and join sentences differently, so paragraph boundaries
rarely coincide: one paragraph of A often holds the end of one paragraph of B
and the start of the next. Aligning whole paragraphs would have to link them
all to all. ``align`` therefore aligns *sentences* and projects the result
onto paragraphs:

1. Paragraphs are split (blank lines, else line breaks); boilerplate
   paragraphs (:mod:`dedup.report.boilerplate`) are set aside.
2. Each sentence becomes a TF-IDF vector (sublinear tf; IDF over the
   sentences of both texts, so words that recur everywhere weigh little).
3. Dynamic programming finds the monotone alignment that maximises

       sum over aligned blocks of (cos(block_a, block_b) - threshold)

   where a block is 1, 2 or 3 consecutive sentences on each side (1:1, 1:2,
   2:1, 2:2, 1:3, 3:1; a block's vector is the sum of its sentences') and
   any sentence may stay unaligned at no cost: the gain is positive only for
   blocks more similar than ``threshold``. This is Gale–Church's recurrence
   (as in Bertalign) with a lexical similarity instead of lengths. A weak
   1:1 block (under twice the threshold) is kept only if its two sentences
   are each other's best match anywhere in the texts.
4. A sentence left out between aligned neighbours is attached to a
   neighbouring block when it is at least ``attach``-similar to it (a title
   repeated in the first sentence, a sentence split in three).
5. "Mostly monotone": sentences still unaligned on both sides are paired
   greedily, most similar first, when at least ``move``-similar: a paragraph
   an outlet moved up or down is found, and marked ``moved``.
6. Sentence links become paragraph links: paragraphs of A and of B are linked
   when they hold aligned sentences, written as few n:m links as possible
   (each link stands for all its a × b paragraph pairs). A link's score is
   the TF-IDF cosine of its aligned sentences; links under ``min_score`` are
   dropped. Content paragraphs with no link are ``only_a`` / ``only_b``.

Measured by ``benchmarks/alignment.py``; see docs/alignment.md for the figures.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from dedup.report.alignment import Alignment, Link
from dedup.report.boilerplate import Boilerplate
from dedup.runtime.extras import require
from dedup.text.normalize import tokenize
from dedup.text.paragraphs import paragraph_sentences, split_paragraphs
from dedup.text.stopwords import ENGLISH

if TYPE_CHECKING:
    import scipy.sparse as sp

UNITS = ("sentence", "paragraph")
SIMILARITIES = ("auto", "tfidf", "fuzz", "mix", "fingerprint", "xling")
# (threshold, min_score) when not given: fingerprints (numbers, the sound of names and words) are
# sparse, so two sentences that are translations of each other share few of them; measured on the
# 84 source-English pairs of the WMT dev set (benchmarks/alignment.py).
_DEFAULT_CUTS = {"fingerprint": (0.03, 0.05), "xling": (0.03, 0.05)}
_WORD_CUTS = (0.1, 0.2)
# Block shapes (sentences of A, sentences of B) the dynamic programme may align; 1:1 first, so
# that it wins ties.
BLOCKS: tuple[tuple[int, int], ...] = ((1, 1), (1, 2), (2, 1), (2, 2), (1, 3), (3, 1))
# Alignment holds a few dense (units x units) matrices: beyond this many cells, paragraphs are
# aligned instead of sentences, and beyond it again, runs of consecutive paragraphs.
MAX_CELLS = 4_000_000

_DEFAULT_BOILERPLATE = Boilerplate()


def _check(name: str, value: float, low: float = 0.0, high: float = 1.0) -> None:
    if not (low <= value <= high):
        raise ValueError(f"{name} must be in [{low}, {high}], got {value!r}")


def align(
    text_a: str,
    text_b: str,
    *,
    threshold: float | None = None,
    attach: float = 0.4,
    move: float = 0.5,
    min_score: float | None = None,
    unit: str = "sentence",
    similarity: str = "auto",
    stopwords: str = "english",
    boilerplate: Boilerplate | Callable[[str], bool] | None = _DEFAULT_BOILERPLATE,
) -> Alignment:
    """Align the paragraphs of two texts (see the module doc for how).

    Args:
        threshold: similarity a block of sentences must exceed to be aligned (default 0.1; 0.03
            with ``"fingerprint"``).
        attach: similarity at which a left-out sentence joins its neighbour's block.
        move: similarity at which two out-of-order sentences are still paired
            (1.0 or more turns moved-paragraph detection off).
        min_score: paragraph links scoring less are dropped: two different
            articles on one event share names and facts sentence by sentence,
            but at lower similarity than two versions of one text (default 0.2; 0.05 with
            ``"fingerprint"``).
        unit: ``"sentence"`` (default) or ``"paragraph"`` (align whole paragraphs;
            also what two texts of more than ``MAX_CELLS`` sentence pairs get,
            and runs of paragraphs beyond that again, so any text aligns in
            bounded memory).
        similarity: ``"tfidf"`` (cosine), ``"fuzz"`` (rapidfuzz token-set
            ratio), ``"mix"`` (their mean), ``"fingerprint"`` (TF-IDF cosine of the
            sentences' language-independent fingerprints, :mod:`dedup.text.fingerprints`: for two
            texts in different languages), ``"xling"`` (the mean of that and the cosine of the
            sentences' multilingual embeddings, centred per text; needs ``newsdedup[xling]``), or
            ``"auto"``: for two texts detected in different languages (:mod:`dedup.text.language`),
            ``"xling"`` if the extra is installed, else ``"fingerprint"``; ``"tfidf"`` otherwise.
            Measured in ``benchmarks/alignment.py``.
        stopwords: ``"english"`` or ``"none"``.
        boilerplate: a :class:`~dedup.report.boilerplate.Boilerplate` (or any predicate on a
            paragraph); ``None`` treats every paragraph as content.

    Raises:
        ValueError: a text has no paragraph, or a parameter is out of range.
        MissingExtraError: ``similarity="xling"`` without ``newsdedup[xling]`` (an ImportError).
    """
    if similarity not in SIMILARITIES:
        raise ValueError(f"similarity must be one of {SIMILARITIES}, got {similarity!r}")
    if similarity == "xling":
        require("xling", "--similarity xling (similarity='xling')")
    from dedup.text.language import detect

    languages = (detect(text_a)[0], detect(text_b)[0])
    if similarity == "auto":
        if languages[0] == languages[1]:
            similarity = "tfidf"
        else:
            from dedup.text.embeddings import available

            similarity = "xling" if available() else "fingerprint"
    cuts = _DEFAULT_CUTS.get(similarity, _WORD_CUTS)
    threshold = cuts[0] if threshold is None else threshold
    min_score = cuts[1] if min_score is None else min_score
    _check("threshold", threshold)
    _check("attach", attach)
    _check("move", move, high=2.0)
    _check("min_score", min_score)
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
    if stopwords not in ("english", "none"):
        raise ValueError(f"stopwords must be 'english' or 'none', got {stopwords!r}")
    paragraphs = []
    for name, text in (("text_a", text_a), ("text_b", text_b)):
        found = split_paragraphs(text)
        if not found:
            raise ValueError(f"{name} has no text")
        paragraphs.append(found)
    pa, pb = paragraphs
    is_boiler = boilerplate or (lambda p: False)
    boiler_a = [i for i, p in enumerate(pa) if is_boiler(p)]
    boiler_b = [j for j, p in enumerate(pb) if is_boiler(p)]
    content_a = [(i, p) for i, p in enumerate(pa) if i not in set(boiler_a)]
    content_b = [(j, p) for j, p in enumerate(pb) if j not in set(boiler_b)]

    sentences_a = paragraph_sentences_of(content_a)
    sentences_b = paragraph_sentences_of(content_b)
    if unit == "sentence" and len(sentences_a) * len(sentences_b) <= MAX_CELLS:
        units_a, units_b = [((i,), s) for i, s in sentences_a], [((j,), s) for j, s in sentences_b]
    else:
        unit = "paragraph"
        # Texts of thousands of paragraphs: runs of k consecutive paragraphs become one unit.
        k = max(1, math.ceil(math.sqrt(len(content_a) * len(content_b) / MAX_CELLS)))
        units_a, units_b = _runs(content_a, k), _runs(content_b, k)

    stop = ENGLISH if stopwords == "english" else frozenset()
    features = _Features([t for _, t in units_a], [t for _, t in units_b], stop, similarity)
    unit_links = features.align(threshold, attach, move)

    owner_a = [p for p, _ in units_a]
    owner_b = [p for p, _ in units_b]
    links = _paragraph_links(unit_links, owner_a, owner_b, features)
    links = [link for link in links if link.score >= min_score]
    kept = {(i, j) for link in links for i in link.a for j in link.b}
    linked_a = {i for link in links for i in link.a}
    linked_b = {j for link in links for j in link.b}
    return Alignment(
        paragraphs_a=pa,
        paragraphs_b=pb,
        links=links,
        only_a=[i for i, _ in content_a if i not in linked_a],
        only_b=[j for j, _ in content_b if j not in linked_b],
        boilerplate_a=boiler_a,
        boilerplate_b=boiler_b,
        sentence_links=[
            (x, y, s)
            for x, y, s, _ in unit_links
            if unit == "sentence" and any((owner_a[i][0], owner_b[j][0]) in kept for i in x for j in y)
        ],
        sentences_a=sentences_a,
        sentences_b=sentences_b,
        similarity=similarity,
        languages=languages,
    )


def paragraph_sentences_of(paragraphs: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Sentences of the given ``(index, paragraph)`` pairs, each with its paragraph's index."""
    index = [i for i, _ in paragraphs]
    return [(index[k], s) for k, s in paragraph_sentences([p for _, p in paragraphs])]


def _runs(paragraphs: list[tuple[int, str]], k: int) -> list[tuple[tuple[int, ...], str]]:
    """Runs of ``k`` consecutive paragraphs as units: (their indices, their text)."""
    runs = [paragraphs[lo : lo + k] for lo in range(0, len(paragraphs), k)]
    return [(tuple(i for i, _ in run), "\n\n".join(p for _, p in run)) for run in runs]


UnitLink = tuple[tuple[int, ...], tuple[int, ...], float, bool]


class _Features:
    """Similarities between blocks of consecutive units (sentences or paragraphs) of A and B."""

    def __init__(self, units_a: list[str], units_b: list[str], stop: frozenset[str], similarity: str) -> None:
        self.n, self.m = len(units_a), len(units_b)
        self.similarity = similarity
        self.ea = self.eb = None
        if similarity == "xling":  # the sentences' multilingual embeddings, centred per text
            from dedup.text.embeddings import embed

            vectors = embed(units_a + units_b, head=2_000).astype(np.float64)
            ea, eb = vectors[: len(units_a)], vectors[len(units_a) :]
            self.ea, self.eb = ea - ea.mean(axis=0), eb - eb.mean(axis=0)
        if similarity in ("fingerprint", "xling"):  # across languages: numbers, the sound of names and words
            from dedup.text.fingerprints import fingerprint

            tokens = [fingerprint(u) for u in units_a + units_b]
        else:
            tokens = [[t for t in tokenize(u) if t not in stop] for u in units_a + units_b]
        import scipy.sparse as sp  # (imported when first needed: 0.3 s that `dedup --help` need not pay)

        if any(tokens):
            from sklearn.feature_extraction.text import TfidfVectorizer  # (imported when first needed)

            vectorizer = TfidfVectorizer(analyzer=lambda toks: toks, sublinear_tf=True, norm=None)
            weighted = sp.csr_matrix(vectorizer.fit_transform(tokens), dtype=np.float64)
        else:
            weighted = sp.csr_matrix((len(tokens), 1))
        self.a, self.b = weighted[: self.n], weighted[self.n :]
        self.strings = [" ".join(t) for t in tokens]
        self._cache: dict[tuple[int, int], np.ndarray] = {}

    def block(self, da: int, db: int) -> np.ndarray:
        """``S[i, j]`` = similarity of units ``i..i+da-1`` of A and ``j..j+db-1`` of B."""
        key = (da, db)
        if key not in self._cache:
            if self.n < da or self.m < db:
                self._cache[key] = np.zeros((0, 0))
            else:
                sim = np.zeros((self.n - da + 1, self.m - db + 1))
                if self.similarity in ("tfidf", "mix", "fingerprint", "xling"):
                    rows_a = _normalised(_window_sums(self.a, da))
                    sim += (rows_a @ _normalised(_window_sums(self.b, db)).T).toarray()
                if self.similarity == "xling":
                    sim = (
                        sim + np.maximum(_dense_windows(self.ea, da) @ _dense_windows(self.eb, db).T, 0)
                    ) / 2
                if self.similarity in ("fuzz", "mix"):
                    sim += self._fuzz(da, db)
                if self.similarity == "mix":
                    sim /= 2
                self._cache[key] = sim
        return self._cache[key]

    def _fuzz(self, da: int, db: int) -> np.ndarray:
        from rapidfuzz import fuzz, process

        sa, sb = self.strings[: self.n], self.strings[self.n :]
        blocks_a = [" ".join(sa[i : i + da]) for i in range(self.n - da + 1)]
        blocks_b = [" ".join(sb[j : j + db]) for j in range(self.m - db + 1)]
        return process.cdist(blocks_a, blocks_b, scorer=fuzz.token_set_ratio, dtype=np.float32) / 100.0

    def cosine(self, units_a: list[int], units_b: list[int]) -> float:
        """TF-IDF cosine of the summed vectors of some units of A and some of B."""
        va = np.asarray(self.a[units_a].sum(axis=0)).ravel()
        vb = np.asarray(self.b[units_b].sum(axis=0)).ravel()
        norm = float(np.linalg.norm(va) * np.linalg.norm(vb))
        cosine = float(va @ vb) / norm if norm else 0.0
        if self.ea is None or self.eb is None:
            return cosine
        ea, eb = self.ea[units_a].sum(axis=0), self.eb[units_b].sum(axis=0)
        norm = float(np.linalg.norm(ea) * np.linalg.norm(eb))
        return (cosine + max(0.0, float(ea @ eb) / norm if norm else 0.0)) / 2

    def align(self, threshold: float, attach: float, move: float) -> list[UnitLink]:
        """Monotone DP, then attaching left-out units, then pairing moved ones."""
        links = [(a, b, s, False) for a, b, s in _monotone(self, threshold)]
        if not links or not self.n or not self.m:
            return links
        single = self.block(1, 1)
        links = _supported(links, single, 2 * threshold)
        links = _attach(links, single, attach)
        links += _moved(links, single, move)
        return sorted(links, key=lambda link: (link[0][0], link[1][0]))


def _dense_windows(rows: np.ndarray, d: int) -> np.ndarray:
    """Row ``i`` = rows ``i .. i+d-1`` summed, L2-normalised."""
    sums = np.cumsum(np.vstack([np.zeros((1, rows.shape[1])), rows]), axis=0)
    out = sums[d:] - sums[:-d]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1.0, norms)


def _window_sums(rows: sp.csr_matrix, d: int) -> sp.csr_matrix:
    """Row ``i`` of the result = rows ``i .. i+d-1`` summed."""
    import scipy.sparse as sp

    out = rows[: rows.shape[0] - d + 1]
    for k in range(1, d):
        out = out + rows[k : rows.shape[0] - d + 1 + k]
    return sp.csr_matrix(out)


def _normalised(rows: sp.csr_matrix) -> sp.csr_matrix:
    import scipy.sparse as sp

    norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(scale) @ rows)


def _monotone(features: _Features, threshold: float) -> list[tuple[tuple[int, ...], tuple[int, ...], float]]:
    """The best monotone block alignment (step 3 of the module doc).

    Row by row: ``best[i, j]`` is the best total gain aligning the first ``i``
    units of A with the first ``j`` of B. Leaving unit ``j`` of B out costs
    nothing, so along a row the best is a running maximum (``np.maximum.accumulate``).
    """
    n, m = features.n, features.m
    best = np.zeros((n + 1, m + 1))
    choice = np.full((n + 1, m + 1), -1, dtype=np.int8)  # -1: leave B's unit out; 0: A's; k: BLOCKS[k-1]
    gains = [features.block(da, db) - threshold for da, db in BLOCKS]
    for i in range(1, n + 1):
        row = best[i - 1].copy()
        pick = np.zeros(m + 1, dtype=np.int8)
        for k, (da, db) in enumerate(BLOCKS, 1):
            if i < da or m < db:
                continue
            value = best[i - da, : m - db + 1] + gains[k - 1][i - da]
            target, chosen = row[db:], pick[db:]
            better = value > target
            target[better] = value[better]
            chosen[better] = k
        running = np.maximum.accumulate(row)
        pick[running > row] = -1
        best[i] = running
        choice[i] = pick
    links = []
    i, j = n, m
    while i > 0 or j > 0:
        k = int(choice[i, j]) if i > 0 else -1
        if k == -1:
            j -= 1
        elif k == 0:
            i -= 1
        else:
            da, db = BLOCKS[k - 1]
            similarity = float(gains[k - 1][i - da, j - db] + threshold)
            links.append((tuple(range(i - da, i)), tuple(range(j - db, j)), similarity))
            i, j = i - da, j - db
    return links[::-1]


def _supported(links: list[UnitLink], sim: np.ndarray, weak: float) -> list[UnitLink]:
    """Drop weak 1:1 links (similarity under ``weak``) whose two units are not each other's best match.

    A weak match is plausible between two strong ones, but the DP also takes one where a
    title or an added opening sentence happens to share a name with a sentence of the other
    text; requiring mutual best match keeps the first and drops the second.
    """
    best_b, best_a = sim.argmax(axis=1), sim.argmax(axis=0)
    return [
        (a, b, s, mv)
        for a, b, s, mv in links
        if s >= weak or len(a) > 1 or len(b) > 1 or (best_b[a[0]] == b[0] and best_a[b[0]] == a[0])
    ]


def _owners(links: list[UnitLink], n: int, m: int) -> tuple[list[int | None], list[int | None]]:
    own_a: list[int | None] = [None] * n
    own_b: list[int | None] = [None] * m
    for k, (xa, xb, _, _) in enumerate(links):
        for x in xa:
            own_a[x] = k
        for y in xb:
            own_b[y] = k
    return own_a, own_b


def _attach(links: list[UnitLink], sim: np.ndarray, attach: float) -> list[UnitLink]:
    """Step 4: a unit left out joins the nearest aligned block before or after it, if similar enough."""
    own_a, own_b = _owners(links, *sim.shape)
    grown = [(list(a), list(b), s, mv) for a, b, s, mv in links]
    for side, own, table in ((0, own_a, sim), (1, own_b, sim.T)):
        for x, owner in enumerate(own):
            if owner is not None:
                continue
            best: tuple[float, int] | None = None
            for step in (-1, 1):
                y = x + step
                while 0 <= y < len(own) and own[y] is None:
                    y += step
                if not 0 <= y < len(own):
                    continue
                k = own[y]
                assert k is not None
                s = float(table[x, links[k][1 - side]].max())
                if s >= attach and (best is None or s > best[0]):
                    best = (s, k)
            if best is not None:
                grown[best[1]][side].append(x)
    return [(tuple(sorted(a)), tuple(sorted(b)), s, mv) for a, b, s, mv in grown]


def _moved(links: list[UnitLink], sim: np.ndarray, move: float) -> list[UnitLink]:
    """Step 5: pair units left out on both sides, most similar first, when at least ``move``-similar."""
    own_a, own_b = _owners(links, *sim.shape)
    free_a = np.array([x for x, o in enumerate(own_a) if o is None], dtype=np.int64)
    free_b = np.array([y for y, o in enumerate(own_b) if o is None], dtype=np.int64)
    if not len(free_a) or not len(free_b):
        return []
    sub = sim[np.ix_(free_a, free_b)]
    xs, ys = np.nonzero(sub >= move)
    order = np.argsort(-sub[xs, ys], kind="stable")
    used_a, used_b, out = set(), set(), []
    for k in order:
        x, y = int(free_a[xs[k]]), int(free_b[ys[k]])
        if x not in used_a and y not in used_b:
            used_a.add(x)
            used_b.add(y)
            out.append(((x,), (y,), float(sub[xs[k], ys[k]]), True))
    return out


def _paragraph_links(
    unit_links: list[UnitLink],
    owner_a: list[tuple[int, ...]],
    owner_b: list[tuple[int, ...]],
    features: _Features,
) -> list[Link]:
    """Step 6: project unit links onto paragraphs and write them as few n:m links as possible.

    Paragraphs of A with the same set of counterparts in B form one link (and
    the same from B's side); of the two ways the one with fewer links is kept.
    """
    pairs: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)  # paragraph pair -> unit pairs
    moved: dict[tuple[int, int], bool] = {}
    for xa, xb, _, mv in unit_links:
        for x in xa:
            for y in xb:
                for key in ((i, j) for i in owner_a[x] for j in owner_b[y]):
                    pairs[key].append((x, y))
                    moved[key] = moved.get(key, True) and mv
    if not pairs:
        return []
    by_a: dict[int, set[int]] = defaultdict(set)
    by_b: dict[int, set[int]] = defaultdict(set)
    for i, j in pairs:
        by_a[i].add(j)
        by_b[j].add(i)

    def grouped(neighbours: dict[int, set[int]]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
        groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for p, others in neighbours.items():
            groups[tuple(sorted(others))].append(p)
        return [(tuple(sorted(ps)), others) for others, ps in groups.items()]

    from_a = grouped(by_a)
    from_b = [(a, b) for b, a in grouped(by_b)]
    chosen = from_a if len(from_a) <= len(from_b) else from_b
    links = []
    for a, b in chosen:
        units = [u for i in a for j in b for u in pairs.get((i, j), ())]
        score = features.cosine(sorted({x for x, _ in units}), sorted({y for _, y in units}))
        is_moved = all(moved.get((i, j), True) for i in a for j in b if (i, j) in pairs)
        links.append(Link(a, b, score, is_moved))
    return sorted(links, key=lambda link: (link.a[0], link.b[0]))
