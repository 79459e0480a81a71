"""An explanation: every fact of the decision for one pair, and the same in words (the verdict in
one sentence, the report for a terminal)."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from dataclasses import dataclass, field
from typing import Any

from dedup.explain.facts import Candidates, Clustering, NumberFacts, Recorded, Signal
from dedup.explain.format import decimals, listed, plural_articles, rounded
from dedup.report.alignment import Alignment
from dedup.report.views import summary_line


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
        return verdict_of(self)

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
            "candidates": {k: rounded(v) for k, v in dataclasses.asdict(self.candidates).items()},
            "signals": {s.name: rounded(s.value) for s in self.signals},
            "rules": {s.name: s.rule for s in self.signals},
            "match_other_order": rounded(self.match_other_order),
            "score": rounded(self.score),
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
        return explanation_text(self, width)


def verdict_of(e: Explanation) -> str:
    pair = f"{e.a} and {e.b}"
    c = e.candidates
    threshold = decimals(e.threshold)
    if e.verified:
        own = f"their score {decimals(e.score)} reaches the threshold {threshold}"
    elif not c.candidates:
        own = f"they were not LSH candidates ({c.note or f'{c.shared_bands} of {c.bands} bands shared'})"
    else:
        own = f"their score {decimals(e.score)} is under the threshold {threshold}"
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
        size = plural_articles(k.component_sizes[0])
        linked = f"{head}: {own}; verified pairs link them in a component of {size}"
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
            f"{head}: {own}, and no chain of verified pairs links them (their score {decimals(e.score)} "
            f"would {would} the threshold {threshold})"
        )
    return f"{head}: {own}, and no chain of verified pairs links them"


_LABEL = 12  # the width of the section labels of the text


def explanation_text(e: Explanation, width: int) -> str:
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
            else f"; MinHash Jaccard estimate {decimals(c.jaccard)}, at which a pair becomes a candidate "
            f"with probability {c.probability:.2f}"
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
        f"A: {listed(n.a)} · B: {listed(n.b)} · shared: {listed(n.shared)}"
        if n.a or n.b
        else "neither text states a number",
    )
    section("clustering", _clustering_text(e))
    k = e.clustering
    shown = k.refused or (k.joining if k.together else None)
    if shown is not None:
        for k, (holds, members) in enumerate(zip(shown.holds, shown.members, strict=True), 1):
            side = f"{holds}'s group" if holds else f"group {k}"
            section("", f"{side} ({plural_articles(len(members))}): {listed(members, 4)}")
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
    mix = f"{decimals(cosine)}" if w == 0 else f"({1 - w:g} × {decimals(cosine)} + {w:g} × {decimals(match)})"
    factor = e.score / base if base > 0 else 1.0
    facts = [s.name for s in e.signals if s.name not in ("cosine", "match", "order") and s.value is not None]
    formula = f"= {mix} × {factor:.3f}" + (f" ({', '.join(facts)})" if facts else "")
    threshold = decimals(e.threshold)
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
        sizes = " and ".join(plural_articles(s) for s in c.component_sizes)
        return f"in different components of verified pairs ({sizes}): nothing links them"
    size = plural_articles(c.component_sizes[0])
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
