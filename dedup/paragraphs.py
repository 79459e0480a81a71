"""Split an article into paragraphs, and paragraphs into sentences.

Articles come in two shapes: paragraphs separated by blank lines (most dumps,
the seeds), or one paragraph per line (many scrapers, CSV exports). A text
with at least one blank line is split on blank lines; a text without any is
split on its line breaks.
"""

from __future__ import annotations

import re

from dedup.sentences import split_sentences

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v\u00a0]*\n\s*")


def split_paragraphs(text: str) -> list[str]:
    """The non-empty paragraphs of ``text``, stripped, in order."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    pieces = _BLANK_LINE.split(text) if _BLANK_LINE.search(text.strip()) else text.split("\n")
    return [p for p in (piece.strip() for piece in pieces) if p]


def paragraph_sentences(paragraphs: list[str]) -> list[tuple[int, str]]:
    """Every sentence of ``paragraphs`` as ``(paragraph index, sentence)``, in reading order."""
    return [(i, s) for i, p in enumerate(paragraphs) for s in split_sentences(p)]
