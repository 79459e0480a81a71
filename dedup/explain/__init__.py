"""Why two articles were, or were not, put together: every step of the decision for one pair.

A user who finds a wrong merge (or a missed one) wants to see, for that pair: whether MinHash LSH
made them candidates, each signal of :mod:`dedup.score.decision` with its value and the rule it
entered, the score against the threshold, the numbers each text states, the clustering step that
joined or separated them (:func:`dedup.cluster.cut_tree`: the merge of their two groups, or the
first merge on the way that was refused, and by which rule), and the paragraph alignment behind
the sentence match (:func:`dedup.align`).

The explanation is exact because it *is* a run (:mod:`dedup.explain.trace`): the same
:class:`~dedup.engines.local.Detector` with the same parameters goes over all the articles (the
IDF, the candidates, the scores and the clusters depend on every article), with a
:class:`~dedup.engines.local.RunHook` that keeps what concerns the two ids. So explaining costs a
full run over the inputs (seconds for thousands of articles; as long as ``dedup run`` for a large
dump), plus one alignment. :func:`explain_run` explains a pair of a run folder
(:mod:`dedup.explain.run`); :mod:`dedup.explain.explanation` also puts an explanation in words.

Examples:
    >>> e = explain_run("out/", "000_1bdcf60ae9970c12", "004_89cc63446ebde389")  # doctest: +SKIP
    >>> e.merged, e.score >= e.threshold  # doctest: +SKIP
    (True, True)
    >>> print(e.to_text())  # doctest: +SKIP
"""

from dedup.explain.explanation import Explanation
from dedup.explain.facts import ExplainError
from dedup.explain.run import explain_run
from dedup.explain.trace import explain

__all__ = ["ExplainError", "Explanation", "explain", "explain_run"]
