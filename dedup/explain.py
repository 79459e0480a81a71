"""Why two articles were, or were not, put together: every step of the decision for one pair.

A user who finds a wrong merge (or a missed one) wants to see, for that pair: whether MinHash LSH
made them candidates, each signal of :mod:`dedup.score.decision` with its value and the rule it entered,
the score against the threshold, the numbers each text states, the clustering step that joined or
separated them (:func:`dedup.cluster.cut_tree`: the merge of their two groups, or the first merge
on the way that was refused, and by which rule), and the paragraph alignment behind the sentence
match (:func:`dedup.report.align.align`).

The explanation is exact because it *is* a run: the same :class:`~dedup.engines.local.Detector` with
the same parameters goes over all the articles (the IDF, the candidates, the scores and the
clusters depend on every article), with a :class:`~dedup.engines.local.RunHook` that keeps what
concerns the two ids. So explaining costs a full run over the inputs (seconds for thousands of
articles; as long as ``dedup run`` for a large dump), plus one alignment.

Examples:
    >>> e = explain_run("out/", "000_1bdcf60ae9970c12", "004_89cc63446ebde389")  # doctest: +SKIP
    >>> e.merged, e.score >= e.threshold  # doctest: +SKIP
    (True, True)
    >>> print(e.to_text())  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dedup.api import ArticleLike, as_article
from dedup.cluster import (
    FAMILY_SIZE,
    MAX_RECLUSTER,
    REFUSED_BY_COHESION,
    REFUSED_BY_THRESHOLD,
    SAMPLES,
    TIGHT,
    judge_merges,
    linkage_tree,
)
from dedup.cluster import components as component_labels
from dedup.engines.local import Detector, RunHook
from dedup.io.article import Article, InputError
from dedup.params import Params
from dedup.report.align import Alignment, align
from dedup.report.views import summary_line
from dedup.result import Result, versions
from dedup.runtime.progress import Progress, no_progress
from dedup.score.decision import Signals, number_factor
from dedup.score.decision import score as decision_score
from dedup.score.measure import MATCH_FLOOR
from dedup.sketch.lsh import LEADERS, candidate_probability
from dedup.sketch.minhash import estimate_jaccard_pairs
from dedup.text.numbers import PRIOR
from dedup.text.numbers import numbers as number_values


class ExplainError(ValueError):
    """The pair cannot be explained (an unknown id, a run folder or inputs that cannot be read);
    ``str(err)`` is one line that says which."""


# ---------------------------------------------------------------------------------------------
# What an explanation holds


@dataclass(frozen=True)
class Candidates:
    """The LSH step: whether the two articles became a candidate pair, and why.

    Attributes:
        candidates: they were a candidate pair (only candidates are verified directly).
        shared_bands: bands of the signature in which the two agree on every row (one is
            enough, unless the bucket was larger than ``max_bucket``: see ``note``).
        bands, rows: the banding in force.
        jaccard: the MinHash estimate of their shingle sets' Jaccard (None: an article has none).
        probability: the chance that two sets of that Jaccard become candidates (None: as ``jaccard``).
        note: why the rule did not apply as usual (an article without shingles, an oversized bucket).
    """

    candidates: bool
    shared_bands: int
    bands: int
    rows: int
    jaccard: float | None
    probability: float | None
    note: str | None = None


@dataclass(frozen=True)
class Signal:
    """One signal of :class:`dedup.score.decision.Signals` for the pair: its value (None: not measured,
    NaN in the run) and the rule it enters."""

    name: str
    value: float | None
    rule: str


@dataclass(frozen=True)
class NumberFacts:
    """The numbers behind the ``numbers`` signal (:func:`dedup.text.numbers.numbers`): the distinct
    values each text states, in order of first mention, and which are shared."""

    a: list[str]
    b: list[str]
    shared: list[str]
    only_a: list[str]
    only_b: list[str]


@dataclass(frozen=True)
class Merge:
    """One merge of the linkage tree: two groups (sides) of articles, and how the cut judged it.

    Attributes:
        sizes: the members of each side.
        members: their ids (in input order).
        holds: which of the pair each side holds: ``"A"``, ``"B"`` or None (the first side is
            the one on the pair's way).
        cross: the two sides' mean cross score (average linkage; complete linkage: the lowest).
        own: each side's own mean score over its pairs (None for one member).
        threshold: the score a merge must reach.
        cohesion: the cohesion factor (0: the rule is off or does not apply to this merge).
        cohesion_limit: ``cohesion`` times the lower own mean, when both sides have two or more
            members (the rule applies), else None.
        refused_by: ``"threshold"``, ``"cohesion"`` or None (the merge passes).
        method: the linkage, ``"average"`` or ``"complete"``.
    """

    sizes: tuple[int, int]
    members: tuple[list[str], list[str]]
    holds: tuple[str | None, str | None]
    cross: float
    own: tuple[float | None, float | None]
    threshold: float
    cohesion: float
    cohesion_limit: float | None
    refused_by: str | None
    method: str = "average"

    @property
    def passes(self) -> bool:
        return self.refused_by is None

    def describe(self) -> str:
        """One phrase: the two groups, their cross score and the rule it met or failed."""
        sides = f"the merge of {_articles(self.sizes[0])} and {_articles(self.sizes[1])}"
        cross = f"{'cross mean' if self.method == 'average' else 'lowest cross score'} {_f(self.cross)}"
        if self.refused_by == "threshold":
            return f"{sides} was refused by the threshold: {cross} < {_f(self.threshold)}"
        limit = ""
        if self.cohesion_limit is not None:
            lower = min(o for o in self.own if o is not None)
            limit = (
                f"{self.cohesion:g} × {_f(lower)} (the lower of the two groups' own means, "
                f"{_own(self.own)}) = {_f(self.cohesion_limit)}"
            )
        if self.refused_by == "cohesion":
            return (
                f"{sides} was refused by the cohesion rule: the {cross} reaches the threshold "
                f"{_f(self.threshold)} but is under {limit}"
            )
        rule = f"{cross} ≥ threshold {_f(self.threshold)}" + (f" and ≥ {limit}" if limit else "")
        return f"{sides} passed: {rule}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "sizes": list(self.sizes),
            "members": [list(self.members[0]), list(self.members[1])],
            "holds": list(self.holds),
            "cross": _r(self.cross),
            "own": [_r(o) for o in self.own],
            "threshold": self.threshold,
            "cohesion": self.cohesion,
            "cohesion_limit": _r(self.cohesion_limit),
            "passes": self.passes,
            "refused_by": self.refused_by,
            "method": self.method,
        }


@dataclass(frozen=True)
class Clustering:
    """The clustering step for the pair.

    Attributes:
        component_sizes: the sizes of the connected components (of verified pairs) holding A and B
            (1: in no verified pair).
        same_component: A and B are linked by a chain of verified pairs (only then can the
            linkage join them).
        method: how the component was clustered: ``"average"``, ``"complete"`` linkage, or
            ``"whole"`` (kept as it is: two members, single linkage, or too large to re-cluster), or
            ``"exact"`` (A and B are exact copies, one member of the run), or ``"family"`` (a
            component over :data:`~dedup.cluster.FAMILY_SIZE`, clustered from its units).
        reason: why it was kept whole (None when re-clustered).
        joining: the merge of the tree that joins A's group with B's (re-clustered components).
        refused: the first merge on the way from A and from B up to ``joining`` that was
            refused, or that could not be made because a merge inside its other side was (a
            refused merge splits every merge above it); None when they stay together.
        refused_where: ``"joining"`` (``refused`` is ``joining``), ``"on the way"`` (a merge
            below it on the way of A or B) or ``"inside"`` (a merge inside a group that was to
            join A's or B's on the way).
        together: the linkage left A and B in one group.
    """

    component_sizes: tuple[int, int]
    same_component: bool
    method: str | None = None
    reason: str | None = None
    joining: Merge | None = None
    refused: Merge | None = None
    refused_where: str | None = None
    together: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "component_sizes": list(self.component_sizes),
            "same_component": self.same_component,
            "method": self.method,
            "reason": self.reason,
            "joining": None if self.joining is None else self.joining.to_dict(),
            "refused": None if self.refused is None else self.refused.to_dict(),
            "refused_where": self.refused_where,
            "together": self.together,
        }


@dataclass(frozen=True)
class Recorded:
    """What the run's output folder says of the pair, and whether it agrees with the recomputation.

    Attributes:
        pair: the pair's line of ``pairs.jsonl`` (None: not a verified pair there).
        clusters: the cluster of A and of B in ``clusters.jsonl`` (None: in none).
        differences: how the recomputation differs (empty: it agrees).
    """

    pair: dict[str, Any] | None
    clusters: tuple[int | None, int | None]
    differences: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        return {
            "pair": self.pair,
            "clusters": list(self.clusters),
            "agrees": self.agrees,
            "differences": list(self.differences),
        }


@dataclass(frozen=True)
class Explanation:
    """Why articles ``a`` and ``b`` were, or were not, put in one cluster (see the module doc).

    Attributes:
        a, b: the two ids, as asked.
        merged: they are in one cluster of the (recomputed) run.
        clusters: the cluster number of A and of B (None: in no cluster of two or more).
        members: the members of those clusters (empty: in none).
        articles: how many articles the explanation went over (the run's).
        languages: the detected language of each.
        candidates: the LSH step.
        signals: every signal of :class:`~dedup.score.decision.Signals`, measured even for a pair
            that was not a candidate.
        match_other_order: the sentence match counted the other way (in any order when the run
            counts it in order, and vice versa).
        score: the pair's score (:func:`dedup.score.decision.score`) and ``threshold``, the score a
            pair must reach.
        verified: a candidate pair whose score reached the threshold (a line of ``pairs.jsonl``).
        numbers: the numbers each text states.
        clustering: the clustering step.
        alignment: the two texts' paragraph alignment (as ``dedup align`` shows it; None if it
            could not be made).
        params: the parameters of the run.
        recorded: what the run folder recorded (:func:`explain_run` only).
        notes: anything else worth knowing (a cross-lingual link, a language not compared, ...).
    """

    a: str
    b: str
    merged: bool
    clusters: tuple[int | None, int | None]
    members: tuple[list[str], list[str]]
    articles: int
    languages: tuple[str, str]
    candidates: Candidates
    signals: list[Signal]
    match_other_order: float | None
    score: float
    threshold: float
    verified: bool
    numbers: NumberFacts
    clustering: Clustering
    alignment: Alignment | None
    params: dict[str, Any]
    recorded: Recorded | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def signal_values(self) -> dict[str, float | None]:
        """``{name: value}`` of every signal."""
        return {s.name: s.value for s in self.signals}

    @property
    def verdict(self) -> str:
        """One sentence: together or not, and the deciding reason, with its values."""
        return _verdict(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (floats to 4 decimals)."""
        return {
            "a": self.a,
            "b": self.b,
            "verdict": self.verdict,
            "merged": self.merged,
            "clusters": list(self.clusters),
            "members": [list(self.members[0]), list(self.members[1])],
            "articles": self.articles,
            "languages": list(self.languages),
            "candidates": {k: _r(v) for k, v in dataclasses.asdict(self.candidates).items()},
            "signals": {s.name: _r(s.value) for s in self.signals},
            "rules": {s.name: s.rule for s in self.signals},
            "match_other_order": _r(self.match_other_order),
            "score": _r(self.score),
            "threshold": self.threshold,
            "verified": self.verified,
            "numbers": dataclasses.asdict(self.numbers),
            "clustering": self.clustering.to_dict(),
            "alignment": None if self.alignment is None else self.alignment.to_dict(),
            "params": self.params,
            "recorded": None if self.recorded is None else self.recorded.to_dict(),
            "notes": list(self.notes),
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON (what ``dedup explain --json`` prints)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"

    def to_text(self, *, width: int = 100) -> str:
        """A readable report for a terminal: the verdict, one line per signal, the score, the
        clustering step, what the run recorded, and the aligned paragraphs (short)."""
        return _text(self, width)


# ---------------------------------------------------------------------------------------------
# Computing it


class _Watch(RunHook):
    """Keeps, during a run, what concerns the articles at indices ``ia`` and ``ib``."""

    def __init__(self, ordered: bool = True) -> None:
        self.ia = self.ib = self.lo = self.hi = self.n = -1
        self.ordered = ordered  # the run's sentence_order
        self.signatures: tuple[np.ndarray, np.ndarray] | None = None
        self.jaccard = 0.0
        self.candidate = False
        self.verified_score: float | None = None
        self.labels: np.ndarray | None = None
        self.signals: Signals | None = None
        self.other: Signals | None = None
        self.groups: list[tuple[np.ndarray, np.ndarray]] = []

    def watch(self, ia: int, ib: int) -> None:
        """Watch the articles at indices ``ia`` and ``ib``."""
        self.ia, self.ib = ia, ib
        self.lo, self.hi = min(ia, ib), max(ia, ib)

    def candidates(self, signatures: np.ndarray, pairs: np.ndarray) -> None:
        self.n = len(signatures)  # (the members: an exact copy is its first article's member)
        self.signatures = (signatures[self.ia].copy(), signatures[self.ib].copy())
        self.jaccard = float(estimate_jaccard_pairs(signatures, np.array([[self.lo, self.hi]]))[0])
        self.candidate = bool(np.any((pairs[:, 0] == self.lo) & (pairs[:, 1] == self.hi)))

    def verified(self, pairs: np.ndarray, scores: np.ndarray, measure: Any) -> None:
        at = np.flatnonzero((pairs[:, 0] == self.lo) & (pairs[:, 1] == self.hi))
        self.verified_score = float(scores[at[0]]) if len(at) else None
        self.labels = component_labels(self.n, pairs)
        pair = np.array([[self.ia, self.ib]])
        self.signals = measure(pair)
        self.other = measure(pair, ordered=not self.ordered)

    def linkage(self, groups: list[np.ndarray], scores: list[np.ndarray]) -> None:
        for members, sim in zip(groups, scores, strict=True):
            if self.ia in members or self.ib in members:
                self.groups.append((members.copy(), sim.copy()))


def _score(signals: Signals, params: Params) -> float:
    """:func:`dedup.score.decision.score` of one pair, given the weights it takes from ``params`` by name
    (so that a weight added to the rule is passed without this module knowing it)."""
    names = [
        name
        for name, parameter in inspect.signature(decision_score).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and hasattr(params, name)
    ]
    return float(decision_score(signals, **{name: getattr(params, name) for name in names})[0])


def explain(
    articles: Iterable[ArticleLike],
    id_a: str,
    id_b: str,
    *,
    workers: int = 1,
    spill_dir: str | os.PathLike[str] | None = None,
    progress: Progress = no_progress,
    **params: Any,
) -> Explanation:
    """Why ``id_a`` and ``id_b`` were, or were not, put together by :func:`dedup.find_duplicates`
    over ``articles`` with ``params``.

    This runs the whole detection over ``articles`` (the IDF, the candidates and the clusters
    depend on all of them), keeping what concerns the two ids: it costs a full run, plus one
    alignment. ``articles``, ``workers``, ``spill_dir`` and ``params`` are as
    :func:`~dedup.find_duplicates` takes them.

    Raises:
        ExplainError: an id is not among ``articles``, or the two ids are the same.
    """
    return _explain(
        _checked(articles), id_a, id_b, Params.from_kwargs(**params), workers, spill_dir, progress
    )


def _checked(articles: Iterable[ArticleLike]) -> Iterator[Article]:
    for position, item in enumerate(articles, start=1):
        yield as_article(item, position)


def _explain(
    articles: Iterable[Article],
    id_a: str,
    id_b: str,
    params: Params,
    workers: int,
    spill_dir: str | os.PathLike[str] | None,
    progress: Progress,
    where: str = "the articles given",
) -> Explanation:
    if id_a == id_b:
        raise ExplainError(f"give two different ids (got {id_a!r} twice)")
    texts: dict[str, str] = {}

    def kept() -> Iterator[Article]:
        with progress("read+sign", None) as bar:
            for article in articles:
                if article.id in (id_a, id_b):
                    texts[article.id] = article.text
                bar.update(1)
                yield article

    watch = _Watch(params.sentence_order)
    detector = Detector(params, progress=progress, spill_dir=spill_dir, hook=watch)
    try:
        detector.add_many(kept(), workers=workers)
        for x in (id_a, id_b):
            if x not in texts:
                raise ExplainError(f"unknown id {x!r}: not among the {len(detector):,} articles of {where}")
        position = {x: k for k, x in enumerate(detector.ids) if x in (id_a, id_b)}
        member = detector.member_of  # (the run's stages see each distinct text once)
        watch.watch(int(member[position[id_a]]), int(member[position[id_b]]))  # (called by finish())
        result = detector.finish()
    finally:
        detector.close()
    firsts = np.unique(member, return_index=True)[1]  # each member's first article
    names = [detector.ids[k] for k in firsts.tolist()]
    explanation = _build(result, watch, names, params, id_a, id_b, texts[id_a], texts[id_b])
    return dataclasses.replace(explanation, articles=len(detector))


def _build(
    result: Result,
    watch: _Watch,
    ids: list[str],
    p: Params,
    id_a: str,
    id_b: str,
    text_a: str,
    text_b: str,
) -> Explanation:
    assert watch.signals is not None and watch.signatures is not None and watch.labels is not None
    notes: list[str] = []
    # The LSH step.
    bands, rows = p.bands_rows
    sig_a, sig_b = watch.signatures
    agree = sig_a[: bands * rows] == sig_b[: bands * rows]
    shared = int(agree.reshape(bands, rows).all(axis=1).sum())
    empty = [bool(np.all(s == np.uint32(0xFFFFFFFF))) for s in watch.signatures]
    lang_a, lang_b = result.languages.get(id_a, "und"), result.languages.get(id_b, "und")
    note = None
    if any(empty):
        shared = 0  # (an empty signature is never banded)
        why = []
        for x, lang, e in zip("AB", (lang_a, lang_b), empty, strict=True):
            if e and p.languages is not None and lang not in p.languages:
                why.append(f"{x} is in {lang!r}, not among the languages compared ({', '.join(p.languages)})")
            elif e:
                why.append(f"{x} has no shingle (no word left once stop words are dropped)")
        note = " and ".join(why) + ": never a candidate"
    elif watch.ia == watch.ib:
        note = "exact copies (one normalised text): one member of the run, never compared"
    elif shared and not watch.candidate and watch.jaccard < p.min_jaccard:
        note = (
            f"they share {shared} band(s), but their signatures agree on {_f(watch.jaccard)} of their "
            f"values, under min_jaccard = {p.min_jaccard}: dropped before verification"
        )
    elif shared and not watch.candidate:
        note = (
            f"they share {shared} band(s), but only in buckets of more than max_bucket = {p.bucket_cap} "
            + (
                "articles, where each article is paired with its next 8 only"
                if p.all_pairs
                else "articles, where each article is paired with the bucket's "
                + ("leader only" if LEADERS == 1 else f"{LEADERS} leaders only")
            )
        )
    jaccard = None if any(empty) else watch.jaccard
    probability = None if jaccard is None else candidate_probability(jaccard, bands, rows)
    candidates = Candidates(watch.candidate, shared, bands, rows, jaccard, probability, note)
    # The signals and the score.
    score = watch.verified_score if watch.verified_score is not None else _score(watch.signals, p)
    other = watch.other
    other_match = None if other is None or p.sentence_weight == 0 else float(other.match[0])
    facts = _numbers(text_a, text_b)
    signals = [
        Signal(f.name, _value(getattr(watch.signals, f.name)[0]), "") for f in dataclasses.fields(Signals)
    ]
    signals = [
        dataclasses.replace(s, rule=_rule(s, signals, p, watch.ordered, other_match, facts)) for s in signals
    ]
    # The clustering step.
    ca, cb = result.cluster_of(id_a), result.cluster_of(id_b)
    merged = ca is not None and ca is cb
    clustering = _clustering(watch, ids, p, together=merged)
    if merged and not clustering.together:
        links = [x for x in result.links if x.a in ca.members or x.b in ca.members]  # type: ignore[union-attr]
        shown = "; ".join(f"{x.a} ({x.lang_a}) ↔ {x.b} ({x.lang_b}), margin {x.margin:.2f}" for x in links)
        notes.append(
            "their groups were joined across languages by the cross-lingual linking"
            + (f" (links.jsonl: {shown})" if shown else "")
        )
    try:
        alignment: Alignment | None = align(text_a, text_b)
    except ValueError as err:  # (a text with no paragraph)
        alignment = None
        notes.append(f"no alignment: {err}")
    return Explanation(
        a=id_a,
        b=id_b,
        merged=merged,
        clusters=(None if ca is None else ca.cluster, None if cb is None else cb.cluster),
        members=([] if ca is None else list(ca.members), [] if cb is None else list(cb.members)),
        articles=len(ids),
        languages=(lang_a, lang_b),
        candidates=candidates,
        signals=signals,
        match_other_order=other_match,
        score=score,
        threshold=p.threshold,
        verified=watch.verified_score is not None,
        numbers=facts,
        clustering=clustering,
        alignment=alignment,
        params=p.to_dict(),
        notes=notes,
    )


def _value(x: Any) -> float | None:
    x = float(x)
    return None if np.isnan(x) else x


def _numbers(text_a: str, text_b: str) -> NumberFacts:
    a = list(dict.fromkeys(_shown(v) for v in number_values(text_a)))
    b = list(dict.fromkeys(_shown(v) for v in number_values(text_b)))
    sa, sb = set(a), set(b)
    return NumberFacts(
        a, b, [v for v in a if v in sb], [v for v in a if v not in sb], [v for v in b if v not in sa]
    )


def _shown(value: str) -> str:
    """A number value as :mod:`dedup.text.numbers` keys it (``#1250``, ``t19:00``), as a reader writes it."""
    return value[1:] if value[:1] in ("#", "t") else value


def _rule(
    s: Signal, signals: list[Signal], p: Params, ordered: bool, other: float | None, facts: NumberFacts
) -> str:
    """The rule a signal enters (see :mod:`dedup.score.decision`)."""
    w = p.sentence_weight
    values = {x.name: x.value for x in signals}
    if s.name == "cosine":
        return f"TF-IDF cosine of the two documents; weighs {1 - w:g} in the score"
    if s.name == "match":
        if w == 0:
            return "sentence match: not used (sentence_weight 0: the score is the cosine)"
        how, other_how = ("in order", "in any order") if ordered else ("in any order", "in order")
        rule = f"sentence match {how} (of the article with less content); weighs {w:g}"
        if (values.get("cosine") or 0.0) < MATCH_FLOOR:
            return rule + f"; not computed under cosine {MATCH_FLOOR:g}: taken equal to the cosine"
        return rule + ("" if other is None else f"; {other_how}: {_f(other)}")
    if s.name == "order":
        return (
            "match in order / match in any order (1: all that matched is in order); shown, not in the score"
        )
    if s.name == "numbers":
        if p.number_weight == 0:
            return "numbers' agreement: not used (number_weight 0)"
        if s.value is None:
            none = [x for x, v in (("A", facts.a), ("B", facts.b)) if not v]
            return f"not compared: {' and '.join(none) or 'one'} states no number (factor 1)"
        factor = float(number_factor(np.array([s.value]), p.number_weight)[0])
        k, fewer = len(facts.shared), min(len(facts.a), len(facts.b))
        share = f"{k} of the {fewer} distinct number{'' if fewer == 1 else 's'} of the text with fewer"
        if abs((k + PRIOR) / (fewer + PRIOR) - s.value) < 1e-6:  # (as dedup.text.numbers counts it)
            share += f" in the other: ({k} + {PRIOR:g}) / ({fewer} + {PRIOR:g})"
        weight = p.number_weight
        return f"{share}; the score × (1 − {weight:g} × (1 − {_f(s.value)})) = × {factor:.3f}"
    weight = getattr(p, f"{s.name}_weight", None)
    return "see dedup.score.decision" + ("" if weight is None else f"; {s.name}_weight {weight:g}")


def _clustering(watch: _Watch, ids: list[str], p: Params, together: bool = False) -> Clustering:
    labels = watch.labels
    assert labels is not None
    la, lb = labels[watch.ia], labels[watch.ib]
    sizes = (int(np.sum(labels == la)), int(np.sum(labels == lb)))
    if watch.ia == watch.ib:
        reason = "exact copies: one normalised text, one member of the run, in one cluster by that alone"
        return Clustering(sizes, True, "exact", reason, together=True)
    if la != lb:
        return Clustering(sizes, False)
    size = sizes[0]
    if p.linkage == "average" and not p.all_pairs and size > FAMILY_SIZE:
        reason = (
            f"a family of {size:,} members (over {FAMILY_SIZE}): clustered from its tight units (members "
            f"scoring {TIGHT:g} or more with a leader), each standing for its members by {SAMPLES} of them "
            "(dedup.cluster.split_family); all_pairs links every pair"
        )
        return Clustering(sizes, True, "family", reason, together=together)
    if size == 2 or p.linkage == "single" or size > MAX_RECLUSTER:
        reason = (
            "two members: the verified pair itself"
            if size == 2
            else "single linkage: the connected component"
            if p.linkage == "single"
            else f"more than {MAX_RECLUSTER:,} members: not re-clustered"
        )
        return Clustering(sizes, True, "whole", reason, together=True)
    found = [(m, s) for m, s in watch.groups if watch.ia in m]
    if not found:  # (never: every component of 3..MAX_RECLUSTER is re-clustered)
        raise RuntimeError("the linkage was not given the pair's component")
    members, sim = found[0]
    tree = linkage_tree(sim, p.linkage)
    cohesion = p.cohesion if p.linkage == "average" else 0.0
    judged = judge_merges(tree, p.threshold, cohesion)
    m = len(members)
    parent = np.full(2 * m - 1, -1, dtype=np.int64)
    for k, (left, right) in enumerate(tree[:, :2].astype(np.int64).tolist()):
        parent[left] = parent[right] = m + k

    def path(leaf: int) -> list[int]:
        out = [leaf]
        while parent[out[-1]] >= 0:
            out.append(int(parent[out[-1]]))
        return out

    leaf_a, leaf_b = int(np.searchsorted(members, watch.ia)), int(np.searchsorted(members, watch.ib))
    pa, pb = path(leaf_a), path(leaf_b)
    on_b = set(pb)
    top = next(x for x in pa if x in on_b)  # where their groups meet
    way = [x for x in pa[1:] if x <= top] + [x for x in pb[1:] if x < top]
    on_way = set(pa) | on_b

    def leaves(node: int) -> list[int]:
        out, todo = [], [node]
        while todo:
            x = todo.pop()
            if x < m:
                out.append(x)
            else:
                todo.extend(int(c) for c in tree[x - m, :2])
        return sorted(out)

    def merge(node: int, first: int | None = None) -> Merge:
        left, right = (int(c) for c in tree[node - m, :2])
        if first is not None and right == first:
            left, right = right, left
        size = (int(judged.size[left]), int(judged.size[right]))
        own = tuple(
            float(judged.total[x] / (judged.size[x] * (judged.size[x] - 1) / 2))
            if judged.size[x] >= 2
            else None
            for x in (left, right)
        )
        applies = cohesion > 0 and min(size) >= 2
        limit = cohesion * min(o for o in own if o is not None) if applies else None
        refused = int(judged.refused[node])
        by = {REFUSED_BY_THRESHOLD: "threshold", REFUSED_BY_COHESION: "cohesion"}.get(refused)
        under = [leaves(x) for x in (left, right)]
        names = (
            [ids[members[i]] for i in under[0]],
            [ids[members[i]] for i in under[1]],
        )
        holds = tuple("A" if leaf_a in side else "B" if leaf_b in side else None for side in map(set, under))
        cross = 1.0 - float(tree[node - m, 2])
        return Merge(size, names, holds, cross, own, p.threshold, cohesion, limit, by, p.linkage)  # type: ignore[arg-type]

    # Side A of the joining merge is the child on A's way.
    joining = merge(top, first=pa[pa.index(top) - 1])
    blocked = sorted(x for x in way if not judged.whole[x])
    if not blocked:
        return Clustering(sizes, True, p.linkage, None, joining, together=True)
    first = blocked[0]
    if judged.refused[first]:
        if first == top:
            return Clustering(sizes, True, p.linkage, None, joining, joining, "joining")
        child = next(x for x in (pa + pb) if parent[x] == first)
        return Clustering(sizes, True, p.linkage, None, joining, merge(first, child), "on the way")
    # It passes, but a merge inside its other side was refused: that side never formed.
    inside = next(int(c) for c in tree[first - m, :2] if int(c) not in on_way)
    todo, refused = [inside], []
    while todo:
        x = todo.pop()
        if x >= m:
            if judged.refused[x]:
                refused.append(x)
            todo.extend(int(c) for c in tree[x - m, :2])
    return Clustering(sizes, True, p.linkage, None, joining, merge(min(refused)), "inside")


# ---------------------------------------------------------------------------------------------
# A run's output folder


def explain_run(
    run_dir: str | os.PathLike[str],
    id_a: str,
    id_b: str,
    *,
    inputs: Sequence[str | os.PathLike[str]] | None = None,
    workers: int = 1,
    spill_dir: str | os.PathLike[str] | None = None,
    progress: Progress = no_progress,
) -> Explanation:
    """:func:`explain` for the pair in a ``dedup run`` output folder: with the run's parameters
    (``summary.json``), over its inputs read again (the paths ``summary.json`` recorded, or
    ``inputs``), and compared with what the run wrote (``pairs.jsonl``, ``clusters.jsonl``): if
    the recomputed decision differs (the inputs changed since the run), ``recorded`` and the
    text say so.

    It costs a full run over the inputs (see :func:`explain`).

    Raises:
        ExplainError: the folder is not a run's, ``summary.json`` is missing, the inputs cannot be
            read, or an id is not among them.
    """
    from dedup.report.build import ReportError, load_run

    folder = Path(run_dir)
    try:
        run = load_run(folder)
    except ReportError as err:
        raise ExplainError(str(err)) from None
    summary_path = folder / "summary.json"
    if not run.summary:
        raise ExplainError(f"{summary_path}: missing, so the run's parameters and inputs are unknown")
    recorded = run.summary.get("params")
    if not isinstance(recorded, dict):
        raise ExplainError(f'{summary_path}: records no parameters ("params")')
    known = {f.name for f in dataclasses.fields(Params)}
    notes = []
    unknown = sorted(set(recorded) - known)
    if unknown:
        notes.append(f"parameters of the run this version does not know, ignored: {', '.join(unknown)}")
    try:
        params = Params(**{k: v for k, v in recorded.items() if k in known})
    except (TypeError, ValueError) as err:
        raise ExplainError(f"{summary_path}: bad parameters: {err}") from None
    bad: list[InputError] = []
    try:
        with run.inputs(inputs) as source:
            explanation = _explain(
                source.articles(on_bad=bad.append),
                id_a,
                id_b,
                params,
                workers,
                spill_dir,
                progress,
                where=f"the inputs of the run in {folder}",
            )
    except ReportError as err:
        raise ExplainError(str(err)) from None
    except ExplainError as err:
        raise ExplainError(f"{err}; first problem reading them: {bad[0]}" if bad else str(err)) from None
    except InputError as err:
        raise ExplainError(str(err)) from None
    except OSError as err:
        raise ExplainError(f"{err.filename or folder}: {err.strerror or err}") from None
    return dataclasses.replace(
        explanation,
        recorded=_recorded(folder, run, explanation, bad, notes),
        notes=explanation.notes + notes,
    )


def _recorded(folder: Path, run: Any, e: Explanation, bad: list[InputError], notes: list[str]) -> Recorded:
    """What the run folder says of the pair, compared with ``e``; adds to ``notes`` what may
    explain a difference."""
    key = tuple(sorted((e.a, e.b)))
    pair = None
    pairs_path = folder / "pairs.jsonl"
    if pairs_path.is_file():
        with open(pairs_path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if e.a not in line or e.b not in line:
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as err:
                    raise ExplainError(f"{pairs_path}:{n}: malformed JSON: {err.msg}") from None
                if isinstance(obj, dict) and (obj.get("a"), obj.get("b")) == key:
                    pair = obj
                    break
    member_of = {m: c for c in run.clusters for m in c.members}
    ca, cb = member_of.get(e.a), member_of.get(e.b)
    clusters = (None if ca is None else ca.cluster, None if cb is None else cb.cluster)
    differences = []
    if (pair is not None) != e.verified:
        differences.append(
            f"pairs.jsonl {'has' if pair is not None else 'does not have'} the pair, "
            f"recomputed it is {'' if e.verified else 'not '}a verified pair"
        )
    elif pair is not None and pair.get("score") != round(min(e.score, 1.0), 4):
        differences.append(f"pairs.jsonl scores the pair {pair.get('score')}, recomputed {_f(e.score)}")
    together = ca is not None and ca is cb
    if together != e.merged:
        differences.append(
            f"clusters.jsonl has them {'in one cluster' if together else 'apart'}, "
            f"recomputed they are {'in one cluster' if e.merged else 'apart'}"
        )
    for x, c, now in (("A", ca, e.members[0]), ("B", cb, e.members[1])):
        if together and e.merged and x == "B":
            break  # (one cluster: compared once)
        was = [] if c is None else list(c.members)
        if sorted(was) != sorted(now):
            differences.append(
                f"{x}'s cluster is {{{_list(sorted(was), 4)}}} in clusters.jsonl, "
                f"{{{_list(sorted(now), 4)}}} recomputed"
                if was and now
                else f"{x} is in {'a cluster' if was else 'no cluster'} in clusters.jsonl, "
                f"in {'a cluster' if now else 'no cluster'} recomputed"
            )
    counts = run.summary.get("articles", {})
    read, skipped = counts.get("read"), counts.get("skipped_bad_input", 0)
    if isinstance(read, int) and read != e.articles + len(bad):
        notes.append(f"the run read {read:,} records; its inputs now hold {e.articles + len(bad):,}")
    if bad and len(bad) != skipped:
        notes.append(
            f"{len(bad)} bad record(s) skipped reading the inputs (the run skipped {skipped}): {bad[0]}"
        )
    if run.summary.get("index"):
        notes.append(
            f"the run was checked against the index {run.summary['index'].get('location')}: clusters it "
            "joined through articles the index held are not recomputed here"
        )
    engine = run.summary.get("engine")
    if engine and engine != "local":
        notes.append(
            f"the run used the {engine} engine; explained with the local one (the same pairs and clusters)"
        )
    version = run.summary.get("versions", {}).get("dedup")
    if differences and version and version != versions().get("dedup"):
        notes.append(f"the run was made by dedup {version}, this is {versions().get('dedup')}")
    return Recorded(pair, clusters, differences)


# ---------------------------------------------------------------------------------------------
# Text


def _r(x: Any) -> Any:
    return round(x, 4) if isinstance(x, float) else x


def _f(x: float | None) -> str:
    """A score as the text shows it: 4 decimals at most, trailing zeros dropped."""
    if x is None:
        return "n/a"
    return f"{x:.4f}".rstrip("0").rstrip(".") or "0"


def _articles(n: int) -> str:
    return f"{n} article{'' if n == 1 else 's'}"


def _own(own: tuple[float | None, float | None]) -> str:
    return " and ".join("–" if o is None else _f(o) for o in own)


def _verdict(e: Explanation) -> str:
    pair = f"{e.a} and {e.b}"
    c = e.candidates
    threshold = _f(e.threshold)
    if e.verified:
        own = f"their score {_f(e.score)} reaches the threshold {threshold}"
    elif not c.candidates:
        own = f"they were not LSH candidates ({c.note or f'{c.shared_bands} of {c.bands} bands shared'})"
    else:
        own = f"their score {_f(e.score)} is under the threshold {threshold}"
    k = e.clustering
    if k.method == "exact":
        return f"{pair} are exact copies (one normalised text): one member of the run, in one cluster"
    if e.merged:
        head = f"{pair} are in one cluster (cluster {e.clusters[0]})"
        if e.verified:
            return f"{head}: {own}"
        if k.together and k.joining is not None:
            return (
                f"{head} through other articles: {own}, but the linkage joined their groups: "
                f"{k.joining.describe()}"
            )
        if k.method == "family":
            return f"{head} through other articles: {own}, but {k.reason}, joined them"
        return f"{head} through a cross-lingual link ({own})"
    head = f"{pair} are not in one cluster"
    if k.method == "family":
        return f"{head}: {own}; verified pairs link them in {k.reason}, which kept them apart"
    if k.same_component and k.refused is not None:
        linked = (
            f"{head}: {own}; verified pairs link them in a component of {_articles(k.component_sizes[0])}"
        )
        if k.refused_where == "joining":
            return f"{linked}, but the linkage kept their groups apart: {k.refused.describe()}"
        whose = k.refused.holds[0] if k.refused_where == "on the way" else None
        where = f"on {whose}'s way" if whose else "inside a group on their way"
        return (
            f"{linked}, but the linkage kept them apart: a merge {where} was refused: {k.refused.describe()}"
        )
    if not c.candidates:
        would = "reach" if e.score >= e.threshold else "be under"
        return (
            f"{head}: {own}, and no chain of verified pairs links them (their score {_f(e.score)} "
            f"would {would} the threshold {threshold})"
        )
    return f"{head}: {own}, and no chain of verified pairs links them"


_LABEL = 12  # the width of the section labels of the text


def _text(e: Explanation, width: int) -> str:
    out = _wrap(e.verdict, width, subsequent_indent="  ")
    if e.recorded is not None and not e.recorded.agrees:
        out += _wrap(
            "WARNING: this is not what the run recorded (see 'run' below): its inputs (or dedup) changed "
            "since the run, and this explains the inputs as they are now.",
            width,
            subsequent_indent="  ",
        )
    out.append("")

    def section(label: str, text: str) -> None:
        out.extend(_wrap(text, width, initial_indent=f"{label:<{_LABEL}}", subsequent_indent=" " * _LABEL))

    section("A", f"{e.a} ({e.languages[0]})")
    section("B", f"{e.b} ({e.languages[1]})")
    c = e.candidates
    section(
        "candidates",
        f"{'yes' if c.candidates else 'no'}: {c.shared_bands} of {c.bands} bands of {c.rows} rows shared"
        + (
            ""
            if c.jaccard is None or c.probability is None
            else f"; MinHash Jaccard estimate {_f(c.jaccard)}, at which a pair becomes a candidate with "
            f"probability {c.probability:.2f}"
        )
        + (f"; {c.note}" if c.note else ""),
    )
    rows = [(s.name, "–" if s.value is None else f"{min(s.value, 1.0):.4f}", s.rule) for s in e.signals]
    rows.append(("score", f"{min(e.score, 1.0):.4f}", _score_line(e)))
    name_width = max(len(name) for name, _, _ in rows)
    for k, (name, value, rule) in enumerate(rows):
        lead = f"{'signals' if k == 0 else '':<{_LABEL}}{name:<{name_width}}  {value:>6}  "
        out.extend(_wrap(rule, width, initial_indent=lead, subsequent_indent=" " * len(lead)))
    n = e.numbers
    section(
        "numbers",
        f"A: {_list(n.a)} · B: {_list(n.b)} · shared: {_list(n.shared)}"
        if n.a or n.b
        else "neither text states a number",
    )
    section("clustering", _clustering_text(e))
    k = e.clustering
    shown = k.refused or (k.joining if k.together else None)
    if shown is not None:
        for k, (holds, members) in enumerate(zip(shown.holds, shown.members, strict=True), 1):
            side = f"{holds}'s group" if holds else f"group {k}"
            section("", f"{side} ({_articles(len(members))}): {_list(members, 4)}")
    if e.recorded is not None:
        r = e.recorded
        where = (
            f"A and B in cluster {r.clusters[0]}"
            if r.clusters[0] is not None and r.clusters[0] == r.clusters[1]
            else ", ".join(
                f"{x} in {'no cluster' if k is None else f'cluster {k}'}"
                for x, k in zip("AB", r.clusters, strict=True)
            )
        )
        said = (
            "the pair (score " + str(r.pair.get("score")) + ")" if r.pair is not None else "no pair"
        ) + f", {where}"
        if r.agrees:
            section("run", f"recorded {said}: as recomputed")
        else:
            section("run", f"recorded {said}; but recomputed: {'; '.join(r.differences)}")
    for note in e.notes:
        section("note", note)
    if e.alignment is not None:
        _alignment_text(e.alignment, width, out)
    return "\n".join(out) + "\n"


def _score_line(e: Explanation) -> str:
    p = e.params
    values = e.signal_values
    w = p["sentence_weight"]
    cosine = min(values.get("cosine") or 0.0, 1.0)
    match = values.get("match") or 0.0
    base = cosine if w == 0 else (1 - w) * cosine + w * match
    mix = f"{_f(cosine)}" if w == 0 else f"({1 - w:g} × {_f(cosine)} + {w:g} × {_f(match)})"
    factor = e.score / base if base > 0 else 1.0
    facts = [s.name for s in e.signals if s.name not in ("cosine", "match", "order") and s.value is not None]
    formula = f"= {mix} × {factor:.3f}" + (f" ({', '.join(facts)})" if facts else "")
    threshold = _f(e.threshold)
    if e.verified:
        return f"{formula} ≥ threshold {threshold}: a verified pair"
    if not e.candidates.candidates:
        than = "≥" if e.score >= e.threshold else "<"
        return f"{formula} {than} threshold {threshold}, but not a candidate, so never verified directly"
    return f"{formula} < threshold {threshold}: not verified"


def _clustering_text(e: Explanation) -> str:
    c = e.clustering
    if not c.same_component:
        if c.component_sizes == (1, 1):
            return "neither is in a verified pair: nothing links them"
        sizes = " and ".join(_articles(s) for s in c.component_sizes)
        return f"in different components of verified pairs ({sizes}): nothing links them"
    size = _articles(c.component_sizes[0])
    if c.method == "whole":
        return f"one component of {size}, kept whole ({c.reason})"
    if c.method == "exact":
        return f"exact copies: one member of the run ({size} in its component), in one cluster by that alone"
    if c.method == "family":
        verdict = "put together" if c.together else "kept apart"
        return f"one component of {size}, {c.reason}: {verdict}"
    how = f"{c.method} linkage" + (
        f" with cohesion {e.params['cohesion']:g}" if c.method == "average" and e.params["cohesion"] else ""
    )
    assert c.joining is not None
    if c.refused is None or c.refused_where == "joining":
        return f"{how} over a component of {size}: {c.joining.describe()}"
    whose = c.refused.holds[0] if c.refused_where == "on the way" else None
    where = f"on {whose}'s way" if whose else "inside a group on their way"
    return (
        f"{how} over a component of {size}: their groups would meet where {c.joining.describe()}; "
        f"but a merge {where} was refused first: {c.refused.describe()} (a refused merge splits every "
        "merge above it)"
    )


def _list(values: Sequence[str], limit: int = 12) -> str:
    if not values:
        return "none"
    shown = ", ".join(values[:limit])
    return shown + (f" … ({len(values)} in all)" if len(values) > limit else "")


MAX_LINKS = 8
"""Links of the alignment the text shows (all are in the JSON)."""


def _alignment_text(al: Alignment, width: int, out: list[str]) -> None:
    out.extend(
        _wrap(
            summary_line(al), width, initial_indent=f"{'alignment':<{_LABEL}}", subsequent_indent=" " * _LABEL
        )
    )
    for link in al.links[:MAX_LINKS]:
        where = f"¶{','.join(str(i + 1) for i in link.a)} ↔ ¶{','.join(str(j + 1) for j in link.b)}"
        lead = f"{'':<{_LABEL}}{where:<12} {link.type} {link.score:.2f}{' moved' if link.moved else ''}  "
        room = max(20, width - len(lead) - 3)
        texts = [" ".join(al.paragraphs_a[i] for i in link.a), " ".join(al.paragraphs_b[j] for j in link.b)]
        out.append(f"{lead}A: {_clip(texts[0], room)}")
        out.append(f"{' ' * len(lead)}B: {_clip(texts[1], room)}")
    if len(al.links) > MAX_LINKS:
        out.append(f"{'':<{_LABEL}}… {len(al.links) - MAX_LINKS} more links (dedup align, or --json)")
    rest = [
        f"only in {side}: {', '.join(f'¶{i + 1}' for i in only)}"
        for side, only in (("A", al.only_a), ("B", al.only_b))
        if only
    ]
    boiler = [f"A ¶{i + 1}" for i in al.boilerplate_a] + [f"B ¶{j + 1}" for j in al.boilerplate_b]
    if boiler:
        rest.append(f"boilerplate: {', '.join(boiler)}")
    if rest:
        out.extend(
            _wrap(" · ".join(rest), width, initial_indent=" " * _LABEL, subsequent_indent=" " * _LABEL)
        )


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _wrap(text: str, width: int, **options: Any) -> list[str]:
    """``textwrap.wrap`` that never breaks an id at its hyphens."""
    return textwrap.wrap(text, width, break_on_hyphens=False, **options)
