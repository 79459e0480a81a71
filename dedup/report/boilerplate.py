"""Recognise boilerplate paragraphs: site furniture, not content.

Outlets pad the articles they copy with lines of their own: "Leave a
Comment", "Source link", ">> Read also: …", share buttons, disclaimers. When
two variants are aligned, such a paragraph is not an added or dropped piece of
the story; the reporter shows it as boilerplate instead.

Two rules, either one suffices:

* Known phrases: a short paragraph (at most ``max_words`` words) that starts
  like site furniture, by a list of patterns (``PATTERNS``, extendable).
* Recurrence: a paragraph that occurs, word for word after normalisation, in
  articles of at least ``min_docs`` different stories of one run. Counting
  stories rather than articles keeps the paragraphs that copies of one story
  share with each other from counting as boilerplate.

A paragraph of several lines is also boilerplate when each of its lines is
(furniture lines appended in a varying mix: "Share this" / "Leave a Comment").
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from dedup.text.normalize import tokenize
from dedup.text.paragraphs import split_paragraphs

# Matched against the paragraph case-folded, with leading bullets and arrows removed.
PATTERNS: tuple[str, ...] = (
    r"leave a (comment|reply)\b",
    r"source( link)?$",
    r"(read|see) (also|more)\b",
    r"(related|more|also read|recommended)( (articles?|stories|news|reading))?\s*:",
    r"share (this|on|via|the|article|story|post)\b",
    r"share$",
    r"(follow|like|join) us\b",
    r"(subscribe|sign up)\b",
    r"click here\b",
    r"(advertisement|advertising|sponsored( content)?|ad)$",
    r"(tags|filed under|categories|topics)\s*:",
    r"(print|email|e-mail|comments?|\d+ comments?)$",
    r"(©|\(c\)|copyright\b)",
    r".*\ball rights reserved\b",
)
_LEAD = re.compile(r"^[\W_]+")


def _lines(paragraph: str) -> list[str]:
    return [line for line in (raw.strip() for raw in paragraph.splitlines()) if line]


def paragraph_key(paragraph: str) -> str:
    """The paragraph's normalised words joined by spaces: what recurrence compares."""
    return " ".join(tokenize(paragraph))


@dataclass(frozen=True)
class Boilerplate:
    """Decides whether a paragraph is boilerplate.

    Args:
        patterns: regular expressions matched (``re.match``) against the start
            of a short paragraph, case-folded, leading punctuation removed.
        max_words: paragraphs longer than this are never matched by pattern.
        recurring: normalised keys (:func:`paragraph_key`) of paragraphs known
            to recur across stories, usually from :meth:`learn`.
    """

    patterns: tuple[str, ...] = PATTERNS
    max_words: int = 15
    recurring: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.max_words < 1:
            raise ValueError(f"max_words must be >= 1, got {self.max_words}")
        compiled = re.compile("|".join(f"(?:{p})" for p in self.patterns)) if self.patterns else None
        object.__setattr__(self, "_regex", compiled)

    def __call__(self, paragraph: str) -> bool:
        """True if ``paragraph`` is boilerplate: it is, or each of its lines is."""
        lines = _lines(paragraph)
        if len(lines) <= 1:
            return self._single(paragraph)
        if self.recurring and paragraph_key(paragraph) in self.recurring:
            return True
        return all(self._single(line) for line in lines)

    def _single(self, piece: str) -> bool:
        regex = self._regex if len(piece.split()) <= self.max_words else None
        if regex is not None and regex.match(_LEAD.sub("", piece.casefold().strip())):
            return True
        return bool(self.recurring) and paragraph_key(piece) in self.recurring

    @classmethod
    def learn(
        cls,
        texts: Iterable[str | tuple[Hashable, str]],
        *,
        min_docs: int = 3,
        max_words: int = 60,
        **kwargs: object,
    ) -> Boilerplate:
        """Learn the paragraphs that recur across ``min_docs`` or more stories.

        ``texts`` are article texts, or ``(story, text)`` pairs where ``story``
        is the article's cluster (copies of one story then count once).
        The lines of a paragraph of several lines are counted too. Paragraphs
        longer than ``max_words`` words are not counted: recurring furniture is
        short, and long paragraphs would only cost memory (each distinct short
        paragraph costs an entry of a hash table while learning).
        """
        if min_docs < 2:
            raise ValueError(f"min_docs must be >= 2, got {min_docs}")
        first: dict[int, Hashable] = {}  # key's hash -> the first story it was seen in
        more: dict[int, set[Hashable]] = {}  # key's hash -> its stories, once there are two
        recurring: set[str] = set()
        for n, item in enumerate(texts):
            story, text = item if isinstance(item, tuple) else (("article", n), item)
            for paragraph in split_paragraphs(text):
                lines = _lines(paragraph)
                for piece in [paragraph, *lines] if len(lines) > 1 else [paragraph]:
                    if len(piece.split()) > max_words:
                        continue
                    key = paragraph_key(piece)
                    if not key or key in recurring:
                        continue
                    h = hash(key)
                    seen_first = first.setdefault(h, story)
                    if seen_first == story and h not in more:
                        continue
                    stories = more.setdefault(h, {seen_first})
                    stories.add(story)
                    if len(stories) >= min_docs:
                        recurring.add(key)
        return cls(recurring=frozenset(recurring), **kwargs)  # type: ignore[arg-type]
