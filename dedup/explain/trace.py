"""Explaining a pair by running: the run over all the articles, with a hook that keeps what
concerns the two, then every signal, rule and clustering step read from what it kept."""

from __future__ import annotations

import dataclasses
import inspect
import os
from array import array
from collections.abc import Iterable, Iterator, Mapping
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
    choose_representative,
    judge_merges,
    linkage_tree,
)
from dedup.cluster import components as component_labels
from dedup.engines.local import Detector, RunHook
from dedup.explain.explanation import Explanation
from dedup.explain.facts import Candidates, Clustering, ExplainError, Merge, NumberFacts, Signal
from dedup.explain.format import decimals
from dedup.io.article import Article
from dedup.params import Params
from dedup.report.align import align
from dedup.report.alignment import Alignment
from dedup.result import Cluster, Result
from dedup.runtime.progress import Progress, no_progress
from dedup.score.decision import Signals, number_factor
from dedup.score.decision import score as decision_score
from dedup.score.measure import MATCH_FLOOR
from dedup.sketch.lsh import LEADERS, candidate_probability
from dedup.sketch.minhash import estimate_jaccard_pairs
from dedup.text.numbers import PRIOR
from dedup.text.numbers import numbers as number_values


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
    return explain_articles(
        _checked(articles), id_a, id_b, Params.from_kwargs(**params), workers, spill_dir, progress
    )


def _checked(articles: Iterable[ArticleLike]) -> Iterator[Article]:
    for position, item in enumerate(articles, start=1):
        yield as_article(item, position)


def explain_articles(
    articles: Iterable[Article],
    id_a: str,
    id_b: str,
    params: Params,
    workers: int,
    spill_dir: str | os.PathLike[str] | None,
    progress: Progress,
    where: str = "the articles given",
) -> Explanation:
    """The explanation of ``id_a`` and ``id_b`` among ``articles``, by a run over all of them
    (``where``: how an error names the articles)."""
    if id_a == id_b:
        raise ExplainError(f"give two different ids (got {id_a!r} twice)")
    texts: dict[str, str] = {}
    lengths = array("q")  # (each article's, for the kept copy's rule)

    def kept() -> Iterator[Article]:
        with progress("read+sign", None) as bar:
            for article in articles:
                lengths.append(len(article.text))
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
    wanted = {m for x in (id_a, id_b) if (c := result.cluster_of(x)) is not None for m in c.members}
    members = {x: lengths[k] for k, x in enumerate(detector.ids) if x in wanted}  # (their text lengths)
    explanation = _build(result, watch, names, params, id_a, id_b, texts[id_a], texts[id_b], members)
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
    lengths: Mapping[str, int] | None = None,
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
            f"they share {shared} band(s), but their signatures agree on {decimals(watch.jaccard)} of their "
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
    for c in {c.cluster: c for c in (ca, cb) if c is not None}.values():
        if (said := _kept_by_language(c, p, lengths or {})) is not None:
            notes.append(said)
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


def _kept_by_language(c: Cluster, p: Params, lengths: Mapping[str, int]) -> str | None:
    """What says that the kept copy of cluster ``c`` was chosen by its language (``prefer_lang``
    kept another member than ``representative`` alone would), or None. ``lengths``: the
    members' text lengths."""
    if not p.prefer_lang or len(set(c.languages.values())) < 2:
        return None
    members = list(c.members)
    measured = np.array([lengths.get(m, 0) for m in members], dtype=np.int64)
    alone = members[choose_representative(np.arange(len(members)), measured, p.representative)]
    if alone == c.representative:
        return None
    rep, lang = c.representative, c.languages.get(c.representative, "und")
    return (
        f"cluster {c.cluster} keeps {rep} ({lang}), chosen by language: prefer_lang "
        f"{','.join(p.prefer_lang)} keeps a member in {lang} first (the {p.representative} rule alone "
        f"would keep {alone}, in {c.languages.get(alone, 'und')})"
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
        return rule + ("" if other is None else f"; {other_how}: {decimals(other)}")
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
        return f"{share}; the score × (1 − {weight:g} × (1 − {decimals(s.value)})) = × {factor:.3f}"
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
