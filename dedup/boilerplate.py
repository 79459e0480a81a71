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
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from dedup.normalize import tokenize
from dedup.paragraphs import split_paragraphs

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
        """True if ``paragraph`` is boilerplate."""
        regex = self._regex if len(paragraph.split()) <= self.max_words else None
        if regex is not None and regex.match(_LEAD.sub("", paragraph.casefold().strip())):
            return True
        return bool(self.recurring) and paragraph_key(paragraph) in self.recurring

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
        Paragraphs longer than ``max_words`` words are not counted: recurring
        furniture is short, and long paragraphs would only cost memory.
        """
        if min_docs < 2:
            raise ValueError(f"min_docs must be >= 2, got {min_docs}")
        stories: dict[str, set[Hashable]] = {}
        recurring: set[str] = set()
        for n, item in enumerate(texts):
            story, text = item if isinstance(item, tuple) else (("article", n), item)
            for paragraph in split_paragraphs(text):
                if len(paragraph.split()) > max_words:
                    continue
                key = paragraph_key(paragraph)
                if not key or key in recurring:
                    continue
                seen = stories.setdefault(key, set())
                seen.add(story)
                if len(seen) >= min_docs:
                    recurring.add(key)
                    del stories[key]
        return cls(recurring=frozenset(recurring), **kwargs)  # type: ignore[arg-type]
