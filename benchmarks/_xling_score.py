"""Scoring of a cross-lingual run against gold clusters, shared by the xling benchmarks.

A run's clusters and the gold clusters are both lists of article-id lists. The pairs scored are
the unordered pairs of articles that share a cluster, split by the articles' (gold) languages:
``cross_pairs`` those in two different languages (a source and its translation, or two
translations of one source into different languages), ``same_pairs`` those in one language.
Precision, recall and F1 compare the pairs a run makes with the gold's (:func:`prf`).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

Pair = tuple[str, str]


def gold_clusters(articles: Iterable[Mapping]) -> list[list[str]]:
    """The gold clusters of articles (dicts with ``id`` and ``cluster``), in first-seen order."""
    out: dict[str, list[str]] = defaultdict(list)
    for a in articles:
        out[a["cluster"]].append(a["id"])
    return list(out.values())


def _pairs(clusters: Iterable[Iterable[str]], lang: Mapping[str, str], cross: bool) -> set[Pair]:
    out = set()
    for members in clusters:
        for x, y in itertools.combinations(sorted(members), 2):
            if (lang[x] != lang[y]) == cross:
                out.add((x, y))
    return out


def cross_pairs(clusters: Iterable[Iterable[str]], lang: Mapping[str, str]) -> set[Pair]:
    """The pairs ``(x, y)``, ``x < y``, of articles in different languages that share a cluster."""
    return _pairs(clusters, lang, cross=True)


def same_pairs(clusters: Iterable[Iterable[str]], lang: Mapping[str, str]) -> set[Pair]:
    """The pairs ``(x, y)``, ``x < y``, of articles in one language that share a cluster."""
    return _pairs(clusters, lang, cross=False)


def prf(found: set, truth: set) -> dict[str, float]:
    """Precision, recall and F1 of ``found`` against ``truth``, with both sizes. Precision of
    nothing found is 1.0 (no wrong pair), recall of nothing to find is 1.0."""
    tp = len(found & truth)
    p = tp / len(found) if found else 1.0
    r = tp / len(truth) if truth else 1.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "pairs_found": len(found),
        "true_pairs": len(truth),
    }


def split_prf(found: set[Pair], truth: set[Pair], keys: Callable[[Pair], Iterable[str]]) -> dict[str, dict]:
    """:func:`prf` per key: a pair counts under each key ``keys(pair)`` gives it (a wrong pair
    that joins two sources' clusters counts against both sources' languages)."""
    got: dict[str, set] = defaultdict(set)
    want: dict[str, set] = defaultdict(set)
    for pair in found:
        for k in keys(pair):
            got[k].add(pair)
    for pair in truth:
        for k in keys(pair):
            want[k].add(pair)
    return {k: prf(got[k], want[k]) for k in sorted(set(got) | set(want))}


def by_source_language(found: set[Pair], truth: set[Pair], origin: Mapping[str, str]) -> dict[str, dict]:
    """:func:`prf` per source language: ``origin`` maps an article to the language its story was
    written in (the gold cluster's source); a pair counts under its two articles' origins."""
    return split_prf(found, truth, lambda p: {origin[p[0]], origin[p[1]]})


def by_language_pair(found: set[Pair], truth: set[Pair], lang: Mapping[str, str]) -> dict[str, dict]:
    """:func:`prf` per pair of languages (``"en-ja"``, sorted) of the two articles."""
    return split_prf(found, truth, lambda p: {"-".join(sorted((lang[p[0]], lang[p[1]])))})
