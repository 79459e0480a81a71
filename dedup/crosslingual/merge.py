"""From links between groups to clusters that mix languages, one group per language at most."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dedup.crosslingual.links import Link

COHESION = 0.7
"""How much of a link's cosine the groups it would bring together must keep on average, across the
two clusters, when either already holds two groups or more (:func:`merge`). Fingerprints alone,
margin 1.3, source-translation pair F1 (precision) without it / at 0.5 / 0.7 / 1.0: WMT dev set
0.863 (0.976) / 0.863 / 0.870 (0.989) / 0.868; WMT22 short texts in eight languages 0.303 (0.595)
/ 0.300 / 0.316 (0.734) / 0.324 (0.836); v3 and WMT21 Japanese unchanged."""


def merge(
    n_groups: int,
    links: Sequence[Link],
    *,
    similarity: Callable[[list[int], list[int]], float] | None = None,
    cohesion: float = COHESION,
) -> tuple[list[list[int]], list[Link]]:
    """The groups joined by ``links``, and the links that joined them.

    Links are taken strongest first (margin, then cosine); a link joins its two groups' clusters
    only when they have no language in common, so a cluster holds at most one group per
    language. That is what keeps cross-lingual linking from touching same-language results: two
    groups of one language are never joined through a third language (an English group A linked
    to a Russian source that is also the best match of an unrelated English group B would
    otherwise glue A and B together), so the same-language pairs of a run are exactly those of the
    run without linking. A language split into two groups by the same-language path stays split.

    With ``similarity`` (the mean cosine between two lists of groups), a link that would join two
    clusters of which one holds two groups or more must also find them alike as a whole: their
    mean similarity at least ``cohesion`` times the link's cosine. A story told in German and
    French, linked through its French group to an unrelated Japanese story that French group
    resembles, is not joined to it if the German group does not resemble it too (one-line texts
    in eight languages chained that way).

    Returns the clusters (sorted lists of group indices, each group in one, groups without a
    link alone), in the order of their first group, and the links used, in the order taken."""
    parent = list(range(n_groups))
    langs: list[set[str]] = [set() for _ in range(n_groups)]
    for x in links:
        langs[x.a].add(x.lang_a)
        langs[x.b].add(x.lang_b)

    def root(g: int) -> int:
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    members = [[g] for g in range(n_groups)]
    used = []
    for x in sorted(links, key=lambda x: (-x.margin, -x.cosine, x.a, x.b)):
        a, b = root(x.a), root(x.b)
        if a == b or langs[a] & langs[b]:
            continue
        joins_more = similarity is not None and len(members[a]) + len(members[b]) > 2
        if joins_more and similarity(members[a], members[b]) < cohesion * x.cosine:  # type: ignore[misc]
            continue
        a, b = min(a, b), max(a, b)
        parent[b] = a
        langs[a] |= langs[b]
        members[a] += members[b]
        used.append(x)
    out: dict[int, list[int]] = {}
    for g in range(n_groups):
        out.setdefault(root(g), []).append(g)
    return sorted(out.values(), key=lambda members: members[0]), used
