"""What an alignment of two texts' paragraphs is: the links (which paragraphs of A say what
which paragraphs of B say), what is only in one text, what is boilerplate; as data a renderer
or a script reads (:func:`dedup.align` makes it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Link:
    """Paragraphs ``a`` of A correspond to paragraphs ``b`` of B.

    Attributes:
        a, b: lists of 0-based paragraph indices, ascending; the link stands
            for every pair in ``a`` x ``b``.
        score: TF-IDF cosine of the aligned sentences of these paragraphs.
        moved: the paragraphs were found out of order (step 5 of the module doc).
    """

    a: list[int]
    b: list[int]
    score: float
    moved: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "a", sorted(int(i) for i in self.a))
        object.__setattr__(self, "b", sorted(int(j) for j in self.b))

    __hash__ = None  # type: ignore[assignment]  # holds lists

    @property
    def type(self) -> str:
        """The link's shape, ``"<len(a)>:<len(b)>"``: 1:1, 1:2 (a split), 2:1 (a merge), ..."""
        return f"{len(self.a)}:{len(self.b)}"

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "type": self.type, "score": round(self.score, 4),
                "moved": self.moved}  # fmt: skip


@dataclass(frozen=True)
class Alignment:
    """The paragraph alignment of two texts, A and B.

    Attributes:
        paragraphs_a, paragraphs_b: the paragraphs, as split.
        links: the n:m links, in A's order.
        only_a, only_b: content paragraphs with no counterpart (added or dropped).
        boilerplate_a, boilerplate_b: paragraphs recognised as boilerplate.
        sentence_links: the underlying sentence alignment, as ``(sentences of
            A, sentences of B, similarity)`` with indices into ``sentences_a``
            / ``sentences_b`` (empty when ``unit="paragraph"``).
        sentences_a, sentences_b: ``(paragraph index, sentence)`` of each text.
        similarity: the similarity the alignment used (``"xling"`` or ``"fingerprint"`` for
            two texts in different languages, with ``similarity="auto"``).
        languages: the detected languages of A and B (ISO 639-1, ``"und"`` if not told), which
            ``similarity="auto"`` chose by; ``None`` if not detected.
    """

    paragraphs_a: list[str]
    paragraphs_b: list[str]
    links: list[Link]
    only_a: list[int]
    only_b: list[int]
    boilerplate_a: list[int]
    boilerplate_b: list[int]
    sentence_links: list[tuple[tuple[int, ...], tuple[int, ...], float]]
    sentences_a: list[tuple[int, str]]
    sentences_b: list[tuple[int, str]]
    similarity: str = "tfidf"
    languages: tuple[str, str] | None = None

    def pairs(self) -> set[tuple[int, int]]:
        """Every linked paragraph pair ``(i, j)``: the links expanded."""
        return {(i, j) for link in self.links for i in link.a for j in link.b}

    def coverage(self) -> tuple[float, float]:
        """Share of the content paragraphs of A, and of B, that have a counterpart."""
        shares = []
        for paragraphs, only, boiler in (
            (self.paragraphs_a, self.only_a, self.boilerplate_a),
            (self.paragraphs_b, self.only_b, self.boilerplate_b),
        ):
            content = len(paragraphs) - len(boiler)
            shares.append((content - len(only)) / content if content else 0.0)
        return shares[0], shares[1]

    def to_dict(self, *, texts: bool = False) -> dict[str, Any]:
        """JSON-ready form: ``links``, ``only_a``, ``only_b``, ``boilerplate_a``,
        ``boilerplate_b`` (and the paragraphs themselves if ``texts``)."""
        out: dict[str, Any] = {
            "links": [link.to_dict() for link in self.links],
            "only_a": self.only_a,
            "only_b": self.only_b,
            "boilerplate_a": self.boilerplate_a,
            "boilerplate_b": self.boilerplate_b,
            "similarity": self.similarity,
            "languages": None if self.languages is None else list(self.languages),
        }
        if texts:
            out["paragraphs_a"] = self.paragraphs_a
            out["paragraphs_b"] = self.paragraphs_b
        return out
