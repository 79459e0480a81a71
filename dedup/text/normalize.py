"""Normalise text into word tokens and shingles.

Both the MinHash signature and the TF-IDF features start from the same
tokens, so that ``dedup`` treats "Xi’s", "XI'S" and "Xi's" alike:
Unicode NFKC, case-folded, punctuation dropped, optionally transliterated
to ASCII (so "Zelensky" and "Zelenskyj"/"Зеленский" variants meet half way).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from dedup.runtime.extras import MissingExtraError

# A token is a run of letters, digits or underscores; everything else
# (punctuation, symbols, white space) separates tokens.
_WORD = re.compile(r"\w+")
# Scripts written without spaces between words (Chinese, Japanese kana): a run of them is
# cut into overlapping character bigrams, the usual stand-in for words in search engines
# (Lucene's CJK bigrams), so that two texts in these scripts share tokens as texts in
# alphabetic scripts do.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_SPACE = re.compile(r"\s+")
# Word tokens and sentence ends in one pass over a normalised text: a sentence ends at . ! ? or
# … (with a closing quote or bracket) before white space, at 。 (and at ! or ?, the NFKC forms of
# ！ and ？, in text with CJK characters), or at a line break (see dedup.score.sentences).
SENTENCE_STOPS = ".!?…"
"""Marks that end a sentence when white space follows (after one of :data:`SENTENCE_CLOSERS`)."""
SENTENCE_CLOSERS = "\"'»”’)]"
"""Closing quotes and brackets that may stand between a sentence's stop and the white space."""
_STOP = f"[{re.escape(SENTENCE_STOPS)}][{re.escape(SENTENCE_CLOSERS)}]?(?=\\s)"
_ITEM = re.compile(rf"\w+|{_STOP}|。|\n")
_ITEM_CJK = re.compile(rf"\w+|{_STOP}|[。!?]|\n")
SENTENCE_ENDS: frozenset[str] = frozenset(
    [p + c for p in SENTENCE_STOPS for c in ["", *SENTENCE_CLOSERS]] + ["。", "\n"]
)
"""Every item of :func:`tokenize_sentences` that ends a sentence rather than being a token."""


def _unidecode():  # imported lazily: transliteration is an optional extra
    try:
        from unidecode import unidecode
    except ImportError:  # (Params.require_extras says so before a run or an index starts)
        raise MissingExtraError("translit", "--transliterate (transliterate=True)") from None
    return unidecode


def normalize(text: str, *, transliterate: bool = False) -> str:
    """Return ``text`` NFKC-normalised and case-folded (and ASCII-transliterated if asked)."""
    text = unicodedata.normalize("NFKC", text)
    if transliterate:
        text = _unidecode()(text)
    return text.casefold()


def tokenize(text: str, *, transliterate: bool = False) -> list[str]:
    """Split ``text`` into normalised word tokens, punctuation stripped.

    Runs of Chinese characters and Japanese kana become overlapping character
    bigrams ("习近平抵达" → "习近", "近平", "平抵", "抵达").
    """
    tokens = _WORD.findall(normalize(text, transliterate=transliterate))
    if text.isascii() or not _CJK.search(text):
        return tokens
    return _cjk_bigrams(tokens)


def tokenize_sentences(text: str, *, transliterate: bool = False) -> list[str]:
    """:func:`tokenize`, with the end of each sentence kept in place as an item of its own (one
    of :data:`SENTENCE_ENDS`): one pass over the text instead of one per sentence.

    The tokens between two ends are those of one sentence of
    :func:`dedup.text.paragraphs.split_sentences`.
    """
    normal = normalize(text, transliterate=transliterate)
    if text.isascii() or not _CJK.search(text):
        return _ITEM.findall(normal)
    return _cjk_bigrams(_ITEM_CJK.findall(normal))


def _cjk_bigrams(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for token in tokens:
        at = 0
        for run in _CJK.finditer(token):
            if run.start() > at:
                out.append(token[at : run.start()])
            chars = run.group()
            out.extend(chars[i : i + 2] for i in range(max(len(chars) - 1, 1)))
            at = run.end()
        if at < len(token):
            out.append(token[at:])
    return out


def shingles(
    tokens: Sequence[str],
    *,
    unit: str = "word",
    size: int = 1,
    stopwords: frozenset[str] = frozenset(),
) -> set[str]:
    """The set of shingles of a token sequence.

    ``unit="word"``: runs of ``size`` consecutive tokens, joined by a space,
    after dropping ``stopwords``. ``unit="char"``: runs of ``size`` characters
    of the tokens joined by single spaces. A text shorter than one shingle
    yields its whole content as one shingle, so short texts still match.
    """
    if stopwords:
        tokens = [t for t in tokens if t not in stopwords]
    if unit == "char":
        joined = " ".join(tokens)
        if len(joined) <= size:
            return {joined} if joined else set()
        return {joined[i : i + size] for i in range(len(joined) - size + 1)}
    if size == 1:
        return set(tokens)
    if len(tokens) <= size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def collapse_space(text: str) -> str:
    """Collapse runs of white space to one space (for short previews)."""
    return _SPACE.sub(" ", text).strip()


def iter_tokens(texts: Iterable[str], *, transliterate: bool = False) -> Iterable[list[str]]:
    """Tokenize many texts lazily."""
    for text in texts:
        yield tokenize(text, transliterate=transliterate)
