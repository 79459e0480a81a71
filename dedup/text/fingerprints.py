"""What survives translation: an article's language-independent fingerprint.

Two translations of one article, or an article and its translation, share few words, but they
share its numbers and, once written in Latin letters, much of the sound of its names and of its
international words ("Zelensky" and "Зеленський", "inflation" and "інфляція"). The fingerprint is
a bag of tokens:

    numbers   ``#1250``, ``#3.5``: digits with their grouping dropped ("1,250", "1 250" and
              "1.250" are one number), a final group of one or two digits read as decimals
              ("3,5" and "3.5" are one number)
    names     ``@zl5s``: a capitalised word that does not open its sentence, as a phonetic code
              of its transliteration (:func:`anyascii.anyascii`): its first letter, then the
              classes of the consonants after it (b/p/f/v, c/g/j/k/q/s/x/z, d/t, l, m/n, r),
              repeats merged, four symbols at most
    words     ``~i5f4``: every other word of four letters or more, coded the same way

Vowels, and so most transliteration variants (Kyiv / Kiyiv, Zelensky / Zelenskii), do not change
a code. The codes are coarse on purpose: each is weighed by its rarity in the corpus (IDF) when
fingerprints are compared (:mod:`dedup.crosslingual`), so that a shared rare name counts and a
shared common sound does not.
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"\d+(?:[.,\u00a0\u202f ]\d+)*")
_WORD = re.compile(r"[^\W\d_]+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
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
    from anyascii import anyascii

    latin = _LETTERS.sub("", anyascii(word).lower())
    if len(latin) < 4:
        return None
    code = _REPEATS.sub(r"\1", latin[0] + _NOT_CODE.sub("", latin[1:].translate(_CLASSES)))
    return code[:4] if len(code) >= 3 else None


def fingerprint(text: str) -> list[str]:
    """The fingerprint tokens of ``text``, in order (repeats kept: they are counted)."""
    tokens = [number_token(m.group()) for m in _NUMBER.finditer(text)]
    for sentence in _SENTENCE_END.split(text):
        for k, word in enumerate(_WORD.findall(sentence)):
            code = sound_code(word)
            if code is not None:
                tokens.append(("@" if k > 0 and word[0].isupper() else "~") + code)
    return tokens
