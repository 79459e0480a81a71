"""From links between groups to clusters that mix languages, one group per language at most."""

from __future__ import annotations

from collections.abc import Sequence

from dedup.crosslingual.links import Link


def merge(n_groups: int, links: Sequence[Link]) -> tuple[list[list[int]], list[Link]]:
    """The groups joined by ``links``, and the links that joined them.

    Links are taken strongest first (margin, then cosine); a link joins its two groups' clusters
    only when they have no language in common, so a cluster holds at most one group per
    language. That is what keeps cross-lingual linking from touching same-language results: two
    groups of one language are never joined through a third language (an English group A linked
    to a Russian source that is also the best match of an unrelated English group B would
    otherwise glue A and B together), so the same-language pairs of a run are exactly those of the
    run without linking. A language split into two groups by the same-language path stays split.

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

    used = []
    for x in sorted(links, key=lambda x: (-x.margin, -x.cosine, x.a, x.b)):
        a, b = root(x.a), root(x.b)
        if a == b or langs[a] & langs[b]:
            continue
        a, b = min(a, b), max(a, b)
        parent[b] = a
        langs[a] |= langs[b]
        used.append(x)
    out: dict[int, list[int]] = {}
    for g in range(n_groups):
        out.setdefault(root(g), []).append(g)
    return sorted(out.values(), key=lambda members: members[0]), used
