"""Group verified pairs into clusters and pick each cluster's representative.

Connected components of the verified-pair graph are the starting point.
Plain components let one borderline pair chain two different stories
together, so inside each component ``dedup`` can re-cluster with a stricter
rule: agglomerative clustering on the cosine distance between all its
members (``linkage="average"``: two groups merge only if their members are,
on average, at least ``threshold`` similar). ``linkage="single"`` keeps the
plain components.
"""

from dedup.cluster.families import FAMILY_SIZE, PAIR_BUDGET, SAMPLES, TIGHT, family_units, split_family
from dedup.cluster.groups import (
    REPRESENTATIVES,
    SIMILARITY_CELLS,
    Cluster,
    IdForest,
    PairLike,
    choose_representative,
    cluster_pairs,
    preferred_members,
    spanning_pairs,
    spanning_positions,
)
from dedup.cluster.linkage import (
    LINKAGES,
    MAX_RECLUSTER,
    PASSES,
    REFUSED_BY_COHESION,
    REFUSED_BY_THRESHOLD,
    Merges,
    average_linkage,
    components,
    cut_tree,
    judge_merges,
    linkage_tree,
    split_component,
)

__all__ = [
    "FAMILY_SIZE",
    "LINKAGES",
    "MAX_RECLUSTER",
    "PAIR_BUDGET",
    "PASSES",
    "REFUSED_BY_COHESION",
    "REFUSED_BY_THRESHOLD",
    "REPRESENTATIVES",
    "SAMPLES",
    "SIMILARITY_CELLS",
    "TIGHT",
    "Cluster",
    "IdForest",
    "Merges",
    "PairLike",
    "average_linkage",
    "choose_representative",
    "cluster_pairs",
    "components",
    "cut_tree",
    "family_units",
    "judge_merges",
    "linkage_tree",
    "preferred_members",
    "spanning_pairs",
    "spanning_positions",
    "split_component",
    "split_family",
]
