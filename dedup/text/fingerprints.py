"""What survives translation: an article's language-independent fingerprint.

Two translations of one article, or an article and its translation, share few words, but they
share its numbers and, once written in Latin letters, much of the sound of its names and of its
international words ("Zelensky" and "Зеленський", "inflation" and "інфляція"). The fingerprint is
a bag of tokens:

    numbers   ``#1250``, ``#3.5``: digits with their grouping dropped ("1,250", "1 250" and
              "1.250" are one number), a final group of one or two digits read as decimals
              ("3,5" and "3.5" are one number)
    names     ``@z452``: a capitalised word that does not open its sentence, as a phonetic code
              of its transliteration (:func:`anyascii.anyascii`): its first letter, then the
              classes of the consonants after it (b/p/f/v, c/g/j/k/q/s/x/z, d/t, l, m/n, r),
              repeats merged, four symbols at most
    words     ``~i514``: every word of four letters or more, coded the same way, names included:
              capitals do not survive translation (English capitalises nationalities, months
              and languages, German every noun; Ukrainian and French none of them), so
              "Ukrainian" must meet "українська" as a word (source-English pair F1 on the
              held-out WMT21 sets, issue 20: ja 0.645 -> 0.669, en-ja-is 0.927 -> 0.942,
              fr-de 0.993 -> 0.996; the WMT dev set 0.894 -> 0.899)

Vowels, and so most transliteration variants (Kyiv / Kiyiv, Zelensky / Zelenskii), do not change
a code. The codes are coarse on purpose: each is weighed by its rarity in the corpus (IDF) and by
its kind (:data:`KIND_WEIGHTS`) when fingerprints are compared (:mod:`dedup.crosslingual`), so
that a shared rare name counts and a shared common sound does not.

Measured in issue 20 and left as they are (no gain on the WMT dev sets together): codes of 3, 5
or 6 symbols (3 and 6 lose 2 to 8 points of F1, 5 is level); a Ukrainian transliteration (Г as H,
И as Y; level, and languages without a table would not have one); first letters merged (vowels,
or I/J/Y/E: level or worse); month names as numbers (level); words of 6 letters or more only
(worse).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from dedup.arrays.hashing import term_ids

KIND_WEIGHTS = {"#": 1.5, "@": 1.0, "~": 0.5}
"""What a token of each kind (number, name, word) counts for, times its IDF, when fingerprints are
compared (:func:`kind_weights`). Word codes are many and mostly chance matches (a word and its
translation rarely sound alike) while numbers and names carry over: weighed alike, the word codes
drown the rest; dropped, they leave texts without names or numbers with nothing. Measured in
issue 20 (mutual best group links, margin 1.3, source-English pair F1): weights 1, 1, 1 give
0.863 on the WMT dev set, 0.921 on dev-v2, 0.959 on dev-v3; words at 0 give 0.797, 0.896, 0.964;
words at 0.5, 0.889, 0.936, 0.970; words at 0.5 and numbers at 1.5, 0.894, 0.941, 0.970."""

_KIND_SHIFT = np.uint64(62)
_KIND_INDEX = {"@": 0, "#": 1, "~": 2}
_WEIGHT_BY_INDEX = np.array([KIND_WEIGHTS["@"], KIND_WEIGHTS["#"], KIND_WEIGHTS["~"], 1.0], dtype=np.float32)
_HASH_BITS = np.uint64((1 << 62) - 1)
_NUMBER = re.compile(r"\d+(?:[.,\u00a0\u202f ]\d+)*")
_WORD_OR_END = re.compile(r"[^\W\d_]+|(?<=[.!?…])\s|\n")  # a word, or where a sentence ends
_CLASSES = str.maketrans(
    {
        **dict.fromkeys("bpfv", "1"),
        **dict.fromkeys("cgjkqsxz", "2"),
        **dict.fromkeys("dt", "3"),
        "l": "4",
        "m": "5",
        "n": "5",
        "r": "6",
    }
)
_NOT_CODE = re.compile(r"[^1-6]")
_REPEATS = re.compile(r"(.)\1+")
_LETTERS = re.compile(r"[^a-z]")


def number_token(text: str) -> str:
    """``#`` and the digits of a number as written anywhere: grouping dropped, a last group of one
    or two digits read as decimals (``"1,250"`` -> ``#1250``, ``"3,5"`` -> ``#3.5``)."""
    groups = re.split(r"[.,\u00a0\u202f ]", text)
    decimals = ""
    if len(groups) > 1 and len(groups[-1]) in (1, 2):
        decimals = "." + groups.pop()
    whole = "".join(groups).lstrip("0") or "0"
    return f"#{whole[:15]}{decimals}"


def sound_code(word: str) -> str | None:
    """The phonetic code of ``word``'s transliteration (first letter, then consonant classes,
    four symbols at most), or None for a word under four letters or with too few consonants."""
    return _sound_code(word)


@lru_cache(maxsize=1 << 16)
def _sound_code(word: str) -> str | None:
    # Cached: a corpus repeats its words (the cache makes fingerprint() about N times faster).
    from anyascii import anyascii

    latin = _LETTERS.sub("", anyascii(word).lower())
    if len(latin) < 4:
        return None
    code = _REPEATS.sub(r"\1", latin[0] + _NOT_CODE.sub("", latin[1:].translate(_CLASSES)))
    return code[:4] if len(code) >= 3 else None


def fingerprint_ids(tokens: Sequence[str]) -> np.ndarray:
    """The ids of fingerprint ``tokens`` (:func:`dedup.arrays.hashing.term_ids`, repeats kept),
    sorted, each with its kind (name, number, word) in its top two bits, so that
    :func:`kind_weights` can weigh it from its id alone."""
    if not tokens:
        return np.zeros(0, dtype=np.uint64)
    kinds = np.fromiter((_KIND_INDEX[t[0]] for t in tokens), dtype=np.uint64, count=len(tokens))
    return np.sort((term_ids(tokens) & _HASH_BITS) | (kinds << _KIND_SHIFT))


def kind_weights(ids: np.ndarray) -> np.ndarray:
    """The weight (:data:`KIND_WEIGHTS`) of each of the fingerprint token ``ids`` (from
    :func:`fingerprint_ids`), by the kind in its top two bits."""
    return _WEIGHT_BY_INDEX[(np.asarray(ids, dtype=np.uint64) >> _KIND_SHIFT).astype(np.intp)]


def fingerprint(text: str) -> list[str]:
    """The fingerprint tokens of ``text``, in order (repeats kept: they are counted): its
    numbers, then a word code for each word and a name code for each name."""
    tokens = [number_token(m.group()) for m in _NUMBER.finditer(text)]
    opens = True  # the next word opens a sentence
    for match in _WORD_OR_END.finditer(text):
        word = match.group()
        if word.isspace():
            opens = True
            continue
        code = _sound_code(word)
        if code is not None:
            tokens.append("~" + code)
            if not opens and word[0].isupper():
                tokens.append("@" + code)
        opens = False
    return tokens
