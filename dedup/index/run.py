"""A batch run against an index: deduplicate a new dump against every article already held.

``dedup run DUMP --index INDEX`` (and ``find_duplicates(..., index=...)``) runs the batch
pipeline over the dump as usual while, as the articles stream past, the index is asked which
held articles each one duplicates (the index as it was before the run). The two are merged:

- pairs: the run's own pairs, plus a pair for each (new, held) match, with the index's scores;
- links (an index made with ``cross_lingual=True``): the run's own cross-lingual links, plus one
  for each held article of another language in the story of an article of the run;
- clusters: the run's clusters, joined through those matches to the held articles they
  duplicate. A cluster that reaches a held article is represented by one (the held article
  with the best score), lists its held members in ``held``, and all of its members from the
  run are duplicates, dropped from the deduplicated output: that story was seen already.

Then, unless told not to, the run's articles are stored in the index (without matching them
again: that was just done), so that the next dump is checked against them too. An article
whose id the index already holds stops the run before anything is stored, unless ``on_held``
is ``"skip"`` (a run started again after it died while adding: what the first attempt added is
not added again) or ``"replace"``. Either way such an article is checked against the index as
the others are, and matches with held articles that are in the run are set aside (the run
compares its own articles), so a run started again finds what the first would have found; only
its scores with held articles may differ in the last digits, as the IDF counts what the first
attempt added.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator
from typing import Any

from dedup.cluster import IdForest
from dedup.featurize import chunked
from dedup.index.index import Index, Match
from dedup.index.store import check_on_held
from dedup.io.article import Article, InputError
from dedup.result import Cluster, LanguageLink, Pair, Result


class HeldError(InputError):
    """An article of the run whose id the index holds already (names its file and line)."""


class IndexCheck:
    """Asks the index about each article streaming through :meth:`through`, ``batch`` at a time
    (one snapshot per batch), and keeps the matches.

    ``on_held`` says what an article whose id the index holds already does (a run started again
    after it died while adding its articles, or a dump that repeats some): ``"error"`` stops the
    run (:class:`HeldError`); ``"skip"`` and ``"replace"`` let it through, checked as the others
    are, and count it in ``held_in_run`` (the add then skips it, or replaces the held one). The
    matches with held articles that are in the run are set aside by :func:`merge_with_index`: the
    run compares its own articles itself."""

    def __init__(self, index: Index, *, batch: int = 100, on_held: str = "error") -> None:
        check_on_held(on_held)
        self.index = index
        self.batch = batch
        self.on_held = on_held
        self.matches: dict[str, list[Match]] = {}
        self.held_before = len(index)
        self.held_in_run = 0  # the run's articles whose ids the index held (on_held skip or replace)
        self.seconds = 0.0  # spent asking the index

    def through(self, articles: Iterable[Article]) -> Iterator[Article]:
        """The articles, unchanged; an id the index holds already is a :class:`HeldError`
        unless ``on_held`` lets it through."""
        for chunk in chunked(articles, self.batch):
            started = time.perf_counter()
            held = self.index.holding(a.id for a in chunk)
            if held and self.on_held == "error":
                first = next(a for a in chunk if a.id in held)
                raise HeldError(
                    first.source,
                    first.line,
                    f"{first.id!r} is already in the index {self.index.location} "
                    "(each article of a run against an index must be new to it; "
                    "--on-held skip or replace lets it through)",
                )
            self.held_in_run += len(held)
            for article, found in zip(chunk, self.index.query_many([a.text for a in chunk]), strict=True):
                if found:
                    self.matches[article.id] = found
            self.seconds += time.perf_counter() - started
            yield from chunk


def merge_with_index(result: Result, ids: list[str], check: IndexCheck) -> Result:
    """The run's ``result`` joined with what the index matched (see the module's docstring).

    ``ids`` are the run's article ids in input order (clusters are numbered by their first)."""
    position = {article_id: k for k, article_id in enumerate(ids)}
    forest = IdForest()
    find, union = forest.find, forest.union
    for c in result.clusters:
        for m in c.members[1:]:
            union(c.members[0], m)
    best: dict[str, float] = {}  # held id -> its best score with an article of the run
    cross: list[Pair] = []
    links: list[LanguageLink] = []  # (an index made with cross_lingual: held stories in other languages)
    matching = 0
    for article_id, found in check.matches.items():
        found = [m for m in found if m.id not in position]  # (held, and in the run: see IndexCheck)
        matching += bool(found)
        for m in found:
            union(article_id, m.id)
            if m.kind == "cross_lingual":
                lang = result.languages.get(article_id, "")
                links.append(LanguageLink(article_id, m.id, lang, m.lang or "", m.cosine, m.margin or 0.0))
                continue
            best[m.id] = max(best.get(m.id, 0.0), m.score)
            a, b = sorted((article_id, m.id))
            cross.append(Pair(a, b, m.jaccard, m.cosine, m.match, m.score, m.order, m.numbers))

    groups: dict[str, list[str]] = {}
    for node in list(forest):
        groups.setdefault(find(node), []).append(node)
    by_root = {find(c.members[0]): c for c in result.clusters}
    clusters: list[Cluster] = []
    for root, nodes in groups.items():
        held = sorted(n for n in nodes if n not in position)
        if not held:
            clusters.append(by_root[root])
            continue
        new = sorted((n for n in nodes if n in position), key=position.__getitem__)
        representative = min(held, key=lambda h: (-best.get(h, 0.0), h))
        languages = {m: result.languages[m] for m in new if m in result.languages}
        clusters.append(Cluster(0, representative, held + new, held, languages))
    clusters.sort(key=lambda c: min(position[m] for m in c.members if m in position))
    clusters = [dataclasses.replace(c, cluster=k) for k, c in enumerate(clusters)]

    summary: dict[str, Any] = {**result.summary}
    read = summary.get("articles", {})
    removed = sum(len(c.duplicates) for c in clusters)
    kept = len(ids) - removed
    summary["articles"] = {**read, "kept": kept, "removed_as_duplicates": removed}
    summary["clusters"] = len(clusters)
    summary["index"] = {
        "location": check.index.location,
        "held_before": check.held_before,
        "articles_matching_held": matching,
        "pairs_with_held": len(cross),
        "clusters_with_held": sum(bool(c.held) for c in clusters),
        "on_held": check.on_held,
        "held_in_run": check.held_in_run,
    }
    if check.index.params.cross_lingual:
        summary["index"]["links_with_held"] = len(links)
    pairs = sorted([*result.pairs, *cross], key=lambda q: (q.a, q.b))
    every = [*result.links, *links]
    return Result(pairs=pairs, clusters=clusters, summary=summary, languages=result.languages, links=every)
